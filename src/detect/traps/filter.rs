//! A substring screen run on a raw JSON member (`requestParameters`, `resources`) before it is
//! walked: if no trap key occurs in its text, nothing in it can match, and the walk (which costs
//! more than all the hash probes together) is skipped. Most events are settled here.

use memchr::memmem;

/// The screen. It never hides a match: it stands aside (always says "maybe") when a key could
/// be written with JSON escapes, when the text has escapes, or when there are too many keys for
/// one scan each to beat the walk.
#[derive(Debug, Default)]
pub(super) struct TextFilter {
    needles: Option<Vec<Needle>>,
}

#[derive(Debug)]
struct Needle {
    finder: memmem::Finder<'static>,
    /// IAM names: compared regardless of ASCII case.
    fold: bool,
    /// Folded keys: the position of the byte scanned for, the first that is not a letter when
    /// there is one (one case, so one `memchr` and few false starts; a letter is scanned for in
    /// both cases and common ones stop the scan every few bytes).
    anchor: usize,
}

/// Past this many keys a scan per key costs more than the walk it would save.
const MAX_NEEDLES: usize = 16;

impl TextFilter {
    /// `keys`: every trap key that can appear in the text, with whether it compares
    /// case-insensitively (then given in lower case).
    pub(super) fn new<'k>(keys: impl IntoIterator<Item = (&'k str, bool)>) -> TextFilter {
        let mut keys: Vec<(&str, bool)> = keys.into_iter().collect();
        // Traps of several accounts often share a key (the same object prefix in each account).
        keys.sort_unstable();
        keys.dedup();
        // CloudTrail writes printable ASCII as is; anything else might reach us escaped.
        let plain = |k: &str| !k.is_empty() && k.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if keys.len() > MAX_NEEDLES || !keys.iter().all(|(k, _)| plain(k)) {
            return TextFilter { needles: None };
        }
        let needles = keys
            .into_iter()
            .map(|(k, fold)| Needle {
                finder: memmem::Finder::new(k.as_bytes()).into_owned(),
                fold,
                anchor: k.bytes().position(|b| !b.is_ascii_alphabetic()).unwrap_or(0),
            })
            .collect();
        TextFilter { needles: Some(needles) }
    }

    /// False only when no key can occur in `text`.
    pub(super) fn may_match(&self, text: &str) -> bool {
        let Some(needles) = &self.needles else { return true };
        let t = text.as_bytes();
        if memchr::memchr(b'\\', t).is_some() {
            return true;
        }
        needles.iter().any(|n| if n.fold { contains_ignore_case(t, n.finder.needle(), n.anchor) } else { n.finder.find(t).is_some() })
    }
}

/// `needle` (lower case) in `hay`, ignoring ASCII case, found by its byte at `anchor`.
fn contains_ignore_case(hay: &[u8], needle: &[u8], anchor: usize) -> bool {
    let Some(&a) = needle.get(anchor) else { return true };
    let at = |i: usize| i.checked_sub(anchor).and_then(|s| hay.get(s..s + needle.len())).is_some_and(|h| h.eq_ignore_ascii_case(needle));
    if a.is_ascii_alphabetic() { memchr::memchr2_iter(a, a.to_ascii_uppercase(), hay).any(at) } else { memchr::memchr_iter(a, hay).any(at) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screens_without_hiding_matches() {
        let f = TextFilter::new([("devops_role", true), ("CustomerAccounts", false)]);
        assert!(f.may_match(r#"{"roleArn":"arn:aws:iam::1:role/DevOps_Role"}"#));
        assert!(f.may_match(r#"{"tableName":"CustomerAccounts"}"#));
        assert!(!f.may_match(r#"{"tableName":"customeraccounts"}"#), "table names are case-sensitive");
        assert!(!f.may_match(r#"{"bucketName":"b","key":"k"}"#));
        assert!(f.may_match(r#"{"tableName":"Customer\u0041ccounts"}"#), "escapes: stand aside");
        assert!(TextFilter::new([("caf\u{e9}", false)]).may_match("{}"), "non-ASCII key: stand aside");
        let many: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        assert!(TextFilter::new(many.iter().map(|k| (k.as_str(), false))).may_match("{}"));
        assert!(!TextFilter::new([]).may_match("{}"));
        let anchored = TextFilter::new([("backup_admin", true), ("backup_admin", true)]);
        assert!(anchored.may_match(r#"{"userName":"BACKUP_Admin"}"#));
        assert!(anchored.may_match(r#"{"userName":"backup_admin"}"#));
        assert!(!anchored.may_match(r#"{"userName":"backupadmin","b":"_admin"}"#));
        assert!(!anchored.may_match(r#"_admin"#), "anchor near the start: no key before it");
    }
}
