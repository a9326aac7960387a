//! The JSON-pattern parser: `{ expr }` with `||` below `&&` below parentheses, comparisons of a
//! selector with a string, number or `%regex%`, and the `IS …` / `NOT EXISTS` tests.

use super::json::{Cond, Expr, Glob, NumOp, Test};
use crate::event::lookup::FieldPath;

/// A parse failure: byte position and message.
pub(super) type Fail = (usize, String);

/// AWS allows at most this many `%regex%` values in one pattern.
const MAX_REGEX: usize = 2;

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    regexes: usize,
}

/// Parses a whole `{ … }` pattern (the caller checked the braces' position).
pub(super) fn json(text: &str) -> Result<Expr, Fail> {
    let mut p = Parser { text, pos: 1, regexes: 0 };
    let close = text.len() - 1;
    if !text.ends_with('}') || text.len() < 2 {
        return Err((text.len(), "a JSON pattern ends with `}`".into()));
    }
    p.text = &text[..close];
    let mut e = p.or()?;
    p.blanks();
    if p.pos < p.text.len() {
        return Err((p.pos, "expected `&&`, `||` or the closing `}`".into()));
    }
    e.merge_alternatives();
    e.cheapest_first();
    Ok(e)
}

impl<'t> Parser<'t> {
    fn rest(&self) -> &'t str {
        &self.text[self.pos..]
    }

    fn blanks(&mut self) {
        self.pos += self.rest().len() - self.rest().trim_start().len();
    }

    fn eat(&mut self, s: &str) -> bool {
        self.blanks();
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, Fail> {
        let mut parts = vec![self.and()?];
        while self.eat("||") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    fn and(&mut self) -> Result<Expr, Fail> {
        let mut parts = vec![self.atom()?];
        while self.eat("&&") {
            parts.push(self.atom()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    fn atom(&mut self) -> Result<Expr, Fail> {
        self.blanks();
        if self.rest().is_empty() {
            return Err((self.pos, "expected a comparison such as `$.eventName = \"ConsoleLogin\"`".into()));
        }
        if self.eat("(") {
            let open = self.pos - 1;
            let e = self.or()?;
            if !self.eat(")") {
                self.blanks();
                return Err((self.pos, format!("expected `)` to close the `(` at character {}", open + 1)));
            }
            return Ok(e);
        }
        let selector = self.selector()?;
        Ok(Expr::Cond(Cond::new(selector, self.test()?)))
    }

    /// `$.a.b[0]`, `$.a[*].b`, `$.*`, `$.['dotted.key']`.
    fn selector(&mut self) -> Result<FieldPath, Fail> {
        self.blanks();
        let start = self.pos;
        let b = self.rest().as_bytes();
        if b.first() != Some(&b'$') {
            return Err((start, "expected a property selector starting with `$.` (e.g. `$.eventName`)".into()));
        }
        let mut i = 1;
        while i < b.len() {
            match b[i] {
                b'[' if b.get(i + 1).is_some_and(|c| *c == b'\'' || *c == b'"') => {
                    let quote = b[i + 1];
                    let close =
                        b[i + 2..].iter().position(|c| *c == quote).ok_or((start + i, "unclosed quoted key in selector".to_string()))?;
                    i += close + 4;
                    if b.get(i - 1) != Some(&b']') {
                        return Err((start + i - 1, "expected `]` after the quoted key".into()));
                    }
                }
                c if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'[' | b']' | b'*') => i += 1,
                _ => break,
            }
        }
        let sel = &self.rest()[..i];
        if sel == "$" || sel == "$." {
            return Err((start, "the selector names no property".into()));
        }
        let path = FieldPath::parse(sel).map_err(|m| (start, m))?;
        self.pos += i;
        Ok(path)
    }

    fn keyword(&mut self, word: &str) -> bool {
        self.blanks();
        let r = self.rest();
        if r.starts_with(word) && !r[word.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn test(&mut self) -> Result<Test, Fail> {
        self.blanks();
        let at = self.pos;
        let lower = self.rest().get(..3).map(str::to_ascii_lowercase);
        if self.keyword("IS") {
            for (word, test) in [("NULL", Test::IsNull), ("TRUE", Test::IsTrue), ("FALSE", Test::IsFalse)] {
                if self.keyword(word) {
                    return Ok(test);
                }
            }
            self.blanks();
            let msg = if self.rest().starts_with("NOT") {
                "`IS NOT` is not supported by AWS; use `NOT EXISTS`, or `= \"*\"` for any value"
            } else {
                "expected `NULL`, `TRUE` or `FALSE` after `IS` (upper case)"
            };
            return Err((self.pos, msg.into()));
        }
        if self.keyword("NOT") {
            if self.keyword("EXISTS") {
                return Ok(Test::NotExists);
            }
            self.blanks();
            return Err((self.pos, "expected `EXISTS` after `NOT`".into()));
        }
        if self.keyword("EXISTS") {
            return Err((at, "`EXISTS` is not supported by AWS; use `= \"*\"` for a field with any value".into()));
        }
        if lower.as_deref() == Some("is ") || lower.as_deref() == Some("not") {
            return Err((at, "keywords are upper case: `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`".into()));
        }
        let op = ["!=", "<=", ">=", "=", "<", ">"].into_iter().find(|op| self.rest().starts_with(op));
        let Some(op) = op else {
            return Err((at, "expected a comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`), `IS NULL|TRUE|FALSE` or `NOT EXISTS`".into()));
        };
        self.pos += op.len();
        self.blanks();
        let vstart = self.pos;
        let r = self.rest();
        if r.starts_with('"') {
            let (value, len) = quoted(r).ok_or((vstart, "unclosed string: a `\"` is missing".to_string()))?;
            self.pos += len;
            return string_test(op, Glob::new(&value), vstart);
        }
        if let Some(body) = r.strip_prefix('%') {
            let close = body.find('%').ok_or((vstart, "unclosed regex: a `%` is missing".to_string()))?;
            self.regexes += 1;
            if self.regexes > MAX_REGEX {
                return Err((vstart, format!("AWS allows at most {MAX_REGEX} regular expressions in one pattern")));
            }
            let re = super::regex::compile(&body[..close], vstart + 1)?;
            self.pos += close + 2;
            return match op {
                "=" => Ok(Test::Regex { negate: false, re }),
                "!=" => Ok(Test::Regex { negate: true, re }),
                _ => Err((at, "a regex compares only with `=` or `!=`".into())),
            };
        }
        let len = r.find(|c: char| c.is_whitespace() || matches!(c, ')' | '(' | '&' | '|' | '"')).unwrap_or(r.len());
        if len == 0 {
            return Err((vstart, "expected a value: a number, a \"quoted string\", a bare word or a %regex%".into()));
        }
        let token = &r[..len];
        self.pos += len;
        if is_number(token) {
            let value: f64 = token.parse().map_err(|_| (vstart, format!("`{token}` is not a number")))?;
            let op = match op {
                "=" => NumOp::Eq,
                "!=" => NumOp::Ne,
                "<" => NumOp::Lt,
                "<=" => NumOp::Le,
                ">" => NumOp::Gt,
                _ => NumOp::Ge,
            };
            return Ok(Test::Num { op, value, text: token.to_string() });
        }
        string_test(op, Glob::new(token), vstart)
    }
}

fn string_test(op: &str, glob: Glob, at: usize) -> Result<Test, Fail> {
    match op {
        "=" => Ok(Test::Str { negate: false, glob }),
        "!=" => Ok(Test::Str { negate: true, glob }),
        _ => Err((at, format!("`{op}` compares numbers; strings compare only with `=` or `!=`"))),
    }
}

/// A JSON-style number: sign, digits, fraction, exponent (no `inf`, `nan`, hex).
pub(super) fn is_number(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > s
    };
    let int = digits(&mut i);
    let mut frac = false;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = digits(&mut i);
    }
    if !(int || frac) {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// A `"…"` string at the start of `s`: its value (`\"` and `\\` unescaped, other backslashes
/// kept) and its length in bytes.
pub(super) fn quoted(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => return None,
            },
            c => out.push(c),
        }
    }
    None
}
