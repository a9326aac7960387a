//! One module per subcommand: each turns parsed arguments into a run and an exit status.

pub mod baseline;
pub mod evaluate;
pub mod rules;
pub mod scan;
pub mod search;
pub mod simulate;
pub mod stats;

use crate::cli::InputArgs;
use crate::pipeline::ReadOptions;
use crate::source::{self, InputFile, Skipped, TimeRange};
use anyhow::{Context, bail};
use std::mem::ManuallyDrop;

/// Exit status for a run that completed but could not read everything.
pub const EXIT_INCOMPLETE: i32 = 3;

/// The files a command reads, never freed: a command reads them until the process exits, and
/// freeing the entries one by one (each allocated by one of the walk's threads) cost 2-3% of
/// `stats` on 25,000 files.
pub type InputFiles = ManuallyDrop<Vec<InputFile>>;

/// Resolves input arguments into files to read and read options.
pub fn prepare_inputs(args: &InputArgs, stat: source::Stat) -> anyhow::Result<(InputFiles, Vec<Skipped>, ReadOptions, usize)> {
    let now = jiff::Timestamp::now().as_millisecond();
    let bound = |s: &Option<String>, flag: &str| -> anyhow::Result<Option<i64>> {
        s.as_deref()
            .map(|t| crate::event::time::parse_time_bound(t, now))
            .transpose()
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("invalid {flag}"))
    };
    let range = TimeRange { since: bound(&args.since, "--since")?, until: bound(&args.until, "--until")? };
    if let (Some(s), Some(u)) = (range.since, range.until)
        && s > u
    {
        bail!("--since is after --until: nothing to read");
    }
    let (files, skipped, errors) = source::discover(&args.paths, range, stat);
    for e in &errors {
        eprintln!("trailhound: {}", crate::report::escape::terminal(&e.to_string()));
    }
    if files.is_empty() && skipped.is_empty() {
        bail!("no input files found under {}", args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    let mut opts = ReadOptions { range, max_file_bytes: args.max_file_bytes, progress: !args.quiet, ..ReadOptions::default() };
    if let Some(n) = args.threads {
        opts.threads = n.max(1);
    }
    Ok((ManuallyDrop::new(files), skipped, opts, errors.len()))
}
