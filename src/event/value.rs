//! JSON values as rules see them, decoded lazily from raw record text.

use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::fmt;

/// One JSON value found at a path. Objects and arrays stay raw: a filter-pattern selector that
/// lands on one never matches, and nothing else needs them decoded.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// The number's JSON text, so `1.0` and `1` keep the form the event had.
    Number(&'a str),
    String(Cow<'a, str>),
    Object(&'a RawValue),
    Array(&'a RawValue),
}

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Object(a), Value::Object(b)) | (Value::Array(a), Value::Array(b)) => a.get() == b.get(),
            _ => false,
        }
    }
}

impl<'a> Value<'a> {
    /// Decodes one raw JSON value (shallowly: containers stay raw).
    pub fn from_raw(raw: &'a RawValue) -> Value<'a> {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'"') => Value::String(decode_str(text).unwrap_or(Cow::Borrowed(""))),
            Some(b'{') => Value::Object(raw),
            Some(b'[') => Value::Array(raw),
            Some(b't') => Value::Bool(true),
            Some(b'f') => Value::Bool(false),
            Some(b'n') | None => Value::Null,
            Some(_) => Value::Number(text),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a number, for numeric comparisons.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }
}

/// Decodes a JSON string literal (with its quotes), borrowing when it has no escapes.
pub(crate) fn decode_str(text: &str) -> Option<Cow<'_, str>> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    // Most values are short: a plain loop beats memchr's set-up; user agents and ARNs are not.
    let plain = if inner.len() < 24 { !inner.as_bytes().contains(&b'\\') } else { memchr::memchr(b'\\', inner.as_bytes()).is_none() };
    if plain {
        return Some(Cow::Borrowed(inner));
    }
    match serde_json::from_str::<String>(text) {
        Ok(s) => Some(Cow::Owned(s)),
        // A lone surrogate (`\ud800`) is valid JSON but no character: read as U+FFFD. Records
        // holding one in a field that identifies the event are refused before this (`Record`).
        Err(_) => crate::json::escape::unescape_repairing(inner).map(Cow::Owned),
    }
}

/// A JSON object key, borrowed from the input unless it has escapes.
pub(crate) struct Key<'a>(pub Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Children of a raw container: the members of an object or the elements of an array.
pub(crate) type Children<'a> = SmallVec<[(Option<Cow<'a, str>>, &'a RawValue); 8]>;

/// Which children of a container to collect.
#[derive(Clone, Copy)]
pub(crate) enum Pick<'p> {
    Key(&'p str),
    Index(usize),
    All,
}

/// Collects the children of `raw` selected by `pick`, skipping the rest without decoding them.
/// Not a container, or malformed: no children.
pub(crate) fn children<'a>(raw: &'a RawValue, pick: Pick<'_>) -> Children<'a> {
    let text = raw.get();
    if text.starts_with('{') {
        // The reader's scanner first (rules look into `userIdentity` and `requestParameters`
        // on most events); serde_json when it gives up on an escaped key.
        let mut out = Children::new();
        let walked = crate::json::scan::walk(text, (), &|_, _| None, &mut |_, key, value| {
            let wanted = match pick {
                Pick::Key(want) => key == want,
                Pick::All => true,
                Pick::Index(_) => false,
            };
            if wanted {
                out.push((Some(Cow::Borrowed(key)), value));
            }
        });
        if walked.is_some() {
            return out;
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let found = match text.as_bytes().first() {
        Some(b'{') => de.deserialize_map(ChildVisitor { pick }),
        Some(b'[') => de.deserialize_seq(ChildVisitor { pick }),
        _ => return Children::new(),
    };
    found.unwrap_or_default()
}

struct ChildVisitor<'p> {
    pick: Pick<'p>,
}

impl<'de> Visitor<'de> for ChildVisitor<'_> {
    type Value = Children<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Children::new();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let wanted = match self.pick {
                Pick::Key(want) => k == want,
                Pick::All => true,
                Pick::Index(_) => false,
            };
            if wanted {
                out.push((Some(k), map.next_value::<&'de RawValue>()?));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Children::new();
        let mut i = 0usize;
        loop {
            let wanted = match self.pick {
                Pick::Index(n) => n == i,
                Pick::All => true,
                Pick::Key(_) => false,
            };
            if wanted {
                match seq.next_element::<&'de RawValue>()? {
                    Some(v) => out.push((None, v)),
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            i += 1;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> &RawValue {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn decode_values() {
        assert_eq!(Value::from_raw(raw(r#""a\"b""#)), Value::String(Cow::Owned("a\"b".into())));
        assert_eq!(Value::from_raw(raw("12.5")), Value::Number("12.5"));
        assert_eq!(Value::from_raw(raw("null")), Value::Null);
        assert_eq!(Value::from_raw(raw("false")), Value::Bool(false));
    }

    #[test]
    fn picks_children() {
        let obj = raw(r#"{"a":1,"b":{"c":[1,2]},"a\u0062":3}"#);
        let b = children(obj, Pick::Key("b"));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].1.get(), r#"{"c":[1,2]}"#);
        assert_eq!(children(obj, Pick::Key("ab"))[0].1.get(), "3");
        assert_eq!(children(obj, Pick::All).len(), 3);
        let arr = raw("[10, 20, 30]");
        assert_eq!(children(arr, Pick::Index(1))[0].1.get(), "20");
        assert!(children(arr, Pick::Index(3)).is_empty());
        assert!(children(raw("5"), Pick::All).is_empty());
    }
}
