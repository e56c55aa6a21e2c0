//! The admin API under `/admin/v1`, authenticated by the configured admin token.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::EngineError;
use tollgate_engine::model::SigningAlg;

use crate::api::{
    ClientView, CreatedUser, EventsQuery, Import, MfaView, MoveTenant, MovedTenant, NewClient,
    NewTenant, NewUser, PrivacySettingsView, ProfileFieldsBody, Purged, PurposesBody, TenantView,
};
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::ApiError;
use crate::web::request::meta;
use crate::web::tenant::tenant_id;

/// `POST /admin/v1/tenants`
pub async fn create_tenant(
    req: HttpRequest,
    body: web::Json<NewTenant>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let alg = match body.signing_alg.as_deref() {
        None => SigningAlg::RS256,
        Some(a) => SigningAlg::parse(a).ok_or_else(|| {
            ApiError::invalid_request("signing_alg must be RS256, ES256 or EdDSA")
        })?,
    };
    let name = body.display_name.clone().unwrap_or_else(|| body.id.clone());
    let t = match &body.region {
        Some(r) => {
            st.engine
                .admin()
                .create_tenant_in(&body.id, &name, alg, r)
                .await?
        }
        None => {
            st.engine
                .admin()
                .create_tenant(&body.id, &name, alg)
                .await?
        }
    };
    Ok(HttpResponse::Created().json(tenant_view(&st, &t)))
}

/// `PUT /admin/v1/tenants/{tenant}/mfa`: `{"mode": "off|optional|required", "factors": [...]}`.
pub async fn set_mfa_policy(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<tollgate_engine::model::MfaPolicy>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let updated = st
        .engine
        .admin()
        .set_mfa_policy(&t, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(MfaView {
        id: updated.id.to_string(),
        mfa: updated.mfa,
    }))
}

/// The body of `PUT /admin/v1/tenants/{tenant}/dpop`.
#[derive(serde::Deserialize)]
pub struct DpopPolicy {
    /// Every DPoP proof must carry a server nonce (RFC 9449 §8).
    pub nonce_required: bool,
}

/// `PUT /admin/v1/tenants/{tenant}/dpop`: `{"nonce_required": true|false}`.
pub async fn set_dpop_policy(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<DpopPolicy>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let updated = st
        .engine
        .admin()
        .set_dpop_nonce_required(&t, body.nonce_required)
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "id": updated.id.to_string(),
        "nonce_required": updated.dpop_nonce_required,
    })))
}

/// `PUT /admin/v1/tenants/{tenant}/purposes`: `{"purposes": [{"id", "description",
/// "version", "required"}]}` replaces the tenant's consent purposes.
pub async fn set_purposes(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<PurposesBody>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let s = st
        .engine
        .account()
        .set_purposes(&t, body.into_inner().purposes)
        .await?;
    Ok(settings_response(&t, &s))
}

/// `PUT /admin/v1/tenants/{tenant}/profile-fields`: `{"profile_fields": [{"field",
/// "required", "after_sign_ins", "scope"}]}` replaces the progressive-profiling rules.
pub async fn set_profile_fields(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ProfileFieldsBody>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let s = st
        .engine
        .account()
        .set_profile_rules(&t, body.into_inner().profile_fields)
        .await?;
    Ok(settings_response(&t, &s))
}

/// A tenant's consent purposes and profiling rules, as every privacy-settings call answers.
fn settings_response(
    t: &tollgate_engine::ids::TenantId,
    s: &tollgate_engine::model::privacy::PrivacySettings,
) -> HttpResponse {
    HttpResponse::Ok().json(PrivacySettingsView {
        id: t.to_string(),
        purposes: s.purposes.clone(),
        profile_fields: s.profile_fields.clone(),
    })
}

/// `GET /admin/v1/tenants/{tenant}/purposes` (and `/profile-fields`): both lists.
pub async fn get_privacy_settings(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    st.engine.tenant(&t).await?;
    let s = st.engine.account().privacy_settings(&t).await?;
    Ok(settings_response(&t, &s))
}

/// `POST /admin/v1/tenants/{tenant}/move`: moves the tenant's data to another residency
/// region (recorded in its audit trail).
pub async fn move_tenant(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<MoveTenant>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let moved = st.engine.admin().move_tenant(&t, &body.region).await?;
    Ok(HttpResponse::Ok().json(MovedTenant {
        id: moved.id.to_string(),
        region: moved.region,
    }))
}

/// `GET /admin/v1/tenants`
pub async fn list_tenants(
    req: HttpRequest,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let ts = st.engine.admin().list_tenants().await?;
    let out: Vec<_> = ts.iter().map(|t| tenant_view(&st, t)).collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /admin/v1/tenants/{tenant}/clients`
pub async fn create_client(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewClient>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let c = st
        .engine
        .admin()
        .create_client(&t, body.into_inner())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(c))
}

/// `GET /admin/v1/tenants/{tenant}/clients`
pub async fn list_clients(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let cs = st.engine.admin().list_clients(&t).await?;
    let out: Vec<_> = cs
        .iter()
        .map(|c| ClientView {
            client_id: c.id.to_string(),
            name: c.name.clone(),
            public: !c.is_confidential(),
            first_party: c.first_party,
            refresh_without_id_token: c.refresh_without_id_token,
            grant_types: c.grant_types.clone(),
            api_grants: c.api_grants.clone(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: c.backchannel_logout_session_required,
            frontchannel_logout_uri: c.frontchannel_logout_uri.clone(),
            frontchannel_logout_session_required: c.frontchannel_logout_session_required,
            subject_type: c.subject_type,
            sector: c.sector.clone(),
            token_exchange: c
                .allows(tollgate_engine::model::GrantType::TokenExchange)
                .then(|| c.token_exchange.clone()),
            token_endpoint_auth_method: c.token_endpoint_auth_method,
            jwks: c.jwks.clone(),
            jwks_uri: c.jwks_uri.clone(),
            require_pushed_authorization_requests: c.require_pushed_authorization_requests,
            dynamically_registered: c.registration_token_hash.is_some(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /admin/v1/tenants/{tenant}/users`
pub async fn create_user(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewUser>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let b = body.into_inner();
    let u = st
        .engine
        .admin()
        .create_user(&t, &b.email, &b.password, b.name, b.email_verified)
        .await?;
    let mut ev = st.engine.event(&t, "admin.user_created", true);
    ev.actor = Some("admin".into());
    ev.subject = Some(u.id.to_string());
    st.engine.record_now(ev).await?;
    Ok(HttpResponse::Created().json(CreatedUser {
        id: u.id.to_string(),
        email: u.email.as_str().to_owned(),
    }))
}

/// `GET /admin/v1/tenants/{tenant}/users/{user}/export`: the data-subject export, for an
/// admin acting on a user's request.
pub async fn export_user(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, user) = path.into_inner();
    let t = tenant_id(&t)?;
    let user = tollgate_engine::ids::UserId::from_stored(user);
    let doc = st
        .engine
        .account()
        .export_user(&t, &user, "admin", &meta(&req))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(doc))
}

/// `DELETE /admin/v1/tenants/{tenant}/users/{user}`: deletes the account on the user's
/// behalf (sessions and tokens revoked, personal data crypto-shredded, a tombstone event).
pub async fn delete_user(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, user) = path.into_inner();
    let t = tenant_id(&t)?;
    let user = tollgate_engine::ids::UserId::from_stored(user);
    st.engine
        .account()
        .delete_user(&t, &user, "admin", &meta(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/v1/tenants/{tenant}/users/{user}/sign-out`: ends every session and
/// refresh chain of the user; each app they were signed in to gets a logout token.
pub async fn sign_out_user(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, user) = path.into_inner();
    let t = tenant_id(&t)?;
    let user = tollgate_engine::ids::UserId::from_stored(user);
    let (sessions, chains) = st
        .engine
        .admin()
        .sign_out_user(&t, &user, &meta(&req))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "sessions": sessions, "chains": chains })))
}

/// `POST /admin/v1/purge`: runs the purge of deleted users now (it also runs hourly).
pub async fn purge(req: HttpRequest, st: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let purged = st.engine.account().purge_deleted_users().await?;
    Ok(HttpResponse::Ok().json(Purged { purged }))
}

/// `POST /admin/v1/tenants/{tenant}/users/import`: up to 10,000 users with argon2id hashes.
pub async fn import_users(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Import>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(
        st.engine
            .admin()
            .import_users(&t, body.into_inner().users)
            .await?,
    ))
}

/// `POST /admin/v1/tenants/{tenant}/keys/rotate`
pub async fn rotate_keys(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().rotate_keys(&t).await?))
}

/// `GET /admin/v1/tenants/{tenant}/keys`
pub async fn list_keys(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().list_keys(&t).await?))
}

/// `POST /admin/v1/tenants/{tenant}/keys/{kid}/revoke`: the emergency stop for a leaked key.
pub async fn revoke_key(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, kid) = path.into_inner();
    let t = tenant_id(&t)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().revoke_key(&t, &kid).await?))
}

fn time_ms(name: &str, v: &str) -> Result<u64, ApiError> {
    if let Ok(ms) = v.parse::<u64>() {
        return Ok(ms);
    }
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .ok_or_else(|| {
            ApiError::invalid_request(format!(
                "{name} must be RFC 3339 (2026-11-22T09:00:00Z) or milliseconds since the epoch"
            ))
        })
}

/// The store's query for an events request.
fn to_query(
    q: &EventsQuery,
    default_limit: usize,
) -> Result<tollgate_engine::store::EventQuery, ApiError> {
    let before = match &q.before {
        None => None,
        Some(c) => {
            let (at, id) = c
                .split_once('-')
                .and_then(|(at, id)| Some((at.parse::<u64>().ok()?, id.to_owned())))
                .ok_or_else(|| {
                    ApiError::invalid_request("before is not a cursor this server gave")
                })?;
            Some((at, id))
        }
    };
    Ok(tollgate_engine::store::EventQuery {
        user: q.user.clone().filter(|u| !u.is_empty()),
        kind: q.kind.clone().filter(|k| !k.is_empty()),
        since_ms: q
            .since
            .as_deref()
            .map(|v| time_ms("since", v))
            .transpose()?,
        until_ms: q
            .until
            .as_deref()
            .map(|v| time_ms("until", v))
            .transpose()?,
        before,
        limit: q.limit.unwrap_or(default_limit),
    })
}

/// `GET /admin/v1/tenants/{tenant}/events`: newest first, one page; the next page's URL
/// is in the `Link` header (`rel="next"`).
pub async fn events(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<EventsQuery>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let query = to_query(&q, 100)?;
    let limit = query.limit.clamp(1, 1000);
    let page = st.engine.admin().query_events(&t, query).await?;
    let mut r = HttpResponse::Ok();
    r.insert_header((header::CACHE_CONTROL, "no-store"));
    if page.len() == limit
        && let Some(last) = page.last()
    {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("user", &q.user),
            ("kind", &q.kind),
            ("since", &q.since),
            ("until", &q.until),
        ] {
            if let Some(v) = v {
                next.append_pair(k, v);
            }
        }
        next.append_pair("before", &format!("{}-{}", last.at_ms, last.id));
        next.append_pair("limit", &limit.to_string());
        r.insert_header((
            header::LINK,
            format!(
                "</admin/v1/tenants/{t}/events?{}>; rel=\"next\"",
                next.finish()
            ),
        ));
    }
    Ok(r.json(page))
}

/// `GET /admin/v1/tenants/{tenant}/events/export`: every matching event as JSON Lines,
/// newest first, read page by page (at most `limit`, default 100,000).
pub async fn export_events(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<EventsQuery>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let mut query = to_query(&q, 100_000)?;
    let mut left = query.limit.min(1_000_000);
    let mut out = Vec::new();
    while left > 0 {
        query.limit = left.min(1000);
        let page = st.engine.admin().query_events(&t, query.clone()).await?;
        let n = page.len();
        for e in &page {
            serde_json::to_writer(&mut out, e)
                .map_err(|e| ApiError(EngineError::Internal(e.to_string())))?;
            out.push(b'\n');
        }
        left -= n;
        match page.last() {
            Some(last) if n == query.limit => query.before = Some((last.at_ms, last.id.clone())),
            _ => break,
        }
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/x-ndjson"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{t}-events.jsonl\""),
        ))
        .body(out))
}

/// JSON bodies that do not parse answer `invalid_request` with the reason.
pub fn json_config() -> web::JsonConfig {
    json_config_limited(64 * 1024)
}

/// The same with another size limit (imports carry thousands of users).
pub fn json_config_limited(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            ApiError::invalid_request(format!("invalid JSON body: {err}")).into()
        })
}

/// A tenant as the admin API shows it.
fn tenant_view(st: &AppState, t: &tollgate_engine::model::Tenant) -> TenantView {
    TenantView {
        id: t.id.to_string(),
        display_name: t.display_name.clone(),
        signing_alg: t.signing_alg.as_str().to_owned(),
        region: t.region.clone(),
        issuer: st.engine.issuer(&t.id),
    }
}
