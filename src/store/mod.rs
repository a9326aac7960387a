//! The embedded state store (SQLite, one file): behaviour baselines, when principals were first
//! seen, store coverage, files already processed and the alert outbox.
//!
//! Writes go through [`StoreTx`], one transaction per batch of files: a file's observations and
//! its `files` row commit together, so a crash never leaves a half-applied file.

pub mod metrics;
pub mod schema;

pub use metrics::AlarmStateRow;

use anyhow::{Context, bail};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

// Macros, not consts, so that each statement is one literal made at compile time: a statement
// made with `format!` at each call costs an allocation and a longer cache lookup per row.
macro_rules! baseline_cols {
    () => {
        "key_kind, scope, item, account, first_success, last_success, successes, first_failure, last_failure, failures"
    };
}
macro_rules! scope_cols {
    () => {
        "scope_kind, scope, principal_type, account, name, first_seen, last_seen"
    };
}

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

pub fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

pub fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
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

/// An open store.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
}

/// Where the store lives without `--state` or config: `$XDG_STATE_HOME/trailhound/state.sqlite`,
/// else `~/.local/state/trailhound/state.sqlite` (`%LOCALAPPDATA%` on Windows).
pub fn default_path() -> anyhow::Result<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = env("XDG_STATE_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".local/state")))
        .or_else(|| env("LOCALAPPDATA"))
        .context("no state directory: set --state, [store] path, XDG_STATE_HOME or HOME")?;
    Ok(base.join("trailhound").join("state.sqlite"))
}

impl Store {
    /// Opens (creating if needed) the store at `path`, migrating its schema forward.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating state directory {}", dir.display()))?;
        }
        let conn = Connection::open(path).with_context(|| format!("opening state store {}", path.display()))?;
        let mut store = Store { conn, path: Some(path.to_path_buf()) };
        store.init().with_context(|| format!("state store {}", path.display()))?;
        Ok(store)
    }

    /// A throwaway store, for tests and `--state :memory:`.
    pub fn open_in_memory() -> anyhow::Result<Store> {
        let mut store = Store { conn: Connection::open_in_memory()?, path: None };
        store.init()?;
        Ok(store)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn init(&mut self) -> anyhow::Result<()> {
        // WAL lets `baseline show` read while a scan writes; NORMAL is durable at each commit in WAL.
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // A batch's alarm stage alone cycles through more than rusqlite's default 16 statements,
        // and an evicted statement is compiled again on its next use.
        self.conn.set_prepared_statement_cache_capacity(64);
        // SQLite (built with STAT4) otherwise compiles a statement again whenever a bound value
        // in a range (`minute >= ?`) changes, as the alarm stage's queries do at every call: a
        // fixed plan per statement is what these indexed lookups want anyway.
        self.conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        let tx = self.conn.transaction()?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);")?;
        let version: i64 = tx
            .query_row("SELECT value FROM meta WHERE name = 'schema_version'", [], |r| r.get::<_, String>(0))
            .optional()?
            .map(|v| v.parse().unwrap_or(-1))
            .unwrap_or(0);
        if !(0..=schema::VERSION).contains(&version) {
            bail!("schema version {version} is not one this trailhound knows (it writes {}): use a newer trailhound", schema::VERSION);
        }
        for step in &schema::MIGRATIONS[version as usize..] {
            tx.execute_batch(step)?;
        }
        tx.execute(
            "INSERT INTO meta (name, value) VALUES ('schema_version', ?1) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![schema::VERSION.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Starts the transaction every write goes through.
    pub fn transaction(&mut self) -> anyhow::Result<StoreTx<'_>> {
        Ok(StoreTx { tx: self.conn.transaction()? })
    }

    /// True when `path` was processed with this size and modification time.
    pub fn file_done(&self, path: &str, size: u64, mtime: i64) -> anyhow::Result<bool> {
        let mut st = self.conn.prepare_cached("SELECT size, mtime FROM files WHERE path = ?1")?;
        let row: Option<(i64, i64)> = st.query_row(params![path], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        Ok(row == Some((size as i64, mtime)))
    }

    /// For each `(path, size, mtime)`, whether it was processed; one read transaction for all.
    pub fn files_done(&mut self, files: &[(&str, u64, i64)]) -> anyhow::Result<Vec<bool>> {
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(files.len());
        {
            let mut st = tx.prepare_cached("SELECT size, mtime FROM files WHERE path = ?1")?;
            for (path, size, mtime) in files {
                let row: Option<(i64, i64)> = st.query_row(params![path], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                out.push(row == Some((*size as i64, *mtime)));
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Earliest and latest event time the store has learned from.
    pub fn coverage(&self) -> anyhow::Result<Option<(i64, i64)>> {
        let get = |name: &str| -> anyhow::Result<Option<i64>> {
            let v: Option<String> =
                self.conn.query_row("SELECT value FROM meta WHERE name = ?1", params![name], |r| r.get(0)).optional()?;
            Ok(v.and_then(|v| v.parse().ok()))
        };
        Ok(get("coverage_first")?.zip(get("coverage_last")?))
    }

    /// Alerts raised but not yet delivered, oldest first: `(alert_id, JSON body)`.
    pub fn undelivered_alerts(&self) -> anyhow::Result<Vec<(String, String)>> {
        let mut st = self.conn.prepare("SELECT alert_id, body FROM alerts WHERE delivered = 0 ORDER BY event_time, alert_id")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks alerts as delivered.
    pub fn mark_delivered(&mut self, ids: &[String]) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached("UPDATE alerts SET delivered = 1 WHERE alert_id = ?1")?;
            for id in ids {
                st.execute(params![id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Baseline rows matching the filter (all when empty), ordered by key.
    pub fn baseline_rows(&self, f: &ForgetFilter) -> anyhow::Result<Vec<BaselineRow>> {
        let mut st = self.conn.prepare(concat!("SELECT ", baseline_cols!(), " FROM baseline ORDER BY key_kind, scope, item"))?;
        let rows = st.query_map([], row_to_baseline)?;
        let mut out = Vec::new();
        for r in rows {
            let r = r?;
            if matches_filter(&r, f) {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Every scope row, ordered by key.
    pub fn scope_rows(&self) -> anyhow::Result<Vec<ScopeRow>> {
        let mut st = self.conn.prepare(concat!("SELECT ", scope_cols!(), " FROM scopes ORDER BY scope_kind, scope"))?;
        let rows = st.query_map([], row_to_scope)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes baseline rows matching `f` (and, when forgetting a scope or account, its scope
    /// rows, so its burn-in starts again). Returns the number of baseline rows removed.
    pub fn forget(&mut self, f: &ForgetFilter) -> anyhow::Result<usize> {
        if f.scope.is_none() && f.account.is_none() && f.item.is_none() && f.last_seen_before.is_none() {
            bail!("refusing to forget everything: give --principal, --account, --item or --before (or delete the state file)");
        }
        let doomed = self.baseline_rows(f)?;
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached("DELETE FROM baseline WHERE key_kind = ?1 AND scope = ?2 AND item = ?3")?;
            for r in &doomed {
                st.execute(params![r.key_kind, r.scope, r.item])?;
            }
            if f.item.is_none() && f.last_seen_before.is_none() {
                if let Some(s) = &f.scope {
                    tx.execute("DELETE FROM scopes WHERE scope = ?1", params![s])?;
                }
                if let Some(a) = &f.account {
                    tx.execute("DELETE FROM scopes WHERE account = ?1 OR (scope_kind = 'account' AND scope = ?1)", params![a])?;
                }
            }
        }
        tx.commit()?;
        Ok(doomed.len())
    }
}

fn matches_filter(r: &BaselineRow, f: &ForgetFilter) -> bool {
    f.scope.as_ref().is_none_or(|s| &r.scope == s)
        && f.account.as_ref().is_none_or(|a| r.account.as_ref() == Some(a) || (r.key_kind == "account_action" && &r.scope == a))
        && f.item.as_ref().is_none_or(|i| &r.item == i)
        && f.last_seen_before.is_none_or(|t| r.last_seen().is_none_or(|l| l < t))
}

fn row_to_baseline(r: &rusqlite::Row<'_>) -> rusqlite::Result<BaselineRow> {
    Ok(BaselineRow {
        key_kind: r.get(0)?,
        scope: r.get(1)?,
        item: r.get(2)?,
        account: r.get(3)?,
        success: Tally { first: r.get(4)?, last: r.get(5)?, count: r.get(6)? },
        failure: Tally { first: r.get(7)?, last: r.get(8)?, count: r.get(9)? },
    })
}

fn row_to_scope(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScopeRow> {
    Ok(ScopeRow {
        scope_kind: r.get(0)?,
        scope: r.get(1)?,
        principal_type: r.get(2)?,
        account: r.get(3)?,
        name: r.get(4)?,
        first_seen: r.get(5)?,
        last_seen: r.get(6)?,
    })
}

/// One write transaction. Dropped without [`StoreTx::commit`], it rolls back.
pub struct StoreTx<'c> {
    tx: rusqlite::Transaction<'c>,
}

impl StoreTx<'_> {
    pub fn commit(self) -> anyhow::Result<()> {
        self.tx.commit().context("committing to the state store")
    }

    pub fn baseline(&self, key_kind: &str, scope: &str, item: &str) -> anyhow::Result<Option<BaselineRow>> {
        let mut st = self.tx.prepare_cached(concat!(
            "SELECT ",
            baseline_cols!(),
            " FROM baseline WHERE key_kind = ?1 AND scope = ?2 AND item = ?3"
        ))?;
        Ok(st.query_row(params![key_kind, scope, item], row_to_baseline).optional()?)
    }

    /// Writes `row` as it is (the caller merged it with what was stored).
    pub fn put_baseline(&self, row: &BaselineRow) -> anyhow::Result<()> {
        let mut st = self.tx.prepare_cached(concat!(
            "INSERT INTO baseline (",
            baseline_cols!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (key_kind, scope, item) DO UPDATE SET account = excluded.account,
               first_success = excluded.first_success, last_success = excluded.last_success, successes = excluded.successes,
               first_failure = excluded.first_failure, last_failure = excluded.last_failure, failures = excluded.failures"
        ))?;
        st.execute(params![
            row.key_kind,
            row.scope,
            row.item,
            row.account,
            row.success.first,
            row.success.last,
            row.success.count,
            row.failure.first,
            row.failure.last,
            row.failure.count
        ])?;
        Ok(())
    }

    pub fn scope(&self, scope_kind: &str, scope: &str) -> anyhow::Result<Option<ScopeRow>> {
        let mut st = self.tx.prepare_cached(concat!("SELECT ", scope_cols!(), " FROM scopes WHERE scope_kind = ?1 AND scope = ?2"))?;
        Ok(st.query_row(params![scope_kind, scope], row_to_scope).optional()?)
    }

    /// Merges `row` into the stored one: earliest first seen, latest last seen, known metadata kept.
    pub fn merge_scope(&self, row: &ScopeRow) -> anyhow::Result<ScopeRow> {
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
        let mut st = self.tx.prepare_cached(concat!(
            "INSERT INTO scopes (",
            scope_cols!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (scope_kind, scope) DO UPDATE SET principal_type = excluded.principal_type, account = excluded.account,
               name = excluded.name, first_seen = excluded.first_seen, last_seen = excluded.last_seen"
        ))?;
        st.execute(params![
            merged.scope_kind,
            merged.scope,
            merged.principal_type,
            merged.account,
            merged.name,
            merged.first_seen,
            merged.last_seen
        ])?;
        Ok(merged)
    }

    /// Widens the store's coverage to include `[first, last]` and returns the new coverage.
    pub fn extend_coverage(&self, first: i64, last: i64) -> anyhow::Result<(i64, i64)> {
        let get = |name: &str| -> anyhow::Result<Option<i64>> {
            let v: Option<String> = self.tx.query_row("SELECT value FROM meta WHERE name = ?1", params![name], |r| r.get(0)).optional()?;
            Ok(v.and_then(|v| v.parse().ok()))
        };
        let first = get("coverage_first")?.map_or(first, |f| f.min(first));
        let last = get("coverage_last")?.map_or(last, |l| l.max(last));
        let mut st = self
            .tx
            .prepare_cached("INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")?;
        st.execute(params!["coverage_first", first.to_string()])?;
        st.execute(params!["coverage_last", last.to_string()])?;
        Ok((first, last))
    }

    /// Records files as processed, `(path, size, mtime)` each (in the same transaction as their
    /// observations).
    pub fn mark_files<'p>(&self, files: impl IntoIterator<Item = (&'p str, u64, i64)>, now: i64) -> anyhow::Result<()> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO files (path, size, mtime, processed_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, processed_at = excluded.processed_at",
        )?;
        for (path, size, mtime) in files {
            st.execute(params![path, size as i64, mtime, now])?;
        }
        Ok(())
    }

    /// Adds an alert to the outbox; false when an alert with this id was already raised.
    pub fn insert_alert(
        &self,
        id: &str,
        detector: &str,
        principal: Option<&str>,
        event_time: Option<i64>,
        body: &str,
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO alerts (alert_id, detector, principal, event_time, raised_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (alert_id) DO NOTHING",
        )?;
        Ok(st.execute(params![id, detector, principal, event_time, now, body])? == 1)
    }

    /// How many distinct actions `scope` had done (succeeded or failed) before `before`, in event
    /// time: the baseline an alert stands against, whichever batch its events were read in.
    pub fn behaviours(&self, scope: &str, before: i64) -> anyhow::Result<i64> {
        let mut st = self.tx.prepare_cached(
            "SELECT COUNT(*) FROM baseline WHERE key_kind = 'principal_action' AND scope = ?1
               AND (first_success < ?2 OR first_failure < ?2)",
        )?;
        Ok(st.query_row(params![scope, before], |r| r.get(0))?)
    }

    /// Accounts holding a role named `name`, and how many of those (other than `account`) have a
    /// role of that name that did `action` successfully.
    pub fn role_peers(&self, name: &str, account: Option<&str>, action: &str) -> anyhow::Result<(i64, i64)> {
        let acct = account.unwrap_or("");
        let mut st = self.tx.prepare_cached(
            "SELECT COUNT(DISTINCT account) FROM scopes WHERE scope_kind = 'principal' AND principal_type = 'Role' AND name = ?1 AND account <> ?2",
        )?;
        let peers: i64 = st.query_row(params![name, acct], |r| r.get(0))?;
        let mut st = self.tx.prepare_cached(
            "SELECT COUNT(DISTINCT s.account) FROM baseline b JOIN scopes s ON s.scope_kind = 'principal' AND s.scope = b.scope
             WHERE b.key_kind = 'principal_action' AND b.item = ?1 AND b.successes > 0
               AND s.principal_type = 'Role' AND s.name = ?2 AND s.account <> ?3",
        )?;
        let doing: i64 = st.query_row(params![action, name, acct], |r| r.get(0))?;
        Ok((peers, doing))
    }

    /// Merges an exported line into the store (earliest first, latest last, larger count), so
    /// importing the same export twice changes nothing.
    pub fn import(&self, line: &ExportLine) -> anyhow::Result<()> {
        match line {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scope: &str, first: i64, last: i64) -> BaselineRow {
        BaselineRow {
            key_kind: "principal_action".into(),
            scope: scope.into(),
            item: "s3:GetObject".into(),
            account: Some("111".into()),
            success: Tally { first: Some(first), last: Some(last), count: 2 },
            failure: Tally::default(),
        }
    }

    #[test]
    fn schema_reopens_and_rows_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/state.sqlite");
        {
            let mut s = Store::open(&path).unwrap();
            let tx = s.transaction().unwrap();
            tx.put_baseline(&row("arn:a", 10, 20)).unwrap();
            tx.mark_files([("f.json", 5, 7)], 0).unwrap();
            assert_eq!(tx.extend_coverage(10, 20).unwrap(), (10, 20));
            assert_eq!(tx.extend_coverage(5, 15).unwrap(), (5, 20));
            tx.commit().unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.baseline_rows(&ForgetFilter::default()).unwrap(), vec![row("arn:a", 10, 20)]);
        assert!(s.file_done("f.json", 5, 7).unwrap());
        assert!(!s.file_done("f.json", 6, 7).unwrap());
        assert_eq!(s.coverage().unwrap(), Some((5, 20)));
    }

    #[test]
    fn rollback_leaves_nothing() {
        let mut s = Store::open_in_memory().unwrap();
        {
            let tx = s.transaction().unwrap();
            tx.put_baseline(&row("arn:a", 1, 2)).unwrap();
            tx.mark_files([("f", 1, 1)], 0).unwrap();
        }
        assert!(s.baseline_rows(&ForgetFilter::default()).unwrap().is_empty());
        assert!(!s.file_done("f", 1, 1).unwrap());
    }

    #[test]
    fn import_is_idempotent_and_forget_filters() {
        let mut s = Store::open_in_memory().unwrap();
        let tx = s.transaction().unwrap();
        for _ in 0..2 {
            tx.import(&ExportLine::Baseline(row("arn:a", 10, 20))).unwrap();
        }
        tx.import(&ExportLine::Baseline(row("arn:b", 30, 40))).unwrap();
        assert!(tx.insert_alert("x", "first_seen", None, Some(1), "{}", 0).unwrap());
        assert!(!tx.insert_alert("x", "first_seen", None, Some(1), "{}", 0).unwrap());
        tx.commit().unwrap();
        assert_eq!(s.baseline_rows(&ForgetFilter::default()).unwrap()[0].success.count, 2);
        assert!(s.forget(&ForgetFilter::default()).is_err());
        let removed = s.forget(&ForgetFilter { last_seen_before: Some(25), ..Default::default() }).unwrap();
        assert_eq!(removed, 1);
        let left = s.baseline_rows(&ForgetFilter::default()).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].scope, "arn:b");
        assert_eq!(s.undelivered_alerts().unwrap().len(), 1);
        s.mark_delivered(&["x".into()]).unwrap();
        assert!(s.undelivered_alerts().unwrap().is_empty());
    }
}
