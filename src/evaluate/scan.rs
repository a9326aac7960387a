//! Running detectors over logs for `evaluate`. Detectors plug in through `DETECTORS`: each
//! entry builds one `DetectorSink` per read worker; the sinks' alerts are collected after the
//! read. The list is empty until detectors exist, so every scenario is reported missed.

use crate::alert::Alert;
use crate::event::Record;
use crate::pipeline::{self, EventContext, EventSink, ReadOptions, ReadSummary};
use crate::source::{InputFile, Skipped};

/// A detector as `evaluate` runs it: sees each event once, then hands over its alerts.
pub trait DetectorSink: Send {
    fn event(&mut self, ev: &Record<'_>, ctx: &EventContext<'_>);
    /// Alerts raised, called once after the read (per worker).
    fn finish(self: Box<Self>) -> Vec<Alert>;
}

/// Builds one detector instance for a worker.
pub type DetectorFactory = fn() -> Box<dyn DetectorSink>;

/// The detectors `evaluate` runs, by name. Register new detectors here.
pub const DETECTORS: &[(&str, DetectorFactory)] = &[];

/// All registered detectors on one worker.
struct Fanout {
    detectors: Vec<Box<dyn DetectorSink>>,
    events: u64,
}

impl EventSink for Fanout {
    fn event(&mut self, ev: &Record<'_>, ctx: &EventContext<'_>) {
        self.events += 1;
        for d in &mut self.detectors {
            d.event(ev, ctx);
        }
    }
}

/// Reads the inputs through every registered detector; returns alerts, events seen and the
/// read summary.
pub fn run(
    files: &[InputFile],
    skipped: &[Skipped],
    opts: &ReadOptions,
    detectors: &[(&str, DetectorFactory)],
) -> (Vec<Alert>, u64, ReadSummary) {
    let make = || Fanout { detectors: detectors.iter().map(|(_, f)| f()).collect(), events: 0 };
    let (sinks, summary) = pipeline::run(files, skipped, opts, make);
    let mut alerts = Vec::new();
    let mut events = 0;
    for s in sinks {
        events += s.events;
        for d in s.detectors {
            alerts.extend(d.finish());
        }
    }
    (alerts, events, summary)
}
