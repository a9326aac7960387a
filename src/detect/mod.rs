//! Detectors. First-seen detection runs in two stages: `observe` (parallel, per worker, folds
//! events into behaviour observations) and `first_seen` (sequential, applies them to the store
//! and raises alerts).

pub mod first_seen;
pub mod observe;
pub mod pattern;
pub mod traps;

pub use first_seen::FirstSeenDetector;
pub use observe::Observations;
pub use traps::TrapDetector;
