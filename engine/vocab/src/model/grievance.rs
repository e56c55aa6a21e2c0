//! Grievances and contact (DPDP Act s.8(9), s.13; DPDP Rules 2025, Rules 9 and 14): the
//! person a tenant's users can ask about their personal data, published on every hosted
//! page and in a public document, and how quickly that person answers grievances.

use serde::{Deserialize, Serialize};

/// The longest a grievance may wait for an answer: the DPDP Rules' outer limit (Rule 14(3):
/// ninety days), which a tenant may shorten but not lengthen.
pub const MAX_RESPONSE_DAYS: u32 = 90;

/// What the published person is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    /// A Significant Data Fiduciary's Data Protection Officer (s.10(2)(a)).
    DataProtectionOfficer,
    /// Anyone else able to answer questions about the processing (Rule 9).
    #[default]
    ContactPerson,
}

impl ContactRole {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DataProtectionOfficer => "data_protection_officer",
            Self::ContactPerson => "contact_person",
        }
    }
}

/// A tenant's Data Protection Officer or contact person (in the tenant record). Checked
/// by the engine before it is stored; public: nothing here is a user's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyContact {
    /// Whether this is a Data Protection Officer or a contact person.
    #[serde(default)]
    pub role: ContactRole,
    /// The person's name, or the office's ("Grievance Officer, Example Ltd").
    pub name: String,
    /// Where to write (normalised to lower case).
    pub email: String,
    /// A telephone number, E.164 (`+919876543210`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A postal address (lines separated by newlines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// A page of the tenant's about privacy and grievances (https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The days within which a grievance is answered (1 to [`MAX_RESPONSE_DAYS`]).
    pub response_days: u32,
}
