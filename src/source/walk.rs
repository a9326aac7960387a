//! Walking the directories a user named with several workers, `stat`ing the files kept.
//!
//! An S3 tree holds one directory per account, region and day, and often tens of thousands of
//! small files: walking it on one thread before any file is read was a sixth of `stats`' time on
//! such a tree. Here each worker takes a directory from a shared queue, lists it, queues its
//! subdirectories, and `stat`s the files it keeps by name inside it (`DirEntry::metadata`, an
//! `fstatat` on the open directory on Unix: a `stat` by path walks every component again, which
//! is what the `walkdir` and `ignore` crates' entries do).
//!
//! Symbolic links are followed, with loops detected as `walkdir` does: a link to a directory
//! that is one of its own ancestors on the walked path is an error, not a walk.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

/// A file found by the walk.
pub(crate) struct Found<'a> {
    pub path: PathBuf,
    pub file_name: OsString,
    /// 0 for the root itself, 1 for what is directly inside it, and so on.
    pub depth: usize,
    meta: Meta<'a>,
}

/// What is known of a file before asking: the listing's file type is enough to know a file
/// from a directory, so a file pruned by its name is never `stat`ed.
enum Meta<'a> {
    Known(std::fs::Metadata),
    Listed(&'a std::fs::DirEntry),
}

impl Found<'_> {
    /// Size and modification time (ms since the epoch; None before it), following links.
    pub(super) fn stat(&self) -> io::Result<(u64, Option<i64>)> {
        let fresh;
        let meta = match &self.meta {
            Meta::Known(m) => m,
            Meta::Listed(entry) => {
                fresh = entry.metadata()?;
                &fresh
            }
        };
        let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64);
        Ok((meta.len(), mtime))
    }
}

/// A path the walk could not read (the rest of the walk goes on).
pub(crate) struct WalkError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Walks `root` (a file or a directory) with up to `threads` workers. Each file found goes
/// through `keep` on the worker that found it, so per-file work spreads over the cores too; the
/// results come back in no particular order, the errors sorted by path.
pub(crate) fn walk<T: Send>(root: &Path, threads: usize, keep: &(dyn Fn(Found<'_>) -> T + Sync)) -> (Vec<T>, Vec<WalkError>) {
    let meta = match std::fs::metadata(root) {
        Ok(m) => m,
        Err(source) => return (Vec::new(), vec![WalkError { path: root.to_path_buf(), source }]),
    };
    if !meta.is_dir() {
        let file_name = root.file_name().map(OsString::from).unwrap_or_default();
        return (vec![keep(Found { path: root.to_path_buf(), file_name, depth: 0, meta: Meta::Known(meta) })], Vec::new());
    }
    let queue = Queue {
        state: Mutex::new(QueueState {
            jobs: vec![Dir { path: root.to_path_buf(), depth: 0, ancestry: Ancestry::new(None, DirId::of(&meta)) }],
            busy: 0,
        }),
        wake: Condvar::new(),
    };
    let results = Mutex::new((Vec::new(), Vec::new()));
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let (mut kept, mut errors) = (Vec::new(), Vec::new());
                while let Some(dir) = queue.take() {
                    let subdirs = list(&dir, keep, &mut kept, &mut errors);
                    queue.finish(subdirs);
                }
                let mut all = results.lock().unwrap_or_else(|e| e.into_inner());
                all.0.append(&mut kept);
                all.1.append(&mut errors);
            });
        }
    });
    let (kept, mut errors) = results.into_inner().unwrap_or_else(|e| e.into_inner());
    errors.sort_by(|a: &WalkError, b| a.path.cmp(&b.path));
    (kept, errors)
}

/// A directory to list.
struct Dir {
    path: PathBuf,
    depth: usize,
    ancestry: Arc<Ancestry>,
}

/// The identities of a directory and of its ancestors on the walked path, to refuse a link
/// that leads back into one of them.
struct Ancestry {
    id: DirId,
    parent: Option<Arc<Ancestry>>,
}

impl Ancestry {
    fn new(parent: Option<Arc<Ancestry>>, id: DirId) -> Arc<Ancestry> {
        Arc::new(Ancestry { id, parent })
    }

    fn contains(&self, id: &DirId) -> bool {
        if id.0.is_none() {
            return false;
        }
        let mut at = Some(self);
        while let Some(a) = at {
            if a.id == *id {
                return true;
            }
            at = a.parent.as_deref();
        }
        false
    }
}

/// A directory's identity: device and inode on Unix. Elsewhere nothing is known cheaply, so no
/// two directories are known to be one and a loop through links is bounded by `MAX_DEPTH`.
#[derive(PartialEq)]
struct DirId(Option<(u64, u64)>);

impl DirId {
    fn of(meta: &std::fs::Metadata) -> DirId {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            DirId(Some((meta.dev(), meta.ino())))
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            DirId(None)
        }
    }
}

/// Deepest directory walked where loops cannot be detected (see `DirId`).
const MAX_DEPTH: usize = 256;

struct Queue {
    state: Mutex<QueueState>,
    wake: Condvar,
}

struct QueueState {
    jobs: Vec<Dir>,
    /// Directories being listed: while any is, more work may come.
    busy: usize,
}

impl Queue {
    /// The next directory to list, waiting while others are listed; None when all is walked.
    fn take(&self) -> Option<Dir> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(dir) = s.jobs.pop() {
                s.busy += 1;
                return Some(dir);
            }
            if s.busy == 0 {
                return None;
            }
            s = self.wake.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// One directory listed, with the subdirectories it holds.
    fn finish(&self, subdirs: Vec<Dir>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.busy -= 1;
        let (woken, done) = (!subdirs.is_empty(), s.busy == 0 && subdirs.is_empty() && s.jobs.is_empty());
        s.jobs.extend(subdirs);
        drop(s);
        if woken || done {
            self.wake.notify_all();
        }
    }
}

/// Lists `dir`: its files go through `keep`, its subdirectories are returned.
fn list<T>(dir: &Dir, keep: &(dyn Fn(Found<'_>) -> T + Sync), kept: &mut Vec<T>, errors: &mut Vec<WalkError>) -> Vec<Dir> {
    let mut subdirs = Vec::new();
    let entries = match std::fs::read_dir(&dir.path) {
        Ok(e) => e,
        Err(source) => {
            errors.push(WalkError { path: dir.path.clone(), source });
            return subdirs;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(source) => {
                errors.push(WalkError { path: dir.path.clone(), source });
                continue;
            }
        };
        let path = entry.path();
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(source) => {
                errors.push(WalkError { path, source });
                continue;
            }
        };
        if file_type.is_file() {
            kept.push(keep(Found { path, file_name: entry.file_name(), depth: dir.depth + 1, meta: Meta::Listed(&entry) }));
            continue;
        }
        // A directory, a link (followed: `stat` by path) or something else.
        let meta = if file_type.is_symlink() { std::fs::metadata(&path) } else { entry.metadata() };
        let meta = match meta {
            Ok(m) => m,
            Err(source) => {
                errors.push(WalkError { path, source });
                continue;
            }
        };
        if meta.is_dir() {
            let id = DirId::of(&meta);
            if dir.ancestry.contains(&id) || (id.0.is_none() && dir.depth >= MAX_DEPTH) {
                let source = io::Error::other(format!("file system loop: a link back to {}", dir.path.display()));
                errors.push(WalkError { path, source });
                continue;
            }
            subdirs.push(Dir { path, depth: dir.depth + 1, ancestry: Ancestry::new(Some(dir.ancestry.clone()), id) });
        } else if meta.is_file() {
            kept.push(keep(Found { path, file_name: entry.file_name(), depth: dir.depth + 1, meta: Meta::Known(meta) }));
        }
    }
    subdirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(root: &Path, threads: usize) -> (Vec<(String, usize, u64)>, Vec<String>) {
        let strip = |p: &Path| p.strip_prefix(root).unwrap_or(p).to_string_lossy().replace('\\', "/");
        let (mut files, errors) = walk(root, threads, &|f| (strip(&f.path), f.depth, f.stat().unwrap().0));
        files.sort();
        (files, errors.iter().map(|e| strip(&e.path)).collect())
    }

    #[test]
    fn finds_every_file_once_with_its_size_on_any_number_of_threads() {
        let dir = tempfile::tempdir().unwrap();
        let mut want = Vec::new();
        for a in 0..3 {
            for d in 0..4 {
                let sub = dir.path().join(format!("acct{a}/CloudTrail/us-east-1/2024/01/{d:02}"));
                std::fs::create_dir_all(&sub).unwrap();
                for f in 0..5 {
                    std::fs::write(sub.join(format!("f{f}.json.gz")), vec![b'x'; f]).unwrap();
                    want.push((format!("acct{a}/CloudTrail/us-east-1/2024/01/{d:02}/f{f}.json.gz"), 7, f as u64));
                }
            }
        }
        std::fs::create_dir_all(dir.path().join("empty/deeper")).unwrap();
        std::fs::write(dir.path().join("top.json"), b"{}").unwrap();
        want.push(("top.json".into(), 1, 2));
        want.sort();
        for threads in [1, 2, 7] {
            assert_eq!(names(dir.path(), threads), (want.clone(), vec![]), "{threads} threads");
        }
        // A file named as the root is itself the walk.
        let (files, errors) = names(&dir.path().join("top.json"), 2);
        assert_eq!((files.len(), files[0].1, errors.len()), (1, 0, 0));
        let (files, errors) = names(&dir.path().join("missing"), 2);
        assert_eq!((files.len(), errors.len()), (0, 1));
    }

    #[cfg(unix)]
    #[test]
    fn follows_links_and_refuses_loops() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("x.json"), b"123").unwrap();
        symlink(a.join("x.json"), b.join("to-x.json")).unwrap();
        symlink(&a, b.join("to-a")).unwrap();
        symlink(&b, b.join("to-self")).unwrap();
        symlink(dir.path().join("nowhere"), b.join("broken")).unwrap();
        let (files, errors) = names(dir.path(), 2);
        let files: Vec<_> = files.into_iter().map(|(n, _, size)| (n, size)).collect();
        assert_eq!(files, [("a/x.json".into(), 3), ("b/to-a/x.json".into(), 3), ("b/to-x.json".into(), 3)]);
        assert_eq!(errors, ["b/broken", "b/to-self"]);
        // Two directories linking to each other: each is walked once through the other.
        let c = dir.path().join("c");
        std::fs::create_dir_all(&c).unwrap();
        symlink(&c, a.join("to-c")).unwrap();
        symlink(&a, c.join("to-a")).unwrap();
        let (_, errors) = names(&a, 2);
        assert_eq!(errors, ["to-c/to-a"]);
    }
}
