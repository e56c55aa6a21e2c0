//! Federation over HTTP: the round trip to an upstream identity provider, the link
//! confirmation and unlink forms, and the admin API for connectors. The engine decides
//! (state, nonce, ID-token checks, linking) and makes the outgoing calls; the buttons, pages and account section are in [`crate::pages::federation`].

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use tollgate_engine::EngineError;
use tollgate_engine::federation::{self as fed, ConnectorInput, FederatedOutcome};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::federation::Connector;

use crate::journey::after_first_factor;
use crate::pages::federation::{self as pages, failure_page, link_page, login_url};
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::{ApiError, PageError, say};
use crate::web::form::{SubmittedForm, account_form};
use crate::web::request::{self, meta};
use crate::web::respond::see_other;
use crate::web::tenant::{tenant, tenant_id};
use crate::web::tx::{TxQuery, open_tx};
use crate::web::view::View;

type PageResult = Result<HttpResponse, PageError>;

/// Cookie binding a pending federated sign-in to the browser that started it.
const BINDING_COOKIE: &str = "tg_fed";

// ---- Cookies ------------------------------------------------------------------------------

fn binding_cookie(st: &AppState, t: &TenantId, value: String, c: &Connector) -> Cookie<'static> {
    // A form_post callback is a cross-site POST: only SameSite=None (which needs Secure)
    // brings the cookie along.
    let same_site = match (st.cookies.secure, c.response_mode.as_deref()) {
        (true, Some("form_post")) => SameSite::None,
        _ => SameSite::Lax,
    };
    let ttl = fed::PENDING_TTL as i64;
    st.cookies.scoped(
        BINDING_COOKIE,
        value,
        t.as_str(),
        "/federation",
        same_site,
        ttl,
    )
}

fn binding_removal(st: &AppState, t: &TenantId) -> Cookie<'static> {
    st.cookies
        .removal(BINDING_COOKIE, t.as_str(), "/federation")
}

// ---- The round trip -----------------------------------------------------------------------

/// `GET /{tenant}/federation/{connector}/start`: sends the browser to the upstream.
pub async fn start(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (raw_t, connector) = path.into_inner();
    let (t, tenant) = tenant(&st, &raw_t).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?;
    let tx = areq.as_ref().and(q.tx.clone());
    let binding = tollgate_engine::crypto::random_token::<32>();
    let started = match st
        .engine
        .federation()
        .begin_federation(&t, &connector, tx.clone(), &binding, &meta(&req))
        .await
    {
        Ok(s) => s,
        // An unknown or disabled connector (a stale idp_hint): the ordinary sign-in page.
        Err(EngineError::NotFound(_)) => return Ok(see_other(&login_url(&t, tx.as_deref()))),
        Err(e) => return Err(e.into()),
    };
    let c = &started.connector;
    let url = match st
        .engine
        .federation()
        .federation_redirect(&t, &started)
        .await
    {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(provider = %c.id, reason = e.reason, detail = %e.detail, "upstream unavailable");
            st.engine
                .federation()
                .federation_failed(&t, &c.id, e.reason, &meta(&req));
            let v = pages::view(
                View::new(&st, &req, &tenant, areq.as_ref()),
                &t,
                tx.as_deref(),
            );
            return Ok(failure_page(
                &v,
                &t,
                StatusCode::BAD_GATEWAY,
                &v.t("fed-unreachable"),
                tx.as_deref(),
            ));
        }
    };
    let mut r = see_other(&url);
    let _ = r.add_cookie(&binding_cookie(&st, &t, binding, c));
    Ok(r)
}

/// `GET|POST /{tenant}/federation/{connector}/callback`: the upstream's answer.
pub async fn callback(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> PageResult {
    let (raw_t, connector) = path.into_inner();
    let (t, tenant) = tenant(&st, &raw_t).await?;
    let meta = meta(&req);
    let raw: &[u8] = if req.method() == actix_web::http::Method::POST {
        &body
    } else {
        req.query_string().as_bytes()
    };
    if raw.len() > request::MAX_FORM_BYTES {
        return Err(PageError::bad_request_id("fed-too-large"));
    }
    let params = request::parse_unique(raw)?;
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let binding = st
        .cookies
        .read(&req, BINDING_COOKIE, t.as_str())
        .map(|c| c.value().to_owned());
    // Single use, bound to this browser, for this connector: whatever else the answer
    // says, the pending sign-in is gone after this.
    let pending = match st
        .engine
        .federation()
        .take_federation(
            &t,
            &connector,
            get("state").unwrap_or(""),
            binding.as_deref(),
        )
        .await
    {
        Ok(p) => p,
        Err(EngineError::Invalid(msg)) => {
            st.engine
                .federation()
                .federation_failed(&t, &connector, "state", &meta);
            let v = pages::view(View::new(&st, &req, &tenant, None), &t, None);
            let msg = say(v.messages(), &msg);
            return Ok(failure_page(&v, &t, StatusCode::BAD_REQUEST, &msg, None));
        }
        Err(e) => return Err(e.into()),
    };
    let c = pending.connector;
    let tx = pending.tx.as_deref();
    let pending_areq = tx.and_then(|tx| st.engine.oauth().open_request(&t, tx));
    let v = pages::view(View::new(&st, &req, &tenant, pending_areq.as_ref()), &t, tx);
    let fail = |reason: &str, status: StatusCode, id: &str| {
        st.engine
            .federation()
            .federation_failed(&t, &c.id, reason, &meta);
        let mut r = failure_page(&v, &t, status, &v.t(id), tx);
        let _ = r.add_cookie(&binding_removal(&st, &t));
        r
    };
    if let Some(err) = get("error") {
        // Only a code-shaped value reaches the audit trail.
        let code: String = err
            .chars()
            .filter(|c| c.is_ascii_lowercase() || *c == '_')
            .take(40)
            .collect();
        return Ok(fail(
            &format!("upstream_{code}"),
            StatusCode::BAD_REQUEST,
            "fed-refused",
        ));
    }
    let Some(code) = get("code") else {
        return Ok(fail("no_code", StatusCode::BAD_REQUEST, "fed-failed"));
    };
    let areq = match (tx, pending_areq.clone()) {
        (Some(_), None) => {
            return Ok(fail("expired", StatusCode::BAD_REQUEST, "fed-too-long"));
        }
        (_, areq) => areq,
    };
    let result = st
        .engine
        .federation()
        .redeem_upstream(&t, &c, code, &pending.code_verifier, &pending.nonce)
        .await;
    let (identity, kept) = match result {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(provider = %c.id, reason = e.reason, detail = %e.detail, "federated sign-in refused");
            let status = if e.reason.starts_with("id_token") || e.reason == "mapping" {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::BAD_GATEWAY
            };
            return Ok(fail(e.reason, status, "fed-failed"));
        }
    };
    let want_two = areq.as_ref().is_some_and(|a| a.wants_two_factors());
    let outcome = st
        .engine
        .federation()
        .federated_sign_in(
            &t,
            fed::FederatedSignIn {
                connector: &c,
                identity,
                tokens: Some(kept),
                tx: pending.tx.clone(),
                want_two,
            },
            &meta,
        )
        .await?;
    let mut r = match outcome {
        FederatedOutcome::Step(step) => after_first_factor(&st, &req, &t, step, areq).await?,
        FederatedOutcome::ConfirmLink { handle } => link_page(
            &st,
            &req,
            &v,
            &t,
            StatusCode::OK,
            &c.display_name,
            &handle,
            tx,
            None,
        ),
    };
    let _ = r.add_cookie(&binding_removal(&st, &t));
    Ok(r)
}

/// `POST /{tenant}/federation/link`: the existing account's password, to link it.
pub async fn link_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let handle = f.get("handle").to_owned();
    let Some((provider, tx)) = st.engine.federation().pending_link(&f.t, &handle).await? else {
        let v = pages::view(View::new(&st, &req, &f.tenant, None), &f.t, None);
        return Ok(failure_page(
            &v,
            &f.t,
            StatusCode::BAD_REQUEST,
            &v.t("fed-step-expired"),
            None,
        ));
    };
    let areq = tx
        .as_deref()
        .and_then(|tx| st.engine.oauth().open_request(&f.t, tx));
    let v = pages::view(
        View::new(&st, &req, &f.tenant, areq.as_ref()),
        &f.t,
        tx.as_deref(),
    );
    let name = st
        .engine
        .federation()
        .connector(&f.t, &provider)
        .await?
        .map_or(provider.clone(), |c| c.display_name);
    if !f.csrf_ok {
        return Ok(link_page(
            &st,
            &req,
            &v,
            &f.t,
            StatusCode::FORBIDDEN,
            &name,
            &handle,
            tx.as_deref(),
            Some(&v.t("form-expired")),
        ));
    }
    if tx.is_some() && areq.is_none() {
        return Err(PageError::bad_request_id("fed-too-long"));
    }
    let want_two = areq.as_ref().is_some_and(|a| a.wants_two_factors());
    match st
        .engine
        .federation()
        .confirm_link(&f.t, &handle, f.get("password"), want_two, &meta(&req))
        .await
    {
        Ok(step) => after_first_factor(&st, &req, &f.t, step, areq).await,
        Err(EngineError::InvalidCredentials) => Ok(link_page(
            &st,
            &req,
            &v,
            &f.t,
            StatusCode::UNAUTHORIZED,
            &name,
            &handle,
            tx.as_deref(),
            Some(&v.t("fed-link-bad-password")),
        )),
        Err(EngineError::Invalid(msg)) => {
            let msg = say(v.messages(), &msg);
            Ok(failure_page(&v, &f.t, StatusCode::BAD_REQUEST, &msg, None))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /{tenant}/account/identities/unlink`: removes one of the user's linked identities.
pub async fn unlink(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    match st
        .engine
        .federation()
        .unlink_identity(
            &f.t,
            &session.user_id,
            f.get("provider"),
            f.get("key"),
            &meta(&req),
        )
        .await
    {
        Ok(()) => Ok(see_other(&format!("/{}/account", f.t))),
        Err(EngineError::Invalid(msg)) => Err(PageError::bad_request(msg)),
        Err(EngineError::NotFound(_)) => Err(PageError::bad_request_id("fed-not-linked")),
        Err(e) => Err(e.into()),
    }
}

// ---- Admin API ----------------------------------------------------------------------------

/// `GET /admin/v1/tenants/{tenant}/connectors`
pub async fn admin_list(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let all = st.engine.federation().connectors(&t).await?;
    let out: Vec<Value> = all
        .iter()
        .map(|c| c.public_view(&st.engine.federation().federation_redirect_uri(&t, &c.id)))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /admin/v1/tenants/{tenant}/connectors/{connector}`
pub async fn admin_get(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine.tenant(&t).await?;
    let c = st
        .engine
        .federation()
        .connector(&t, &id)
        .await?
        .ok_or(EngineError::NotFound("connector"))?;
    Ok(HttpResponse::Ok()
        .json(c.public_view(&st.engine.federation().federation_redirect_uri(&t, &c.id))))
}

/// `PUT /admin/v1/tenants/{tenant}/connectors/{connector}`: creates or replaces it.
pub async fn admin_put(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    let input: ConnectorInput = serde_json::from_value(body.into_inner())
        .map_err(|e| ApiError::invalid_request(format!("connector: {e}")))?;
    let c = st.engine.federation().put_connector(&t, &id, input).await?;
    Ok(HttpResponse::Ok()
        .json(c.public_view(&st.engine.federation().federation_redirect_uri(&t, &c.id))))
}

/// `DELETE /admin/v1/tenants/{tenant}/connectors/{connector}`
pub async fn admin_delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine.federation().delete_connector(&t, &id).await?;
    Ok(HttpResponse::Ok().json(json!({"deleted": id})))
}
