//! Pack parameters: a pattern in a pack may compare a selector with a named list instead of a
//! literal (`$.userIdentity.sessionContext.sessionIssuer.userName != $pipeline_roles`), so one
//! shipped pack fits every organisation. Expansion is textual and happens before parsing, so the
//! pattern that runs is an ordinary filter pattern a user can paste into CloudWatch:
//!
//! - `SEL = $list`  → `(SEL = "a" || SEL = "b")`; with an empty list the rule cannot match and
//!   is reported inactive;
//! - `SEL != $list` → `(SEL != "a" && SEL != "b")`; with an empty list it keeps only that `SEL`
//!   has a value (`SEL = "*"`): nothing is excluded.

use std::collections::BTreeMap;

/// A pattern after expansion.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expanded {
    Pattern(String),
    /// The pattern needs a value for this parameter before it can match anything.
    NeedsParam(String),
}

/// Why expansion failed; each names the byte offset of the `$name` in the pattern.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum ParamError {
    #[error("unknown parameter ${0} (declare it under [rules.params])")]
    Unknown(String, usize),
    #[error("${0} must follow `SELECTOR =` or `SELECTOR !=`")]
    Misplaced(String, usize),
}

impl ParamError {
    /// Where in the pattern the parameter is.
    pub(crate) fn position(&self) -> usize {
        match self {
            ParamError::Unknown(_, p) | ParamError::Misplaced(_, p) => *p,
        }
    }
}

/// The `$name` references of a pattern outside its strings, as byte ranges (`$` included).
pub(crate) fn references(pattern: &str) -> Vec<std::ops::Range<usize>> {
    let b = pattern.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_string = false;
    while i < b.len() {
        match b[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'$' if !in_string && b.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') => {
                let end = i + 1 + b[i + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
                out.push(i..end);
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The pattern with each `$name` replaced by a string literal of the same length, so that it
/// parses as written and a parse error's position is a position in the pattern as written.
pub(crate) fn placeholders(pattern: &str) -> String {
    let mut out = pattern.to_string();
    for r in references(pattern) {
        let filler = format!("\"{}\"", "x".repeat(r.len() - 2));
        out.replace_range(r, &filler);
    }
    out
}

/// Replaces every `SEL (=|!=) $name` in `pattern` with literal comparisons.
pub(crate) fn expand(pattern: &str, params: &BTreeMap<String, Vec<String>>) -> Result<Expanded, ParamError> {
    let mut out = String::with_capacity(pattern.len());
    let mut copied = 0;
    for r in references(pattern) {
        let name = &pattern[r.start + 1..r.end];
        let Some(values) = params.get(name) else { return Err(ParamError::Unknown(name.into(), r.start)) };
        let (sel_start, op) = comparison_before(pattern, r.start).ok_or_else(|| ParamError::Misplaced(name.into(), r.start))?;
        let selector = pattern[sel_start..].split(|c: char| c.is_whitespace() || c == '=' || c == '!').next().unwrap_or("");
        let text = if values.is_empty() {
            if op == "=" {
                return Ok(Expanded::NeedsParam(name.into()));
            }
            format!("{selector} = \"*\"")
        } else {
            let join = if op == "=" { " || " } else { " && " };
            let parts: Vec<String> = values.iter().map(|v| format!("{selector} {op} {}", quote(v))).collect();
            format!("({})", parts.join(join))
        };
        out.push_str(&pattern[copied..sel_start]);
        out.push_str(&text);
        copied = r.end;
    }
    out.push_str(&pattern[copied..]);
    Ok(Expanded::Pattern(out))
}

/// The start of the selector and the operator of a comparison ending just before `at`.
fn comparison_before(pattern: &str, at: usize) -> Option<(usize, &'static str)> {
    let head = pattern[..at].trim_end();
    let (head, op) = if let Some(h) = head.strip_suffix("!=") {
        (h, "!=")
    } else if let Some(h) = head.strip_suffix('=') {
        if h.ends_with(['<', '>', '=']) {
            return None;
        }
        (h, "=")
    } else {
        return None;
    };
    let head = head.trim_end();
    // A selector runs back to whitespace or a bracket that opens a group; quoted keys inside
    // `['a.b']` hold no spaces in practice, and a selector with one is rejected by the parser.
    let start = head.rfind(|c: char| c.is_whitespace() || c == '(' || c == '{' || c == '&' || c == '|').map_or(0, |p| p + 1);
    head[start..].starts_with('$').then_some((start, op))
}

fn quote(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
    }

    #[test]
    fn lists_expand_to_disjunctions_and_conjunctions() {
        let p = params(&[("roles", &["ci", "deploy"]), ("none", &[])]);
        let got = expand(r#"{ $.eventName = "RunInstances" && $.a.b != $roles }"#, &p).unwrap();
        assert_eq!(got, Expanded::Pattern(r#"{ $.eventName = "RunInstances" && ($.a.b != "ci" && $.a.b != "deploy") }"#.into()));
        let got = expand(r#"{ ($.x[0].y=$roles) }"#, &p).unwrap();
        assert_eq!(got, Expanded::Pattern(r#"{ (($.x[0].y = "ci" || $.x[0].y = "deploy")) }"#.into()));
        assert_eq!(expand("{ $.a != $none }", &p).unwrap(), Expanded::Pattern(r#"{ $.a = "*" }"#.into()));
        assert_eq!(expand("{ $.a = $none }", &p).unwrap(), Expanded::NeedsParam("none".into()));
    }

    #[test]
    fn values_are_quoted_and_strings_left_alone() {
        let p = params(&[("v", &[r#"a"b\c"#])]);
        let got = expand(r#"{ $.m = "$v" || $.n = $v }"#, &p).unwrap();
        assert_eq!(got, Expanded::Pattern(r#"{ $.m = "$v" || ($.n = "a\"b\\c") }"#.into()));
    }

    #[test]
    fn unknown_and_misplaced_parameters_are_errors() {
        let p = params(&[("v", &["x"])]);
        assert_eq!(expand("{ $.a = $w }", &p), Err(ParamError::Unknown("w".into(), 8)));
        assert_eq!(expand("{ $.a >= $v }", &p), Err(ParamError::Misplaced("v".into(), 9)));
        assert_eq!(expand("$v", &p), Err(ParamError::Misplaced("v".into(), 0)));
        assert_eq!(placeholders(r#"{ $.a = $ab && $.b = "$c" }"#), r#"{ $.a = "x" && $.b = "$c" }"#);
    }
}
