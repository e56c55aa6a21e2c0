//! A tenant's Data Protection Officer or contact person (`Tenant.privacy_contact`, DPDP
//! Rules 9 and 14): who users can ask about their personal data and how quickly
//! grievances are answered. The hosted pages show it in their footer and
//! `{issuer}/.well-known/privacy-contact` publishes it.
//!
//! Every value is checked before it is stored, with a message that names the bad one: the
//! name is required and bounded, the email must be an address, the phone E.164, the URL
//! https (http only for localhost), the response time 1 to 90 days (the Rules' outer
//! limit). A change is a compare-and-set on the tenant record (`Admin::change_tenant`) and
//! an `admin.privacy_contact` event naming what changed, never the values.

use serde::{Deserialize, Serialize};

use super::Admin;
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId};
use crate::model::grievance::{ContactRole, MAX_RESPONSE_DAYS, PrivacyContact};

/// Longest name (characters).
pub const MAX_NAME: usize = 200;
/// Longest postal address (characters).
pub const MAX_ADDRESS: usize = 500;
/// Longest URL (bytes).
pub const MAX_URL: usize = 2048;
/// The response time when none is given.
pub const DEFAULT_RESPONSE_DAYS: u32 = 30;

/// The contact to publish (`PUT /admin/v1/tenants/{tenant}/privacy-contact`): replaces
/// the stored one whole.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyContactInput {
    /// `data_protection_officer` or `contact_person` (the default).
    #[serde(default)]
    pub role: ContactRole,
    /// The person's or office's name.
    pub name: String,
    /// Where to write.
    pub email: String,
    /// A telephone number (E.164; spaces and hyphens are dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// A page about privacy and grievances (https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Days within which grievances are answered (1 to 90; 30 when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_days: Option<u32>,
}

fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::Invalid(msg.into())
}

/// A trimmed optional text: `None` when absent or blank.
fn present(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn check_url(raw: &str) -> EngineResult<String> {
    if raw.len() > MAX_URL {
        return Err(invalid(format!("url: longer than {MAX_URL} bytes")));
    }
    let u = url::Url::parse(raw).map_err(|e| invalid(format!("url: not a URL ({e})")))?;
    let local = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match u.scheme() {
        "https" => {}
        "http" if local => {}
        s => return Err(invalid(format!("url: must be https, not {s}"))),
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(invalid("url: has no host"));
    }
    if u.fragment().is_some() || !u.username().is_empty() || u.password().is_some() {
        return Err(invalid("url: may not carry credentials or a fragment"));
    }
    Ok(u.to_string())
}

fn check_phone(raw: &str) -> EngineResult<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "phone: must be an international number, + then 8 to 15 digits (E.164)",
        ));
    }
    Ok(compact)
}

fn no_controls(field: &str, v: &str, newlines: bool) -> EngineResult<()> {
    if v.chars()
        .any(|c| c.is_control() && !(newlines && c == '\n'))
    {
        return Err(invalid(format!("{field}: contains control characters")));
    }
    Ok(())
}

/// Checks and normalises a contact: what is stored.
pub fn check(input: PrivacyContactInput) -> EngineResult<PrivacyContact> {
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        return Err(invalid("name: required"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(invalid(format!("name: longer than {MAX_NAME} characters")));
    }
    no_controls("name", &name, false)?;
    let email = Email::parse(&input.email)
        .map_err(|_| invalid("email: not an email address"))?
        .as_str()
        .to_owned();
    let phone = present(input.phone).map(|p| check_phone(&p)).transpose()?;
    let address = present(input.address)
        .map(|a| {
            let a = a.replace("\r\n", "\n");
            if a.chars().count() > MAX_ADDRESS {
                return Err(invalid(format!(
                    "address: longer than {MAX_ADDRESS} characters"
                )));
            }
            no_controls("address", &a, true)?;
            Ok(a)
        })
        .transpose()?;
    let url = present(input.url).map(|u| check_url(&u)).transpose()?;
    let response_days = input.response_days.unwrap_or(DEFAULT_RESPONSE_DAYS);
    if !(1..=MAX_RESPONSE_DAYS).contains(&response_days) {
        return Err(invalid(format!(
            "response_days: must be 1 to {MAX_RESPONSE_DAYS} (the DPDP Rules' outer limit)"
        )));
    }
    Ok(PrivacyContact {
        role: input.role,
        name,
        email,
        phone,
        address,
        url,
        response_days,
    })
}

/// The names of the fields that differ, for the audit trail.
fn changed(old: Option<&PrivacyContact>, new: &PrivacyContact) -> String {
    let Some(old) = old else {
        return "set".into();
    };
    let mut parts = Vec::new();
    let fields = [
        ("role", old.role != new.role),
        ("name", old.name != new.name),
        ("email", old.email != new.email),
        ("phone", old.phone != new.phone),
        ("address", old.address != new.address),
        ("url", old.url != new.url),
        ("response_days", old.response_days != new.response_days),
    ];
    for (name, differs) in fields {
        if differs {
            parts.push(name);
        }
    }
    if parts.is_empty() {
        "unchanged".into()
    } else {
        format!("changed {}", parts.join(","))
    }
}

impl Admin<'_> {
    /// The tenant's published contact, as stored now; `NotFound` when none is set.
    pub async fn privacy_contact(&self, id: &TenantId) -> EngineResult<PrivacyContact> {
        self.stored_contact(id)
            .await?
            .ok_or(EngineError::NotFound("privacy contact"))
    }

    async fn stored_contact(&self, id: &TenantId) -> EngineResult<Option<PrivacyContact>> {
        let t = self
            .rt()
            .store
            .get_tenant(id)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        Ok(t.privacy_contact)
    }

    /// Checks and stores the tenant's contact, replacing the one before.
    pub async fn set_privacy_contact(
        &self,
        id: &TenantId,
        input: PrivacyContactInput,
    ) -> EngineResult<PrivacyContact> {
        let contact = check(input)?;
        let detail = changed(self.stored_contact(id).await?.as_ref(), &contact);
        self.change_tenant(id, "admin.privacy_contact", detail, |t| {
            t.privacy_contact = Some(contact.clone());
            Ok(())
        })
        .await?;
        Ok(contact)
    }

    /// Stops publishing a contact; `NotFound` when none was set.
    pub async fn remove_privacy_contact(&self, id: &TenantId) -> EngineResult<()> {
        self.change_tenant(id, "admin.privacy_contact", "removed".into(), |t| {
            t.privacy_contact
                .take()
                .map(|_| ())
                .ok_or(EngineError::NotFound("privacy contact"))
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PrivacyContactInput {
        PrivacyContactInput {
            name: " Asha Rao ".into(),
            email: "DPO@Example.in".into(),
            ..Default::default()
        }
    }

    #[test]
    fn normalises_and_defaults() {
        let c = check(PrivacyContactInput {
            phone: Some("+91 98765-43210".into()),
            address: Some("1 MG Road\r\nBengaluru".into()),
            url: Some(" ".into()),
            ..input()
        })
        .unwrap();
        assert_eq!(c.name, "Asha Rao");
        assert_eq!(c.email, "dpo@example.in");
        assert_eq!(c.phone.as_deref(), Some("+919876543210"));
        assert_eq!(c.address.as_deref(), Some("1 MG Road\nBengaluru"));
        assert_eq!(c.url, None);
        assert_eq!(c.response_days, DEFAULT_RESPONSE_DAYS);
        assert_eq!(c.role, ContactRole::ContactPerson);
    }

    #[test]
    fn refuses_bad_values_by_name() {
        let says = |i: PrivacyContactInput| match check(i) {
            Err(EngineError::Invalid(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(
            says(PrivacyContactInput {
                name: "  ".into(),
                ..input()
            })
            .starts_with("name:")
        );
        assert!(
            says(PrivacyContactInput {
                email: "nope".into(),
                ..input()
            })
            .starts_with("email:")
        );
        let phone = Some("98765".into());
        assert!(says(PrivacyContactInput { phone, ..input() }).starts_with("phone:"));
        for u in [
            "http://example.in/x",
            "javascript:alert(1)",
            "https://u:p@example.in/",
        ] {
            let url = Some(u.into());
            assert!(
                says(PrivacyContactInput { url, ..input() }).starts_with("url:"),
                "{u}"
            );
        }
        for d in [0, 91] {
            let r = PrivacyContactInput {
                response_days: Some(d),
                ..input()
            };
            assert!(says(r).starts_with("response_days:"));
        }
        let name = "x".repeat(MAX_NAME + 1);
        assert!(says(PrivacyContactInput { name, ..input() }).starts_with("name:"));
    }
}
