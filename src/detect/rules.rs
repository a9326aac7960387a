//! Pattern rules: one alert per event that matches a rule's filter pattern. Patterns are compiled
//! once; each event is matched through its field view, never re-parsed per rule.

use crate::alert::{Alert, Severity};
use crate::event::Record;
use crate::rules::pack::RuleConfig;
use crate::rules::pattern::{FilterPattern, PatternSet};
use serde_json::json;

/// One compiled rule (its pattern sits in the detector's set, at the same index).
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
    patterns: PatternSet,
}

impl RuleDetector {
    /// Compiles `(pack, rule)` pairs; a bad pattern is an error naming the pack and rule, with
    /// the pattern and a caret under the fault.
    pub fn new(rules: &[(String, RuleConfig)]) -> anyhow::Result<RuleDetector> {
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
        Ok(RuleDetector { rules: out, patterns: PatternSet::new(patterns) })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Appends `(alert id, alert)` to `out` for every rule `rec` matches.
    pub fn check(&self, rec: &Record<'_>, out: &mut Vec<(String, Alert)>) {
        self.patterns.for_each_match(rec, |i| {
            let r = &self.rules[i];
            let evidence = json!({"pack": r.pack, "rule": r.name, "pattern": self.patterns.get(i).text()});
            let id = crate::alert::per_event_id("rule", &format!("{}/{}", r.pack, r.name), &crate::alert::event_key(rec));
            out.push((id, crate::alert::for_event(rec, "rule", &r.name, r.severity, r.title.clone(), evidence)));
        });
    }
}
