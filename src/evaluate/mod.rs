//! `trailhound evaluate`: scores alerts against ground truth.
//!
//! Ground truth is a labels file (`simulate`'s JSON, or the Invictus per-event CSV, see
//! `invictus`) or a folder of Stratus Red Team detonation logs (`stratus`). Alerts come from a
//! saved scan (JSON lines of `alert::Alert`) or from running the scan's detectors over a log tree
//! (`scan`). Scoring is in `score`.

pub(crate) mod coverage;
pub(crate) mod invictus;
mod render;
pub(crate) mod scan;
pub(crate) mod score;
pub(crate) mod stratus;

use crate::alert::Alert;
use crate::simulate::labels::Labels;
use anyhow::{Context, bail};
use std::io::BufRead;
use std::path::Path;

/// Loads labels: a folder of Stratus Red Team detonation logs, the Invictus CSV by its header,
/// anything else as a `simulate` labels file.
pub(crate) fn load_labels(path: &Path) -> anyhow::Result<Labels> {
    if path.is_dir() {
        return stratus::from_dir(path);
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read labels {}", path.display()))?;
    if text.starts_with(invictus::HEADER_START) {
        return invictus::parse(&text).with_context(|| format!("in {}", path.display()));
    }
    let labels: Labels = serde_json::from_str(&text)
        .with_context(|| format!("{} is neither a trailhound labels file nor an Invictus labels CSV", path.display()))?;
    if labels.format != crate::simulate::labels::FORMAT {
        bail!(
            "{}: unsupported labels format {:?} (expected {:?})",
            path.display(),
            crate::term::escape::terminal(&labels.format),
            crate::simulate::labels::FORMAT
        );
    }
    Ok(labels)
}

/// Reads alerts saved as JSON lines (blank lines are skipped; a bad line is an error naming it).
pub(crate) fn load_alerts(path: &Path) -> anyhow::Result<Vec<Alert>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open alerts {}", path.display()))?;
    let mut alerts = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        alerts.push(serde_json::from_str(&line).with_context(|| format!("{}: line {} is not an alert", path.display(), i + 1))?);
    }
    Ok(alerts)
}
