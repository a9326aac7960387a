//! One way for detectors and rules to read any field of an event: a JSON path evaluated over the
//! borrowed record, descending into raw sub-objects only along the path (no DOM per event).

use super::value::{Pick, Value, children};
use serde_json::value::RawValue;
use std::ops::ControlFlow;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// `.name` or `['name']`.
    Key(String),
    /// `[3]`.
    Index(usize),
    /// `[*]`: every element of an array.
    AnyIndex,
    /// `.*`: every member of an object.
    AnyKey,
}

/// A parsed selector such as `$.requestParameters.roleArn`, `$.resources[0].ARN`,
/// `$.a[*].b`, `$.*` or `$.['dotted.key']`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub segments: Vec<Segment>,
}

impl FieldPath {
    /// Parses a selector; the leading `$` is optional (`eventName` = `$.eventName`).
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let s = text.trim();
        let mut rest = s.strip_prefix('$').unwrap_or(s);
        let mut segments = Vec::new();
        let mut first = !s.starts_with('$');
        while !rest.is_empty() || first {
            if first {
                first = false;
                if rest.starts_with('[') {
                    continue;
                }
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                segments.push(name_segment(&rest[..end], text)?);
                rest = &rest[end..];
            } else if let Some(r) = rest.strip_prefix('.') {
                if let Some(r2) = r.strip_prefix('[') {
                    rest = r2;
                    rest = bracket(rest, &mut segments, text)?;
                    continue;
                }
                let end = r.find(['.', '[']).unwrap_or(r.len());
                segments.push(name_segment(&r[..end], text)?);
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                rest = bracket(r, &mut segments, text)?;
            } else {
                return Err(format!("unexpected `{rest}` in selector `{text}`"));
            }
        }
        if segments.is_empty() {
            return Err(format!("selector `{text}` names no field"));
        }
        Ok(FieldPath { segments })
    }
}

fn name_segment(name: &str, whole: &str) -> Result<Segment, String> {
    match name {
        "" => Err(format!("empty field name in selector `{whole}`")),
        "*" => Ok(Segment::AnyKey),
        n => Ok(Segment::Key(n.to_string())),
    }
}

/// Parses what follows a `[`: `*]`, `3]` or `'key']`.
fn bracket<'t>(r: &'t str, segments: &mut Vec<Segment>, whole: &str) -> Result<&'t str, String> {
    if let Some(r) = r.strip_prefix("*]") {
        segments.push(Segment::AnyIndex);
        return Ok(r);
    }
    for quote in ['\'', '"'] {
        if let Some(q) = r.strip_prefix(quote) {
            let end = q.find(quote).ok_or_else(|| format!("unclosed quote in selector `{whole}`"))?;
            let after = q[end + 1..].strip_prefix(']').ok_or_else(|| format!("expected `]` in selector `{whole}`"))?;
            segments.push(Segment::Key(q[..end].to_string()));
            return Ok(after);
        }
    }
    let end = r.find(']').ok_or_else(|| format!("unclosed `[` in selector `{whole}`"))?;
    let n = r[..end].trim().parse().map_err(|_| format!("`[{}]` is not an array index in selector `{whole}`", &r[..end]))?;
    segments.push(Segment::Index(n));
    Ok(&r[end + 1..])
}

/// The top-level members a record decodes as text while it is read (numbers and booleans as
/// written): a rule comparing one of them with text need not find and decode it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    EventVersion,
    EventSource,
    EventName,
    AwsRegion,
    SourceIpAddress,
    UserAgent,
    ErrorCode,
    ErrorMessage,
    EventType,
    EventCategory,
    RecipientAccountId,
}

impl TextField {
    /// The field a path names, when it is one of them.
    pub fn of(path: &[Segment]) -> Option<TextField> {
        let [Segment::Key(k)] = path else { return None };
        Some(match k.as_str() {
            "eventVersion" => TextField::EventVersion,
            "eventSource" => TextField::EventSource,
            "eventName" => TextField::EventName,
            "awsRegion" => TextField::AwsRegion,
            "sourceIPAddress" => TextField::SourceIpAddress,
            "userAgent" => TextField::UserAgent,
            "errorCode" => TextField::ErrorCode,
            "errorMessage" => TextField::ErrorMessage,
            "eventType" => TextField::EventType,
            "eventCategory" => TextField::EventCategory,
            "recipientAccountId" => TextField::RecipientAccountId,
            _ => return None,
        })
    }
}

/// Field access for rules. Implemented by [`crate::event::Record`]; tests may implement it over
/// anything else.
pub trait FieldLookup {
    /// Calls `f` for each value at `path` (several when the path has wildcards), until `f` breaks.
    fn visit_path<'s>(&'s self, path: &[Segment], f: &mut dyn FnMut(Value<'s>) -> ControlFlow<()>) -> ControlFlow<()>;

    /// A top-level member as the reader decoded it, when it did: `Some(None)` when the member
    /// is missing, `null`, an object or an array (or, rarely, text that did not decode).
    /// `None`: not known here, look it up.
    fn text_field(&self, _field: TextField) -> Option<Option<&str>> {
        None
    }

    /// True when the text is known to hold no backslash, so no JSON escape: then nothing can
    /// have failed to decode, and a `\u` never needs looking for. False: not known.
    fn plain(&self) -> bool {
        false
    }

    /// The first value at `path`.
    fn lookup<'s>(&'s self, path: &FieldPath) -> Option<Value<'s>> {
        let mut found = None;
        let _ = self.visit_path(&path.segments, &mut |v| {
            found = Some(v);
            ControlFlow::Break(())
        });
        found
    }

    /// Whether any value at `path` satisfies `pred`.
    fn lookup_any(&self, path: &FieldPath, pred: &mut dyn FnMut(&Value<'_>) -> bool) -> bool {
        self.visit_path(&path.segments, &mut |v| if pred(&v) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }).is_break()
    }
}

/// Walks `path` below one raw value.
pub fn visit_raw<'a>(raw: &'a RawValue, path: &[Segment], f: &mut dyn FnMut(Value<'a>) -> ControlFlow<()>) -> ControlFlow<()> {
    let Some((seg, rest)) = path.split_first() else {
        return f(Value::from_raw(raw));
    };
    let pick = match seg {
        Segment::Key(k) => Pick::Key(k),
        Segment::Index(i) => Pick::Index(*i),
        Segment::AnyIndex | Segment::AnyKey => Pick::All,
    };
    let is_object = raw.get().starts_with('{');
    let wrong_kind = match seg {
        Segment::Key(_) | Segment::AnyKey => !is_object,
        Segment::Index(_) | Segment::AnyIndex => is_object,
    };
    if wrong_kind {
        return ControlFlow::Continue(());
    }
    for (_, child) in children(raw, pick) {
        visit_raw(child, rest, f)?;
    }
    ControlFlow::Continue(())
}

impl FieldLookup for RawValue {
    fn visit_path<'s>(&'s self, path: &[Segment], f: &mut dyn FnMut(Value<'s>) -> ControlFlow<()>) -> ControlFlow<()> {
        visit_raw(self, path, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<Segment> {
        FieldPath::parse(s).unwrap().segments
    }
    fn k(s: &str) -> Segment {
        Segment::Key(s.into())
    }

    #[test]
    fn parses_selectors() {
        assert_eq!(p("$.a.b"), vec![k("a"), k("b")]);
        assert_eq!(p("eventName"), vec![k("eventName")]);
        assert_eq!(p("$.a[0].b"), vec![k("a"), Segment::Index(0), k("b")]);
        assert_eq!(p("$.a[*]"), vec![k("a"), Segment::AnyIndex]);
        assert_eq!(p("$.*"), vec![Segment::AnyKey]);
        assert_eq!(p("$.['dotted.key'].x"), vec![k("dotted.key"), k("x")]);
        assert_eq!(p("$['dotted.key']"), vec![k("dotted.key")]);
        assert!(FieldPath::parse("$.").is_err());
        assert!(FieldPath::parse("$.a[x]").is_err());
        assert!(FieldPath::parse("$").is_err());
    }

    #[test]
    fn walks_raw_json() {
        let raw: &RawValue = serde_json::from_str(r#"{"a":{"b":[{"c":1},{"c":"two"}]},"d.e":true}"#).unwrap();
        let mut seen = Vec::new();
        let _ = raw.visit_path(&p("$.a.b[*].c"), &mut |v| {
            seen.push(format!("{v:?}"));
            ControlFlow::Continue(())
        });
        assert_eq!(seen, vec!["Number(\"1\")", "String(\"two\")"]);
        assert_eq!(raw.lookup(&FieldPath::parse("$.['d.e']").unwrap()), Some(Value::Bool(true)));
        assert_eq!(raw.lookup(&FieldPath::parse("$.a.b[1].c").unwrap()).and_then(|v| v.as_str().map(String::from)), Some("two".into()));
        assert!(raw.lookup(&FieldPath::parse("$.a[0]").unwrap()).is_none());
        assert!(matches!(raw.lookup(&FieldPath::parse("$.a").unwrap()), Some(Value::Object(_))));
    }
}
