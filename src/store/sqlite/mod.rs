//! The embedded default store: SQLite, one file, WAL (readers go on while a scan writes), a
//! versioned portable schema (`schema.rs`).

mod metrics;
pub(crate) mod schema;
mod statistics;

use super::metrics::{AlarmStateRow, PendingPoint, PointKey, Stat};
use super::{BaselineRow, ForgetFilter, ScopeRow, Store, StoreTx, Tally};
use anyhow::{Context, bail};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::BTreeMap;
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

/// An open SQLite store.
pub(crate) struct SqliteStore {
    conn: Connection,
    path: Option<PathBuf>,
}

/// How long a writer waits for another process's batch to commit before it gives up. Generous:
/// waiting costs only time, and giving up costs the run (a batch of 10,000 files can take tens
/// of seconds to apply).
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` for writing, migrating its schema forward.
    /// An existing store is checked first, through a read-only connection: a corrupt one is
    /// refused before anything could write to it.
    pub(crate) fn open(path: &Path) -> anyhow::Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating state directory {}", dir.display()))?;
        }
        if let Some(size) = std::fs::metadata(path).ok().map(|m| m.len()).filter(|n| *n > 0) {
            let reader = open_read_only(path).map_err(|e| explain(e.into(), path))?;
            if let Some(fault) = check(&reader, size).map_err(|e| explain(e, path))? {
                return Err(anyhow::anyhow!(corrupt(path, &fault)));
            }
        }
        let conn = Connection::open(path).map_err(|e| explain(e.into(), path))?;
        let mut store = SqliteStore { conn, path: Some(path.to_path_buf()) };
        store.init().map_err(|e| explain(e, path))?;
        Ok(store)
    }

    /// Opens the store at `path` for reading only: nothing is written, not even the schema
    /// version, so a reader never waits for nor disturbs a scan, and a read-only file or
    /// directory can still be inspected. A store that does not exist yet, or has no tables,
    /// reads as empty (and is not created). A corrupt store is read as far as it can be, with a
    /// warning: reading is how what is left gets saved.
    pub(crate) fn open_for_reading(path: &Path) -> anyhow::Result<SqliteStore> {
        let empty =
            || -> anyhow::Result<SqliteStore> { Ok(SqliteStore { path: Some(path.to_path_buf()), ..SqliteStore::open_in_memory()? }) };
        let Some(size) = std::fs::metadata(path).ok().map(|m| m.len()).filter(|n| *n > 0) else {
            return empty();
        };
        let conn = open_read_only(path).map_err(|e| explain(e.into(), path))?;
        if let Some(fault) = check(&conn, size).map_err(|e| explain(e, path))? {
            eprintln!("trailhound: warning: {}; reading what is still readable", corrupt(path, &fault));
        }
        match schema_version(&conn).map_err(|e| explain(e, path))? {
            0 => empty(),
            // Every reading command reads tables that V1 already had.
            v if v <= schema::VERSION => Ok(SqliteStore { conn, path: Some(path.to_path_buf()) }),
            v => bail!(
                "state store {}: schema version {v} is not one this trailhound knows (it writes {}): use a newer trailhound",
                path.display(),
                schema::VERSION
            ),
        }
    }

    /// A throw-away store in memory.
    pub(crate) fn open_in_memory() -> anyhow::Result<SqliteStore> {
        let mut store = SqliteStore { conn: Connection::open_in_memory()?, path: None };
        store.init()?;
        Ok(store)
    }

    fn init(&mut self) -> anyhow::Result<()> {
        // WAL lets `baseline show` read while a scan writes; NORMAL is durable at each commit in WAL.
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        // The busy handler is consulted only when a transaction begins as a write: a deferred
        // one that turns into a write fails with `database is locked` at once. So every
        // transaction of a writer begins IMMEDIATE, and a second scan waits for the first.
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        self.conn.set_transaction_behavior(TransactionBehavior::Immediate);
        // A batch's alarm stage alone cycles through more than rusqlite's default 16 statements,
        // and an evicted statement is compiled again on its next use.
        self.conn.set_prepared_statement_cache_capacity(64);
        // SQLite (built with STAT4) otherwise compiles a statement again whenever a bound value
        // in a range (`minute >= ?`) changes, as the alarm stage's queries do at every call: a
        // fixed plan per statement is what these indexed lookups want anyway.
        self.conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        // A store at this build's version is not written to on open (two scans starting
        // together would otherwise queue for the lock just to rewrite the same value).
        if schema_version(&self.conn)? == schema::VERSION {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        // Read again under the write lock: another process may have migrated it meanwhile.
        let version = schema_version(&tx)?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);")?;
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

    /// Adds the store's path (and what a full disk, corruption or a lock mean) to an error.
    fn named<T>(&self, r: anyhow::Result<T>) -> anyhow::Result<T> {
        match &self.path {
            Some(p) => r.map_err(|e| explain(e, p)),
            None => r,
        }
    }
}

/// The store's schema version: 0 for a store without tables. One newer than this build knows is
/// an error.
fn schema_version(conn: &Connection) -> anyhow::Result<i64> {
    let has_meta: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')", [], |r| r.get(0))?;
    if !has_meta {
        return Ok(0);
    }
    let version = conn
        .query_row("SELECT value FROM meta WHERE name = 'schema_version'", [], |r| r.get::<_, String>(0))
        .optional()?
        .map(|v| v.parse().unwrap_or(-1))
        .unwrap_or(0);
    if !(0..=schema::VERSION).contains(&version) {
        bail!("schema version {version} is not one this trailhound knows (it writes {}): use a newer trailhound", schema::VERSION);
    }
    Ok(version)
}

/// Opens `path` without the right to write. Where SQLite cannot make the WAL's shared-memory
/// file beside it (a read-only directory), it is opened as immutable: nothing can be writing to
/// it there anyway.
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let probe = |c: Connection| c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(())).map(|()| c);
    let plain = Connection::open_with_flags(path, flags).and_then(probe);
    match plain {
        Err(e) if matches!(e.sqlite_error_code(), Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)) => {
            let mut uri = String::from("file:");
            for ch in path.to_string_lossy().chars() {
                match ch {
                    '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", ch as u32)),
                    c => uri.push(c),
                }
            }
            uri.push_str("?immutable=1");
            Connection::open_with_flags(uri, flags).and_then(probe).map_err(|_| e)
        }
        r => r,
    }
    .inspect(|c| {
        // Best effort: a busy reader waits for a checkpoint rather than failing.
        let _ = c.busy_timeout(BUSY_TIMEOUT);
    })
}

/// Stores up to this size get SQLite's whole check on open: it reads the whole file once,
/// about 0.3 s here (1.3 s for a 985 MB store with a warm cache, 10 ms for 4 MB).
const FULL_CHECK_BYTES: u64 = 256 << 20;

/// SQLite's own check of the store (`quick_check`: every page and record, without the index
/// cross-checks of `integrity_check`), the first fault found when there is one. A store bigger
/// than [`FULL_CHECK_BYTES`] has only its schema and `meta` checked, so that opening stays cheap;
/// corruption elsewhere in it is still found when a batch touches it, and refused then.
fn check(conn: &Connection, size: u64) -> anyhow::Result<Option<String>> {
    let sql = if size <= FULL_CHECK_BYTES { "PRAGMA quick_check(1)" } else { "PRAGMA quick_check('meta')" };
    let first: String = conn.query_row(sql, [], |r| r.get(0))?;
    Ok((first != "ok").then(|| first.split_whitespace().collect::<Vec<_>>().join(" ")))
}

/// What a corrupt store is and what to do about it.
fn corrupt(path: &Path, fault: &str) -> String {
    let p = path.display();
    format!(
        "state store {p} is corrupt ({fault}); nothing was written to it. Restore it from a backup, or move it aside to start \
         afresh (`trailhound baseline export --state {p}` may save what is still readable)"
    )
}

/// Names the store in an error, and says what a full disk, corruption, a read-only store or a
/// lock held too long mean for the run.
pub(crate) fn explain(e: anyhow::Error, path: &Path) -> anyhow::Error {
    let p = path.display();
    // Already explained further down (a commit inside a batch, say): once is enough.
    if format!("{e:#}").contains(&p.to_string()) {
        return e;
    }
    let code = e.chain().find_map(|c| c.downcast_ref::<rusqlite::Error>()).and_then(|e| e.sqlite_error_code());
    let what = match code {
        Some(ErrorCode::DiskFull) => {
            format!("the disk holding state store {p} is full: what this step wrote was rolled back; free space and run again to finish")
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => corrupt(path, "SQLite reports it malformed"),
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen) => format!(
            "state store {p} cannot be opened or written (a read-only file or directory, or no permission?): `baseline show` and \
             `baseline export` can still read it"
        ),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            format!("state store {p} stayed locked by another process for {} s: is another trailhound stuck?", BUSY_TIMEOUT.as_secs())
        }
        _ => format!("state store {p}"),
    };
    e.context(what)
}

/// A value of the `meta` table (a transaction reads through it too: it derefs to the connection).
fn meta_value(conn: &Connection, name: &str) -> anyhow::Result<Option<String>> {
    Ok(conn.prepare_cached("SELECT value FROM meta WHERE name = ?1")?.query_row(params![name], |r| r.get(0)).optional()?)
}

/// A `meta` value that holds a number; one that does not parse reads as absent.
fn meta_number(conn: &Connection, name: &str) -> anyhow::Result<Option<i64>> {
    Ok(meta_value(conn, name)?.and_then(|v| v.parse().ok()))
}

fn put_meta(conn: &Connection, name: &str, value: &str) -> anyhow::Result<()> {
    conn.prepare_cached("INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")?
        .execute(params![name, value])?;
    Ok(())
}

impl Store for SqliteStore {
    fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn explain(&self, e: anyhow::Error) -> anyhow::Error {
        match &self.path {
            Some(p) => explain(e, p),
            None => e,
        }
    }

    /// Starts the transaction every write goes through, as a write (IMMEDIATE): it waits for
    /// another writer's commit instead of failing, and what it reads stays true until it commits.
    fn transaction(&mut self) -> anyhow::Result<Box<dyn StoreTx + '_>> {
        let tx = self.conn.transaction().map_err(anyhow::Error::from);
        let tx = match &self.path {
            Some(p) => tx.map_err(|e| explain(e, p))?,
            None => tx?,
        };
        Ok(Box::new(SqliteTx { tx, path: self.path.as_deref(), learning: false }))
    }

    /// For each `(path, size, mtime)`, whether it was processed; one read transaction for all.
    fn files_done(&mut self, files: &[(&str, u64, i64)]) -> anyhow::Result<Vec<bool>> {
        let r = (|| {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let out = files_done(&tx, files)?;
            tx.commit()?;
            Ok(out)
        })();
        self.named(r)
    }

    /// Earliest and latest event time the store has learned from.
    fn trap_members(&self, limit: usize) -> anyhow::Result<Vec<(String, String)>> {
        self.named((|| {
            let mut st = self.conn.prepare("SELECT trap_id, member FROM trap_members ORDER BY first_seen DESC LIMIT ?1")?;
            let rows = st.query_map(params![limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })())
    }

    fn coverage(&self) -> anyhow::Result<Option<(i64, i64)>> {
        self.named((|| Ok(meta_number(&self.conn, "coverage_first")?.zip(meta_number(&self.conn, "coverage_last")?)))())
    }

    fn meta(&self, name: &str) -> anyhow::Result<Option<String>> {
        self.named(meta_value(&self.conn, name))
    }

    fn set_meta(&mut self, name: &str, value: &str) -> anyhow::Result<()> {
        self.named(put_meta(&self.conn, name, value))
    }

    /// Alerts raised but not yet delivered, oldest first: `(alert_id, JSON body)`.
    fn undelivered_alerts(&self) -> anyhow::Result<Vec<(String, String)>> {
        self.named((|| {
            let mut st = self.conn.prepare("SELECT alert_id, body FROM alerts WHERE delivered = 0 ORDER BY event_time, alert_id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })())
    }

    fn mark_delivered(&mut self, ids: &[String], queue_for: &[&str], now: i64) -> anyhow::Result<()> {
        let r = (|| {
            let tx = self.conn.transaction()?;
            {
                let mut st = tx.prepare_cached("UPDATE alerts SET delivered = 1 WHERE alert_id = ?1")?;
                let mut queue = tx.prepare_cached(
                    "INSERT INTO deliveries (alert_id, sink, queued_at) VALUES (?1, ?2, ?3) ON CONFLICT (alert_id, sink) DO NOTHING",
                )?;
                for id in ids {
                    st.execute(params![id])?;
                    for sink in queue_for {
                        queue.execute(params![id, sink, now])?;
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })();
        self.named(r)
    }

    fn pending_for(&self, sink: &str) -> anyhow::Result<Vec<(String, String)>> {
        self.named((|| {
            let mut st = self.conn.prepare_cached(
                "SELECT a.alert_id, a.body FROM deliveries d JOIN alerts a ON a.alert_id = d.alert_id
                 WHERE d.sink = ?1 AND d.delivered_at IS NULL ORDER BY a.event_time, a.alert_id",
            )?;
            let rows = st.query_map(params![sink], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })())
    }

    fn mark_confirmed(&mut self, sink: &str, ids: &[String], now: i64) -> anyhow::Result<()> {
        let r = (|| {
            let tx = self.conn.transaction()?;
            {
                let mut st = tx.prepare_cached("UPDATE deliveries SET delivered_at = ?3 WHERE alert_id = ?1 AND sink = ?2")?;
                for id in ids {
                    st.execute(params![id, sink, now])?;
                }
            }
            tx.commit()?;
            Ok(())
        })();
        self.named(r)
    }

    /// Baseline rows matching the filter (all when empty), ordered by key.
    fn baseline_rows(&self, f: &ForgetFilter) -> anyhow::Result<Vec<BaselineRow>> {
        self.named((|| {
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
        })())
    }

    /// Every scope row, ordered by key.
    fn scope_rows(&self) -> anyhow::Result<Vec<ScopeRow>> {
        self.named((|| {
            let mut st = self.conn.prepare(concat!("SELECT ", scope_cols!(), " FROM scopes ORDER BY scope_kind, scope"))?;
            let rows = st.query_map([], row_to_scope)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })())
    }

    /// Removes baseline rows matching `f` (and, when forgetting a scope or account, its scope
    /// rows, so its burn-in starts again). Returns the number of baseline rows removed.
    fn forget(&mut self, f: &ForgetFilter) -> anyhow::Result<usize> {
        if f.scope.is_none() && f.account.is_none() && f.item.is_none() && f.last_seen_before.is_none() {
            bail!("refusing to forget everything: give --principal, --account, --item or --before (or delete the state file)");
        }
        let doomed = self.baseline_rows(f)?;
        let r = (|| {
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
        })();
        self.named(r)
    }
}

/// For each `(path, size, mtime)`, whether the ledger holds it with this size and mtime.
fn files_done(conn: &Connection, files: &[(&str, u64, i64)]) -> anyhow::Result<Vec<bool>> {
    let mut st = conn.prepare_cached("SELECT size, mtime FROM files WHERE path = ?1")?;
    let mut out = Vec::with_capacity(files.len());
    for (path, size, mtime) in files {
        let row: Option<(i64, i64)> = st.query_row(params![path], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        out.push(row == Some((*size as i64, *mtime)));
    }
    Ok(out)
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

/// One SQLite write transaction.
pub(crate) struct SqliteTx<'c> {
    tx: Transaction<'c>,
    path: Option<&'c Path>,
    /// Alerts are recorded as learned (see [`StoreTx::learning`]).
    learning: bool,
}

/// `alerts.delivered` of an alert raised while learning: its id is taken, so it is never raised
/// again, and it is never delivered (delivery reads `delivered = 0`, in releases before this
/// value too, so an older binary on the same store sends none either).
const LEARNED: i64 = 2;

impl StoreTx for SqliteTx<'_> {
    fn commit(self: Box<Self>) -> anyhow::Result<()> {
        let path = self.path;
        let r = self.tx.commit().context("committing to the state store");
        match path {
            Some(p) => r.map_err(|e| explain(e, p)),
            None => r,
        }
    }

    fn files_done(&self, files: &[(&str, u64, i64)]) -> anyhow::Result<Vec<bool>> {
        files_done(&self.tx, files)
    }

    fn baseline(&self, key_kind: &str, scope: &str, item: &str) -> anyhow::Result<Option<BaselineRow>> {
        let mut st = self.tx.prepare_cached(concat!(
            "SELECT ",
            baseline_cols!(),
            " FROM baseline WHERE key_kind = ?1 AND scope = ?2 AND item = ?3"
        ))?;
        Ok(st.query_row(params![key_kind, scope, item], row_to_baseline).optional()?)
    }

    /// Writes `row` as it is (the caller merged it with what was stored).
    fn put_baseline(&self, row: &BaselineRow) -> anyhow::Result<()> {
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

    fn scope(&self, scope_kind: &str, scope: &str) -> anyhow::Result<Option<ScopeRow>> {
        let mut st = self.tx.prepare_cached(concat!("SELECT ", scope_cols!(), " FROM scopes WHERE scope_kind = ?1 AND scope = ?2"))?;
        Ok(st.query_row(params![scope_kind, scope], row_to_scope).optional()?)
    }

    fn put_scope(&self, row: &ScopeRow) -> anyhow::Result<()> {
        let mut st = self.tx.prepare_cached(concat!(
            "INSERT INTO scopes (",
            scope_cols!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (scope_kind, scope) DO UPDATE SET principal_type = excluded.principal_type, account = excluded.account,
               name = excluded.name, first_seen = excluded.first_seen, last_seen = excluded.last_seen"
        ))?;
        st.execute(params![row.scope_kind, row.scope, row.principal_type, row.account, row.name, row.first_seen, row.last_seen])?;
        Ok(())
    }

    /// Widens the store's coverage to include `[first, last]` and returns the new coverage.
    fn put_trap_member(&self, trap: &str, member: &str, first_seen: i64) -> anyhow::Result<()> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO trap_members (trap_id, member, first_seen) VALUES (?1, ?2, ?3)
             ON CONFLICT (trap_id, member) DO UPDATE SET first_seen = MIN(first_seen, excluded.first_seen)",
        )?;
        st.execute(params![trap, member, first_seen])?;
        Ok(())
    }

    fn extend_coverage(&self, first: i64, last: i64) -> anyhow::Result<(i64, i64)> {
        let first = meta_number(&self.tx, "coverage_first")?.map_or(first, |f| f.min(first));
        let last = meta_number(&self.tx, "coverage_last")?.map_or(last, |l| l.max(last));
        put_meta(&self.tx, "coverage_first", &first.to_string())?;
        put_meta(&self.tx, "coverage_last", &last.to_string())?;
        Ok((first, last))
    }

    /// Records files as processed, `(path, size, mtime)` each (in the same transaction as their
    /// observations).
    fn mark_files(&self, files: &[(&str, u64, i64)], now: i64) -> anyhow::Result<()> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO files (path, size, mtime, processed_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, processed_at = excluded.processed_at",
        )?;
        for (path, size, mtime) in files {
            st.execute(params![path, *size as i64, mtime, now])?;
        }
        Ok(())
    }

    /// Adds an alert to the outbox; false when an alert with this id was already raised.
    fn insert_alert(
        &self,
        id: &str,
        detector: &str,
        principal: Option<&str>,
        event_time: Option<i64>,
        body: &str,
        now: i64,
    ) -> anyhow::Result<bool> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO alerts (alert_id, detector, principal, event_time, raised_at, body, delivered) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (alert_id) DO NOTHING",
        )?;
        // A learned alert is history: only its id, detector, principal and time are kept (learning
        // a year of logs would otherwise store every body it never sends).
        let (body, delivered) = if self.learning { ("", LEARNED) } else { (body, 0) };
        Ok(st.execute(params![id, detector, principal, event_time, now, body, delivered])? == 1)
    }

    fn learning(&mut self) {
        self.learning = true;
    }

    /// How many distinct actions `scope` had done (succeeded or failed) before `before`, in event
    /// time: the baseline an alert stands against, whichever batch its events were read in.
    fn behaviours(&self, scope: &str, before: i64) -> anyhow::Result<i64> {
        let mut st = self.tx.prepare_cached(
            "SELECT COUNT(*) FROM baseline WHERE key_kind = 'principal_action' AND scope = ?1
               AND (first_success < ?2 OR first_failure < ?2)",
        )?;
        Ok(st.query_row(params![scope, before], |r| r.get(0))?)
    }

    /// As they stood at `at` (event time): other accounts holding a role named `name`, and how
    /// many of those roles had succeeded at `action` before `at`.
    fn role_peers(&self, name: &str, account: Option<&str>, action: &str, at: i64) -> anyhow::Result<(i64, i64)> {
        let acct = account.unwrap_or("");
        let mut st = self.tx.prepare_cached(
            "SELECT COUNT(DISTINCT account) FROM scopes
              WHERE scope_kind = 'principal' AND principal_type = 'Role' AND name = ?1 AND account <> ?2 AND first_seen < ?3",
        )?;
        let peers: i64 = st.query_row(params![name, acct, at], |r| r.get(0))?;
        let mut st = self.tx.prepare_cached(
            "SELECT COUNT(DISTINCT s.account) FROM baseline b JOIN scopes s ON s.scope_kind = 'principal' AND s.scope = b.scope
             WHERE b.key_kind = 'principal_action' AND b.item = ?1 AND b.first_success < ?4
               AND s.principal_type = 'Role' AND s.name = ?2 AND s.account <> ?3",
        )?;
        let doing: i64 = st.query_row(params![action, name, acct, at], |r| r.get(0))?;
        Ok((peers, doing))
    }

    fn baseline_earliest(&self, key_kind: &str, scope: &str, before: i64, limit: usize) -> anyhow::Result<Vec<(String, i64)>> {
        let mut st = self.tx.prepare_cached(
            "SELECT item, first_success FROM baseline WHERE key_kind = ?1 AND scope = ?2 AND first_success < ?3
              ORDER BY first_success, item LIMIT ?4",
        )?;
        let rows = st.query_map(params![key_kind, scope, before, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn role_peers_starting(&self, name: &str, account: Option<&str>, action: &str, from: i64, to: i64) -> anyhow::Result<Vec<String>> {
        let mut st = self.tx.prepare_cached(
            "SELECT DISTINCT s.account FROM baseline b JOIN scopes s ON s.scope_kind = 'principal' AND s.scope = b.scope
             WHERE b.key_kind = 'principal_action' AND b.item = ?1 AND b.first_success >= ?4 AND b.first_success <= ?5
               AND s.principal_type = 'Role' AND s.name = ?2 AND s.account <> ?3 AND s.account IS NOT NULL
             ORDER BY s.account",
        )?;
        let rows = st.query_map(params![action, name, account.unwrap_or(""), from, to], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn merge_metric_points(&self, points: &[(PointKey, PendingPoint)]) -> anyhow::Result<(u64, u64)> {
        metrics::merge_metric_points(&self.tx, points)
    }
    fn add_metric_minutes(&self, minutes: &[i64]) -> anyhow::Result<()> {
        metrics::add_metric_minutes(&self.tx, minutes)
    }
    fn metric_minute_range(&self) -> anyhow::Result<Option<(i64, i64)>> {
        metrics::metric_minute_range(&self.tx)
    }
    fn metric_minutes(&self, from: i64, to: i64) -> anyhow::Result<Vec<i64>> {
        metrics::metric_minutes(&self.tx, from, to)
    }
    fn metric_points(&self, metric: &str, dimensions: &str, from: i64, to: i64) -> anyhow::Result<BTreeMap<i64, Stat>> {
        metrics::metric_points(&self.tx, metric, dimensions, (from, to), true)
    }
    fn metric_point_values(&self, metric: &str, dimensions: &str, from: i64, to: i64) -> anyhow::Result<BTreeMap<i64, Stat>> {
        metrics::metric_points(&self.tx, metric, dimensions, (from, to), false)
    }
    fn metric_series(&self, metric: &str) -> anyhow::Result<Vec<(String, i64)>> {
        metrics::metric_series(&self.tx, metric)
    }
    fn alarm_states(&self, alarm: &str) -> anyhow::Result<Vec<AlarmStateRow>> {
        metrics::alarm_states(&self.tx, alarm)
    }
    fn put_alarm_state(&self, row: &AlarmStateRow) -> anyhow::Result<()> {
        metrics::put_alarm_state(&self.tx, row)
    }
    fn clear_alarm(&self, alarm: &str) -> anyhow::Result<()> {
        metrics::clear_alarm(&self.tx, alarm)
    }
    fn alarm_state_before(&self, alarm: &str, dimensions: &str, t: i64) -> anyhow::Result<Option<String>> {
        metrics::alarm_state_before(&self.tx, alarm, dimensions, t)
    }
    fn replace_alarm_transitions(&self, alarm: &str, dimensions: &str, from: i64, transitions: &[(i64, &str)]) -> anyhow::Result<()> {
        metrics::replace_alarm_transitions(&self.tx, alarm, dimensions, from, transitions)
    }
    fn mark_alarm_alert(&self, alarm: &str, dimensions: &str, at: i64, state: &str) -> anyhow::Result<()> {
        metrics::mark_alarm_alert(&self.tx, alarm, dimensions, at, state)
    }
    fn alarm_alerted_between(&self, alarm: &str, dimensions: &str, state: &str, from: i64, to: i64) -> anyhow::Result<bool> {
        metrics::alarm_alerted_between(&self.tx, alarm, dimensions, state, from, to)
    }
    fn alarm_alerts(&self, alarm: &str, dimensions: &str) -> anyhow::Result<Vec<(i64, String)>> {
        metrics::alarm_alerts(&self.tx, alarm, dimensions)
    }
    fn alarm_transitions(&self, alarm: &str, dimensions: &str) -> anyhow::Result<Vec<(i64, String)>> {
        metrics::alarm_transitions(&self.tx, alarm, dimensions)
    }
    fn alarm_alert_at(&self, alarm: &str, dimensions: &str, state: &str, from: i64, to: i64) -> anyhow::Result<Option<i64>> {
        metrics::alarm_alert_at(&self.tx, alarm, dimensions, state, from, to)
    }
    fn alarm_episode(&self, alarm: &str, dimensions: &str, opened_at: i64) -> anyhow::Result<Option<(i64, Vec<String>)>> {
        metrics::alarm_episode(&self.tx, alarm, dimensions, opened_at)
    }
    fn alarm_named_before(&self, alarm: &str, dimensions: &str, t: i64) -> anyhow::Result<Vec<String>> {
        metrics::alarm_named_before(&self.tx, alarm, dimensions, t)
    }
    fn put_alarm_episode(&self, alarm: &str, dimensions: &str, opened_at: i64, checked_until: i64, named: &[String]) -> anyhow::Result<()> {
        metrics::put_alarm_episode(&self.tx, alarm, dimensions, opened_at, checked_until, named)
    }

    fn stat_minutes(&self, series: &str, from: i64, to: i64) -> anyhow::Result<Vec<(i64, String)>> {
        statistics::stat_minutes(&self.tx, series, from, to)
    }
    fn put_stat_minute(&self, series: &str, minute: i64, count: u64, cell: &str) -> anyhow::Result<()> {
        statistics::put_stat_minute(&self.tx, series, minute, count, cell)
    }
    fn add_stat_hour(&self, series: &str, hour: i64, count: u64, peak: u64) -> anyhow::Result<()> {
        statistics::add_stat_hour(&self.tx, series, hour, count, peak)
    }
    fn stat_hours(&self, series: &str, from: i64, to: i64) -> anyhow::Result<Vec<(i64, u64, u64)>> {
        statistics::stat_hours(&self.tx, series, from, to)
    }
    fn stat_series(&self, series: &str) -> anyhow::Result<Option<i64>> {
        statistics::stat_series(&self.tx, series)
    }
    fn put_stat_series(&self, series: &str, last_unusual: i64) -> anyhow::Result<()> {
        statistics::put_stat_series(&self.tx, series, last_unusual)
    }
    fn stat_scope(&self, scope: &str) -> anyhow::Result<Option<i64>> {
        statistics::stat_scope(&self.tx, scope)
    }
    fn put_stat_scope(&self, scope: &str, first_minute: i64) -> anyhow::Result<()> {
        statistics::put_stat_scope(&self.tx, scope, first_minute)
    }
    fn stat_clock(&self) -> anyhow::Result<Option<i64>> {
        statistics::stat_clock(&self.tx)
    }
    fn put_stat_clock(&self, minute: i64) -> anyhow::Result<()> {
        statistics::put_stat_clock(&self.tx, minute)
    }
    fn prune_stats(&self, minutes_before: i64, hours_before: i64) -> anyhow::Result<()> {
        statistics::prune_stats(&self.tx, minutes_before, hours_before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ExportLine;

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
            let mut s = SqliteStore::open(&path).unwrap();
            let tx = s.transaction().unwrap();
            tx.put_baseline(&row("arn:a", 10, 20)).unwrap();
            tx.mark_files(&[("f.json", 5, 7)], 0).unwrap();
            assert_eq!(tx.extend_coverage(10, 20).unwrap(), (10, 20));
            assert_eq!(tx.extend_coverage(5, 15).unwrap(), (5, 20));
            tx.commit().unwrap();
        }
        let mut s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.baseline_rows(&ForgetFilter::default()).unwrap(), vec![row("arn:a", 10, 20)]);
        assert!(s.files_done(&[("f.json", 5, 7)]).unwrap()[0]);
        assert!(!s.files_done(&[("f.json", 6, 7)]).unwrap()[0]);
        assert_eq!(s.coverage().unwrap(), Some((5, 20)));
    }

    #[test]
    fn rollback_leaves_nothing() {
        let mut s = SqliteStore::open_in_memory().unwrap();
        {
            let tx = s.transaction().unwrap();
            tx.put_baseline(&row("arn:a", 1, 2)).unwrap();
            tx.mark_files(&[("f", 1, 1)], 0).unwrap();
        }
        assert!(s.baseline_rows(&ForgetFilter::default()).unwrap().is_empty());
        assert!(!s.files_done(&[("f", 1, 1)]).unwrap()[0]);
    }

    #[test]
    fn import_is_idempotent_and_forget_filters() {
        let mut s = SqliteStore::open_in_memory().unwrap();
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
        s.mark_delivered(&["x".into()], &["webhook"], 5).unwrap();
        assert!(s.undelivered_alerts().unwrap().is_empty());
        assert_eq!(s.pending_for("webhook").unwrap(), vec![("x".to_string(), "{}".to_string())]);
        assert!(s.pending_for("other").unwrap().is_empty());
        s.mark_confirmed("webhook", &["x".into()], 6).unwrap();
        assert!(s.pending_for("webhook").unwrap().is_empty());
    }
}
