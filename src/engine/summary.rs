//! What a run did, and the one summary line every detecting command prints.

use crate::detect::run::BatchOutcome;
use crate::pipeline::ReadSummary;
use std::path::Path;

/// What a run did: the read (pre-skipped files and unwalkable paths included), the ledger, the
/// detectors' batches added up, delivery.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(crate) struct RunSummary {
    pub read: ReadSummary,
    /// Files not read because the store says they were processed.
    pub already_processed: usize,
    /// Every batch's outcome, added up.
    pub detectors: BatchOutcome,
    /// Alerts delivered in this run (including any left undelivered by an earlier, killed run).
    pub delivered: u64,
    /// Alerts a confirming sink (the webhook) has not confirmed when the run ends, by sink: the
    /// next run sends them again.
    pub pending: Vec<(&'static str, u64)>,
}

/// Why files were skipped, e.g. ` (6048 digest, 2 archive)`; empty when none were.
pub(crate) fn skipped_files(read: &ReadSummary) -> String {
    let parts: Vec<String> =
        read.skipped_files.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{n} {}", k.replace('_', " "))).collect();
    if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
}

impl RunSummary {
    /// One line for stderr: what was read, learned and raised.
    pub(crate) fn line(&self, learn: bool, state: Option<&Path>) -> String {
        let (read, d) = (&self.read, &self.detectors);
        let suppressed: Vec<String> = d.first_seen.suppressed.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let by_detector: Vec<String> = d.alerts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let learned: Vec<String> = d.learned_alerts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let learning = match (learn, learned.is_empty()) {
            (false, _) => String::new(),
            (true, true) => " (learning: raises none)".into(),
            (true, false) => format!(" (learning: raises none; learned as history: {})", learned.join(", ")),
        };
        let m = &d.alarms.metrics;
        let unpublished =
            [("no metric value", m.no_value), ("no dimension value", m.no_dimension), ("over the series cap", m.over_cardinality)];
        let unpublished: Vec<String> = unpublished.iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{n} {k}")).collect();
        format!(
            "trailhound: {} files read, {} already processed, {} skipped{}, {} file errors, {} bad records{}{}; {} events read, {} learned ({} not learned by [first_seen] skip rules{}; {} without time); {} new baseline keys; {} alerts{}{}{}{}{}{}",
            read.files_read,
            self.already_processed,
            read.skipped_total(),
            skipped_files(read),
            read.file_errors,
            read.bad_records,
            match read.conflicting_ids {
                0 => String::new(),
                n => format!(", {n} conflicting event ids"),
            },
            match read.repaired_records {
                0 => String::new(),
                n => format!(", {n} records with repaired text"),
            },
            d.events,
            d.learned,
            d.skipped.total(),
            match d.skipped.by_rule() {
                r if r.is_empty() => r,
                r => format!(": {r}"),
            },
            d.without_time,
            d.first_seen.new_keys,
            self.delivered,
            if by_detector.is_empty() { String::new() } else { format!(" (new: {})", by_detector.join(", ")) },
            self.pending.iter().map(|(sink, n)| format!("; {n} pending for the {sink} (sent again next run)")).collect::<String>(),
            if unpublished.is_empty() { String::new() } else { format!("; metric matches not published: {}", unpublished.join(", ")) },
            learning,
            if suppressed.is_empty() || learn { String::new() } else { format!("; not alerted: {}", suppressed.join(", ")) },
            state.map(|p| format!("; state {}", crate::term::escape::terminal(&p.display().to_string()))).unwrap_or_default(),
        )
    }
}
