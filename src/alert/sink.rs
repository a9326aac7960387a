//! Where alerts go: JSON lines (one alert per line), a table for people, a webhook.

use super::Alert;
use crate::term::escape::terminal;
use std::io::Write;

/// Receives alerts as they are raised.
pub trait AlertSink {
    fn send(&mut self, alert: &Alert) -> anyhow::Result<()>;
    /// Flushes what is buffered (tables render here) and waits for deliveries in flight; returns
    /// a line for the run's summary when the sink has something to report.
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
    fn send(&mut self, alert: &Alert) -> anyhow::Result<()> {
        self.push(alert.clone());
        Ok(())
    }
}

/// One JSON object per line, flushed per alert so a reader sees it at once.
pub struct JsonlSink<W: Write> {
    out: W,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W) -> Self {
        JsonlSink { out }
    }
}

impl<W: Write> AlertSink for JsonlSink<W> {
    fn send(&mut self, alert: &Alert) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(alert)?;
        line.push(b'\n');
        write_ignoring_closed_pipe(&mut self.out, &line)
    }
}

fn write_ignoring_closed_pipe<W: Write>(out: &mut W, bytes: &[u8]) -> anyhow::Result<()> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// A table for people; every attacker-controlled cell is escaped for the terminal.
pub struct TableSink<W: Write> {
    out: W,
    rows: Vec<Vec<String>>,
}

impl<W: Write> TableSink<W> {
    pub fn new(out: W) -> Self {
        TableSink { out, rows: Vec::new() }
    }
}

impl<W: Write> AlertSink for TableSink<W> {
    fn send(&mut self, a: &Alert) -> anyhow::Result<()> {
        let e = |s: Option<&str>| terminal(s.unwrap_or("-")).into_owned();
        self.rows.push(vec![
            e(a.event_time.as_deref()),
            format!("{:?}", a.severity).to_lowercase(),
            e(Some(&a.kind)),
            e(a.principal.as_deref()),
            e(a.region.as_deref()),
            e(Some(&a.title)),
            e(a.source_ip.as_deref()),
        ]);
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<Option<String>> {
        let text = if self.rows.is_empty() {
            "no alerts\n".to_string()
        } else {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            t.set_header(["time", "severity", "kind", "principal", "region", "what", "source ip"]);
            for r in self.rows.drain(..) {
                t.add_row(r);
            }
            format!("{t}\n")
        };
        write_ignoring_closed_pipe(&mut self.out, text.as_bytes())?;
        Ok(None)
    }
}
