//! `tollgate`: run the server, or administer one over its admin API.

use clap::{Args, Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use tollgate_engine::model::GrantType;
use tollgate_engine::model::federation::MappingInput;
use tollgate_gateway::config::{Config, Mode, Overrides};
use tollgate_http::api;

mod breach_cli;
mod children_cli;
mod grievance_cli;
mod org_cli;
mod retention_cli;
mod saml_cli;
mod scim_cli;

#[derive(Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Tollgate: customer identity (OpenID Connect) server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per run of the CLI: the size of its variants does not matter"
)]
enum Command {
    /// Run the server (embedded store; development defaults unless configured otherwise).
    Serve {
        /// TOML configuration file.
        #[arg(long, env = "TOLLGATE_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on (overrides TOLLGATE_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// Data directory (overrides TOLLGATE_DATA_DIR).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Public base URL (overrides TOLLGATE_PUBLIC_URL).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Create or upgrade the ScyllaDB schema (the global keyspace and one keyspace per
    /// configured region). Safe to run again: applied migrations are skipped.
    Migrate {
        /// TOML configuration file (its [store.scylla] and [regions] are used).
        #[arg(long, env = "TOLLGATE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Administer a running server through its admin API.
    Admin(AdminArgs),
    /// Print a new random master key.
    GenMasterKey,
}

#[derive(Args)]
struct AdminArgs {
    /// Base URL of the server.
    #[arg(long, env = "TOLLGATE_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Admin token; in development it is read from DATA_DIR/admin.token when not given.
    /// Generated tokens are base64url and may begin with '-'.
    #[arg(
        long,
        env = "TOLLGATE_ADMIN_TOKEN",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    token: Option<String>,
    /// Data directory to read a development admin token from.
    #[arg(long, env = "TOLLGATE_DATA_DIR", default_value = "tollgate-data")]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per run of the CLI: the size of its variants does not matter"
)]
enum AdminCommand {
    /// Tenants.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// OAuth clients.
    #[command(subcommand)]
    Client(ClientCmd),
    /// Users.
    #[command(subcommand)]
    User(UserCmd),
    /// Signing keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// APIs (resource servers): the audiences of access tokens, with their scopes.
    #[command(subcommand)]
    Api(ApiCmd),
    /// Upstream identity providers (sign in with Google, GitHub, another OIDC issuer...).
    #[command(subcommand)]
    Connector(Box<ConnectorCmd>),
    /// The hosted pages' look and words: theme, templates, messages, default language.
    #[command(subcommand)]
    Branding(BrandingCmd),
    /// A tenant's own WhatsApp number (Cloud API) and its DLT registration for SMS.
    #[command(subcommand)]
    Messaging(Box<MessagingCmd>),
    /// A tenant's identity verification settings: UIDAI certificates, the oldest Aadhaar
    /// document accepted, Truecaller keys, which clients receive verification claims.
    #[command(subcommand)]
    Verification(Box<VerificationCmd>),
    /// The Data Protection Officer or contact person a tenant publishes (DPDP Rules 9, 14).
    #[command(subcommand)]
    PrivacyContact(Box<grievance_cli::PrivacyContactCmd>),
    /// Grievances users raised (DPDP Rule 14): list, show, answer, close.
    #[command(subcommand)]
    Grievance(Box<grievance_cli::GrievanceCmd>),
    /// The SAML identity provider's service providers: list, register, remove.
    #[command(subcommand)]
    SamlSp(Box<saml_cli::SamlSpCmd>),
    /// Organisations: create, rename, delete; members and invitations.
    #[command(subcommand)]
    Org(Box<org_cli::OrgCmd>),
    /// Roles and permissions: roles, tenant-wide grants, the permission catalogue.
    #[command(subcommand)]
    Role(Box<org_cli::RoleCmd>),
    /// Dormancy erasure, legal holds and audit-event retention (DPDP Rules 6 and 8).
    #[command(subcommand)]
    Retention(Box<retention_cli::RetentionCmd>),
    /// Children's accounts: adults only or verifiable parental consent (DPDP s. 9).
    #[command(subcommand)]
    Children(Box<children_cli::ChildrenCmd>),
    /// Personal data breaches (DPDP Rule 7): declare, notify, progress, Board reports.
    #[command(subcommand)]
    Breach(Box<breach_cli::BreachCmd>),
    /// SCIM provisioning tokens: create (prints the token once), list, revoke.
    #[command(subcommand)]
    ScimToken(Box<scim_cli::ScimTokenCmd>),
    /// The audit trail of a tenant, newest first.
    Events {
        /// Tenant id.
        tenant: String,
        /// Only events whose actor or subject is this user id (or `admin`).
        #[arg(long)]
        user: Option<String>,
        /// Only this kind (`login.password`), or kinds starting with it if it ends in `.`.
        #[arg(long)]
        kind: Option<String>,
        /// From this time on (RFC 3339 or milliseconds since the epoch).
        #[arg(long)]
        since: Option<String>,
        /// Before this time.
        #[arg(long)]
        until: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Every matching event as JSON Lines (for export), not one page of JSON.
        #[arg(long)]
        jsonl: bool,
    },
}

#[derive(Subcommand)]
enum TenantCmd {
    /// Create a tenant (its own issuer, keys, clients and users).
    Create {
        /// Id: lower-case letters, digits and '-'.
        id: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// RS256 (default), ES256 or EdDSA.
        #[arg(long)]
        alg: Option<String>,
        /// Residency region (one the server is configured for; default: its first).
        #[arg(long)]
        region: Option<String>,
    },
    /// List tenants.
    List,
    /// Set the tenant's multi-factor policy.
    Mfa {
        /// Tenant id.
        id: String,
        /// off, optional (users with a factor use it) or required (everyone enrols one).
        #[arg(long)]
        mode: String,
        /// Allowed factors, comma-separated: totp,passkey,email,phone,recovery_codes.
        #[arg(long, default_value = "totp,passkey,email,phone,recovery_codes")]
        factors: String,
    },
    /// Show or replace the tenant's consent purposes.
    Purposes {
        /// Tenant id.
        id: String,
        /// Replace them with this JSON list:
        /// '[{"id":"terms","description":"…","version":1,"required":true}]'.
        #[arg(long)]
        set: Option<String>,
    },
    /// Show or replace the tenant's itemised notices (DPDP Rule 3), the Data Protection
    /// Board's URL and its consent managers (Rule 4).
    Notices {
        /// Tenant id.
        id: String,
        /// Replace them with this JSON document: '{"board_url":"https://…","notices":
        /// [{"purpose":"news","texts":{"en":{"data_items":["Email address"],"purpose":"…",
        /// "service":"…"}}}],"consent_managers":["<client id>"]}'.
        #[arg(long)]
        set: Option<String>,
    },
    /// Show or replace the tenant's progressive-profiling rules.
    ProfileFields {
        /// Tenant id.
        id: String,
        /// Replace them with this JSON list:
        /// '[{"field":"given_name","required":false,"after_sign_ins":2,"scope":null}]'.
        #[arg(long)]
        set: Option<String>,
    },
    /// Move a tenant's data to another residency region (recorded in its audit trail).
    Move {
        /// Tenant id.
        id: String,
        /// Target region.
        #[arg(long)]
        region: String,
    },
    /// Show whether the tenant offers passkeys (sign-in, registration, second factor),
    /// or turn them on (the default) or off.
    Passkeys {
        /// Tenant id.
        id: String,
        /// on or off; shows the setting when left out.
        #[arg(value_parser = ["on", "off"])]
        state: Option<String>,
    },
}

#[derive(Subcommand)]
enum BrandingCmd {
    /// The tenant's branding: theme, templates, messages, default language, revision.
    Show {
        /// Tenant.
        tenant: String,
    },
    /// The templates a tenant may replace, with their shipped source and sample data.
    Templates,
    /// Replace the theme: from a JSON file (--file) and/or the options below (each
    /// overrides the file's field). What is left unset keeps the shipped look.
    SetTheme(Box<ThemeArgs>),
    /// Replace a template (see `branding templates` for the names) with a file's
    /// content ('-' reads standard input).
    SetTemplate {
        /// Tenant.
        tenant: String,
        /// Template name, e.g. login.html.
        name: String,
        /// The template file.
        file: PathBuf,
    },
    /// Go back to the shipped template.
    RemoveTemplate {
        /// Tenant.
        tenant: String,
        /// Template name.
        name: String,
    },
    /// Add or replace a language's messages with a Fluent (.ftl) file ('-' reads
    /// standard input): they replace or add to the shipped ones of that language.
    SetMessages {
        /// Tenant.
        tenant: String,
        /// Language tag (BCP 47), e.g. ta or ta-IN.
        lang: String,
        /// The Fluent file.
        file: PathBuf,
    },
    /// Remove the tenant's messages of a language (shipped ones stay).
    RemoveMessages {
        /// Tenant.
        tenant: String,
        /// Language tag.
        lang: String,
    },
    /// Set the language pages fall back to (one with a catalogue); English when left out.
    SetDefaultLanguage {
        /// Tenant.
        tenant: String,
        /// Language tag.
        lang: Option<String>,
    },
    /// Print a template rendered with its sample data, as the tenant's pages would show
    /// it (with the stored branding, or a proposed one from --branding).
    Preview {
        /// Tenant.
        tenant: String,
        /// Template name, e.g. login.html.
        template: String,
        /// Language; the tenant's default when left out.
        #[arg(long)]
        lang: Option<String>,
        /// A proposed branding (JSON, as `branding show` prints it) to preview instead.
        #[arg(long)]
        branding: Option<PathBuf>,
    },
}

#[derive(Args)]
struct ThemeArgs {
    /// Tenant.
    tenant: String,
    /// A theme as JSON (name, logo, favicon, primary, background, surface, text, font,
    /// css).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Name shown on the pages instead of the tenant's display name.
    #[arg(long)]
    name: Option<String>,
    /// Logo image file (png, jpg, webp, gif or svg; sent as a data: URI).
    #[arg(long)]
    logo: Option<PathBuf>,
    /// Favicon image file (as --logo).
    #[arg(long)]
    favicon: Option<PathBuf>,
    /// Buttons and links, #rrggbb.
    #[arg(long)]
    primary: Option<String>,
    /// Page background, #rrggbb.
    #[arg(long)]
    background: Option<String>,
    /// The card the form sits on, #rrggbb.
    #[arg(long)]
    surface: Option<String>,
    /// Body text, #rrggbb.
    #[arg(long)]
    text: Option<String>,
    /// A CSS font stack, e.g. '"Noto Sans", system-ui, sans-serif'.
    #[arg(long)]
    font: Option<String>,
    /// A CSS file appended to the stylesheet (no imports, no outside URLs).
    #[arg(long)]
    css: Option<PathBuf>,
}

#[derive(Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per run of the CLI: the size of its variants does not matter"
)]
enum ClientCmd {
    /// Register a client; a confidential client's secret is printed once.
    Create {
        /// Tenant.
        tenant: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Exact redirect URI (repeatable; needed unless the client has no
        /// authorization_code grant).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Exact post-logout redirect URI (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (no secret; PKCE only).
        #[arg(long)]
        public: bool,
        /// Skip the consent page for this client.
        #[arg(long)]
        first_party: bool,
        /// Refreshes answer without a new ID token (one signature instead of two).
        #[arg(long)]
        refresh_without_id_token: bool,
        /// Wanted client id (random otherwise).
        #[arg(long)]
        client_id: Option<String>,
        /// A grant it may use (repeatable): authorization_code, refresh_token,
        /// client_credentials, ...; the first two when none is given.
        #[arg(long = "grant-type", value_parser = parse_grant_type)]
        grant_types: Vec<GrantType>,
        /// For a client_credentials client: an API it may call and the scopes it may
        /// have there, as 'IDENTIFIER=SCOPE SCOPE...' (repeatable).
        #[arg(long = "api-grant", value_parser = parse_api_grant)]
        api_grants: Vec<(String, Vec<String>)>,
        /// How it authenticates: client_secret_basic, client_secret_post,
        /// private_key_jwt (needs --jwks-uri or --jwks-file; no secret) or none.
        #[arg(long, value_parser = parse_auth_method)]
        token_endpoint_auth_method: Option<tollgate_engine::model::EndpointAuthMethod>,
        /// Where the client publishes its public keys (JWKS), for private_key_jwt and
        /// signed request objects.
        #[arg(long)]
        jwks_uri: Option<String>,
        /// A file holding the client's public keys (a JWKS document).
        #[arg(long)]
        jwks_file: Option<std::path::PathBuf>,
        /// Its authorization requests must be pushed first (PAR, RFC 9126).
        #[arg(long)]
        require_pushed_authorization_requests: bool,
        /// Every token request must carry a DPoP proof (RFC 9449): its access tokens are
        /// always DPoP-bound.
        #[arg(long)]
        dpop_bound_access_tokens: bool,
        /// Its DPoP proofs must carry a nonce the server gave (RFC 9449 §8).
        #[arg(long)]
        dpop_nonce_required: bool,
        /// Where logout tokens are POSTed when a session it took part in ends
        /// (back-channel logout): https, or http on loopback.
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// Its logout tokens must carry the session id (`sid`).
        #[arg(long)]
        backchannel_logout_session_required: bool,
        /// A page the end of logout loads in a hidden iframe (front-channel logout).
        #[arg(long)]
        frontchannel_logout_uri: Option<String>,
        /// That page gets `iss` and `sid` in its query.
        #[arg(long)]
        frontchannel_logout_session_required: bool,
        /// `pairwise`: the client sees each user by a `sub` of its own sector (OIDC Core
        /// §8.1), not the user id; `public` (the default) otherwise.
        #[arg(long, value_parser = parse_subject_type)]
        subject_type: Option<tollgate_engine::model::SubjectType>,
        /// The sector of pairwise subjects, when the redirect URIs do not share a host.
        #[arg(long)]
        sector_identifier_uri: Option<String>,
        /// Token exchange (RFC 8693, with the token-exchange grant): an API it may get
        /// tokens for (repeatable).
        #[arg(long = "exchange-audience")]
        exchange_audiences: Vec<String>,
        /// A subject token type it may exchange (repeatable; access tokens when none):
        /// urn:ietf:params:oauth:token-type:access_token or ...:id_token.
        #[arg(long = "exchange-subject-token-type")]
        exchange_subject_token_types: Vec<String>,
        /// It may act for the subject with an actor token (delegation, `act`).
        #[arg(long)]
        exchange_delegation: bool,
    },
    /// List a tenant's clients.
    List {
        /// Tenant.
        tenant: String,
    },
    /// Issue an initial access token for dynamic client registration (RFC 7591) at the
    /// tenant's /register endpoint; printed once.
    InitialAccessToken {
        /// Tenant.
        tenant: String,
        /// Seconds it stays valid (default one day, at most 30 days).
        #[arg(long)]
        expires_in: Option<u64>,
        /// How many clients it may register (default 1).
        #[arg(long)]
        max_uses: Option<u32>,
    },
}

#[derive(Subcommand)]
enum ApiCmd {
    /// Register an API: its identifier is the `aud` of its tokens and what clients name
    /// with `resource`.
    Create {
        /// Tenant.
        tenant: String,
        /// Absolute URI without a fragment, e.g. https://api.example.com/orders.
        #[arg(long)]
        identifier: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// A scope it defines (repeatable), e.g. read:orders.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Lifetime of its access tokens in seconds (the tenant's when absent).
        #[arg(long)]
        access_token_ttl: Option<u64>,
    },
    /// List a tenant's APIs.
    List {
        /// Tenant.
        tenant: String,
    },
    /// Remove an API (tokens already issued for it run out on their own).
    Delete {
        /// Tenant.
        tenant: String,
        /// Its identifier.
        #[arg(long)]
        identifier: String,
    },
}

fn parse_grant_type(s: &str) -> Result<GrantType, String> {
    GrantType::parse(s).ok_or_else(|| {
        let all: Vec<_> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
        format!("unknown grant type {s:?}; known: {}", all.join(", "))
    })
}

fn parse_subject_type(s: &str) -> Result<tollgate_engine::model::SubjectType, String> {
    match s {
        "public" => Ok(tollgate_engine::model::SubjectType::Public),
        "pairwise" => Ok(tollgate_engine::model::SubjectType::Pairwise),
        _ => Err("expected public or pairwise".into()),
    }
}

fn parse_auth_method(s: &str) -> Result<tollgate_engine::model::EndpointAuthMethod, String> {
    tollgate_engine::model::EndpointAuthMethod::parse(s).ok_or_else(|| {
        "expected client_secret_basic, client_secret_post, private_key_jwt or none".into()
    })
}

fn parse_api_grant(s: &str) -> Result<(String, Vec<String>), String> {
    let (api, scopes) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not 'IDENTIFIER=SCOPE SCOPE...'"))?;
    let scopes = scopes.split_whitespace().map(str::to_owned).collect();
    Ok((api.trim().to_owned(), scopes))
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create a user. The password is read from TOLLGATE_USER_PASSWORD or standard input.
    Create {
        /// Tenant.
        tenant: String,
        /// Email (the login id).
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Mark the email as verified.
        #[arg(long)]
        email_verified: bool,
    },
    /// Delete an account: signs it out everywhere and makes its personal data unreadable.
    Delete {
        /// Tenant.
        tenant: String,
        /// User id (`sub`; generated ids may begin with '-').
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Export everything held about a user, as JSON.
    Export {
        /// Tenant.
        tenant: String,
        /// User id (`sub`; generated ids may begin with '-').
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Purge deleted accounts past the retention window now (also runs hourly).
    Purge,
}

#[derive(Args)]
struct ConnectorSet {
    /// Tenant.
    tenant: String,
    /// Connector id (a-z, 0-9, '-'): in URLs and in `idp_hint`.
    id: String,
    /// oidc (default), oauth2, google, microsoft, apple, github, linkedin, digilocker,
    /// truecaller.
    #[arg(long)]
    preset: Option<String>,
    /// Button text ("Continue with ...").
    #[arg(long)]
    display_name: Option<String>,
    /// Our client id at the upstream.
    #[arg(long)]
    client_id: String,
    /// File holding the client secret (or the Apple .p8 key).
    #[arg(long)]
    client_secret_file: Option<PathBuf>,
    /// OIDC issuer (discovery at {issuer}/.well-known/openid-configuration).
    #[arg(long)]
    issuer: Option<String>,
    /// Authorization endpoint (OAuth 2.0, or an OIDC override).
    #[arg(long)]
    authorization_endpoint: Option<String>,
    /// Token endpoint.
    #[arg(long)]
    token_endpoint: Option<String>,
    /// Userinfo endpoint.
    #[arg(long)]
    userinfo_endpoint: Option<String>,
    /// GitHub-shaped list of the user's email addresses.
    #[arg(long)]
    emails_endpoint: Option<String>,
    /// Scope to ask for (repeatable; default: the preset's).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Claim mapping, FIELD=CLAIM (subject, email, email_verified, name, picture,
    /// locale, groups); repeatable.
    #[arg(long = "map")]
    map: Vec<String>,
    /// Another upstream claim to keep with the link (repeatable).
    #[arg(long = "keep")]
    keep: Vec<String>,
    /// Link to an existing account when the upstream asserts the same verified email.
    #[arg(long)]
    link_by_email: bool,
    /// Keep the upstream access and refresh tokens (encrypted).
    #[arg(long)]
    store_tokens: bool,
    /// Create it disabled (no button, no sign-in).
    #[arg(long)]
    disabled: bool,
    /// client_secret_post (default) or client_secret_basic.
    #[arg(long)]
    token_auth: Option<String>,
    /// Apple team id.
    #[arg(long)]
    apple_team_id: Option<String>,
    /// Apple key id.
    #[arg(long)]
    apple_key_id: Option<String>,
}

#[derive(Subcommand)]
enum MessagingCmd {
    /// The tenant's messaging settings (secrets only as whether each is set), with its
    /// webhook URL and the body to register its authentication template with.
    Show {
        /// Tenant.
        tenant: String,
    },
    /// Set the tenant's WhatsApp Cloud API number. Secrets are read from files or from
    /// TOLLGATE_WHATSAPP_ACCESS_TOKEN, TOLLGATE_WHATSAPP_APP_SECRET and
    /// TOLLGATE_WHATSAPP_VERIFY_TOKEN, never from the command line; one left out keeps
    /// its stored value.
    Whatsapp(Box<WhatsappSet>),
    /// Set the tenant's DLT registration: every SMS text is matched against the
    /// registered wording before it is sent.
    Dlt {
        /// Tenant.
        tenant: String,
        /// Principal entity id.
        #[arg(long)]
        entity_id: String,
        /// DLT template id.
        #[arg(long)]
        template_id: String,
        /// Header (sender id), six characters.
        #[arg(long)]
        header: String,
        /// The registered wording, {#var#} for each variable.
        #[arg(long)]
        template: String,
    },
    /// Remove the tenant's WhatsApp number or its DLT registration.
    Remove {
        /// Tenant.
        tenant: String,
        /// What to remove.
        #[arg(value_parser = ["whatsapp", "dlt"])]
        what: String,
    },
}

#[derive(Args)]
struct WhatsappSet {
    /// Tenant.
    tenant: String,
    /// The business phone number id (digits, from WhatsApp Manager).
    #[arg(long)]
    phone_number_id: String,
    /// The approved authentication template's name.
    #[arg(long)]
    template: String,
    /// Its language code.
    #[arg(long, default_value = "en")]
    language: String,
    /// The button it was registered with.
    #[arg(long, value_parser = ["copy-code", "one-tap"], default_value = "copy-code")]
    button: String,
    /// For one-tap: the Android app's package name.
    #[arg(long)]
    package_name: Option<String>,
    /// For one-tap: the app's signature hash (11 characters).
    #[arg(long)]
    signature_hash: Option<String>,
    /// Graph API base URL (Meta's by default).
    #[arg(long)]
    graph_url: Option<String>,
    /// Graph API version, e.g. v21.0.
    #[arg(long)]
    api_version: Option<String>,
    /// Do not resend undelivered codes by SMS.
    #[arg(long)]
    no_fallback: bool,
    /// File holding the access token.
    #[arg(long)]
    access_token_file: Option<PathBuf>,
    /// File holding the app secret (signs status webhooks).
    #[arg(long)]
    app_secret_file: Option<PathBuf>,
    /// File holding the webhook verify token.
    #[arg(long)]
    verify_token_file: Option<PathBuf>,
}

/// The admin API request of a `messaging` command.
fn messaging_request(cmd: MessagingCmd) -> anyhow::Result<(&'static str, String, Payload)> {
    let path = |t: &str| format!("/admin/v1/tenants/{t}/messaging");
    let secret = |file: Option<PathBuf>, var: &str| -> anyhow::Result<Option<String>> {
        let v = match file {
            Some(f) => Some(
                std::fs::read_to_string(&f)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?,
            ),
            None => std::env::var(var).ok(),
        };
        Ok(v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
    };
    let input =
        |i: api::MessagingInput| -> anyhow::Result<Payload> { Ok(Payload::Json(body(&i)?)) };
    Ok(match cmd {
        MessagingCmd::Show { tenant } => ("GET", path(&tenant), Payload::None),
        MessagingCmd::Whatsapp(w) => {
            let w = *w;
            let button = match (w.button.as_str(), w.package_name, w.signature_hash) {
                ("one-tap", Some(package_name), Some(signature_hash)) => api::OtpButton::OneTap {
                    package_name,
                    signature_hash,
                },
                ("one-tap", _, _) => {
                    anyhow::bail!("--button one-tap needs --package-name and --signature-hash")
                }
                _ => api::OtpButton::CopyCode,
            };
            let wa = api::WhatsappInput {
                phone_number_id: w.phone_number_id,
                template: w.template,
                language: w.language,
                button,
                graph_url: w.graph_url,
                api_version: w.api_version,
                fallback_to_sms: Some(!w.no_fallback),
                access_token: secret(w.access_token_file, "TOLLGATE_WHATSAPP_ACCESS_TOKEN")?,
                app_secret: secret(w.app_secret_file, "TOLLGATE_WHATSAPP_APP_SECRET")?,
                verify_token: secret(w.verify_token_file, "TOLLGATE_WHATSAPP_VERIFY_TOKEN")?,
            };
            let i = api::MessagingInput {
                whatsapp: Some(Some(wa)),
                dlt: None,
            };
            ("PUT", path(&w.tenant), input(i)?)
        }
        MessagingCmd::Dlt {
            tenant,
            entity_id,
            template_id,
            header,
            template,
        } => {
            let i = api::MessagingInput {
                whatsapp: None,
                dlt: Some(Some(api::Dlt {
                    entity_id,
                    template_id,
                    header,
                    template,
                })),
            };
            ("PUT", path(&tenant), input(i)?)
        }
        MessagingCmd::Remove { tenant, what } => {
            let i = match what.as_str() {
                "whatsapp" => api::MessagingInput {
                    whatsapp: Some(None),
                    dlt: None,
                },
                _ => api::MessagingInput {
                    whatsapp: None,
                    dlt: Some(None),
                },
            };
            ("PUT", path(&tenant), input(i)?)
        }
    })
}

#[derive(Subcommand)]
enum VerificationCmd {
    /// The tenant's verification settings (certificates, ages, keys, released clients).
    Show {
        /// Tenant.
        tenant: String,
    },
    /// Change the tenant's verification settings; a setting left out stays as it is.
    /// Every value is checked by the server, which names a bad one and stores nothing.
    Set(Box<VerificationSet>),
}

#[derive(Args)]
struct VerificationSet {
    /// Tenant.
    tenant: String,
    /// A UIDAI signing certificate (PEM file); repeat for a rollover. Replaces the list.
    #[arg(long = "uidai-cert")]
    uidai_certs: Vec<PathBuf>,
    /// Remove every UIDAI certificate (Aadhaar verification then answers that it is not
    /// set up).
    #[arg(long, conflicts_with = "uidai_certs")]
    no_uidai_certs: bool,
    /// The oldest Aadhaar document accepted, in seconds since UIDAI generated it.
    #[arg(long)]
    max_document_age: Option<u64>,
    /// Keep a keyed hash of the date of birth, for a later match.
    #[arg(long, value_parser = ["on", "off"])]
    keep_dob_hash: Option<String>,
    /// Refuse documents generated outside the signing certificate's validity dates (off:
    /// pinned certificates are trusted by their key).
    #[arg(long, value_parser = ["on", "off"])]
    check_certificate_dates: Option<String>,
    /// A pinned Truecaller public key, as ID=FILE (base64 DER or PEM); repeat for
    /// several. Replaces the list.
    #[arg(long = "truecaller-key")]
    truecaller_keys: Vec<String>,
    /// Remove every Truecaller key.
    #[arg(long, conflicts_with = "truecaller_keys")]
    no_truecaller_keys: bool,
    /// The oldest Truecaller payload accepted, in seconds.
    #[arg(long)]
    truecaller_max_age: Option<u64>,
    /// The clients that receive verification claims, comma-separated ("" for none).
    #[arg(long)]
    release_clients: Option<String>,
}

/// The admin API request of a `verification` command.
fn verification_request(cmd: VerificationCmd) -> anyhow::Result<(&'static str, String, Payload)> {
    let path = |t: &str| format!("/admin/v1/tenants/{t}/verification");
    let s = match cmd {
        VerificationCmd::Show { tenant } => return Ok(("GET", path(&tenant), Payload::None)),
        VerificationCmd::Set(s) => *s,
    };
    let certificates = match (s.no_uidai_certs, s.uidai_certs.is_empty()) {
        (true, _) => Some(Vec::new()),
        (false, true) => None,
        (false, false) => Some(
            s.uidai_certs
                .iter()
                .map(|f| read_text(f))
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
    };
    let keys = match (s.no_truecaller_keys, s.truecaller_keys.is_empty()) {
        (true, _) => Some(Vec::new()),
        (false, true) => None,
        (false, false) => Some(
            s.truecaller_keys
                .iter()
                .map(|k| {
                    let (id, file) = k
                        .split_once('=')
                        .ok_or_else(|| anyhow::anyhow!("--truecaller-key is ID=FILE, not {k:?}"))?;
                    Ok(api::TruecallerKey {
                        id: id.to_owned(),
                        public_key: read_text(std::path::Path::new(file))?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
    };
    let on = |v: &Option<String>| v.as_deref().map(|v| v == "on");
    let aadhaar_given = certificates.is_some()
        || s.max_document_age.is_some()
        || s.keep_dob_hash.is_some()
        || s.check_certificate_dates.is_some();
    let aadhaar = aadhaar_given.then(|| api::AadhaarInput {
        certificates,
        max_age_secs: s.max_document_age,
        keep_dob_hash: on(&s.keep_dob_hash),
        check_certificate_dates: on(&s.check_certificate_dates),
    });
    let truecaller_given = keys.is_some() || s.truecaller_max_age.is_some();
    let truecaller = truecaller_given.then_some(api::TruecallerInput {
        keys,
        max_age_secs: s.truecaller_max_age,
    });
    let release = s.release_clients.map(|list| api::ReleaseInput {
        clients: Some(
            list.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    });
    anyhow::ensure!(
        aadhaar.is_some() || truecaller.is_some() || release.is_some(),
        "nothing to change: give --uidai-cert, --max-document-age, --keep-dob-hash, --check-certificate-dates, --truecaller-key, --truecaller-max-age or --release-clients"
    );
    let input = api::VerificationInput {
        aadhaar,
        truecaller,
        release,
    };
    Ok(("PUT", path(&s.tenant), Payload::Json(body(&input)?)))
}

#[derive(Subcommand)]
enum ConnectorCmd {
    /// Create or replace a connector. The client secret (for Apple: the .p8 private key)
    /// is read from TOLLGATE_CONNECTOR_SECRET or --client-secret-file, never from the
    /// command line; without either, an existing connector keeps its secret.
    Set(Box<ConnectorSet>),
    /// List a tenant's connectors (secrets are never shown).
    List {
        /// Tenant.
        tenant: String,
    },
    /// Show one connector, with the redirect URI to register at the upstream.
    Show {
        /// Tenant.
        tenant: String,
        /// Connector id.
        id: String,
    },
    /// Remove a connector (linked identities stay, unusable until it is added again).
    Delete {
        /// Tenant.
        tenant: String,
        /// Connector id.
        id: String,
    },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Rotate: the published next key starts signing; a new next key is published.
    Rotate {
        /// Tenant.
        tenant: String,
    },
    /// The tenant's keys (kid, algorithm, status), newest first.
    List {
        /// Tenant.
        tenant: String,
    },
    /// Withdraw a key now (it leaked): it leaves JWKS and every token it signed is refused,
    /// on every node within seconds. A signing key is replaced by the next one.
    Revoke {
        /// Tenant.
        tenant: String,
        /// The key's `kid` (see `tollgate admin key list`).
        kid: String,
    },
}

fn main() {
    tollgate_gateway::install_crypto_provider();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            config,
            listen,
            data_dir,
            public_url,
        } => serve(
            config,
            Overrides {
                listen,
                data_dir,
                public_url,
            },
        ),
        Command::Migrate { config } => migrate(config),
        Command::Admin(a) => admin(a),
        Command::GenMasterKey => {
            println!("{}", tollgate_engine::crypto::MasterKey::generate_encoded());
            Ok(())
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn serve(file: Option<PathBuf>, overrides: Overrides) -> anyhow::Result<()> {
    let config = Config::load(file.as_deref(), &overrides)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    actix_web::rt::System::new().block_on(async move {
        let running = tollgate_gateway::server::start(config.clone()).await?;
        println!("LISTEN={}", running.addr);
        println!(
            "Tollgate is listening on http://{} ({:?} mode)",
            running.addr, config.mode
        );
        if let (Some(d), Mode::Development) = (&running.demo, config.mode) {
            println!();
            println!(
                "Demo: open {}/demo in a browser and sign in with the user below.",
                running.engine.config().public_url
            );
            println!("ISSUER={}", d.issuer);
            println!("CLIENT_ID={}", d.client_id);
            println!("CLIENT_SECRET={}", d.client_secret);
            println!("REDIRECT_URI={}", d.redirect_uri);
            println!("USERNAME={}", d.username);
            println!("PASSWORD={}", d.password);
            println!("M2M_CLIENT_ID={}", d.m2m_client_id);
            println!("M2M_CLIENT_SECRET={}", d.m2m_client_secret);
            println!("M2M_RESOURCE={}", d.api);
            println!(
                "Admin API token is in {}/admin.token",
                config.data_dir.display()
            );
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        running.done.await??;
        Ok(())
    })
}

fn migrate(file: Option<PathBuf>) -> anyhow::Result<()> {
    use tollgate_gateway::config::Backend;
    let config = Config::load(file.as_deref(), &Overrides::default())?;
    config.check()?;
    anyhow::ensure!(
        config.store.backend == Backend::Scylla,
        "migrate applies the ScyllaDB schema, but store.backend is \"embedded\" (the embedded store needs no migration); set [store] backend = \"scylla\""
    );
    let scylla = config.scylla();
    actix_web::rt::System::new().block_on(async move {
        let applied = tollgate_store_scylla::migrate(&scylla)
            .await
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        if applied.is_empty() {
            println!("schema is up to date");
        }
        for name in applied {
            println!("applied {name}");
        }
        Ok(())
    })
}

fn admin(a: AdminArgs) -> anyhow::Result<()> {
    let token = match a.token {
        Some(t) => t,
        None => std::fs::read_to_string(a.data_dir.join("admin.token"))
            .map(|s| s.trim().to_owned())
            .map_err(|_| {
                anyhow::anyhow!(
                    "no admin token: pass --token or TOLLGATE_ADMIN_TOKEN (development servers keep one in {}/admin.token)",
                    a.data_dir.display()
                )
            })?,
    };
    let base = a.url.trim_end_matches('/').to_owned();
    let (method, path, body) = match a.command {
        AdminCommand::Messaging(cmd) => {
            let (method, path, payload) = messaging_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::Verification(cmd) => {
            let (method, path, payload) = verification_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::PrivacyContact(cmd) => {
            let (method, path, payload) = grievance_cli::contact_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::Grievance(cmd) => {
            let (method, path, payload) = grievance_cli::grievance_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::SamlSp(cmd) => {
            let (method, path, payload) = saml_cli::saml_sp_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::Org(cmd) => {
            let (method, path, payload) = org_cli::org_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::Role(cmd) => {
            let (method, path, payload) = org_cli::role_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::ScimToken(cmd) => {
            let (method, path, payload) = scim_cli::scim_token_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::Retention(cmd) => {
            let (method, path, payload) = retention_cli::retention_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::Children(cmd) => {
            let (method, path, payload) = children_cli::children_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::Breach(cmd) => {
            let (method, path, payload) = breach_cli::breach_request(*cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::Branding(cmd) => {
            let (method, path, payload) = branding_request(cmd)?;
            return send(&base, &token, method, &path, payload);
        }
        AdminCommand::Tenant(TenantCmd::Passkeys { id, state }) => {
            let path = format!("/admin/v1/tenants/{id}/passkeys");
            match state {
                None => ("GET", path, None),
                Some(s) => (
                    "PUT",
                    path,
                    Some(body(&api::PasskeysBody { enabled: s == "on" })?),
                ),
            }
        }
        AdminCommand::Tenant(TenantCmd::Create {
            id,
            name,
            alg,
            region,
        }) => (
            "POST",
            "/admin/v1/tenants".to_owned(),
            Some(body(&api::NewTenant {
                id,
                display_name: name,
                signing_alg: alg,
                region,
            })?),
        ),
        AdminCommand::Tenant(TenantCmd::Mfa { id, mode, factors }) => (
            "PUT",
            format!("/admin/v1/tenants/{id}/mfa"),
            Some(body(&mfa_policy(&mode, &factors)?)?),
        ),
        AdminCommand::Events {
            tenant,
            user,
            kind,
            since,
            until,
            limit,
            jsonl,
        } => {
            let q = serde_urlencoded::to_string(api::EventsQuery {
                limit: Some(limit),
                user,
                kind,
                since,
                until,
                before: None,
            })?;
            let what = if jsonl { "events/export" } else { "events" };
            (
                "GET",
                format!("/admin/v1/tenants/{tenant}/{what}?{q}"),
                None,
            )
        }
        AdminCommand::Tenant(TenantCmd::Purposes { id, set }) => {
            let path = format!("/admin/v1/tenants/{id}/purposes");
            match set {
                None => ("GET", path, None),
                Some(list) => {
                    let purposes = serde_json::from_str(&list)
                        .map_err(|e| anyhow::anyhow!("--set is not a list of purposes: {e}"))?;
                    ("PUT", path, Some(body(&api::PurposesBody { purposes })?))
                }
            }
        }
        AdminCommand::Tenant(TenantCmd::Notices { id, set }) => {
            let path = format!("/admin/v1/tenants/{id}/notices");
            match set {
                None => ("GET", path, None),
                Some(doc) => {
                    let notices: tollgate_engine::model::notice::NoticeSettings =
                        serde_json::from_str(&doc)
                            .map_err(|e| anyhow::anyhow!("--set is not a notices document: {e}"))?;
                    ("PUT", path, Some(body(&notices)?))
                }
            }
        }
        AdminCommand::Tenant(TenantCmd::ProfileFields { id, set }) => {
            let path = format!("/admin/v1/tenants/{id}/profile-fields");
            match set {
                None => ("GET", path, None),
                Some(list) => {
                    let profile_fields = serde_json::from_str(&list).map_err(|e| {
                        anyhow::anyhow!("--set is not a list of profile rules: {e}")
                    })?;
                    (
                        "PUT",
                        path,
                        Some(body(&api::ProfileFieldsBody { profile_fields })?),
                    )
                }
            }
        }
        AdminCommand::Tenant(TenantCmd::Move { id, region }) => (
            "POST",
            format!("/admin/v1/tenants/{id}/move"),
            Some(body(&api::MoveTenant { region })?),
        ),
        AdminCommand::Tenant(TenantCmd::List) => ("GET", "/admin/v1/tenants".to_owned(), None),
        AdminCommand::Client(ClientCmd::Create {
            tenant,
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            first_party,
            refresh_without_id_token,
            client_id,
            grant_types,
            api_grants,
            token_endpoint_auth_method,
            jwks_uri,
            jwks_file,
            require_pushed_authorization_requests,
            dpop_bound_access_tokens,
            dpop_nonce_required,
            backchannel_logout_uri,
            backchannel_logout_session_required,
            frontchannel_logout_uri,
            frontchannel_logout_session_required,
            subject_type,
            sector_identifier_uri,
            exchange_audiences,
            exchange_subject_token_types,
            exchange_delegation,
        }) => {
            let exchange_given = !exchange_audiences.is_empty()
                || !exchange_subject_token_types.is_empty()
                || exchange_delegation;
            let token_exchange = exchange_given.then(|| {
                let mut p = tollgate_engine::model::TokenExchangePolicy::default();
                if !exchange_subject_token_types.is_empty() {
                    p.subject_token_types = exchange_subject_token_types;
                }
                p.audiences = exchange_audiences;
                p.delegation = exchange_delegation;
                p
            });
            let jwks = match jwks_file {
                Some(f) => {
                    let text = std::fs::read_to_string(&f)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
                    Some(serde_json::from_str(&text).map_err(|e| {
                        anyhow::anyhow!("{} is not a JWKS document: {e}", f.display())
                    })?)
                }
                None => None,
            };
            (
                "POST",
                format!("/admin/v1/tenants/{tenant}/clients"),
                Some(body(&api::NewClient {
                    client_id,
                    name,
                    redirect_uris,
                    post_logout_redirect_uris,
                    public,
                    first_party,
                    refresh_without_id_token,
                    grant_types: (!grant_types.is_empty()).then_some(grant_types),
                    api_grants: api_grants.into_iter().collect(),
                    token_endpoint_auth_method,
                    jwks,
                    jwks_uri,
                    require_pushed_authorization_requests,
                    dpop_bound_access_tokens,
                    dpop_nonce_required,
                    backchannel_logout_uri,
                    backchannel_logout_session_required,
                    frontchannel_logout_uri,
                    frontchannel_logout_session_required,
                    subject_type,
                    sector_identifier_uri,
                    token_exchange,
                })?),
            )
        }
        AdminCommand::Client(ClientCmd::List { tenant }) => {
            ("GET", format!("/admin/v1/tenants/{tenant}/clients"), None)
        }
        AdminCommand::Client(ClientCmd::InitialAccessToken {
            tenant,
            expires_in,
            max_uses,
        }) => (
            "POST",
            format!("/admin/v1/tenants/{tenant}/initial-access-tokens"),
            Some(body(
                &tollgate_engine::oauth::registration::NewInitialAccessToken {
                    expires_in,
                    max_uses,
                },
            )?),
        ),
        AdminCommand::User(UserCmd::Create {
            tenant,
            email,
            name,
            email_verified,
        }) => {
            let password = match std::env::var("TOLLGATE_USER_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut s = String::new();
                    std::io::stdin().read_to_string(&mut s)?;
                    s.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            (
                "POST",
                format!("/admin/v1/tenants/{tenant}/users"),
                Some(body(&api::NewUser {
                    email,
                    password,
                    name,
                    email_verified,
                })?),
            )
        }
        AdminCommand::User(UserCmd::Delete { tenant, user }) => (
            "DELETE",
            format!("/admin/v1/tenants/{tenant}/users/{user}"),
            None,
        ),
        AdminCommand::User(UserCmd::Export { tenant, user }) => (
            "GET",
            format!("/admin/v1/tenants/{tenant}/users/{user}/export"),
            None,
        ),
        AdminCommand::User(UserCmd::Purge) => ("POST", "/admin/v1/purge".to_owned(), None),
        AdminCommand::Connector(cmd) => connector_request(*cmd)?,
        AdminCommand::Key(KeyCmd::Rotate { tenant }) => (
            "POST",
            format!("/admin/v1/tenants/{tenant}/keys/rotate"),
            None,
        ),
        AdminCommand::Key(KeyCmd::List { tenant }) => {
            ("GET", format!("/admin/v1/tenants/{tenant}/keys"), None)
        }
        AdminCommand::Key(KeyCmd::Revoke { tenant, kid }) => (
            "POST",
            format!("/admin/v1/tenants/{tenant}/keys/{kid}/revoke"),
            None,
        ),
        AdminCommand::Api(ApiCmd::Create {
            tenant,
            identifier,
            name,
            scopes,
            access_token_ttl,
        }) => (
            "POST",
            format!("/admin/v1/tenants/{tenant}/apis"),
            Some(body(&api::NewApi {
                identifier,
                name,
                scopes,
                access_token_ttl,
            })?),
        ),
        AdminCommand::Api(ApiCmd::List { tenant }) => {
            ("GET", format!("/admin/v1/tenants/{tenant}/apis"), None)
        }
        AdminCommand::Api(ApiCmd::Delete { tenant, identifier }) => (
            "DELETE",
            format!(
                "/admin/v1/tenants/{tenant}/apis?{}",
                serde_urlencoded::to_string([("identifier", identifier.as_str())])?
            ),
            None,
        ),
    };
    send(
        &base,
        &token,
        method,
        &path,
        body.map_or(Payload::None, Payload::Json),
    )
}

/// What an admin request carries.
enum Payload {
    None,
    Json(serde_json::Value),
    /// A template or a Fluent catalogue, as it is.
    Text(String),
}

/// Sends one admin API request and prints the answer: JSON pretty-printed, other text
/// (JSON Lines, a preview's HTML) as it is, `done` for no content; an error answer
/// becomes the command's error.
fn send(base: &str, token: &str, method: &str, path: &str, payload: Payload) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let client = reqwest::Client::new();
        let url = format!("{base}{path}");
        let mut req = match method {
            "POST" => client.post(&url),
            "PUT" => client.put(&url),
            "PATCH" => client.patch(&url),
            "DELETE" => client.delete(&url),
            _ => client.get(&url),
        }
        .bearer_auth(token);
        match payload {
            Payload::None => {}
            Payload::Json(b) => req = req.json(&b),
            Payload::Text(t) => {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
                    .body(t)
            }
        }
        let resp = req
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {base}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        // JSON Lines stay as they are; JSON is pretty-printed.
        let pretty = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .filter(|_| !path.contains("/events/export"))
            .and_then(|v| serde_json::to_string_pretty(&v).ok());
        if status == reqwest::StatusCode::NO_CONTENT {
            println!("done");
            Ok(())
        } else if status.is_success() {
            println!("{}", pretty.unwrap_or(text));
            Ok(())
        } else {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            anyhow::bail!(
                "{} ({}): {}",
                v["error"].as_str().unwrap_or("request failed"),
                status.as_u16(),
                v["error_description"].as_str().unwrap_or(&text)
            )
        }
    })
}

/// The admin API request of a `branding` command.
fn branding_request(cmd: BrandingCmd) -> anyhow::Result<(&'static str, String, Payload)> {
    let tenant_path = |t: &str, rest: &str| format!("/admin/v1/tenants/{t}/branding{rest}");
    Ok(match cmd {
        BrandingCmd::Show { tenant } => ("GET", tenant_path(&tenant, ""), Payload::None),
        BrandingCmd::Templates => ("GET", "/admin/v1/templates".to_owned(), Payload::None),
        BrandingCmd::SetTheme(args) => {
            let tenant = args.tenant.clone();
            let theme = theme_from(*args)?;
            (
                "PUT",
                tenant_path(&tenant, "/theme"),
                Payload::Json(body(&theme)?),
            )
        }
        BrandingCmd::SetTemplate { tenant, name, file } => (
            "PUT",
            tenant_path(&tenant, &format!("/templates/{}", segment(&name))),
            Payload::Text(read_text(&file)?),
        ),
        BrandingCmd::RemoveTemplate { tenant, name } => (
            "DELETE",
            tenant_path(&tenant, &format!("/templates/{}", segment(&name))),
            Payload::None,
        ),
        BrandingCmd::SetMessages { tenant, lang, file } => (
            "PUT",
            tenant_path(&tenant, &format!("/messages/{}", segment(&lang))),
            Payload::Text(read_text(&file)?),
        ),
        BrandingCmd::RemoveMessages { tenant, lang } => (
            "DELETE",
            tenant_path(&tenant, &format!("/messages/{}", segment(&lang))),
            Payload::None,
        ),
        BrandingCmd::SetDefaultLanguage { tenant, lang } => (
            "PUT",
            tenant_path(&tenant, "/default-language"),
            Payload::Json(body(&api::DefaultLanguageBody {
                default_language: lang,
            })?),
        ),
        BrandingCmd::Preview {
            tenant,
            template,
            lang,
            branding,
        } => {
            let branding = match branding {
                Some(f) => Some(serde_json::from_str(&read_text(&f)?).map_err(|e| {
                    anyhow::anyhow!("{} is not a branding (JSON): {e}", f.display())
                })?),
                None => None,
            };
            (
                "POST",
                tenant_path(&tenant, "/preview"),
                Payload::Json(body(&api::PreviewRequest {
                    template,
                    lang,
                    branding,
                })?),
            )
        }
    })
}

/// One path segment, percent-encoded (a template name or language tag as typed).
fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A text file, or standard input for `-`.
fn read_text(file: &std::path::Path) -> anyhow::Result<String> {
    if file.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        return Ok(s);
    }
    std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))
}

/// An image file as the `data:` URI a theme carries.
fn data_uri(file: &std::path::Path) -> anyhow::Result<String> {
    use base64::Engine as _;
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let kind = match ext.as_str() {
        "png" => "png",
        "jpg" | "jpeg" => "jpeg",
        "webp" => "webp",
        "gif" => "gif",
        "svg" => "svg+xml",
        _ => anyhow::bail!(
            "{}: a logo or favicon is a .png, .jpg, .webp, .gif or .svg file",
            file.display()
        ),
    };
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    Ok(format!(
        "data:image/{kind};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// The theme of `branding set-theme`: the file's, then each option given.
fn theme_from(a: ThemeArgs) -> anyhow::Result<api::Theme> {
    let mut theme: api::Theme = match &a.file {
        Some(f) => serde_json::from_str(&read_text(f)?)
            .map_err(|e| anyhow::anyhow!("{} is not a theme (JSON): {e}", f.display()))?,
        None => api::Theme::default(),
    };
    let set = |field: &mut Option<String>, v: Option<String>| {
        if v.is_some() {
            *field = v;
        }
    };
    set(&mut theme.name, a.name);
    set(&mut theme.primary, a.primary);
    set(&mut theme.background, a.background);
    set(&mut theme.surface, a.surface);
    set(&mut theme.text, a.text);
    set(&mut theme.font, a.font);
    set(
        &mut theme.logo,
        a.logo.as_deref().map(data_uri).transpose()?,
    );
    set(
        &mut theme.favicon,
        a.favicon.as_deref().map(data_uri).transpose()?,
    );
    set(&mut theme.css, a.css.as_deref().map(read_text).transpose()?);
    Ok(theme)
}

/// The admin API request of a `connector` command.
fn connector_request(
    cmd: ConnectorCmd,
) -> anyhow::Result<(&'static str, String, Option<serde_json::Value>)> {
    Ok(match cmd {
        ConnectorCmd::List { tenant } => (
            "GET",
            format!("/admin/v1/tenants/{tenant}/connectors"),
            None,
        ),
        ConnectorCmd::Show { tenant, id } => (
            "GET",
            format!("/admin/v1/tenants/{tenant}/connectors/{id}"),
            None,
        ),
        ConnectorCmd::Delete { tenant, id } => (
            "DELETE",
            format!("/admin/v1/tenants/{tenant}/connectors/{id}"),
            None,
        ),
        ConnectorCmd::Set(set) => {
            let ConnectorSet {
                tenant,
                id,
                preset,
                display_name,
                client_id,
                client_secret_file,
                issuer,
                authorization_endpoint,
                token_endpoint,
                userinfo_endpoint,
                emails_endpoint,
                scopes,
                map,
                keep,
                link_by_email,
                store_tokens,
                disabled,
                token_auth,
                apple_team_id,
                apple_key_id,
            } = *set;
            let secret = match client_secret_file {
                Some(f) => Some(std::fs::read_to_string(&f).map_err(|e| {
                    anyhow::anyhow!("cannot read the client secret from {}: {e}", f.display())
                })?),
                None => std::env::var("TOLLGATE_CONNECTOR_SECRET").ok(),
            }
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
            let mut mapping = MappingInput::default();
            for m in map {
                let (k, v) = m.split_once('=').ok_or_else(|| {
                    anyhow::anyhow!("--map takes FIELD=CLAIM (for example email=mail), not {m:?}")
                })?;
                let v = Some(v.trim().to_owned());
                match k.trim() {
                    "subject" => mapping.subject = v,
                    "email" => mapping.email = v,
                    "email_verified" => mapping.email_verified = v,
                    "name" => mapping.name = v,
                    "picture" => mapping.picture = v,
                    "locale" => mapping.locale = v,
                    "groups" => mapping.groups = v,
                    other => anyhow::bail!(
                        "--map {other:?}: the fields are subject, email, email_verified, name, picture, locale, groups"
                    ),
                }
            }
            if !keep.is_empty() {
                mapping.keep = Some(keep);
            }
            let token_auth = token_auth
                .map(|t| {
                    serde_json::from_value(serde_json::Value::String(t.clone())).map_err(|_| {
                        anyhow::anyhow!(
                            "--token-auth {t:?}: client_secret_basic or client_secret_post"
                        )
                    })
                })
                .transpose()?;
            let input = api::ConnectorInput {
                preset,
                display_name,
                enabled: Some(!disabled),
                client_id,
                client_secret: secret,
                issuer,
                authorization_endpoint,
                token_endpoint,
                userinfo_endpoint,
                emails_endpoint,
                scopes: (!scopes.is_empty()).then_some(scopes),
                mapping: (mapping_given(&mapping)).then_some(mapping),
                link_by_email: Some(link_by_email),
                store_tokens: Some(store_tokens),
                token_auth,
                apple_team_id,
                apple_key_id,
            };
            (
                "PUT",
                format!("/admin/v1/tenants/{tenant}/connectors/{id}"),
                Some(body(&input)?),
            )
        }
    })
}

/// A request body, as the admin API's shared types encode it.
fn body<T: serde::Serialize>(v: &T) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(v)?)
}

/// The MFA policy of `tenant mfa`: the mode, and the factors comma-separated.
fn mfa_policy(mode: &str, factors: &str) -> anyhow::Result<api::MfaPolicy> {
    let factors: Vec<&str> = factors
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    serde_json::from_value(serde_json::json!({ "mode": mode, "factors": factors })).map_err(|e| {
        anyhow::anyhow!(
            "--mode is off, optional or required; --factors are among totp, passkey, email, phone, recovery_codes ({e})"
        )
    })
}

/// Whether any mapping change was given.
fn mapping_given(m: &MappingInput) -> bool {
    m.subject.is_some()
        || m.email.is_some()
        || m.email_verified.is_some()
        || m.name.is_some()
        || m.picture.is_some()
        || m.locale.is_some()
        || m.groups.is_some()
        || m.keep.is_some()
}
