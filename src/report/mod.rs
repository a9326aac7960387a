//! Reports: what commands print for people (tables) and scripts (JSON).

pub mod agent;
pub mod stats;

use clap::ValueEnum;

/// `--format`: one vocabulary for every command. Each command accepts the forms that fit what it
/// prints ([`formats`]) and `--help` lists only those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned tables for people, in time order where rows have a time (the default on a
    /// terminal).
    Table,
    /// One JSON document.
    Json,
    /// JSON lines: one object per line (alerts, records, keys), ready for `jq -c` and streaming.
    Jsonl,
    /// Only the number of matches.
    Count,
}

impl OutputFormat {
    /// `--format` if given, else a table on a terminal and `otherwise` for a pipe or file.
    pub fn resolve(flag: Option<OutputFormat>, otherwise: OutputFormat) -> OutputFormat {
        use std::io::IsTerminal;
        flag.unwrap_or(if std::io::stdout().is_terminal() { OutputFormat::Table } else { otherwise })
    }
}

/// A `--format` parser that accepts only `allowed` (so `--help` and errors list those).
pub fn formats(allowed: &'static [OutputFormat]) -> impl clap::builder::TypedValueParser<Value = OutputFormat> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(allowed.iter().filter_map(ValueEnum::to_possible_value))
        .map(|s: String| OutputFormat::from_str(&s, false).unwrap_or(OutputFormat::Table))
}

/// The forms of a command that prints one document.
pub const DOCUMENT: &[OutputFormat] = &[OutputFormat::Table, OutputFormat::Json];
/// The forms of a command that prints a list (alerts, keys, rules).
pub const LIST: &[OutputFormat] = &[OutputFormat::Table, OutputFormat::Json, OutputFormat::Jsonl];
/// `search`: a list, or only its count.
pub const SEARCH: &[OutputFormat] = &[OutputFormat::Table, OutputFormat::Json, OutputFormat::Jsonl, OutputFormat::Count];
