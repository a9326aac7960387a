//! Sources: finding the inputs a user named and turning each into records.
//!
//! `discover` expands paths into files (directories walked recursively, `-` for standard input),
//! reads what it can from each S3 key, and prunes by delivery date; `read` loads and gunzips;
//! `format` splits the bytes into records whatever the shape; `stream` does both a window at a
//! time for inputs too big to hold.

pub mod format;
pub mod key;
pub mod read;
pub(crate) mod scan;
mod splitter;
mod stat;
pub mod stream;

use crate::event::time::Millis;
use key::{KeyInfo, KeyKind};
use std::path::PathBuf;

/// One file to read.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    /// `path` as text, for messages and key parsing.
    pub name: String,
    pub key: KeyInfo,
    pub size: u64,
    /// Modification time in ms since the epoch (None for standard input or when `stat` fails):
    /// with `size`, the file's identity in the processed-files table, taken before reading.
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

/// Errors that stop discovery of one path (the others go on).
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct DiscoverError {
    pub path: String,
    pub source: std::io::Error,
}

/// The files behind `paths`, in delivery order (see [`sort_for_delivery`]), plus those skipped
/// by name and the paths that could not be walked.
pub fn discover(paths: &[PathBuf], range: TimeRange) -> (Vec<InputFile>, Vec<Skipped>, Vec<DiscoverError>) {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if root.as_os_str() == "-" {
            files.push(InputFile { path: root.clone(), name: "<stdin>".into(), key: KeyInfo::parse(""), size: 0, mtime: None });
            continue;
        }
        // Siblings in file-name order, as `sort_by_file_name` gives them, but compared as whole
        // paths: siblings share their parent's path, so the order is the same, and it does not
        // parse each path into components on every comparison (that was 6% of `stats` on
        // thousands of small files).
        let walk = walkdir::WalkDir::new(root).follow_links(true).sort_by(|a, b| a.path().as_os_str().cmp(b.path().as_os_str()));
        for entry in walk {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().unwrap_or(root).display().to_string();
                    errors.push(DiscoverError { path, source: e.into() });
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            // `display` is lossy and slow; a UTF-8 path (nearly all) is the same text as is.
            let name = entry.path().to_str().map_or_else(|| entry.path().display().to_string(), str::to_owned);
            let file_name = entry.file_name().to_string_lossy();
            if file_name.starts_with('.') && entry.depth() > 0 {
                continue; // hidden files (.DS_Store, editor swap files) are not logs
            }
            let key = KeyInfo::parse(&name);
            let reason = match key.kind {
                KeyKind::Digest => Some(SkipReason::Digest),
                KeyKind::OtherService => Some(SkipReason::OtherService),
                _ if file_name.ends_with(".zip") => Some(SkipReason::Archive),
                _ if !key.may_overlap(range.since, range.until, PRUNE_MARGIN) => Some(SkipReason::OutOfRange),
                _ => None,
            };
            if let Some(reason) = reason {
                skipped.push(Skipped { name, reason });
                continue;
            }
            files.push(InputFile { path: entry.into_path(), name, key, size: 0, mtime: None });
        }
    }
    fill_sizes(&mut files);
    sort_for_delivery(&mut files);
    (files, skipped, errors)
}

/// Each file's size and modification time (`stat`, following links; 0 and None when it fails,
/// as for standard input). On thousands of small files the `stat`s were most of `discover`,
/// which runs before any file is read, so they are spread over the cores.
fn fill_sizes(files: &mut [InputFile]) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len() / 512).max(1);
    if threads == 1 {
        stat_all(files);
        return;
    }
    std::thread::scope(|scope| {
        for part in files.chunks_mut(files.len().div_ceil(threads)) {
            scope.spawn(move || stat_all(part));
        }
    });
}

/// [`fill_sizes`] for files in walk order (siblings together).
fn stat_all(files: &mut [InputFile]) {
    let mut dir = stat::DirCache::default();
    for f in files.iter_mut().filter(|f| f.path.as_os_str() != "-") {
        if let Some((size, mtime)) = dir.stat(&f.path) {
            (f.size, f.mtime) = (size, mtime);
        }
    }
}

/// Orders files by delivery time (files without a date keep their place at the front, in path
/// order). Reading in delivery order is what lets duplicate detection forget old event IDs: two
/// copies of an event are delivered close together.
pub fn sort_for_delivery(files: &mut [InputFile]) {
    files.sort_by(|a, b| a.key.delivered.unwrap_or(i64::MIN).cmp(&b.key.delivered.unwrap_or(i64::MIN)).then_with(|| a.name.cmp(&b.name)));
}
