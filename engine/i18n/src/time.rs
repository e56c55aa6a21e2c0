//! Calendar fields of a Unix time (UTC, proleptic Gregorian), for dates in messages.

/// A moment's calendar fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
}

/// The fields of `unix` seconds in UTC (H. Hinnant's days-from-civil, inverted).
pub fn civil(unix: i64) -> Civil {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: ((secs % 3600) / 60) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_moments() {
        let c = |y, mo, d, h, mi| Civil {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
        };
        assert_eq!(civil(0), c(1970, 1, 1, 0, 0));
        // 2026-12-07T13:05:00Z
        assert_eq!(civil(1_796_648_700), c(2026, 12, 7, 13, 5));
        // A leap day.
        assert_eq!(civil(951_782_400), c(2000, 2, 29, 0, 0));
        assert_eq!(civil(-1), c(1969, 12, 31, 23, 59));
    }
}
