//! `trailhound scan`: arguments and output around the engine (`crate::engine`).

use crate::alert::sink::{AlertSink, JsonlSink, Output, TableSink};
use crate::cli::ScanArgs;
use crate::engine;
use crate::report::OutputFormat;

/// Exit status of `scan --fail-on-alert` when the run raised alerts.
pub const EXIT_ALERTS: i32 = 4;

/// Runs a scan from the command line.
pub fn run(args: &ScanArgs) -> anyhow::Result<i32> {
    let (mut cfg, mut store) = super::open_state(&args.state)?;
    let config = super::ConfigFingerprint::of(args.state.config.as_deref())?;
    let config_changed = config.changed(store.as_ref())?;
    let (inputs, opts) = super::prepare_inputs(&args.input, crate::source::StatWhen::Now)?;
    if let Some(url) = &args.webhook {
        let mut hook = cfg.alerts.webhook.clone().unwrap_or_else(|| crate::alert::webhook::WebhookConfig::new(url));
        hook.url = url.clone();
        cfg.alerts.webhook = Some(hook);
    }
    let format = if args.output.is_some() {
        args.format.unwrap_or(OutputFormat::Jsonl)
    } else {
        OutputFormat::resolve(args.format, OutputFormat::Jsonl)
    };
    let writer = match &args.output {
        Some(p) => Output::append(p)?,
        None => Output::Stdout(std::io::stdout()),
    };
    let mut primary: Box<dyn AlertSink> = match format {
        OutputFormat::Table => Box::new(TableSink::new(writer)),
        _ => Box::new(JsonlSink::new(writer)),
    };
    let mut delivery = crate::alert::sink::configured(&cfg.alerts)?;
    let detectors = super::detectors(&cfg)?;
    let outcome = {
        let mut sinks: Vec<&mut dyn AlertSink> = vec![primary.as_mut()];
        sinks.extend(delivery.iter_mut().map(|s| s.as_mut() as &mut dyn AlertSink));
        let mode = engine::Mode { learn: args.learn, reread: args.reread };
        engine::run(store.as_mut(), &detectors, &inputs, &opts, mode, &mut sinks)?
    };
    config.remember(store.as_mut())?;
    let mut reports = Vec::new();
    for s in std::iter::once(&mut primary).chain(delivery.iter_mut()) {
        reports.extend(s.finish()?);
    }
    eprintln!("{}", outcome.line(args.learn, store.path()));
    for r in reports {
        eprintln!("trailhound: {r}");
    }
    if config_changed && outcome.already_processed > 0 {
        eprintln!(
            "trailhound: note: the config changed after the last scan, but {} files were processed before the change and were not read again: the new config applies to new deliveries only. To run it over them too, add --reread (alerts already raised are not raised twice; baselines do not double)",
            outcome.already_processed
        );
    }
    Ok(if outcome.read.incomplete() {
        super::EXIT_INCOMPLETE
    } else if args.fail_on_alert && outcome.delivered > 0 {
        EXIT_ALERTS
    } else {
        0
    })
}
