//! Pattern rules: one alert per event that matches a rule's filter pattern. Patterns are compiled
//! once; each event is matched through its field view, never re-parsed per rule.

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
    pattern: FilterPattern,
}

/// Every enabled pattern rule.
#[derive(Debug, Clone, Default)]
pub struct RuleDetector {
    rules: Vec<CompiledRule>,
}

impl RuleDetector {
    /// Compiles `(pack, rule)` pairs; a bad pattern is an error naming the pack and rule, with
    /// the pattern and a caret under the fault.
    pub fn new(rules: &[(String, RuleConfig)]) -> anyhow::Result<RuleDetector> {
        let mut out = Vec::with_capacity(rules.len());
        for (pack, r) in rules {
            let pattern = FilterPattern::parse_expanded(&r.pattern).map_err(|e| anyhow::anyhow!("rule {pack}/{}: {e}", r.name))?;
            out.push(CompiledRule {
                pack: pack.clone(),
                name: r.name.clone(),
                title: r.title.clone().unwrap_or_else(|| r.name.clone()),
                severity: r.severity,
                pattern,
            });
        }
        Ok(RuleDetector { rules: out })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Appends `(alert id, alert)` to `out` for every rule `rec` matches.
    pub fn check(&self, rec: &Record<'_>, out: &mut Vec<(String, Alert)>) {
        for r in &self.rules {
            if r.pattern.matches(rec) {
                let evidence = json!({"pack": r.pack, "rule": r.name, "pattern": r.pattern.text()});
                let id = crate::alert::per_event_id("rule", &format!("{}/{}", r.pack, r.name), &crate::alert::event_key(rec));
                out.push((id, crate::alert::for_event(rec, "rule", &r.name, r.severity, r.title.clone(), evidence)));
            }
        }
    }
}
