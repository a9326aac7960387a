//! The scorecard: which scenarios were caught, by what and how fast, and how much noise the
//! detectors make on benign activity.
//!
//! An alert matches a scenario when its `event_ids` intersect the scenario's, or, failing that,
//! when it names the same principal in the same account at a time inside the scenario's window
//! (extended by `slack_ms` after its end, for detectors that alert on absences or aggregates).

use crate::alert::Alert;
use crate::event::time::{MILLIS_PER_DAY, parse_event_time};
use crate::simulate::labels::{Labels, ScenarioKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Scoring knobs.
#[derive(Debug, Clone)]
pub(crate) struct ScoreOptions {
    /// Overrides the labels' burn-in (days from their start).
    pub burn_in_days: Option<u32>,
    /// How long after a scenario's end an alert on its principal still counts.
    pub slack_ms: i64,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions { burn_in_days: None, slack_ms: 3_600_000 }
    }
}

/// One scenario's outcome.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ScenarioResult {
    pub id: String,
    pub kind: ScenarioKind,
    pub technique: String,
    pub title: String,
    pub detected: bool,
    pub alerts: usize,
    /// `detector/kind` of matching alerts.
    pub detected_by: Vec<String>,
    /// Seconds from the scenario's start to the earliest matching alert's event time.
    pub delay_seconds: Option<i64>,
    pub expected: Vec<String>,
}

/// Benign alerts of one principal on one day.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NoisyPrincipalDay {
    pub principal: String,
    pub day: String,
    pub alerts: usize,
}

/// The whole score.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Scorecard {
    pub attacks: usize,
    pub attacks_detected: usize,
    pub scenarios: Vec<ScenarioResult>,
    pub alerts: usize,
    pub alerts_on_attacks: usize,
    /// Alerts explained by labelled benign novelty (still false positives).
    pub alerts_on_benign_novelty: usize,
    /// Alerts on nothing labelled, after burn-in.
    pub alerts_unexplained: usize,
    /// Alerts on nothing labelled during burn-in (not scored).
    pub alerts_in_burn_in: usize,
    pub burn_in_days: u32,
    /// Benign principal-days after burn-in (the denominator below).
    pub principal_days: u64,
    /// (novelty + unexplained alerts) / principal_days.
    pub benign_alerts_per_principal_day: Option<f64>,
    /// Attack alerts / all alerts after burn-in.
    pub precision: Option<f64>,
    pub noisiest: Vec<NoisyPrincipalDay>,
}

/// `(account, kind, name)` for role and user ARNs in either the IAM or the STS form, so an
/// assumed-role session ARN and its role ARN compare equal.
fn principal_key(p: &str) -> (String, String, String) {
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    if parts.len() == 6 && parts[0] == "arn" {
        let (acct, res) = (parts[4], parts[5]);
        if let Some(rest) = res.strip_prefix("assumed-role/") {
            return (acct.into(), "role".into(), rest.split('/').next().unwrap_or(rest).into());
        }
        for kind in ["role", "user"] {
            if let Some(rest) = res.strip_prefix(kind).and_then(|r| r.strip_prefix('/')) {
                return (acct.into(), kind.into(), rest.rsplit('/').next().unwrap_or(rest).into());
            }
        }
    }
    (String::new(), String::new(), p.to_string())
}

fn same_principal(a: &str, b: &str) -> bool {
    a == b || principal_key(a) == principal_key(b)
}

fn time_of(a: &Alert) -> Option<i64> {
    a.event_time.as_deref().and_then(parse_event_time)
}

/// Scores `alerts` against `labels`.
pub(crate) fn score(labels: &Labels, alerts: &[Alert], opts: &ScoreOptions) -> Scorecard {
    let burn_in_days = opts.burn_in_days.unwrap_or(labels.burn_in_days);
    let start = parse_event_time(&labels.start).unwrap_or(i64::MIN);
    let burn_end = start.saturating_add(i64::from(burn_in_days) * MILLIS_PER_DAY);
    let mut by_event: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in labels.scenarios.iter().enumerate() {
        for id in &s.event_ids {
            by_event.entry(id.as_str()).or_default().push(i);
        }
    }
    let windows: Vec<(i64, i64)> = labels
        .scenarios
        .iter()
        .map(|s| {
            (parse_event_time(&s.start).unwrap_or(i64::MAX), parse_event_time(&s.end).unwrap_or(i64::MIN).saturating_add(opts.slack_ms))
        })
        .collect();
    let mut matched: Vec<Vec<usize>> = vec![Vec::new(); labels.scenarios.len()];
    let (mut on_attacks, mut on_novelty, mut unexplained, mut in_burn_in) = (0, 0, 0, 0);
    let mut noisy: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (ai, a) in alerts.iter().enumerate() {
        let mut hits: BTreeSet<usize> = a.event_ids.iter().filter_map(|id| by_event.get(id.as_str())).flatten().copied().collect();
        if hits.is_empty() {
            let t = time_of(a);
            for (si, s) in labels.scenarios.iter().enumerate() {
                let account_ok = s.account.is_some() && s.account == a.account;
                let principal_ok = match (&s.principal, &a.principal) {
                    (Some(sp), Some(ap)) => same_principal(sp, ap),
                    (None, _) => true,
                    _ => false,
                };
                if account_ok && principal_ok && t.is_some_and(|t| t >= windows[si].0 && t <= windows[si].1) {
                    hits.insert(si);
                }
            }
        }
        for &si in &hits {
            matched[si].push(ai);
        }
        let attack = hits.iter().any(|&si| labels.scenarios[si].kind == ScenarioKind::Attack);
        let t = time_of(a);
        if attack {
            on_attacks += 1;
        } else if t.is_some_and(|t| t < burn_end) {
            in_burn_in += 1;
        } else {
            if hits.is_empty() {
                unexplained += 1;
            } else {
                on_novelty += 1;
            }
            let day = t.map(crate::event::time::format_day).unwrap_or_else(|| "unknown".into());
            *noisy.entry((a.principal.clone().unwrap_or_else(|| "(none)".into()), day)).or_default() += 1;
        }
    }
    let scenarios: Vec<ScenarioResult> = labels
        .scenarios
        .iter()
        .zip(&matched)
        .zip(&windows)
        .map(|((s, m), w)| {
            let detected_by: BTreeSet<String> = m.iter().map(|&i| format!("{}/{}", alerts[i].detector, alerts[i].kind)).collect();
            ScenarioResult {
                id: s.id.clone(),
                kind: s.kind,
                technique: s.technique.clone(),
                title: s.title.clone(),
                detected: !m.is_empty(),
                alerts: m.len(),
                detected_by: detected_by.into_iter().collect(),
                delay_seconds: m.iter().filter_map(|&i| time_of(&alerts[i])).min().map(|t| (t - w.0).max(0) / 1000),
                expected: s.expected.clone(),
            }
        })
        .collect();
    let principal_days: u64 = labels
        .principal_days
        .iter()
        .filter(|d| parse_event_time(&format!("{}T00:00:00Z", d.day)).is_none_or(|t| t >= burn_end))
        .map(|d| d.principals)
        .sum();
    let benign = on_novelty + unexplained;
    let scored = on_attacks + benign;
    let mut noisiest: Vec<NoisyPrincipalDay> =
        noisy.into_iter().map(|((principal, day), alerts)| NoisyPrincipalDay { principal, day, alerts }).collect();
    noisiest.sort_by(|a, b| b.alerts.cmp(&a.alerts).then_with(|| a.principal.cmp(&b.principal)).then_with(|| a.day.cmp(&b.day)));
    noisiest.truncate(10);
    Scorecard {
        attacks: scenarios.iter().filter(|s| s.kind == ScenarioKind::Attack).count(),
        attacks_detected: scenarios.iter().filter(|s| s.kind == ScenarioKind::Attack && s.detected).count(),
        scenarios,
        alerts: alerts.len(),
        alerts_on_attacks: on_attacks,
        alerts_on_benign_novelty: on_novelty,
        alerts_unexplained: unexplained,
        alerts_in_burn_in: in_burn_in,
        burn_in_days,
        principal_days,
        benign_alerts_per_principal_day: (principal_days > 0).then(|| benign as f64 / principal_days as f64),
        precision: (scored > 0).then(|| on_attacks as f64 / scored as f64),
        noisiest,
    }
}

impl Scorecard {
    /// The human table.
    pub(crate) fn render_table(&self) -> String {
        use crate::term::escape::terminal;
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
        let pct = |x: Option<f64>| x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "n/a".into());
        let mut out = format!("{t}\n");
        out += &format!("Attacks detected: {} of {}\n", self.attacks_detected, self.attacks);
        out += &format!(
            "Alerts: {} ({} on attacks, {} on labelled benign novelty, {} unexplained, {} during the {}-day burn-in)\n",
            self.alerts,
            self.alerts_on_attacks,
            self.alerts_on_benign_novelty,
            self.alerts_unexplained,
            self.alerts_in_burn_in,
            self.burn_in_days
        );
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::labels::{DayCount, Scenario};

    fn labels() -> Labels {
        let scenario = |id: &str, kind, principal: Option<&str>, start: &str, end: &str, ids: &[&str]| Scenario {
            id: id.into(),
            kind,
            technique: id.into(),
            title: id.into(),
            account: Some("111111111111".into()),
            principal: principal.map(str::to_string),
            start: start.into(),
            end: end.into(),
            event_ids: ids.iter().map(|s| s.to_string()).collect(),
            expected: vec![],
            reference: None,
        };
        Labels {
            format: crate::simulate::labels::FORMAT.into(),
            start: "2024-05-01T00:00:00Z".into(),
            end: "2024-05-10T23:59:59Z".into(),
            burn_in_days: 5,
            generator: None,
            scenarios: vec![
                scenario(
                    "a1",
                    ScenarioKind::Attack,
                    Some("arn:aws:iam::111111111111:role/app"),
                    "2024-05-07T10:00:00Z",
                    "2024-05-07T10:05:00Z",
                    &["e1", "e2"],
                ),
                scenario(
                    "a2",
                    ScenarioKind::Attack,
                    Some("arn:aws:iam::111111111111:role/backup"),
                    "2024-05-08T01:00:00Z",
                    "2024-05-08T01:30:00Z",
                    &[],
                ),
                scenario(
                    "a3",
                    ScenarioKind::Attack,
                    Some("arn:aws:iam::111111111111:user/x"),
                    "2024-05-09T01:00:00Z",
                    "2024-05-09T01:00:00Z",
                    &["e9"],
                ),
                scenario("n1", ScenarioKind::BenignNovelty, None, "2024-05-06T14:00:00Z", "2024-05-06T14:01:00Z", &["e5"]),
            ],
            principal_days: (1..=10).map(|d| DayCount { day: format!("2024-05-{d:02}"), principals: 10 }).collect(),
        }
    }

    fn alert(detector: &str, principal: &str, time: &str, ids: &[&str]) -> Alert {
        let detector = crate::alert::Detector::parse(detector).unwrap();
        Alert { detector, ..crate::alert::test_alert("", Some(principal), Some(time), ids) }
    }

    #[test]
    fn no_alerts_means_every_attack_missed() {
        let card = score(&labels(), &[], &ScoreOptions::default());
        assert_eq!((card.attacks, card.attacks_detected), (3, 0));
        assert!(card.scenarios.iter().all(|s| !s.detected && s.delay_seconds.is_none()));
        assert_eq!(card.precision, None);
        assert_eq!(card.principal_days, 50);
        assert_eq!(card.benign_alerts_per_principal_day, Some(0.0));
    }

    #[test]
    fn matches_by_event_id_then_by_principal_window_and_counts_noise() {
        let alerts = vec![
            // By eventID, 2 minutes in.
            alert("first_seen", "arn:aws:iam::111111111111:role/app", "2024-05-07T10:02:00Z", &["zz", "e2"]),
            // A gap alert: no eventIDs, same role seen as a session ARN, inside the window + slack.
            alert("alarm", "arn:aws:sts::111111111111:assumed-role/backup/nightly", "2024-05-08T02:10:00Z", &[]),
            // Labelled novelty.
            alert("first_seen", "arn:aws:iam::111111111111:role/app", "2024-05-06T14:00:30Z", &["e5"]),
            // Unexplained after burn-in, twice on one principal-day.
            alert("rule", "arn:aws:iam::111111111111:role/other", "2024-05-09T12:00:00Z", &["q1"]),
            alert("rule", "arn:aws:iam::111111111111:role/other", "2024-05-09T13:00:00Z", &["q2"]),
            // During burn-in: not scored.
            alert("rule", "arn:aws:iam::111111111111:role/other", "2024-05-02T13:00:00Z", &["q3"]),
            // Right principal, outside the window: not a detection.
            alert("rule", "arn:aws:iam::111111111111:user/x", "2024-05-09T03:00:00Z", &[]),
        ];
        let card = score(&labels(), &alerts, &ScoreOptions::default());
        let by_id: HashMap<&str, &ScenarioResult> = card.scenarios.iter().map(|s| (s.id.as_str(), s)).collect();
        assert!(by_id["a1"].detected);
        assert_eq!(by_id["a1"].delay_seconds, Some(120));
        assert_eq!(by_id["a1"].detected_by, vec!["first_seen/k"]);
        assert!(by_id["a2"].detected);
        assert_eq!(by_id["a2"].delay_seconds, Some(4200));
        assert!(!by_id["a3"].detected);
        assert!(by_id["n1"].detected);
        assert_eq!(card.attacks_detected, 2);
        assert_eq!((card.alerts_on_attacks, card.alerts_on_benign_novelty, card.alerts_unexplained, card.alerts_in_burn_in), (2, 1, 3, 1));
        assert_eq!(card.precision, Some(2.0 / 6.0));
        assert_eq!(card.benign_alerts_per_principal_day, Some(4.0 / 50.0));
        assert_eq!(card.noisiest[0].alerts, 2);
        assert_eq!(card.noisiest[0].day, "2024-05-09");
        assert!(card.render_table().contains("DETECTED"));
    }
}
