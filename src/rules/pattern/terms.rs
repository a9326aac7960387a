//! Term patterns over the raw event: `ERROR` (must appear), `?A ?B` (any of these), `-term`
//! (must not appear), `"exact phrase"`. A term matches anywhere in the record's JSON text,
//! inside longer words too (`ERROR` matches `ERRORS`), case-sensitively.

use super::parse::{Fail, quoted};

#[derive(Debug, Clone, Default)]
pub(super) struct Terms {
    all: Vec<String>,
    any: Vec<String>,
    none: Vec<String>,
}

pub(super) fn parse(text: &str) -> Result<Terms, Fail> {
    let mut t = Terms::default();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let lead = rest.len() - rest.trim_start().len();
        i += lead;
        let rest = &text[i..];
        if rest.is_empty() {
            break;
        }
        let (list, skip) = match rest.as_bytes()[0] {
            b'?' => (&mut t.any, 1),
            b'-' => (&mut t.none, 1),
            _ => (&mut t.all, 0),
        };
        let body = &rest[skip..];
        let (term, len) = if body.starts_with('"') {
            quoted(body).ok_or((i + skip, "unclosed phrase: a `\"` is missing".to_string()))?
        } else {
            let len = body.find(char::is_whitespace).unwrap_or(body.len());
            (body[..len].to_string(), len)
        };
        if term.is_empty() && skip == 1 {
            return Err((i, "`?` and `-` go right before a term (no blank)".into()));
        }
        // `" "` inside a pattern with other terms adds nothing: it matches every event.
        if !term.trim().is_empty() {
            list.push(term);
        }
        i += skip + len;
    }
    Ok(t)
}

impl Terms {
    pub(super) fn matches(&self, raw: &str) -> bool {
        let has = |term: &String| memchr::memmem::find(raw.as_bytes(), term.as_bytes()).is_some();
        self.all.iter().all(has) && (self.any.is_empty() || self.any.iter().any(has)) && !self.none.iter().any(has)
    }
}
