//! `trailhound scan` (and `baseline learn`): read logs, apply first-seen detection to the state
//! store file batch by file batch, deliver alerts.

use crate::alert::Alert;
use crate::alert::sink::{AlertSink, JsonlSink, TableSink};
use crate::alert::webhook::WebhookSink;
use crate::cli::{AlertFormat, ScanArgs, StateArgs};
use crate::config::Config;
use crate::detect::Detectors;
use crate::detect::first_seen::ApplyStats;
use crate::pipeline::{self, ReadOptions, ReadSummary};
use crate::source::InputFile;
use crate::store::Store;
use anyhow::Context;
use std::path::Path;

/// A batch is applied and committed once it holds this many files or stored bytes: memory stays
/// bounded by the batch's distinct keys, and a killed run loses at most one batch of work (a
/// few seconds of reading). Applying costs a store read and write per distinct key whatever
/// the batch's size, so small batches pay it again and again for the same keys.
pub const BATCH_FILES: usize = 10_000;
pub const BATCH_BYTES: u64 = 256 << 20;

/// What a scan did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ScanOutcome {
    pub read: ReadSummary,
    /// Files not read because the store says they were processed.
    pub already_processed: usize,
    /// Events read (after deduplication and time filtering).
    pub events_read: u64,
    /// Events first-seen learned from.
    pub events: u64,
    /// Events first-seen did not learn (skipped principals, user agents, event types).
    pub skipped_events: u64,
    pub events_without_time: u64,
    /// New alerts raised in this run, by detector.
    pub alerts: std::collections::BTreeMap<String, u64>,
    /// Alarm evaluation: datapoints, series, transitions.
    pub alarms: crate::rules::alarm::AlarmApplyStats,
    pub apply: ApplyStats,
    /// Alerts delivered in this run (including any left undelivered by an earlier, killed run).
    pub delivered: u64,
}

/// Opens the config and the store named by `--state`, the config, or the per-user default.
pub fn open_state(args: &StateArgs) -> anyhow::Result<(Config, Store)> {
    let cfg = Config::load(args.config.as_deref())?;
    let path = match (&args.state, &cfg.store.path) {
        (Some(p), _) | (None, Some(p)) => p.clone(),
        (None, None) => crate::store::default_path()?,
    };
    let store = if path.as_os_str() == ":memory:" { Store::open_in_memory()? } else { Store::open(&path)? };
    Ok((cfg, store))
}

/// A file's identity in the processed-files table: absolute path, size, modification time (ms).
type FileIdentity = (String, u64, i64);

fn file_identity(f: &InputFile, cwd: &Path) -> Option<FileIdentity> {
    if f.name == "<stdin>" {
        return None;
    }
    let mtime = f.mtime?;
    // Absolute, not canonical: resolving every component costs a syscall each, per file.
    let path = match (f.path.to_str(), cwd.to_str()) {
        (Some(p), _) if f.path.is_absolute() => p.to_string(),
        // What `join` then `display` give, without their per-component work.
        (Some(p), Some(c)) => [c.trim_end_matches('/'), "/", p].concat(),
        _ => cwd.join(&f.path).display().to_string(),
    };
    Some((path, f.size, mtime))
}

/// Delivers alerts waiting in the store's outbox to every sink, then marks them delivered.
fn deliver(store: &mut Store, sinks: &mut [&mut dyn AlertSink]) -> anyhow::Result<u64> {
    let pending = store.undelivered_alerts()?;
    let mut ids = Vec::with_capacity(pending.len());
    for (id, body) in pending {
        match serde_json::from_str::<Alert>(&body) {
            Ok(alert) => {
                for s in sinks.iter_mut() {
                    s.send(&alert)?;
                }
            }
            Err(e) => eprintln!("trailhound: stored alert {id} is unreadable ({e}); dropping it"),
        }
        ids.push(id);
    }
    store.mark_delivered(&ids)?;
    Ok(ids.len() as u64)
}

/// Reads `files` batch by batch; each batch's observations, its files' processed rows and the
/// alerts it raised commit in one transaction, then the alerts are delivered.
pub fn scan_files(
    store: &mut Store,
    detectors: &Detectors,
    files: &[InputFile],
    opts: &ReadOptions,
    learn: bool,
    reread: bool,
    sinks: &mut [&mut dyn AlertSink],
) -> anyhow::Result<ScanOutcome> {
    let mut out = ScanOutcome { delivered: deliver(store, sinks)?, ..Default::default() };
    let cwd = std::env::current_dir().context("reading the current directory")?;
    // Identities are taken before reading: a file that changes while being read is read again.
    let ids: Vec<Option<FileIdentity>> = files.iter().map(|f| file_identity(f, &cwd)).collect();
    let known: Vec<(&str, u64, i64)> = ids.iter().flatten().map(|(p, s, m)| (p.as_str(), *s, *m)).collect();
    let mut done = store.files_done(&known)?.into_iter();
    let done: Vec<bool> = ids.iter().map(|id| id.is_some() && done.next() == Some(true)).collect();
    drop(known);
    let mut todo: Vec<(&InputFile, Option<FileIdentity>)> = Vec::new();
    for ((f, id), done) in files.iter().zip(ids).zip(done) {
        if done && !reread {
            out.already_processed += 1;
            continue;
        }
        todo.push((f, id));
    }
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
                let (workers, summary) = pipeline::run_with(&batch, &[], opts, dedup, || detectors.sink());
                let sink = workers.into_iter().reduce(|a, b| a.merge(b)).unwrap_or_else(|| detectors.sink());
                if send.send((range, sink, summary)).is_err() {
                    break; // applying failed; the error is on its way out
                }
            }
        });
        for (range, sink, summary) in read {
            apply_batch(store, detectors, sink, &summary, &todo[range], opts, learn, &mut out)?;
            out.delivered += deliver(store, sinks)?;
            out.read.merge(&summary);
        }
        Ok(())
    })?;
    Ok(out)
}

/// Commits one batch: its observations, alerts and (when it was read whole and without file
/// errors) its files' processed rows, in one transaction.
#[allow(clippy::too_many_arguments)]
fn apply_batch(
    store: &mut Store,
    detectors: &Detectors,
    sink: crate::detect::run::BatchSink<'_>,
    summary: &ReadSummary,
    files: &[(&InputFile, Option<FileIdentity>)],
    opts: &ReadOptions,
    learn: bool,
    out: &mut ScanOutcome,
) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now().as_millisecond();
    let tx = store.transaction()?;
    let applied = detectors.apply(sink, &tx, learn, now)?;
    // A batch with unreadable input is applied (what was read is valid) but its files are not
    // marked done, so a later run reads them again; baselines are idempotent under rereads.
    // A file read through --since/--until was only partly applied: it is not done either.
    let whole_files = opts.range.since.is_none() && opts.range.until.is_none();
    if summary.file_errors == 0 && whole_files {
        tx.mark_files(files.iter().filter_map(|(_, id)| id.as_ref().map(|(p, size, mtime)| (p.as_str(), *size, *mtime))), now)?;
    }
    tx.commit()?;
    out.events_read += applied.events;
    out.events += applied.learned;
    out.skipped_events += applied.skipped;
    out.events_without_time += applied.without_time;
    for (k, v) in &applied.alerts {
        *out.alerts.entry(k.clone()).or_default() += v;
    }
    let a = &applied.alarms;
    out.alarms.points += a.points;
    out.alarms.already_counted += a.already_counted;
    out.alarms.series_evaluated += a.series_evaluated;
    out.alarms.transitions += a.transitions;
    out.alarms.alerts += a.alerts;
    out.alarms.metrics.add(&a.metrics);
    let stats = applied.first_seen;
    out.apply.new_keys += stats.new_keys;
    out.apply.alerts += stats.alerts;
    for (k, v) in stats.suppressed {
        *out.apply.suppressed.entry(k).or_default() += v;
    }
    Ok(())
}

/// Runs a scan from the command line.
pub fn run(args: &ScanArgs) -> anyhow::Result<i32> {
    let (mut cfg, mut store) = open_state(&args.state)?;
    let (files, skipped, opts, walk_errors) = super::prepare_inputs(&args.input, crate::source::Stat::Now)?;
    if let Some(url) = &args.webhook {
        let mut hook = cfg.alerts.webhook.clone().unwrap_or(crate::config::WebhookConfig {
            url: String::new(),
            attempts: 5,
            timeout_secs: 10,
            queue: 1000,
        });
        hook.url = url.clone();
        cfg.alerts.webhook = Some(hook);
    }
    let format = args.format.unwrap_or_else(|| {
        use std::io::IsTerminal;
        if args.output.is_none() && std::io::stdout().is_terminal() { AlertFormat::Table } else { AlertFormat::Jsonl }
    });
    let writer: Box<dyn std::io::Write> = match &args.output {
        Some(p) => Box::new(open_append(p)?),
        None => Box::new(std::io::stdout()),
    };
    let mut primary: Box<dyn AlertSink> = match format {
        AlertFormat::Jsonl => Box::new(JsonlSink::new(writer)),
        AlertFormat::Table => Box::new(TableSink::new(writer)),
    };
    let mut hook = cfg.alerts.webhook.as_ref().map(WebhookSink::start).transpose()?;
    let detectors = Detectors::from_config(&cfg)?;
    for i in &detectors.inactive {
        eprintln!("trailhound: {} is inactive until [rules.params] {} is set", i.what, i.param);
    }
    let outcome = {
        let mut sinks: Vec<&mut dyn AlertSink> = vec![primary.as_mut()];
        if let Some(h) = hook.as_mut() {
            sinks.push(h);
        }
        scan_files(&mut store, &detectors, &files, &opts, args.learn, args.reread, &mut sinks)?
    };
    primary.finish()?;
    let hook_stats = hook.map(WebhookSink::close);
    let mut read = outcome.read.clone();
    read.file_errors += walk_errors;
    for s in &skipped {
        read.skip(s.reason);
    }
    report(&outcome, &read, args.learn, store.path());
    if let Some(h) = hook_stats {
        eprintln!("trailhound: webhook: {} delivered, {} failed, {} dropped", h.delivered, h.failed, h.dropped);
    }
    Ok(if read.incomplete() { super::EXIT_INCOMPLETE } else { 0 })
}

fn open_append(p: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new().create(true).append(true).open(p).with_context(|| format!("opening {}", p.display()))
}

/// One summary line on stderr: what was read, learned and raised.
pub fn report(o: &ScanOutcome, read: &ReadSummary, learn: bool, state: Option<&Path>) {
    let suppressed: Vec<String> = o.apply.suppressed.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let by_detector: Vec<String> = o.alerts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let m = &o.alarms.metrics;
    let unpublished =
        [("no metric value", m.no_value), ("no dimension value", m.no_dimension), ("over the series cap", m.over_cardinality)];
    let unpublished: Vec<String> = unpublished.iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{n} {k}")).collect();
    eprintln!(
        "trailhound: {} files read, {} already processed, {} skipped, {} file errors, {} bad records; {} events read, {} learned ({} skipped, {} without time); {} new baseline keys; {} alerts{}{}{}{}{}",
        read.files_read,
        o.already_processed,
        read.skipped_total(),
        read.file_errors,
        read.bad_records,
        o.events_read,
        o.events,
        o.skipped_events,
        o.events_without_time,
        o.apply.new_keys,
        o.delivered,
        if by_detector.is_empty() { String::new() } else { format!(" (new: {})", by_detector.join(", ")) },
        if unpublished.is_empty() { String::new() } else { format!("; metric matches not published: {}", unpublished.join(", ")) },
        if learn { " (learning: first-seen raises none)" } else { "" },
        if suppressed.is_empty() || learn { String::new() } else { format!("; not alerted: {}", suppressed.join(", ")) },
        state.map(|p| format!("; state {}", crate::report::escape::terminal(&p.display().to_string()))).unwrap_or_default(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::first_seen::tests::{cfg, rec};

    fn write(dir: &Path, name: &str, records: &[String]) {
        std::fs::write(dir.join(name), format!("{{\"Records\":[{}]}}", records.join(","))).unwrap();
    }

    #[test]
    fn alerts_raised_by_a_killed_run_are_delivered_once_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let det = Detectors::baselines_only(&crate::config::Config { first_seen: cfg(0), ..Default::default() });
        let mut store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        write(&logs, "a.json", &[rec(0.0, "user:111:alice", "s3:GetObject", "us-east-1", None)]);
        let files = |p: &Path| crate::source::discover(&[p.to_path_buf()], Default::default(), crate::source::Stat::Now).0;
        let opts = ReadOptions { threads: 1, ..ReadOptions::default() };
        let mut got: Vec<Alert> = Vec::new();
        scan_files(&mut store, &det, &files(&logs), &opts, true, false, &mut [&mut got]).unwrap();
        assert!(got.is_empty());

        // A run killed after its commit but before delivery leaves alerts in the outbox.
        write(&logs, "b.json", &[rec(1.0, "user:111:alice", "iam:CreateUser", "us-east-1", None)]);
        let mut failing = FailingSink;
        assert!(scan_files(&mut store, &det, &files(&logs), &opts, false, false, &mut [&mut failing]).is_err());
        let out = scan_files(&mut store, &det, &files(&logs), &opts, false, false, &mut [&mut got]).unwrap();
        assert_eq!(out.already_processed, 2);
        assert_eq!(out.delivered, 1);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event_name.as_deref(), Some("CreateUser"));
        let out = scan_files(&mut store, &det, &files(&logs), &opts, false, true, &mut [&mut got]).unwrap();
        assert_eq!((out.delivered, got.len()), (0, 1), "a reread raises nothing new");
    }

    struct FailingSink;

    impl AlertSink for FailingSink {
        fn send(&mut self, _: &Alert) -> anyhow::Result<()> {
            anyhow::bail!("killed")
        }
    }
}
