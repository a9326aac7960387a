//! Lone surrogates: `\ud800` without the `\udc00`-`\udfff` that must follow it (or a low half
//! without its high half) is valid JSON syntax but no character, so serde_json refuses to decode
//! the string. CloudTrail can carry them in text an attacker writes (a user agent, a request
//! parameter). Readers find them here, and decode such text with U+FFFD in their place.

/// Whether JSON text holds a `\u` escape of a lone surrogate anywhere (inside any string).
pub(crate) fn has_lone_surrogate(text: &str) -> bool {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&b[from..], b"\\u").map(|i| from + i) {
        from = i + 2;
        // `\\ud800` is an escaped backslash and the text `ud800`.
        if b[..i].iter().rev().take_while(|c| **c == b'\\').count() % 2 == 1 {
            continue;
        }
        match surrogate_at(b, i) {
            Some(Half::High) if surrogate_at(b, i + 6) == Some(Half::Low) => from = i + 12,
            Some(_) => return true,
            None => {}
        }
    }
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    High,
    Low,
}

/// The surrogate half a `\uXXXX` escape at `i` encodes, if it is one.
fn surrogate_at(b: &[u8], i: usize) -> Option<Half> {
    let esc = b.get(i..i + 6)?;
    if &esc[..2] != b"\\u" {
        return None;
    }
    let n = u16::from_str_radix(std::str::from_utf8(&esc[2..]).ok()?, 16).ok()?;
    match n {
        0xd800..=0xdbff => Some(Half::High),
        0xdc00..=0xdfff => Some(Half::Low),
        _ => None,
    }
}

/// A JSON string's contents (between the quotes) decoded with each lone surrogate replaced by
/// U+FFFD; `None` for anything else that is not a valid string.
pub(crate) fn unescape_repairing(inner: &str) -> Option<String> {
    let b = inner.as_bytes();
    let mut out = String::with_capacity(inner.len());
    let mut i = 0;
    while i < b.len() {
        let Some(n) = memchr::memchr(b'\\', &b[i..]) else {
            out.push_str(&inner[i..]);
            break;
        };
        out.push_str(&inner[i..i + n]);
        i += n;
        let c = match *b.get(i + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = |at: usize| u16::from_str_radix(inner.get(at + 2..at + 6)?, 16).ok();
                let hi = unit(i)?;
                let low = if (0xd800..0xdc00).contains(&hi) && inner.get(i + 6..i + 8) == Some("\\u") { unit(i + 6) } else { None };
                match low {
                    Some(lo) if (0xdc00..0xe000).contains(&lo) => {
                        i += 6;
                        char::from_u32(0x10000 + ((u32::from(hi) - 0xd800) << 10) + (u32::from(lo) - 0xdc00))?
                    }
                    _ => char::from_u32(u32::from(hi)).unwrap_or('\u{fffd}'),
                }
            }
            _ => return None,
        };
        out.push(c);
        i += if b[i + 1] == b'u' { 6 } else { 2 };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_halves_are_found_and_pairs_and_escaped_backslashes_are_not() {
        assert!(has_lone_surrogate(r#"{"a":"x\ud800y"}"#));
        assert!(has_lone_surrogate(r#"{"a":"\udc00"}"#));
        assert!(has_lone_surrogate(r#"{"a":"\ud800\u0041"}"#));
        assert!(has_lone_surrogate(r#"{"a":"\ud83d\ude00\ud800"}"#));
        assert!(!has_lone_surrogate(r#"{"a":"\ud83d\ude00 \u00e9"}"#));
        assert!(!has_lone_surrogate(r#"{"a":"\\ud800"}"#));
        assert!(has_lone_surrogate(r#"{"a":"\\\ud800"}"#));
    }

    #[test]
    fn repairing_replaces_only_lone_halves() {
        assert_eq!(unescape_repairing(r"x\ud800y").as_deref(), Some("x\u{fffd}y"));
        assert_eq!(unescape_repairing(r"\udc00\ud83d\ude00\n\u00e9\\").as_deref(), Some("\u{fffd}😀\né\\"));
        assert_eq!(unescape_repairing(r"\ud800\u0041").as_deref(), Some("\u{fffd}A"));
        assert_eq!(unescape_repairing(r"\q"), None);
        assert_eq!(unescape_repairing(r"\u12"), None);
    }
}
