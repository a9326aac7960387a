//! `trailhound simulate`.

use crate::cli::SimulateArgs;
use crate::report::OutputFormat;
use crate::simulate::{self, SimConfig};
use anyhow::Context;

pub fn run(args: &SimulateArgs) -> anyhow::Result<i32> {
    if args.attacks.trim() == "help" {
        crate::write_stdout(&format!("all\nnone\n{}\n", simulate::attacks::ATTACKS.join("\n")))?;
        return Ok(0);
    }
    let start = jiff::civil::Date::strptime("%Y-%m-%d", args.start.trim())
        .with_context(|| format!("invalid --start {:?}: expected YYYY-MM-DD", crate::term::escape::terminal(&args.start)))?;
    let start = crate::event::time::days_from_civil(i64::from(start.year()), i64::from(start.month()), i64::from(start.day()))
        * crate::event::time::MILLIS_PER_DAY;
    let cfg = SimConfig {
        labels: args.labels.clone().unwrap_or_else(|| simulate::default_labels_path(&args.out)),
        out: args.out.clone(),
        accounts: args.accounts,
        days: args.days,
        scale: args.scale,
        seed: args.seed,
        start,
        attacks: simulate::parse_attacks(&args.attacks)?,
        threads: args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())).max(1),
        gzip_level: args.gzip_level,
    };
    let began = std::time::Instant::now();
    let sum = simulate::run(&cfg)?;
    let secs = began.elapsed().as_secs_f64().max(1e-9);
    // Throughput goes to stderr only: output files and stdout stay free of wall-clock facts.
    eprintln!(
        "trailhound: {} records in {:.2}s ({} events/s, {:.1} MB/s of JSON, {:.1} MB/s gzip)",
        indicatif::HumanCount(sum.records),
        secs,
        crate::term::progress::rate(sum.records as f64 / secs),
        sum.bytes_json as f64 / secs / 1e6,
        sum.bytes_gzip as f64 / secs / 1e6
    );
    match OutputFormat::resolve(args.format, OutputFormat::Json) {
        OutputFormat::Json | OutputFormat::Jsonl => {
            let doc = serde_json::json!({"out": cfg.out, "labels": cfg.labels, "config": simulate::config::config_path(&cfg.labels), "summary": sum});
            crate::write_stdout(&(serde_json::to_string_pretty(&doc)? + "\n"))?;
        }
        OutputFormat::Table | OutputFormat::Count => crate::write_stdout(&format!(
            "Wrote {} records ({} duplicate deliveries) in {} log files and {} digest files under {}\n\
             {} MB of JSON, {} MB gzip; {} labelled scenarios in {}; traps config in {}\n",
            sum.records,
            sum.duplicates,
            sum.log_files,
            sum.digest_files,
            cfg.out.display(),
            sum.bytes_json / 1_000_000,
            sum.bytes_gzip / 1_000_000,
            sum.scenarios,
            cfg.labels.display(),
            simulate::config::config_path(&cfg.labels).display()
        ))?,
    }
    Ok(0)
}
