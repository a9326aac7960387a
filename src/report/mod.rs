//! Reports: what commands print for people (tables) and scripts (JSON).

pub mod agent;
pub mod stats;

/// Output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned tables for people (the default on a terminal).
    Table,
    /// One JSON document for scripts (the default when stdout is not a terminal).
    Json,
}

impl Format {
    /// `--format` if given, else a table on a terminal and JSON otherwise.
    pub fn resolve(flag: Option<Format>) -> Format {
        use std::io::IsTerminal;
        flag.unwrap_or(if std::io::stdout().is_terminal() { Format::Table } else { Format::Json })
    }
}
