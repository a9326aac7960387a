//! Metric datapoints and alarm state in the store (schema V2, V3): datapoints are merged batch by
//! batch, so late events land in the minute they happened; alarm state keeps its transition
//! history so a late batch can re-evaluate from the past.

use super::StoreTx;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Event IDs kept per datapoint (the earliest by time, then ID): what an alarm alert shows.
pub const MAX_SAMPLES: usize = 5;

/// The statistics of one datapoint (one metric, one dimension combination, one minute or period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub sum: f64,
    pub count: u64,
    pub min: f64,
    pub max: f64,
    /// `(event time, eventID)` of the earliest matching events.
    pub samples: Vec<(i64, String)>,
}

impl Stat {
    pub fn of(v: f64) -> Stat {
        Stat { sum: v, count: 1, min: v, max: v, samples: Vec::new() }
    }

    pub fn absorb(&mut self, o: &Stat) {
        self.sum += o.sum;
        self.count += o.count;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.add_samples(&o.samples);
    }

    pub fn add_samples(&mut self, s: &[(i64, String)]) {
        if s.is_empty() {
            return;
        }
        self.samples.extend(s.iter().cloned());
        self.samples.sort();
        self.samples.dedup();
        self.samples.truncate(MAX_SAMPLES);
    }
}

/// Where a datapoint belongs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PointKey {
    pub metric: String,
    /// Canonical JSON object of dimension name to value (`{}` without dimensions).
    pub dimensions: String,
    /// Start of the minute, epoch ms.
    pub minute: i64,
}

/// One published value and the key that makes publishing it idempotent: a hash of the metric and
/// the event (its `eventID`, else its text), so an event read twice (a rescan, overlapping
/// `--since` windows) counts once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Published {
    pub event_key: i64,
    pub value: f64,
}

/// A datapoint of a batch before it meets the store: its values, not yet summed, and the earliest
/// events behind it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PendingPoint {
    pub values: Vec<Published>,
    /// `(event time, eventID)`, earliest first, at most [`MAX_SAMPLES`].
    pub samples: Vec<(i64, String)>,
}

impl PendingPoint {
    /// Keeps `(t, id)` if it is among the [`MAX_SAMPLES`] earliest; allocates only then.
    pub(crate) fn offer_sample(&mut self, t: i64, id: &str) {
        let full = self.samples.len() >= MAX_SAMPLES;
        if full && self.samples.last().is_some_and(|(lt, lid)| (t, id) >= (*lt, lid.as_str())) {
            return;
        }
        match self.samples.binary_search_by(|(st, sid)| (*st, sid.as_str()).cmp(&(t, id))) {
            Ok(_) => {}
            Err(at) => {
                self.samples.insert(at, (t, id.to_string()));
                self.samples.truncate(MAX_SAMPLES);
            }
        }
    }

    pub(crate) fn absorb(&mut self, o: PendingPoint) {
        self.values.extend(o.values);
        self.add_samples(o.samples);
    }

    pub(crate) fn add_samples(&mut self, s: Vec<(i64, String)>) {
        if s.is_empty() {
            return;
        }
        self.samples.extend(s);
        self.samples.sort();
        self.samples.dedup();
        self.samples.truncate(MAX_SAMPLES);
    }
}

/// An alarm's state on one series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmStateRow {
    pub alarm: String,
    pub dimensions: String,
    pub state: String,
    /// The last evaluation time (a minute boundary, epoch ms).
    pub evaluated_until: i64,
    /// The digest of the alarm definition that produced this state.
    pub definition: String,
}

fn row_to_stat(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Stat)> {
    let samples: String = r.get(5)?;
    Ok((
        r.get(0)?,
        Stat {
            sum: r.get(1)?,
            count: r.get::<_, i64>(2)?.max(0) as u64,
            min: r.get(3)?,
            max: r.get(4)?,
            // Written by this module; an unreadable list only loses the samples, not the datapoint.
            samples: serde_json::from_str(&samples).unwrap_or_default(),
        },
    ))
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

impl StoreTx<'_> {
    /// Adds a batch's datapoints to what is stored (sums and counts add, min and max widen),
    /// counting each event once however often it is read. Returns `(datapoints changed, values
    /// already counted)`.
    pub fn merge_metric_points(&self, points: &[(PointKey, PendingPoint)]) -> anyhow::Result<(u64, u64)> {
        let mut get = self.tx.prepare_cached(
            "SELECT minute, sum, count, min, max, samples, event_keys FROM metric_points WHERE metric = ?1 AND dimensions = ?2 AND minute = ?3",
        )?;
        let mut put = self.tx.prepare_cached(
            "INSERT INTO metric_points (metric, dimensions, minute, sum, count, min, max, samples, event_keys)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (metric, dimensions, minute) DO UPDATE SET sum = excluded.sum, count = excluded.count, min = excluded.min,
               max = excluded.max, samples = excluded.samples, event_keys = excluded.event_keys",
        )?;
        let (mut changed, mut repeated) = (0, 0);
        for (k, p) in points {
            let old = get
                .query_row(params![k.metric, k.dimensions, k.minute], |r| Ok((row_to_stat(r)?.1, r.get::<_, Option<Vec<u8>>>(6)?)))
                .optional()?;
            let (fresh, keys): (Vec<f64>, Option<Vec<u8>>) = match &old {
                // Written before V3: its events are in metric_events.
                Some((_, None)) => (self.fresh_by_table(&p.values, &mut repeated)?, None),
                Some((_, Some(blob))) => fresh_by_keys(decode_keys(blob), &p.values, &mut repeated),
                None => fresh_by_keys(Vec::new(), &p.values, &mut repeated),
            };
            let Some(mut merged) = fresh.iter().map(|&v| Stat::of(v)).reduce(|mut a, b| {
                a.absorb(&b);
                a
            }) else {
                continue;
            };
            merged.add_samples(&p.samples);
            if let Some((old, _)) = old {
                merged.absorb(&old);
            }
            let samples = serde_json::to_string(&merged.samples)?;
            put.execute(params![k.metric, k.dimensions, k.minute, merged.sum, merged.count as i64, merged.min, merged.max, samples, keys])?;
            changed += 1;
        }
        Ok((changed, repeated))
    }

    /// The values of `values` whose event a pre-V3 datapoint has not counted, by the
    /// metric_events table.
    fn fresh_by_table(&self, values: &[Published], repeated: &mut u64) -> anyhow::Result<Vec<f64>> {
        let mut seen = self.tx.prepare_cached("INSERT INTO metric_events (event_key) VALUES (?1) ON CONFLICT (event_key) DO NOTHING")?;
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
    pub fn add_metric_minutes(&self, minutes: &[i64]) -> anyhow::Result<()> {
        let mut st = self.tx.prepare_cached("INSERT INTO metric_minutes (minute) VALUES (?1) ON CONFLICT (minute) DO NOTHING")?;
        for m in minutes {
            st.execute(params![m])?;
        }
        Ok(())
    }

    /// The first and last minute in which events were read.
    pub fn metric_minute_range(&self) -> anyhow::Result<Option<(i64, i64)>> {
        let r: (Option<i64>, Option<i64>) =
            self.tx.query_row("SELECT MIN(minute), MAX(minute) FROM metric_minutes", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(r.0.zip(r.1))
    }

    /// Minutes with events, `from <= minute < to`.
    pub fn metric_minutes(&self, from: i64, to: i64) -> anyhow::Result<Vec<i64>> {
        let mut st = self.tx.prepare_cached("SELECT minute FROM metric_minutes WHERE minute >= ?1 AND minute < ?2 ORDER BY minute")?;
        let rows = st.query_map(params![from, to], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A series' datapoints with `from <= minute < to`.
    pub fn metric_points(&self, metric: &str, dimensions: &str, from: i64, to: i64) -> anyhow::Result<BTreeMap<i64, Stat>> {
        let mut st = self.tx.prepare_cached(
            "SELECT minute, sum, count, min, max, samples FROM metric_points
             WHERE metric = ?1 AND dimensions = ?2 AND minute >= ?3 AND minute < ?4 ORDER BY minute",
        )?;
        let rows = st.query_map(params![metric, dimensions, from, to], row_to_stat)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every series of a metric with its first datapoint's minute.
    pub fn metric_series(&self, metric: &str) -> anyhow::Result<Vec<(String, i64)>> {
        let mut st = self.tx.prepare_cached(
            "SELECT dimensions, MIN(minute) FROM metric_points WHERE metric = ?1 GROUP BY dimensions ORDER BY dimensions",
        )?;
        let rows = st.query_map(params![metric], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every series state stored for an alarm.
    pub fn alarm_states(&self, alarm: &str) -> anyhow::Result<Vec<AlarmStateRow>> {
        let mut st = self.tx.prepare_cached(
            "SELECT alarm, dimensions, state, evaluated_until, definition FROM alarm_state WHERE alarm = ?1 ORDER BY dimensions",
        )?;
        let rows = st.query_map(params![alarm], |r| {
            Ok(AlarmStateRow {
                alarm: r.get(0)?,
                dimensions: r.get(1)?,
                state: r.get(2)?,
                evaluated_until: r.get(3)?,
                definition: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn put_alarm_state(&self, row: &AlarmStateRow) -> anyhow::Result<()> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO alarm_state (alarm, dimensions, state, evaluated_until, definition) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (alarm, dimensions) DO UPDATE SET state = excluded.state, evaluated_until = excluded.evaluated_until,
               definition = excluded.definition",
        )?;
        st.execute(params![row.alarm, row.dimensions, row.state, row.evaluated_until, row.definition])?;
        Ok(())
    }

    /// Forgets an alarm's state and history (its definition changed). What it alerted on is kept.
    pub fn clear_alarm(&self, alarm: &str) -> anyhow::Result<()> {
        self.tx.execute("DELETE FROM alarm_state WHERE alarm = ?1", params![alarm])?;
        self.tx.execute("DELETE FROM alarm_transitions WHERE alarm = ?1", params![alarm])?;
        Ok(())
    }

    /// The state a series was in just before time `t` (its last transition before `t`).
    pub fn alarm_state_before(&self, alarm: &str, dimensions: &str, t: i64) -> anyhow::Result<Option<String>> {
        let mut st = self.tx.prepare_cached(
            "SELECT state FROM alarm_transitions WHERE alarm = ?1 AND dimensions = ?2 AND at < ?3 ORDER BY at DESC LIMIT 1",
        )?;
        Ok(st.query_row(params![alarm, dimensions, t], |r| r.get(0)).optional()?)
    }

    /// Replaces a series' transitions at or after `from` with `transitions` (`(at, state)`).
    pub fn replace_alarm_transitions(&self, alarm: &str, dimensions: &str, from: i64, transitions: &[(i64, &str)]) -> anyhow::Result<()> {
        self.tx
            .prepare_cached("DELETE FROM alarm_transitions WHERE alarm = ?1 AND dimensions = ?2 AND at >= ?3")?
            .execute(params![alarm, dimensions, from])?;
        let mut st = self.tx.prepare_cached("INSERT INTO alarm_transitions (alarm, dimensions, at, state) VALUES (?1, ?2, ?3, ?4)")?;
        for (at, state) in transitions {
            st.execute(params![alarm, dimensions, at, state])?;
        }
        Ok(())
    }

    /// Records that a transition raised an alert.
    pub fn mark_alarm_alert(&self, alarm: &str, dimensions: &str, at: i64, state: &str) -> anyhow::Result<()> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO alarm_alerts (alarm, dimensions, at, state) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (alarm, dimensions, at, state) DO NOTHING",
        )?;
        st.execute(params![alarm, dimensions, at, state])?;
        Ok(())
    }

    /// Whether a transition into `state` raised an alert for the series at a time in `[from, to]`.
    pub fn alarm_alerted_between(&self, alarm: &str, dimensions: &str, state: &str, from: i64, to: i64) -> anyhow::Result<bool> {
        let mut st = self.tx.prepare_cached(
            "SELECT COUNT(*) FROM alarm_alerts WHERE alarm = ?1 AND dimensions = ?2 AND state = ?3 AND at >= ?4 AND at <= ?5",
        )?;
        Ok(st.query_row(params![alarm, dimensions, state, from, to], |r| r.get::<_, i64>(0))? > 0)
    }

    /// The transitions of a series that raised alerts, oldest first: `(at, state)`.
    pub fn alarm_alerts(&self, alarm: &str, dimensions: &str) -> anyhow::Result<Vec<(i64, String)>> {
        let mut st =
            self.tx.prepare_cached("SELECT at, state FROM alarm_alerts WHERE alarm = ?1 AND dimensions = ?2 ORDER BY at, state")?;
        let rows = st.query_map(params![alarm, dimensions], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A series' transitions, oldest first: `(at, state)`.
    pub fn alarm_transitions(&self, alarm: &str, dimensions: &str) -> anyhow::Result<Vec<(i64, String)>> {
        let mut st = self.tx.prepare_cached("SELECT at, state FROM alarm_transitions WHERE alarm = ?1 AND dimensions = ?2 ORDER BY at")?;
        let rows = st.query_map(params![alarm, dimensions], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
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
