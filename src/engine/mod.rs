//! The engine every detecting command drives (`scan`, `baseline learn`, `evaluate`; `watch`
//! next): the files are cut into batches, the next batch is read while this one is applied, each
//! batch's detector state, processed-file rows and alerts commit in one store transaction, then
//! the outbox is delivered to the sinks. Commands keep only their arguments and output.

mod deliver;
mod ledger;
mod summary;

pub(crate) use summary::{RunSummary, skipped_files};

use crate::alert::sink::AlertSink;
use crate::detect::Detectors;
use crate::detect::run::BatchSink;
use crate::pipeline::{self, ReadOptions, ReadSummary};
use crate::source::{InputFile, Inputs};
use crate::store::Store;
use anyhow::Context;
use ledger::FileIdentity;

/// A batch is applied and committed once it holds this many files or stored bytes: memory stays
/// bounded by the batch's distinct keys, and a killed run loses at most one batch of work (a
/// few seconds of reading). Applying costs a store read and write per distinct key whatever
/// the batch's size, so small batches pay it again and again for the same keys.
pub(crate) const BATCH_FILES: usize = 10_000;
pub(crate) const BATCH_BYTES: u64 = 256 << 20;

/// What a run may do besides detecting.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mode {
    /// Every detector takes in the events and keeps its state (baselines, datapoints, alarm
    /// state, trap windows) but raises nothing: its alerts are recorded as learned, so a later
    /// run does not raise them either (`scan --learn`, `baseline learn`).
    pub learn: bool,
    /// Read files the ledger says were processed already.
    pub reread: bool,
}

/// Reads `inputs` batch by batch through `detectors`; each batch's observations, its files'
/// processed rows and the alerts it raised commit in one transaction, then the alerts are
/// delivered. Alerts left undelivered by an earlier (killed) run are delivered first; a sink
/// that confirms each alert (the webhook) gets its bounded time to catch up at the end.
pub(crate) fn run(
    store: &mut dyn Store,
    detectors: &Detectors,
    inputs: &Inputs,
    opts: &ReadOptions,
    mode: Mode,
    sinks: &mut [&mut dyn AlertSink],
) -> anyhow::Result<RunSummary> {
    let mut out = RunSummary { delivered: deliver::pending(store, sinks)?, ..Default::default() };
    detectors.load(store)?;
    out.read.add_unread(inputs);
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let todo = ledger::to_read(&mut *store, &inputs.files, &cwd, mode.reread, &mut out.already_processed)?;
    let batches = batches(&todo);
    // One deduplicator for the whole run: a copy delivered in the next batch is still a copy.
    let dedup = crate::event::dedup::Deduplicator::new(opts.dedup_window, opts.dedup_capacity);
    // The next batch is read while this one is applied: the store and alarm stage is serial, and
    // the read workers would otherwise wait for it. At most one batch waits, so memory stays
    // bounded by two batches' keys.
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (send, read) = std::sync::mpsc::sync_channel(1);
        let (todo, dedup) = (&todo, &dedup);
        scope.spawn(move || {
            for range in batches {
                let batch: Vec<InputFile> = todo[range.clone()].iter().map(|(f, _)| (*f).clone()).collect();
                let read = pipeline::run_with(&batch, opts, dedup, || detectors.sink())
                    .map(|(workers, summary)| (workers.into_iter().reduce(|a, b| a.merge(b)).unwrap_or_else(|| detectors.sink()), summary));
                if send.send((range, read)).is_err() {
                    break; // applying failed; the error is on its way out
                }
            }
        });
        for (range, batch) in read {
            let (mut sink, mut summary) = batch?;
            let mut files: Vec<(&InputFile, Option<FileIdentity>)> = todo[range].to_vec();
            // Another process may have applied some of these files since `to_read` looked: they
            // are claimed inside the batch's transaction, and the rest is read again without them
            // (their events are in the sink, which cannot give them back).
            while let Some(taken) =
                apply_batch(store, detectors, sink, &summary, &files, opts, mode, &mut out).map_err(|e| store.explain(e))?
            {
                out.already_processed += taken.iter().filter(|t| **t).count();
                let mut taken = taken.into_iter();
                files.retain(|_| !taken.next().unwrap_or(false));
                if files.is_empty() {
                    summary = ReadSummary::default();
                    break;
                }
                let batch: Vec<InputFile> = files.iter().map(|(f, _)| (*f).clone()).collect();
                // A fresh deduplicator: the one of the run has seen this batch's events already.
                let dedup = crate::event::dedup::Deduplicator::new(opts.dedup_window, opts.dedup_capacity);
                let (workers, again) = pipeline::run_with(&batch, opts, &dedup, || detectors.sink())?;
                sink = workers.into_iter().reduce(|a, b| a.merge(b)).unwrap_or_else(|| detectors.sink());
                summary = again;
            }
            out.delivered += deliver::pending(store, sinks)?;
            out.read.merge(&summary);
        }
        Ok(())
    })?;
    out.pending = deliver::settle(store, sinks)?;
    Ok(out)
}

/// Cuts the files to read into batches of at most [`BATCH_FILES`] files and about
/// [`BATCH_BYTES`] stored bytes.
fn batches(todo: &[(&InputFile, Option<FileIdentity>)]) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    while start < todo.len() {
        let mut end = start;
        let mut bytes = 0u64;
        while end < todo.len() && end - start < BATCH_FILES && (end == start || bytes < BATCH_BYTES) {
            bytes += todo[end].0.size;
            end += 1;
        }
        batches.push(start..end);
        start = end;
    }
    batches
}

/// Commits one batch: its observations, alerts and (when it was read whole and without file
/// errors) its files' processed rows, in one transaction. The files are claimed first, inside
/// that transaction: when another process committed some of them since this run looked, nothing
/// is applied and the answer says which (one flag per file), so that no file counts twice.
#[allow(clippy::too_many_arguments)]
fn apply_batch(
    store: &mut dyn Store,
    detectors: &Detectors,
    sink: BatchSink<'_>,
    summary: &ReadSummary,
    files: &[(&InputFile, Option<FileIdentity>)],
    opts: &ReadOptions,
    mode: Mode,
    out: &mut RunSummary,
) -> anyhow::Result<Option<Vec<bool>>> {
    let now = jiff::Timestamp::now().as_millisecond();
    let mut tx = store.transaction()?;
    if mode.learn {
        tx.learning();
    }
    if !mode.reread {
        let taken = ledger::claimed(tx.as_ref(), files)?;
        if taken.contains(&true) {
            return Ok(Some(taken));
        }
    }
    let mut applied = detectors.apply(sink, tx.as_ref(), now)?;
    if mode.learn {
        applied.learned_alerts = std::mem::take(&mut applied.alerts);
    }
    // A batch with unreadable input is applied (what was read is valid) but its files are not
    // marked done, so a later run reads them again; baselines are idempotent under rereads.
    // A file read through --since/--until was only partly applied: it is not done either.
    let whole_files = opts.range.since.is_none() && opts.range.until.is_none();
    if summary.file_errors == 0 && whole_files {
        tx.mark_files(&ledger::identities(files), now)?;
    }
    tx.commit()?;
    out.detectors.merge(applied);
    Ok(None)
}

#[cfg(test)]
mod tests;
