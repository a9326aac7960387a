//! `trailhound stats`.

use crate::cli::StatsArgs;
use crate::pipeline;
use crate::report::OutputFormat;
use crate::tally::TallySink;

pub fn run(args: &StatsArgs) -> anyhow::Result<i32> {
    let (inputs, opts) = super::prepare_inputs(&args.input, crate::source::StatWhen::OnRead)?;
    let (sinks, summary) = pipeline::run(&inputs, &opts, TallySink::default)?;
    let stats = sinks.into_iter().fold(TallySink::default(), TallySink::merge);
    let report = stats.report(&summary, args.top);
    match OutputFormat::resolve(args.format, OutputFormat::Json) {
        OutputFormat::Json | OutputFormat::Jsonl => crate::write_stdout(&(serde_json::to_string_pretty(&report)? + "\n"))?,
        OutputFormat::Table | OutputFormat::Count => crate::write_stdout(&report.render_table())?,
    }
    Ok(if summary.incomplete() { super::EXIT_INCOMPLETE } else { 0 })
}
