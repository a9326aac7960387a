//! Where alerts go: JSON lines (one alert per line), a table for people, a webhook.

use super::Alert;
use crate::term::escape::terminal;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Receives alerts from the store's outbox. A stream (JSON lines, a table) has taken an alert
/// once `send` returns; a receiver that confirms each alert itself (a webhook) names the
/// outbox it keeps in the store ([`AlertSink::confirms`]) and reports what it confirmed.
pub trait AlertSink {
    /// `json` is the alert's stored body, the exact line every delivery of it sends.
    fn send(&mut self, alert: &Alert, json: &str) -> anyhow::Result<()>;
    /// The sink's name in the store's delivery table, for a sink that confirms each alert; its
    /// alerts count as delivered only once it lists them in [`AlertSink::confirmed`].
    fn confirms(&self) -> Option<&'static str> {
        None
    }
    /// Ids confirmed since the last call.
    fn confirmed(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// Waits until something it was given is settled (confirmed or given up on for this run);
    /// false once it has nothing left in hand or its time for this run is up.
    fn wait(&mut self) -> bool {
        false
    }
    /// Flushes what is buffered (tables render here) and lets go of deliveries still in flight
    /// (they stay pending in the store); returns a line for the run's summary when the sink has
    /// something to report.
    fn finish(&mut self) -> anyhow::Result<Option<String>> {
        Ok(None)
    }
}

/// The delivery sinks `[alerts]` configures, started (a webhook's sender thread runs from here).
pub fn configured(cfg: &super::AlertsConfig) -> anyhow::Result<Vec<Box<dyn AlertSink>>> {
    let mut sinks: Vec<Box<dyn AlertSink>> = Vec::new();
    if let Some(hook) = &cfg.webhook {
        sinks.push(Box::new(super::webhook::WebhookSink::start(hook)?));
    }
    Ok(sinks)
}

/// Collects alerts in memory (tests, embedding).
impl AlertSink for Vec<Alert> {
    fn send(&mut self, alert: &Alert, _: &str) -> anyhow::Result<()> {
        self.push(alert.clone());
        Ok(())
    }
}

/// Where the stream of alerts is written: standard output or `--output FILE`, named in errors.
pub enum Output {
    Stdout(std::io::Stdout),
    /// A file opened for appending; `whole` is its length up to the last whole line written.
    File {
        file: std::fs::File,
        path: PathBuf,
        whole: u64,
    },
}

impl Output {
    /// `--output FILE`, opened for appending (created if missing).
    pub fn append(path: &std::path::Path) -> anyhow::Result<Output> {
        let file =
            std::fs::OpenOptions::new().create(true).append(true).open(path).with_context(|| format!("opening {}", path.display()))?;
        let whole = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Output::File { file, path: path.to_path_buf(), whole })
    }

    /// Writes `bytes` (whole lines) and flushes. A failed write to a file is cut back to the last
    /// whole line, so a reader never meets half an alert (the alert stays undelivered and is
    /// written again by the next run); a closed stdout pipe is where a reader stopped, not an
    /// error.
    pub fn write_lines(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        match self {
            Output::Stdout(out) => match out.write_all(bytes).and_then(|()| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.context("writing alerts to standard output"),
            },
            Output::File { file, path, whole } => match file.write_all(bytes).and_then(|()| file.flush()) {
                Ok(()) => {
                    *whole += bytes.len() as u64;
                    Ok(())
                }
                Err(e) => {
                    // Best effort: a device (`/dev/full`) has no length to cut back to.
                    let _ = file.set_len(*whole);
                    Err(e).with_context(|| format!("writing alerts to {}", terminal(&path.display().to_string())))
                }
            },
        }
    }
}

/// One JSON object per line, flushed per alert so a reader sees it at once. The line is the
/// stored body byte for byte, so an alert written again (a run killed before it marked the
/// alert delivered) is an exact copy a reader can drop by its `id`.
pub struct JsonlSink {
    out: Output,
}

impl JsonlSink {
    pub fn new(out: Output) -> Self {
        JsonlSink { out }
    }
}

impl AlertSink for JsonlSink {
    fn send(&mut self, _: &Alert, json: &str) -> anyhow::Result<()> {
        let mut line = Vec::with_capacity(json.len() + 1);
        line.extend_from_slice(json.as_bytes());
        line.push(b'\n');
        self.out.write_lines(&line)
    }
}

/// A table for people; every attacker-controlled cell is escaped for the terminal.
pub struct TableSink {
    out: Output,
    /// `(event time, severity, cells)`: sorted by time when the table is drawn.
    rows: Vec<(String, super::Severity, Vec<String>)>,
    colour: bool,
}

impl TableSink {
    /// Severity is coloured only on a terminal's standard output, and never under `NO_COLOR`.
    pub fn new(out: Output) -> Self {
        let colour = matches!(out, Output::Stdout(_)) && crate::term::colour::stdout();
        TableSink { out, rows: Vec::new(), colour }
    }
}

fn severity_colour(s: super::Severity) -> Option<comfy_table::Color> {
    use super::Severity::*;
    match s {
        Critical => Some(comfy_table::Color::Magenta),
        High => Some(comfy_table::Color::Red),
        Medium => Some(comfy_table::Color::Yellow),
        Low | Info => None,
    }
}

impl AlertSink for TableSink {
    fn send(&mut self, a: &Alert, _: &str) -> anyhow::Result<()> {
        let e = |s: Option<&str>| terminal(s.unwrap_or("-")).into_owned();
        let cells = vec![
            e(a.event_time.as_deref()),
            format!("{:?}", a.severity).to_lowercase(),
            e(Some(&a.kind)),
            e(a.principal.as_deref()),
            e(a.region.as_deref()),
            e(Some(&a.title)),
            e(a.source_ip.as_deref()),
        ];
        self.rows.push((a.event_time.clone().unwrap_or_default(), a.severity, cells));
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<Option<String>> {
        let text = if self.rows.is_empty() {
            "no alerts\n".to_string()
        } else {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header(["time", "severity", "kind", "principal", "region", "what", "source ip"]);
            // RFC 3339 UTC times of one form sort as text; the stable sort keeps raising order.
            self.rows.sort_by(|a, b| a.0.cmp(&b.0));
            for (_, severity, cells) in self.rows.drain(..) {
                let colour = severity_colour(severity).filter(|_| self.colour);
                t.add_row(cells.into_iter().enumerate().map(|(i, c)| match colour {
                    Some(fg) if i == 1 => comfy_table::Cell::new(c).fg(fg),
                    _ => comfy_table::Cell::new(c),
                }));
            }
            format!("{t}\n")
        };
        self.out.write_lines(text.as_bytes())?;
        Ok(None)
    }
}
