//! `trailhound search PATTERN PATH...`: the events a filter pattern matches, with the context an
//! analyst asks for first (who, from where, with what client, what, with what outcome), or the
//! whole records as JSON. Same pattern semantics, reader and time pruning as the rules, so an
//! alarm's own pattern finds what raised it.
//!
//! Reading is parallel, so "the first N" is defined by the data, not by which worker was
//! quickest: `--limit N` keeps the N matches earliest by (eventTime, file, position in the file)
//! in a bounded heap per worker. The N earliest can sit in any file (delivery lags, exports have
//! no order), so every file is read; only `--format count` and a closed pipe stop early.

use crate::cli::SearchArgs;
use crate::event::Record;
use crate::pipeline::{self, EventContext, EventSink, Flow};
use crate::report::OutputFormat;
use crate::rules::pattern::FilterPattern;
use crate::term::escape::terminal;
use anyhow::Context;
use std::collections::BinaryHeap;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a match sits: events without a time sort last.
type Key = (i64, String, u64);

/// What is kept of a match until the read ends.
enum Kept {
    Row([String; 8]),
    Raw(String),
}

struct Match {
    key: Key,
    kept: Kept,
}

impl PartialEq for Match {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl Eq for Match {}
impl PartialOrd for Match {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Match {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key.cmp(&o.key)
    }
}

struct Shared<'a> {
    pattern: &'a FilterPattern,
    format: OutputFormat,
    limit: Option<usize>,
    matched: AtomicU64,
    /// Without --limit, records are written as they are found (in read order).
    out: Mutex<(crate::Stdout, bool)>,
}

struct SearchSink<'a> {
    shared: &'a Shared<'a>,
    /// With --limit: the worker's earliest matches (a max-heap, so the latest is dropped first).
    /// Without: every table row.
    kept: BinaryHeap<Match>,
    events: u64,
    /// The file being read and how many of its events this worker has seen.
    file: String,
    seq: u64,
}

fn row(rec: &Record<'_>) -> [String; 8] {
    let text = |t: &Option<std::borrow::Cow<'_, str>>| t.as_deref().unwrap_or("-").to_string();
    let p = rec.user_identity.principal();
    let agent = rec.user_agent.as_deref().unwrap_or("");
    let short: String = agent.chars().take(40).collect();
    let agent = if agent.is_empty() {
        "-".to_string()
    } else {
        format!("{} {short}{}", crate::report::agent::kind(agent), if agent.chars().count() > 40 { "…" } else { "" })
    };
    let principal = match &p.session {
        Some(s) if !s.is_empty() => format!("{} ({s})", p.id),
        _ => p.id.clone(),
    };
    [
        rec.event_time.map_or_else(|| "-".into(), crate::event::time::format_millis),
        rec.account().unwrap_or("-").to_string(),
        text(&rec.aws_region),
        principal,
        text(&rec.source_ip),
        agent,
        format!(
            "{}:{}",
            rec.event_source.as_deref().unwrap_or("-").trim_end_matches(".amazonaws.com"),
            rec.event_name.as_deref().unwrap_or("-")
        ),
        text(&rec.error_code),
    ]
}

impl SearchSink<'_> {
    /// Writes one record now (no --limit, JSON forms); `Stop` once the reader has gone.
    fn write(&self, raw: &str) -> anyhow::Result<Flow> {
        let mut guard = self.shared.out.lock().unwrap_or_else(|e| e.into_inner());
        let (out, first) = &mut *guard;
        let sep: &[u8] = match (self.shared.format, *first) {
            (OutputFormat::Json, true) => b"[\n",
            (OutputFormat::Json, false) => b",\n",
            _ => b"",
        };
        *first = false;
        let end: &[u8] = if self.shared.format == OutputFormat::Jsonl { b"\n" } else { b"" };
        out.write_all(sep)
            .and_then(|()| out.write_all(raw.trim().as_bytes()))
            .and_then(|()| out.write_all(end))
            .context("writing to standard output")?;
        // A closed pipe (`| head`) is the reader saying it has enough: a normal end.
        Ok(if out.closed() { Flow::Stop } else { Flow::Continue })
    }
}

impl EventSink for SearchSink<'_> {
    fn event(&mut self, ev: &Record<'_>, ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        let s = self.shared;
        self.events += 1;
        if self.file != ctx.file.name {
            self.file.clone_from(&ctx.file.name);
            self.seq = 0;
        }
        self.seq += 1;
        if !s.pattern.matches(ev) {
            return Ok(Flow::Continue);
        }
        let n = s.matched.fetch_add(1, Ordering::Relaxed) + 1;
        if s.format == OutputFormat::Count {
            // Any N matches make the same count: stopping here is sound.
            return Ok(if s.limit.is_some_and(|l| n >= l as u64) { Flow::Stop } else { Flow::Continue });
        }
        let key = (ev.event_time.unwrap_or(i64::MAX), self.file.clone(), self.seq);
        if let Some(limit) = s.limit {
            if self.kept.len() >= limit && self.kept.peek().is_some_and(|m| key >= m.key) {
                return Ok(Flow::Continue);
            }
        } else if s.format != OutputFormat::Table {
            return self.write(ev.raw);
        }
        let kept = if s.format == OutputFormat::Table { Kept::Row(row(ev)) } else { Kept::Raw(ev.raw.trim().to_string()) };
        self.kept.push(Match { key, kept });
        if s.limit.is_some_and(|l| self.kept.len() > l) {
            self.kept.pop();
        }
        Ok(Flow::Continue)
    }
}

pub fn run(args: &SearchArgs) -> anyhow::Result<i32> {
    let pattern = FilterPattern::parse(&args.pattern)?;
    let (inputs, opts) = super::prepare_inputs(&args.input, crate::source::StatWhen::OnRead)?;
    let format = OutputFormat::resolve(args.format, OutputFormat::Jsonl);
    let limit = args.limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let shared = Shared { pattern: &pattern, format, limit, matched: AtomicU64::new(0), out: Mutex::new((crate::Stdout::new(), true)) };
    let make = || SearchSink { shared: &shared, kept: BinaryHeap::new(), events: 0, file: String::new(), seq: 0 };
    let (sinks, summary) = pipeline::run(&inputs, &opts, make)?;
    let events: u64 = sinks.iter().map(|s| s.events).sum();
    let mut kept: Vec<Match> = sinks.into_iter().flat_map(|s| s.kept).collect();
    kept.sort();
    kept.truncate(limit.unwrap_or(usize::MAX));
    let matched = shared.matched.load(Ordering::Relaxed);
    let (mut out, first) = shared.out.into_inner().unwrap_or_else(|e| e.into_inner());
    match format {
        OutputFormat::Count => writeln!(out, "{}", limit.map_or(matched, |l| matched.min(l as u64)))?,
        OutputFormat::Table => out.write_all(table(&kept).as_bytes())?,
        OutputFormat::Jsonl => {
            for m in &kept {
                if let Kept::Raw(r) = &m.kept {
                    writeln!(out, "{r}")?;
                }
            }
        }
        OutputFormat::Json => {
            let raws: Vec<&str> = kept.iter().filter_map(|m| if let Kept::Raw(r) = &m.kept { Some(r.as_str()) } else { None }).collect();
            let text = match (raws.is_empty(), first) {
                // Records were streamed (no --limit): the array is open.
                (true, false) => "\n]\n".to_string(),
                (true, true) => "[]\n".to_string(),
                (false, _) => format!("[\n{}\n]\n", raws.join(",\n")),
            };
            out.write_all(text.as_bytes())?;
        }
    }
    out.flush().context("writing to standard output")?;
    let shown = limit.map_or(matched, |l| matched.min(l as u64));
    eprintln!(
        "trailhound: {matched} of {} events match{}; {} files read, {} skipped{}, {} file errors, {} bad records{}",
        events,
        if shown < matched { format!(" ({shown} earliest shown, --limit)") } else { String::new() },
        summary.files_read,
        summary.skipped_total(),
        crate::engine::skipped_files(&summary),
        summary.file_errors,
        summary.bad_records,
        if summary.stopped_early { "; reading stopped early (--limit reached for a count, or output closed)" } else { "" },
    );
    if matched == 0 {
        for hint in super::search_hint::hints(&args.pattern, &inputs, &opts)? {
            eprintln!("trailhound: hint: {hint}");
        }
    }
    Ok(if summary.incomplete() { super::EXIT_INCOMPLETE } else { 0 })
}

/// The kept rows in time order.
fn table(kept: &[Match]) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["time", "account", "region", "principal", "source ip", "client", "event", "error"]);
    for m in kept {
        if let Kept::Row(cells) = &m.kept {
            t.add_row(cells.iter().map(|c| terminal(c).into_owned()));
        }
    }
    format!("{t}\n")
}
