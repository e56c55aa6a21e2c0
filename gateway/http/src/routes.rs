//! The routes: the one place that names the handlers. [`configure`] registers every
//! path; start-up (`server::start`) and so every test use it. Registration order is
//! match order, so groups keep their place in the table.

use actix_web::web;

use crate::handlers::{
    admin, apis, branding, breach, children, complete, demo, device, email, federation, grievances,
    hosted, messaging_admin, mfa, oidc, ops, orgs, par, passkeys, phone, portal, realm,
    registration, retention_admin, saml, scim, verification_admin, verify, whatsapp,
};

/// `/metrics`, on the main address or on one of its own (`[metrics] listen`).
pub fn metrics(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(ops::metrics));
}

/// Registers every route but `/metrics`: the one table, used by start-up (and so by
/// every test that starts a server).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(admin::json_config())
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .service(
            web::scope("/admin/v1")
                .route("/tenants", web::post().to(admin::create_tenant))
                .route("/tenants", web::get().to(admin::list_tenants))
                .route(
                    "/tenants/{tenant}/clients",
                    web::post().to(admin::create_client),
                )
                .route(
                    "/tenants/{tenant}/clients",
                    web::get().to(admin::list_clients),
                )
                .route("/tenants/{tenant}/apis", web::post().to(apis::create))
                .route(
                    "/tenants/{tenant}/initial-access-tokens",
                    web::post().to(registration::issue_initial_access_token),
                )
                .route("/tenants/{tenant}/apis", web::get().to(apis::list))
                .route("/tenants/{tenant}/apis", web::delete().to(apis::delete))
                .route(
                    "/tenants/{tenant}/users",
                    web::post().to(admin::create_user),
                )
                .service(
                    web::resource("/tenants/{tenant}/users/import")
                        .app_data(admin::json_config_limited(8 * 1024 * 1024))
                        .route(web::post().to(admin::import_users)),
                )
                .route(
                    "/tenants/{tenant}/keys/rotate",
                    web::post().to(admin::rotate_keys),
                )
                .route("/tenants/{tenant}/keys", web::get().to(admin::list_keys))
                .route(
                    "/tenants/{tenant}/keys/{kid}/revoke",
                    web::post().to(admin::revoke_key),
                )
                .route("/tenants/{tenant}/events", web::get().to(admin::events))
                .route(
                    "/tenants/{tenant}/events/export",
                    web::get().to(admin::export_events),
                )
                .route("/tenants/{tenant}/move", web::post().to(admin::move_tenant))
                .route(
                    "/tenants/{tenant}/mfa",
                    web::put().to(admin::set_mfa_policy),
                )
                .route(
                    "/tenants/{tenant}/dpop",
                    web::put().to(admin::set_dpop_policy),
                )
                .route(
                    "/tenants/{tenant}/notices",
                    web::put().to(crate::handlers::notices::set_notices),
                )
                .route(
                    "/tenants/{tenant}/notices",
                    web::get().to(crate::handlers::notices::get_notices),
                )
                .route(
                    "/tenants/{tenant}/users/{user}/purposes/{purpose}",
                    web::put().to(crate::handlers::notices::record_answer),
                )
                .route(
                    "/tenants/{tenant}/purposes",
                    web::put().to(admin::set_purposes),
                )
                .route(
                    "/tenants/{tenant}/purposes",
                    web::get().to(admin::get_privacy_settings),
                )
                .route(
                    "/tenants/{tenant}/profile-fields",
                    web::put().to(admin::set_profile_fields),
                )
                .route(
                    "/tenants/{tenant}/profile-fields",
                    web::get().to(admin::get_privacy_settings),
                )
                .route(
                    "/tenants/{tenant}/users/{user}/export",
                    web::get().to(admin::export_user),
                )
                .route(
                    "/tenants/{tenant}/users/{user}",
                    web::delete().to(admin::delete_user),
                )
                .route(
                    "/tenants/{tenant}/users/{user}/sign-out",
                    web::post().to(admin::sign_out_user),
                )
                .route(
                    "/tenants/{tenant}/verification",
                    web::get().to(verification_admin::get),
                )
                .route(
                    "/tenants/{tenant}/verification",
                    web::put().to(verification_admin::put),
                )
                .route("/purge", web::post().to(admin::purge))
                .configure(federation_admin)
                .configure(branding_admin)
                .configure(grievance_admin)
                .configure(breach_admin)
                .configure(saml_admin)
                .configure(orgs_admin)
                .configure(scim_admin)
                .configure(retention_admin_routes)
                .configure(children_admin)
                .configure(realm_admin)
                .route(
                    "/tenants/{tenant}/messaging",
                    web::get().to(messaging_admin::get),
                )
                .route(
                    "/tenants/{tenant}/messaging",
                    web::put().to(messaging_admin::put),
                ),
        )
        // WhatsApp Cloud API webhook of the deployment's own number.
        .service(
            web::resource("/webhooks/whatsapp")
                .app_data(web::PayloadConfig::new(whatsapp::WEBHOOK_BODY_LIMIT))
                .route(web::get().to(whatsapp::deployment_subscribe))
                .route(web::post().to(whatsapp::deployment_statuses)),
        )
        .route("/assets/passkeys.js", web::get().to(passkeys::script))
        .route("/assets/tollgate.css", web::get().to(branding::shipped_css))
        .route("/demo", web::get().to(demo::start))
        .route("/demo/callback", web::get().to(demo::callback))
        .route("/demo/signed-out", web::get().to(demo::signed_out))
        .service(
            web::scope("/{tenant}")
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(oidc::discovery),
                )
                .route("/jwks.json", web::get().to(oidc::jwks))
                .route(
                    "/.well-known/privacy-contact",
                    web::get().to(grievances::contact_document),
                )
                .route("/theme.css", web::get().to(branding::theme_css))
                .route("/authorize", web::get().to(oidc::authorize))
                .route("/authorize", web::post().to(oidc::authorize))
                .route("/token", web::post().to(oidc::token))
                .route("/par", web::post().to(par::push))
                .route("/register", web::post().to(registration::register))
                .route(
                    "/device_authorization",
                    web::post().to(device::authorization),
                )
                .route("/device", web::get().to(device::enter_page))
                .route("/device", web::post().to(device::enter_submit))
                .route("/device/confirm", web::get().to(device::confirm_page))
                .route("/device/confirm", web::post().to(device::confirm_submit))
                .route("/userinfo", web::get().to(oidc::userinfo))
                .route("/userinfo", web::post().to(oidc::userinfo))
                .route("/revoke", web::post().to(oidc::revoke))
                .route("/introspect", web::post().to(oidc::introspect))
                .route("/logout", web::get().to(hosted::logout))
                .route("/logout", web::post().to(hosted::logout))
                .route("/login", web::get().to(hosted::login_page))
                .route("/login", web::post().to(hosted::login_submit))
                .route("/signup", web::get().to(hosted::signup_page))
                .route("/signup", web::post().to(hosted::signup_submit))
                .route("/signup/code", web::post().to(hosted::signup_code_submit))
                .route("/parent-consent", web::get().to(children::parent_get))
                .route("/parent-consent", web::post().to(children::parent_consent))
                .route(
                    "/parent-consent/refuse",
                    web::post().to(children::parent_refuse),
                )
                .route("/consent", web::get().to(hosted::consent_page))
                .route("/consent", web::post().to(hosted::consent_submit))
                .route("/account", web::get().to(hosted::account))
                .route("/account/export", web::get().to(hosted::account_export))
                .route("/account/grievances", web::get().to(grievances::page))
                .route("/account/grievances", web::post().to(grievances::submit))
                .route(
                    "/account/grievances/{id}",
                    web::get().to(grievances::ticket),
                )
                .route(
                    "/account/consent-receipts",
                    web::get().to(crate::handlers::notices::receipts_download),
                )
                .route("/account/apps/remove", web::post().to(hosted::remove_app))
                .route(
                    "/account/sessions/end",
                    web::post().to(hosted::end_sessions),
                )
                .route("/login/factor", web::post().to(mfa::factor_submit))
                .route("/login/enrol", web::post().to(mfa::enrol_submit))
                .route("/stepup", web::get().to(mfa::step_up))
                .route("/continue", web::get().to(mfa::continue_authorization))
                .route("/account/totp", web::get().to(mfa::account_totp))
                .route("/account/totp", web::post().to(mfa::account_totp_submit))
                .route(
                    "/account/factors/remove",
                    web::post().to(mfa::remove_factor),
                )
                .route(
                    "/account/recovery-codes",
                    web::post().to(mfa::new_recovery_codes),
                )
                .route(
                    "/passkeys/register/start",
                    web::post().to(passkeys::register_start),
                )
                .route(
                    "/passkeys/register/finish",
                    web::post().to(passkeys::register_finish),
                )
                .route(
                    "/passkeys/login/start",
                    web::post().to(passkeys::login_start),
                )
                .route(
                    "/passkeys/login/finish",
                    web::post().to(passkeys::login_finish),
                )
                .route(
                    "/passkeys/factor/start",
                    web::post().to(passkeys::factor_start),
                )
                .route(
                    "/passkeys/factor/finish",
                    web::post().to(passkeys::factor_finish),
                )
                .route("/passkeys/link/start", web::post().to(passkeys::link_start))
                .route(
                    "/passkeys/link/finish",
                    web::post().to(passkeys::link_finish),
                )
                .route("/passkeys/offer", web::get().to(passkeys::offer))
                .route("/account/passkeys/rename", web::post().to(passkeys::rename))
                .configure(email_routes)
                .configure(phone_routes)
                .configure(portal_routes)
                .configure(federation_routes)
                .configure(verify_routes)
                .configure(saml_routes)
                // Paths with a parameter are matched by a regular expression each: they
                // come after the sign-in pages, so a page request does not pay for them.
                .configure(client_and_api_routes)
                .configure(scim_routes)
                // WhatsApp Cloud API webhook of the tenant's own number.
                .service(
                    web::resource("/webhooks/whatsapp")
                        .app_data(web::PayloadConfig::new(whatsapp::WEBHOOK_BODY_LIMIT))
                        .route(web::get().to(whatsapp::subscribe))
                        .route(web::post().to(whatsapp::statuses)),
                )
                // Error pages in the reader's language and the tenant's look.
                .wrap(actix_web::middleware::from_fn(
                    crate::web::error::render_page_errors,
                )),
        )
        .default_service(web::to(ops::not_found));
}

/// Email codes and links, password reset, address verification (inside `/{tenant}`).
fn email_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login/sso", web::post().to(hosted::login_sso))
        .route("/login/email", web::post().to(email::email_start))
        .route("/login/email/code", web::post().to(email::email_code))
        .route("/login/link", web::get().to(email::link_page))
        .route("/login/link", web::post().to(email::link_submit))
        .route("/login/factor/send", web::post().to(email::factor_send))
        .route("/password/forgot", web::get().to(email::forgot_page))
        .route("/password/forgot", web::post().to(email::forgot_submit))
        .route("/password/reset", web::get().to(email::reset_page))
        .route("/password/reset", web::post().to(email::reset_submit))
        .route(
            "/password/reset/review",
            web::post().to(email::reset_review_submit),
        )
        .route("/verify", web::get().to(email::verify_page))
        .route("/verify", web::post().to(email::verify_submit))
        .route(
            "/account/email/verify",
            web::post().to(email::account_verify),
        )
        .route("/account/email/send", web::post().to(email::account_send));
}

/// Phone sign-in and numbers (inside `/{tenant}`).
fn phone_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login/phone", web::get().to(phone::sign_in_page))
        .route("/login/phone", web::post().to(phone::sign_in_start))
        .route("/login/phone/code", web::post().to(phone::sign_in_code))
        .route("/account/phone", web::get().to(phone::enrol_page))
        .route("/account/phone", web::post().to(phone::enrol_start))
        .route(
            "/account/phone/confirm",
            web::post().to(phone::enrol_confirm),
        );
}

/// Account self-service and the step after sign-in (inside `/{tenant}`).
fn portal_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account/profile", web::post().to(portal::profile_submit))
        .route("/account/language", web::post().to(portal::language_submit))
        .route("/account/email/change", web::post().to(portal::email_start))
        .route(
            "/account/email/change/confirm",
            web::post().to(portal::email_confirm),
        )
        .route("/account/phone/change", web::get().to(portal::phone_page))
        .route("/account/phone/change", web::post().to(portal::phone_start))
        .route(
            "/account/phone/change/confirm",
            web::post().to(portal::phone_confirm),
        )
        .route("/account/password", web::post().to(portal::password_submit))
        .route("/account/purposes", web::post().to(portal::purpose_submit))
        .route("/account/delete", web::get().to(portal::delete_page))
        .route("/account/delete", web::post().to(portal::delete_submit))
        .route("/account/reauth", web::get().to(portal::reauth_page))
        .route("/account/reauth", web::post().to(portal::reauth_submit))
        .route("/account/complete", web::get().to(complete::complete_page))
        .route(
            "/account/complete",
            web::post().to(complete::complete_submit),
        );
}

/// Identity verification with Aadhaar offline e-KYC: the page and the API for apps
/// (inside `/{tenant}`). Their multipart bodies are read, bounded, by the handler.
fn verify_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/verify/aadhaar", web::get().to(verify::aadhaar_page))
        .route("/verify/aadhaar", web::post().to(verify::aadhaar_submit))
        .route("/api/verify/aadhaar", web::post().to(verify::aadhaar_api));
}

/// Dynamic client registration's management (RFC 7592) and the issuer's own APIs for
/// apps and consent managers (inside `/{tenant}`).
fn client_and_api_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/register/{client_id}", web::get().to(registration::read))
        .route("/register/{client_id}", web::put().to(registration::update))
        .route(
            "/register/{client_id}",
            web::delete().to(registration::delete),
        )
        .route(
            "/api/consent-manager/users/{sub}/consents",
            web::get().to(crate::handlers::consent_manager::list),
        )
        .route(
            "/api/consent-manager/users/{sub}/consents/{purpose}",
            web::delete().to(crate::handlers::consent_manager::withdraw),
        )
        .route(
            "/api/consent-manager/users/{sub}/consents/{purpose}/withdraw",
            web::post().to(crate::handlers::consent_manager::withdraw),
        )
        .route(
            "/api/verify/truecaller",
            web::post().to(crate::handlers::truecaller::verify),
        )
        .route(
            "/api/permissions/check",
            web::post().to(crate::handlers::orgs::check),
        )
        .route("/organization", web::get().to(crate::handlers::orgs::pick))
        .route(
            "/organization",
            web::post().to(crate::handlers::orgs::picked),
        )
        .route(
            "/invitations/{token}",
            web::get().to(crate::handlers::orgs::invitation),
        )
        .route(
            "/invitations/{token}",
            web::post().to(crate::handlers::orgs::accept),
        );
}

/// Federated sign-in, linking and unlinking (inside `/{tenant}`).
fn federation_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/federation/{connector}/start",
        web::get().to(federation::start),
    )
    .route(
        "/federation/{connector}/callback",
        web::get().to(federation::callback),
    )
    // Apple answers with response_mode=form_post.
    .route(
        "/federation/{connector}/callback",
        web::post().to(federation::callback),
    )
    .route("/federation/link", web::post().to(federation::link_submit))
    .route(
        "/account/identities/unlink",
        web::post().to(federation::unlink),
    );
}

/// The admin API for connectors (inside `/admin/v1`).
fn federation_admin(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/tenants/{tenant}/connectors",
        web::get().to(federation::admin_list),
    )
    .route(
        "/tenants/{tenant}/connectors/{connector}",
        web::get().to(federation::admin_get),
    )
    .route(
        "/tenants/{tenant}/connectors/{connector}",
        web::put().to(federation::admin_put),
    )
    .route(
        "/tenants/{tenant}/connectors/{connector}",
        web::delete().to(federation::admin_delete),
    );
}

/// The admin API for branding and passkeys (inside `/admin/v1`). Text bodies (templates,
/// catalogues) are read with their own bounds; JSON ones get theirs here.
fn branding_admin(cfg: &mut web::ServiceConfig) {
    cfg.route("/templates", web::get().to(branding::templates))
        .route("/tenants/{tenant}/branding", web::get().to(branding::get))
        .service(
            web::resource("/tenants/{tenant}/branding/theme")
                .app_data(admin::json_config_limited(branding::THEME_BODY_LIMIT))
                .route(web::put().to(branding::put_theme)),
        )
        .route(
            "/tenants/{tenant}/branding/templates/{name}",
            web::put().to(branding::put_template),
        )
        .route(
            "/tenants/{tenant}/branding/templates/{name}",
            web::delete().to(branding::delete_template),
        )
        .route(
            "/tenants/{tenant}/branding/messages/{lang}",
            web::put().to(branding::put_messages),
        )
        .route(
            "/tenants/{tenant}/branding/messages/{lang}",
            web::delete().to(branding::delete_messages),
        )
        .route(
            "/tenants/{tenant}/branding/default-language",
            web::put().to(branding::put_default_language),
        )
        .service(
            web::resource("/tenants/{tenant}/branding/preview")
                .app_data(admin::json_config_limited(branding::PREVIEW_BODY_LIMIT))
                .route(web::post().to(branding::preview)),
        )
        .route(
            "/tenants/{tenant}/passkeys",
            web::get().to(branding::get_passkeys),
        )
        .route(
            "/tenants/{tenant}/passkeys",
            web::put().to(branding::set_passkeys),
        );
}

/// Retention (DPDP Rules 6 and 8): settings, a user's dormancy and legal hold, a run now.
fn retention_admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/tenants/{tenant}/retention",
        web::get().to(retention_admin::get),
    )
    .route(
        "/tenants/{tenant}/retention",
        web::put().to(retention_admin::put),
    )
    .route(
        "/tenants/{tenant}/users/{user}/dormancy",
        web::get().to(retention_admin::dormancy),
    )
    .route(
        "/tenants/{tenant}/users/{user}/legal-hold",
        web::put().to(retention_admin::set_hold),
    )
    .route(
        "/tenants/{tenant}/users/{user}/legal-hold",
        web::delete().to(retention_admin::clear_hold),
    )
    .route("/retention/run", web::post().to(retention_admin::run));
}

/// SCIM 2.0 (inside `/{tenant}`): after the sign-in pages, as they have parameters.
fn scim_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/scim/v2/ServiceProviderConfig",
        web::get().to(scim::service_provider_config),
    )
    .route("/scim/v2/Schemas", web::get().to(scim::schemas))
    .route("/scim/v2/Schemas/{id}", web::get().to(scim::schema))
    .route(
        "/scim/v2/ResourceTypes",
        web::get().to(scim::resource_types),
    )
    .route(
        "/scim/v2/ResourceTypes/{id}",
        web::get().to(scim::resource_type),
    )
    .route(
        "/scim/v2/ServiceProviderConfig",
        web::route().to(scim::method_not_allowed),
    )
    .route(
        "/scim/v2/Schemas",
        web::route().to(scim::method_not_allowed),
    )
    .route(
        "/scim/v2/ResourceTypes",
        web::route().to(scim::method_not_allowed),
    )
    .route("/scim/v2/Users", web::get().to(scim::list_users))
    .route("/scim/v2/Users", web::post().to(scim::create_user))
    .route("/scim/v2/Users/{id}", web::get().to(scim::get_user))
    .route("/scim/v2/Users/{id}", web::put().to(scim::replace_user))
    .route("/scim/v2/Users/{id}", web::patch().to(scim::patch_user))
    .route("/scim/v2/Users/{id}", web::delete().to(scim::delete_user))
    .route("/scim/v2/Groups", web::get().to(scim::list_groups))
    .route("/scim/v2/Groups", web::post().to(scim::create_group))
    .route("/scim/v2/Groups/{id}", web::get().to(scim::get_group))
    .route("/scim/v2/Groups/{id}", web::put().to(scim::replace_group))
    .route("/scim/v2/Groups/{id}", web::patch().to(scim::patch_group))
    .route("/scim/v2/Groups/{id}", web::delete().to(scim::delete_group))
    .service(
        web::resource("/scim/v2/Bulk")
            .app_data(web::PayloadConfig::new(scim::BULK_BODY_LIMIT))
            .route(web::post().to(scim::bulk)),
    )
    .route(
        "/scim/v2/{rest:.*}",
        web::route().to(scim::no_such_endpoint),
    );
}

/// The admin API of SCIM tokens (inside `/admin/v1`).
fn scim_admin(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/tenants/{tenant}/scim-tokens",
        web::post().to(scim::admin_create_token),
    )
    .route(
        "/tenants/{tenant}/scim-tokens",
        web::get().to(scim::admin_list_tokens),
    )
    .route(
        "/tenants/{tenant}/scim-tokens/{id}",
        web::delete().to(scim::admin_revoke_token),
    );
}

/// The admin API for organisations, roles and permissions (inside `/admin/v1`).
fn orgs_admin(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/tenants/{tenant}/organizations",
        web::post().to(orgs::create),
    )
    .route("/tenants/{tenant}/organizations", web::get().to(orgs::list))
    .route(
        "/tenants/{tenant}/organizations/{org}",
        web::get().to(orgs::get),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}",
        web::patch().to(orgs::change),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}",
        web::delete().to(orgs::delete),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/members",
        web::get().to(orgs::members),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/members",
        web::post().to(orgs::add_member),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/members/{user}",
        web::put().to(orgs::put_member),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/members/{user}",
        web::delete().to(orgs::remove_member),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/invitations",
        web::get().to(orgs::invitations),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/invitations",
        web::post().to(orgs::invite),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/invitations/{id}",
        web::delete().to(orgs::withdraw),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/roles",
        web::get().to(orgs::org_roles),
    )
    .route("/tenants/{tenant}/roles", web::get().to(orgs::roles))
    .route(
        "/tenants/{tenant}/roles/{role}",
        web::put().to(orgs::put_role),
    )
    .route(
        "/tenants/{tenant}/roles/{role}",
        web::delete().to(orgs::delete_role),
    )
    .route(
        "/tenants/{tenant}/users/{user}/roles/{role}",
        web::put().to(orgs::grant_tenant_role),
    )
    .route(
        "/tenants/{tenant}/users/{user}/roles/{role}",
        web::delete().to(orgs::revoke_tenant_role),
    )
    .route(
        "/tenants/{tenant}/users/{user}/permissions",
        web::get().to(orgs::user_permissions),
    )
    .route(
        "/tenants/{tenant}/permissions",
        web::get().to(orgs::permissions),
    )
    .route(
        "/tenants/{tenant}/org-settings",
        web::get().to(orgs::get_settings),
    )
    .route(
        "/tenants/{tenant}/org-settings",
        web::put().to(orgs::put_settings),
    );
}

/// The SAML identity provider (inside `/{tenant}`): no path parameter.
fn saml_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/saml/metadata", web::get().to(saml::metadata))
        .route("/saml/sso", web::get().to(saml::sso_redirect))
        .route("/saml/sso", web::post().to(saml::sso_post))
        .route("/saml/resume", web::get().to(saml::resume))
        .route("/saml/idp-init", web::get().to(saml::idp_init))
        .route("/saml/slo", web::get().to(saml::slo_redirect))
        .route("/saml/slo", web::post().to(saml::slo_post));
}

/// The admin API for SAML service providers (inside `/admin/v1`).
fn saml_admin(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/tenants/{tenant}/saml/sps",
        web::get().to(saml::admin_list),
    )
    .route(
        "/tenants/{tenant}/saml/sps",
        web::post().to(saml::admin_register),
    )
    .route(
        "/tenants/{tenant}/saml/sps",
        web::delete().to(saml::admin_remove),
    );
}

/// The admin API for personal data breaches (DPDP Rule 7, inside `/admin/v1`); a
/// declaration may list up to a million users, hence its own body limit.
fn breach_admin(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/tenants/{tenant}/breach-settings",
        web::get().to(breach::get_settings),
    )
    .route(
        "/tenants/{tenant}/breach-settings",
        web::put().to(breach::put_settings),
    )
    .service(
        web::resource("/tenants/{tenant}/breaches")
            .app_data(admin::json_config_limited(breach::DECLARE_BODY_LIMIT))
            .route(web::post().to(breach::declare))
            .route(web::get().to(breach::list)),
    )
    .route(
        "/tenants/{tenant}/breaches/{id}",
        web::get().to(breach::get),
    )
    .route(
        "/tenants/{tenant}/breaches/{id}/notify",
        web::post().to(breach::notify),
    )
    .route(
        "/tenants/{tenant}/breaches/{id}/progress",
        web::get().to(breach::progress),
    )
    .route(
        "/tenants/{tenant}/breaches/{id}/report",
        web::get().to(breach::report),
    );
}

/// Children's accounts (DPDP s. 9): the tenant's setting, the expiry job run now.
fn children_admin(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/tenants/{tenant}/children",
        web::get().to(children::admin_get),
    )
    .route(
        "/tenants/{tenant}/children",
        web::put().to(children::admin_put),
    )
    .route("/children/run", web::post().to(children::admin_run));
}

/// The admin API for grievances and the privacy contact (inside `/admin/v1`).
fn grievance_admin(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/tenants/{tenant}/privacy-contact",
        web::get().to(grievances::admin_get_contact),
    )
    .route(
        "/tenants/{tenant}/privacy-contact",
        web::put().to(grievances::admin_put_contact),
    )
    .route(
        "/tenants/{tenant}/privacy-contact",
        web::delete().to(grievances::admin_delete_contact),
    )
    .route(
        "/tenants/{tenant}/grievances",
        web::get().to(grievances::admin_list),
    )
    .route(
        "/tenants/{tenant}/grievances/{id}",
        web::get().to(grievances::admin_get),
    )
    .route(
        "/tenants/{tenant}/grievances/{id}/answer",
        web::post().to(grievances::admin_answer),
    )
    .route(
        "/tenants/{tenant}/grievances/{id}/close",
        web::post().to(grievances::admin_close),
    );
}

/// Organisations' email domains (home-realm discovery).
fn realm_admin(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/tenants/{tenant}/organizations/{org}/domains",
        web::get().to(realm::list),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/domains",
        web::post().to(realm::add),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/domains/{domain}/verify",
        web::post().to(realm::verify),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/domains/{domain}/connector",
        web::put().to(realm::route),
    )
    .route(
        "/tenants/{tenant}/organizations/{org}/domains/{domain}",
        web::delete().to(realm::remove),
    );
}
