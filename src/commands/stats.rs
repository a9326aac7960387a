//! `trailhound stats`.

use crate::cli::StatsArgs;
use crate::pipeline;
use crate::report::Format;
use crate::tally::TallySink;

pub fn run(args: &StatsArgs) -> anyhow::Result<i32> {
    let (inputs, opts) = super::prepare_inputs(&args.input, crate::source::StatWhen::OnRead)?;
    let (sinks, summary) = pipeline::run(&inputs, &opts, TallySink::default)?;
    let stats = sinks.into_iter().fold(TallySink::default(), TallySink::merge);
    let report = stats.report(&summary, args.top);
    match Format::resolve(args.format) {
        Format::Json => crate::write_stdout(&(serde_json::to_string_pretty(&report)? + "\n"))?,
        Format::Table => crate::write_stdout(&report.render_table())?,
    }
    Ok(if summary.incomplete() { super::EXIT_INCOMPLETE } else { 0 })
}
