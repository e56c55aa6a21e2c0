//! The test's side of a passkey: webauthn-authenticator-rs's software passkey (P-256, real
//! attestation and assertion signatures over what the server sent), and reading the
//! ceremony blocks of a page.

use serde_json::{Value, json};
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use super::TestServer;

/// The value of a `data-NAME` attribute in a page.
pub fn data_attr(html: &str, name: &str) -> Option<String> {
    let marker = format!("data-{name}=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].replace("&amp;", "&"))
}

/// The test's side of a passkey: the software authenticator and what a resident
/// credential would remember.
pub struct Device {
    pub token: SoftPasskey,
    pub origin: Url,
    pub credential_id: Option<String>,
    pub user_handle: Option<String>,
}

impl Device {
    pub fn new(server: &TestServer) -> Self {
        Self {
            // `true`: it reports user verification (a PIN or biometric), as passkeys do.
            token: SoftPasskey::new(true),
            origin: Url::parse(&server.running.engine.config().public_url).unwrap(),
            credential_id: None,
            user_handle: None,
        }
    }

    pub fn register(&mut self, options: &Value) -> Value {
        let mut options = options.clone();
        assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
        assert_eq!(
            options["publicKey"]["authenticatorSelection"]["residentKey"], "required",
            "a passkey must be discoverable"
        );
        assert_eq!(
            options["publicKey"]["authenticatorSelection"]["userVerification"],
            "required"
        );
        // The software token refuses to be asked for a resident key; the test keeps the
        // user handle itself instead.
        options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = json!(false);
        self.user_handle = options["publicKey"]["user"]["id"]
            .as_str()
            .map(str::to_owned);
        let ccr: CreationChallengeResponse = serde_json::from_value(options).unwrap();
        let reg = self
            .token
            .do_registration(self.origin.clone(), ccr)
            .expect("the software passkey registers");
        let v = serde_json::to_value(&reg).unwrap();
        self.credential_id = v["rawId"].as_str().map(str::to_owned);
        v
    }

    /// An assertion for `options`, from `origin` (the server's unless testing another).
    pub fn sign(&mut self, options: &Value, origin: Option<&str>) -> Value {
        let mut options = options.clone();
        let discoverable = options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty);
        if discoverable {
            options["publicKey"]["allowCredentials"] =
                json!([{"type": "public-key", "id": self.credential_id}]);
        }
        let rcr: RequestChallengeResponse = serde_json::from_value(options).unwrap();
        let origin = origin
            .map(|o| Url::parse(o).unwrap())
            .unwrap_or_else(|| self.origin.clone());
        let cred = self
            .token
            .do_authentication(origin, rcr)
            .expect("the software passkey signs");
        let mut v = serde_json::to_value(&cred).unwrap();
        if discoverable {
            v["response"]["userHandle"] = json!(self.user_handle);
        }
        v
    }
}
