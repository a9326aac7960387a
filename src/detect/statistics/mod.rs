//! `statistics`: Insights-style call and error rates (docs/statistics.md). Each read worker folds
//! events into per-series, per-minute [`Cell`]s ([`RateBatch`]); applying a batch adds them to
//! the store's history (hours, plus the last day's minutes for late events) and judges each
//! minute the batch touched against the hours before it ([`model::baseline`]). One alert per
//! episode of unusual minutes.

pub(crate) mod config;
pub(crate) mod model;

pub(crate) use config::StatisticsConfig;

use crate::alert::evidence::{Attribution, Attributions, StatisticsEvidence};
use crate::alert::{Alert, Detector, Evidence, Severity, alert_id};
use crate::event::Record;
use crate::event::time::format_millis;
use crate::store::StoreTx;
use model::{Baseline, History, HourCount, MINUTES_PER_DAY, MINUTES_PER_HOUR};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How far behind the latest minute read a minute is still judged (and its minute row kept):
/// CloudTrail delivers within minutes, and the reader's duplicate window is a day too.
const LATE_MINUTES: i64 = MINUTES_PER_DAY;
/// Distinct values a minute keeps per attribute (principal, user agent, error code); the rest are
/// counted as `other`.
const TOP_VALUES: usize = 16;
/// Attributions an alert shows per attribute (Insights shows five).
const TOP_SHOWN: usize = 5;
/// `eventID`s a minute keeps (the earliest), and an alert shows.
const SAMPLES: usize = 10;

/// The two kinds of series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    CallRate,
    ErrorRate,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::CallRate => "api_call_rate",
            Kind::ErrorRate => "api_error_rate",
        }
    }
    fn insight_type(self) -> &'static str {
        match self {
            Kind::CallRate => "ApiCallRateInsight",
            Kind::ErrorRate => "ApiErrorRateInsight",
        }
    }
}

/// One series: an API in an account and region (and, for errors, one error code).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SeriesKey {
    pub kind: Kind,
    pub account: String,
    pub region: String,
    pub source: String,
    pub name: String,
    pub error: Option<String>,
}

impl SeriesKey {
    /// The store's key: a JSON array, so no field can run into the next.
    pub(crate) fn id(&self) -> String {
        serde_json::json!([self.kind.as_str(), self.account, self.region, self.source, self.name, self.error]).to_string()
    }
    /// Where minimum history is counted: the account and region.
    fn scope(&self) -> String {
        serde_json::json!([self.account, self.region]).to_string()
    }
}

/// Counts of one attribute's values in a minute, bounded: at most [`TOP_VALUES`] values, the
/// rest in `other`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Top {
    pub values: Vec<(String, u64)>,
    pub other: u64,
}

impl Top {
    fn add(&mut self, value: &str, n: u64) {
        if let Some(v) = self.values.iter_mut().find(|(k, _)| k == value) {
            v.1 += n;
        } else if self.values.len() < TOP_VALUES {
            self.values.push((value.to_string(), n));
        } else {
            self.other += n;
        }
    }
    fn absorb(&mut self, o: &Top) {
        for (k, n) in &o.values {
            self.add(k, *n);
        }
        self.other += o.other;
    }
    /// The most frequent first (ties by value, so the order does not depend on the batches).
    fn ranked(&self) -> Vec<(String, u64)> {
        let mut v = self.values.clone();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

/// One series' minute: its count, who and what made it, and its earliest events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cell {
    pub count: u64,
    pub principals: Top,
    pub agents: Top,
    pub errors: Top,
    /// `(eventTime ms, eventID)`, earliest first, at most [`SAMPLES`].
    pub samples: Vec<(i64, String)>,
}

impl Cell {
    fn absorb(&mut self, o: &Cell) {
        self.count += o.count;
        self.principals.absorb(&o.principals);
        self.agents.absorb(&o.agents);
        self.errors.absorb(&o.errors);
        self.samples.extend(o.samples.iter().cloned());
        self.samples.sort();
        self.samples.dedup();
        self.samples.truncate(SAMPLES);
    }
}

/// One read worker's series-minutes. Memory is bounded by series × minutes in the batch, each
/// cell bounded.
#[derive(Debug, Default)]
pub(crate) struct RateBatch {
    pub series: HashMap<SeriesKey, BTreeMap<i64, Cell>>,
    pub events: u64,
}

/// Read calls by name, for records without `readOnly` (Insights counts write calls only).
fn reads_by_name(name: &str) -> bool {
    ["Get", "List", "Describe", "Head", "Lookup", "Search", "Scan", "Query", "BatchGet"].iter().any(|p| name.starts_with(p))
}

/// The caller as Insights attributes it: the ARN, an assumed role's session dropped
/// (`arn:aws:sts::1:assumed-role/Role/session` → `…/assumed-role/Role`); else the service
/// that invoked the call, or the principal id.
fn caller(ev: &Record<'_>) -> String {
    let u = &ev.user_identity;
    if let Some(arn) = u.arn.as_deref() {
        if arn.contains(":assumed-role/")
            && let Some((role, _session)) = arn.rsplit_once('/')
        {
            return role.to_string();
        }
        return arn.to_string();
    }
    u.invoked_by.as_deref().or(u.principal_id.as_deref()).unwrap_or("unknown").to_string()
}

impl RateBatch {
    /// Folds one event into the series it belongs to: a write management call into its API's
    /// call rate, an error into its API and code's error rate.
    pub(crate) fn event(&mut self, ev: &Record<'_>, cfg: &StatisticsConfig) {
        let (Some(t), Some(account), Some(region), Some(source), Some(name)) =
            (ev.event_time, ev.account(), ev.aws_region.as_deref(), ev.event_source.as_deref(), ev.event_name.as_deref())
        else {
            return;
        };
        // Management calls made by a caller: data events (not read yet, docs/statistics.md),
        // AWS's own service events and Insights records are not API calls of the account.
        if ev.event_category.as_deref().is_some_and(|c| c != "Management")
            || ev.event_type.as_deref().is_some_and(|t| t == "AwsServiceEvent" || t == "AwsCloudTrailInsight")
        {
            return;
        }
        let error = ev.error_code.as_deref().filter(|e| !e.is_empty());
        let write = !ev.read_only.unwrap_or_else(|| reads_by_name(name));
        let call = cfg.api_call_rate && write;
        let failed = cfg.api_error_rate && error.is_some();
        if !call && !failed {
            return;
        }
        self.events += 1;
        let minute = t.div_euclid(60_000);
        let mut one = Cell { count: 1, ..Cell::default() };
        one.principals.add(&caller(ev), 1);
        one.agents.add(ev.user_agent.as_deref().unwrap_or("null"), 1);
        // Insights' spelling of "no error".
        one.errors.add(error.unwrap_or("null"), 1);
        if let Some(id) = ev.event_id.as_deref().filter(|s| !s.is_empty()) {
            one.samples.push((t, id.to_string()));
        }
        let key = |kind, error: Option<&str>| SeriesKey {
            kind,
            account: account.to_string(),
            region: region.to_string(),
            source: source.to_string(),
            name: name.to_string(),
            error: error.map(str::to_string),
        };
        if call {
            self.add(key(Kind::CallRate, None), minute, &one);
        }
        if failed {
            self.add(key(Kind::ErrorRate, error), minute, &one);
        }
    }

    fn add(&mut self, key: SeriesKey, minute: i64, one: &Cell) {
        self.series.entry(key).or_default().entry(minute).or_default().absorb(one);
    }

    pub(crate) fn merge(mut self, o: RateBatch) -> RateBatch {
        for (key, minutes) in o.series {
            let mine = self.series.entry(key).or_default();
            for (m, c) in minutes {
                mine.entry(m).or_default().absorb(&c);
            }
        }
        self.events += o.events;
        self
    }
}

/// What applying one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct StatisticsStats {
    /// Series-minutes judged.
    pub judged: u64,
    /// Series-minutes more than a day behind what was read before: history, not judged.
    pub late: u64,
    /// Series-minutes in an account and region with less than `min_history_days` of history.
    pub warming: u64,
    /// Unusual minutes (each opens or continues an episode).
    pub unusual: u64,
}

impl StatisticsStats {
    pub(crate) fn merge(&mut self, o: &StatisticsStats) {
        self.judged += o.judged;
        self.late += o.late;
        self.warming += o.warming;
        self.unusual += o.unusual;
    }
}

/// The detector: its settings (the state is in the store).
#[derive(Debug, Clone)]
pub(crate) struct StatisticsDetector {
    pub cfg: StatisticsConfig,
}

impl StatisticsDetector {
    /// Adds a batch to the stored history and judges the minutes it touched, in event time: the
    /// same events give the same alerts whether read in one batch or day by day (late events
    /// judge their minute again, with its full count).
    pub(crate) fn apply(&self, batch: RateBatch, tx: &dyn StoreTx, now: i64) -> anyhow::Result<(Vec<Alert>, StatisticsStats)> {
        let cfg = &self.cfg;
        let mut stats = StatisticsStats::default();
        let Some(batch_last) = batch.series.values().filter_map(|m| m.keys().next_back().copied()).max() else {
            return Ok((Vec::new(), stats));
        };
        let before = tx.stat_clock()?;
        let clock = before.map_or(batch_last, |c| c.max(batch_last));
        let late_before = before.map(|c| c - LATE_MINUTES);
        let keep_from = clock - LATE_MINUTES - MINUTES_PER_HOUR;

        // Where each account and region was first observed, this batch included.
        let mut scopes: BTreeMap<String, i64> = BTreeMap::new();
        for (key, minutes) in &batch.series {
            let first = *minutes.keys().next().unwrap_or(&batch_last);
            let e = scopes.entry(key.scope()).or_insert(first);
            *e = (*e).min(first);
        }
        for (scope, first) in scopes.iter_mut() {
            match tx.stat_scope(scope)? {
                Some(stored) if stored <= *first => *first = stored,
                _ => tx.put_stat_scope(scope, *first)?,
            }
        }

        let mut alerts = Vec::new();
        let mut keys: Vec<&SeriesKey> = batch.series.keys().collect();
        keys.sort();
        for key in keys {
            let cells = &batch.series[key];
            let id = key.id();
            let (lo, hi) = (*cells.keys().next().unwrap_or(&0), *cells.keys().next_back().unwrap_or(&0));
            // Minutes already stored (events read before): the batch adds to them.
            let mut totals: BTreeMap<i64, Cell> = tx
                .stat_minutes(&id, lo, hi + 1)?
                .into_iter()
                .filter_map(|(m, json)| Some((m, serde_json::from_str::<Cell>(&json).ok()?)))
                .collect();
            let mut hours: BTreeMap<i64, HourCount> = BTreeMap::new();
            for (&m, cell) in cells {
                let total = totals.entry(m).or_default();
                total.absorb(cell);
                let h = hours.entry(m.div_euclid(MINUTES_PER_HOUR)).or_default();
                h.count += cell.count;
                h.peak = h.peak.max(total.count);
                if m >= keep_from {
                    tx.put_stat_minute(&id, m, total.count, &serde_json::to_string(&*total)?)?;
                }
            }
            for (h, c) in &hours {
                tx.add_stat_hour(&id, *h, c.count, c.peak)?;
            }

            let first_minute = scopes[&key.scope()];
            let window = i64::from(cfg.baseline_days) * 24;
            let history: History = tx
                .stat_hours(&id, lo.div_euclid(MINUTES_PER_HOUR) - window, hi.div_euclid(MINUTES_PER_HOUR))?
                .into_iter()
                .map(|(h, count, peak)| (h, HourCount { count, peak }))
                .collect();
            let mut last_unusual = tx.stat_series(&id)?;
            let stored_unusual = last_unusual;
            let mut baselines: HashMap<i64, Option<Baseline>> = HashMap::new();
            for m in cells.keys() {
                let total = &totals[m];
                if late_before.is_some_and(|c| *m < c) {
                    stats.late += 1;
                    continue;
                }
                if *m < first_minute + i64::from(cfg.min_history_days) * MINUTES_PER_DAY {
                    stats.warming += 1;
                    continue;
                }
                let hour = m.div_euclid(MINUTES_PER_HOUR);
                let b = baselines.entry(hour).or_insert_with(|| model::baseline(&history, hour, first_minute, cfg));
                let Some(b) = b.as_ref() else { continue };
                stats.judged += 1;
                if total.count < b.threshold {
                    continue;
                }
                stats.unusual += 1;
                let gap = i64::from(cfg.episode_gap_minutes);
                // Within the gap of the last unusual minute (either side: a late minute may land
                // before it) is the same episode, already alerted.
                let continues = last_unusual.is_some_and(|l| (m - l).abs() <= gap);
                last_unusual = Some(last_unusual.map_or(*m, |l| l.max(*m)));
                if !continues {
                    alerts.push(alert(key, &id, *m, total, b, cfg));
                }
            }
            if last_unusual != stored_unusual
                && let Some(l) = last_unusual
            {
                tx.put_stat_series(&id, l)?;
            }
        }
        tx.put_stat_clock(clock)?;
        // Bounded by series, not events: minute rows for a day, hours for the window and a day.
        tx.prune_stats(keep_from, clock.div_euclid(MINUTES_PER_HOUR) - (i64::from(cfg.baseline_days) + 2) * 24)?;
        let mut raised = Vec::new();
        for mut a in alerts {
            if tx.raise_alert(&mut a, now)? {
                raised.push(a);
            }
        }
        Ok((raised, stats))
    }
}

fn per_minute(n: u64, minutes: i64) -> f64 {
    // Rounded so alert bodies do not carry float noise from the order of additions.
    let v = n as f64 / minutes.max(1) as f64;
    (v * 1e10).round() / 1e10
}

/// The alert for an episode opened at `minute`, the unusual minute `cell`.
fn alert(key: &SeriesKey, series_id: &str, minute: i64, cell: &Cell, b: &Baseline, cfg: &StatisticsConfig) -> Alert {
    let start = format_millis(minute * 60_000);
    let p = model::poisson_tail(cell.count, b.expected).max(1e-300);
    let shown = |t: &Top| -> Vec<Attribution> {
        t.ranked().into_iter().take(TOP_SHOWN).map(|(value, count)| Attribution { average: per_minute(count, 1), value, count }).collect()
    };
    let what = match &key.error {
        Some(e) => format!("{e} errors of {}", key.name),
        None => format!("{} calls", key.name),
    };
    let evidence = StatisticsEvidence {
        insight_type: key.kind.insight_type().into(),
        window_start: start.clone(),
        window_end: format_millis((minute + 1) * 60_000),
        insight_duration_minutes: 1,
        insight_average: per_minute(cell.count, 1),
        baseline_average: per_minute(b.total, b.minutes),
        baseline_duration_minutes: b.minutes,
        baseline_peak: b.peak,
        seasonal_days: b.days.as_str().into(),
        seasonal_average: per_minute(b.slot_total, b.slot_minutes),
        seasonal_peak: b.slot_peak,
        expected_per_minute: (b.expected * 1e10).round() / 1e10,
        threshold: b.threshold,
        p_value: p,
        score: ((-p.log10()) * 100.0).round() / 100.0,
        min_count: cfg.min_count,
        peak_factor: cfg.peak_factor,
        attributions: Attributions {
            user_identity_arn: shown(&cell.principals),
            user_agent: shown(&cell.agents),
            error_code: shown(&cell.errors),
        },
    };
    let top_agent = cell.agents.ranked().into_iter().next().map(|(v, _)| v).filter(|v| v != "null");
    Alert {
        id: alert_id(Detector::Statistics, &[key.kind.as_str(), series_id, &start]),
        raised_at: String::new(),
        detector: Detector::Statistics,
        kind: key.kind.as_str().into(),
        severity: Severity::Medium,
        title: format!(
            "{what} at {}/min in {} {} (baseline {:.3}/min, busiest minute {}, threshold {})",
            cell.count,
            key.account,
            key.region,
            b.average(),
            b.peak,
            b.threshold
        ),
        account: Some(key.account.clone()),
        region: Some(key.region.clone()),
        principal: None,
        principal_type: None,
        session: None,
        event_source: Some(key.source.clone()),
        event_name: Some(key.name.clone()),
        event_time: Some(start),
        event_ids: cell.samples.iter().map(|(_, id)| id.clone()).collect(),
        source_ip: None,
        user_agent: top_agent,
        error_code: key.error.clone(),
        count: cell.count,
        evidence: Evidence::Statistics(evidence),
    }
}

#[cfg(test)]
mod tests;
