//! What a CloudTrail S3 key says about its file before it is opened.
//!
//! `…/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`,
//! with an `o-<id>/` segment after `AWSLogs/` for organisation trails, and `CloudTrail-Digest/` or
//! `CloudTrail-Insight/` beside `CloudTrail/`. Trees copied without the `AWSLogs/…` prefix (e.g.
//! `<region>/YYYY/MM/DD/<file>`) still give their date and region from the file name.

use crate::event::time::{MILLIS_PER_DAY, Millis, days_from_civil};

/// What kind of object a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// API events (or anything not recognised as one of the others).
    Events,
    /// Log-file validation digests: not events, skipped.
    Digest,
    /// CloudTrail Insights events: reported apart.
    Insight,
    /// Another service's logs in the same bucket (`AWSLogs/<acct>/vpcflowlogs/…`): skipped.
    OtherService,
}

/// Facts taken from a file's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub kind: ObjectKind,
    pub org_id: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// Delivery time: from the file name (minute precision) or else the `YYYY/MM/DD` folders.
    pub delivered: Option<Millis>,
    /// How wide `delivered` is: 5 minutes for a file-name stamp, a day for a folder date.
    pub delivered_span: Millis,
}

impl KeyInfo {
    pub fn parse(path: &str) -> KeyInfo {
        // Split at the separators' bytes (memchr, no char decoding) into a list on the stack:
        // this runs for every file before any is read, and `str::split` with a char set was most
        // of `discover` on trees of small files.
        let mut parts: smallvec::SmallVec<[&str; 16]> = smallvec::SmallVec::new();
        let mut start = 0;
        for end in memchr::memchr2_iter(b'/', b'\\', path.as_bytes()).chain([path.len()]) {
            if end > start {
                parts.push(&path[start..end]);
            }
            start = end + 1;
        }
        let mut info = KeyInfo { kind: ObjectKind::Events, org_id: None, account: None, region: None, delivered: None, delivered_span: 0 };
        if let Some(i) = parts.iter().rposition(|p| *p == "AWSLogs") {
            let mut rest = &parts[i + 1..];
            if let Some(org) = rest.first().filter(|p| p.starts_with("o-")) {
                info.org_id = Some(org.to_string());
                rest = &rest[1..];
            }
            if let Some(acct) = rest.first().filter(|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit())) {
                info.account = Some(acct.to_string());
                rest = &rest[1..];
            }
            match rest.first().copied() {
                Some("CloudTrail") => {}
                Some("CloudTrail-Digest") => info.kind = ObjectKind::Digest,
                Some("CloudTrail-Insight") => info.kind = ObjectKind::Insight,
                Some(_) if rest.len() > 1 => info.kind = ObjectKind::OtherService,
                _ => {}
            }
            if let Some(region) = rest.get(1).filter(|r| looks_like_region(r)) {
                info.region = Some(region.to_string());
            }
        } else if parts.contains(&"CloudTrail-Digest") {
            info.kind = ObjectKind::Digest;
        } else if parts.contains(&"CloudTrail-Insight") {
            info.kind = ObjectKind::Insight;
        }
        if let Some(name) = parts.last() {
            parse_file_name(name, &mut info);
        }
        if info.delivered.is_none() {
            info.delivered = folder_date(&parts);
            if info.delivered.is_some() {
                info.delivered_span = MILLIS_PER_DAY;
            }
        }
        info
    }

    /// Whether the file can hold events in `[since, until]`. A file delivered at T holds events
    /// from before T only, but delivery can lag by hours (`addendum.reason` `DELIVERY_DELAY`,
    /// `SERVICE_OUTAGE`), so files up to `margin` after `until` are kept.
    pub fn may_overlap(&self, since: Option<Millis>, until: Option<Millis>, margin: Millis) -> bool {
        let Some(start) = self.delivered else { return true };
        let end = start + self.delivered_span;
        if since.is_some_and(|s| end < s) {
            return false;
        }
        if until.is_some_and(|u| start > u.saturating_add(margin)) {
            return false;
        }
        true
    }
}

fn looks_like_region(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() >= 9
        && b[2] == b'-'
        && b.last().is_some_and(u8::is_ascii_digit)
        && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// `<account>_CloudTrail[-Digest|-Insight]_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`.
fn parse_file_name(name: &str, info: &mut KeyInfo) {
    let fields: Vec<&str> = name.split('_').collect();
    if fields.len() < 4 || !fields[1].starts_with("CloudTrail") {
        return;
    }
    match fields[1] {
        "CloudTrail-Digest" => info.kind = ObjectKind::Digest,
        "CloudTrail-Insight" => info.kind = ObjectKind::Insight,
        _ => {}
    }
    if info.account.is_none() && fields[0].len() == 12 && fields[0].bytes().all(|b| b.is_ascii_digit()) {
        info.account = Some(fields[0].to_string());
    }
    if info.region.is_none() && looks_like_region(fields[2]) {
        info.region = Some(fields[2].to_string());
    }
    // Digest names put the trail name before the stamp; take the first field that is a stamp.
    if let Some(ts) = fields[3..].iter().find_map(|f| parse_stamp(f)) {
        info.delivered = Some(ts);
        info.delivered_span = 5 * 60_000;
    }
}

/// `YYYYMMDDTHHmmZ`.
fn parse_stamp(s: &str) -> Option<Millis> {
    let b = s.as_bytes();
    if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<i64>().ok());
    let (y, mo, d, h, mi) = (n(0..4)?, n(4..6)?, n(6..8)?, n(9..11)?, n(11..13)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * MILLIS_PER_DAY + (h * 60 + mi) * 60_000)
}

/// The last `YYYY/MM/DD` folder triple in the path.
fn folder_date(parts: &[&str]) -> Option<Millis> {
    let dirs = &parts[..parts.len().saturating_sub(1)];
    dirs.windows(3).rev().find_map(|w| {
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(w[0], 4) && digits(w[1], 2) && digits(w[2], 2)) {
            return None;
        }
        let (y, m, d) = (w[0].parse().ok()?, w[1].parse().ok()?, w[2].parse().ok()?);
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d) * MILLIS_PER_DAY)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::time::parse_event_time;

    #[test]
    fn account_trail_key() {
        let k = KeyInfo::parse(
            "bucket/prefix/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
        );
        assert_eq!(k.kind, ObjectKind::Events);
        assert_eq!(k.account.as_deref(), Some("111122223333"));
        assert_eq!(k.region.as_deref(), Some("us-east-2"));
        assert_eq!(k.org_id, None);
        assert_eq!(k.delivered, parse_event_time("2015-08-01T02:10:00Z"));
    }

    #[test]
    fn organisation_trail_key() {
        let k = KeyInfo::parse("/data/AWSLogs/o-abc123/222233334444/CloudTrail/eu-west-1/2024/01/31/x.json.gz");
        assert_eq!(k.org_id.as_deref(), Some("o-abc123"));
        assert_eq!(k.account.as_deref(), Some("222233334444"));
        assert_eq!(k.region.as_deref(), Some("eu-west-1"));
        assert_eq!(k.delivered, parse_event_time("2024-01-31T00:00:00Z"));
        assert_eq!(k.delivered_span, MILLIS_PER_DAY);
    }

    #[test]
    fn other_folders() {
        assert_eq!(KeyInfo::parse("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/01/01/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20240101T000000Z.json.gz").kind, ObjectKind::Digest);
        assert_eq!(KeyInfo::parse("AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/01/01/a.json.gz").kind, ObjectKind::Insight);
        assert_eq!(KeyInfo::parse("AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/01/01/a.log.gz").kind, ObjectKind::OtherService);
        let bare = KeyInfo::parse("us-west-1/2021/07/29/342082656213_CloudTrail_us-west-1_20210729T2355Z_abc.json.gz");
        assert_eq!(bare.account.as_deref(), Some("342082656213"));
        assert_eq!(bare.region.as_deref(), Some("us-west-1"));
        assert!(bare.delivered.is_some());
        assert_eq!(KeyInfo::parse("events.jsonl").delivered, None);
    }

    #[test]
    fn pruning() {
        let k = KeyInfo::parse("AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/10/f.json.gz");
        let day = |d: &str| parse_event_time(&format!("{d}T00:00:00Z"));
        assert!(k.may_overlap(day("2024-01-10"), None, 0));
        assert!(!k.may_overlap(day("2024-01-12"), None, 0));
        assert!(!k.may_overlap(None, day("2024-01-08"), MILLIS_PER_DAY));
        assert!(k.may_overlap(None, day("2024-01-09"), MILLIS_PER_DAY));
    }
}
