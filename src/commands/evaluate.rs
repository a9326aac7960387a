//! `trailhound evaluate`.

use crate::cli::{EvaluateArgs, InputArgs};
use crate::evaluate::{self, scan, score};
use crate::report::Format;
use anyhow::bail;

pub fn run(args: &EvaluateArgs) -> anyhow::Result<i32> {
    let labels = evaluate::load_labels(&args.labels)?;
    let mut incomplete = false;
    let mut alerts = match &args.alerts {
        Some(path) => evaluate::load_alerts(path)?,
        None => Vec::new(),
    };
    let mut read = None;
    if !args.paths.is_empty() {
        let input = InputArgs {
            paths: args.paths.clone(),
            since: None,
            until: None,
            threads: args.threads,
            max_file_bytes: crate::source::read::DEFAULT_MAX_FILE_BYTES,
            quiet: args.quiet,
        };
        let (inputs, opts) = super::prepare_inputs(&input, crate::source::StatWhen::Now)?;
        let cfg = crate::config::Config::load(args.config.as_deref())?;
        let detectors = crate::detect::Detectors::from_config(cfg.detectors())?;
        let (found, outcome) = scan::run(&inputs, &opts, &detectors)?;
        incomplete = outcome.read.incomplete();
        alerts.extend(found);
        read = Some(serde_json::json!({
            "events": outcome.detectors.events,
            "files": outcome.read.files_read,
            "bad_records": outcome.read.bad_records,
            "detectors": detectors.names(),
        }));
    } else if args.alerts.is_none() {
        bail!("nothing to score: give log PATHs to run the detectors over, or --alerts FILE");
    }
    let opts = score::ScoreOptions { burn_in_days: args.burn_in, ..score::ScoreOptions::default() };
    let card = score::score(&labels, &alerts, &opts);
    match Format::resolve(args.format) {
        Format::Json => {
            let mut doc = serde_json::to_value(&card)?;
            doc["read"] = read.unwrap_or(serde_json::Value::Null);
            crate::write_stdout(&(serde_json::to_string_pretty(&doc)? + "\n"))?
        }
        Format::Table => {
            let mut text = String::new();
            if let Some(r) = &read {
                let names: Vec<&str> = r["detectors"].as_array().into_iter().flatten().filter_map(|v| v.as_str()).collect();
                text += &format!(
                    "Read {} events from {} files with {}\n",
                    r["events"],
                    r["files"],
                    if names.is_empty() { "no detector enabled: every scenario is missed".to_string() } else { names.join(", ") }
                );
            }
            text += &card.render_table();
            crate::write_stdout(&text)?
        }
    }
    Ok(if incomplete { super::EXIT_INCOMPLETE } else { 0 })
}
