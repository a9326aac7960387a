//! Metric datapoints and alarm state in SQLite (schema V2, V3): datapoints are merged batch by
//! batch, so late events land in the minute they happened; alarm state keeps its transition
//! history so a late batch can re-evaluate from the past. The `StoreTx` impl calls these.

use crate::store::metrics::{AlarmStateRow, PendingPoint, PointKey, Published, Stat};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::BTreeMap;

fn row_to_stat(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Stat)> {
    let samples: String = r.get(5)?;
    let (minute, mut stat) = row_to_values(r)?;
    // Written by this module; an unreadable list only loses the samples, not the datapoint.
    stat.samples = serde_json::from_str(&samples).unwrap_or_default();
    Ok((minute, stat))
}

/// A datapoint's minute and values, its samples left unread.
fn row_to_values(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Stat)> {
    Ok((r.get(0)?, Stat { sum: r.get(1)?, count: r.get::<_, i64>(2)?.max(0) as u64, min: r.get(3)?, max: r.get(4)?, samples: Vec::new() }))
}

/// The values whose event key is not in `known` (sorted), each key once, and the new key list.
fn fresh_by_keys(mut known: Vec<i64>, values: &[Published], repeated: &mut u64) -> (Vec<f64>, Option<Vec<u8>>) {
    let mut batch: Vec<&Published> = values.iter().collect();
    batch.sort_by_key(|v| v.event_key);
    let mut fresh = Vec::new();
    let mut added = Vec::new();
    for (i, v) in batch.iter().enumerate() {
        if known.binary_search(&v.event_key).is_ok() || (i > 0 && batch[i - 1].event_key == v.event_key) {
            *repeated += 1;
        } else {
            fresh.push(v.value);
            added.push(v.event_key);
        }
    }
    known.extend(added);
    known.sort_unstable();
    (fresh, Some(encode_keys(&known)))
}

fn encode_keys(keys: &[i64]) -> Vec<u8> {
    keys.iter().flat_map(|k| k.to_le_bytes()).collect()
}

/// A stored key list; a trailing partial key (a damaged row) is ignored.
fn decode_keys(blob: &[u8]) -> Vec<i64> {
    blob.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()
}

/// Adds a batch's datapoints to what is stored (sums and counts add, min and max widen),
/// counting each event once however often it is read. Returns `(datapoints changed, values
/// already counted)`. `points` are sorted by key (as a batch of metric datapoints
/// gives them), so a series' points are adjacent: what is stored of a series is read in one
/// range query, where a query per datapoint cost a failed index lookup for each new minute,
/// the common case.
pub(super) fn merge_metric_points(tx: &Transaction<'_>, points: &[(PointKey, PendingPoint)]) -> anyhow::Result<(u64, u64)> {
    let mut get = tx.prepare_cached(
        "SELECT minute, sum, count, min, max, samples, event_keys FROM metric_points
         WHERE metric = ?1 AND dimensions = ?2 AND minute >= ?3 AND minute <= ?4",
    )?;
    let mut put = tx.prepare_cached(
        "INSERT INTO metric_points (metric, dimensions, minute, sum, count, min, max, samples, event_keys)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (metric, dimensions, minute) DO UPDATE SET sum = excluded.sum, count = excluded.count, min = excluded.min,
           max = excluded.max, samples = excluded.samples, event_keys = excluded.event_keys",
    )?;
    let (mut changed, mut repeated) = (0, 0);
    for series in points.chunk_by(|a, b| (&a.0.metric, &a.0.dimensions) == (&b.0.metric, &b.0.dimensions)) {
        let (first, last) = (&series[0].0, &series[series.len() - 1].0);
        let mut stored: BTreeMap<i64, (Stat, Option<Vec<u8>>)> = get
            .query_map(params![first.metric, first.dimensions, first.minute, last.minute], |r| {
                let (minute, stat) = row_to_stat(r)?;
                Ok((minute, (stat, r.get::<_, Option<Vec<u8>>>(6)?)))
            })?
            .collect::<Result<_, _>>()?;
        for point in series {
            let old = stored.remove(&point.0.minute);
            changed += u64::from(merge_point(tx, &mut put, point, old, &mut repeated)?);
        }
    }
    Ok((changed, repeated))
}

/// Merges one datapoint with its stored row (`old`: its values and event keys) and writes it,
/// unless every value in it was counted already; true when it wrote.
fn merge_point(
    tx: &Transaction<'_>,
    put: &mut rusqlite::CachedStatement<'_>,
    (k, p): &(PointKey, PendingPoint),
    old: Option<(Stat, Option<Vec<u8>>)>,
    repeated: &mut u64,
) -> anyhow::Result<bool> {
    let (fresh, keys): (Vec<f64>, Option<Vec<u8>>) = match &old {
        // Written before V3: its events are in metric_events.
        Some((_, None)) => (fresh_by_table(tx, &p.values, repeated)?, None),
        Some((_, Some(blob))) => fresh_by_keys(decode_keys(blob), &p.values, repeated),
        None => fresh_by_keys(Vec::new(), &p.values, repeated),
    };
    let Some(mut merged) = fresh.iter().map(|&v| Stat::of(v)).reduce(|mut a, b| {
        a.absorb(&b);
        a
    }) else {
        return Ok(false);
    };
    merged.add_samples(&p.samples);
    if let Some((old, _)) = old {
        merged.absorb(&old);
    }
    let samples = serde_json::to_string(&merged.samples)?;
    put.execute(params![k.metric, k.dimensions, k.minute, merged.sum, merged.count as i64, merged.min, merged.max, samples, keys])?;
    Ok(true)
}

/// The values of `values` whose event a pre-V3 datapoint has not counted, by the
/// metric_events table.
fn fresh_by_table(tx: &Transaction<'_>, values: &[Published], repeated: &mut u64) -> anyhow::Result<Vec<f64>> {
    let mut seen = tx.prepare_cached("INSERT INTO metric_events (event_key) VALUES (?1) ON CONFLICT (event_key) DO NOTHING")?;
    let mut fresh = Vec::new();
    for v in values {
        if seen.execute(params![v.event_key])? == 0 {
            *repeated += 1;
        } else {
            fresh.push(v.value);
        }
    }
    Ok(fresh)
}

/// Records minutes in which events were read.
pub(super) fn add_metric_minutes(tx: &Transaction<'_>, minutes: &[i64]) -> anyhow::Result<()> {
    let mut st = tx.prepare_cached("INSERT INTO metric_minutes (minute) VALUES (?1) ON CONFLICT (minute) DO NOTHING")?;
    for m in minutes {
        st.execute(params![m])?;
    }
    Ok(())
}

/// The first and last minute in which events were read.
pub(super) fn metric_minute_range(tx: &Transaction<'_>) -> anyhow::Result<Option<(i64, i64)>> {
    let r: (Option<i64>, Option<i64>) =
        tx.query_row("SELECT MIN(minute), MAX(minute) FROM metric_minutes", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(r.0.zip(r.1))
}

/// Minutes with events, `from <= minute < to`.
pub(super) fn metric_minutes(tx: &Transaction<'_>, from: i64, to: i64) -> anyhow::Result<Vec<i64>> {
    let mut st = tx.prepare_cached("SELECT minute FROM metric_minutes WHERE minute >= ?1 AND minute < ?2 ORDER BY minute")?;
    let rows = st.query_map(params![from, to], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A series' datapoints with `from <= minute < to`; their samples only `with_samples`.
pub(super) fn metric_points(
    tx: &Transaction<'_>,
    metric: &str,
    dimensions: &str,
    (from, to): (i64, i64),
    with_samples: bool,
) -> anyhow::Result<BTreeMap<i64, Stat>> {
    let mut st = tx.prepare_cached(
        "SELECT minute, sum, count, min, max, samples FROM metric_points
         WHERE metric = ?1 AND dimensions = ?2 AND minute >= ?3 AND minute < ?4 ORDER BY minute",
    )?;
    let rows = st.query_map(params![metric, dimensions, from, to], if with_samples { row_to_stat } else { row_to_values })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every series of a metric with its first datapoint's minute.
pub(super) fn metric_series(tx: &Transaction<'_>, metric: &str) -> anyhow::Result<Vec<(String, i64)>> {
    let mut st =
        tx.prepare_cached("SELECT dimensions, MIN(minute) FROM metric_points WHERE metric = ?1 GROUP BY dimensions ORDER BY dimensions")?;
    let rows = st.query_map(params![metric], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every series state stored for an alarm.
pub(super) fn alarm_states(tx: &Transaction<'_>, alarm: &str) -> anyhow::Result<Vec<AlarmStateRow>> {
    let mut st = tx.prepare_cached(
        "SELECT alarm, dimensions, state, evaluated_until, definition FROM alarm_state WHERE alarm = ?1 ORDER BY dimensions",
    )?;
    let rows = st.query_map(params![alarm], |r| {
        Ok(AlarmStateRow { alarm: r.get(0)?, dimensions: r.get(1)?, state: r.get(2)?, evaluated_until: r.get(3)?, definition: r.get(4)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn put_alarm_state(tx: &Transaction<'_>, row: &AlarmStateRow) -> anyhow::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO alarm_state (alarm, dimensions, state, evaluated_until, definition) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (alarm, dimensions) DO UPDATE SET state = excluded.state, evaluated_until = excluded.evaluated_until,
           definition = excluded.definition",
    )?;
    st.execute(params![row.alarm, row.dimensions, row.state, row.evaluated_until, row.definition])?;
    Ok(())
}

/// Forgets an alarm's state and history (its definition changed). What it alerted on is kept.
pub(super) fn clear_alarm(tx: &Transaction<'_>, alarm: &str) -> anyhow::Result<()> {
    tx.execute("DELETE FROM alarm_state WHERE alarm = ?1", params![alarm])?;
    tx.execute("DELETE FROM alarm_transitions WHERE alarm = ?1", params![alarm])?;
    Ok(())
}

/// The state a series was in just before time `t` (its last transition before `t`).
pub(super) fn alarm_state_before(tx: &Transaction<'_>, alarm: &str, dimensions: &str, t: i64) -> anyhow::Result<Option<String>> {
    let mut st =
        tx.prepare_cached("SELECT state FROM alarm_transitions WHERE alarm = ?1 AND dimensions = ?2 AND at < ?3 ORDER BY at DESC LIMIT 1")?;
    Ok(st.query_row(params![alarm, dimensions, t], |r| r.get(0)).optional()?)
}

/// Replaces a series' transitions at or after `from` with `transitions` (`(at, state)`).
pub(super) fn replace_alarm_transitions(
    tx: &Transaction<'_>,
    alarm: &str,
    dimensions: &str,
    from: i64,
    transitions: &[(i64, &str)],
) -> anyhow::Result<()> {
    tx.prepare_cached("DELETE FROM alarm_transitions WHERE alarm = ?1 AND dimensions = ?2 AND at >= ?3")?
        .execute(params![alarm, dimensions, from])?;
    let mut st = tx.prepare_cached("INSERT INTO alarm_transitions (alarm, dimensions, at, state) VALUES (?1, ?2, ?3, ?4)")?;
    for (at, state) in transitions {
        st.execute(params![alarm, dimensions, at, state])?;
    }
    Ok(())
}

/// Records that a transition raised an alert.
pub(super) fn mark_alarm_alert(tx: &Transaction<'_>, alarm: &str, dimensions: &str, at: i64, state: &str) -> anyhow::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO alarm_alerts (alarm, dimensions, at, state) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (alarm, dimensions, at, state) DO NOTHING",
    )?;
    st.execute(params![alarm, dimensions, at, state])?;
    Ok(())
}

/// Whether a transition into `state` raised an alert for the series at a time in `[from, to]`.
pub(super) fn alarm_alerted_between(
    tx: &Transaction<'_>,
    alarm: &str,
    dimensions: &str,
    state: &str,
    from: i64,
    to: i64,
) -> anyhow::Result<bool> {
    Ok(alarm_alert_at(tx, alarm, dimensions, state, from, to)?.is_some())
}

/// The transitions of a series that raised alerts, oldest first: `(at, state)`.
pub(super) fn alarm_alerts(tx: &Transaction<'_>, alarm: &str, dimensions: &str) -> anyhow::Result<Vec<(i64, String)>> {
    let mut st = tx.prepare_cached("SELECT at, state FROM alarm_alerts WHERE alarm = ?1 AND dimensions = ?2 ORDER BY at, state")?;
    let rows = st.query_map(params![alarm, dimensions], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A series' transitions, oldest first: `(at, state)`.
pub(super) fn alarm_transitions(tx: &Transaction<'_>, alarm: &str, dimensions: &str) -> anyhow::Result<Vec<(i64, String)>> {
    let mut st = tx.prepare_cached("SELECT at, state FROM alarm_transitions WHERE alarm = ?1 AND dimensions = ?2 ORDER BY at")?;
    let rows = st.query_map(params![alarm, dimensions], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The earliest time in `[from, to]` at which a transition into `state` raised an alert.
pub(super) fn alarm_alert_at(
    tx: &Transaction<'_>,
    alarm: &str,
    dimensions: &str,
    state: &str,
    from: i64,
    to: i64,
) -> anyhow::Result<Option<i64>> {
    let mut st = tx
        .prepare_cached("SELECT MIN(at) FROM alarm_alerts WHERE alarm = ?1 AND dimensions = ?2 AND state = ?3 AND at >= ?4 AND at <= ?5")?;
    Ok(st.query_row(params![alarm, dimensions, state, from, to], |r| r.get::<_, Option<i64>>(0))?)
}

pub(super) fn alarm_episode(
    tx: &Transaction<'_>,
    alarm: &str,
    dimensions: &str,
    opened_at: i64,
) -> anyhow::Result<Option<(i64, Vec<String>)>> {
    let mut st =
        tx.prepare_cached("SELECT checked_until, named FROM alarm_episodes WHERE alarm = ?1 AND dimensions = ?2 AND opened_at = ?3")?;
    let row: Option<(i64, String)> = st.query_row(params![alarm, dimensions, opened_at], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    // Written by this module; an unreadable list names no one (an update may repeat a name).
    Ok(row.map(|(until, named)| (until, serde_json::from_str(&named).unwrap_or_default())))
}

pub(super) fn alarm_named_before(tx: &Transaction<'_>, alarm: &str, dimensions: &str, t: i64) -> anyhow::Result<Vec<String>> {
    let mut st = tx.prepare_cached("SELECT named FROM alarm_episodes WHERE alarm = ?1 AND dimensions = ?2 AND opened_at < ?3")?;
    let rows = st.query_map(params![alarm, dimensions, t], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for named in rows {
        out.extend(serde_json::from_str::<Vec<String>>(&named?).unwrap_or_default());
    }
    Ok(out)
}

pub(super) fn put_alarm_episode(
    tx: &Transaction<'_>,
    alarm: &str,
    dimensions: &str,
    opened_at: i64,
    checked_until: i64,
    named: &[String],
) -> anyhow::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO alarm_episodes (alarm, dimensions, opened_at, checked_until, named) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (alarm, dimensions, opened_at) DO UPDATE SET checked_until = excluded.checked_until, named = excluded.named",
    )?;
    st.execute(params![alarm, dimensions, opened_at, checked_until, serde_json::to_string(named)?])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key list read back is what was written; a damaged one (cut inside a key) loses only
    /// the partial key, and never panics.
    #[test]
    fn key_lists_round_trip_and_survive_damage() {
        let keys = [i64::MIN, -1, 0, 7, i64::MAX];
        let blob = encode_keys(&keys);
        assert_eq!(decode_keys(&blob), keys);
        assert_eq!(decode_keys(&blob[..blob.len() - 3]), keys[..4]);
        assert!(decode_keys(&[1, 2, 3]).is_empty());
        let mut repeated = 0;
        let values =
            [Published { event_key: 7, value: 1.0 }, Published { event_key: 9, value: 2.0 }, Published { event_key: 9, value: 2.0 }];
        let (fresh, blob) = fresh_by_keys(decode_keys(&blob[..blob.len() - 3]), &values, &mut repeated);
        assert_eq!((fresh, repeated), (vec![2.0], 2));
        assert_eq!(decode_keys(&blob.unwrap()), [i64::MIN, -1, 0, 7, 9]);
    }
}
