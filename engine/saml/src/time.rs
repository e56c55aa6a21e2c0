//! `xs:dateTime` in UTC, as SAML writes instants (`2026-12-07T18:35:00Z`).

/// Unix seconds as `YYYY-MM-DDThh:mm:ssZ`.
pub fn format(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// Reads `YYYY-MM-DDThh:mm:ss[.fraction](Z|+00:00)` as Unix seconds (fractions dropped);
/// `None` for anything else, including other offsets.
pub fn parse(text: &str) -> Option<u64> {
    let text = text.trim();
    let (main, zone) = if let Some(m) = text.strip_suffix('Z') {
        (m, "")
    } else if text.len() > 6 {
        text.split_at(text.len() - 6)
    } else {
        return None;
    };
    if !(zone.is_empty() || zone == "+00:00" || zone == "-00:00") {
        return None;
    }
    let main = main.split('.').next()?;
    let b = main.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| main.get(r)?.parse::<u64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 || y < 1970
    {
        return None;
    }
    let days = days_from_civil(y as i64, mo, d);
    u64::try_from(days)
        .ok()
        .map(|days| days * 86_400 + h * 3600 + mi * 60 + s)
}

// Howard Hinnant's civil-calendar algorithms.
fn civil_from_days(z: i64) -> (i64, u64, u64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u64, d: u64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_instants() {
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(format(1_796_668_500), "2026-12-07T18:35:00Z");
        assert_eq!(format(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(parse("2026-12-07T18:35:00Z"), Some(1_796_668_500));
        assert_eq!(parse("2026-12-07T18:35:00.123Z"), Some(1_796_668_500));
        assert_eq!(parse("2026-12-07T18:35:00+00:00"), Some(1_796_668_500));
        assert_eq!(parse("2026-12-07T18:35:00+05:30"), None);
        assert_eq!(parse("yesterday"), None);
    }
}
