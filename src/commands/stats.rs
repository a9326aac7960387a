//! `trailhound stats`.

use crate::cli::StatsArgs;
use crate::pipeline;
use crate::report::Format;
use crate::report::stats::StatsSink;

pub fn run(args: &StatsArgs) -> anyhow::Result<i32> {
    let (files, skipped, opts, walk_errors) = super::prepare_inputs(&args.input, crate::source::Stat::OnRead)?;
    let (sinks, mut summary) = pipeline::run(&files, &skipped, &opts, StatsSink::default);
    summary.file_errors += walk_errors;
    let stats = sinks.into_iter().fold(StatsSink::default(), StatsSink::merge);
    let report = stats.report(&summary, args.top);
    match Format::resolve(args.format) {
        Format::Json => crate::write_stdout(&(serde_json::to_string_pretty(&report)? + "\n"))?,
        Format::Table => crate::write_stdout(&report.render_table())?,
    }
    Ok(if summary.incomplete() { super::EXIT_INCOMPLETE } else { 0 })
}
