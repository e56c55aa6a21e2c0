//! The step after sign-in (`/account/complete`): required consent purposes and
//! progressive-profiling fields, asked before the authorization continues. What to ask is
//! decided in [`crate::journey`]; this module shows the form and records the answers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::BTreeMap;
use tollgate_engine::EngineError;
use tollgate_engine::model::notice::{ConsentChannel, ConsentVia};

use crate::journey::{SKIP_COOKIE, continue_url, skipped, what_to_ask};
use crate::pages::notices::shown_language;
use crate::pages::portal::{self, LOCALE_FIELD, engine_text, field_label, offered_language};
use crate::state::AppState;
use crate::web::csrf::view_form_page;
use crate::web::error::PageError;
use crate::web::form::account_form;
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::current_session;
use crate::web::tenant::tenant;
use crate::web::tx::{TxQuery, open_tx};
use crate::web::view::View;

type PageResult = Result<HttpResponse, PageError>;

/// The user's saved language, if they have an account still.
async fn saved(
    st: &AppState,
    t: &tollgate_engine::ids::TenantId,
    user: &tollgate_engine::ids::UserId,
) -> Result<Option<String>, PageError> {
    Ok(st
        .engine
        .user(t, user)
        .await?
        .and_then(|u| portal::saved_locale(&u).map(str::to_owned)))
}

/// `GET /{tenant}/account/complete`: required purposes and profile fields after sign-in.
pub async fn complete_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?;
    let Some(session) = current_session(&st, &req, &t).await? else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    let ask = what_to_ask(
        &st,
        &req,
        &t,
        &session.user_id,
        Some(session.created_at * 1000),
        areq.as_ref(),
    )
    .await?;
    if ask.is_empty() {
        return Ok(see_other(&continue_url(&st, &t, areq)));
    }
    let saved = saved(&st, &t, &session.user_id).await?;
    let notices = st.engine.account().privacy_settings(&t).await?;
    let v = View::with_saved(&st, &req, &tenant, areq.as_ref(), saved.as_deref());
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "portal-complete-title",
        |csrf| {
            portal::complete(
                &v,
                &ask.purposes,
                &notices.notices,
                &ask.fields,
                q.tx.as_deref(),
                csrf,
                None,
            )
        },
    ))
}

/// `POST /{tenant}/account/complete`
pub async fn complete_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let meta = meta(&req);
    let user = &session.user_id;
    let ask = what_to_ask(
        &st,
        &req,
        &f.t,
        user,
        Some(session.created_at * 1000),
        f.areq.as_ref(),
    )
    .await?;
    let saved = saved(&st, &f.t, user).await?;
    let notices = st.engine.account().privacy_settings(&f.t).await?;
    // The switcher shows the step again (a GET), in the chosen language.
    let keep = f
        .tx()
        .map(|tx| vec![("tx".to_owned(), tx.to_owned())])
        .unwrap_or_default();
    let v = View::with_saved(&st, &req, &f.tenant, f.areq.as_ref(), saved.as_deref())
        .switch_to(format!("/{}/account/complete", f.t), keep);
    let again = |status, msg: &str| {
        view_form_page(
            &st,
            &req,
            &v,
            &f.t,
            status,
            "portal-complete-title",
            |csrf| {
                portal::complete(
                    &v,
                    &ask.purposes,
                    &notices.notices,
                    &ask.fields,
                    f.tx(),
                    csrf,
                    Some(msg),
                )
            },
        )
    };
    let bad = StatusCode::BAD_REQUEST;
    let skip = f.get("skip") == "yes";
    // Required purposes: each must be ticked, at the version shown.
    for p in &ask.purposes {
        let ticked = f.form.get(&format!("purpose.{}", p.id));
        let Some(version) = ticked.and_then(|v| v.parse::<u32>().ok()) else {
            return Ok(again(bad, &v.t("portal-complete-agree-all")));
        };
        // The receipt keeps the language the notice was shown in.
        let sign_up_page = ConsentVia::page(
            ConsentChannel::SignUpPage,
            shown_language(&notices.notices, &p.id, v.lang()),
        );
        match st
            .engine
            .account()
            .answer_purpose(&f.t, user, &p.id, version, true, &sign_up_page, &meta)
            .await
        {
            Ok(_) => {}
            Err(EngineError::Invalid(msg)) => return Ok(again(bad, &engine_text(&v, &msg))),
            Err(e) => return Err(e.into()),
        }
    }
    let mut values = BTreeMap::new();
    let mut newly_skipped = Vec::new();
    for r in &ask.fields {
        let value = f
            .form
            .get(&format!("field.{}", r.field))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        if value.is_empty() || skip {
            if r.required {
                let field = field_label(&v, &r.field);
                let msg = v.tr("portal-complete-field-needed", &[("field", field.into())]);
                return Ok(again(bad, &msg));
            }
            newly_skipped.push(r.field.clone());
        } else if r.field == LOCALE_FIELD {
            // A language is saved as the catalogue's tag, and only one pages are offered in.
            match offered_language(&v, &value) {
                Some(tag) => {
                    values.insert(r.field.clone(), tag.to_owned());
                }
                None => return Ok(again(bad, &v.t("portal-language-unknown"))),
            }
        } else {
            values.insert(r.field.clone(), value);
        }
    }
    if !values.is_empty() {
        match st
            .engine
            .account()
            .update_profile(&f.t, user, None, values, &meta)
            .await
        {
            Ok(()) => {}
            Err(EngineError::Invalid(msg)) => return Ok(again(bad, &engine_text(&v, &msg))),
            Err(e) => return Err(e.into()),
        }
    }
    let mut r = see_other(&continue_url(&st, &f.t, f.areq.clone()));
    if !newly_skipped.is_empty() {
        let mut all = skipped(&st, &req, &f.t);
        all.extend(newly_skipped);
        all.sort();
        all.dedup();
        let _ = r.add_cookie(&st.cookies.cookie(SKIP_COOKIE, all.join("."), f.t.as_str()));
    }
    Ok(r)
}
