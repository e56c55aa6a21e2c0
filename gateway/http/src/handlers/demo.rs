//! The built-in demo application (development mode only): a tiny relying party of the
//! demo tenant, so a newcomer can sign in at once and see the tokens Tollgate issues.
//! It redeems the code in-process with the demo client's credentials. Its pages are in
//! the demo tenant's look; `/demo?lang=hi` asks for Hindi (as `ui_locales`), and the
//! pages after the sign-in keep that language.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::admin::Demo;
use tollgate_engine::crypto::{b64_decode, pkce_s256, random_token};
use tollgate_engine::oauth::token::{ClientAuthMethod, ClientCredentials, GrantRequest};
use tollgate_i18n::Arg;

use crate::state::AppState;
use crate::web::error::{ErrorText, PageError, classify, error_page, view_error_page};
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::view::{View, context};

const COOKIE: &str = "tg_demo";

/// `?lang=` of the demo's start, when it looks like a language tag.
#[derive(serde::Deserialize)]
pub struct Start {
    lang: Option<String>,
}

fn language_tag(s: &str) -> Option<&str> {
    let ok = (2..=35).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && s.bytes().take_while(u8::is_ascii_alphabetic).count() >= 2;
    ok.then_some(s)
}

/// The demo page answering when the demo is off (no tenant, so the shipped look).
fn not_enabled() -> HttpResponse {
    error_page(
        StatusCode::NOT_FOUND,
        ErrorText::id("demo-not-enabled"),
        None,
    )
}

/// `GET /demo`: starts an authorization with a fresh PKCE pair and state.
pub async fn start(q: web::Query<Start>, st: web::Data<AppState>) -> HttpResponse {
    let Some(demo) = &st.demo else {
        return not_enabled();
    };
    let lang = q.lang.as_deref().and_then(language_tag);
    let (verifier, state) = (random_token::<32>(), random_token::<16>());
    let challenge = pkce_s256(&verifier);
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", demo.client_id.as_str()),
        ("redirect_uri", demo.redirect_uri.as_str()),
        ("scope", "openid email profile offline_access"),
        ("state", state.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("prompt", "consent"),
    ];
    if let Some(l) = lang {
        params.push(("ui_locales", l));
    }
    let url = tollgate_engine::oauth::authorize::redirect_with(
        &format!("{}/authorize", demo.issuer),
        &params,
    );
    let mut r = see_other(&url);
    // State, verifier (both base64url, no dots) and the language asked for.
    let value = format!("{state}.{verifier}.{}", lang.unwrap_or(""));
    let _ = r.add_cookie(
        &Cookie::build(COOKIE, value)
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

/// The demo tenant's view of a demo page, in `lang` unless the reader chose otherwise;
/// its switcher starts the demo again in the language chosen.
async fn demo_view(
    st: &AppState,
    req: &HttpRequest,
    demo: &Demo,
    lang: Option<&str>,
    switch: &str,
) -> Result<View, PageError> {
    let tenant = st.engine.tenant(&demo.tenant).await?;
    Ok(View::with_saved(st, req, &tenant, None, lang).switch_to(switch.to_owned(), Vec::new()))
}

/// `GET /demo/callback`: checks state, redeems the code, shows what came back.
pub async fn callback(
    req: HttpRequest,
    q: web::Query<Callback>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let Some(demo) = &st.demo else {
        return Ok(not_enabled());
    };
    let cookie = req
        .cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let mut parts = cookie.splitn(3, '.');
    let (state, verifier) = (parts.next().unwrap_or(""), parts.next());
    let lang = parts.next().and_then(language_tag);
    let v = demo_view(&st, &req, demo, lang, "/demo").await?;
    let bad = |text: ErrorText| Ok(view_error_page(&v, StatusCode::BAD_REQUEST, &text));
    if let Some(e) = &q.error {
        let description = q.error_description.clone().unwrap_or_default();
        return bad(ErrorText::Id(
            "demo-error",
            vec![
                ("error", Arg::from(e.as_str())),
                ("description", Arg::from(description.as_str())),
            ],
        ));
    }
    let Some(verifier) = verifier else {
        return bad(ErrorText::id("demo-start-again"));
    };
    if q.state.as_deref() != Some(state) {
        return bad(ErrorText::id("demo-state-mismatch"));
    }
    let Some(code) = q.code.clone() else {
        return bad(ErrorText::id("demo-no-code"));
    };
    let creds = ClientCredentials {
        client_id: demo.client_id.clone(),
        secret: Some(demo.client_secret.clone()),
        method: ClientAuthMethod::Basic,
    };
    let grant = GrantRequest::AuthorizationCode {
        code,
        redirect_uri: demo.redirect_uri.clone(),
        code_verifier: verifier.to_owned(),
        resource: None,
    };
    let t = match st
        .engine
        .oauth()
        .token(&demo.tenant, &creds, grant, &meta(&req))
        .await
    {
        Ok(t) => t,
        Err(e) => return Ok(view_error_page(&v, classify(&e).0, &ErrorText::of(&e))),
    };
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
    let body = v.render(
        "demo-signed-in.html",
        context! {
            claims => t.id_token.as_deref().map(claims).unwrap_or_default(),
            scope => &t.scope,
            refresh => t.refresh_token.is_some(),
            logout,
        },
    );
    Ok(v.page(StatusCode::OK, "demo-signed-in-title", body))
}

/// `GET /demo/signed-out`
pub async fn signed_out(
    req: HttpRequest,
    st: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let Some(demo) = &st.demo else {
        return Ok(not_enabled());
    };
    let v = demo_view(&st, &req, demo, None, "/demo/signed-out").await?;
    let body = v.render("demo-signed-out.html", context! {});
    Ok(v.page(StatusCode::OK, "demo-signed-out-title", body))
}
