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
}

/// Past this many keys a scan per key costs more than the walk it would save.
const MAX_NEEDLES: usize = 16;

impl TextFilter {
    /// `keys`: every trap key that can appear in the text, with whether it compares
    /// case-insensitively (then given in lower case).
    pub(super) fn new<'k>(keys: impl IntoIterator<Item = (&'k str, bool)>) -> TextFilter {
        let keys: Vec<(&str, bool)> = keys.into_iter().collect();
        // CloudTrail writes printable ASCII as is; anything else might reach us escaped.
        let plain = |k: &str| !k.is_empty() && k.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if keys.len() > MAX_NEEDLES || !keys.iter().all(|(k, _)| plain(k)) {
            return TextFilter { needles: None };
        }
        let needles = keys.into_iter().map(|(k, fold)| Needle { finder: memmem::Finder::new(k.as_bytes()).into_owned(), fold }).collect();
        TextFilter { needles: Some(needles) }
    }

    /// False only when no key can occur in `text`.
    pub(super) fn may_match(&self, text: &str) -> bool {
        let Some(needles) = &self.needles else { return true };
        let t = text.as_bytes();
        if memchr::memchr(b'\\', t).is_some() {
            return true;
        }
        needles.iter().any(|n| if n.fold { contains_ignore_case(t, n.finder.needle()) } else { n.finder.find(t).is_some() })
    }
}

/// `needle` (lower case) in `hay`, ignoring ASCII case.
fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else { return true };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), hay)
        .any(|i| hay.get(i + 1..i + 1 + rest.len()).is_some_and(|h| h.eq_ignore_ascii_case(rest)))
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
    }
}
