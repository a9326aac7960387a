//! `trailhound scan`: arguments and output around the engine (`crate::engine`).

use crate::alert::sink::{AlertSink, JsonlSink, Output, TableSink};
use crate::cli::{AlertFormat, ScanArgs};
use crate::engine;

/// Runs a scan from the command line.
pub fn run(args: &ScanArgs) -> anyhow::Result<i32> {
    let (mut cfg, mut store) = super::open_state(&args.state)?;
    let (inputs, opts) = super::prepare_inputs(&args.input, crate::source::StatWhen::Now)?;
    if let Some(url) = &args.webhook {
        let mut hook = cfg.alerts.webhook.clone().unwrap_or_else(|| crate::alert::webhook::WebhookConfig::new(url));
        hook.url = url.clone();
        cfg.alerts.webhook = Some(hook);
    }
    let format = args.format.unwrap_or_else(|| {
        use std::io::IsTerminal;
        if args.output.is_none() && std::io::stdout().is_terminal() { AlertFormat::Table } else { AlertFormat::Jsonl }
    });
    let writer = match &args.output {
        Some(p) => Output::append(p)?,
        None => Output::Stdout(std::io::stdout()),
    };
    let mut primary: Box<dyn AlertSink> = match format {
        AlertFormat::Jsonl => Box::new(JsonlSink::new(writer)),
        AlertFormat::Table => Box::new(TableSink::new(writer)),
    };
    let mut delivery = crate::alert::sink::configured(&cfg.alerts)?;
    let detectors = super::detectors(&cfg)?;
    let outcome = {
        let mut sinks: Vec<&mut dyn AlertSink> = vec![primary.as_mut()];
        sinks.extend(delivery.iter_mut().map(|s| s.as_mut() as &mut dyn AlertSink));
        let mode = engine::Mode { learn: args.learn, reread: args.reread };
        engine::run(store.as_mut(), &detectors, &inputs, &opts, mode, &mut sinks)?
    };
    let mut reports = Vec::new();
    for s in std::iter::once(&mut primary).chain(delivery.iter_mut()) {
        reports.extend(s.finish()?);
    }
    eprintln!("{}", outcome.line(args.learn, store.path()));
    for r in reports {
        eprintln!("trailhound: {r}");
    }
    Ok(if outcome.read.incomplete() { super::EXIT_INCOMPLETE } else { 0 })
}
