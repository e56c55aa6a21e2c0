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

/// What a grievance is about (the rights of ss. 11 to 13, and anything else).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrievanceCategory {
    /// Access to the user's personal data (s. 11).
    Access,
    /// Correction or completion (s. 12(1)-(2)).
    Correction,
    /// Erasure (s. 12(3)).
    Erasure,
    /// Consent: given, refused or withdrawn (s. 6).
    Consent,
    /// Anything else.
    Other,
}

impl GrievanceCategory {
    /// Every category, in the form's order.
    pub const ALL: [GrievanceCategory; 5] = [
        Self::Access,
        Self::Correction,
        Self::Erasure,
        Self::Consent,
        Self::Other,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Correction => "correction",
            Self::Erasure => "erasure",
            Self::Consent => "consent",
            Self::Other => "other",
        }
    }

    /// The category named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a grievance stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrievanceStatus {
    /// Filed, not answered yet: the clock runs.
    Open,
    /// Answered by the tenant; an admin may answer again or close it (the user cannot
    /// reply yet: they raise a new grievance).
    Answered,
    /// Closed for good: nothing more is added.
    Closed,
}

impl GrievanceStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Answered => "answered",
            Self::Closed => "closed",
        }
    }

    /// The status named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Answered, Self::Closed]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A grievance as stored: ids, category, status and times in the clear (what the admin's
/// list filters on); the text and the history (every message, by whom and when) sealed
/// under the user's data key, so erasing the user erases them in every copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grievance {
    /// The tenant.
    pub tenant: crate::ids::TenantId,
    /// The ticket id: 128 random bits, base64url (unguessable).
    pub id: String,
    /// Who filed it.
    pub user_id: crate::ids::UserId,
    /// What it is about.
    pub category: GrievanceCategory,
    /// Where it stands.
    pub status: GrievanceStatus,
    /// When it was filed.
    pub created_at: crate::clock::UnixTime,
    /// By when it must be answered: filed + the tenant's response time (at most 90 days).
    pub due_at: crate::clock::UnixTime,
    /// When it last changed.
    pub updated_at: crate::clock::UnixTime,
    /// The sealed [`GrievanceThread`] (base64url).
    pub sealed: String,
}

/// What a grievance says: its messages, oldest first (sealed in [`Grievance::sealed`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrievanceThread {
    /// The messages.
    pub entries: Vec<GrievanceEntry>,
}

/// One step of a grievance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrievanceEntry {
    /// When.
    pub at: crate::clock::UnixTime,
    /// `user` or `admin`.
    pub by: String,
    /// `filed`, `answered`, `closed`.
    pub action: String,
    /// What was written (empty for a close without a word).
    pub text: String,
}
