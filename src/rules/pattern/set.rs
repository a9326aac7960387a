//! Many patterns over one event, without trying each: most rules name the API calls they are
//! about (`$.eventName = CreateTrail || …`, `$.eventName = "List*"`), so patterns are indexed by
//! the `eventName` values (or prefixes) they can match, and an event is tried only against its
//! name's patterns and the patterns that name none. The index is conservative: it never skips a
//! pattern that could match.

use super::json::{Expr, Glob, Test};
use super::{FilterPattern, Kind};
use crate::event::Record;
use crate::event::lookup::Segment;
use smallvec::SmallVec;
use std::collections::{HashMap, HashSet};

/// A set of compiled patterns, indexed by event name.
#[derive(Debug, Clone, Default)]
pub struct PatternSet {
    patterns: Vec<FilterPattern>,
    /// Every candidate of a name some pattern names, sorted.
    by_name: HashMap<String, Vec<usize>, foldhash::fast::FixedState>,
    /// `(prefix, pattern)`: patterns that match names starting with `prefix` (`List*`).
    by_prefix: Vec<(String, usize)>,
    /// Patterns that may match whatever the event's name.
    always: Vec<usize>,
}

/// What a pattern requires of `eventName`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Name {
    Exact(String),
    Prefix(String),
}

impl PatternSet {
    pub fn new(patterns: Vec<FilterPattern>) -> PatternSet {
        let mut set = PatternSet { patterns, ..PatternSet::default() };
        for (i, p) in set.patterns.iter().enumerate() {
            let names = match &p.kind {
                Kind::Json(e) => event_names(e),
                _ => None,
            };
            let Some(names) = names else {
                set.always.push(i);
                continue;
            };
            for n in names {
                match n {
                    Name::Exact(n) => set.by_name.entry(n).or_default().push(i),
                    Name::Prefix(p) => set.by_prefix.push((p, i)),
                }
            }
        }
        // A listed name's candidates are known in full: the name's own, the prefixes it starts
        // with, and those for every name, sorted once here rather than per event.
        for (name, list) in &mut set.by_name {
            list.extend_from_slice(&set.always);
            list.extend(set.by_prefix.iter().filter(|(p, _)| name.starts_with(p.as_str())).map(|&(_, i)| i));
            list.sort_unstable();
            list.dedup();
        }
        set
    }

    pub fn get(&self, i: usize) -> &FilterPattern {
        &self.patterns[i]
    }

    /// Calls `f` with the index of every pattern `rec` matches, in index order.
    pub fn for_each_match(&self, rec: &Record<'_>, f: impl FnMut(usize)) {
        // A record whose `eventName` is not a string (absent from the typed view) may still
        // match a pattern that compares it as text: such records are tried against everything.
        let Some(name) = rec.event_name.as_deref() else {
            (0..self.patterns.len()).filter(|&i| self.patterns[i].matches(rec)).for_each(f);
            return;
        };
        let try_each = |candidates: &[usize], f| candidates.iter().copied().filter(|&i| self.patterns[i].matches(rec)).for_each(f);
        if let Some(listed) = self.by_name.get(name) {
            return try_each(listed, f);
        }
        let mut candidates: SmallVec<[usize; 32]> = SmallVec::from_slice(&self.always);
        candidates.extend(self.by_prefix.iter().filter(|(p, _)| name.starts_with(p.as_str())).map(|&(_, i)| i));
        candidates.sort_unstable();
        candidates.dedup();
        try_each(&candidates, f);
    }
}

/// The event names an expression can match, when it limits them to a finite list of names and
/// prefixes.
fn event_names(e: &Expr) -> Option<HashSet<Name>> {
    match e {
        Expr::Cond(c) => match (c.selector.segments.as_slice(), &c.test) {
            ([Segment::Key(k)], Test::Str { negate: false, glob }) if k == "eventName" => Some(HashSet::from([name_of(glob)?])),
            ([Segment::Key(k)], Test::AnyStr(globs)) if k == "eventName" => globs.iter().map(name_of).collect(),
            _ => None,
        },
        Expr::Or(parts) => {
            let mut all = HashSet::new();
            for p in parts {
                all.extend(event_names(p)?);
            }
            Some(all)
        }
        // Every part must match: any part that limits the names limits the whole.
        Expr::And(parts) => parts.iter().filter_map(event_names).min_by_key(HashSet::len),
    }
}

/// What `$.eventName = glob` requires of the name, when it is a name or a prefix.
fn name_of(glob: &Glob) -> Option<Name> {
    match (glob.literal(), glob.prefix()) {
        (Some(s), _) => Some(Name::Exact(s.to_string())),
        (_, Some(p)) if !p.is_empty() => Some(Name::Prefix(p.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &str) -> Option<Vec<String>> {
        let FilterPattern { kind: Kind::Json(e), .. } = FilterPattern::parse(p).unwrap() else { return None };
        event_names(&e).map(|s| {
            let mut v: Vec<String> = s
                .into_iter()
                .map(|n| match n {
                    Name::Exact(s) => s,
                    Name::Prefix(p) => format!("{p}*"),
                })
                .collect();
            v.sort();
            v
        })
    }

    #[test]
    fn indexes_only_what_limits_the_name() {
        assert_eq!(names("{ ($.eventName = A) || ($.eventName = \"B\") }"), Some(vec!["A".into(), "B".into()]));
        assert_eq!(names("{ $.eventSource = s3 && ($.eventName = A || $.eventName = B) }"), Some(vec!["A".into(), "B".into()]));
        assert_eq!(names("{ $.eventName = A || $.errorCode = X }"), None);
        assert_eq!(names("{ $.eventName = \"List*\" || $.eventName = Get* }"), Some(vec!["Get*".into(), "List*".into()]));
        assert_eq!(names("{ $.eventName = \"*Bucket\" }"), None);
        assert_eq!(names("{ $.eventName = A || $.eventName = \"*Bucket\" }"), None);
        assert_eq!(names("{ $.eventName = \"*\" }"), None);
        assert_eq!(names("{ $.eventName != A }"), None);
        assert_eq!(names("{ $.a.eventName = A }"), None);
    }

    #[test]
    fn a_set_finds_what_each_pattern_finds() {
        let patterns = [
            "{ $.eventName = CreateTrail || $.eventName = StopLogging }",
            "{ $.errorCode = \"AccessDenied*\" }",
            "{ $.eventName = StopLogging && $.eventSource = cloudtrail.amazonaws.com }",
            "StopLogging",
            "{ $.eventName = \"Stop*\" }",
            "{ $.eventName = \"42\" }",
            "{ ($.eventName = \"List*\" || $.eventName = \"Stop*\") && $.eventSource = cloudtrail.amazonaws.com }",
        ];
        let set = PatternSet::new(patterns.iter().map(|p| FilterPattern::parse(p).unwrap()).collect());
        for ev in [
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com"}"#,
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"CreateTrail","eventSource":"cloudtrail.amazonaws.com","errorCode":"AccessDenied"}"#,
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"GetObject","eventSource":"s3.amazonaws.com"}"#,
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","errorCode":"AccessDeniedException"}"#,
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":42,"eventSource":"s3.amazonaws.com"}"#,
        ] {
            let rec = Record::parse(ev).unwrap();
            let mut got = Vec::new();
            set.for_each_match(&rec, |i| got.push(i));
            let want: Vec<usize> = (0..patterns.len()).filter(|&i| set.get(i).matches(&rec)).collect();
            assert_eq!(got, want, "{ev}");
        }
    }
}
