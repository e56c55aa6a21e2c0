//! Fuzz targets for what the engine parses from untrusted bytes (the harness is
//! `tollgate-fuzzkit`; seeds in `tests/corpus/<target>/`; `TOLLGATE_FUZZ_SECS` for a
//! longer run):
//!
//! - `own_jwt`: our own JWS/JWT, through `KeyRing::verify` (access tokens, ID tokens as
//!   `id_token_hint`);
//! - `upstream_id_token`: an upstream's ID token, through `validate_id_token`;
//! - `upstream_jwks`: an upstream's JWKS document, through the same;
//! - `upstream_json`: everything an upstream answers (discovery, token, JWKS, userinfo,
//!   emails), through `redeem_upstream` on a running engine;
//! - `authorize_query`: an authorization request's parameters (each at most once), and
//!   the sealed `tx` that carries a validated one.
//!
//! Token inputs are templates, so that mutations reach past the signature check: three
//! lines (header, claims, signature), a JSON line is base64url-encoded after its
//! placeholders (`$KID0`, `$ISS`, …) are filled, and a signature line `$SIG0` … `$SIG2` is
//! replaced by a real signature of key 0 … 2. Any other input is the token as it is.
//! Each target checks what a verifier promises: what it accepts was signed by the key it
//! names, with the algorithm of that key, and carries exactly the claims returned; and
//! well-formed, correctly signed tokens are accepted.

use async_trait::async_trait;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tollgate_engine::admin::NewClient;
use tollgate_engine::clock::ManualClock;
use tollgate_engine::crypto::{MasterKey, b64, b64_decode};
use tollgate_engine::federation::{IdTokenExpectations, check_upstream_url, validate_id_token};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::federation::{ClaimMapping, Connector, Protocol, TokenAuth};
use tollgate_engine::model::{KeyStatus, SigningAlg, StoredKey, Tenant};
use tollgate_engine::oauth::authorize::{AuthorizeError, MAX_PARAM_LEN};
use tollgate_engine::oauth::discovery::SCOPES;
use tollgate_engine::runtime::keys::{KeyRing, generate, jwk_thumbprint};
use tollgate_engine::runtime::outbound::UpstreamHttp;
use tollgate_engine::store::Store;
use tollgate_engine::{Engine, EngineConfig, EngineMetrics, OAuthErrorCode};
use tollgate_fuzzkit::Fuzz;
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};

const NOW: u64 = 1_700_000_000;
const ISSUER: &str = "https://id.example.com/acme";
const UPSTREAM: &str = "https://upstream.example";
const MS_TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
const CLIENT: &str = "tollgate-rp";
const NONCE: &str = "n-0S6_WzA2Mj";

const JWT_WORDS: &[&str] = &[
    "$KID0",
    "$KID1",
    "$KID2",
    "$SIG0",
    "$SIG1",
    "$SIG2",
    "$ISS",
    "$AUD",
    "$NONCE",
    "$NOW",
    "$EXP",
    "\"alg\"",
    "\"kid\"",
    "\"typ\"",
    "\"crit\"",
    "\"jwk\"",
    "\"jku\"",
    "RS256",
    "RS384",
    "PS256",
    "ES256",
    "ES384",
    "EdDSA",
    "HS256",
    "none",
    "\"iss\"",
    "\"aud\"",
    "\"azp\"",
    "\"exp\"",
    "\"iat\"",
    "\"nbf\"",
    "\"nonce\"",
    "\"sub\"",
    "\"tid\"",
    "at+jwt",
    "\n",
];

/// A private key of the test, to sign whatever bytes a template asks for.
struct TestKey {
    stored: StoredKey,
    pkcs8: Vec<u8>,
}

impl TestKey {
    fn new(tenant: &TenantId, alg: SigningAlg, status: KeyStatus, master: &MasterKey) -> Self {
        let stored = generate(tenant, alg, status, NOW, master).unwrap();
        let aad = format!("tollgate-key/{tenant}/{}", stored.kid);
        let pkcs8 = master
            .open(aad.as_bytes(), &b64_decode(&stored.sealed_private).unwrap())
            .unwrap();
        Self { stored, pkcs8 }
    }

    fn kid(&self) -> &str {
        self.stored.kid.as_str()
    }

    fn alg(&self) -> &'static str {
        self.stored.alg.as_str()
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self.stored.alg {
            SigningAlg::RS256 => {
                let kp = RsaKeyPair::from_pkcs8(&self.pkcs8).unwrap();
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig).unwrap();
                sig
            }
            SigningAlg::ES256 => {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.pkcs8)
                    .unwrap()
                    .sign(&rng, message)
                    .unwrap()
                    .as_ref()
                    .to_vec()
            }
            SigningAlg::EdDSA => Ed25519KeyPair::from_pkcs8(&self.pkcs8)
                .unwrap()
                .sign(message)
                .as_ref()
                .to_vec(),
        }
    }

    /// The public key material a JWKS must hold for this key to verify.
    fn material(&self) -> Vec<String> {
        let j = &self.stored.public_jwk;
        ["n", "x", "y"]
            .iter()
            .filter_map(|k| j[*k].as_str().map(str::to_owned))
            .collect()
    }
}

/// One key of each algorithm.
fn keys(tenant: &str, master: &MasterKey) -> Vec<TestKey> {
    let t = TenantId::parse(tenant).unwrap();
    vec![
        TestKey::new(&t, SigningAlg::RS256, KeyStatus::Active, master),
        TestKey::new(&t, SigningAlg::ES256, KeyStatus::Next, master),
        TestKey::new(&t, SigningAlg::EdDSA, KeyStatus::Next, master),
    ]
}

/// A token built from an input.
struct Built {
    token: String,
    /// Which key signed it, when the template asked for a real signature.
    signed_by: Option<usize>,
}

/// Fills `$KIDn` and the given placeholders.
fn fill(text: &str, keys: &[TestKey], vars: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (i, k) in keys.iter().enumerate() {
        out = out.replace(&format!("$KID{i}"), k.kid());
    }
    for (name, value) in vars {
        out = out.replace(name, value);
    }
    out
}

/// The token an input stands for (see the module comment).
fn build(input: &[u8], keys: &[TestKey], vars: &[(&str, &str)]) -> Built {
    let text = String::from_utf8_lossy(input);
    let lines: Vec<&str> = text.split('\n').collect();
    let [header, claims, sig] = lines[..] else {
        return Built {
            token: text.into_owned(),
            signed_by: None,
        };
    };
    let part = |line: &str| {
        if line.starts_with('{') {
            b64(fill(line, keys, vars).as_bytes())
        } else {
            line.to_owned()
        }
    };
    let signing_input = format!("{}.{}", part(header), part(claims));
    let signer = sig
        .strip_prefix("$SIG")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n < keys.len());
    let sig = match signer {
        Some(n) => b64(&keys[n].sign(signing_input.as_bytes())),
        None => sig.to_owned(),
    };
    Built {
        token: format!("{signing_input}.{sig}"),
        signed_by: signer,
    }
}

/// A compact JWS's header and claims as the bytes say (no verification): each as JSON
/// and as its text.
struct Seen {
    header: Value,
    header_text: String,
    claims: Value,
    claims_text: String,
}

fn segments(token: &str) -> Option<Seen> {
    let mut parts = token.split('.');
    let (h, c) = (parts.next()?, parts.next()?);
    parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let header_text = String::from_utf8(b64_decode(h)?).ok()?;
    let claims_text = String::from_utf8(b64_decode(c)?).ok()?;
    Some(Seen {
        header: serde_json::from_str(&header_text).ok()?,
        claims: serde_json::from_str(&claims_text).ok()?,
        header_text,
        claims_text,
    })
}

/// A header as our signers write it: compact JSON, each member once, with `alg`, `kid`
/// (unless `kid_optional` and absent) and a string `typ`, nothing else.
fn plain_header(seen: &Seen, key: &TestKey, kid_optional: bool) -> bool {
    let Some(o) = seen.header.as_object() else {
        return false;
    };
    canonical(&seen.header, &seen.header_text)
        && o.keys()
            .all(|k| ["alg", "kid", "typ"].contains(&k.as_str()))
        && o.get("alg").and_then(Value::as_str) == Some(key.alg())
        && match o.get("kid") {
            Some(k) => k.as_str() == Some(key.kid()),
            None => kid_optional,
        }
        && o.get("typ").is_none_or(Value::is_string)
}

/// Whether a JSON object was written compactly, each member once, keys in order.
fn canonical(claims: &Value, text: &str) -> bool {
    claims.is_object() && serde_json::to_string(claims).is_ok_and(|t| t == text)
}

#[test]
fn own_jwt() {
    let master = MasterKey::from_bytes([3; 32]);
    let keys = keys("acme", &master);
    let tenant = Tenant::new(TenantId::parse("acme").unwrap(), "Acme".into(), NOW);
    let stored: Vec<StoredKey> = keys.iter().map(|k| k.stored.clone()).collect();
    let ring = KeyRing::build(&tenant, &stored, &master, NOW).unwrap();
    let vars = [("$ISS", ISSUER)];
    let mut accepted = 0;
    Fuzz::new(env!("CARGO_MANIFEST_DIR"), "own_jwt")
        .dictionary(JWT_WORDS)
        .run(|input| {
            let b = build(input, &keys, &vars);
            let verified = ring.verify::<Value>(&b.token, ISSUER);
            let seen = segments(&b.token);
            if let Some((claims, typ)) = &verified {
                accepted += 1;
                let n = b.signed_by.expect("a token nobody signed verified");
                let seen = seen.as_ref().expect("a verified token parses");
                let (header, payload) = (&seen.header, &seen.claims);
                assert_eq!(
                    header["alg"],
                    keys[n].alg(),
                    "signed by one key, verified as another"
                );
                assert_eq!(header["kid"], keys[n].kid(), "another key's kid verified");
                assert_eq!(claims, payload, "the claims returned are the ones signed");
                // jsonwebtoken reads an array `iss` as "one of these" (we never sign one).
                let iss = &claims["iss"];
                assert!(
                    iss == ISSUER || iss.as_array().is_some_and(|a| a.contains(&json!(ISSUER))),
                    "verified with iss {iss}"
                );
                assert_eq!(typ.as_deref(), header["typ"].as_str());
            }
            if let (Some(n), Some(seen)) = (b.signed_by, &seen)
                && plain_header(seen, &keys[n], false)
                && canonical(&seen.claims, &seen.claims_text)
                && seen.claims["iss"] == ISSUER
            {
                assert!(
                    verified.is_some(),
                    "a well-formed token of ours was refused"
                );
                assert!(
                    ring.verify::<Value>(&b.token, "https://other.example/acme")
                        .is_none(),
                    "verified for another issuer"
                );
            }
        });
    assert!(
        accepted > 0,
        "no input verified: the target does not reach the claims"
    );
}

/// The upstream's JWKS as it publishes it.
fn jwks(keys: &[TestKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.stored.public_jwk.clone()).collect::<Vec<_>>()})
}

/// What an upstream ID token must show, for a plain issuer and for Microsoft's template.
fn expectations() -> [IdTokenExpectations<'static>; 2] {
    [UPSTREAM, MS_TEMPLATE].map(|issuer| IdTokenExpectations {
        issuer,
        client_id: CLIENT,
        nonce: NONCE,
        now: NOW,
    })
}

/// Whether validated claims meet OIDC Core §3.1.3.7 for `expect` (60 s of leeway).
fn meets(claims: &Value, expect: &IdTokenExpectations<'_>) -> bool {
    let issuer = match claims["tid"].as_str() {
        Some(tid) if expect.issuer.contains("{tenantid}") => {
            expect.issuer.replace("{tenantid}", tid)
        }
        _ => expect.issuer.to_owned(),
    };
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a == expect.client_id,
        Value::Array(a) => a.iter().any(|x| x == expect.client_id),
        _ => false,
    };
    claims["iss"].as_str() == Some(issuer.as_str())
        && aud_ok
        && claims["azp"].as_str().is_none_or(|a| a == expect.client_id)
        && claims["exp"]
            .as_u64()
            .is_some_and(|e| e.saturating_add(60) > expect.now)
        && claims["iat"].as_u64().is_none_or(|i| i <= expect.now + 60)
        && claims["nonce"].as_str() == Some(expect.nonce)
}

#[test]
fn upstream_id_token() {
    let master = MasterKey::from_bytes([4; 32]);
    let keys = keys("upstream", &master);
    let doc = jwks(&keys);
    let (now, exp) = (NOW.to_string(), (NOW + 300).to_string());
    let vars = [
        ("$ISS", UPSTREAM),
        ("$AUD", CLIENT),
        ("$NONCE", NONCE),
        ("$NOW", now.as_str()),
        ("$EXP", exp.as_str()),
    ];
    let mut accepted = 0;
    Fuzz::new(env!("CARGO_MANIFEST_DIR"), "upstream_id_token")
        .dictionary(JWT_WORDS)
        .dictionary(["login.microsoftonline.com", "{tenantid}", "/v2.0"])
        .run(|input| {
            let b = build(input, &keys, &vars);
            let seen = segments(&b.token);
            for expect in &expectations() {
                let result = validate_id_token(&b.token, &doc, expect);
                if let Ok(claims) = &result {
                    accepted += 1;
                    let n = b.signed_by.expect("a token nobody signed was accepted");
                    let seen = seen.as_ref().expect("an accepted token parses");
                    let (header, payload) = (&seen.header, &seen.claims);
                    assert_eq!(
                        header["alg"],
                        keys[n].alg(),
                        "accepted under another algorithm"
                    );
                    assert!(header.get("kid").is_none() || header["kid"] == keys[n].kid());
                    assert_eq!(claims, payload);
                    assert!(
                        meets(claims, expect),
                        "accepted claims {claims} for {expect:?}"
                    );
                }
                if let (Some(n), Some(seen)) = (b.signed_by, &seen)
                    && plain_header(seen, &keys[n], true)
                    && canonical(&seen.claims, &seen.claims_text)
                    && meets(&seen.claims, expect)
                {
                    assert_eq!(
                        result.as_ref().err(),
                        None,
                        "a valid ID token was refused for {expect:?}"
                    );
                }
            }
        });
    assert!(
        accepted > 0,
        "no ID token was accepted: the target does not reach the claims"
    );
}

#[test]
fn upstream_jwks() {
    let master = MasterKey::from_bytes([5; 32]);
    let keys = keys("upstream", &master);
    let claims = json!({
        "iss": UPSTREAM, "aud": CLIENT, "sub": "248289761001", "nonce": NONCE,
        "exp": NOW + 300, "iat": NOW,
    });
    let sign = |k: &TestKey, with_kid: bool| {
        let mut header = json!({"alg": k.alg(), "typ": "JWT"});
        if with_kid {
            header["kid"] = json!(k.kid());
        }
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = b64(&k.sign(input.as_bytes()));
        format!("{input}.{sig}")
    };
    // Each key's token names it; one more names none (the only key of its algorithm).
    let tokens: Vec<(usize, String)> = (0..keys.len())
        .map(|n| (n, sign(&keys[n], true)))
        .chain([(0, sign(&keys[0], false))])
        .collect();
    let real = jwks(&keys);
    let mut vars: Vec<(String, String)> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let j = &k.stored.public_jwk;
        vars.push((format!("$JWK{i}"), j.to_string()));
        for m in ["n", "e", "x", "y"] {
            if let Some(v) = j[m].as_str() {
                vars.push((format!("${}{i}", m.to_uppercase()), v.to_owned()));
            }
        }
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let expect = &expectations()[0];
    let mut accepted = 0;
    Fuzz::new(env!("CARGO_MANIFEST_DIR"), "upstream_jwks")
        .dictionary(["$JWK0", "$JWK1", "$JWK2", "$N0", "$E0", "$X1", "$Y1", "$X2"])
        .dictionary([
            "$KID0", "$KID1", "$KID2", "\"kty\"", "\"use\"", "\"enc\"", "\"sig\"",
        ])
        .dictionary([
            "\"RSA\"",
            "\"EC\"",
            "\"OKP\"",
            "\"P-256\"",
            "\"Ed25519\"",
            "\"oct\"",
        ])
        .run(|input| {
            let text = fill(&String::from_utf8_lossy(input), &keys, &vars);
            let Ok(doc) = serde_json::from_str::<Value>(&text) else {
                return;
            };
            for k in doc["keys"].as_array().into_iter().flatten() {
                assert_eq!(jwk_thumbprint(k).len(), 43);
            }
            for (n, token) in &tokens {
                match validate_id_token(token, &doc, expect) {
                    Ok(got) => {
                        accepted += 1;
                        assert_eq!(got, claims);
                        for m in keys[*n].material() {
                            assert!(text.contains(&m), "verified without key {n}'s {m}");
                        }
                    }
                    Err(e) => assert!(doc != real, "refused with the real JWKS: {e:?}"),
                }
            }
        });
    assert!(accepted > 0, "no JWKS verified a token");
}

// ---- On a running engine --------------------------------------------------------------

fn engine(dir: &std::path::Path, clock: ManualClock) -> Engine {
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(dir, EmbeddedOptions::default(), None).unwrap());
    let mut config = EngineConfig::new("https://id.example.com");
    config.arbiters = 1;
    config.passwords.threads = 1;
    Engine::start(
        store,
        Arc::new(clock),
        MasterKey::from_bytes([9; 32]),
        config,
        EngineMetrics::register(&prometheus::Registry::new()),
    )
    .unwrap()
}

/// An upstream that answers whatever the current input says, and remembers each URL
/// it was asked for.
#[derive(Default)]
struct ScriptedUpstream {
    answers: Mutex<Vec<(&'static str, Result<Value, String>)>>,
    called: Mutex<Vec<String>>,
}

impl ScriptedUpstream {
    fn answer(&self, what: &str) -> Result<Value, String> {
        self.answers
            .lock()
            .unwrap()
            .iter()
            .find(|(k, _)| *k == what)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| Err("status 404".into()))
    }
}

#[async_trait]
impl UpstreamHttp for ScriptedUpstream {
    async fn get_json(&self, url: &str, _bearer: Option<&str>) -> Result<Value, String> {
        self.called.lock().unwrap().push(url.to_owned());
        let what = if url.ends_with("/.well-known/openid-configuration") {
            "discovery"
        } else if url.contains("jwks") || url.ends_with("/keys") {
            "jwks"
        } else if url.contains("emails") {
            "emails"
        } else {
            "userinfo"
        };
        self.answer(what)
    }

    async fn post_form(
        &self,
        url: &str,
        _basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Result<Value, String> {
        self.called.lock().unwrap().push(url.to_owned());
        assert!(form.contains(&("grant_type", "authorization_code")));
        self.answer("token")
    }
}

fn connector(tenant: &TenantId, protocol: Protocol, host: &str) -> Connector {
    let oauth2 = protocol == Protocol::Oauth2;
    Connector {
        tenant: tenant.clone(),
        id: if oauth2 { "github" } else { "idp" }.into(),
        display_name: "Upstream".into(),
        preset: if oauth2 { "oauth2" } else { "oidc" }.into(),
        protocol,
        enabled: true,
        client_id: CLIENT.into(),
        sealed_secret: None,
        issuer: (!oauth2).then(|| format!("https://{host}")),
        authorization_endpoint: oauth2.then(|| format!("https://{host}/login/oauth/authorize")),
        token_endpoint: oauth2.then(|| format!("https://{host}/login/oauth/access_token")),
        userinfo_endpoint: oauth2.then(|| format!("https://api.{host}/user")),
        emails_endpoint: oauth2.then(|| format!("https://api.{host}/user/emails")),
        scopes: vec!["openid".into(), "email".into()],
        mapping: if oauth2 {
            ClaimMapping {
                subject: "id".into(),
                email_verified: None,
                picture: Some("avatar_url".into()),
                ..ClaimMapping::default()
            }
        } else {
            ClaimMapping::default()
        },
        link_by_email: false,
        store_tokens: false,
        token_auth: TokenAuth::ClientSecretPost,
        response_mode: None,
        apple: None,
        created_at: NOW,
        updated_at: NOW,
    }
}

/// What an upstream answered, section by section: discovery, token, JWKS, userinfo,
/// emails, separated by a line `---`. An empty section is an HTTP error; one that is
/// not JSON is what the real client reports for it.
fn script(text: &str) -> Vec<(&'static str, Result<Value, String>)> {
    ["discovery", "token", "jwks", "userinfo", "emails"]
        .into_iter()
        .zip(text.split("\n---\n").map(str::trim))
        .map(|(what, section)| {
            let v = if section.is_empty() {
                Err("status 500".to_owned())
            } else {
                serde_json::from_str(section).map_err(|_| "answer is not JSON".to_owned())
            };
            (what, v)
        })
        .collect()
}

#[test]
fn upstream_json() {
    let dir = tempfile::tempdir().unwrap();
    let master = MasterKey::from_bytes([6; 32]);
    let upstream_key = keys("upstream", &master).swap_remove(1);
    actix::System::new().block_on(async {
        let e = engine(dir.path(), ManualClock::new(NOW));
        e.admin()
            .create_tenant("acme", "Acme", SigningAlg::EdDSA)
            .await
            .unwrap();
        let t = TenantId::parse("acme").unwrap();
        let http = Arc::new(ScriptedUpstream::default());
        e.set_upstream_http(http.clone());
        let mut round = 0u64;
        let jwk = upstream_key.stored.public_jwk.to_string();
        let counts = [std::cell::Cell::new(0), std::cell::Cell::new(0)];
        let redeemed = &counts;
        Fuzz::new(env!("CARGO_MANIFEST_DIR"), "upstream_json")
            .dictionary([
                "$ISSUER",
                "$ID_TOKEN",
                "$JWK",
                "\n---\n",
                "\"sub\"",
                "\"id\"",
            ])
            .dictionary([
                "\"email\"",
                "\"email_verified\"",
                "\"primary\"",
                "\"verified\"",
            ])
            .dictionary([
                "\"access_token\"",
                "\"id_token\"",
                "\"jwks_uri\"",
                "\"issuer\"",
            ])
            .dictionary([
                "\"token_endpoint\"",
                "\"userinfo_endpoint\"",
                "http://",
                "file:",
            ])
            .max_len(8192)
            .run_async(|input| {
                round += 1;
                // A new upstream each round: the engine keeps discovery and JWKS by URL.
                let host = format!("idp{round}.example");
                let issuer = format!("https://{host}");
                let id_token = {
                    let header = json!({"alg": "ES256", "kid": upstream_key.kid(), "typ": "JWT"});
                    let claims = json!({
                        "iss": issuer, "aud": CLIENT, "sub": "upstream-1", "nonce": NONCE,
                        "exp": NOW + 300, "iat": NOW, "email": "ada@upstream.example",
                        "email_verified": true, "name": "Ada",
                    });
                    let input = format!(
                        "{}.{}",
                        b64(header.to_string().as_bytes()),
                        b64(claims.to_string().as_bytes())
                    );
                    format!("{input}.{}", b64(&upstream_key.sign(input.as_bytes())))
                };
                let text = String::from_utf8_lossy(&input)
                    .replace("$ISSUER", &issuer)
                    .replace("$ID_TOKEN", &id_token)
                    .replace("$JWK", &jwk);
                let answers = script(&text);
                let token_answer = answers
                    .iter()
                    .find(|(k, _)| *k == "token")
                    .and_then(|(_, v)| v.clone().ok());
                *http.answers.lock().unwrap() = answers;
                let (e, t, http) = (e.clone(), t.clone(), http.clone());
                async move {
                    for protocol in [Protocol::Oidc, Protocol::Oauth2] {
                        http.called.lock().unwrap().clear();
                        let c = connector(&t, protocol, &host);
                        let result = e
                            .federation()
                            .redeem_upstream(&t, &c, "upstream-code", "verifier", NONCE)
                            .await;
                        for url in http.called.lock().unwrap().iter() {
                            assert!(
                                check_upstream_url("url", url).is_ok(),
                                "called {url:?}, which no check allowed"
                            );
                        }
                        let Ok((identity, tokens)) = result else {
                            continue;
                        };
                        redeemed[usize::from(protocol == Protocol::Oauth2)]
                            .set(redeemed[usize::from(protocol == Protocol::Oauth2)].get() + 1);
                        let answer = token_answer
                            .clone()
                            .expect("redeemed without a token answer");
                        assert_eq!(
                            Some(tokens.access_token.as_str()),
                            answer["access_token"].as_str()
                        );
                        assert!(!identity.subject.is_empty() && identity.subject.len() <= 255);
                        assert!(identity.email.as_ref().is_none_or(|m| m.len() <= 254));
                        assert!(identity.picture.as_ref().is_none_or(|p| p.len() <= 2048));
                        assert!(identity.groups.len() <= 100);
                        if protocol == Protocol::Oidc {
                            // Only the upstream's signed token gets this far, and what it
                            // says wins over userinfo.
                            assert_eq!(answer["id_token"], id_token.as_str());
                            assert_eq!(identity.subject, "upstream-1");
                            assert_eq!(identity.email.as_deref(), Some("ada@upstream.example"));
                            assert!(identity.email_verified);
                        } else {
                            assert!(!identity.email_verified || identity.email.is_some());
                        }
                    }
                }
            })
            .await;
        assert!(
            redeemed.iter().all(|n| n.get() > 0),
            "a connector never redeemed: {redeemed:?}"
        );
    });
}

/// The registered redirect URIs of the client `web`.
const REDIRECTS: [&str; 2] = ["https://app.example/cb", "http://127.0.0.1:9/cb?from=app"];

#[test]
fn authorize_query() {
    let dir = tempfile::tempdir().unwrap();
    actix::System::new().block_on(async {
        let e = engine(dir.path(), ManualClock::new(NOW));
        for id in ["acme", "other"] {
            e.admin()
                .create_tenant(id, "Shop", SigningAlg::EdDSA)
                .await
                .unwrap();
        }
        let t = TenantId::parse("acme").unwrap();
        let other = TenantId::parse("other").unwrap();
        e.admin()
            .create_client(
                &t,
                NewClient {
                    client_id: Some("web".into()),
                    name: "Web".into(),
                    redirect_uris: REDIRECTS.iter().map(|r| (*r).to_owned()).collect(),
                    first_party: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let issuer = e.issuer(&t);
        let counts = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        let (valid, redirected) = (&counts.0, &counts.1);
        Fuzz::new(env!("CARGO_MANIFEST_DIR"), "authorize_query")
            .dictionary([
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
            ])
            .dictionary(["code_challenge", "code_challenge_method", "S256", "plain"])
            .dictionary(["nonce", "prompt", "none", "login", "consent", "max_age"])
            .dictionary(["request_uri", "response_mode", "acr_values", "idp_hint"])
            .dictionary([
                "openid",
                "offline_access",
                "%20",
                "web",
                "https%3A%2F%2Fapp.example%2Fcb",
            ])
            .run_async(|input| {
                let (e, t, other, issuer) = (e.clone(), t.clone(), other.clone(), issuer.clone());
                async move {
                    let params: Vec<(String, String)> =
                        url::form_urlencoded::parse(&input).into_owned().collect();
                    let mut names = HashSet::new();
                    let repeated = params.iter().find(|(k, _)| !names.insert(k.as_str()));
                    let all = |k: &str| {
                        params
                            .iter()
                            .filter(|(n, _)| n == k)
                            .map(|(_, v)| v.as_str())
                            .collect::<Vec<_>>()
                    };
                    let get = |k: &str| all(k).last().copied().filter(|v| !v.is_empty());
                    match e.oauth().validate_authorize(&t, &params).await {
                        Ok(areq) => {
                            valid.set(valid.get() + 1);
                            assert_eq!(repeated, None, "a repeated parameter was accepted");
                            assert_eq!(areq.client_id.as_str(), "web");
                            assert!(REDIRECTS.contains(&areq.redirect_uri.as_str()));
                            assert_eq!(get("response_type"), Some("code"));
                            assert_eq!(get("code_challenge_method"), Some("S256"));
                            assert_eq!(get("code_challenge"), Some(areq.code_challenge.as_str()));
                            assert_eq!(areq.code_challenge.len(), 43);
                            assert!(!areq.scopes.is_empty());
                            assert!(areq.scopes.iter().all(|s| SCOPES.contains(&s.as_str())));
                            let unique: HashSet<_> = areq.scopes.iter().collect();
                            assert_eq!(unique.len(), areq.scopes.len());
                            assert!(params.iter().all(|(_, v)| v.len() <= MAX_PARAM_LEN));
                            // Sealed, it opens to the same request, and only for its tenant.
                            let sealed = e.oauth().seal_request(&t, &areq);
                            assert_eq!(e.oauth().open_request(&t, &sealed), Some(areq));
                            assert_eq!(e.oauth().open_request(&other, &sealed), None);
                        }
                        Err(err @ AuthorizeError::Redirect { .. }) => {
                            redirected.set(redirected.get() + 1);
                            let url = err.redirect_url(&issuer).unwrap();
                            let AuthorizeError::Redirect {
                                redirect_uri,
                                state,
                                error,
                            } = err
                            else {
                                unreachable!()
                            };
                            // Only ever back to a registered redirect URI of the named client.
                            assert!(REDIRECTS.contains(&redirect_uri.as_str()), "{redirect_uri}");
                            assert_eq!(all("client_id"), ["web"]);
                            assert_eq!(all("redirect_uri"), [redirect_uri.as_str()]);
                            if let Some((name, _)) = repeated {
                                assert_eq!(error.code, OAuthErrorCode::InvalidRequest);
                                assert_eq!(
                                    error.description,
                                    format!("parameter {name} appears more than once")
                                );
                            }
                            assert!(state.as_ref().is_none_or(|s| s.len() <= MAX_PARAM_LEN));
                            let url = url::Url::parse(&url).unwrap();
                            assert!(
                                url.as_str()
                                    .starts_with(redirect_uri.split('?').next().unwrap())
                            );
                            let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
                            let one = |k: &str| {
                                let v: Vec<&str> = q
                                    .iter()
                                    .filter(|(n, _)| n == k)
                                    .map(|(_, v)| v.as_str())
                                    .collect();
                                assert!(v.len() <= 1, "{k} twice in {url}");
                                v.first().map(|s| s.to_string())
                            };
                            assert_eq!(one("error").as_deref(), Some(error.code.as_str()));
                            assert_eq!(one("iss").as_deref(), Some(issuer.as_str()));
                            assert_eq!(one("state"), state);
                        }
                        Err(AuthorizeError::Page(msg)) => {
                            let client_ok = all("client_id") == ["web"];
                            let redirect_ok =
                                matches!(all("redirect_uri")[..], [r] if REDIRECTS.contains(&r));
                            assert!(!(client_ok && redirect_ok), "a page, not a redirect: {msg}");
                        }
                        Err(AuthorizeError::Engine(err)) => panic!("engine error: {err}"),
                    }
                    // The bytes themselves never open as a sealed request.
                    let text = String::from_utf8_lossy(&input);
                    assert_eq!(e.oauth().open_request(&t, &text), None);
                    for (_, v) in &params {
                        assert_eq!(e.oauth().open_request(&t, v), None);
                    }
                }
            })
            .await;
        assert!(
            valid.get() > 0 && redirected.get() > 0,
            "valid {valid:?}, redirected {redirected:?}"
        );
    });
}
