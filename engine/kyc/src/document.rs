//! The few fields read from a signed offline e-KYC document, and the checks on them.
//!
//! The document (UIDAI, "Aadhaar Paperless Offline e-KYC"):
//! `<OfflinePaperlessKyc referenceId="...">` holding `<UidData>` with `<Poi name dob gender
//! e m/>` (proof of identity: name, date of birth as DD-MM-YYYY, gender, the email and
//! mobile hashes), `<Poa .../>` (the address) and `<Pht>` (the photo, base64 JPEG), then the
//! `Signature`. `referenceId` is the last four digits of the Aadhaar number followed by the
//! generation time, `YYYYMMDDHHMMSSsss`, in Indian Standard Time (UTC+05:30).
//!
//! Only the identity fields are read; the address and photo are never copied out of the
//! parsed XML, and [`OfflineKyc`]'s `Debug` prints none of what it holds.

use ring::digest;
use roxmltree::Document;
use tollgate_vocab::clock::UnixTime;

/// Indian Standard Time is UTC+05:30.
const IST_OFFSET_SECS: u64 = 5 * 3600 + 30 * 60;
/// Clocks differ: a document up to five minutes in the future is still accepted.
const FUTURE_SKEW_SECS: u64 = 300;

/// Why a signed document was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    /// `referenceId` is missing or not four digits and a timestamp.
    #[error("The document's reference id is malformed.")]
    BadReferenceId,
    /// `UidData/Poi` is missing or has no name.
    #[error("The document holds no name.")]
    NoIdentity,
    /// Older than the tenant accepts.
    #[error("The document is too old. Download a new one from UIDAI and upload it.")]
    TooOld,
    /// Generated in the future.
    #[error("The document's generation time is in the future.")]
    FromFuture,
}

impl DocumentError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadReferenceId => "bad_reference_id",
            Self::NoIdentity => "no_identity",
            Self::TooOld => "too_old",
            Self::FromFuture => "from_future",
        }
    }
}

/// What Tollgate reads from a signed offline e-KYC document.
#[derive(Clone, PartialEq, Eq)]
pub struct OfflineKyc {
    last4: String,
    generated_at: UnixTime,
    name: String,
    dob: String,
    mobile_hash: Option<String>,
    email_hash: Option<String>,
}

impl std::fmt::Debug for OfflineKyc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineKyc")
            .field("generated_at", &self.generated_at)
            .finish_non_exhaustive()
    }
}

/// The document's generation time (UTC), from its `referenceId`.
pub fn generated_at(doc: &Document<'_>) -> Result<UnixTime, DocumentError> {
    let reference = doc
        .root_element()
        .attribute("referenceId")
        .ok_or(DocumentError::BadReferenceId)?;
    parse_reference_id(reference).map(|(_, t)| t)
}

/// `referenceId`: four digits, then `YYYYMMDDHHMMSSsss` in IST. Returns the digits and the
/// time in UTC.
pub fn parse_reference_id(reference: &str) -> Result<(String, UnixTime), DocumentError> {
    let bad = DocumentError::BadReferenceId;
    if reference.len() != 21 || !reference.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    let num = |range: std::ops::Range<usize>| -> Result<u64, DocumentError> {
        reference
            .get(range)
            .and_then(|s| s.parse().ok())
            .ok_or(DocumentError::BadReferenceId)
    };
    let (year, month, day) = (num(4..8)?, num(8..10)?, num(10..12)?);
    let (hour, minute, second) = (num(12..14)?, num(14..16)?, num(16..18)?);
    if !(2000..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(bad);
    }
    let days = days_from_civil(year, month, day);
    let local = days * 86_400 + hour * 3600 + minute * 60 + second;
    let utc = local
        .checked_sub(IST_OFFSET_SECS)
        .ok_or(DocumentError::BadReferenceId)?;
    Ok((reference.get(0..4).unwrap_or_default().to_owned(), utc))
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a Gregorian date (year 2000 or later).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let mut days = 0;
    for y in 1970..year {
        days += if is_leap(y) { 366 } else { 365 };
    }
    for m in 1..month {
        days += days_in_month(year, m);
    }
    days + day - 1
}

fn sha256_hex(input: &[u8]) -> String {
    let d = digest::digest(&digest::SHA256, input);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// UIDAI's mobile hash. UIDAI's FAQ ("How will service providers use Aadhaar Offline
/// e-KYC?") gives `Sha256(Sha256(Mobile+ShareCode))*number of times of last digit of
/// Aadhaar Number`, hashed once when the number ends in 0 or 1, with the example mobile
/// 9800000002, share code Abc@123, Aadhaar number 123412341234: hashed 4 times. It does not
/// spell out what is hashed on each round; the reading implemented is the one the
/// open-source verifiers of these files use: SHA-256 applied `n` times in all, each round
/// over the lowercase hex of the previous one (the first over the UTF-8 of mobile followed
/// by share code). UIDAI publishes no resulting hash, so the test vector below was computed
/// independently of this code (Python's hashlib).
pub fn mobile_hash(mobile: &str, share_code: &str, last_digit: u8) -> String {
    let rounds = if last_digit <= 1 { 1 } else { last_digit };
    let mut value = format!("{mobile}{share_code}");
    for _ in 0..rounds {
        value = sha256_hex(value.as_bytes());
    }
    value
}

/// UIDAI's email hash: "a simple SHA256 hash of the email without any salt" (same FAQ).
pub fn email_hash(email: &str) -> String {
    sha256_hex(email.as_bytes())
}

/// Ten digits of an Indian mobile number typed with or without `+91`, `91`, `0`, spaces or
/// dashes; `None` when it is not one.
pub fn normalise_mobile(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(|c| c.is_ascii_digit()).collect();
    let ten = match digits.len() {
        10 => digits,
        11 if digits.starts_with('0') => digits.get(1..)?.to_owned(),
        12 if digits.starts_with("91") => digits.get(2..)?.to_owned(),
        _ => return None,
    };
    Some(ten)
}

impl OfflineKyc {
    /// Reads the fields of a document whose signature has been verified.
    pub fn from_signed(doc: &Document<'_>) -> Result<Self, DocumentError> {
        let root = doc.root_element();
        let reference = root
            .attribute("referenceId")
            .ok_or(DocumentError::BadReferenceId)?;
        let (last4, generated_at) = parse_reference_id(reference)?;
        let poi = root
            .children()
            .find(|n| n.has_tag_name("UidData"))
            .and_then(|uid| uid.children().find(|n| n.has_tag_name("Poi")))
            .ok_or(DocumentError::NoIdentity)?;
        let name = poi
            .attribute("name")
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or(DocumentError::NoIdentity)?;
        let hash = |attr: &str| {
            poi.attribute(attr)
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
        };
        Ok(Self {
            last4,
            generated_at,
            name: name.to_owned(),
            dob: poi.attribute("dob").unwrap_or_default().trim().to_owned(),
            mobile_hash: hash("m"),
            email_hash: hash("e"),
        })
    }

    /// The last four digits of the Aadhaar number.
    pub fn last4(&self) -> &str {
        &self.last4
    }

    /// When UIDAI generated the document (UTC).
    pub fn generated_at(&self) -> UnixTime {
        self.generated_at
    }

    /// The name as printed on the document. Compare or hash it; never store it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The date of birth as printed (DD-MM-YYYY, or a year alone). Hash it; never store it.
    pub fn dob(&self) -> &str {
        &self.dob
    }

    /// Refuses a document older than `max_age_secs` at `now`, or from the future.
    pub fn check_age(&self, now: UnixTime, max_age_secs: u64) -> Result<(), DocumentError> {
        if self.generated_at > now.saturating_add(FUTURE_SKEW_SECS) {
            return Err(DocumentError::FromFuture);
        }
        if now.saturating_sub(self.generated_at) > max_age_secs {
            return Err(DocumentError::TooOld);
        }
        Ok(())
    }

    /// Whether the mobile number the user typed is the one on the document, by UIDAI's rule
    /// ([`mobile_hash`]). `None` when the document carries no mobile hash.
    pub fn mobile_matches(&self, mobile: &str, share_code: &str) -> Option<bool> {
        let expected = self.mobile_hash.as_deref()?;
        let Some(mobile) = normalise_mobile(mobile) else {
            return Some(false);
        };
        let last_digit = self
            .last4
            .bytes()
            .last()
            .map(|b| b.saturating_sub(b'0'))
            .unwrap_or(0);
        Some(mobile_hash(&mobile, share_code, last_digit) == expected)
    }

    /// Whether the email the user typed is the one on the document: as typed (trimmed),
    /// else in lower case, since UIDAI's rule hashes the address as registered. `None` when
    /// the document carries no email hash.
    pub fn email_matches(&self, email: &str) -> Option<bool> {
        let expected = self.email_hash.as_deref()?;
        let email = email.trim();
        Some(email_hash(email) == expected || email_hash(&email.to_lowercase()) == expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uidai_mobile_hash_example() {
        // UIDAI FAQ "How will service providers use Aadhaar Offline e-KYC?": mobile
        // 9800000002, Aadhaar number 123412341234 (last digit 4), share code Abc@123,
        // hashed 4 times. The value was computed with Python's hashlib:
        //   s = '9800000002Abc@123'; for _ in range(4): s = sha256(s.encode()).hexdigest()
        assert_eq!(
            mobile_hash("9800000002", "Abc@123", 4),
            "735c04aebc33a05af444ed41f6352b083c5a28d75ff1a26f0fe2c72bba94d7dc"
        );
        // Ending in 0 or 1: hashed once.
        let once = "b22ab9e09fe8f0e292fbfab5941b36b8ef07bda9e6e0154f6e8db47b05e0d8de";
        assert_eq!(mobile_hash("9800000002", "Abc@123", 0), once);
        assert_eq!(mobile_hash("9800000002", "Abc@123", 1), once);
    }

    #[test]
    fn email_hash_is_plain_sha256() {
        assert_eq!(
            email_hash("test@example.com"),
            "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"
        );
    }

    #[test]
    fn reference_id_is_last4_and_ist_time() {
        // 2025-02-24 17:50:50.317 IST is 12:20:50 UTC.
        let (last4, t) = parse_reference_id("533820250224175050317").unwrap();
        assert_eq!(last4, "5338");
        assert_eq!(t, 1_740_399_650);
        for bad in [
            "",
            "5338",
            "53382025022417505031x",
            "533820251324175050317",
            "533820250230175050317",
            "5338202502241750503170",
        ] {
            assert_eq!(
                parse_reference_id(bad),
                Err(DocumentError::BadReferenceId),
                "{bad}"
            );
        }
        // 29 February only in leap years.
        assert!(parse_reference_id("123420240229000000000").is_ok());
        assert!(parse_reference_id("123420250229000000000").is_err());
    }

    #[test]
    fn mobile_numbers_normalise() {
        for typed in [
            "9800000002",
            "+91 98000 00002",
            "919800000002",
            "09800000002",
            "98000-00002",
        ] {
            assert_eq!(
                normalise_mobile(typed).as_deref(),
                Some("9800000002"),
                "{typed}"
            );
        }
        assert_eq!(normalise_mobile("12345"), None);
    }

    fn sample(last4: &str, m: &str, e: &str) -> OfflineKyc {
        OfflineKyc {
            last4: last4.into(),
            generated_at: 1_000_000,
            name: "Asha Devi".into(),
            dob: "01-01-1990".into(),
            mobile_hash: Some(m.into()),
            email_hash: Some(e.into()),
        }
    }

    #[test]
    fn mobile_and_email_matching() {
        let m = mobile_hash("9800000002", "Abc@123", 4);
        let kyc = sample("1234", &m, &email_hash("asha@example.in"));
        assert_eq!(kyc.mobile_matches("+91 98000 00002", "Abc@123"), Some(true));
        assert_eq!(kyc.mobile_matches("9800000003", "Abc@123"), Some(false));
        assert_eq!(kyc.mobile_matches("9800000002", "Abc@124"), Some(false));
        assert_eq!(kyc.email_matches(" Asha@Example.in "), Some(true));
        assert_eq!(kyc.email_matches("other@example.in"), Some(false));
        let mut none = kyc.clone();
        none.mobile_hash = None;
        none.email_hash = None;
        assert_eq!(none.mobile_matches("9800000002", "Abc@123"), None);
        assert_eq!(none.email_matches("asha@example.in"), None);
    }

    #[test]
    fn age_checks_and_redacting_debug() {
        let kyc = sample("1234", "", "");
        assert_eq!(kyc.check_age(1_000_000 + 100, 3600), Ok(()));
        assert_eq!(
            kyc.check_age(1_000_000 + 3601, 3600),
            Err(DocumentError::TooOld)
        );
        assert_eq!(
            kyc.check_age(1_000_000 - 301, 3600),
            Err(DocumentError::FromFuture)
        );
        assert_eq!(DocumentError::TooOld.code(), "too_old");
        let debug = format!("{kyc:?}");
        assert!(
            !debug.contains("Asha") && !debug.contains("1990") && !debug.contains("1234"),
            "{debug}"
        );
    }
}
