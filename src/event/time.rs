//! Event timestamps.
//!
//! CloudTrail writes `eventTime` as `YYYY-MM-DDTHH:MM:SSZ`. Re-shippers change that (Panther uses
//! `YYYY-MM-DD HH:MM:SS.000000000`, LookupEvents exports carry a local offset), so the hot path
//! parses the fixed CloudTrail form by hand and falls back to jiff for anything else.

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// Parses an event timestamp to epoch milliseconds; `None` when it is not a timestamp.
pub fn parse_event_time(s: &str) -> Option<Millis> {
    parse_fixed(s.as_bytes()).or_else(|| parse_slow(s))
}

/// `YYYY-MM-DDTHH:MM:SS[.fff…]Z`: the only form CloudTrail itself writes.
fn parse_fixed(b: &[u8]) -> Option<Millis> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &b[19..];
    let mut millis = 0i64;
    if rest.first() == Some(&b'.') {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        for i in 0..3 {
            millis = millis * 10 + rest.get(1 + i).filter(|c| i < digits && c.is_ascii_digit()).map_or(0, |c| i64::from(c - b'0'));
        }
        rest = &rest[1 + digits..];
    }
    if rest != b"Z" {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + min) * 60_000 + sec * 1000 + millis)
}

fn parse_slow(s: &str) -> Option<Millis> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    // Panther-style `YYYY-MM-DD HH:MM:SS.nnnnnnnnn` without a zone: CloudTrail times are UTC.
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return dt.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp().as_millisecond());
    }
    None
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats epoch milliseconds as RFC 3339 UTC with second precision (CloudTrail's own form).
pub fn format_millis(ms: Millis) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => format!("@{ms}ms"),
    }
}

/// Formats epoch milliseconds as the UTC day `YYYY-MM-DD`.
pub fn format_day(ms: Millis) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts.strftime("%Y-%m-%d").to_string(),
        Err(_) => format!("@{ms}ms"),
    }
}

pub const MILLIS_PER_DAY: Millis = 86_400_000;

/// Parses a user-supplied time bound: RFC 3339 (`2024-05-01T00:00:00Z`), a date (`2024-05-01`,
/// midnight UTC), or a span back from `now` (`7d`, `36h`, `90m`, `2w`).
pub fn parse_time_bound(s: &str, now: Millis) -> Result<Millis, String> {
    let t = s.trim();
    if let Some(ms) = parse_relative(t) {
        return Ok(now - ms);
    }
    // A time of day without a zone would be read as UTC, silently hours off for whoever meant
    // their local time: ask for the zone (a bare date is documented as the UTC day).
    let has_time = t.len() > "2024-05-01".len();
    if has_time && t.parse::<jiff::Timestamp>().is_err() && t.parse::<jiff::civil::DateTime>().is_ok() {
        return Err(format!("`{s}` has no time zone: add Z for UTC (`{t}Z`) or an offset (`{t}+02:00`); CloudTrail's times are UTC"));
    }
    if let Some(ms) = parse_event_time(t) {
        return Ok(ms);
    }
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return Ok(days_from_civil(i64::from(d.year()), i64::from(d.month()), i64::from(d.day())) * MILLIS_PER_DAY);
    }
    Err(format!(
        "`{s}` is not a time: use RFC 3339 (2024-05-01T00:00:00Z), a date (2024-05-01, from midnight UTC) or a span back from now (30m, 12h, 7d, 2w)"
    ))
}

fn parse_relative(t: &str) -> Option<Millis> {
    let unit = t.chars().last()?;
    let n: i64 = t[..t.len() - unit.len_utf8()].parse().ok()?;
    let per = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => MILLIS_PER_DAY,
        'w' => 7 * MILLIS_PER_DAY,
        _ => return None,
    };
    n.checked_mul(per)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cloudtrail_form() {
        assert_eq!(parse_event_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_event_time("2023-07-10T11:42:18Z"), Some(1_688_989_338_000));
        assert_eq!(parse_event_time("2023-07-10T11:42:18.250Z"), Some(1_688_989_338_250));
    }

    #[test]
    fn other_forms() {
        assert_eq!(parse_event_time("2023-07-10 11:42:18.000000000"), Some(1_688_989_338_000));
        assert_eq!(parse_event_time("2022-02-08 09:23:37+11:00"), parse_event_time("2022-02-07T22:23:37Z"));
        assert_eq!(parse_event_time("redacted"), None);
        assert_eq!(parse_event_time("..."), None);
        assert_eq!(parse_event_time("2023-02-30T00:00:00Z"), None);
        assert_eq!(parse_event_time(""), None);
    }

    #[test]
    fn bounds() {
        let now = 10 * MILLIS_PER_DAY;
        assert_eq!(parse_time_bound("7d", now), Ok(3 * MILLIS_PER_DAY));
        assert_eq!(parse_time_bound("1970-01-02", now), Ok(MILLIS_PER_DAY));
        assert!(parse_time_bound("yesterday", now).is_err());
        let e = parse_time_bound("2024-05-01T12:00:00", now).unwrap_err();
        assert!(e.contains("no time zone") && e.contains("2024-05-01T12:00:00Z"), "{e}");
        assert_eq!(parse_time_bound("1970-01-01T02:00:00+02:00", now), Ok(0));
    }

    proptest! {
        #[test]
        fn fixed_parser_agrees_with_jiff(secs in 0i64..4_102_444_800, ms in 0i64..1000, frac in any::<bool>()) {
            let ts = jiff::Timestamp::from_millisecond(secs * 1000 + if frac { ms } else { 0 }).unwrap();
            let text = if frac { ts.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string() } else { ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string() };
            prop_assert_eq!(parse_fixed(text.as_bytes()), Some(ts.as_millisecond()));
        }
    }
}
