//! A submitted page form, read and checked once: the tenant, the fields, the
//! authorization request it continues, and whether its CSRF token matched.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;
use std::sync::Arc;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::{Session, Tenant};
use tollgate_engine::oauth::authorize::AuthRequest;

use crate::state::AppState;
use crate::web::csrf::{STALE_FORM, csrf_ok};
use crate::web::error::PageError;
use crate::web::request::read_form;
use crate::web::respond::see_other;
use crate::web::session::current_session;
use crate::web::tenant::tenant;
use crate::web::tx::open_tx;
use crate::web::view::View;

/// What the hosted forms share: the tenant, the checked form and its request.
pub struct SubmittedForm {
    /// The tenant in the path.
    pub t: TenantId,
    /// Its record.
    pub tenant: Arc<Tenant>,
    /// The fields, each once.
    pub form: HashMap<String, String>,
    /// The authorization request the form continues (`tx`), if any.
    pub areq: Option<AuthRequest>,
    /// Whether the form's CSRF token matched the cookie.
    pub csrf_ok: bool,
}

impl SubmittedForm {
    /// Reads the tenant, the form and its `tx`, and checks the CSRF token.
    pub async fn read(
        req: &HttpRequest,
        path: &str,
        payload: web::Payload,
        st: &AppState,
    ) -> Result<Self, PageError> {
        let (t, tenant) = tenant(st, path).await?;
        let form = read_form(req, payload).await?;
        let areq = open_tx(st, &t, form.get("tx").filter(|v| !v.is_empty()))?;
        let csrf_ok = csrf_ok(st, req, &t, &form);
        Ok(Self {
            t,
            tenant,
            form,
            areq,
            csrf_ok,
        })
    }

    /// A field, or `""`.
    pub fn get(&self, k: &str) -> &str {
        self.form.get(k).map(String::as_str).unwrap_or("")
    }

    /// The view of the page answering this form: its switcher goes to the tenant's page
    /// `page` (the one the form is on, e.g. `login`), keeping the form's `tx`.
    pub fn view(&self, st: &AppState, req: &HttpRequest, page: &str) -> View {
        let keep = self
            .tx()
            .map(|tx| vec![("tx".to_owned(), tx.to_owned())])
            .unwrap_or_default();
        View::new(st, req, &self.tenant, self.areq.as_ref())
            .switch_to(format!("/{}/{page}", self.t), keep)
    }

    /// The sealed `tx`, if the form carries a non-empty one.
    pub fn tx(&self) -> Option<&str> {
        self.form
            .get("tx")
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// A submitted account-page form with its session, CSRF checked; or the redirect to sign
/// in (`Ok(Err(..))`) when the browser has no session.
pub async fn account_form(
    req: &HttpRequest,
    path: &str,
    payload: web::Payload,
    st: &AppState,
) -> Result<Result<(SubmittedForm, Session), HttpResponse>, PageError> {
    let f = SubmittedForm::read(req, path, payload, st).await?;
    let Some(session) = current_session(st, req, &f.t).await? else {
        return Ok(Err(see_other(&format!("/{}/login", f.t))));
    };
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    Ok(Ok((f, session)))
}

/// [`account_form`] for a credential change: also needs a recent sign-in, else the browser
/// goes to "confirm it's you" and comes back to `back` (a page of this tenant) after.
pub async fn credential_form(
    req: &HttpRequest,
    path: &str,
    payload: web::Payload,
    st: &AppState,
    back: &str,
) -> Result<Result<(SubmittedForm, Session), HttpResponse>, PageError> {
    let (f, session) = match account_form(req, path, payload, st).await? {
        Ok(x) => x,
        Err(r) => return Ok(Err(r)),
    };
    if !st.engine.signin().is_recent(&session) {
        return Ok(Err(see_other(&crate::web::session::reauth_url(
            &f.t,
            &format!("/{}{back}", f.t),
        ))));
    }
    Ok(Ok((f, session)))
}
