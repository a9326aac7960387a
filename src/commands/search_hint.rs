//! Hints for a search that matched nothing, where users most often go wrong: a jq or CloudWatch
//! Logs Insights query pasted as a filter pattern (it parses as plain terms and finds nothing),
//! and a selector no event has while a near miss does (`$.eventname` for `$.eventName`:
//! selectors are case-sensitive).

use crate::event::Record;
use crate::pipeline::{self, EventContext, EventSink, Flow, ReadOptions};
use crate::source::Inputs;
use crate::term::escape::terminal;
use std::collections::BTreeSet;

/// How many events are sampled for the fields they have.
const SAMPLE: u64 = 20_000;
/// Levels of nesting whose fields are collected.
const DEPTH: usize = 5;

/// The hints for the pattern `text`, which matched nothing in `inputs`.
pub(crate) fn hints(text: &str, inputs: &Inputs, opts: &ReadOptions) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    if let Some(h) = foreign_syntax(text) {
        out.push(h);
    }
    let selectors = selectors(text);
    if selectors.is_empty() || inputs.files.iter().any(|f| f.name == "-") {
        return Ok(out);
    }
    let fields = sample_fields(inputs, opts)?;
    for sel in selectors {
        if fields.contains(&sel) {
            continue;
        }
        let near = fields
            .iter()
            .filter(|f| f.eq_ignore_ascii_case(&sel) || strsim::levenshtein(f, &sel) <= 2)
            .min_by_key(|f| (!f.eq_ignore_ascii_case(&sel), strsim::levenshtein(f, &sel)));
        out.push(match near {
            Some(n) => format!("no event read has {}, but events have {} (selectors are case-sensitive)", terminal(&sel), terminal(n)),
            None => format!("no event read has {}", terminal(&sel)),
        });
    }
    Ok(out)
}

/// A hint when the pattern reads as jq or Logs Insights rather than a filter pattern.
fn foreign_syntax(text: &str) -> Option<String> {
    let t = text.trim();
    let first = t.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    let example = r#"'{ $.eventName = "ConsoleLogin" }'"#;
    if ["fields", "filter", "stats", "sort", "parse", "display", "dedup", "limit"].contains(&first.as_str()) || t.contains("| filter") {
        return Some(format!(
            "this looks like a CloudWatch Logs Insights query; search takes a metric-filter pattern, e.g. {example} (docs/filter-patterns.md)"
        ));
    }
    let outside_braces = !t.starts_with('{');
    if outside_braces && (t.starts_with('.') || t.contains("select(") || t.contains("==")) {
        return Some(format!(
            "this looks like jq; search takes a metric-filter pattern: selectors are `$.field` inside braces and `=` compares, e.g. {example}"
        ));
    }
    None
}

/// The `$.a.b` selectors of a pattern, with array indexes (`[0]`, `[*]`) dropped.
fn selectors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("$.") {
        let tail = &rest[i..];
        let end = tail.find(|c: char| !(c.is_alphanumeric() || "$._-[]*".contains(c))).unwrap_or(tail.len());
        let mut sel = String::new();
        let mut depth = 0;
        for c in tail[..end].chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ if depth == 0 => sel.push(c),
                _ => {}
            }
        }
        out.insert(sel.trim_end_matches('.').to_string());
        rest = &tail[end.max(2)..];
    }
    out
}

#[derive(Default)]
struct Fields {
    seen: BTreeSet<String>,
    events: u64,
}

fn walk(v: &serde_json::Value, path: &str, depth: usize, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) if depth < DEPTH => {
            for (k, v) in m {
                let p = format!("{path}.{k}");
                walk(v, &p, depth + 1, out);
                out.insert(p);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, path, depth, out)),
        _ => {}
    }
}

impl EventSink for Fields {
    fn event(&mut self, ev: &Record<'_>, _ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(ev.raw) {
            walk(&v, "$", 0, &mut self.seen);
        }
        self.events += 1;
        Ok(if self.events >= SAMPLE { Flow::Stop } else { Flow::Continue })
    }
}

/// Every field path of the first events read (up to [`SAMPLE`] per worker).
fn sample_fields(inputs: &Inputs, opts: &ReadOptions) -> anyhow::Result<BTreeSet<String>> {
    let opts = ReadOptions { progress: false, max_messages_per_file: 0, ..opts.clone() };
    let (sinks, _) = pipeline::run(inputs, &opts, Fields::default)?;
    Ok(sinks.into_iter().flat_map(|s| s.seen).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_syntax_and_selectors_are_recognised() {
        assert!(foreign_syntax(r#".eventName == "ConsoleLogin""#).unwrap().contains("jq"));
        assert!(foreign_syntax(r#"select(.errorCode == "AccessDenied")"#).unwrap().contains("jq"));
        assert!(foreign_syntax("fields @timestamp | filter eventName = 'X'").unwrap().contains("Logs Insights"));
        assert!(foreign_syntax(r#"{ $.eventName = "X" }"#).is_none());
        assert!(foreign_syntax("AccessDenied").is_none());
        let s: Vec<String> = selectors(r#"{ ($.eventname = "X") && $.a.items[*].userId = 1 && $.b[0] EXISTS }"#).into_iter().collect();
        assert_eq!(s, ["$.a.items.userId", "$.b", "$.eventname"]);
    }
}
