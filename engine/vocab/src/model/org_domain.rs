//! Home-realm discovery: an email domain an organisation has proven it holds, routed to
//! the organisation's identity provider (an upstream connector of the tenant).

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::ids::TenantId;

/// The DNS name under the domain that carries the proof: a TXT record
/// `_tollgate-challenge.<domain>` whose value is [`OrgDomain::txt_value`].
pub const CHALLENGE_LABEL: &str = "_tollgate-challenge";

/// The longest domain name (RFC 1035: 253 characters written out).
pub const MAX_DOMAIN: usize = 253;

/// An organisation's claim on an email domain, unique in its tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgDomain {
    /// Its tenant.
    pub tenant: TenantId,
    /// The domain, lower case ASCII (an internationalised one in its `xn--` form).
    pub domain: String,
    /// The organisation that claims it.
    pub org_id: String,
    /// The connector its users are sent to; none: verified, but not routed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<String>,
    /// The random value to publish (not a secret: it is published in DNS).
    pub token: String,
    /// When the claim was made.
    pub created_at: UnixTime,
    /// When the TXT record was last found; none: not (yet) proven.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<UnixTime>,
}

impl OrgDomain {
    /// The TXT record's name.
    pub fn txt_name(&self) -> String {
        format!("{CHALLENGE_LABEL}.{}", self.domain)
    }

    /// The TXT record's value.
    pub fn txt_value(&self) -> String {
        format!("tollgate-verification={}", self.token)
    }
}

/// Checks and normalises a domain name as an admin types it: lower case, no trailing
/// dot, LDH labels of 1 to 63 characters, at least two labels, no IP address.
pub fn normalise_domain(raw: &str) -> Result<String, String> {
    let d = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if d.is_empty() || d.len() > MAX_DOMAIN {
        return Err("a domain name of 1 to 253 characters is needed".into());
    }
    let labels: Vec<&str> = d.split('.').collect();
    if labels.len() < 2 {
        return Err(format!(
            "{d:?}: a domain with at least two labels is needed"
        ));
    }
    for l in &labels {
        let ok = !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(format!(
                "{d:?}: each label is 1 to 63 letters, digits or inner hyphens"
            ));
        }
    }
    if labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("{d:?}: an IP address is not a domain"));
    }
    Ok(d)
}

/// The domain of an email address, normalised, if it has one.
pub fn email_domain(email: &str) -> Option<String> {
    let (_, d) = email.trim().rsplit_once('@')?;
    normalise_domain(d).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_or_refused() {
        assert_eq!(normalise_domain(" Acme.Example. ").unwrap(), "acme.example");
        assert_eq!(
            normalise_domain("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        for bad in [
            "",
            "localhost",
            "a..b",
            "-a.b",
            "a-.b",
            "a_b.c",
            "10.0.0.1",
            "bücher.example",
        ] {
            assert!(normalise_domain(bad).is_err(), "{bad}");
        }
        assert!(normalise_domain(&format!("{}.example", "a".repeat(64))).is_err());
        assert_eq!(
            email_domain("Jo@Corp.Example").as_deref(),
            Some("corp.example")
        );
        assert_eq!(email_domain("no-at-sign"), None);
    }
}
