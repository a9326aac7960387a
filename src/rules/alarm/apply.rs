//! The sequential part: a batch's datapoints go into the store, then every alarm is re-evaluated
//! from the earliest minute the batch can have changed to the end of the data, and each new
//! transition into ALARM (and, if asked, back to OK) becomes an alert in the store's outbox.

use super::eval::{self, Datapoint, Episode, Transition};
use super::{Alarm, State};
use crate::alert::evidence::{AlarmDatapoint, AlarmEvidence, AlarmFilter, AlarmMetric, AlarmUpdate, CountedEvent};
use crate::alert::{Alert, Detector, Evidence};
use crate::event::time::format_millis;
use crate::rules::metric::{MINUTE, MetricBatch, MetricStats};
use crate::store::metrics::{MetricSample, Stat};
use crate::store::{AlarmStateRow, StoreTx};
use serde::Serialize;
use std::collections::BTreeMap;

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct AlarmApplyStats {
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
    pub(crate) fn merge(&mut self, o: &AlarmApplyStats) {
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
pub(crate) fn apply(batch: MetricBatch, tx: &dyn StoreTx, alarms: &[Alarm], now: i64) -> anyhow::Result<(Vec<Alert>, AlarmApplyStats)> {
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
            let minutes = series_minutes(tx, alarm, &dims, from - alarm.span(), end, false)?;
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
            let window = series_minutes(tx, alarm, dims, at - span, at, true)?;
            let opened = match to {
                State::Alarm => None,
                _ => tx.alarm_alert_at(name, dims, "ALARM", episode.start - span, at)?.map(|a| transition_id(alarm, dims, a, State::Alarm)),
            };
            let mut alert = alert(alarm, dims, &Transition { at, from: from_state, to }, &eval::datapoints(alarm, &window, at), opened);
            tx.mark_alarm_alert(name, dims, at, to.as_str())?;
            if to == State::Alarm {
                // The callers counted in the range that raised the alarm, and those earlier incidents
                // of the series named, are the noise this alert stands for: updates are for callers
                // who join it and were never part of it.
                let mut named = named_in(&alert);
                named.extend(window.values().flat_map(|s| s.samples.iter().filter_map(|e| e.principal().map(str::to_string))));
                named.extend(tx.alarm_named_before(name, dims, at)?);
                named.sort();
                named.dedup();
                tx.put_alarm_episode(name, dims, at, at, &named)?;
            }
            if tx.raise_alert(&mut alert, now)? {
                out.push(alert);
            }
        }
        out.extend(raise_updates(tx, alarm, dims, &history, &episode, end, now)?);
    }
    Ok(out)
}

/// The principals an alert names: its events' callers and a per-caller series' principal.
fn named_in(alert: &Alert) -> Vec<String> {
    let events = alert.evidence.as_alarm().map_or(&[][..], |e| e.events.as_slice());
    let mut named: Vec<String> = events.iter().filter_map(|e| e.principal.clone()).chain(alert.principal.clone()).collect();
    named.sort();
    named.dedup();
    named
}

/// While an incident's series is in ALARM, each alarm period after its transition (aligned to it)
/// whose counted events come from principals the incident has not named raises one update
/// alert naming them. A period is judged once, when the data has reached its end, so a scan of a
/// month and day-by-day scans raise the same updates; events that arrive after their period was
/// judged name no one (docs/alarms.md).
fn raise_updates(
    tx: &dyn StoreTx,
    alarm: &Alarm,
    dims: &str,
    history: &[(i64, State)],
    episode: &Episode,
    end: i64,
    now: i64,
) -> anyhow::Result<Vec<Alert>> {
    let name = &alarm.config.alarm_name;
    let span = alarm.span();
    let Some(opened_at) = tx.alarm_alert_at(name, dims, "ALARM", episode.start - span, episode.end.unwrap_or(i64::MAX))? else {
        return Ok(Vec::new());
    };
    // An incident opened before this table existed is followed from now on.
    let (mut until, mut named) = tx.alarm_episode(name, dims, opened_at)?.unwrap_or((end, Vec::new()));
    let period = alarm.period_ms;
    let mut out = Vec::new();
    let first = opened_at + (until - opened_at).max(0).div_euclid(period) * period;
    let mut start = first;
    while start + period <= end && episode.end.is_none_or(|e| start < e) {
        let stop = start + period;
        if start >= until && in_alarm_during(history, start, stop) {
            let mut events: Vec<MetricSample> =
                tx.metric_points(&alarm.metric, dims, start, stop)?.into_values().flat_map(|s| s.samples).collect();
            events.sort();
            events.retain(|e| e.principal().is_some_and(|p| named.binary_search_by(|n| n.as_str().cmp(p)).is_err()));
            if !events.is_empty() {
                let mut fresh: Vec<String> = events.iter().filter_map(|e| e.principal().map(str::to_string)).collect();
                fresh.sort();
                fresh.dedup();
                let mut alert = update_alert(alarm, dims, opened_at, (start, stop), &events, &fresh);
                named.extend(fresh);
                named.sort();
                if tx.raise_alert(&mut alert, now)? {
                    out.push(alert);
                }
            }
        }
        until = until.max(stop);
        start = stop;
    }
    tx.put_alarm_episode(name, dims, opened_at, until, &named)?;
    Ok(out)
}

/// Whether the series was in ALARM at some time in `[from, to)`.
fn in_alarm_during(history: &[(i64, State)], from: i64, to: i64) -> bool {
    let before = history.iter().rev().find(|(t, _)| *t <= from).map(|(_, s)| *s);
    before == Some(State::Alarm) || history.iter().any(|&(t, s)| t > from && t < to && s == State::Alarm)
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
/// that had events but no match; their samples (for alerts) only `with_samples`.
fn series_minutes(
    tx: &dyn StoreTx,
    alarm: &Alarm,
    dims: &str,
    from: i64,
    to: i64,
    with_samples: bool,
) -> anyhow::Result<BTreeMap<i64, Stat>> {
    let mut minutes = if with_samples {
        tx.metric_points(&alarm.metric, dims, from, to)?
    } else {
        tx.metric_point_values(&alarm.metric, dims, from, to)?
    };
    if let Some(d) = alarm.default_value {
        for m in tx.metric_minutes(from, to)? {
            minutes.entry(m).or_insert_with(|| Stat::of(d));
        }
    }
    Ok(minutes)
}

/// The id of the alert a transition raises: alarm, series, time, new state.
pub(crate) fn transition_id(alarm: &Alarm, dims: &str, at: i64, to: State) -> String {
    crate::alert::alert_id(Detector::Alarm, &[&alarm.config.alarm_name, dims, &at.to_string(), to.as_str()])
}

/// The alert for a transition. `episode_id` is the id of the alert that opened the incident
/// (none: this transition opens it).
pub(crate) fn alert(alarm: &Alarm, dims: &str, t: &Transition, evaluated: &[Datapoint], episode_id: Option<String>) -> Alert {
    let c = &alarm.config;
    let id = transition_id(alarm, dims, t.at, t.to);
    let deciding: Vec<_> = evaluated.iter().filter(|d| d.breaching == Some(t.to == State::Alarm)).collect();
    let mut samples: Vec<MetricSample> = deciding.iter().filter_map(|d| d.stat.as_ref()).flat_map(|s| s.samples.iter().cloned()).collect();
    samples.sort();
    samples.dedup();
    samples.truncate(10);
    let count = deciding.iter().filter_map(|d| d.stat.as_ref()).map(|s| s.count).sum();
    let dims_label = if dims == "{}" { String::new() } else { format!(" {dims}") };
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
    let mut alert = base_alert(alarm, dims, &samples, id.clone());
    alert.severity = if t.to == State::Alarm { c.severity } else { crate::alert::Severity::Info };
    alert.title = title;
    alert.count = count;
    alert.evidence = Evidence::Alarm(AlarmEvidence {
        reason: if t.to == State::Alarm { "alarm" } else { "ok" }.into(),
        episode_id: episode_id.unwrap_or(id),
        from_state: t.from.as_str().into(),
        to_state: t.to.as_str().into(),
        transition_time: format_millis(t.at),
        datapoints_oldest_first: datapoint_line(evaluated),
        datapoints: evaluated
            .iter()
            .map(|d| AlarmDatapoint {
                period_start: format_millis(d.start),
                value: d.value,
                breaching: d.breaching,
                sample_count: d.stat.as_ref().map(|s| s.count),
            })
            .collect(),
        ..base_evidence(alarm, dims, &samples)
    });
    alert
}

/// The update alert of an incident opened at `opened_at`: `events` (sorted) are the new
/// principals' counted events in `period`.
fn update_alert(alarm: &Alarm, dims: &str, opened_at: i64, period: (i64, i64), events: &[MetricSample], fresh: &[String]) -> Alert {
    let c = &alarm.config;
    let id = crate::alert::alert_id(Detector::Alarm, &[&c.alarm_name, dims, &opened_at.to_string(), "update", &period.0.to_string()]);
    let shown: Vec<MetricSample> = events.iter().take(10).cloned().collect();
    let dims_label = if dims == "{}" { String::new() } else { format!(" {dims}") };
    let mut alert = base_alert(alarm, dims, &shown, id);
    alert.severity = c.severity;
    alert.count = events.len() as u64;
    alert.title = format!(
        "Alarm {}{dims_label} still in ALARM: {} new principal{} ({})",
        c.alarm_name,
        fresh.len(),
        if fresh.len() == 1 { "" } else { "s" },
        fresh.join(", ")
    );
    alert.evidence = Evidence::Alarm(AlarmEvidence {
        reason: "update".into(),
        episode_id: transition_id(alarm, dims, opened_at, State::Alarm),
        transition_time: format_millis(opened_at),
        update: Some(AlarmUpdate {
            period_start: format_millis(period.0),
            period_end: format_millis(period.1),
            new_principals: fresh.to_vec(),
        }),
        ..base_evidence(alarm, dims, &shown)
    });
    alert
}

/// The value every member of `samples` has, if they agree and have one.
fn agreed<'s>(samples: &'s [MetricSample], field: impl Fn(&'s MetricSample) -> Option<&'s String>) -> Option<String> {
    let first = field(samples.first()?)?;
    samples.iter().all(|s| field(s) == Some(first)).then(|| first.clone())
}

/// What an alarm alert says whatever its reason: the series (per-caller series name their
/// caller), the counted events, and where they happened when they agree.
fn base_alert(alarm: &Alarm, dims: &str, samples: &[MetricSample], id: String) -> Alert {
    let c = &alarm.config;
    let dimensions: BTreeMap<String, String> = serde_json::from_str(dims).unwrap_or_default();
    // A per-caller series (a dimension holding the caller's ARN) names its principal.
    let caller = dimensions.values().find_map(|v| principal_of_arn(v));
    let (principal, account, session) = caller.map_or((None, None, None), |(p, a, s)| (Some(p), Some(a), s));
    // A series on another caller field (userName, principalId): its events' one principal.
    let principal = principal.or_else(|| alarm.caller_dimension.then(|| agreed(samples, |s| s.3.as_ref())).flatten());
    Alert {
        id,
        raised_at: String::new(),
        detector: Detector::Alarm,
        kind: c.alarm_name.clone(),
        severity: c.severity,
        title: String::new(),
        account: account.or_else(|| agreed(samples, |s| s.4.as_ref())),
        region: agreed(samples, |s| s.5.as_ref()),
        principal,
        principal_type: None,
        session,
        event_source: None,
        event_name: None,
        event_time: samples.first().map(|s| format_millis(s.time())),
        event_ids: samples.iter().map(|s| s.event_id().to_string()).collect(),
        source_ip: None,
        user_agent: None,
        error_code: None,
        count: 0,
        evidence: Evidence::Alarm(base_evidence(alarm, dims, samples)),
    }
}

fn base_evidence(alarm: &Alarm, dims: &str, samples: &[MetricSample]) -> AlarmEvidence {
    let c = &alarm.config;
    AlarmEvidence {
        alarm: c.alarm_name.clone(),
        description: c.alarm_description.clone(),
        reason: String::new(),
        episode_id: String::new(),
        metric: AlarmMetric {
            namespace: c.namespace.clone(),
            name: c.metric_name.clone(),
            dimensions: serde_json::from_str(dims).unwrap_or_default(),
        },
        filters: alarm.filters.iter().map(|(name, pattern)| AlarmFilter { name: name.clone(), pattern: pattern.clone() }).collect(),
        statistic: c.statistic.as_str().into(),
        comparison_operator: c.comparison_operator.as_str().into(),
        threshold: c.threshold,
        period: c.period,
        evaluation_periods: c.evaluation_periods,
        datapoints_to_alarm: alarm.datapoints_to_alarm,
        treat_missing_data: c.treat_missing_data.as_str().into(),
        from_state: State::Alarm.as_str().into(),
        to_state: State::Alarm.as_str().into(),
        transition_time: String::new(),
        datapoints_oldest_first: String::new(),
        datapoints: Vec::new(),
        events: samples
            .iter()
            .map(|s| CountedEvent {
                event_time: format_millis(s.0),
                event_id: s.1.clone(),
                event_name: s.2.clone(),
                principal: s.3.clone(),
                account: s.4.clone(),
                region: s.5.clone(),
            })
            .collect(),
        update: None,
    }
}
/// The evaluation range in one line, oldest first: `-` missing, `!` breaching.
fn datapoint_line(evaluated: &[Datapoint]) -> String {
    let values: Vec<String> = evaluated
        .iter()
        .map(|d| d.value.map_or("-".to_string(), |v| format!("{v}{}", if d.breaching == Some(true) { "!" } else { "" })))
        .collect();
    values.join(" ")
}
