//! The step after sign-in (`/account/complete`): required consent purposes and
//! progressive-profiling fields, asked before the authorization continues. What to ask is
//! decided in [`crate::journey`]; this module shows the form and records the answers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::BTreeMap;
use tollgate_engine::EngineError;
use tollgate_engine::model::privacy::field_label;

use crate::journey::{SKIP_COOKIE, continue_url, skipped, what_to_ask};
use crate::pages::portal::complete_body;
use crate::state::AppState;
use crate::web::csrf::form_page;
use crate::web::error::PageError;
use crate::web::form::account_form;
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::current_session;
use crate::web::tenant::tenant;
use crate::web::tx::{TxQuery, open_tx};

type PageResult = Result<HttpResponse, PageError>;

/// `GET /{tenant}/account/complete`: required purposes and profile fields after sign-in.
pub async fn complete_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
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
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        "One more step",
        |csrf| complete_body(&t, &ask.purposes, &ask.fields, q.tx.as_deref(), csrf, None),
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
    let again = |status, msg: &str| {
        form_page(&st, &req, &f.t, status, "One more step", |csrf| {
            complete_body(&f.t, &ask.purposes, &ask.fields, f.tx(), csrf, Some(msg))
        })
    };
    let skip = f.get("skip") == "yes";
    // Required purposes: each must be ticked, at the version shown.
    for p in &ask.purposes {
        let ticked = f.form.get(&format!("purpose.{}", p.id));
        let Some(v) = ticked.and_then(|v| v.parse::<u32>().ok()) else {
            return Ok(again(
                StatusCode::BAD_REQUEST,
                "Please agree to each item to continue.",
            ));
        };
        match st
            .engine
            .account()
            .answer_purpose(&f.t, user, &p.id, v, true, &meta)
            .await
        {
            Ok(_) => {}
            Err(EngineError::Invalid(msg)) => return Ok(again(StatusCode::BAD_REQUEST, &msg)),
            Err(e) => return Err(e.into()),
        }
    }
    let mut values = BTreeMap::new();
    let mut newly_skipped = Vec::new();
    for r in &ask.fields {
        let v = f
            .form
            .get(&format!("field.{}", r.field))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        if v.is_empty() || skip {
            if r.required {
                return Ok(again(
                    StatusCode::BAD_REQUEST,
                    &format!("{} is needed to continue.", field_label(&r.field)),
                ));
            }
            newly_skipped.push(r.field.clone());
        } else {
            values.insert(r.field.clone(), v);
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
            Err(EngineError::Invalid(msg)) => return Ok(again(StatusCode::BAD_REQUEST, &msg)),
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
