//! Running the detectors over logs for `evaluate`: the same engine, batches, store transactions
//! and detectors as `scan`, on a throw-away in-memory store, so the scorecard judges exactly what
//! a user's scan would raise.

use crate::alert::Alert;
use crate::detect::Detectors;
use crate::engine::{self, RunSummary};
use crate::pipeline::ReadOptions;
use crate::source::Inputs;

/// Reads the inputs through `detectors` from an empty baseline; returns every alert raised and
/// what the run did.
pub(crate) fn run(inputs: &Inputs, opts: &ReadOptions, detectors: &Detectors) -> anyhow::Result<(Vec<Alert>, RunSummary)> {
    let mut store = crate::store::open_in_memory()?;
    let mut alerts: Vec<Alert> = Vec::new();
    let outcome = engine::run(store.as_mut(), detectors, inputs, opts, engine::Mode::default(), &mut [&mut alerts])?;
    Ok((alerts, outcome))
}
