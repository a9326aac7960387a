//! JSON-pattern evaluation. Decisions where AWS is silent (docs/filter-patterns.md):
//! a comparison needs the property to exist and hold a scalar (string, number or boolean), so
//! `!=` on a missing property, on `null`, or on an object or array never matches; a selector
//! with a wildcard matches when any value it reaches passes; a number compares with JSON numbers
//! and with strings that are numbers (account ids are strings in CloudTrail).

use crate::event::Value;
use crate::event::lookup::{FieldLookup, FieldPath, Segment, TextField};
use crate::event::record;
use std::borrow::Cow;

/// A compiled JSON pattern.
#[derive(Debug, Clone)]
pub(super) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cond(Cond),
}

/// `selector test`.
#[derive(Debug, Clone)]
pub(super) struct Cond {
    pub selector: FieldPath,
    pub test: Test,
    /// Bytes the raw event must contain for the test to pass (see [`Cond::new`]).
    needle: Option<Box<memchr::memmem::Finder<'static>>>,
    /// The member a text test reads, when the record has it decoded (see [`Expr::eval`]).
    text: Option<TextField>,
}

impl Cond {
    /// A string test that needs a value starting, ending or containing some text needs that
    /// text, quoted as JSON writes it, in the raw event: `= "Root"` needs `"Root"`, `= "Access*"`
    /// needs `"Access`. Looking for those bytes first (a SIMD search) rejects most events
    /// without walking into nested objects. Exact only for text JSON never escapes (letters,
    /// digits, `_ . : - @ +` and blanks), and only while the event holds no `\u` escape, which
    /// `matches` checks.
    ///
    /// A value the record has at hand (a top-level member, a direct member of `userIdentity`)
    /// is found sooner than the screen searches the whole text (measured: `"Root"` cost four
    /// times the `userIdentity.type` lookup), so only the other selectors get one.
    pub(super) fn new(selector: FieldPath, test: Test) -> Cond {
        let needle = match &test {
            Test::Str { negate: false, glob } if !record::at_hand(&selector.segments) => glob.needle(),
            _ => None,
        }
        .map(|n| Box::new(memchr::memmem::Finder::new(&n).into_owned()));
        let text = match &test {
            Test::Str { .. } | Test::AnyStr(_) | Test::Regex { .. } => TextField::of(&selector.segments),
            _ => None,
        };
        Cond { selector, test, needle, text }
    }
}

#[derive(Debug, Clone)]
pub(super) enum Test {
    /// `= "text*"` / `!= bare*`: text with `*` wildcards.
    Str {
        negate: bool,
        glob: Glob,
    },
    /// A numeric literal with any operator.
    Num {
        op: NumOp,
        value: f64,
        text: String,
    },
    /// `= "a" || = "b*"` on one selector, folded by [`Expr::merge_alternatives`]: any glob.
    AnyStr(Vec<Glob>),
    /// `= %regex%` / `!= %regex%`, searched in the value's text.
    Regex {
        negate: bool,
        re: regex::Regex,
    },
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NumOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Text with `*` wildcards (each matches any run of characters, the empty one included).
#[derive(Debug, Clone)]
pub(super) struct Glob {
    parts: Vec<String>,
    /// Finders for the parts between the first and the last, built once: building one per test
    /// cost more than the search (a glob such as `arn:*:assumed-role/Auditor/*` is tested on
    /// every candidate event).
    middles: Vec<memchr::memmem::Finder<'static>>,
}

impl Glob {
    pub(super) fn new(text: &str) -> Glob {
        let parts: Vec<String> = text.split('*').map(str::to_string).collect();
        let inner = parts.get(1..parts.len().saturating_sub(1)).unwrap_or_default();
        let middles = inner.iter().map(|m| memchr::memmem::Finder::new(m.as_bytes()).into_owned()).collect();
        Glob { parts, middles }
    }

    /// The longest quoted fragment every matching JSON string holds (see [`Cond::new`]).
    fn needle(&self) -> Option<Vec<u8>> {
        let safe = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b" _.:-@+".contains(&b));
        let n = self.parts.len();
        let mut best: Option<Vec<u8>> = None;
        let mut consider = |bytes: Vec<u8>| {
            if best.as_ref().is_none_or(|b| bytes.len() > b.len()) {
                best = Some(bytes);
            }
        };
        // A string test also passes on a number or boolean written bare (`404`, `true`), so a
        // fragment that could be part of one is looked for without the quote.
        let could_be_bare = |t: &str| t.bytes().all(|b| b.is_ascii_digit() || b".+-eEtruefals".contains(&b));
        for (i, part) in self.parts.iter().enumerate() {
            if !safe(part) {
                continue;
            }
            let quoted = !could_be_bare(part);
            let mut bytes = Vec::with_capacity(part.len() + 2);
            if i == 0 && quoted {
                bytes.push(b'"');
            }
            bytes.extend_from_slice(part.as_bytes());
            if i == n - 1 && quoted {
                bytes.push(b'"');
            }
            consider(bytes);
        }
        best
    }

    /// The text, when it has no wildcard.
    pub(super) fn literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }

    /// The prefix, when the glob is `prefix*` (one wildcard, at the end).
    pub(super) fn prefix(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [prefix, rest] if rest.is_empty() => Some(prefix),
            _ => None,
        }
    }

    pub(super) fn matches(&self, s: &str) -> bool {
        let Some((first, rest)) = self.parts.split_first() else { return s.is_empty() };
        let Some(last) = rest.last() else { return s == first };
        if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) || !s.ends_with(last.as_str()) {
            return false;
        }
        let mut hay = &s.as_bytes()[first.len()..s.len() - last.len()];
        for mid in &self.middles {
            match mid.find(hay) {
                Some(i) => hay = &hay[i + mid.needle().len()..],
                None => return false,
            }
        }
        true
    }
}

/// A scalar's text for comparison: strings as decoded, numbers as written, booleans as
/// `true`/`false`; `null`, objects and arrays have none.
fn scalar_text<'v>(v: &'v Value<'_>) -> Option<Cow<'v, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s.as_ref())),
        Value::Number(n) => Some(Cow::Borrowed(n)),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Null | Value::Object(_) | Value::Array(_) => None,
    }
}

impl Test {
    fn passes(&self, v: &Value<'_>) -> bool {
        match self {
            Test::Str { negate, glob } => scalar_text(v).is_some_and(|t| glob.matches(&t) != *negate),
            Test::AnyStr(globs) => scalar_text(v).is_some_and(|t| globs.iter().any(|g| g.matches(&t))),
            Test::Regex { negate, re } => scalar_text(v).is_some_and(|t| re.is_match(&t) != *negate),
            Test::Num { op, value, text } => {
                let n = match v {
                    Value::Number(n) => n.parse::<f64>().ok(),
                    Value::String(s) if super::parse::is_number(s) => s.parse::<f64>().ok(),
                    _ => None,
                };
                let Some(n) = n else { return false };
                let same_text = matches!(v, Value::Number(t) if *t == text.as_str()) || matches!(v, Value::String(s) if s == text);
                match op {
                    NumOp::Eq => same_text || n == *value,
                    NumOp::Ne => !same_text && n != *value,
                    NumOp::Lt => n < *value,
                    NumOp::Le => n <= *value,
                    NumOp::Gt => n > *value,
                    NumOp::Ge => n >= *value,
                }
            }
            Test::IsNull => matches!(v, Value::Null),
            Test::IsTrue => matches!(v, Value::Bool(true)),
            Test::IsFalse => matches!(v, Value::Bool(false)),
            Test::NotExists => false,
        }
    }
}

impl Expr {
    /// Folds the alternatives of every `||` that compare one selector with strings into one
    /// test, so the field is found once rather than once per alternative (CIS lists up to 16
    /// `$.eventName = …`, a `= $list` parameter expands to one per entry). The answer is the
    /// same: a value passes one of the tests exactly when one of the tests finds a value that
    /// passes it. Screened tests are left apart; each keeps its screen.
    pub(super) fn merge_alternatives(&mut self) {
        let parts = match self {
            Expr::And(parts) => return parts.iter_mut().for_each(Expr::merge_alternatives),
            Expr::Or(parts) => parts,
            _ => return,
        };
        parts.iter_mut().for_each(Expr::merge_alternatives);
        // `(a || b) || c` is `a || b || c`.
        let mut flat = Vec::with_capacity(parts.len());
        for part in std::mem::take(parts) {
            match part {
                Expr::Or(inner) => flat.extend(inner),
                part => flat.push(part),
            }
        }
        let mut merged: Vec<Expr> = Vec::with_capacity(flat.len());
        for part in flat {
            let at = string_alternative(&part).and_then(|sel| merged.iter().position(|m| string_alternative(m) == Some(sel)));
            match (at.map(|i| &mut merged[i]), part) {
                (Some(Expr::Cond(m)), Expr::Cond(c)) => {
                    let mut globs = globs_of(std::mem::replace(&mut m.test, Test::NotExists));
                    globs.extend(globs_of(c.test));
                    m.test = Test::AnyStr(globs);
                }
                (_, part) => merged.push(part),
            }
        }
        *self = if merged.len() == 1 { merged.remove(0) } else { Expr::Or(merged) };
    }

    /// Orders the parts of every `&&` and `||` cheapest first. Evaluation has no side effects,
    /// so the answer is the same; it only comes sooner: a screened test is mostly settled by
    /// the screen, a top-level member is at hand, a nested one is parsed on the way, a wildcard
    /// walks every element.
    pub(super) fn cheapest_first(&mut self) {
        if let Expr::Or(parts) | Expr::And(parts) = self {
            parts.iter_mut().for_each(Expr::cheapest_first);
            parts.sort_by_key(Expr::cost);
        }
    }

    fn cost(&self) -> u32 {
        match self {
            Expr::Or(parts) | Expr::And(parts) => parts.iter().map(Expr::cost).sum(),
            Expr::Cond(c) => {
                let wild = c.selector.segments.iter().any(|s| matches!(s, Segment::AnyIndex | Segment::AnyKey));
                // Measured in instructions: the byte screen (a SIMD search that settles most
                // events) is cheaper than finding and decoding even a value at hand.
                match (c.selector.segments.len(), wild, c.needle.is_some()) {
                    (_, true, _) => 40,
                    (_, false, true) => 1,
                    _ if record::at_hand(&c.selector.segments) => 2,
                    (n, false, false) => 8 * n as u32,
                }
            }
        }
    }

    /// Whether the event (`fields`, and its `raw` text for the needle screen) matches.
    pub(super) fn matches<L: FieldLookup + ?Sized>(&self, fields: &L, raw: &str) -> bool {
        self.eval(fields, raw, &std::cell::Cell::new(None))
    }

    /// `escaped` caches whether `raw` holds a `\u` escape (then needles cannot be trusted).
    /// A record read without a backslash has none, and is not searched: most rules test a
    /// member most events lack (`errorCode`), and the search of the whole text for the escape
    /// cost more than all the rest of their evaluation.
    fn eval<L: FieldLookup + ?Sized>(&self, fields: &L, raw: &str, escaped: &std::cell::Cell<Option<bool>>) -> bool {
        match self {
            Expr::Or(parts) => parts.iter().any(|e| e.eval(fields, raw, escaped)),
            Expr::And(parts) => parts.iter().all(|e| e.eval(fields, raw, escaped)),
            Expr::Cond(c) => {
                let has_escape = || {
                    if fields.plain() {
                        return false;
                    }
                    static ESCAPE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
                        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\\u"));
                    escaped.get().unwrap_or_else(|| {
                        let e = ESCAPE.find(raw.as_bytes()).is_some();
                        escaped.set(Some(e));
                        e
                    })
                };
                if let Some(n) = &c.needle
                    && n.find(raw.as_bytes()).is_none()
                    && !has_escape()
                {
                    return false;
                }
                // A text test passes on the member's text, or on nothing when it has none: a
                // decoded member is that text. Only a string that failed to decode (a lone
                // `\u` surrogate) reads as none here yet as "" below, so then look again.
                match c.text.and_then(|t| fields.text_field(t)) {
                    Some(Some(text)) => return c.test.passes(&Value::String(Cow::Borrowed(text))),
                    Some(None) if !has_escape() => return false,
                    _ => {}
                }
                match &c.test {
                    Test::NotExists => !fields.lookup_any(&c.selector, &mut |_| true),
                    t => fields.lookup_any(&c.selector, &mut |v| t.passes(v)),
                }
            }
        }
    }
}

/// The selector of a string test [`Expr::merge_alternatives`] may fold with others.
fn string_alternative(e: &Expr) -> Option<&FieldPath> {
    match e {
        Expr::Cond(c) if c.needle.is_none() && matches!(c.test, Test::Str { negate: false, .. } | Test::AnyStr(_)) => Some(&c.selector),
        _ => None,
    }
}

fn globs_of(t: Test) -> Vec<Glob> {
    match t {
        Test::Str { glob, .. } => vec![glob],
        Test::AnyStr(globs) => globs,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn globs() {
        for (g, s, want) in [
            ("abc", "abc", true),
            ("abc", "abcd", false),
            ("*Unauthorized", "Client.Unauthorized", true),
            ("AccessDenied*", "AccessDeniedException", true),
            ("AccessDenied*", "Denied", false),
            ("*", "", true),
            ("a*b*c", "a-b-c", true),
            ("a*b*c", "a-c-b", false),
            ("ab*ba", "aba", false),
            ("*.html*", "GET /index.html HTTP/1.0", true),
        ] {
            assert_eq!(Glob::new(g).matches(s), want, "{g} on {s}");
        }
    }
}
