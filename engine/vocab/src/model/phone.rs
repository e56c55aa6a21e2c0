//! Phone numbers in E.164, parsed with libphonenumber's metadata (the `phonenumber`
//! crate). Only numbers that can be mobile are accepted: premium-rate, shared-cost and
//! other service numbers are how toll fraud makes money from one-time-code forms.

use std::fmt;

use crate::error::{EngineError, EngineResult};

/// A phone number in E.164 (`+` and up to 15 digits). `Debug` shows it masked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a number as typed. Without a leading `+country code`, `default_region`
    /// (an ISO 3166 code such as `IN`) says where it is from; with none, such numbers are
    /// refused. The number must be valid and able to receive texts (mobile).
    pub fn parse(input: &str, default_region: Option<&str>) -> EngineResult<Self> {
        use phonenumber::Type;
        let s = input.trim();
        if s.is_empty() || s.len() > 32 {
            return Err(EngineError::invalid("Enter a phone number."));
        }
        // Letters would be read as keypad digits ("1-800-FLOWERS"): not a number anyone
        // types for a code.
        if !s
            .chars()
            .all(|c| c.is_ascii_digit() || " -.()/+".contains(c))
            || s[1..].contains('+')
        {
            return Err(EngineError::invalid(
                "A phone number has only digits, spaces, dashes, brackets and a leading +.",
            ));
        }
        let region = if s.starts_with('+') {
            None
        } else {
            match default_region {
                Some(r) => Some(
                    r.trim()
                        .to_ascii_uppercase()
                        .parse::<phonenumber::country::Id>()
                        .map_err(|_| EngineError::Internal(format!("unknown region {r}")))?,
                ),
                None => {
                    return Err(EngineError::invalid(
                        "Include the country code, starting with + (for example +44 7911 123456).",
                    ));
                }
            }
        };
        let n = phonenumber::parse(region, s)
            .map_err(|_| EngineError::invalid("That is not a valid phone number."))?;
        if n.extension().is_some() || !phonenumber::is_valid(&n) {
            return Err(EngineError::invalid("That is not a valid phone number."));
        }
        match n.number_type(&phonenumber::metadata::DATABASE) {
            Type::Mobile | Type::FixedLineOrMobile => {}
            _ => {
                return Err(EngineError::invalid(
                    "Codes can only be sent to mobile numbers. Enter a mobile number.",
                ));
            }
        }
        let e164 = n.format().mode(phonenumber::Mode::E164).to_string();
        if !e164.starts_with('+') || e164.len() > 16 {
            return Err(EngineError::invalid("That is not a valid phone number."));
        }
        Ok(Self(e164))
    }

    /// Wraps a number read back from the store (already E.164).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits only (some providers want `919876543210`).
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    /// For events, logs and labels: the first two digits and the last two, `+91******10`.
    pub fn masked(&self) -> String {
        let d = self.digits();
        if d.len() <= 4 {
            return "+****".into();
        }
        format!(
            "+{}{}{}",
            &d[..2],
            "*".repeat(d.len() - 4),
            &d[d.len() - 2..]
        )
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_normalise_to_e164() {
        let ok = |s: &str, region: Option<&str>| PhoneNumber::parse(s, region).unwrap().0;
        assert_eq!(ok("+91 98765 43210", None), "+919876543210");
        assert_eq!(ok("+91-98765-43210", None), "+919876543210");
        assert_eq!(ok("098765 43210", Some("IN")), "+919876543210");
        assert_eq!(ok("98765 43210", Some("in")), "+919876543210");
        assert_eq!(ok("(201) 555-0123", Some("US")), "+12015550123");
        assert_eq!(ok("+1 201.555.0123", Some("IN")), "+12015550123");
        assert_eq!(ok("+44 7911 123456", None), "+447911123456");
        assert_eq!(ok("07911 123456", Some("GB")), "+447911123456");
    }

    #[test]
    fn numbers_that_cannot_take_a_code_are_refused() {
        for (s, region) in [
            ("98765 43210", None),           // no country code, no default region
            ("", Some("IN")),                // empty
            ("+91 98765", None),             // too short
            ("+91 98765 43210 12345", None), // too long
            ("+1-800-FLOWERS", None),        // letters
            ("+1 900 555 0123", None),       // US premium rate
            ("+44 20 7946 0018", None),      // UK fixed line
            ("+44 909 879 0000", None),      // UK premium rate
            ("+91 98765 +43210", None),      // a second +
            ("+1 201 555 0123 ext. 9", None),
        ] {
            assert!(
                PhoneNumber::parse(s, region).is_err(),
                "{s:?} with {region:?} accepted"
            );
        }
    }

    #[test]
    fn numbers_are_masked() {
        let n = PhoneNumber::parse("+91 98765 43210", None).unwrap();
        assert_eq!(n.masked(), "+91********10");
        assert_eq!(n.digits(), "919876543210");
        assert_eq!(format!("{n:?}"), "PhoneNumber(+91********10)");
    }
}
