//! The sequential part: a batch's datapoints go into the store, then every alarm is re-evaluated
//! from the earliest minute the batch can have changed to the end of the data, and each new
//! transition into ALARM (and, if asked, back to OK) becomes an alert in the store's outbox.

use super::eval::{self, Datapoint, Episode, Transition};
use super::{Alarm, State};
use crate::alert::Alert;
use crate::event::time::format_millis;
use crate::rules::metric::{MINUTE, MetricBatch, MetricStats};
use crate::store::metrics::Stat;
use crate::store::{AlarmStateRow, StoreTx};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AlarmApplyStats {
    pub metrics: MetricStats,
    /// Datapoints (metric, dimensions, minute) written or updated.
    pub points: u64,
    /// Published values not added because their event was counted before (read again).
    pub already_counted: u64,
    /// Series evaluations run (alarm × series).
    pub series_evaluated: u64,
    pub transitions: u64,
    /// Alerts raised (new in the outbox).
    pub alerts: u64,
}

impl AlarmApplyStats {
    /// Adds another batch's counts.
    pub fn merge(&mut self, o: &AlarmApplyStats) {
        self.metrics.merge(&o.metrics);
        self.points += o.points;
        self.already_counted += o.already_counted;
        self.series_evaluated += o.series_evaluated;
        self.transitions += o.transitions;
        self.alerts += o.alerts;
    }
}

/// Applies a merged batch inside `tx`: stores its datapoints, re-evaluates `alarms` and returns
/// the alerts raised, already in the store's outbox. An alert is raised per episode (see
/// [`eval::episodes`]), at its transition into ALARM and, with `alert_on_ok`, at its end; an
/// episode already raised (even one whose start late data moved) is never raised again.
///
/// Evaluation runs at every minute boundary up to the end of the latest minute any batch had
/// events in: the latest event is the clock, so nothing is judged on data that has not arrived.
pub fn apply(batch: MetricBatch, tx: &dyn StoreTx, alarms: &[Alarm], now: i64) -> anyhow::Result<(Vec<Alert>, AlarmApplyStats)> {
    let range = batch.minute_range();
    let (points, minutes, metrics) = batch.into_parts();
    let mut stats = AlarmApplyStats { metrics, ..Default::default() };
    let Some((batch_first, _)) = range else {
        return Ok((Vec::new(), stats));
    };
    (stats.points, stats.already_counted) = tx.merge_metric_points(&points)?;
    tx.add_metric_minutes(&minutes)?;
    let Some((data_first, data_last)) = tx.metric_minute_range()? else {
        return Ok((Vec::new(), stats));
    };
    let end = data_last + MINUTE;
    let mut alerts = Vec::new();
    for alarm in alarms {
        let name = &alarm.config.alarm_name;
        let mut stored = tx.alarm_states(name)?;
        if stored.iter().any(|s| s.definition != alarm.definition) {
            tx.clear_alarm(name)?;
            stored.clear();
        }
        // The series to evaluate and where each starts when it has no state yet.
        let mut series: Vec<(String, i64)> = if alarm.single_series {
            vec![(serde_json::to_string(&alarm.config.dimensions)?, data_first)]
        } else {
            tx.metric_series(&alarm.metric)?.into_iter().filter(|(d, _)| alarm.watches(d)).collect()
        };
        for s in &stored {
            if !series.iter().any(|(d, _)| d == &s.dimensions) {
                series.push((s.dimensions.clone(), data_first));
            }
        }
        for (dims, series_first) in series {
            let known = stored.iter().find(|s| s.dimensions == dims);
            // A series exists from its first datapoint (or, for a single series, the data's start).
            let first_eval = series_first + MINUTE;
            let from = match known {
                // Evaluations whose range holds a minute of this batch, and any not yet run.
                Some(k) => (k.evaluated_until + MINUTE).min(batch_first + MINUTE).max(first_eval),
                None => first_eval,
            };
            if from > end {
                continue;
            }
            let before = tx.alarm_state_before(name, &dims, from)?.and_then(|s| State::parse(&s)).unwrap_or(State::InsufficientData);
            let minutes = series_minutes(tx, alarm, &dims, from - alarm.span(), end)?;
            let (transitions, last) = eval::run(alarm, &minutes, from, end, before);
            stats.series_evaluated += 1;
            stats.transitions += transitions.len() as u64;
            let rows: Vec<(i64, &str)> = transitions.iter().map(|t| (t.at, t.to.as_str())).collect();
            tx.replace_alarm_transitions(name, &dims, from, &rows)?;
            tx.put_alarm_state(&AlarmStateRow {
                alarm: name.clone(),
                dimensions: dims.clone(),
                state: last.as_str().into(),
                evaluated_until: end,
                definition: alarm.definition.clone(),
            })?;
            alerts.extend(raise_alerts(tx, alarm, &dims, from, end, now)?);
        }
    }
    stats.alerts = alerts.len() as u64;
    Ok((alerts, stats))
}

/// Raises the alerts of a series' episodes that an evaluation from `from` to `end` can have
/// changed, unless already raised.
fn raise_alerts(tx: &dyn StoreTx, alarm: &Alarm, dims: &str, from: i64, end: i64, now: i64) -> anyhow::Result<Vec<Alert>> {
    let name = &alarm.config.alarm_name;
    let span = alarm.span();
    let history: Vec<(i64, State)> =
        tx.alarm_transitions(name, dims)?.into_iter().filter_map(|(at, s)| State::parse(&s).map(|s| (at, s))).collect();
    let mut out = Vec::new();
    for episode in eval::episodes(&history, span, end) {
        for (at, to) in episode_alerts(alarm, &episode, from) {
            let (lo, hi) = match to {
                // An incident whose start moved with late data was raised already if any ALARM it
                // spans (or that ran into it) was.
                State::Alarm => (episode.start - span, episode.end.unwrap_or(i64::MAX)),
                _ => (at, at + span),
            };
            if tx.alarm_alerted_between(name, dims, to.as_str(), lo, hi)? {
                continue;
            }
            if to == State::Ok && !tx.alarm_alerted_between(name, dims, "ALARM", episode.start - span, at)? {
                continue;
            }
            let from_state = history.iter().rev().find(|(t, _)| *t < at).map_or(State::InsufficientData, |(_, s)| *s);
            let window = series_minutes(tx, alarm, dims, at - span, at)?;
            let (id, alert) = alert(alarm, dims, &Transition { at, from: from_state, to }, &eval::datapoints(alarm, &window, at));
            tx.mark_alarm_alert(name, dims, at, to.as_str())?;
            if tx.insert_alert(&id, "alarm", None, Some(at), &serde_json::to_string(&alert)?, now)? {
                out.push(alert);
            }
        }
    }
    Ok(out)
}

/// `(principal, account, session)` for an IAM or STS caller ARN, normalised as
/// `event::identity` does: an assumed-role session becomes its role.
fn principal_of_arn(arn: &str) -> Option<(String, String, Option<String>)> {
    let mut it = arn.splitn(6, ':');
    let (_, partition, service, _, account, resource) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || !arn.starts_with("arn:") || account.is_empty() {
        return None;
    }
    match service {
        "sts" => {
            let rest = resource.strip_prefix("assumed-role/")?;
            let (role, session) = rest.split_once('/').map_or((rest, None), |(r, s)| (r, Some(s.to_string())));
            Some((format!("arn:{partition}:iam::{account}:role/{role}"), account.to_string(), session))
        }
        "iam" if resource == "root" || resource.starts_with("user/") || resource.starts_with("role/") => {
            Some((arn.to_string(), account.to_string(), None))
        }
        _ => None,
    }
}

/// The alerts an episode may raise that this evaluation (from `from`) can have changed: its
/// start, and with `alert_on_ok` its end.
fn episode_alerts(alarm: &Alarm, e: &Episode, from: i64) -> Vec<(i64, State)> {
    let mut out = Vec::new();
    if e.start >= from {
        out.push((e.start, State::Alarm));
    }
    if let Some(end) = e.end
        && alarm.config.alert_on_ok
        && end + alarm.span() >= from
    {
        out.push((end, State::Ok));
    }
    out
}

/// A series' per-minute datapoints in `[from, to)`, with the metric's default value in minutes
/// that had events but no match.
fn series_minutes(tx: &dyn StoreTx, alarm: &Alarm, dims: &str, from: i64, to: i64) -> anyhow::Result<BTreeMap<i64, Stat>> {
    let mut minutes = tx.metric_points(&alarm.metric, dims, from, to)?;
    if let Some(d) = alarm.default_value {
        for m in tx.metric_minutes(from, to)? {
            minutes.entry(m).or_insert_with(|| Stat::of(d));
        }
    }
    Ok(minutes)
}

/// The alert for a transition and its deterministic id (alarm, series, time, new state).
pub fn alert(alarm: &Alarm, dims: &str, t: &Transition, evaluated: &[Datapoint]) -> (String, Alert) {
    let c = &alarm.config;
    let mut h = xxhash_rust::xxh3::Xxh3Default::new();
    h.update(format!("alarm\0{}\0{dims}\0{}\0{}", c.alarm_name, t.at, t.to.as_str()).as_bytes());
    let id = format!("{:032x}", h.digest128());

    let deciding: Vec<_> = evaluated.iter().filter(|d| d.breaching == Some(t.to == State::Alarm)).collect();
    let mut samples: Vec<(i64, String)> = deciding.iter().filter_map(|d| d.stat.as_ref()).flat_map(|s| s.samples.iter().cloned()).collect();
    samples.sort();
    samples.dedup();
    samples.truncate(10);
    let count = deciding.iter().filter_map(|d| d.stat.as_ref()).map(|s| s.count).sum();
    let dims_label = if dims == "{}" { String::new() } else { format!(" {dims}") };
    let value_list: Vec<String> = evaluated
        .iter()
        .map(|d| d.value.map_or("-".to_string(), |v| format!("{v}{}", if d.breaching == Some(true) { "!" } else { "" })))
        .collect();
    let title = format!(
        "Alarm {}{dims_label}: {} -> {} ({:?} of {} {} {} in {} of {} periods of {} s)",
        c.alarm_name,
        t.from.as_str(),
        t.to.as_str(),
        c.statistic,
        c.metric_name,
        c.comparison_operator.symbol(),
        c.threshold,
        alarm.datapoints_to_alarm,
        c.evaluation_periods,
        c.period,
    );
    let dimensions: serde_json::Value = serde_json::from_str(dims).unwrap_or(json!({}));
    // A per-caller series (a dimension holding the caller's ARN) names its principal.
    let caller = dimensions.as_object().into_iter().flat_map(|m| m.values()).filter_map(|v| v.as_str()).find_map(principal_of_arn);
    let (principal, account, session) = caller.map_or((None, None, None), |(p, a, s)| (Some(p), Some(a), s));
    let alert = Alert {
        detector: "alarm".into(),
        kind: c.alarm_name.clone(),
        severity: if t.to == State::Alarm { c.severity } else { crate::alert::Severity::Info },
        title,
        account,
        region: None,
        principal,
        principal_type: None,
        session,
        event_source: None,
        event_name: None,
        event_time: Some(format_millis(samples.first().map_or(t.at, |s| s.0))),
        event_ids: samples.into_iter().map(|(_, id)| id).collect(),
        source_ip: None,
        user_agent: None,
        error_code: None,
        count,
        evidence: json!({
            "alarm": c.alarm_name,
            "description": c.alarm_description,
            "metric": { "namespace": c.namespace, "name": c.metric_name, "dimensions": dimensions },
            "statistic": c.statistic,
            "comparison_operator": c.comparison_operator,
            "threshold": c.threshold,
            "period": c.period,
            "evaluation_periods": c.evaluation_periods,
            "datapoints_to_alarm": alarm.datapoints_to_alarm,
            "treat_missing_data": c.treat_missing_data,
            "from_state": t.from,
            "to_state": t.to,
            "transition_time": format_millis(t.at),
            "datapoints_oldest_first": value_list.join(" "),
            "datapoints": evaluated.iter().map(|d| json!({
                "period_start": format_millis(d.start),
                "value": d.value,
                "breaching": d.breaching,
                "sample_count": d.stat.as_ref().map(|s| s.count),
            })).collect::<Vec<_>>(),
        }),
    };
    (id, alert)
}
