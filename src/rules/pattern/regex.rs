//! `%regex%` with AWS's restrictions: only the characters AWS lists (alphanumerics,
//! `: _ # = @ / ; , -` and the operators `^ $ ? [ ] { } | \ * + .`), no parentheses, no
//! multi-byte characters. What AWS accepts is compiled with the `regex` crate and searched
//! (unanchored, like AWS: `%AUTHORIZED%` matches `UNAUTHORIZED`).

use super::parse::Fail;

const SYMBOLS: &str = ":_#=@/;,-^$?[]{}|\\*+.";

/// Compiles `body` (the text between the `%`s, starting at byte `offset` of the pattern).
pub(super) fn compile(body: &str, offset: usize) -> Result<regex::Regex, Fail> {
    if body.is_empty() {
        return Err((offset, "empty regex".into()));
    }
    for (i, c) in body.char_indices() {
        let why = if c == '(' || c == ')' {
            "AWS regexes cannot use parentheses (no sub-patterns)"
        } else if !c.is_ascii() {
            "AWS regexes cannot hold multi-byte characters"
        } else if !(c.is_ascii_alphanumeric() || SYMBOLS.contains(c)) {
            "AWS regexes allow only letters, digits, `: _ # = @ / ; , -` and `^ $ ? [ ] { } | \\ * + .`"
        } else {
            continue;
        };
        return Err((offset + i, format!("`{c}` is not allowed: {why}")));
    }
    regex::Regex::new(body).map_err(|e| (offset, format!("bad regex: {}", e.to_string().lines().last().unwrap_or("invalid"))))
}
