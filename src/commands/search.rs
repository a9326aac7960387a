//! `trailhound search PATTERN PATH...`: the events a filter pattern matches, with the context an
//! analyst asks for first (who, from where, with what client, what, with what outcome), or the
//! whole records as JSON lines. Same pattern semantics, reader and time pruning as the rules, so
//! an alarm's own pattern finds what raised it.

use crate::cli::{SearchArgs, SearchFormat};
use crate::event::Record;
use crate::pipeline::{self, EventContext, EventSink, Flow};
use crate::rules::pattern::FilterPattern;
use crate::term::escape::terminal;
use anyhow::Context;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// One table row, kept until the read ends so rows print in time order.
struct Row {
    time: i64,
    cells: [String; 8],
}

struct Shared<'a> {
    pattern: &'a FilterPattern,
    format: SearchFormat,
    limit: u64,
    matched: AtomicU64,
    out: Mutex<std::io::BufWriter<std::io::Stdout>>,
}

struct SearchSink<'a> {
    shared: &'a Shared<'a>,
    rows: Vec<Row>,
    events: u64,
}

fn row(rec: &Record<'_>) -> Row {
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
    Row {
        time: rec.event_time.unwrap_or(i64::MIN),
        cells: [
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
        ],
    }
}

impl EventSink for SearchSink<'_> {
    fn event(&mut self, ev: &Record<'_>, _ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        let s = self.shared;
        self.events += 1;
        if !s.pattern.matches(ev) {
            return Ok(Flow::Continue);
        }
        // Workers race to the limit: matches past it (found at the same moment) are not shown.
        let n = s.matched.fetch_add(1, Ordering::Relaxed);
        if n >= s.limit {
            return Ok(Flow::Stop);
        }
        match s.format {
            SearchFormat::Jsonl => {
                let mut out = s.out.lock().unwrap_or_else(|e| e.into_inner());
                match out.write_all(ev.raw.trim().as_bytes()).and_then(|()| out.write_all(b"\n")) {
                    // A closed pipe (`| head`) is the reader saying it has enough: a normal end.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Flow::Stop),
                    r => r.context("writing to standard output")?,
                }
            }
            SearchFormat::Table => self.rows.push(row(ev)),
            SearchFormat::Count => {}
        }
        Ok(if n + 1 >= s.limit { Flow::Stop } else { Flow::Continue })
    }
}

pub fn run(args: &SearchArgs) -> anyhow::Result<i32> {
    let pattern = FilterPattern::parse(&args.pattern)?;
    let (inputs, opts) = super::prepare_inputs(&args.input, crate::source::StatWhen::OnRead)?;
    let format = args.format.unwrap_or_else(|| {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() { SearchFormat::Table } else { SearchFormat::Jsonl }
    });
    let shared = Shared {
        pattern: &pattern,
        format,
        limit: args.limit.unwrap_or(u64::MAX),
        matched: AtomicU64::new(0),
        out: Mutex::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let (sinks, summary) = pipeline::run(&inputs, &opts, || SearchSink { shared: &shared, rows: Vec::new(), events: 0 })?;
    let events: u64 = sinks.iter().map(|s| s.events).sum();
    let mut rows: Vec<Row> = sinks.into_iter().flat_map(|s| s.rows).collect();
    let matched = shared.matched.load(Ordering::Relaxed);
    match shared.out.lock().unwrap_or_else(|e| e.into_inner()).flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r.context("writing to standard output")?,
    }
    match format {
        SearchFormat::Count => crate::write_stdout(&format!("{}\n", matched.min(shared.limit)))?,
        SearchFormat::Table => {
            rows.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.cells.cmp(&b.cells)));
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header(["time", "account", "region", "principal", "source ip", "client", "event", "error"]);
            for r in &rows {
                t.add_row(r.cells.iter().map(|c| terminal(c).into_owned()));
            }
            crate::write_stdout(&format!("{t}\n"))?;
        }
        SearchFormat::Jsonl => {}
    }
    let shown = matched.min(args.limit.unwrap_or(u64::MAX));
    eprintln!(
        "trailhound: {matched} of {} events match{}; {} files read, {} skipped, {} file errors, {} bad records{}",
        events,
        if shown < matched { format!(" ({shown} shown, --limit)") } else { String::new() },
        summary.files_read,
        summary.skipped_total(),
        summary.file_errors,
        summary.bad_records,
        if summary.stopped_early { "; reading stopped early (--limit reached or output closed)" } else { "" },
    );
    Ok(if summary.incomplete() { super::EXIT_INCOMPLETE } else { 0 })
}
