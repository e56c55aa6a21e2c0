//! Small shared words with no dependencies of their own: the request
//! [`Kind`]s of a run, the hash behind every pseudo-random choice, and the
//! parser of positive command-line numbers.
//!
//! They sit in this bottom-layer module so that modules which share them
//! (`plan` and `scenario`; `main` and `limits`) need not name each other.

/// What a single arrival does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Jwks,
    Discovery,
    Raw,
    Refresh,
    Login,
    Machine,
}

impl Kind {
    /// Every kind, indexed by `kind as usize`.
    pub const ALL: [Kind; 6] = [
        Kind::Jwks,
        Kind::Discovery,
        Kind::Raw,
        Kind::Refresh,
        Kind::Login,
        Kind::Machine,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Jwks => "jwks",
            Kind::Discovery => "discovery",
            Kind::Raw => "raw",
            Kind::Refresh => "refresh",
            Kind::Login => "login",
            Kind::Machine => "machine",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether requests of this kind need a seed file.
    pub fn needs_seed(self) -> bool {
        matches!(self, Kind::Refresh | Kind::Login)
    }
}

/// SplitMix64: a tiny, well-mixed hash of a counter, good enough to pick
/// kinds and users without a random-number crate.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Command-line parser for a finite number above zero (rates, seconds).
pub fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err("must be a positive number".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_their_names() {
        for (i, k) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(k as usize, i);
            assert_eq!(Kind::from_name(k.name()), Some(k));
        }
        assert_eq!(Kind::from_name("mixed"), None);
    }
}
