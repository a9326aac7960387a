//! The state store: behaviour baselines, when principals were first seen, store coverage,
//! metric datapoints and alarm state, files already processed and the alert outbox.
//!
//! Every detector, the ledger and the outbox go through two traits, [`Store`] (an open store)
//! and [`StoreTx`] (one write transaction per batch of files: a file's observations and its
//! `files` row commit together, so a crash never leaves a half-applied file). A backend
//! implements both; [`open`] picks it. The embedded default is SQLite (`sqlite/`).

pub(crate) mod metrics;
pub(crate) mod sqlite;

pub(crate) use metrics::AlarmStateRow;

use anyhow::Context;
use metrics::{PendingPoint, PointKey, Stat};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// First, last and count of one outcome (success or failure) of a behaviour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub count: i64,
}

impl Tally {
    /// Adds `o`: earliest first, latest last, summed count.
    pub fn absorb(&mut self, o: &Tally) {
        self.first = min_opt(self.first, o.first);
        self.last = max_opt(self.last, o.last);
        self.count += o.count;
    }
}

pub(crate) fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

pub(crate) fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// One baseline key: `scope` (principal, account or role name) doing `item` (action or region).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineRow {
    pub key_kind: String,
    pub scope: String,
    pub item: String,
    pub account: Option<String>,
    pub success: Tally,
    pub failure: Tally,
}

impl BaselineRow {
    pub fn first_seen(&self) -> Option<i64> {
        min_opt(self.success.first, self.failure.first)
    }
    pub fn last_seen(&self) -> Option<i64> {
        max_opt(self.success.last, self.failure.last)
    }
}

/// When trailhound first and last saw a principal, account or role name (event time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeRow {
    pub scope_kind: String,
    pub scope: String,
    pub principal_type: Option<String>,
    pub account: Option<String>,
    pub name: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// One line of `baseline export`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ExportLine {
    Baseline(BaselineRow),
    Scope(ScopeRow),
}

/// What `baseline forget` removes; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct ForgetFilter {
    pub scope: Option<String>,
    pub account: Option<String>,
    pub item: Option<String>,
    /// Keys not seen at or after this time.
    pub last_seen_before: Option<i64>,
}

/// Where the store lives without `--state` or config: `$XDG_STATE_HOME/trailhound/state.sqlite`,
/// else `~/.local/state/trailhound/state.sqlite` (`%LOCALAPPDATA%` on Windows).
pub(crate) fn default_path() -> anyhow::Result<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = env("XDG_STATE_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".local/state")))
        .or_else(|| env("LOCALAPPDATA"))
        .context("no state directory: set --state, [store] path, XDG_STATE_HOME or HOME")?;
    Ok(base.join("trailhound").join("state.sqlite"))
}

/// Opens (creating if needed) the store at `path` for writing, migrating its schema forward;
/// `:memory:` is a throw-away store. A corrupt store is refused.
pub(crate) fn open(path: &Path) -> anyhow::Result<Box<dyn Store>> {
    if path.as_os_str() == ":memory:" {
        return open_in_memory();
    }
    Ok(Box::new(sqlite::SqliteStore::open(path)?))
}

/// Opens the store at `path` for commands that only read it: nothing is written (not even a
/// migration), and a missing store reads as empty without being created.
pub(crate) fn open_for_reading(path: &Path) -> anyhow::Result<Box<dyn Store>> {
    if path.as_os_str() == ":memory:" {
        return open_in_memory();
    }
    Ok(Box::new(sqlite::SqliteStore::open_for_reading(path)?))
}

/// A throw-away store, for tests, `evaluate` and `--state :memory:`.
pub(crate) fn open_in_memory() -> anyhow::Result<Box<dyn Store>> {
    Ok(Box::new(sqlite::SqliteStore::open_in_memory()?))
}

/// An open store: reads outside a batch, the ledger's and the outbox's own writes, and the
/// transaction every batch writes through.
pub trait Store: Send {
    /// The store's file, when it has one (summaries name it).
    fn path(&self) -> Option<&Path>;
    /// Names the store in an error from it (and says what a full disk or corruption mean).
    fn explain(&self, e: anyhow::Error) -> anyhow::Error;
    /// Starts the transaction every batch writes through.
    fn transaction(&mut self) -> anyhow::Result<Box<dyn StoreTx + '_>>;
    /// For each `(path, size, mtime)`, whether it was processed with this size and modification
    /// time.
    fn files_done(&mut self, files: &[(&str, u64, i64)]) -> anyhow::Result<Vec<bool>>;
    /// Earliest and latest event time the store has learned from.
    fn coverage(&self) -> anyhow::Result<Option<(i64, i64)>>;
    /// A value the commands keep beside the state (e.g. the config a scan last ran with).
    fn meta(&self, name: &str) -> anyhow::Result<Option<String>>;
    /// Sets a [`Store::meta`] value, in a transaction of its own.
    fn set_meta(&mut self, name: &str, value: &str) -> anyhow::Result<()>;
    /// Hosts learned in trap subnets and VPCs, `(trap id, member)`, the `limit` most recently
    /// placed there.
    fn trap_members(&self, limit: usize) -> anyhow::Result<Vec<(String, String)>>;
    /// Alerts raised but not yet written to the run's stream, oldest first: `(alert_id, JSON
    /// body)`.
    fn undelivered_alerts(&self) -> anyhow::Result<Vec<(String, String)>>;
    /// Marks alerts as written to the stream and, in the same transaction, queues them for each
    /// sink in `queue_for` (receivers that confirm, see [`Store::pending_for`]).
    fn mark_delivered(&mut self, ids: &[String], queue_for: &[&str], now: i64) -> anyhow::Result<()>;
    /// Alerts queued for `sink` that it has not confirmed, oldest first: `(alert_id, JSON body)`.
    fn pending_for(&self, sink: &str) -> anyhow::Result<Vec<(String, String)>>;
    /// Records that `sink` confirmed these alerts.
    fn mark_confirmed(&mut self, sink: &str, ids: &[String], now: i64) -> anyhow::Result<()>;
    /// Baseline rows matching the filter (all when empty), ordered by key.
    fn baseline_rows(&self, f: &ForgetFilter) -> anyhow::Result<Vec<BaselineRow>>;
    /// Every scope row, ordered by key.
    fn scope_rows(&self) -> anyhow::Result<Vec<ScopeRow>>;
    /// Removes baseline rows matching `f` (and, when forgetting a scope or account, its scope
    /// rows, so its burn-in starts again). Returns the number of baseline rows removed.
    fn forget(&mut self, f: &ForgetFilter) -> anyhow::Result<usize>;
}

/// One write transaction. Dropped without [`StoreTx::commit`], it rolls back.
pub trait StoreTx {
    fn commit(self: Box<Self>) -> anyhow::Result<()>;

    // First-seen: baselines and scopes.
    fn baseline(&self, key_kind: &str, scope: &str, item: &str) -> anyhow::Result<Option<BaselineRow>>;
    /// Writes `row` as it is (the caller merged it with what was stored).
    fn put_baseline(&self, row: &BaselineRow) -> anyhow::Result<()>;
    fn scope(&self, scope_kind: &str, scope: &str) -> anyhow::Result<Option<ScopeRow>>;
    /// Writes `row` as it is (see [`StoreTx::merge_scope`]).
    fn put_scope(&self, row: &ScopeRow) -> anyhow::Result<()>;
    /// Widens the store's coverage to include `[first, last]` and returns the new coverage.
    fn extend_coverage(&self, first: i64, last: i64) -> anyhow::Result<(i64, i64)>;
    /// Records a host learned in a trap subnet or VPC (the earliest `first_seen` stays).
    fn put_trap_member(&self, trap: &str, member: &str, first_seen: i64) -> anyhow::Result<()>;
    /// How many distinct actions `scope` had done (succeeded or failed) before `before`, in event
    /// time: the baseline an alert stands against, whichever batch its events were read in.
    fn behaviours(&self, scope: &str, before: i64) -> anyhow::Result<i64>;
    /// As they stood at `at` (event time): other accounts than `account` holding a role named
    /// `name` (first observed before `at`), and how many of those roles had done `action`
    /// successfully before `at`.
    fn role_peers(&self, name: &str, account: Option<&str>, action: &str, at: i64) -> anyhow::Result<(i64, i64)>;
    /// `scope`'s rows of `key_kind` first seen (succeeded) before `before`, earliest first (then
    /// by item), at most `limit`: `(item, first seen)`. First-seen's principal context.
    fn baseline_earliest(&self, key_kind: &str, scope: &str, before: i64, limit: usize) -> anyhow::Result<Vec<(String, i64)>>;
    /// Other accounts than `account` whose role named `name` first did `action` successfully
    /// within `[from, to]` (event time), sorted: where a roll-out went next.
    fn role_peers_starting(&self, name: &str, account: Option<&str>, action: &str, from: i64, to: i64) -> anyhow::Result<Vec<String>>;

    // The ledger and the outbox.
    /// [`Store::files_done`], inside this transaction: what another process committed since the
    /// run looked is seen here, and stays true until this transaction commits.
    fn files_done(&self, files: &[(&str, u64, i64)]) -> anyhow::Result<Vec<bool>>;
    /// Records files as processed, `(path, size, mtime)` each (in the same transaction as their
    /// observations).
    fn mark_files(&self, files: &[(&str, u64, i64)], now: i64) -> anyhow::Result<()>;
    /// Adds an alert to the outbox; false when an alert with this id was already raised.
    fn insert_alert(
        &self,
        id: &str,
        detector: &str,
        principal: Option<&str>,
        event_time: Option<i64>,
        body: &str,
        now: i64,
    ) -> anyhow::Result<bool>;

    /// From now on, the alerts this transaction raises are learned, not raised (`baseline learn`,
    /// `scan --learn`): each takes its id, so the same alert (a trap's window, an alarm's
    /// incident, a first-seen burst) is never raised by a later run, but none is ever delivered.
    fn learning(&mut self);

    /// Puts `alert` in the outbox under its id, stamping `raised_at` first: the stored body is
    /// what every delivery sends, so a redelivery is a byte copy. False when an alert with this
    /// id was already raised.
    fn raise_alert(&self, alert: &mut crate::alert::Alert, now: i64) -> anyhow::Result<bool> {
        alert.raised_at = crate::event::time::format_millis(now);
        let body = serde_json::to_string(alert)?;
        let time = alert.event_time.as_deref().and_then(crate::event::time::parse_event_time);
        self.insert_alert(&alert.id, alert.detector.as_str(), alert.principal.as_deref(), time, &body, now)
    }

    // Metric datapoints and alarm state.
    /// Adds a batch's datapoints to what is stored (sums and counts add, min and max widen),
    /// counting each event once however often it is read. Returns `(datapoints changed, values
    /// already counted)`.
    fn merge_metric_points(&self, points: &[(PointKey, PendingPoint)]) -> anyhow::Result<(u64, u64)>;
    /// Records that events were read in these minutes (whether or not a filter matched).
    fn add_metric_minutes(&self, minutes: &[i64]) -> anyhow::Result<()>;
    /// The first and last minute with events read.
    fn metric_minute_range(&self) -> anyhow::Result<Option<(i64, i64)>>;
    /// Minutes in `[from, to)` with events read.
    fn metric_minutes(&self, from: i64, to: i64) -> anyhow::Result<Vec<i64>>;
    /// One series' datapoints in `[from, to)`, by minute.
    fn metric_points(&self, metric: &str, dimensions: &str, from: i64, to: i64) -> anyhow::Result<BTreeMap<i64, Stat>>;
    /// [`Self::metric_points`] without their samples: alarms are evaluated every minute on values
    /// alone, and reading every datapoint's sample list cost more than the evaluation.
    fn metric_point_values(&self, metric: &str, dimensions: &str, from: i64, to: i64) -> anyhow::Result<BTreeMap<i64, Stat>>;
    /// A metric's series: `(dimensions, first minute)`.
    fn metric_series(&self, metric: &str) -> anyhow::Result<Vec<(String, i64)>>;
    fn alarm_states(&self, alarm: &str) -> anyhow::Result<Vec<AlarmStateRow>>;
    fn put_alarm_state(&self, row: &AlarmStateRow) -> anyhow::Result<()>;
    /// Forgets an alarm's state and history (its definition changed).
    fn clear_alarm(&self, alarm: &str) -> anyhow::Result<()>;
    /// The series' state in force just before `t`.
    fn alarm_state_before(&self, alarm: &str, dimensions: &str, t: i64) -> anyhow::Result<Option<String>>;
    /// Replaces the series' transitions from `from` on.
    fn replace_alarm_transitions(&self, alarm: &str, dimensions: &str, from: i64, transitions: &[(i64, &str)]) -> anyhow::Result<()>;
    /// Records that an alert was raised for the transition into `state` at `at`.
    fn mark_alarm_alert(&self, alarm: &str, dimensions: &str, at: i64, state: &str) -> anyhow::Result<()>;
    /// Whether an alert for a transition into `state` was raised in `[from, to]`.
    fn alarm_alerted_between(&self, alarm: &str, dimensions: &str, state: &str, from: i64, to: i64) -> anyhow::Result<bool>;
    /// The series' alerted transitions: `(time, state)`.
    fn alarm_alerts(&self, alarm: &str, dimensions: &str) -> anyhow::Result<Vec<(i64, String)>>;
    /// The series' transitions: `(time, state)`.
    fn alarm_transitions(&self, alarm: &str, dimensions: &str) -> anyhow::Result<Vec<(i64, String)>>;
    /// The earliest time in `[from, to]` at which a transition into `state` raised an alert.
    fn alarm_alert_at(&self, alarm: &str, dimensions: &str, state: &str, from: i64, to: i64) -> anyhow::Result<Option<i64>>;
    /// An incident's named principals and how far it was checked for new ones (`alarm_episodes`,
    /// keyed by the time of the transition that raised it).
    fn alarm_episode(&self, alarm: &str, dimensions: &str, opened_at: i64) -> anyhow::Result<Option<(i64, Vec<String>)>>;
    /// Every principal named by the series' incidents opened before `t`.
    fn alarm_named_before(&self, alarm: &str, dimensions: &str, t: i64) -> anyhow::Result<Vec<String>>;
    fn put_alarm_episode(&self, alarm: &str, dimensions: &str, opened_at: i64, checked_until: i64, named: &[String]) -> anyhow::Result<()>;

    // Statistics (docs/statistics.md): minutes are minutes since the epoch, hours hours.
    /// A series' stored minutes in `[from, to)`: `(minute, cell JSON)`.
    fn stat_minutes(&self, series: &str, from: i64, to: i64) -> anyhow::Result<Vec<(i64, String)>>;
    /// Writes a series' minute as it is (the caller merged it with what was stored).
    fn put_stat_minute(&self, series: &str, minute: i64, count: u64, cell: &str) -> anyhow::Result<()>;
    /// Adds `count` calls to a series' hour and widens its busiest minute to `peak`.
    fn add_stat_hour(&self, series: &str, hour: i64, count: u64, peak: u64) -> anyhow::Result<()>;
    /// A series' hours in `[from, to)`: `(hour, count, peak)`.
    fn stat_hours(&self, series: &str, from: i64, to: i64) -> anyhow::Result<Vec<(i64, u64, u64)>>;
    /// A series' latest unusual minute.
    fn stat_series(&self, series: &str) -> anyhow::Result<Option<i64>>;
    fn put_stat_series(&self, series: &str, last_unusual: i64) -> anyhow::Result<()>;
    /// When an account and region was first observed (minute).
    fn stat_scope(&self, scope: &str) -> anyhow::Result<Option<i64>>;
    fn put_stat_scope(&self, scope: &str, first_minute: i64) -> anyhow::Result<()>;
    /// The latest minute the detector has read.
    fn stat_clock(&self) -> anyhow::Result<Option<i64>>;
    fn put_stat_clock(&self, minute: i64) -> anyhow::Result<()>;
    /// Drops minute rows before `minutes_before` and hour rows before `hours_before`.
    fn prune_stats(&self, minutes_before: i64, hours_before: i64) -> anyhow::Result<()>;

    /// Merges `row` into the stored one: earliest first seen, latest last seen, known metadata
    /// kept. Returns what is stored now.
    fn merge_scope(&self, row: &ScopeRow) -> anyhow::Result<ScopeRow> {
        let merged = match self.scope(&row.scope_kind, &row.scope)? {
            None => row.clone(),
            Some(old) => ScopeRow {
                principal_type: row.principal_type.clone().or(old.principal_type),
                account: row.account.clone().or(old.account),
                name: row.name.clone().or(old.name),
                first_seen: old.first_seen.min(row.first_seen),
                last_seen: old.last_seen.max(row.last_seen),
                ..row.clone()
            },
        };
        self.put_scope(&merged)?;
        Ok(merged)
    }

    /// Merges an exported line into the store (earliest first, latest last, larger count), so
    /// importing the same export twice changes nothing.
    fn import(&self, line: &ExportLine) -> anyhow::Result<()> {
        match line {
            // A principal's latest run of activity (first-seen's `principal_run`): the later run
            // is the latest, the earlier one is history.
            ExportLine::Scope(s) if s.scope_kind == "principal_run" => {
                if self.scope(&s.scope_kind, &s.scope)?.is_none_or(|old| (old.first_seen, old.last_seen) < (s.first_seen, s.last_seen)) {
                    self.put_scope(s)?;
                }
            }
            ExportLine::Scope(s) => {
                self.merge_scope(s)?;
            }
            ExportLine::Baseline(b) => {
                let merged = match self.baseline(&b.key_kind, &b.scope, &b.item)? {
                    None => b.clone(),
                    Some(old) => {
                        let m = |o: &Tally, n: &Tally| Tally {
                            first: min_opt(o.first, n.first),
                            last: max_opt(o.last, n.last),
                            count: o.count.max(n.count),
                        };
                        BaselineRow {
                            success: m(&old.success, &b.success),
                            failure: m(&old.failure, &b.failure),
                            account: b.account.clone().or(old.account),
                            ..b.clone()
                        }
                    }
                };
                self.put_baseline(&merged)?;
                for t in [merged.first_seen(), merged.last_seen()].into_iter().flatten() {
                    self.extend_coverage(t, t)?;
                }
            }
        }
        Ok(())
    }
}
