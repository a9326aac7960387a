//! The scorecard: which scenarios were caught, by what and how fast, and how much noise the
//! detectors make on benign activity.
//!
//! An alert detects a scenario only when it names one of the scenario's events (in `event_ids`,
//! or in its evidence: a grouped first-seen alert's behaviours, a trap's touches, the events an
//! alarm counted): a detector is credited with what it saw, nothing else. An alert that names none of an attack's
//! events but falls on its principal in its account, inside its window (extended by `slack_ms`
//! after its end), is reported apart as *near* the attack: a lead worth reading, never a
//! detection, and scored as benign (an alert on events labelled benign is never near anything).

use crate::alert::Alert;
use crate::event::arn::same_principal;
use crate::event::time::{MILLIS_PER_DAY, parse_event_time};
use crate::simulate::labels::{Labels, ScenarioKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Scoring knobs.
#[derive(Debug, Clone)]
pub(crate) struct ScoreOptions {
    /// Overrides the labels' burn-in (days from their start).
    pub burn_in_days: Option<u32>,
    /// How long after a scenario's end an alert on its principal is still reported near it.
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
    /// An alert named one of the scenario's events.
    pub detected: bool,
    /// Alerts naming one of its events.
    pub alerts: usize,
    /// `detector/kind` of those alerts.
    pub detected_by: Vec<String>,
    /// Seconds from the scenario's start to the earliest of those alerts' event time.
    pub delay_seconds: Option<i64>,
    pub expected: Vec<String>,
    /// Alerts on the attack's principal within its window that name none of its events: not
    /// credited.
    pub near_alerts: usize,
    /// `detector/kind` of the near alerts.
    pub near_by: Vec<String>,
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
    /// Alerts naming an attack's event.
    pub alerts_on_attacks: usize,
    /// Alerts on events labelled benign one by one (after burn-in).
    pub alerts_on_benign_events: usize,
    /// Alerts explained by labelled benign novelty (still false positives).
    pub alerts_on_benign_novelty: usize,
    /// Alerts on no labelled event, near an attack (its principal, inside its window): benign
    /// for the score, reported so a reader can judge them.
    pub alerts_near_attacks: usize,
    /// Alerts on nothing labelled and near no attack, after burn-in.
    pub alerts_unexplained: usize,
    /// Alerts on no attack during burn-in (not scored).
    pub alerts_in_burn_in: usize,
    pub burn_in_days: u32,
    /// Benign principal-days after burn-in (the denominator below): a day counts when any of it
    /// is after burn-in, so a dataset shorter than a day has one.
    pub principal_days: u64,
    /// Alerts after burn-in on no attack event / principal_days.
    pub benign_alerts_per_principal_day: Option<f64>,
    /// Attack alerts / all alerts after burn-in.
    pub precision: Option<f64>,
    pub noisiest: Vec<NoisyPrincipalDay>,
}

/// Every event id the alert names: its own (at most ten) and those in its evidence.
fn named_ids(a: &Alert) -> impl Iterator<Item = &str> {
    use crate::alert::evidence::Evidence;
    let evidence: Vec<&str> = match &a.evidence {
        Evidence::FirstSeen(e) => {
            e.behaviours.iter().flat_map(|b| b.first_event_id.iter().chain(&b.event_ids)).map(String::as_str).collect()
        }
        Evidence::Trap(e) => e.events.iter().filter_map(|t| t.event_id.as_deref()).collect(),
        Evidence::Alarm(e) => e.events.iter().map(|c| c.event_id.as_str()).collect(),
        // A statistics alert's events are its top-level sample.
        Evidence::Rule(_) | Evidence::Statistics(_) | Evidence::Earlier(_) => Vec::new(),
    };
    a.event_ids.iter().map(String::as_str).chain(evidence)
}

fn time_of(a: &Alert) -> Option<i64> {
    a.event_time.as_deref().and_then(parse_event_time)
}

/// Where one alert lands.
enum Verdict {
    /// Names events of these scenarios (attacks or benign novelty).
    Scenarios(BTreeSet<usize>),
    /// Names events labelled benign one by one.
    BenignEvents,
    /// Names no labelled event; on these attacks' principals inside their windows.
    Near(BTreeSet<usize>),
    Unlabelled,
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
    let benign_events: HashSet<&str> = labels.benign_event_ids.iter().map(String::as_str).collect();
    let windows: Vec<(i64, i64)> = labels
        .scenarios
        .iter()
        .map(|s| {
            (parse_event_time(&s.start).unwrap_or(i64::MAX), parse_event_time(&s.end).unwrap_or(i64::MIN).saturating_add(opts.slack_ms))
        })
        .collect();
    let near = |a: &Alert| -> BTreeSet<usize> {
        let t = time_of(a);
        let mut out = BTreeSet::new();
        for (si, s) in labels.scenarios.iter().enumerate() {
            let account_ok = s.account.is_some() && s.account == a.account;
            let principal_ok = match (&s.principal, &a.principal) {
                (Some(sp), Some(ap)) => same_principal(sp, ap),
                (None, _) => true,
                _ => false,
            };
            if s.kind == ScenarioKind::Attack && account_ok && principal_ok && t.is_some_and(|t| t >= windows[si].0 && t <= windows[si].1) {
                out.insert(si);
            }
        }
        out
    };
    let mut matched: Vec<Vec<usize>> = vec![Vec::new(); labels.scenarios.len()];
    let mut near_matched: Vec<Vec<usize>> = vec![Vec::new(); labels.scenarios.len()];
    let (mut on_attacks, mut on_benign_events, mut on_novelty, mut near_attacks, mut unexplained, mut in_burn_in) = (0, 0, 0, 0, 0, 0);
    let mut noisy: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (ai, a) in alerts.iter().enumerate() {
        let hits: BTreeSet<usize> = named_ids(a).filter_map(|id| by_event.get(id)).flatten().copied().collect();
        let verdict = if !hits.is_empty() {
            Verdict::Scenarios(hits)
        } else if named_ids(a).any(|id| benign_events.contains(id)) {
            Verdict::BenignEvents
        } else {
            let n = near(a);
            if n.is_empty() { Verdict::Unlabelled } else { Verdict::Near(n) }
        };
        let t = time_of(a);
        match &verdict {
            Verdict::Scenarios(hits) => hits.iter().for_each(|&si| matched[si].push(ai)),
            Verdict::Near(n) => n.iter().for_each(|&si| near_matched[si].push(ai)),
            _ => {}
        }
        if let Verdict::Scenarios(hits) = &verdict
            && hits.iter().any(|&si| labels.scenarios[si].kind == ScenarioKind::Attack)
        {
            on_attacks += 1;
            continue;
        }
        if t.is_some_and(|t| t < burn_end) {
            in_burn_in += 1;
            continue;
        }
        match verdict {
            Verdict::Scenarios(_) => on_novelty += 1,
            Verdict::BenignEvents => on_benign_events += 1,
            Verdict::Near(_) => near_attacks += 1,
            Verdict::Unlabelled => unexplained += 1,
        }
        let day = t.map(crate::event::time::format_day).unwrap_or_else(|| "unknown".into());
        *noisy.entry((a.principal.clone().unwrap_or_else(|| "(none)".into()), day)).or_default() += 1;
    }
    let names = |m: &[usize]| -> Vec<String> {
        let set: BTreeSet<String> = m.iter().map(|&i| format!("{}/{}", alerts[i].detector, alerts[i].kind)).collect();
        set.into_iter().collect()
    };
    let scenarios: Vec<ScenarioResult> = labels
        .scenarios
        .iter()
        .zip(matched.iter().zip(&near_matched))
        .zip(&windows)
        .map(|((s, (m, n)), w)| ScenarioResult {
            id: s.id.clone(),
            kind: s.kind,
            technique: s.technique.clone(),
            title: s.title.clone(),
            detected: !m.is_empty(),
            alerts: m.len(),
            detected_by: names(m),
            delay_seconds: m.iter().filter_map(|&i| time_of(&alerts[i])).min().map(|t| (t - w.0).max(0) / 1000),
            expected: s.expected.clone(),
            near_alerts: n.len(),
            near_by: names(n),
        })
        .collect();
    // A day counts when any of it is after burn-in: its end is past the burn-in's end.
    let principal_days: u64 = labels
        .principal_days
        .iter()
        .filter(|d| parse_event_time(&format!("{}T00:00:00Z", d.day)).is_none_or(|t| t.saturating_add(MILLIS_PER_DAY) > burn_end))
        .map(|d| d.principals)
        .sum();
    let benign = on_benign_events + on_novelty + near_attacks + unexplained;
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
        alerts_on_benign_events: on_benign_events,
        alerts_on_benign_novelty: on_novelty,
        alerts_near_attacks: near_attacks,
        alerts_unexplained: unexplained,
        alerts_in_burn_in: in_burn_in,
        burn_in_days,
        principal_days,
        benign_alerts_per_principal_day: (principal_days > 0).then(|| benign as f64 / principal_days as f64),
        precision: (scored > 0).then(|| on_attacks as f64 / scored as f64),
        noisiest,
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
            benign_event_ids: Vec::new(),
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
    fn credits_by_event_id_only_and_reports_near_alerts_apart() {
        let mut labels = labels();
        labels.benign_event_ids = vec!["b1".into()];
        let alerts = vec![
            // By eventID, 2 minutes in.
            alert("first_seen", "arn:aws:iam::111111111111:role/app", "2024-05-07T10:02:00Z", &["zz", "e2"]),
            // No labelled event, same role seen as a session ARN, inside the window + slack: near
            // a2, not a detection.
            alert("alarm", "arn:aws:sts::111111111111:assumed-role/backup/nightly", "2024-05-08T02:10:00Z", &[]),
            // Same principal and window as a3, but its event is labelled benign: benign, not near.
            alert("rule", "arn:aws:iam::111111111111:user/x", "2024-05-09T01:00:00Z", &["b1"]),
            // Labelled novelty.
            alert("first_seen", "arn:aws:iam::111111111111:role/app", "2024-05-06T14:00:30Z", &["e5"]),
            // Unexplained after burn-in, twice on one principal-day.
            alert("rule", "arn:aws:iam::111111111111:role/other", "2024-05-09T12:00:00Z", &["q1"]),
            alert("rule", "arn:aws:iam::111111111111:role/other", "2024-05-09T13:00:00Z", &["q2"]),
            // During burn-in: not scored.
            alert("rule", "arn:aws:iam::111111111111:role/other", "2024-05-02T13:00:00Z", &["q3"]),
            // Right principal, outside the window: neither.
            alert("rule", "arn:aws:iam::111111111111:user/x", "2024-05-09T03:00:00Z", &[]),
        ];
        let card = score(&labels, &alerts, &ScoreOptions::default());
        let by_id: HashMap<&str, &ScenarioResult> = card.scenarios.iter().map(|s| (s.id.as_str(), s)).collect();
        assert!(by_id["a1"].detected);
        assert_eq!(by_id["a1"].delay_seconds, Some(120));
        assert_eq!(by_id["a1"].detected_by, vec!["first_seen/k"]);
        assert!(!by_id["a2"].detected);
        assert_eq!((by_id["a2"].near_alerts, by_id["a2"].near_by.as_slice()), (1, ["alarm/k".to_string()].as_slice()));
        assert_eq!(by_id["a2"].delay_seconds, None);
        assert!(!by_id["a3"].detected);
        assert_eq!(by_id["a3"].near_alerts, 0);
        assert!(by_id["n1"].detected);
        assert_eq!(card.attacks_detected, 1);
        let buckets = (
            card.alerts_on_attacks,
            card.alerts_on_benign_events,
            card.alerts_on_benign_novelty,
            card.alerts_near_attacks,
            card.alerts_unexplained,
            card.alerts_in_burn_in,
        );
        assert_eq!(buckets, (1, 1, 1, 1, 3, 1));
        assert_eq!(card.precision, Some(1.0 / 7.0));
        assert_eq!(card.benign_alerts_per_principal_day, Some(6.0 / 50.0));
        assert_eq!(card.noisiest[0].alerts, 2);
        assert_eq!(card.noisiest[0].day, "2024-05-09");
        let table = card.render_table();
        assert!(table.contains("DETECTED") && table.contains("NOT credited") && table.contains("a2: 1 alerts (alarm/k)"), "{table}");
    }

    #[test]
    fn events_named_in_the_evidence_count() {
        // A grouped first-seen alert lists ten event ids; the attack's event is in a behaviour.
        let mut grouped = alert("first_seen", "arn:aws:iam::111111111111:user/x", "2024-05-09T00:30:00Z", &["q1"]);
        let behaviour = serde_json::json!({"kind": "first_in_account", "also": [], "outcome": "success", "action": "iam:CreateUser",
            "new_region": null, "first_event_time": "2024-05-09T01:00:00Z", "first_event_id": "e9", "region": null,
            "last_event_time": "2024-05-09T01:00:00Z", "count": 1, "event_ids": ["e9"], "source_ip": null, "user_agent": null, "error_code": null});
        grouped.evidence = serde_json::from_value(serde_json::json!({"principal_first_seen": null, "principal_behaviours": 0,
            "new_behaviours": 1, "attempt_only": false, "behaviours": [behaviour]}))
        .unwrap();
        assert!(matches!(grouped.evidence, crate::alert::evidence::Evidence::FirstSeen(_)));
        let card = score(&labels(), &[grouped], &ScoreOptions::default());
        assert!(card.scenarios.iter().any(|s| s.id == "a3" && s.detected), "{card:?}");
    }

    #[test]
    fn a_dataset_shorter_than_a_day_has_its_principal_days() {
        let mut labels = labels();
        labels.start = "2024-05-01T11:42:00Z".into();
        labels.burn_in_days = 0;
        labels.principal_days = vec![DayCount { day: "2024-05-01".into(), principals: 4 }];
        let card = score(&labels, &[alert("rule", "p", "2024-05-01T12:00:00Z", &["q"])], &ScoreOptions::default());
        assert_eq!(card.principal_days, 4);
        assert_eq!(card.benign_alerts_per_principal_day, Some(0.25));
    }
}
