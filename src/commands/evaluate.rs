//! `trailhound evaluate`.

use crate::cli::{EvaluateArgs, InputArgs};
use crate::evaluate::{self, coverage, scan, score};
use crate::report::OutputFormat;
use crate::term::escape::terminal;
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
        // Standard input cannot be read twice: its coverage is not checked.
        let unread = if args.paths.iter().any(|p| p.as_os_str() == "-") { None } else { Some(coverage::unread(&labels, &inputs, &opts)?) };
        if let Some(u) = unread.as_ref().filter(|u| u.unread > 0) {
            let names: Vec<String> = u.scenarios.iter().map(|(id, n)| format!("{} ({n})", terminal(id))).collect();
            eprintln!(
                "trailhound: warning: {} of {} labelled attack events were never read (not under PATH, outside the time range, or dropped as duplicates of another record with the same account and eventID); these scenarios can only be missed: {}",
                u.unread,
                u.labelled,
                names.join(", ")
            );
        }
        read = Some(serde_json::json!({
            "events": outcome.detectors.events,
            "files": outcome.read.files_read,
            "bad_records": outcome.read.bad_records,
            "duplicates": outcome.read.duplicates,
            "detectors": detectors.names(),
            "labelled_attack_events_unread": unread.map(|u| u.unread),
        }));
    } else if args.alerts.is_none() {
        bail!("nothing to score: give log PATHs to run the detectors over, or --alerts FILE");
    }
    let opts = score::ScoreOptions { burn_in_days: args.burn_in, ..score::ScoreOptions::default() };
    let card = score::score(&labels, &alerts, &opts);
    match OutputFormat::resolve(args.format, OutputFormat::Json) {
        OutputFormat::Json | OutputFormat::Jsonl => {
            let mut doc = serde_json::to_value(&card)?;
            doc["read"] = read.unwrap_or(serde_json::Value::Null);
            crate::write_stdout(&(serde_json::to_string_pretty(&doc)? + "\n"))?
        }
        OutputFormat::Table | OutputFormat::Count => {
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
