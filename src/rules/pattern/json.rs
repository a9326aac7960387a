//! JSON-pattern evaluation. Decisions where AWS is silent (docs/filter-patterns.md):
//! a comparison needs the property to exist and hold a scalar (string, number or boolean), so
//! `!=` on a missing property, on `null`, or on an object or array never matches; a selector
//! with a wildcard matches when any value it reaches passes; a number compares with JSON numbers
//! and with strings that are numbers (account ids are strings in CloudTrail).

use crate::event::Value;
use crate::event::lookup::{FieldLookup, FieldPath};
use std::borrow::Cow;

/// A compiled JSON pattern.
#[derive(Debug, Clone)]
pub enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cond(Cond),
}

/// `selector test`.
#[derive(Debug, Clone)]
pub struct Cond {
    pub selector: FieldPath,
    pub test: Test,
}

#[derive(Debug, Clone)]
pub enum Test {
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
pub enum NumOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Text with `*` wildcards (each matches any run of characters, the empty one included).
#[derive(Debug, Clone)]
pub struct Glob {
    parts: Vec<String>,
}

impl Glob {
    pub fn new(text: &str) -> Glob {
        Glob { parts: text.split('*').map(str::to_string).collect() }
    }

    pub fn matches(&self, s: &str) -> bool {
        let Some((first, rest)) = self.parts.split_first() else { return s.is_empty() };
        let Some(last) = rest.last() else { return s == first };
        if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) || !s.ends_with(last.as_str()) {
            return false;
        }
        let mut hay = &s[first.len()..s.len() - last.len()];
        for mid in &rest[..rest.len() - 1] {
            match memchr::memmem::find(hay.as_bytes(), mid.as_bytes()) {
                Some(i) => hay = &hay[i + mid.len()..],
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
    pub fn matches<L: FieldLookup + ?Sized>(&self, fields: &L) -> bool {
        match self {
            Expr::Or(parts) => parts.iter().any(|e| e.matches(fields)),
            Expr::And(parts) => parts.iter().all(|e| e.matches(fields)),
            Expr::Cond(c) => match &c.test {
                Test::NotExists => !fields.lookup_any(&c.selector, &mut |_| true),
                t => fields.lookup_any(&c.selector, &mut |v| t.passes(v)),
            },
        }
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
