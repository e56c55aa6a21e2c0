//! Newtypes for identifiers and normalised values, so a user id can never be
//! passed where a tenant id is expected and an email is compared only in its
//! normalised form.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::crypto;
use crate::error::EngineError;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A tenant: lower-case letters, digits and dashes, 1 to 63 characters, so it is
    /// safe in a URL path, a key prefix and a Scylla keyspace name.
    TenantId
);
string_id!(
    /// An OAuth client identifier, unique within its tenant.
    ClientId
);
string_id!(
    /// A user's stable subject identifier (`sub`), random and never reused.
    UserId
);
string_id!(
    /// A refresh-token chain.
    ChainId
);
string_id!(
    /// A signing key's `kid`.
    KeyId
);

impl TenantId {
    /// Parses a tenant id, rejecting anything that is not `[a-z0-9][a-z0-9-]{0,62}`.
    pub fn parse(s: &str) -> Result<Self, EngineError> {
        let ok = !s.is_empty()
            && s.len() <= 63
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(EngineError::Invalid(
                "tenant id must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit".into(),
            ))
        }
    }
}

impl ClientId {
    /// Parses a client id: 1 to 128 characters of `A-Z a-z 0-9 . _ -`.
    pub fn parse(s: &str) -> Result<Self, EngineError> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(EngineError::Invalid(
                "client id must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-'".into(),
            ))
        }
    }

    /// A fresh random client id.
    pub fn generate() -> Self {
        Self(crypto::random_token::<16>())
    }
}

impl UserId {
    /// A fresh random user id.
    pub fn generate() -> Self {
        Self(crypto::random_token::<16>())
    }

    /// Wraps a stored user id. Ids come only from `generate`, so the store is trusted.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl ChainId {
    /// A fresh random chain id (128 bits).
    pub fn generate() -> Self {
        Self(crypto::random_token::<16>())
    }

    /// Wraps a chain id read back from a token or the store.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl KeyId {
    /// Wraps a key id.
    pub fn new(s: String) -> Self {
        Self(s)
    }
}

/// An email address, trimmed and lower-cased, so that lookups are case-insensitive.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// The address masked for events and logs: `a***@e***.com`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.as_str().split_once('@').unwrap_or(("", ""));
        let first = local.chars().next().unwrap_or('*');
        let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
        let h = host.chars().next().unwrap_or('*');
        format!("{first}***@{h}***.{tld}")
    }

    /// Normalises and checks an address: one `@`, a non-empty local part, a domain with a
    /// dot, no spaces or control characters, at most 254 characters.
    pub fn parse(s: &str) -> Result<Self, EngineError> {
        let s = s.trim().to_lowercase();
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid {
            Ok(Self(s))
        } else {
            Err(EngineError::Invalid("enter a valid email address".into()))
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Emails are personal data: logs show only the domain.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.split_once('@').map(|(_, d)| d).unwrap_or("");
        write!(f, "Email(<hidden>@{domain})")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_url_and_key_safe() {
        assert!(TenantId::parse("acme-1").is_ok());
        for bad in ["", "-acme", "Acme", "a/b", "a b", &"a".repeat(64)] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn emails_normalise_and_hide_in_debug() {
        let e = Email::parse("  Alice@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "alice@example.com");
        assert_eq!(format!("{e:?}"), "Email(<hidden>@example.com)");
        for bad in [
            "alice",
            "@example.com",
            "a@b",
            "a b@c.d",
            "a@b@c.d",
            "a@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
