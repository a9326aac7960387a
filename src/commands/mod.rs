//! One module per subcommand: each turns parsed arguments into a run and an exit status.

pub mod baseline;
pub mod evaluate;
pub mod rules;
pub mod scan;
pub mod search;
mod search_hint;
pub mod simulate;
pub mod stats;
pub mod traps;

use crate::cli::{InputArgs, StateArgs};
use crate::config::Config;
use crate::pipeline::ReadOptions;
use crate::source::{self, Inputs, TimeRange};
use crate::store::Store;
use anyhow::{Context, bail};

/// Exit status for a run that completed but could not read everything.
pub const EXIT_INCOMPLETE: i32 = 3;

/// Opens the config and the store named by `--state`, the config, or the per-user default, for
/// a command that writes to the store.
pub fn open_state(args: &StateArgs) -> anyhow::Result<(Config, Box<dyn Store>)> {
    open_state_with(args, crate::store::open)
}

/// [`open_state`] for a command that only reads the store: it writes nothing, so it works on a
/// read-only store and never waits for (nor slows) a running scan.
pub(crate) fn open_state_for_reading(args: &StateArgs) -> anyhow::Result<(Config, Box<dyn Store>)> {
    open_state_with(args, crate::store::open_for_reading)
}

fn open_state_with(
    args: &StateArgs,
    open: fn(&std::path::Path) -> anyhow::Result<Box<dyn Store>>,
) -> anyhow::Result<(Config, Box<dyn Store>)> {
    let cfg = Config::load(args.config.as_deref())?;
    let path = state_path(args, &cfg)?;
    Ok((cfg, open(&path)?))
}

/// The store `--state`, the config or the per-user default names.
pub(crate) fn state_path(args: &StateArgs, cfg: &Config) -> anyhow::Result<std::path::PathBuf> {
    Ok(match (&args.state, &cfg.store.path) {
        (Some(p), _) | (None, Some(p)) => p.clone(),
        (None, None) => crate::store::default_path()?,
    })
}

/// What a run's config file held, kept in the store so the next run can tell a changed config
/// (whose rules then do not cover the files already processed) from the same one. A hash of the
/// file's bytes: its modification time would also move on a `touch` or a checkout.
pub(crate) struct ConfigFingerprint(String);

impl ConfigFingerprint {
    const META: &str = "config_fingerprint";

    pub(crate) fn of(config: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let bytes = match config {
            Some(p) => std::fs::read(p).with_context(|| format!("reading config {}", p.display()))?,
            None => Vec::new(),
        };
        Ok(Self(format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes))))
    }

    /// Whether the store's last scan or learn ran with another config (false before the first).
    pub(crate) fn changed(&self, store: &dyn Store) -> anyhow::Result<bool> {
        Ok(store.meta(Self::META)?.is_some_and(|v| v != self.0))
    }

    pub(crate) fn remember(&self, store: &mut dyn Store) -> anyhow::Result<()> {
        store.set_meta(Self::META, &self.0)
    }
}

/// The detectors the config enables, saying on stderr which pack entries wait for a parameter.
pub(crate) fn detectors(cfg: &Config) -> anyhow::Result<crate::detect::Detectors> {
    let detectors = crate::detect::Detectors::from_config(cfg.detectors())?;
    for i in &detectors.inactive {
        eprintln!("trailhound: {} is inactive until [rules.params] {} is set", i.what, i.param);
    }
    Ok(detectors)
}

/// Resolves input arguments into files to read and read options.
pub fn prepare_inputs(args: &InputArgs, stat: source::StatWhen) -> anyhow::Result<(Inputs, ReadOptions)> {
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
    let (inputs, errors) = source::discover(&args.paths, range, stat);
    for e in &errors {
        eprintln!("trailhound: {}", crate::term::escape::terminal(&e.to_string()));
    }
    name_archives(&inputs.skipped);
    if inputs.files.is_empty() && inputs.skipped.is_empty() {
        bail!("no input files found under {}", args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    let mut opts = ReadOptions { range, max_file_bytes: args.max_file_bytes, progress: !args.quiet, ..ReadOptions::default() };
    if let Some(n) = args.threads {
        opts.threads = n.max(1);
    }
    Ok((inputs, opts))
}

/// Zip archives are skipped (CloudTrail never writes them; downloaded datasets often come so):
/// each is named, so a user who pointed at one learns why nothing was read.
fn name_archives(skipped: &[source::Skipped]) {
    const SHOWN: usize = 5;
    let zips: Vec<&source::Skipped> = skipped.iter().filter(|s| s.reason == source::SkipReason::Archive).collect();
    for z in zips.iter().take(SHOWN) {
        eprintln!(
            "trailhound: skipped {}: zip archives are not read (unzip it and point at the folder)",
            crate::term::escape::terminal(&z.name)
        );
    }
    if zips.len() > SHOWN {
        eprintln!("trailhound: skipped {} more zip archives", zips.len() - SHOWN);
    }
}
