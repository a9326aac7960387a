//! The store's rows for metric datapoints and alarm state: what `rules` publishes and reads back.

use serde::{Deserialize, Serialize};

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
