//! CloudWatch Logs filter patterns with AWS's semantics, compiled once and matched against
//! events through their field view (JSON patterns) or their raw text (terms, whole-event regex).
//! The language, and what trailhound decided where AWS is silent, is in docs/filter-patterns.md.

mod json;
mod parse;
mod regex;
mod set;
mod terms;

pub use set::PatternSet;

use crate::event::Record;
use crate::event::lookup::FieldLookup;
use std::fmt;

/// AWS's limit on a filter pattern's length (PutMetricFilter `filterPattern`).
pub const MAX_PATTERN_LEN: usize = 1024;

/// A compiled filter pattern. Cheap to clone; shareable across threads.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    text: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Empty, blanks only, or `" "`.
    All,
    Terms(terms::Terms),
    Json(json::Expr),
    /// `%regex%` as the whole pattern, searched in the raw event.
    Regex(::regex::Regex),
}

/// A pattern AWS would refuse (or trailhound cannot honour), with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub pattern: String,
    /// Byte offset into `pattern`.
    pub position: usize,
    pub message: String,
}

impl std::error::Error for PatternError {}

impl fmt::Display for PatternError {
    /// The message, then the pattern and a caret under the fault (control characters in the
    /// pattern shown as spaces so the caret lines up).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.pattern.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let col = self.pattern.get(..self.position).map_or(self.pattern.chars().count(), |s| s.chars().count());
        write!(f, "invalid filter pattern: {} (at character {})\n  {}\n  {}^", self.message, col + 1, shown, " ".repeat(col))
    }
}

impl FilterPattern {
    /// Compiles `text`, refusing what AWS refuses, the 1024-character limit included.
    pub fn parse(text: &str) -> Result<FilterPattern, PatternError> {
        Self::compile(text, true)
    }

    /// Compiles a pack pattern after parameter expansion: the length limit applied to the
    /// pattern as written (see `rules::pack`); its expansion may be longer.
    pub fn parse_expanded(text: &str) -> Result<FilterPattern, PatternError> {
        Self::compile(text, false)
    }

    fn compile(text: &str, limit: bool) -> Result<FilterPattern, PatternError> {
        let err = |position: usize, message: String| PatternError { pattern: text.to_string(), position, message };
        if limit && text.len() > MAX_PATTERN_LEN {
            let at = (0..=MAX_PATTERN_LEN).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            return Err(err(at, format!("patterns are limited to {MAX_PATTERN_LEN} characters; this one has {}", text.len())));
        }
        let trimmed = text.trim();
        let kind = if trimmed.is_empty() || trimmed == "\" \"" {
            Kind::All
        } else if trimmed.starts_with('{') {
            if !trimmed.ends_with('}') || trimmed.len() < 2 {
                return Err(err(text.trim_end().len(), "a JSON pattern ends with `}`: it is missing".into()));
            }
            if text.len() != trimmed.len() {
                let at = if text.starts_with(char::is_whitespace) { 0 } else { trimmed.len() + (text.len() - text.trim_start().len()) };
                return Err(err(at, "no blanks are allowed outside the braces of a JSON pattern (AWS rejects them)".into()));
            }
            Kind::Json(parse::json(text).map_err(|(p, m)| err(p, m))?)
        } else if trimmed.starts_with('[') {
            let at = text.len() - text.trim_start().len();
            return Err(err(
                at,
                "space-delimited patterns `[…]` describe plain-text log lines; CloudTrail records are JSON: write a JSON pattern `{ $.field = value }`".into(),
            ));
        } else if trimmed.len() >= 2 && trimmed.starts_with('%') && trimmed.ends_with('%') {
            let start = text.len() - text.trim_start().len();
            Kind::Regex(regex::compile(&trimmed[1..trimmed.len() - 1], start + 1).map_err(|(p, m)| err(p, m))?)
        } else {
            Kind::Terms(terms::parse(text).map_err(|(p, m)| err(p, m))?)
        };
        Ok(FilterPattern { text: text.to_string(), kind })
    }

    /// Whether the event matches.
    pub fn matches(&self, rec: &Record<'_>) -> bool {
        self.matches_fields(rec, rec.raw)
    }

    /// Whether an event, given as a field view and its raw text, matches.
    pub fn matches_fields<L: FieldLookup + ?Sized>(&self, fields: &L, raw: &str) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Terms(t) => t.matches(raw),
            Kind::Json(e) => e.matches(fields, raw),
            Kind::Regex(r) => r.is_match(raw),
        }
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the pattern reads fields (a JSON pattern) rather than the raw text.
    pub fn is_json(&self) -> bool {
        matches!(self.kind, Kind::Json(_))
    }
}

#[cfg(test)]
mod tests;
