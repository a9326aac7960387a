//! Which labelled attack events the read reached. A labelled event the detectors never saw
//! (outside PATH, cut by time, or dropped as a duplicate of another record with its account and
//! eventID) can only be missed, and the score would blame the detectors for it: the user is told.

use crate::event::Record;
use crate::pipeline::{self, EventContext, EventSink, Flow, ReadOptions};
use crate::simulate::labels::{Labels, ScenarioKind};
use crate::source::Inputs;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// Labelled attack events the read never delivered, by scenario.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Unread {
    /// Labelled attack events in all.
    pub labelled: usize,
    /// Of those, never read.
    pub unread: usize,
    /// `(scenario id, events of it never read)`.
    pub scenarios: Vec<(String, usize)>,
}

struct Seen<'a> {
    wanted: &'a HashMap<&'a str, usize>,
    found: BTreeSet<usize>,
}

impl EventSink for Seen<'_> {
    fn event(&mut self, ev: &Record<'_>, _ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        if let Some(i) = ev.event_id.as_deref().and_then(|id| self.wanted.get(id)) {
            self.found.insert(*i);
        }
        Ok(Flow::Continue)
    }
}

/// Reads `inputs` as the scan did (same deduplication and time range) and counts the labelled
/// attack events that never reached a sink.
pub(crate) fn unread(labels: &Labels, inputs: &Inputs, opts: &ReadOptions) -> anyhow::Result<Unread> {
    let mut owner: Vec<usize> = Vec::new();
    let mut wanted: HashMap<&str, usize> = HashMap::new();
    for (si, s) in labels.scenarios.iter().enumerate().filter(|(_, s)| s.kind == ScenarioKind::Attack) {
        for id in &s.event_ids {
            wanted.entry(id.as_str()).or_insert_with(|| {
                owner.push(si);
                owner.len() - 1
            });
        }
    }
    // The scan's read already named every unreadable input: this one stays quiet.
    let opts = ReadOptions { progress: false, max_messages_per_file: 0, ..opts.clone() };
    let (sinks, _) = pipeline::run(inputs, &opts, || Seen { wanted: &wanted, found: BTreeSet::new() })?;
    let found: BTreeSet<usize> = sinks.into_iter().flat_map(|s| s.found).collect();
    let mut by_scenario: Vec<usize> = vec![0; labels.scenarios.len()];
    for (i, &si) in owner.iter().enumerate() {
        if !found.contains(&i) {
            by_scenario[si] += 1;
        }
    }
    Ok(Unread {
        labelled: owner.len(),
        unread: owner.len() - found.len(),
        scenarios: by_scenario
            .into_iter()
            .enumerate()
            .filter(|(_, n)| *n > 0)
            .map(|(si, n)| (labels.scenarios[si].id.clone(), n))
            .collect(),
    })
}
