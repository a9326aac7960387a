//! Command-line arguments (clap derive). Parsing only: commands live in `commands/`.

use crate::report::{DOCUMENT, LIST, OutputFormat, SEARCH, formats};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit status:
  0  the run completed and read every input
  1  trailhound could not run (bad arguments to a command, unreadable config, no input found)
  2  usage error (unknown flag, missing argument)
  3  the run completed but some input was unreadable: bad records or corrupt files,
     each named on stderr and counted in the summary
  4  scan --fail-on-alert: the run completed, read every input and raised alerts
     (3 wins when both apply: an incomplete read is reported first)";

/// Behaviour-based anomaly detection for AWS CloudTrail.
///
/// trailhound reads CloudTrail as it is delivered (S3 `.json.gz` trees, organisation trails,
/// JSON lines, LookupEvents and EventBridge exports, stdin) and finds what a principal has never
/// done before, traps being touched, rules tripping and rates leaving their band.
#[derive(Debug, Parser)]
#[command(name = "trailhound", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// Log level for diagnostics on stderr (error, warn, info, debug, trace).
    #[arg(long, global = true, env = "TRAILHOUND_LOG", default_value = "warn")]
    pub log: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarise logs: events, duplicates, files, accounts, principals, time span, top APIs.
    ///
    /// Examples:
    ///   trailhound stats ./AWSLogs
    ///   trailhound stats --since 7d --format json s3-copy/ > stats.json
    ///   zcat export.json.gz | trailhound stats -
    #[command(verbatim_doc_comment)]
    Stats(StatsArgs),

    /// Run the detectors: first-seen behaviour, traps, pattern rules, metric filters and alarms.
    ///
    /// First-seen learns what every principal does and alerts the first time it does something
    /// new (in the account, for the principal, in N days, in a region, for a role name). The
    /// config (`--config`, TOML) turns on traps (`[traps]`, docs/traps.md), rule packs such as
    /// `cis` and `seed` and your own rules, filters and alarms (`[rules]`, docs/rules.md);
    /// alarms are evaluated in event time, so a scan over last month raises what CloudWatch
    /// would have raised.
    ///
    /// Files already processed (same path, size and modification time) are not read again, so a
    /// scheduled run reads only new deliveries. Alerts are JSON lines (or a table on a terminal).
    ///
    /// Examples:
    ///   trailhound scan --learn ./AWSLogs            # build baselines from history, no alerts
    ///   trailhound scan ./AWSLogs                    # then alert on what is new
    ///   trailhound scan --config th.toml --output alerts.jsonl ./AWSLogs
    ///
    /// A minimal th.toml with the CIS alarms and a canary:
    ///   [rules]
    ///   packs = ["cis"]
    ///   [[traps.iam_role]]
    ///   name = "DevOps_role"
    #[command(verbatim_doc_comment)]
    Scan(ScanArgs),

    /// Print the events a CloudWatch Logs filter pattern matches.
    ///
    /// The pattern language is CloudWatch's, with AWS's semantics (docs/filter-patterns.md):
    /// JSON patterns `{ $.field = value && … }`, terms (`AccessDenied`, `?A ?B`, `-term`,
    /// `"a phrase"`) and `%regex%`. Paste an alarm's metric-filter pattern to see what raised it.
    /// A table (time order) on a terminal, the whole records as JSON lines otherwise.
    ///
    /// Examples:
    ///   trailhound search '{ $.eventName = "ConsoleLogin" && $.errorMessage = "Failed authentication" }' ./AWSLogs
    ///   trailhound search --since 7d '{ $.errorCode = "AccessDenied*" }' ./AWSLogs --format count
    ///   trailhound search '{ $.userIdentity.type = "Root" }' ./AWSLogs --format jsonl | jq .eventName
    #[command(verbatim_doc_comment)]
    Search(SearchArgs),

    /// List what a config runs: every rule, metric filter and alarm, and whether it is active.
    ///
    /// Loads and compiles the whole config, so it doubles as a check: a config that lists
    /// cleanly also scans. Patterns are shown as they run, pack parameters expanded; rules that
    /// need a parameter you have not set are listed as inactive, with its name.
    ///
    /// Examples:
    ///   trailhound rules --config th.toml
    ///   trailhound rules --config th.toml --format json | jq '.rules[] | select(.state != "active")'
    #[command(verbatim_doc_comment)]
    Rules(RulesArgs),

    /// Inspect, move and prune behaviour baselines.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Write a simulated organisation's CloudTrail (S3 layout, digests) and a labels file.
    ///
    /// The labels (attacks and benign novelty, with their eventIDs) go to DIR.labels.json
    /// beside the tree, never inside it. The same seed always gives the same bytes.
    ///
    /// Examples:
    ///   trailhound simulate --out sim --accounts 3 --days 10
    ///   trailhound simulate --out big --accounts 10 --days 30 --seed 7 --attacks all
    ///   trailhound simulate --out quiet --attacks none --scale 0.1
    #[command(verbatim_doc_comment)]
    Simulate(SimulateArgs),

    /// Score detectors against labelled data: attacks caught or missed, delay, benign noise.
    ///
    /// Reads a `simulate` labels file or the Invictus per-event labels CSV. Alerts come from
    /// running the detectors over PATH... or from a saved scan (--alerts, JSON lines).
    ///
    /// Examples:
    ///   trailhound evaluate --labels sim.labels.json sim
    ///   trailhound evaluate --labels sim.labels.json --alerts alerts.jsonl --format json
    ///   trailhound evaluate --labels invictus_aws_dataset_event_labels.csv CloudTrail/
    #[command(verbatim_doc_comment)]
    Evaluate(EvaluateArgs),

    /// Check the config's traps by acting as an attacker.
    #[command(subcommand)]
    Traps(TrapsCommand),
}

/// `trailhound traps …`.
#[derive(Debug, Subcommand)]
pub enum TrapsCommand {
    /// Write the CloudTrail events touching each trap produces, run them through the detectors,
    /// and report which traps fire.
    ///
    /// For every trap in the config: the first calls an attacker exploring it makes (a failed
    /// sign-in as the canary user, AssumeRole on the canary role, DescribeTable and GetItem on
    /// the honeypot table, GetObject of the honeypot object, a host launched into a honeypot
    /// subnet and then looked at, …), as AWS records them, management and data events marked.
    /// They are read by the same detectors `scan` runs. Each trap is reported as firing, firing
    /// only with data events on the trail, or not firing, and why.
    ///
    /// Exit status: 0 every trap fires; 4 some trap would not fire on the trail described
    /// (with --management-only: traps that only data events reach); 1 the config is unusable.
    ///
    /// Examples:
    ///   trailhound traps test --config th.toml
    ///   trailhound traps test --config th.toml --management-only --format json
    ///   trailhound traps test --config th.toml --out probes && trailhound scan --config th.toml probes
    #[command(verbatim_doc_comment)]
    Test(TrapsTestArgs),
}

#[derive(Debug, Args)]
pub struct TrapsTestArgs {
    /// TOML configuration file whose `[traps]` are tested.
    #[arg(long, value_name = "FILE", env = "TRAILHOUND_CONFIG")]
    pub config: PathBuf,

    /// The trail logs management events only (no S3, DynamoDB or Lambda data events): records
    /// that only data events carry are not written, and traps that need them do not fire.
    #[arg(long)]
    pub management_only: bool,

    /// Also keep the synthetic events, as a CloudTrail tree under DIR (replay them with `scan`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Output format (default: table on a terminal, json otherwise).
    #[arg(long, value_name = "FORMAT", value_parser = formats(DOCUMENT))]
    pub format: Option<OutputFormat>,
}

/// Where to read from and how: shared by every command that reads logs.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Files or directories (walked recursively) of CloudTrail logs; `-` reads standard input.
    /// Formats are recognised from content: `{"Records":[…]}` files (gzip or not), JSON lines,
    /// JSON arrays, EventBridge and CloudWatch Logs envelopes, LookupEvents exports.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Only events at or after this time: RFC 3339 with its zone (2024-05-01T00:00:00Z,
    /// 2024-05-01T02:00:00+02:00; a time without one is an error), a date (2024-05-01, from
    /// midnight UTC) or a span back from now (30m, 12h, 7d, 2w). Files delivered earlier are not
    /// opened.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events at or before this time (same forms as --since). Files delivered more than a
    /// day later are not opened.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Read workers (default: one per core). On a cold disk or network storage, raise it (-j 8 or
    /// more): more workers keep more reads in flight.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Stop reading a file after this many decompressed bytes, keeping the records before (a
    /// decompression-bomb guard: files over 64 MiB and stdin are streamed in bounded memory, so
    /// this bounds time, not memory).
    #[arg(long, value_name = "BYTES", default_value_t = crate::source::read::DEFAULT_MAX_FILE_BYTES)]
    pub max_file_bytes: u64,

    /// Hide the progress bar (it is shown only when stderr is a terminal anyway).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format (default: table on a terminal, json otherwise).
    #[arg(long, value_name = "FORMAT", value_parser = formats(DOCUMENT))]
    pub format: Option<OutputFormat>,

    /// How many entries the top-N lists show.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
}

/// Where state and configuration come from: shared by `scan` and `baseline`.
#[derive(Debug, Args, Clone, Default)]
pub struct StateArgs {
    /// State file (SQLite). Default: `[store] path` from the config, else
    /// $XDG_STATE_HOME/trailhound/state.sqlite (~/.local/state/trailhound/state.sqlite).
    #[arg(long, value_name = "FILE", env = "TRAILHOUND_STATE")]
    pub state: Option<PathBuf>,

    /// TOML configuration file.
    #[arg(long, value_name = "FILE", env = "TRAILHOUND_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// TOML configuration file (without one, nothing but first-seen is enabled).
    #[arg(long, value_name = "FILE", env = "TRAILHOUND_CONFIG")]
    pub config: Option<PathBuf>,

    /// Output format (default: table on a terminal, json otherwise; jsonl: one entry per line).
    #[arg(long, value_name = "FORMAT", value_parser = formats(LIST))]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// A CloudWatch Logs filter pattern (quote it for the shell).
    #[arg(value_name = "PATTERN")]
    pub pattern: String,

    #[command(flatten)]
    pub input: InputArgs,

    /// Output format (default: table on a terminal, jsonl otherwise). table: the context of each
    /// match, in time order; jsonl: the whole records, one per line; json: the same as one array;
    /// count: only how many match. Without --limit, jsonl and json are written as read (in no
    /// particular order).
    #[arg(long, value_name = "FORMAT", value_parser = formats(SEARCH))]
    pub format: Option<OutputFormat>,

    /// Show the N earliest matches by event time (ties by file and position), the same every
    /// run; all are still counted. Every file is read: the earliest can be in any of them.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub state: StateArgs,

    /// Alert format (default: table on a terminal, jsonl otherwise or with --output). Alerts are
    /// written as they are raised, so there is no one-document json form.
    #[arg(long, value_name = "FORMAT", value_parser = formats(&[OutputFormat::Table, OutputFormat::Jsonl]))]
    pub format: Option<OutputFormat>,

    /// Write alerts to this file (appended) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Build baselines without alerting.
    #[arg(long)]
    pub learn: bool,

    /// Read files even if the state says they were processed (baselines make this raise nothing
    /// new; useful after `baseline forget`).
    #[arg(long)]
    pub reread: bool,

    /// Exit with status 4 when the run raised (delivered) any alert, for CI and cron: `scan
    /// --fail-on-alert … || page-someone`. An incomplete read still exits 3.
    #[arg(long)]
    pub fail_on_alert: bool,

    /// Also POST each alert as JSON to this URL (overrides `[alerts.webhook] url`).
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Learn baselines from logs without alerting (same as `scan --learn`).
    Learn(BaselineLearnArgs),
    /// List baseline keys.
    Show(BaselineShowArgs),
    /// Write baselines and first observations as JSON lines.
    Export(BaselineExportArgs),
    /// Merge JSON lines from `baseline export` into the store (importing twice changes nothing).
    Import(BaselineImportArgs),
    /// Remove baseline keys (and, for a principal or account, its first observation).
    Forget(BaselineForgetArgs),
}

#[derive(Debug, Args)]
pub struct BaselineLearnArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub state: StateArgs,
    /// Read files even if the state says they were processed.
    #[arg(long)]
    pub reread: bool,
}

/// Which baseline keys a command touches; every filter given must match.
#[derive(Debug, Args, Clone, Default)]
pub struct BaselineFilterArgs {
    /// A principal (normalised ARN or id, as in alerts), account id or `role/<name>`.
    #[arg(long, value_name = "SCOPE")]
    pub principal: Option<String>,
    /// An account id.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// An action (`iam:CreateUser`) or region.
    #[arg(long, value_name = "ITEM")]
    pub item: Option<String>,
    /// Keys last seen before this time (RFC 3339, a date, or a span back from now such as 180d).
    #[arg(long, value_name = "TIME")]
    pub before: Option<String>,
}

#[derive(Debug, Args)]
pub struct BaselineShowArgs {
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub filter: BaselineFilterArgs,
    /// Output format (default: table on a terminal, jsonl otherwise): times in RFC 3339.
    #[arg(long, value_name = "FORMAT", value_parser = formats(LIST))]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct BaselineExportArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BaselineImportArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// JSON lines from `baseline export`; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct BaselineForgetArgs {
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub filter: BaselineFilterArgs,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Directory to write the `AWSLogs/…` tree into (must not already hold one).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Member accounts (one joins half-way when there are 3 or more and 6+ days).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub accounts: usize,

    /// Days of activity.
    #[arg(long, default_value_t = 14, value_name = "D")]
    pub days: u32,

    /// Volume multiplier: 1.0 is about 40,000 events per account-day.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub scale: f64,

    /// Seed: the same seed gives byte-identical output.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    /// First day (UTC date, YYYY-MM-DD).
    #[arg(long, default_value = "2024-05-06", value_name = "DATE")]
    pub start: String,

    /// Attacks to plant: `all`, `none`, or a comma-separated list of techniques
    /// (see the labels file or `--attacks help` for names).
    #[arg(long, default_value = "all", value_name = "LIST")]
    pub attacks: String,

    /// Where to write labels (default: DIR.labels.json beside the tree).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,

    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// gzip level 0-9; 1 is fast and what CloudTrail-sized files need.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub gzip_level: u32,

    /// Output format of the summary (default: table on a terminal, json otherwise).
    #[arg(long, value_name = "FORMAT", value_parser = formats(DOCUMENT))]
    pub format: Option<OutputFormat>,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Ground truth: a `simulate` labels file, the Invictus labels CSV, or a folder of Stratus Red
    /// Team detonation logs (`<technique>.json` each; every event in a file is that technique).
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,

    /// Score these alerts (JSON lines of trailhound alerts) instead of running detectors.
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,

    /// Log files or directories to run the detectors over (from an empty baseline, in memory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// TOML configuration for the detectors run over PATHs (as `scan --config`).
    #[arg(long, value_name = "FILE", env = "TRAILHOUND_CONFIG")]
    pub config: Option<PathBuf>,

    /// Days from the labels' start during which alerts are not scored as noise
    /// (default: the labels' own burn-in).
    #[arg(long, value_name = "DAYS")]
    pub burn_in: Option<u32>,

    /// Read workers (default: one per core). On a cold disk or network storage, raise it (-j 8 or
    /// more): more workers keep more reads in flight.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Hide the progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Output format (default: table on a terminal, json otherwise).
    #[arg(long, value_name = "FORMAT", value_parser = formats(DOCUMENT))]
    pub format: Option<OutputFormat>,
}
