//! Pairwise subject identifiers (OIDC Core §8.1): a client registered with
//! `subject_type = pairwise` sees each user as
//! `base64url(HMAC-SHA256(tenant key, sector | user id))`, the same for every client of
//! its sector (the host of its redirect URIs, or of its `sector_identifier_uri`) and
//! unrelated across sectors, so two sectors cannot join their users by `sub`.
//!
//! The engine must still find the user behind such a token (userinfo, revocation,
//! introspection): an access token for a pairwise client carries the user id sealed
//! (AES-256-GCM under a key derived from the master key, bound to the tenant and the
//! client) in its `uid` claim, which [`OAuth::verify_access_token`] opens. ID tokens need
//! none: a logout's `id_token_hint` is compared with the session's user's pairwise `sub`.

use crate::crypto::{MasterKey, b64, b64_decode};
use crate::error::{EngineError, EngineResult};
use crate::ids::{ClientId, TenantId, UserId};
use crate::model::{Client, SubjectType};

use super::OAuth;

/// Most redirect URIs a sector identifier document may list.
const MAX_SECTOR_URIS: usize = 1_000;

/// Checks a client's `sector_identifier_uri` as OIDC Core §8.1 asks: the document there
/// is a JSON array of redirect URIs that includes every one the client registers (so a
/// client cannot claim a sector that does not name it).
pub(crate) async fn check_sector_document(
    engine: &crate::engine::Engine,
    uri: &str,
    redirect_uris: &[String],
) -> EngineResult<()> {
    let bad = |why: String| Err(EngineError::Invalid(format!("sector_identifier_uri {why}")));
    let Some(http) = engine.rt().upstream_http.get().cloned() else {
        return bad("cannot be fetched: this server makes no outbound requests".into());
    };
    let doc = match http.get_json(uri, None).await {
        Ok(doc) => doc,
        // The reason is for logs: it may name internal addresses.
        Err(why) => {
            tracing::info!(uri, %why, "sector identifier document unreachable");
            return bad(format!("{uri:?} could not be fetched"));
        }
    };
    let Some(listed) = doc.as_array().filter(|a| a.len() <= MAX_SECTOR_URIS) else {
        return bad(format!(
            "{uri:?} must hold a JSON array of at most {MAX_SECTOR_URIS} redirect URIs"
        ));
    };
    match redirect_uris
        .iter()
        .find(|r| !listed.iter().any(|l| l.as_str() == Some(r.as_str())))
    {
        Some(missing) => bad(format!(
            "{uri:?} does not list the redirect URI {missing:?}"
        )),
        None => Ok(()),
    }
}

/// The sector of a new client with pairwise subjects: the host of its
/// `sector_identifier_uri`, or else the one host all its redirect URIs share. `None` for
/// public subjects. A pairwise client without one is refused.
pub fn sector_for(
    subject_type: SubjectType,
    sector_identifier_uri: Option<&str>,
    redirect_uris: &[String],
) -> EngineResult<Option<String>> {
    if subject_type == SubjectType::Public {
        return Ok(None);
    }
    let host = |uri: &str| {
        url::Url::parse(uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    };
    if let Some(uri) = sector_identifier_uri {
        // https (or http on loopback, for development), as every URL the server fetches.
        crate::runtime::outbound::check_upstream_url("sector_identifier_uri", uri)?;
        return match host(uri) {
            Some(h) => Ok(Some(h)),
            None => Err(EngineError::Invalid(
                "sector_identifier_uri must be an https URL".into(),
            )),
        };
    }
    let hosts: Vec<Option<String>> = redirect_uris.iter().map(|u| host(u)).collect();
    match hosts.first() {
        Some(Some(first)) if hosts.iter().all(|h| h.as_ref() == Some(first)) => {
            Ok(Some(first.clone()))
        }
        _ => Err(EngineError::Invalid(
            "pairwise subjects need a sector: redirect URIs on one host, or a sector_identifier_uri"
                .into(),
        )),
    }
}

impl OAuth<'_> {
    /// The `sub` a client sees for a user: the user id, or its pairwise value.
    pub fn subject_for(&self, tenant: &TenantId, client: &Client, user: &UserId) -> String {
        match (&client.subject_type, &client.sector) {
            (SubjectType::Pairwise, Some(sector)) => {
                let key = self
                    .rt()
                    .master
                    .derive(&format!("tollgate pairwise subject v1\0{tenant}"));
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
                let tag = ring::hmac::sign(&key, format!("{sector}|{user}").as_bytes());
                b64(tag.as_ref())
            }
            _ => user.to_string(),
        }
    }

    fn uid_key(&self) -> MasterKey {
        MasterKey::from_bytes(self.rt().master.derive("tollgate pairwise uid v1"))
    }

    /// The user id sealed for a pairwise client's access token (`uid`); `None` for a
    /// client with public subjects (its `sub` is the user id).
    pub(crate) fn seal_uid(
        &self,
        tenant: &TenantId,
        client: &Client,
        user: &UserId,
    ) -> Option<String> {
        (client.subject_type == SubjectType::Pairwise).then(|| {
            let aad = format!("{tenant}\0{}", client.id);
            b64(&self
                .uid_key()
                .seal(aad.as_bytes(), user.as_str().as_bytes()))
        })
    }

    /// Opens a `uid`; `None` if it was not sealed here for this tenant and client.
    pub(crate) fn open_uid(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        sealed: &str,
    ) -> Option<UserId> {
        let raw = b64_decode(sealed)?;
        let aad = format!("{tenant}\0{client}");
        let plain = self.uid_key().open(aad.as_bytes(), &raw).ok()?;
        String::from_utf8(plain).ok().map(UserId::from_stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uris(u: &[&str]) -> Vec<String> {
        u.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_sector_is_the_redirect_uris_one_host_or_the_sector_identifier_uris() {
        let pw = SubjectType::Pairwise;
        assert_eq!(
            sector_for(
                pw,
                None,
                &uris(&["https://app.example/cb", "https://APP.example/cb2"])
            )
            .unwrap()
            .as_deref(),
            Some("app.example")
        );
        assert!(
            sector_for(
                pw,
                None,
                &uris(&["https://a.example/cb", "https://b.example/cb"])
            )
            .is_err()
        );
        assert!(sector_for(pw, None, &[]).is_err());
        assert_eq!(
            sector_for(
                pw,
                Some("https://sector.example/uris.json"),
                &uris(&["https://a.example/cb", "https://b.example/cb"])
            )
            .unwrap()
            .as_deref(),
            Some("sector.example")
        );
        assert!(sector_for(pw, Some("http://sector.example/x"), &[]).is_err());
        assert_eq!(
            sector_for(SubjectType::Public, None, &uris(&["https://a.example/cb"])).unwrap(),
            None
        );
    }
}
