//! Pattern rules: one alert per event that matches a rule's filter pattern. Patterns are compiled
//! once; each event is matched through its field view, never re-parsed per rule. The patterns
//! are matched in one set with the metric filters' (see `run`), so an event's candidates are
//! found once.

use crate::alert::{Alert, Severity};
use crate::event::Record;
use crate::rules::pack::RuleConfig;
use crate::rules::pattern::FilterPattern;
use serde_json::json;

/// One compiled rule.
#[derive(Debug, Clone)]
struct CompiledRule {
    pack: String,
    name: String,
    title: String,
    severity: Severity,
}

/// Every enabled pattern rule.
#[derive(Debug, Clone, Default)]
pub struct RuleDetector {
    rules: Vec<CompiledRule>,
}

impl RuleDetector {
    /// Compiles `(pack, rule)` pairs; a bad pattern is an error naming the pack and rule, with
    /// the pattern and a caret under the fault. The patterns come back apart, in rule order, for
    /// the caller's [`crate::rules::pattern::PatternSet`].
    pub fn new(rules: &[(String, RuleConfig)]) -> anyhow::Result<(RuleDetector, Vec<FilterPattern>)> {
        let mut out = Vec::with_capacity(rules.len());
        let mut patterns = Vec::with_capacity(rules.len());
        for (pack, r) in rules {
            patterns.push(FilterPattern::parse_expanded(&r.pattern).map_err(|e| anyhow::anyhow!("rule {pack}/{}: {e}", r.name))?);
            out.push(CompiledRule {
                pack: pack.clone(),
                name: r.name.clone(),
                title: r.title.clone().unwrap_or_else(|| r.name.clone()),
                severity: r.severity,
            });
        }
        Ok((RuleDetector { rules: out }, patterns))
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Appends `(alert id, alert)` to `out` for rule `i`, which `rec` matched with `pattern`.
    pub fn raise(&self, i: usize, pattern: &FilterPattern, rec: &Record<'_>, out: &mut Vec<(String, Alert)>) {
        let r = &self.rules[i];
        let evidence = json!({"pack": r.pack, "rule": r.name, "pattern": pattern.text()});
        let id = crate::alert::per_event_id("rule", &format!("{}/{}", r.pack, r.name), &crate::alert::event_key(rec));
        out.push((id, crate::alert::for_event(rec, "rule", &r.name, r.severity, r.title.clone(), evidence)));
    }
}
