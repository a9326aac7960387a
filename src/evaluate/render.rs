//! The scorecard for people: one row per scenario, near misses apart, then the totals.

use super::score::Scorecard;
use crate::simulate::labels::ScenarioKind;
use crate::term::escape::terminal;

impl Scorecard {
    /// The human table.
    pub(crate) fn render_table(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header(["scenario", "kind", "result", "alerts", "detected by", "delay"]);
        for s in &self.scenarios {
            let kind = if s.kind == ScenarioKind::Attack { "attack" } else { "benign" };
            let result = match (s.kind, s.detected) {
                (ScenarioKind::Attack, true) => "DETECTED",
                (ScenarioKind::Attack, false) => "missed",
                (_, true) => "alerted",
                (_, false) => "quiet",
            };
            let delay = s.delay_seconds.map(|d| format!("{d}s")).unwrap_or_default();
            t.add_row([
                terminal(&s.id).into_owned(),
                kind.into(),
                result.into(),
                s.alerts.to_string(),
                terminal(&s.detected_by.join(", ")).into_owned(),
                delay,
            ]);
        }
        let mut out = format!("{t}\n");
        let near: Vec<_> = self.scenarios.iter().filter(|s| s.near_alerts > 0).collect();
        if !near.is_empty() {
            out += "Near attacks, NOT credited (on the attack's principal within its window + 1 h, naming none of its events):\n";
            for s in near {
                out += &format!("  {}: {} alerts ({})\n", terminal(&s.id), s.near_alerts, terminal(&s.near_by.join(", ")));
            }
        }
        out += &format!("Attacks detected (by event ids): {} of {}\n", self.attacks_detected, self.attacks);
        out += &format!("Alerts: {} ({})\n", self.alerts, self.buckets().join(", "));
        let pct = |x: Option<f64>| x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "n/a".into());
        out += &format!(
            "Benign alerts per principal-day after burn-in: {} over {} principal-days\nPrecision: {}\n",
            self.benign_alerts_per_principal_day.map(|v| format!("{v:.4}")).unwrap_or_else(|| "n/a".into()),
            self.principal_days,
            pct(self.precision)
        );
        for n in &self.noisiest {
            out += &format!("  noisy: {} on {}: {} alerts\n", terminal(&n.principal), n.day, n.alerts);
        }
        out
    }

    /// Where the alerts went: attacks first, then each benign bucket that holds any.
    fn buckets(&self) -> Vec<String> {
        let mut parts = vec![format!("{} on attacks", self.alerts_on_attacks)];
        for (n, what) in [
            (self.alerts_on_benign_events, "on events labelled benign"),
            (self.alerts_on_benign_novelty, "on labelled benign novelty"),
            (self.alerts_near_attacks, "near attacks but on none of their events"),
            (self.alerts_unexplained, "unexplained"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.push(format!("{} during the {}-day burn-in", self.alerts_in_burn_in, self.burn_in_days));
        parts
    }
}
