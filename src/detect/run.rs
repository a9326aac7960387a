//! Every enabled detector over one batch of files, in two stages: a [`BatchSink`] per read worker
//! (parallel: folds events into observations and raises per-event alerts), then
//! [`Detectors::apply`] (sequential, inside the batch's store transaction: baselines, the alert
//! outbox). Adding a detector means a field here, a line in `BatchSink::event` and one in `apply`.

use super::first_seen::ApplyStats;
use super::{FirstSeenDetector, Observations};
use crate::alert::Alert;
use crate::config::Config;
use crate::event::Record;
use crate::pipeline::{EventContext, EventSink};
use crate::store::StoreTx;

/// The detectors a scan runs, built once from the config.
#[derive(Debug, Clone)]
pub struct Detectors {
    /// Behaviour baselines (`[first_seen] enabled`).
    pub first_seen: Option<FirstSeenDetector>,
}

impl Detectors {
    /// Everything the config enables.
    pub fn from_config(cfg: &Config) -> anyhow::Result<Detectors> {
        Ok(Detectors { first_seen: cfg.first_seen.enabled.then(|| FirstSeenDetector::new(cfg.first_seen.clone())) })
    }

    /// Only the baselines (`baseline learn`): learning history raises nothing else.
    pub fn baselines_only(cfg: &Config) -> Detectors {
        Detectors { first_seen: Some(FirstSeenDetector::new(cfg.first_seen.clone())) }
    }

    /// Names of the enabled detectors, for summaries.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.first_seen.is_some() {
            names.push("first_seen");
        }
        names
    }

    /// A fresh sink for one read worker.
    pub fn sink(&self) -> BatchSink {
        BatchSink { observations: self.first_seen.as_ref().map(|d| d.observations()), alerts: Vec::new(), events: 0 }
    }

    /// Applies a batch's merged sinks inside `tx`: baselines grow, alerts enter the outbox (each
    /// once: their ids are deterministic, so a batch read again raises nothing new). With
    /// `learn`, first-seen learns silently; per-event detectors still alert.
    pub fn apply(&self, batch: BatchSink, tx: &StoreTx<'_>, learn: bool, now: i64) -> anyhow::Result<BatchOutcome> {
        let mut out = BatchOutcome { events: batch.events, ..BatchOutcome::default() };
        if let (Some(det), Some(obs)) = (&self.first_seen, batch.observations) {
            out.learned = obs.events;
            out.skipped = obs.skipped;
            out.without_time = obs.without_time;
            let (alerts, stats) = det.apply(obs, tx, learn, now)?;
            out.alerts += alerts.len() as u64;
            out.first_seen = stats;
        }
        for alert in &batch.alerts {
            let body = serde_json::to_string(alert)?;
            let time = alert.event_time.as_deref().and_then(crate::event::time::parse_event_time);
            if tx.insert_alert(&alert.stable_id(), &alert.detector, alert.principal.as_deref(), time, &body, now)? {
                out.alerts += 1;
            }
        }
        Ok(out)
    }
}

/// One read worker's share of a batch; merge them with [`BatchSink::merge`].
pub struct BatchSink {
    /// First-seen observations (when enabled).
    pub observations: Option<Observations>,
    /// Alerts raised by per-event detectors, stored by `apply`.
    pub alerts: Vec<Alert>,
    /// Events seen.
    pub events: u64,
}

impl BatchSink {
    /// Folds `o` into `self`.
    pub fn merge(mut self, o: BatchSink) -> Self {
        self.observations = match (self.observations, o.observations) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => a.or(b),
        };
        self.alerts.extend(o.alerts);
        self.events += o.events;
        self
    }
}

impl EventSink for BatchSink {
    fn event(&mut self, ev: &Record<'_>, _ctx: &EventContext<'_>) {
        self.events += 1;
        if let Some(obs) = &mut self.observations {
            obs.observe(ev);
        }
    }
}

/// What applying one batch did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct BatchOutcome {
    /// Events read.
    pub events: u64,
    /// Events first-seen learned from.
    pub learned: u64,
    /// Events first-seen did not learn (skipped principals, user agents, event types).
    pub skipped: u64,
    pub without_time: u64,
    /// New alerts put in the outbox, all detectors.
    pub alerts: u64,
    pub first_seen: ApplyStats,
}
