//! trailhound: behaviour-based anomaly detection for AWS CloudTrail.
//!
//! The pipeline, one folder each: `source` (find, read and split inputs) → `event` (the borrowed
//! record, principals, field lookups, deduplication) → `pipeline` (parallel read loop feeding
//! sinks) → `report` (what commands print). `cli` and `commands` are the binary's front end.

pub mod alert;
pub mod cli;
pub mod commands;
pub mod config;
pub mod detect;
pub mod engine;
pub mod evaluate;
pub mod event;
pub(crate) mod json;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod simulate;
pub mod source;
pub mod store;
pub mod tally;
pub mod term;
pub(crate) mod toml_error;

use std::io::Write;

/// Writes to stdout; a closed pipe (`trailhound stats … | head`) is success, not an error.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}
