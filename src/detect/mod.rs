//! Detectors. `run` drives them all over a batch: each worker folds events into first-seen
//! observations and metric datapoints and raises per-event alerts (traps, rules); the batch is
//! then applied to the store in one transaction (baselines, alarms, the alert outbox).

pub mod first_seen;
pub mod observe;
pub mod pattern;
pub mod rules;
pub mod run;
pub mod traps;

pub use first_seen::FirstSeenDetector;
pub use observe::Observations;
pub use rules::RuleDetector;
pub use run::{BatchSink, Detectors};
pub use traps::TrapDetector;
