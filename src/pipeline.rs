//! The read loop: files in delivery order, on all cores, each split into records, deduplicated,
//! filtered by time and handed to a per-worker sink. Sinks are merged by the caller.
//!
//! Ordering contract for everything downstream: files are *started* in delivery order, but
//! workers run in parallel and CloudTrail orders nothing inside a file, so a sink sees events in
//! no particular order. Each event is seen once (duplicates dropped, see `event::dedup`).
//! Anything order-sensitive must key on `eventTime`, not arrival.

use crate::event::Record;
use crate::event::dedup::{Deduplicator, Seen, fingerprint};
use crate::source::format::{BadKind, Item, Shape, Split, split};
use crate::source::read::{Loaded, ReadBuffers, ReadError};
use crate::source::stream::{self, StreamOptions};
use crate::source::{InputFile, Inputs, SkipReason, TimeRange};
use crate::term::progress::Unit;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub range: TimeRange,
    /// Decompressed bytes after which a file is cut (`--max-file-bytes`).
    pub max_file_bytes: u64,
    /// Files that decompress to more than this (and standard input) are streamed a window at a
    /// time instead of read whole; also the largest one value may be.
    pub stream_above: u64,
    /// Bytes read per window when streaming.
    pub stream_chunk: usize,
    pub dedup_window: i64,
    pub dedup_capacity: usize,
    pub threads: usize,
    pub progress: bool,
    /// Messages printed per file before the rest are only counted.
    pub max_messages_per_file: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            range: TimeRange::default(),
            max_file_bytes: crate::source::read::DEFAULT_MAX_FILE_BYTES,
            stream_above: crate::source::read::STREAM_ABOVE,
            stream_chunk: stream::DEFAULT_CHUNK,
            dedup_window: crate::event::dedup::DEFAULT_WINDOW,
            dedup_capacity: crate::event::dedup::DEFAULT_CAPACITY,
            threads: crate::source::default_workers(),
            progress: false,
            max_messages_per_file: 5,
        }
    }
}

/// Where an event came from.
pub struct EventContext<'f> {
    pub file: &'f InputFile,
}

/// What a sink tells the read loop after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Enough has been read (`search --limit`, a closed pipe): every worker stops. The file in
    /// hand is not read further; records already split from it are passed over.
    Stop,
}

/// Receives events on one worker thread. An error stops every worker and is the run's error.
pub trait EventSink: Send {
    fn event(&mut self, ev: &Record<'_>, ctx: &EventContext<'_>) -> anyhow::Result<Flow>;
    /// CloudTrail Insights events, kept apart from API events.
    fn insight(&mut self, _ev: &Record<'_>, _ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        Ok(Flow::Continue)
    }
}

/// Counts of what the read did, for every summary. Nothing is dropped without being counted here.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ReadSummary {
    /// Files opened.
    pub files_read: usize,
    /// Files not read, by reason.
    pub skipped_files: BTreeMap<&'static str, usize>,
    /// Files that could not be read completely (I/O error, corrupt gzip, too large).
    pub file_errors: usize,
    /// Records found, duplicates included.
    pub records: usize,
    /// Records dropped as repeated deliveries.
    pub duplicates: usize,
    /// Records kept though their (account, eventID) was read before, because the event differs
    /// (eventSource, eventName or eventTime): not a copy (`event::dedup`).
    pub conflicting_ids: usize,
    /// Records outside `--since`/`--until` (or without a readable `eventTime` while a bound is set).
    pub out_of_range: usize,
    /// Values that were not readable CloudTrail records.
    pub bad_records: usize,
    /// Records read with U+FFFD for a lone surrogate escape in free text (a user agent, request
    /// parameters): read, but not as written.
    pub repaired_records: usize,
    /// CloudTrail Insights events.
    pub insights: usize,
    /// A sink stopped the read before every file was read (`search --limit`, a closed pipe).
    #[serde(skip)]
    pub stopped_early: bool,
    pub bytes_stored: u64,
    pub bytes_decoded: u64,
}

impl ReadSummary {
    /// Adds another run's counts (workers, or batches of one scan).
    pub fn merge(&mut self, o: &ReadSummary) {
        self.files_read += o.files_read;
        for (k, v) in &o.skipped_files {
            *self.skipped_files.entry(k).or_default() += v;
        }
        self.file_errors += o.file_errors;
        self.records += o.records;
        self.duplicates += o.duplicates;
        self.conflicting_ids += o.conflicting_ids;
        self.out_of_range += o.out_of_range;
        self.bad_records += o.bad_records;
        self.repaired_records += o.repaired_records;
        self.insights += o.insights;
        self.bytes_stored += o.bytes_stored;
        self.bytes_decoded += o.bytes_decoded;
    }

    /// Counts what discovery left unread: files skipped by name, paths that could not be walked.
    pub fn add_unread(&mut self, inputs: &Inputs) {
        self.file_errors += inputs.walk_errors;
        for s in &inputs.skipped {
            self.skip(s.reason);
        }
    }

    pub fn skip(&mut self, reason: SkipReason) {
        *self.skipped_files.entry(reason.as_str()).or_default() += 1;
    }

    pub fn skipped_total(&self) -> usize {
        self.skipped_files.values().sum()
    }

    /// True when something could not be read: the run is incomplete.
    pub fn incomplete(&self) -> bool {
        self.file_errors > 0 || self.bad_records > 0 || self.skipped_files.get(SkipReason::NotCloudTrail.as_str()).is_some_and(|n| *n > 0)
    }
}

/// Reads a command's inputs with one sink per worker; returns the sinks and the merged summary,
/// which counts the files skipped by name and the paths that could not be walked too. A sink's
/// error is returned once every worker has stopped.
pub fn run<S, F>(inputs: &Inputs, opts: &ReadOptions, make_sink: F) -> anyhow::Result<(Vec<S>, ReadSummary)>
where
    S: EventSink,
    F: Fn() -> S + Sync,
{
    let (sinks, mut summary) = run_with(&inputs.files, opts, &Deduplicator::new(opts.dedup_window, opts.dedup_capacity), make_sink)?;
    summary.add_unread(inputs);
    Ok((sinks, summary))
}

/// [`run`] with a deduplicator that outlives it, for a run read in batches.
pub fn run_with<S, F>(files: &[InputFile], opts: &ReadOptions, dedup: &Deduplicator, make_sink: F) -> anyhow::Result<(Vec<S>, ReadSummary)>
where
    S: EventSink,
    F: Fn() -> S + Sync,
{
    let next = AtomicUsize::new(0);
    let stop = Stop::default();
    // By bytes when `discover` took the sizes, else by files.
    let (unit, total) = match files.iter().map(|f| f.size).sum() {
        0 => (Unit::Files, files.len() as u64),
        bytes => (Unit::Bytes, bytes),
    };
    let bar = crate::term::progress::bar(opts.progress, unit, total);
    let results: Mutex<Vec<(S, ReadSummary)>> = Mutex::new(Vec::new());
    let threads = opts.threads.clamp(1, files.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut sink = make_sink();
                let mut summary = ReadSummary::default();
                let mut buffers = ReadBuffers::default();
                while !stop.requested() {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    read_file(file, opts, dedup, &mut buffers, &mut sink, &mut summary, &bar, &stop);
                    bar.inc(if unit == Unit::Bytes { file.size.max(1) } else { 1 });
                }
                results.lock().unwrap_or_else(|e| e.into_inner()).push((sink, summary));
            });
        }
    });
    bar.finish_and_clear();
    let mut summary = ReadSummary::default();
    let mut sinks = Vec::new();
    for (sink, s) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        summary.merge(&s);
        sinks.push(sink);
    }
    if let Some(e) = stop.error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    summary.stopped_early = stop.requested.into_inner();
    Ok((sinks, summary))
}

/// Shared by the workers: set once a sink asked to stop or failed (the first error is kept).
#[derive(Default)]
struct Stop {
    requested: AtomicBool,
    error: Mutex<Option<anyhow::Error>>,
}

impl Stop {
    fn requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    /// Acts on what a sink answered; true when reading must stop.
    fn after(&self, answer: anyhow::Result<Flow>) -> bool {
        match answer {
            Ok(Flow::Continue) => false,
            Ok(Flow::Stop) => {
                self.requested.store(true, Ordering::Relaxed);
                true
            }
            Err(e) => {
                self.error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
                self.requested.store(true, Ordering::Relaxed);
                true
            }
        }
    }
}

/// One input, read whole or streamed.
enum Source<'b> {
    Whole(Loaded<'b>),
    Stream(stream::Input),
}

#[allow(clippy::too_many_arguments)]
fn read_file<S: EventSink>(
    file: &InputFile,
    opts: &ReadOptions,
    dedup: &Deduplicator,
    buffers: &mut ReadBuffers,
    sink: &mut S,
    summary: &mut ReadSummary,
    bar: &indicatif::ProgressBar,
    stop: &Stop,
) {
    let say = |msg: String| bar.suspend(|| eprintln!("trailhound: {}: {msg}", crate::term::escape::terminal(&file.name)));
    let opened = match buffers.load(&file.path, file.size, opts.stream_above.min(opts.max_file_bytes)) {
        Ok(Some(loaded)) => Ok(Source::Whole(loaded)),
        Ok(None) => stream::Input::open(&file.path).map(Source::Stream).map_err(ReadError::Io),
        Err(e) => Err(e),
    };
    let source = match opened {
        Ok(source) => source,
        Err(e) => {
            summary.file_errors += 1;
            say(e.to_string());
            return;
        }
    };
    let cut_short = |e: &ReadError| format!("{e}; reading the records before that point");
    // Set when the data ends early (truncated gzip, the cap): the JSON then ends early too.
    let truncated = std::cell::Cell::new(false);
    if let Source::Whole(Loaded { error: Some(e), .. }) = &source {
        truncated.set(matches!(e, ReadError::Gzip { .. }));
        summary.file_errors += 1;
        say(cut_short(e));
    }
    let ctx = EventContext { file };
    // This file's counts, added to `summary` once the file is classified: a file skipped as a
    // whole is counted by its reason, not as read with bad records.
    let mut counts = ReadSummary::default();
    let mut bad = 0usize;
    // Held until the file is classified too: a skipped file gets one message, not many.
    let mut messages: Vec<String> = Vec::new();
    let mut suppressed = 0usize;
    // The first conflicting (account, eventID) of the file: one warning names it.
    let mut conflict: Option<String> = None;
    // Set once any worker's sink stopped the read: the rest of this file is passed over.
    let stopped = std::cell::Cell::new(false);
    let passed_over = || stopped.get() || (stop.requested() && !stopped.replace(true));
    let mut on_item = |item: Item<'_, '_>| match item {
        _ if passed_over() => {}
        Item::Event(r) => {
            counts.records += 1;
            counts.repaired_records += usize::from(r.repaired);
            if let Some(id) = r.event_id.as_deref() {
                let account = r.account().unwrap_or("");
                let fingerprint = fingerprint(r.event_source.as_deref(), r.event_name.as_deref(), r.event_time);
                match dedup.offer(account, id, fingerprint, file.key.delivered) {
                    Seen::First => {}
                    Seen::Copy => {
                        counts.duplicates += 1;
                        return;
                    }
                    Seen::Conflict => {
                        counts.conflicting_ids += 1;
                        conflict.get_or_insert_with(|| format!("{account}/{id}"));
                    }
                }
            }
            if !opts.range.contains(r.event_time) {
                counts.out_of_range += 1;
                return;
            }
            stopped.set(stop.after(sink.event(r, &ctx)));
        }
        Item::Insight(r) => {
            counts.insights += 1;
            counts.repaired_records += usize::from(r.repaired);
            if opts.range.contains(r.event_time) {
                stopped.set(stop.after(sink.insight(r, &ctx)));
            }
        }
        Item::Bad(b) => {
            // The cut of a truncated input was reported already, and is why the JSON ends early.
            if truncated.get() && b.kind == BadKind::EndsEarly {
                return;
            }
            bad += 1;
            if messages.len() < opts.max_messages_per_file {
                messages.push(b.to_string());
            } else {
                suppressed += 1;
            }
        }
    };
    let (result, stored, decoded) = match source {
        Source::Whole(loaded) => (split(loaded.bytes, &mut on_item), loaded.stored_len, loaded.bytes.len() as u64),
        Source::Stream(input) => {
            let limits = StreamOptions { cap: opts.max_file_bytes, chunk: opts.stream_chunk, max_window: window_limit(opts) };
            let s = stream::split_input(input, &limits, &truncated, &stopped, &mut on_item);
            if let Some(e) = &s.error {
                summary.file_errors += 1;
                say(cut_short(e));
            }
            (s.split, s.stored, s.decoded)
        }
    };
    counts.bytes_stored = stored;
    counts.bytes_decoded = decoded;
    match skipped_as(&result) {
        None => {
            counts.files_read = 1;
            counts.bad_records = bad;
            for m in messages {
                say(m);
            }
            if suppressed > 0 {
                say(format!("{suppressed} more bad records not shown"));
            }
            if let Some(first) = conflict {
                let n = counts.conflicting_ids;
                say(format!(
                    "{n} record{} kept as distinct events though their eventID was read before with another eventSource, eventName or eventTime (first: {})",
                    if n == 1 { "" } else { "s" },
                    crate::term::escape::terminal(&first)
                ));
            }
            if counts.repaired_records > 0 {
                let n = counts.repaired_records;
                say(format!(
                    "{n} record{} read with U+FFFD for a lone surrogate escape in free text (user agent, request parameters, …)",
                    if n == 1 { "" } else { "s" }
                ));
            }
        }
        Some((reason, note)) => {
            counts.skip(reason);
            if let Some(note) = note {
                say(note.into());
            }
        }
    }
    summary.merge(&counts);
}

/// Why a file that was opened counts as skipped rather than read, judged from what it held,
/// with what to say about it.
fn skipped_as(split: &Split) -> Option<(SkipReason, Option<&'static str>)> {
    match split.shape {
        Shape::Digest => Some((SkipReason::Digest, None)),
        Shape::Empty => Some((SkipReason::Empty, Some("empty file"))),
        Shape::NotJson => Some((SkipReason::NotCloudTrail, Some("not JSON: skipped"))),
        // JSON, but nothing in it is CloudTrail: a skipped file, not a pile of bad records.
        _ if split.events == 0 && split.insights == 0 && split.foreign > 0 && split.foreign == split.bad => {
            Some((SkipReason::NotCloudTrail, Some("JSON without CloudTrail records: skipped")))
        }
        _ => None,
    }
}

/// The largest window a streamed file may need: one value (a record, a line, a run of non-JSON
/// text) as big as a file that is read whole, and never below two chunks.
fn window_limit(opts: &ReadOptions) -> usize {
    let whole = opts.stream_above.max(crate::source::read::STREAM_ABOVE);
    usize::try_from(whole).unwrap_or(usize::MAX).max(opts.stream_chunk.saturating_mul(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers `Stop` (or an error) at its `at`-th event.
    #[derive(Debug)]
    struct StopAt {
        at: u64,
        seen: u64,
        fail: bool,
    }

    impl EventSink for StopAt {
        fn event(&mut self, _: &Record<'_>, _: &EventContext<'_>) -> anyhow::Result<Flow> {
            self.seen += 1;
            match (self.seen >= self.at, self.fail) {
                (false, _) => Ok(Flow::Continue),
                (true, false) => Ok(Flow::Stop),
                (true, true) => anyhow::bail!("disk full"),
            }
        }
    }

    fn read(at: u64, fail: bool, stream_above: u64) -> anyhow::Result<(Vec<StopAt>, ReadSummary)> {
        let (inputs, errors) =
            crate::source::discover(&["testdata/invictus".into()], TimeRange::default(), crate::source::StatWhen::OnRead);
        assert!(errors.is_empty() && inputs.files.len() > 10);
        for threads in [1, 2] {
            let opts = ReadOptions { threads, stream_above, stream_chunk: 4096, ..ReadOptions::default() };
            let r = run(&inputs, &opts, || StopAt { at, seen: 0, fail });
            if threads == 1 {
                return r;
            }
            // Two workers stop too (each after at most the file in hand).
            let (_, s) = r?;
            assert!(s.stopped_early && s.files_read < inputs.files.len(), "{s:?}");
        }
        unreachable!()
    }

    #[test]
    fn a_sink_that_stops_ends_the_read_after_its_event() {
        for stream_above in [u64::MAX, 0] {
            let (sinks, summary) = read(3, false, stream_above).unwrap();
            assert_eq!(sinks.iter().map(|s| s.seen).sum::<u64>(), 3, "streamed: {}", stream_above == 0);
            assert!(summary.stopped_early);
            assert_eq!(summary.files_read, 1);
        }
        let (_, all) = read(u64::MAX, false, u64::MAX).unwrap();
        assert!(!all.stopped_early && all.files_read > 10);
    }

    #[test]
    fn a_sink_error_is_the_runs_error() {
        let e = read(2, true, u64::MAX).unwrap_err();
        assert_eq!(e.to_string(), "disk full");
    }
}
