//! The statistics detector's rows in SQLite (schema V7); the `StoreTx` impl calls these.

use rusqlite::{OptionalExtension, Transaction, params};

pub(super) fn stat_minutes(tx: &Transaction<'_>, series: &str, from: i64, to: i64) -> anyhow::Result<Vec<(i64, String)>> {
    let mut st =
        tx.prepare_cached("SELECT minute, cell FROM stat_minutes WHERE series = ?1 AND minute >= ?2 AND minute < ?3 ORDER BY minute")?;
    let rows = st.query_map(params![series, from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn put_stat_minute(tx: &Transaction<'_>, series: &str, minute: i64, count: u64, cell: &str) -> anyhow::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO stat_minutes (series, minute, count, cell) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (series, minute) DO UPDATE SET count = excluded.count, cell = excluded.cell",
    )?;
    st.execute(params![series, minute, count as i64, cell])?;
    Ok(())
}

pub(super) fn add_stat_hour(tx: &Transaction<'_>, series: &str, hour: i64, count: u64, peak: u64) -> anyhow::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO stat_hours (series, hour, count, peak) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (series, hour) DO UPDATE SET count = stat_hours.count + excluded.count,
             peak = CASE WHEN excluded.peak > stat_hours.peak THEN excluded.peak ELSE stat_hours.peak END",
    )?;
    st.execute(params![series, hour, count as i64, peak as i64])?;
    Ok(())
}

pub(super) fn stat_hours(tx: &Transaction<'_>, series: &str, from: i64, to: i64) -> anyhow::Result<Vec<(i64, u64, u64)>> {
    let mut st =
        tx.prepare_cached("SELECT hour, count, peak FROM stat_hours WHERE series = ?1 AND hour >= ?2 AND hour < ?3 ORDER BY hour")?;
    let rows =
        st.query_map(params![series, from, to], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64, r.get::<_, i64>(2)?.max(0) as u64)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One number kept under one key (`sql_get` reads it, `sql_put` upserts it as `?1`, `?2`).
fn get_number(tx: &Transaction<'_>, sql_get: &str, key: &str) -> anyhow::Result<Option<i64>> {
    Ok(tx.prepare_cached(sql_get)?.query_row(params![key], |r| r.get(0)).optional()?)
}

fn put_number(tx: &Transaction<'_>, sql_put: &str, key: &str, value: i64) -> anyhow::Result<()> {
    tx.prepare_cached(sql_put)?.execute(params![key, value])?;
    Ok(())
}

pub(super) fn stat_series(tx: &Transaction<'_>, series: &str) -> anyhow::Result<Option<i64>> {
    get_number(tx, "SELECT last_unusual FROM stat_series WHERE series = ?1", series)
}

pub(super) fn put_stat_series(tx: &Transaction<'_>, series: &str, last_unusual: i64) -> anyhow::Result<()> {
    let sql = "INSERT INTO stat_series (series, last_unusual) VALUES (?1, ?2)
               ON CONFLICT (series) DO UPDATE SET last_unusual = excluded.last_unusual";
    put_number(tx, sql, series, last_unusual)
}

pub(super) fn stat_scope(tx: &Transaction<'_>, scope: &str) -> anyhow::Result<Option<i64>> {
    get_number(tx, "SELECT first_minute FROM stat_scopes WHERE scope = ?1", scope)
}

pub(super) fn put_stat_scope(tx: &Transaction<'_>, scope: &str, first_minute: i64) -> anyhow::Result<()> {
    let sql = "INSERT INTO stat_scopes (scope, first_minute) VALUES (?1, ?2)
               ON CONFLICT (scope) DO UPDATE SET first_minute = excluded.first_minute";
    put_number(tx, sql, scope, first_minute)
}

pub(super) fn stat_clock(tx: &Transaction<'_>) -> anyhow::Result<Option<i64>> {
    super::meta_number(tx, "stat_clock")
}

pub(super) fn put_stat_clock(tx: &Transaction<'_>, minute: i64) -> anyhow::Result<()> {
    super::put_meta(tx, "stat_clock", &minute.to_string())
}

pub(super) fn prune_stats(tx: &Transaction<'_>, minutes_before: i64, hours_before: i64) -> anyhow::Result<()> {
    tx.prepare_cached("DELETE FROM stat_minutes WHERE minute < ?1")?.execute(params![minutes_before])?;
    tx.prepare_cached("DELETE FROM stat_hours WHERE hour < ?1")?.execute(params![hours_before])?;
    Ok(())
}
