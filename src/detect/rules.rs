//! Pattern rules: one alert per event that matches a rule's filter pattern. Patterns are compiled
//! once; each event is matched through its field view, never re-parsed per rule. The patterns
//! are matched in one set with the metric filters' (see `run`), so an event's candidates are
//! found once.

use crate::alert::evidence::RuleEvidence;
use crate::alert::{Alert, Detector, Evidence, Severity};
use crate::event::Record;
use crate::rules::pack::RuleConfig;
use crate::rules::pattern::FilterPattern;

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
pub(crate) struct RuleDetector {
    rules: Vec<CompiledRule>,
}

impl RuleDetector {
    /// Compiles `(pack, rule)` pairs; a bad pattern is an error naming the pack and rule, with
    /// the pattern and a caret under the fault. The patterns come back apart, in rule order, for
    /// the caller's [`crate::rules::pattern::PatternSet`].
    pub(crate) fn new(rules: &[(String, RuleConfig)]) -> anyhow::Result<(RuleDetector, Vec<FilterPattern>)> {
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

    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.rules.len()
    }

    /// Appends the alert of rule `i`, which `rec` matched with `pattern`, to `out`.
    pub(crate) fn raise(&self, i: usize, pattern: &FilterPattern, rec: &Record<'_>, out: &mut Vec<Alert>) {
        let r = &self.rules[i];
        let evidence = Evidence::Rule(RuleEvidence { pack: r.pack.clone(), rule: r.name.clone(), pattern: pattern.text().to_string() });
        let what = format!("{}/{}", r.pack, r.name);
        out.push(crate::alert::for_event(rec, Detector::Rule, &what, &r.name, r.severity, r.title.clone(), evidence));
    }
}
