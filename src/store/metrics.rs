//! The store's rows for metric datapoints and alarm state: what `rules` publishes and reads back.

use serde::{Deserialize, Serialize};

/// Events kept per datapoint (the earliest by time, then ID): what an alarm alert shows.
pub(crate) const MAX_SAMPLES: usize = 5;

/// Callers whose earliest event a datapoint keeps besides [`MAX_SAMPLES`] (the earliest callers
/// first): an alarm in ALARM names the principals that join it (`alarm::apply`), and a caller
/// whose events are not among the minute's earliest would otherwise go unseen.
pub(crate) const MAX_CALLERS: usize = 20;

/// One counted event, as an alarm alert names it: time, eventID, eventName, principal, account,
/// region. Stored as that JSON array; rows written before the last four were kept hold
/// `[time, eventID]`, and read back with them absent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricSample(
    pub i64,
    pub String,
    #[serde(default)] pub Option<String>,
    #[serde(default)] pub Option<String>,
    #[serde(default)] pub Option<String>,
    #[serde(default)] pub Option<String>,
);

impl MetricSample {
    pub fn time(&self) -> i64 {
        self.0
    }
    pub fn event_id(&self) -> &str {
        &self.1
    }
    pub fn principal(&self) -> Option<&str> {
        self.3.as_deref()
    }
}

/// Keeps what a datapoint's samples are: the [`MAX_SAMPLES`] earliest events, and the earliest
/// event of each of the [`MAX_CALLERS`] earliest callers. The same whichever parts a set of
/// events is merged from (a caller among the earliest of a union is among the earliest of the
/// part holding its first event), so batches and workers agree.
pub(crate) fn keep_samples(samples: &mut Vec<MetricSample>) {
    samples.sort();
    samples.dedup_by(|a, b| (a.0, &a.1) == (b.0, &b.1));
    let mut callers: Vec<&str> = Vec::new();
    let mut keep = vec![false; samples.len()];
    for (i, s) in samples.iter().enumerate() {
        let new_caller = s.principal().is_some_and(|p| !callers.contains(&p));
        if new_caller && callers.len() < MAX_CALLERS {
            callers.push(s.principal().unwrap_or_default());
            keep[i] = true;
        }
        keep[i] |= i < MAX_SAMPLES;
    }
    let mut it = keep.into_iter();
    samples.retain(|_| it.next().unwrap_or(false));
}

/// The statistics of one datapoint (one metric, one dimension combination, one minute or period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub sum: f64,
    pub count: u64,
    pub min: f64,
    pub max: f64,
    /// The earliest matching events (see [`keep_samples`]).
    pub samples: Vec<MetricSample>,
}

impl Stat {
    pub fn of(v: f64) -> Stat {
        Stat { sum: v, count: 1, min: v, max: v, samples: Vec::new() }
    }

    pub fn absorb(&mut self, o: &Stat) {
        self.absorb_values(o);
        self.add_samples(&o.samples);
    }

    /// [`Self::absorb`] but for the samples.
    pub fn absorb_values(&mut self, o: &Stat) {
        self.sum += o.sum;
        self.count += o.count;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    pub fn add_samples(&mut self, s: &[MetricSample]) {
        if s.is_empty() {
            return;
        }
        self.samples.extend(s.iter().cloned());
        keep_samples(&mut self.samples);
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
    /// The earliest events (see [`keep_samples`]).
    pub samples: Vec<MetricSample>,
}

impl PendingPoint {
    /// Keeps an event at `t` with `id` by `principal` if [`keep_samples`] would; `make` builds
    /// it only then. The common case (a caller already kept, at a later time than the earliest)
    /// costs a scan of the short list and no allocation.
    pub(crate) fn offer_sample(&mut self, t: i64, id: &str, principal: Option<&str>, make: impl FnOnce() -> MetricSample) {
        let early = self.samples.len() < MAX_SAMPLES || self.samples.get(MAX_SAMPLES - 1).is_some_and(|s| (t, id) < (s.0, s.1.as_str()));
        let caller = principal.is_some_and(|p| match self.samples.iter().find(|s| s.principal() == Some(p)) {
            Some(s) => (t, id) < (s.0, s.1.as_str()),
            None => true,
        });
        if early || caller {
            self.samples.push(make());
            keep_samples(&mut self.samples);
        }
    }

    pub(crate) fn absorb(&mut self, o: PendingPoint) {
        self.values.extend(o.values);
        self.add_samples(o.samples);
    }

    pub(crate) fn add_samples(&mut self, s: Vec<MetricSample>) {
        if s.is_empty() {
            return;
        }
        self.samples.extend(s);
        keep_samples(&mut self.samples);
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
