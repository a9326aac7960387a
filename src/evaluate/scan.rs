//! Running the detectors over logs for `evaluate`: the same batches, store transactions and
//! detectors as `scan`, on a throw-away in-memory store, so the scorecard judges exactly what a
//! user's scan would raise.

use crate::alert::Alert;
use crate::commands::scan::{ScanOutcome, scan_files};
use crate::detect::Detectors;
use crate::pipeline::ReadOptions;
use crate::source::{InputFile, Skipped};
use crate::store::Store;

/// Reads the inputs through `detectors` from an empty baseline; returns every alert raised and
/// what the scan did (pre-skipped inputs counted in its read summary).
pub fn run(
    files: &[InputFile],
    skipped: &[Skipped],
    opts: &ReadOptions,
    detectors: &Detectors,
) -> anyhow::Result<(Vec<Alert>, ScanOutcome)> {
    let mut store = Store::open_in_memory()?;
    let mut alerts: Vec<Alert> = Vec::new();
    let mut outcome = scan_files(&mut store, detectors, files, opts, false, false, &mut [&mut alerts])?;
    for s in skipped {
        outcome.read.skip(s.reason);
    }
    Ok((alerts, outcome))
}
