//! Detectors. `run` drives them all over a batch: each worker folds events into first-seen
//! observations and metric datapoints and raises per-event alerts (traps, rules); the batch is
//! then applied to the store in one transaction (baselines, alarms, the alert outbox).

pub(crate) mod first_seen;
pub(crate) mod observe;
pub(crate) mod pattern;
pub(crate) mod rules;
pub(crate) mod run;
pub(crate) mod statistics;
pub mod traps;

pub(crate) use first_seen::FirstSeenDetector;
pub(crate) use observe::Observations;
pub(crate) use rules::RuleDetector;
pub(crate) use run::Detectors;
pub use traps::TrapDetector;
