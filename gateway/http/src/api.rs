//! The admin API's wire types, one set for both ends: the handlers read and answer them,
//! and the `tollgate admin` command sends and reads them. A leaf: it names only the
//! engine's vocabulary.

use serde::{Deserialize, Serialize};
use tollgate_engine::model::privacy::{ProfileRule, Purpose};

pub use tollgate_engine::admin::apis::NewApi;
pub use tollgate_engine::admin::{CreatedClient, ImportUser, NewClient, RotatedKeys};
pub use tollgate_engine::federation::ConnectorInput;
pub use tollgate_engine::model::MfaPolicy;
// SAML service providers (`tollgate admin saml-sp`).
pub use tollgate_engine::model::saml::{
    AttributeMapping as SamlAttributeMapping, NameIdFormat as SamlNameIdFormat,
    ServiceProvider as SamlSp,
};
pub use tollgate_engine::saml::sps::NewServiceProvider as NewSamlSp;

/// Body of `POST /admin/v1/tenants`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewTenant {
    /// The tenant id (its issuer's path).
    pub id: String,
    /// Display name; the id if absent.
    pub display_name: Option<String>,
    /// `RS256` (default), `ES256` or `EdDSA`.
    pub signing_alg: Option<String>,
    /// The residency region; the default region if absent.
    pub region: Option<String>,
}

/// Body of `POST /admin/v1/tenants/{tenant}/move`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MoveTenant {
    /// The region to move to.
    pub region: String,
}

/// A tenant as the admin API shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TenantView {
    /// Id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Signing algorithm.
    pub signing_alg: String,
    /// Residency region.
    pub region: String,
    /// Its issuer URL.
    pub issuer: String,
}

/// Answer of `PUT …/mfa`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MfaView {
    /// The tenant.
    pub id: String,
    /// Its policy now.
    pub mfa: MfaPolicy,
}

/// Answer of `POST …/move`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MovedTenant {
    /// The tenant.
    pub id: String,
    /// Its region now.
    pub region: String,
}

/// Body of `PUT …/purposes`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposesBody {
    /// The tenant's consent purposes, replacing the old list.
    pub purposes: Vec<Purpose>,
}

/// Body of `PUT …/profile-fields`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFieldsBody {
    /// The progressive-profiling rules, replacing the old list.
    pub profile_fields: Vec<ProfileRule>,
}

/// A tenant's consent purposes and profiling rules, as every privacy-settings call
/// answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PrivacySettingsView {
    /// The tenant.
    pub id: String,
    /// Consent purposes.
    pub purposes: Vec<Purpose>,
    /// Profiling rules.
    pub profile_fields: Vec<ProfileRule>,
}

/// A tenant's itemised notices, board URL and consent managers (DPDP Rules 3 and 4), as
/// `GET|PUT /admin/v1/tenants/{tenant}/notices` answer; the PUT body is the same without
/// `id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NoticesView {
    /// The tenant.
    pub id: String,
    /// The settings.
    #[serde(flatten)]
    pub settings: tollgate_engine::model::notice::NoticeSettings,
}

/// A client as the listing shows it (never its secret).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClientView {
    /// `client_id`.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Whether it has no secret.
    pub public: bool,
    /// Whether consent is skipped.
    pub first_party: bool,
    /// Whether refreshes answer without a new ID token.
    #[serde(default)]
    pub refresh_without_id_token: bool,
    /// The grants it may use.
    #[serde(default)]
    pub grant_types: Vec<tollgate_engine::model::GrantType>,
    /// A machine client's APIs and the scopes it may have there.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub api_grants: std::collections::BTreeMap<String, Vec<String>>,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Exact post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens are POSTed (back-channel logout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Its logout tokens carry `sid`, always.
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
    /// The page loaded in a hidden iframe at the end of logout (front-channel logout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// That page gets `iss` and `sid`.
    #[serde(default)]
    pub frontchannel_logout_session_required: bool,
    /// `public` or `pairwise` subjects.
    #[serde(default)]
    pub subject_type: tollgate_engine::model::SubjectType,
    /// The sector of its pairwise subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// Its token-exchange policy, when it has the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange: Option<tollgate_engine::model::TokenExchangePolicy>,
    /// How it authenticates, when it was set (`private_key_jwt`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<tollgate_engine::model::EndpointAuthMethod>,
    /// Its public keys, given by value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Where its public keys are published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Its authorization requests must be pushed (PAR).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// It registered itself (RFC 7591) and manages its registration.
    #[serde(default)]
    pub dynamically_registered: bool,
}

/// Body of `POST /admin/v1/tenants/{tenant}/users`.
#[derive(Clone, Serialize, Deserialize)]
pub struct NewUser {
    /// Login email.
    pub email: String,
    /// Password (the policy applies).
    pub password: String,
    /// Display name.
    pub name: Option<String>,
    /// Whether the email is already verified.
    #[serde(default)]
    pub email_verified: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewUser(<hidden>)")
    }
}

/// Answer of `POST …/users`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreatedUser {
    /// The new user's id.
    pub id: String,
    /// The login email.
    pub email: String,
}

/// Answer of `POST /admin/v1/purge`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Purged {
    /// Deleted users whose records were purged.
    pub purged: usize,
}

/// Body of `POST /admin/v1/tenants/{tenant}/users/import`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Import {
    /// Up to 10,000 users, with argon2id hashes.
    pub users: Vec<ImportUser>,
}

/// Query of the events listing: `user`, `kind` (exact, or a prefix ending in `.`),
/// `since` and `until` (RFC 3339 or milliseconds since the epoch), `before` (the cursor
/// of the next page), `limit` (at most 1,000).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EventsQuery {
    /// Most events in the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Only this user's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only this kind, or kinds with this prefix (ending in `.`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// From.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Until.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The cursor of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
}

pub use tollgate_engine::model::branding::{Branding, Theme};

/// Body of `PUT /admin/v1/tenants/{tenant}/verification` (a part left out stays), and
/// the settings both verbs answer with.
pub use tollgate_engine::admin::verification::{
    AadhaarInput, ReleaseInput, TruecallerInput, VerificationInput,
};
pub use tollgate_engine::model::verification::{TruecallerKey, VerificationSettings};

/// Retention (DPDP Rules 6 and 8): the body and answer of
/// `/admin/v1/tenants/{tenant}/retention`, and a user's dormancy record.
pub use tollgate_engine::account::dormancy::DormancyRun;
pub use tollgate_engine::model::retention::{
    Activity, DormancyNotice, DormancyPolicy, LegalHold, RetentionSettings,
};

/// Body of `PUT /admin/v1/tenants/{tenant}/users/{user}/legal-hold`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LegalHoldInput {
    /// Why the account must be kept (recorded in the audit trail).
    pub reason: String,
}

/// Answer of `POST /admin/v1/retention/run`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RetentionRun {
    /// What the dormancy job did.
    pub dormancy: DormancyRun,
    /// Audit events removed past their tenant's retention.
    pub events_purged: u64,
}

/// Children's accounts (DPDP s. 9): the body and answer of
/// `/admin/v1/tenants/{tenant}/children`.
pub use tollgate_engine::model::children::{ChildrenPolicy, ChildrenSettings, Exemption};

/// Answer of `POST /admin/v1/children/run`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ChildrenRun {
    /// Children's accounts erased because no parent consented in time.
    pub erased: usize,
}

/// Bodies and answers of `/admin/v1/tenants/{tenant}/messaging`.
pub use tollgate_engine::model::messaging::{
    Dlt, MessagingInput, MessagingView, OtpButton, WhatsappInput, WhatsappView,
};

/// Body of `PUT /admin/v1/tenants/{tenant}/branding/default-language`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultLanguageBody {
    /// A language with a catalogue (shipped, or added by the tenant); `null` for English.
    pub default_language: Option<String>,
}

/// Body of `POST /admin/v1/tenants/{tenant}/branding/preview`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The template to show (e.g. `login.html`), rendered with its sample data.
    pub template: String,
    /// The language; the tenant's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// A proposed branding to preview instead of the stored one (checked, not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branding: Option<Branding>,
}

/// One template a tenant may override, as `GET /admin/v1/templates` lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TemplateView {
    /// Its name (the path segment of `PUT …/branding/templates/{name}`).
    pub name: String,
    /// The shipped source.
    pub source: String,
    /// The sample data it is checked and previewed with: what it can use.
    pub sample: serde_json::Value,
}

/// Body of `PUT /admin/v1/tenants/{tenant}/passkeys`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeysBody {
    /// Offer passkeys (sign-in, registration, second factor).
    pub enabled: bool,
}

/// Whether a tenant offers passkeys.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PasskeysView {
    /// The tenant.
    pub id: String,
    /// The tenant allows passkeys (its MFA factors include `passkey`).
    pub enabled: bool,
    /// This server can serve passkeys (`[webauthn]` is set up); without it, pages offer
    /// none whatever the tenant allows.
    pub available: bool,
}

/// Body of `PUT /admin/v1/tenants/{tenant}/privacy-contact`, and what it answers.
pub use tollgate_engine::admin::grievances::PrivacyContactInput;
pub use tollgate_engine::model::grievance::{ContactRole, PrivacyContact};

/// `GET {issuer}/.well-known/privacy-contact`: the tenant's Data Protection Officer or
/// contact person (DPDP Rules 9 and 14), public.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyContactDocument {
    /// The tenant's issuer.
    pub issuer: String,
    /// The Data Fiduciary: the tenant's display name.
    pub organisation: String,
    /// `data_protection_officer` or `contact_person`.
    pub role: ContactRole,
    /// The person's or office's name.
    pub name: String,
    /// Where to write.
    pub email: String,
    /// A telephone number (E.164).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The tenant's page about privacy and grievances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Grievances are answered within this many days (at most 90, Rule 14(3)).
    pub grievance_response_days: u32,
    /// Where a signed-in user files a grievance.
    pub grievance_uri: String,
}

impl PrivacyContactDocument {
    /// The document of a tenant whose issuer is `issuer`.
    pub fn new(issuer: &str, organisation: &str, c: PrivacyContact) -> Self {
        Self {
            issuer: issuer.to_owned(),
            organisation: organisation.to_owned(),
            role: c.role,
            name: c.name,
            email: c.email,
            phone: c.phone,
            address: c.address,
            url: c.url,
            grievance_response_days: c.response_days,
            grievance_uri: format!("{issuer}/account/grievances"),
        }
    }
}

/// One grievance as the admin API shows it, and the filter of its list.
pub use tollgate_engine::account::grievances::{GrievanceFilter, GrievanceView};
pub use tollgate_engine::model::grievance::{GrievanceCategory, GrievanceEntry, GrievanceStatus};

/// `GET /admin/v1/tenants/{tenant}/grievances`: the tickets, the oldest due first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GrievanceList {
    /// The tickets.
    pub grievances: Vec<GrievanceView>,
}

/// Body of `POST /admin/v1/tenants/{tenant}/grievances/{id}/answer`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrievanceAnswer {
    /// The answer (at most 4,000 characters); the user reads it on the account page.
    pub text: String,
    /// Close the ticket with this answer.
    #[serde(default)]
    pub close: bool,
}

/// Body of `POST /admin/v1/tenants/{tenant}/scim-tokens`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewScimToken {
    /// The operator's name for it ("Okta production"), 1 to 100 characters.
    pub name: String,
    /// Limit it to one organisation's members; the whole tenant when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

/// SCIM tokens as the admin API answers them: a new one (with its token, shown once) and
/// the list (without).
pub use tollgate_engine::scim::tokens::{CreatedScimToken, ScimTokenInfo};

// ---- Organisations, roles and permissions (issue 19) -----------------------------------

pub use tollgate_engine::model::org::{
    Membership, OrgClaims, OrgSettings, Organization, OrgsSettings, PermissionDef, Role,
};
pub use tollgate_engine::orgs::PermissionEntry;
pub use tollgate_engine::orgs::invitations::{CreatedInvitation, InvitationView, NewInvitation};
pub use tollgate_engine::orgs::manage::{MemberInput, NewOrg, OrgChange, Page, RoleInput};

/// Personal data breaches (DPDP Rule 7): the bodies and answers of
/// `/admin/v1/tenants/{tenant}/breaches…` and `…/breach-settings`.
pub use tollgate_engine::admin::breach::{
    BreachReport, BreachStatus, DeclareBreach, NotifyAnswer, NotifyOutcome, ReportKind,
};
pub use tollgate_engine::model::breach::{
    AffectedQuery, BreachProgress, BreachSettings, Incident, JobStatus,
};
