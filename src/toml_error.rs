//! TOML errors as one line that points at the text: the config file and pack files both read
//! TOML, and both report `origin:line:column: message`. Errors found after parsing (an unknown
//! pack, a bad pattern, an alarm's period) are raised as a [`ValueError`] naming the value by its
//! path; whoever holds the text turns that into a line and column with [`locate`], so every
//! error in a config points at the file, line and column it is about.

use std::borrow::Cow;
use toml::de::{DeTable, DeValue};

/// A TOML error as one line, `origin:line:column: message` (messages are printed escaped, and the
/// multi-line snippet toml renders would come out as `\u{a}`s).
pub(crate) fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> anyhow::Error {
    let at = e.span().map(|s| position(text, s.start));
    anyhow::anyhow!("{origin}{}: {}", at.unwrap_or_default(), e.message().trim())
}

/// `:line:column` of byte `offset` (1-based; the column counts characters).
pub(crate) fn position(text: &str, offset: usize) -> String {
    let offset = (0..=offset.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!(":{line}:{column}")
}

/// Bytes that are not UTF-8, as `origin:line:column: invalid UTF-8 …` pointing at the first bad
/// byte (TOML is UTF-8 only).
pub(crate) fn invalid_utf8(bytes: &[u8], origin: &str, e: &std::str::Utf8Error) -> anyhow::Error {
    let good = e.valid_up_to();
    let text = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
    anyhow::anyhow!("{origin}{}: invalid UTF-8 at byte {good} (TOML files are UTF-8)", position(text, good))
}

/// One step of a path from a document's root to a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

impl From<&str> for Step {
    fn from(k: &str) -> Step {
        Step::Key(k.to_string())
    }
}

impl From<usize> for Step {
    fn from(i: usize) -> Step {
        Step::Index(i)
    }
}

/// What in the value at the path an error points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The value.
    Value,
    /// The key naming the value (an unknown name).
    Key,
    /// Byte offset into the value's decoded string (a pattern's fault).
    Within(usize),
}

/// An error about one value of a TOML document, found after parsing. Its message says what is
/// wrong; [`locate`] adds where, from the document's text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct ValueError {
    pub path: Vec<Step>,
    pub target: Target,
    pub message: String,
}

impl ValueError {
    pub(crate) fn new(path: Vec<Step>, message: impl Into<String>) -> ValueError {
        ValueError { path, target: Target::Value, message: message.into() }
    }

    pub(crate) fn at(mut self, target: Target) -> ValueError {
        self.target = target;
        self
    }

    /// The same error, one level down: `prefix` comes before its path (a section's errors
    /// placed in the whole file).
    pub(crate) fn under(mut self, prefix: Vec<Step>) -> ValueError {
        self.path.splice(0..0, prefix);
        self
    }
}

/// `e` as `origin:line:column: message` when it is (or is caused by) a [`ValueError`] about
/// `text`; any other error gets `origin: ` before it.
pub(crate) fn locate(text: &str, origin: &str, e: anyhow::Error) -> anyhow::Error {
    let Some(v) = e.chain().find_map(|c| c.downcast_ref::<ValueError>()) else {
        return anyhow::anyhow!("{origin}: {e:#}");
    };
    let at = offset_of(text, &v.path, v.target).map(|o| position(text, o)).unwrap_or_default();
    anyhow::anyhow!("{origin}{at}: {e:#}")
}

/// Byte offset in `text` of what `path` and `target` name: the deepest part of the path the
/// document holds (a defaulted key points at its table).
fn offset_of(text: &str, path: &[Step], target: Target) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = root.get_ref();
    let mut at = root.span().start;
    let mut value: Option<&toml::Spanned<DeValue<'_>>> = None;
    for (i, step) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let next = match (step, value.map(|v| v.get_ref())) {
            (Step::Key(k), None | Some(DeValue::Table(_))) => {
                let Some((key, v)) = table.iter().find(|(key, _)| key.get_ref() == k) else { break };
                if last && target == Target::Key {
                    return Some(key.span().start);
                }
                v
            }
            (Step::Index(n), Some(DeValue::Array(a))) => match a.get(*n) {
                Some(v) => v,
                None => break,
            },
            _ => break,
        };
        at = next.span().start;
        if let DeValue::Table(t) = next.get_ref() {
            table = t;
        }
        value = Some(next);
        if last && let (Target::Within(n), DeValue::String(_)) = (target, next.get_ref()) {
            let span = next.span();
            return Some(span.start + raw_offset(&text[span], n));
        }
    }
    Some(at)
}

/// Where byte `n` of a TOML string's value is inside its literal (quotes and escapes included).
fn raw_offset(literal: &str, n: usize) -> usize {
    let (quote, multi) = if literal.starts_with("\"\"\"") {
        ('"', true)
    } else if literal.starts_with("'''") {
        ('\'', true)
    } else {
        (literal.chars().next().unwrap_or('"'), false)
    };
    let mut i = if multi { 3 } else { 1 };
    // A newline right after the opening delimiter is not part of the value.
    if multi {
        if literal[i..].starts_with("\r\n") {
            i += 2;
        } else if literal[i..].starts_with('\n') {
            i += 1;
        }
    }
    let b = literal.as_bytes();
    let mut decoded = 0;
    while i < b.len() && decoded < n {
        let c = literal[i..].chars().next().unwrap_or(' ');
        if quote == '"' && c == '\\' {
            let (raw, out) = escape_len(&literal[i..], multi);
            i += raw;
            decoded += out;
        } else {
            i += c.len_utf8();
            decoded += c.len_utf8();
        }
    }
    // A line-ending backslash decodes to nothing: the character is after it.
    while quote == '"' && multi && literal[i..].starts_with('\\') {
        match escape_len(&literal[i..], multi) {
            (raw, 0) => i += raw,
            _ => break,
        }
    }
    i.min(literal.len())
}

/// An escape at the start of `s`: its length in the literal and in the value.
fn escape_len(s: &str, multi: bool) -> (usize, usize) {
    let hex = |len: usize| -> (usize, usize) {
        let ch = s.get(2..2 + len).and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
        (2 + len, ch.map_or(0, char::len_utf8))
    };
    match s.as_bytes().get(1) {
        Some(b'u') => hex(4),
        Some(b'U') => hex(8),
        Some(b'x') => hex(2),
        // A line-ending backslash in a multi-line string eats the break and the blanks after it.
        Some(b' ' | b'\t' | b'\r' | b'\n') if multi => {
            let rest = &s[1..];
            (1 + rest.len() - rest.trim_start().len(), 0)
        }
        _ => (2, 1),
    }
}

/// Shorthand for a path: `toml_path!["rules", "alarm", 2, "period"]`.
macro_rules! toml_path {
    ($($s:expr),* $(,)?) => { vec![$($crate::toml_error::Step::from($s)),*] };
}
pub(crate) use toml_path;

/// The name in `known` nearest to `name`, when it is close enough to be a typo.
pub(crate) fn nearest<'k>(name: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    known.into_iter().map(|k| (strsim::levenshtein(k, name), k)).filter(|(d, _)| *d <= 3).min().map(|(_, k)| k)
}

/// ` (did you mean "x"?)`, or nothing.
pub(crate) fn did_you_mean(near: Option<&str>) -> Cow<'static, str> {
    near.map_or(Cow::Borrowed(""), |n| Cow::Owned(format!(" (did you mean {n:?}?)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, path: Vec<Step>, target: Target) -> String {
        let e = anyhow::Error::new(ValueError::new(path, "bad").at(target));
        locate(text, "f.toml", e).to_string()
    }

    #[test]
    fn values_keys_and_string_offsets_are_located() {
        let text = "[rules]\npacks = [\"cis\", \"nope\"]\n[[rules.alarm]]\nalarm_name = \"a\"\n[[rules.alarm]]\nperiod = 90\n[rules.params]\nx = 1\n";
        assert_eq!(at(text, toml_path!["rules", "packs", 1], Target::Value), "f.toml:2:17: bad");
        assert_eq!(at(text, toml_path!["rules", "alarm", 1, "period"], Target::Value), "f.toml:6:10: bad");
        // A key the table does not hold: its table's header.
        assert_eq!(at(text, toml_path!["rules", "alarm", 0, "period"], Target::Value), "f.toml:3:1: bad");
        assert_eq!(at(text, toml_path!["rules", "params", "x"], Target::Key), "f.toml:8:1: bad");
        let text = "p = '{ $.a = 1 }'\nq = \"{ \\\"x\\\" \\u00e9 }\"\nr = \"\"\"\n  a\\\n   b\"\"\"\n";
        assert_eq!(at(text, toml_path!["p"], Target::Within(2)), "f.toml:1:8: bad");
        // `{ "x" é }`: byte 8 is the blank after é (two bytes), past two escaped quotes.
        assert_eq!(at(text, toml_path!["q"], Target::Within(8)), "f.toml:2:20: bad");
        assert_eq!(at(text, toml_path!["r"], Target::Within(3)), "f.toml:5:4: bad");
    }

    #[test]
    fn other_errors_name_the_origin_and_bad_bytes_their_line() {
        assert_eq!(locate("", "f.toml", anyhow::anyhow!("oops")).to_string(), "f.toml: oops");
        let bytes = b"a = 1\nb = \"\xff\"\n".to_vec();
        let e = std::str::from_utf8(&bytes).unwrap_err();
        assert_eq!(invalid_utf8(&bytes, "f.toml", &e).to_string(), "f.toml:2:6: invalid UTF-8 at byte 11 (TOML files are UTF-8)");
    }
}
