//! Sources: finding the inputs a user named and turning each into records.
//!
//! `discover` expands paths into files (directories walked recursively, `-` for standard input),
//! reads what it can from each S3 key, and prunes by delivery date; `read` loads and gunzips;
//! `format` splits the bytes into records whatever the shape; `stream` does both a window at a
//! time for inputs too big to hold.

pub mod format;
pub(crate) mod key;
pub(crate) mod read;
mod splitter;
pub mod stream;
mod walk;

use crate::event::time::Millis;
use key::{KeyInfo, ObjectKind};
use std::path::PathBuf;

/// One file to read.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    /// `path` as text, for messages and key parsing.
    pub name: String,
    pub key: KeyInfo,
    /// Size on disk; 0 when unknown (standard input, `StatWhen::OnRead`, a failed `stat`).
    pub size: u64,
    /// Modification time in ms since the epoch (None when unknown, as `size`): with `size`, the
    /// file's identity in the processed-files table, taken before reading.
    pub mtime: Option<i64>,
}

/// A file not read, and why; counted in every summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub name: String,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// A `CloudTrail-Digest/` file.
    Digest,
    /// Another service's logs (e.g. VPC flow logs) beside the trail.
    OtherService,
    /// Delivered outside `--since`/`--until`.
    OutOfRange,
    /// A zip archive: not read (unzip it first).
    Archive,
    /// Not JSON, or JSON that holds no CloudTrail records.
    NotCloudTrail,
    /// Empty file.
    Empty,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Digest => "digest",
            SkipReason::OtherService => "other_service",
            SkipReason::OutOfRange => "out_of_range",
            SkipReason::Archive => "archive",
            SkipReason::NotCloudTrail => "not_cloudtrail",
            SkipReason::Empty => "empty",
        }
    }
}

/// Read workers unless `-j` says: one per core. More would help a cold tree of small files,
/// where a worker waits on the disk for nearly every file (25,000 small files read cold in 1.7 s
/// with two per core against 2.5 s), but cost warm reads of large files 4% (their buffers take
/// turns in the caches): `--help` says when to raise `-j` (BENCHMARKS.md).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Workers for the directory walk: twice the cores, as listing a directory that is not cached
/// waits on the disk, and the walk ends before any file is read.
fn walk_workers() -> usize {
    default_workers().saturating_mul(2)
}

/// Time bounds on events, with the margin kept when pruning files by delivery date.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeRange {
    pub since: Option<Millis>,
    pub until: Option<Millis>,
}

impl TimeRange {
    pub fn contains(&self, t: Option<Millis>) -> bool {
        match t {
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
            None => self.since.is_none() && self.until.is_none(),
        }
    }
}

/// Delivery lag allowed when pruning by key date: CloudTrail delivers within minutes, but
/// `DELIVERY_DELAY` and `SERVICE_OUTAGE` re-deliveries can be hours late.
pub const PRUNE_MARGIN: Millis = 24 * 3_600_000;

/// What a command reads: the files `discover` found, those it skipped by name, and how many
/// paths could not be walked (each named on stderr when found).
pub struct Inputs {
    /// Never freed: a command reads them until the process exits, and freeing the entries one by
    /// one (each allocated by one of the walk's threads) cost 2-3% of `stats` on 25,000 files.
    pub files: std::mem::ManuallyDrop<Vec<InputFile>>,
    pub skipped: Vec<Skipped>,
    pub walk_errors: usize,
}

/// Errors that stop discovery of one path (the others go on).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct DiscoverError {
    pub path: String,
    pub source: std::io::Error,
}

/// When `discover` learns each file's size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatWhen {
    /// While walking: for jobs that record which files they read (the file's identity), and
    /// that size their batches by bytes.
    Now,
    /// Not at all: reading finds the size on the open file, which costs less than a `stat` by
    /// name (6% of `stats`' wall time on the benchmark's 25,000 small files).
    OnRead,
}

/// The files behind `paths`, in delivery order (see [`sort_for_delivery`]), plus those skipped
/// by name; and why each path that could not be walked was not.
pub fn discover(paths: &[PathBuf], range: TimeRange, stat: StatWhen) -> (Inputs, Vec<DiscoverError>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut errors = Vec::new();
    let threads = walk_workers();
    let classify = |f: walk::Found<'_>| {
        // `display` is lossy and slow; a UTF-8 path (nearly all) is the same text as is.
        let name = f.path.to_str().map_or_else(|| f.path.display().to_string(), str::to_owned);
        let file_name = f.file_name.to_string_lossy();
        if file_name.starts_with('.') && f.depth > 0 {
            return None; // hidden files (.DS_Store, editor swap files) are not logs
        }
        let key = KeyInfo::parse(&name);
        let reason = match key.kind {
            ObjectKind::Digest => Some(SkipReason::Digest),
            ObjectKind::OtherService => Some(SkipReason::OtherService),
            _ if file_name.ends_with(".zip") => Some(SkipReason::Archive),
            _ if !key.may_overlap(range.since, range.until, PRUNE_MARGIN) => Some(SkipReason::OutOfRange),
            _ => None,
        };
        Some(match reason {
            Some(reason) => Err(Skipped { name, reason }),
            None => {
                // A file that cannot be `stat`ed is still read: reading says what is wrong.
                let (size, mtime) = if stat == StatWhen::Now { f.stat().unwrap_or((0, None)) } else { (0, None) };
                Ok(InputFile { path: f.path, name, key, size, mtime })
            }
        })
    };
    for root in paths {
        if root.as_os_str() == "-" {
            files.push(InputFile { path: root.clone(), name: "<stdin>".into(), key: KeyInfo::parse(""), size: 0, mtime: None });
            continue;
        }
        let (found, walk_errors) = walk::walk(root, threads, &classify);
        for f in found.into_iter().flatten() {
            match f {
                Ok(file) => files.push(file),
                Err(skip) => skipped.push(skip),
            }
        }
        errors.extend(walk_errors.into_iter().map(|e| DiscoverError { path: e.path.display().to_string(), source: e.source }));
    }
    sort_for_delivery(&mut files);
    skipped.sort_by(|a, b| a.name.cmp(&b.name));
    (Inputs { files: std::mem::ManuallyDrop::new(files), skipped, walk_errors: errors.len() }, errors)
}

/// Orders files by delivery time (files without a date keep their place at the front, in path
/// order). Reading in delivery order is what lets duplicate detection forget old event IDs: two
/// copies of an event are delivered close together.
pub fn sort_for_delivery(files: &mut [InputFile]) {
    files.sort_by(|a, b| a.key.delivered.unwrap_or(i64::MIN).cmp(&b.key.delivered.unwrap_or(i64::MIN)).then_with(|| a.name.cmp(&b.name)));
}
