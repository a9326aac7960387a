//! The processed-files ledger's side of a run: which files a run reads, by their identity.

use crate::source::InputFile;
use crate::store::{Store, StoreTx};
use std::path::Path;

/// A file's identity in the processed-files table: absolute path, size, modification time (ms).
pub(super) type FileIdentity = (String, u64, i64);

fn file_identity(f: &InputFile, cwd: &Path) -> Option<FileIdentity> {
    if f.name == "<stdin>" {
        return None;
    }
    let mtime = f.mtime?;
    // Absolute, not canonical: resolving every component costs a syscall each, per file.
    let path = match (f.path.to_str(), cwd.to_str()) {
        (Some(p), _) if f.path.is_absolute() => p.to_string(),
        // What `join` then `display` give, without their per-component work.
        (Some(p), Some(c)) => [c.trim_end_matches('/'), "/", p].concat(),
        _ => cwd.join(&f.path).display().to_string(),
    };
    Some((path, f.size, mtime))
}

/// The files to read, each with its identity (none for stdin and files without a modification
/// time): all of them with `reread`, else those the store has not recorded as processed, which
/// are counted in `already_processed`. Identities are taken before reading: a file that changes
/// while being read is read again.
pub(super) fn to_read<'f>(
    store: &mut dyn Store,
    files: &'f [InputFile],
    cwd: &Path,
    reread: bool,
    already_processed: &mut usize,
) -> anyhow::Result<Vec<(&'f InputFile, Option<FileIdentity>)>> {
    let ids: Vec<Option<FileIdentity>> = files.iter().map(|f| file_identity(f, cwd)).collect();
    let known: Vec<(&str, u64, i64)> = ids.iter().flatten().map(|(p, s, m)| (p.as_str(), *s, *m)).collect();
    let mut done = store.files_done(&known)?.into_iter();
    let done: Vec<bool> = ids.iter().map(|id| id.is_some() && done.next() == Some(true)).collect();
    drop(known);
    let mut todo = Vec::new();
    for ((f, id), done) in files.iter().zip(ids).zip(done) {
        if done && !reread {
            *already_processed += 1;
            continue;
        }
        todo.push((f, id));
    }
    Ok(todo)
}

/// For each file of a batch, whether the ledger already holds it, asked inside the batch's
/// (write) transaction: a file another process applied after [`to_read`] looked is seen, and no
/// other process can apply it before this transaction ends.
pub(super) fn claimed(tx: &dyn StoreTx, files: &[(&InputFile, Option<FileIdentity>)]) -> anyhow::Result<Vec<bool>> {
    let mut done = tx.files_done(&identities(files))?.into_iter();
    Ok(files.iter().map(|(_, id)| id.is_some() && done.next() == Some(true)).collect())
}

/// The identities of those of `files` that have one, as the store takes them.
pub(super) fn identities<'a>(files: &'a [(&InputFile, Option<FileIdentity>)]) -> Vec<(&'a str, u64, i64)> {
    files.iter().filter_map(|(_, id)| id.as_ref().map(|(p, size, mtime)| (p.as_str(), *size, *mtime))).collect()
}
