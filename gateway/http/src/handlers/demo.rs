//! The built-in demo application (development mode only): a tiny relying party of the
//! demo tenant, so a newcomer can sign in at once and see the tokens Tollgate issues.
//! It redeems the code in-process with the demo client's credentials.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::crypto::{b64_decode, pkce_s256, random_token};
use tollgate_engine::oauth::token::{ClientAuthMethod, ClientCredentials, GrantRequest};

use crate::state::AppState;
use crate::web::error::engine_error_page;
use crate::web::html::{self, esc};
use crate::web::request::meta;
use crate::web::respond::see_other;

const COOKIE: &str = "tg_demo";

/// `GET /demo`: starts an authorization with a fresh PKCE pair and state.
pub async fn start(st: web::Data<AppState>) -> HttpResponse {
    let Some(demo) = &st.demo else {
        return html::error_page(StatusCode::NOT_FOUND, "The demo is not enabled.");
    };
    let (verifier, state) = (random_token::<32>(), random_token::<16>());
    let url = tollgate_engine::oauth::authorize::redirect_with(
        &format!("{}/authorize", demo.issuer),
        &[
            ("response_type", "code"),
            ("client_id", &demo.client_id),
            ("redirect_uri", &demo.redirect_uri),
            ("scope", "openid email profile offline_access"),
            ("state", &state),
            ("code_challenge", &pkce_s256(&verifier)),
            ("code_challenge_method", "S256"),
            ("prompt", "consent"),
        ],
    );
    let mut r = see_other(&url);
    let _ = r.add_cookie(
        &Cookie::build(COOKIE, format!("{state}.{verifier}"))
            .path("/demo")
            .http_only(true)
            .secure(st.cookies.secure)
            .same_site(SameSite::Lax)
            .finish(),
    );
    r
}

#[derive(serde::Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn claims(jwt: &str) -> String {
    let payload = jwt
        .split('.')
        .nth(1)
        .and_then(b64_decode)
        .unwrap_or_default();
    serde_json::from_slice::<serde_json::Value>(&payload)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_default()
}

/// `GET /demo/callback`: checks state, redeems the code, shows what came back.
pub async fn callback(
    req: HttpRequest,
    q: web::Query<Callback>,
    st: web::Data<AppState>,
) -> HttpResponse {
    let Some(demo) = &st.demo else {
        return html::error_page(StatusCode::NOT_FOUND, "The demo is not enabled.");
    };
    if let Some(e) = &q.error {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            &format!("{e}: {}", q.error_description.as_deref().unwrap_or("")),
        );
    }
    let cookie = req
        .cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let Some((state, verifier)) = cookie.split_once('.') else {
        return html::error_page(StatusCode::BAD_REQUEST, "Start the demo again at /demo.");
    };
    if q.state.as_deref() != Some(state) {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "The state does not match: start the demo again at /demo.",
        );
    }
    let tenant = demo.tenant.clone();
    let creds = ClientCredentials {
        client_id: demo.client_id.clone(),
        secret: Some(demo.client_secret.clone()),
        method: ClientAuthMethod::Basic,
    };
    let Some(code) = q.code.clone() else {
        return html::error_page(
            StatusCode::BAD_REQUEST,
            "No code came back: start the demo again at /demo.",
        );
    };
    let grant = GrantRequest::AuthorizationCode {
        code,
        redirect_uri: demo.redirect_uri.clone(),
        code_verifier: verifier.to_owned(),
        resource: None,
    };
    let meta = meta(&req);
    match st.engine.oauth().token(&tenant, &creds, grant, &meta).await {
        Ok(t) => {
            let id = t.id_token.as_deref().map(claims).unwrap_or_default();
            let logout = tollgate_engine::oauth::authorize::redirect_with(
                &format!("{}/logout", demo.issuer),
                &[
                    ("id_token_hint", t.id_token.as_deref().unwrap_or("")),
                    (
                        "post_logout_redirect_uri",
                        &format!("{}/demo/signed-out", st.engine.config().public_url),
                    ),
                ],
            );
            html::page(
                StatusCode::OK,
                "Signed in",
                &format!(
                    "<h1>Signed in</h1><p>The demo app redeemed its code. ID token claims:</p><pre>{}</pre>\
<p class=\"muted\">Scope: {}. A refresh token was {}issued.</p><p><a href=\"{}\">Sign out</a></p>",
                    esc(&id),
                    esc(&t.scope),
                    if t.refresh_token.is_some() {
                        ""
                    } else {
                        "not "
                    },
                    esc(&logout)
                ),
            )
        }
        Err(e) => engine_error_page(&e),
    }
}

/// `GET /demo/signed-out`
pub async fn signed_out() -> HttpResponse {
    html::page(
        StatusCode::OK,
        "Signed out",
        "<h1>You are signed out</h1><p><a href=\"/demo\">Sign in again</a></p>",
    )
}
