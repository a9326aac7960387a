//! `stat` for `discover`, by name inside each directory.

use std::path::Path;

/// Stats files by name inside their directory, opened once for its siblings: a `stat` by
/// full path walks every component of the path again (on deep S3 trees that walk was most
/// of the kernel's time in `discover`).
#[derive(Default)]
pub(crate) struct DirCache {
    #[cfg(target_os = "linux")]
    open: Option<(std::path::PathBuf, rustix::fd::OwnedFd)>,
}

impl DirCache {
    /// Size and modification time (ms since the epoch) of `path`, following links.
    pub(crate) fn stat(&mut self, path: &Path) -> Option<(u64, Option<i64>)> {
        #[cfg(target_os = "linux")]
        if let Some(found) = self.stat_in_dir(path) {
            return Some(found);
        }
        // Anything unusual (no parent, a directory that cannot be opened, an error): the
        // plain `stat`, which also decides what a failure is.
        let m = std::fs::metadata(path).ok()?;
        let mtime = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64);
        Some((m.len(), mtime))
    }

    #[cfg(target_os = "linux")]
    fn stat_in_dir(&mut self, path: &Path) -> Option<(u64, Option<i64>)> {
        use rustix::fs::{AtFlags, Mode, OFlags};
        let (parent, name) = (path.parent()?, path.file_name()?);
        if parent.as_os_str().is_empty() {
            return None;
        }
        if self.open.as_ref().is_none_or(|(p, _)| p != parent) {
            self.open = None;
            let fd = rustix::fs::open(parent, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).ok()?;
            self.open = Some((parent.to_path_buf(), fd));
        }
        let (_, fd) = self.open.as_ref()?;
        let st = rustix::fs::statat(fd, name, AtFlags::empty()).ok()?;
        // As `SystemTime::duration_since(UNIX_EPOCH)`: none before the epoch.
        let mtime = (st.st_mtime >= 0).then(|| st.st_mtime as i64 * 1000 + st.st_mtime_nsec as i64 / 1_000_000);
        Some((st.st_size as u64, mtime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_as_std_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a");
        std::fs::create_dir(&sub).unwrap();
        let (f1, f2) = (sub.join("x.json"), sub.join("y.json"));
        std::fs::write(&f1, b"12345").unwrap();
        std::fs::write(&f2, b"").unwrap();
        let link = dir.path().join("link");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&f1, &link).unwrap();
        let std_stat = |p: &Path| {
            let m = std::fs::metadata(p).ok()?;
            let mtime = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64);
            Some((m.len(), mtime))
        };
        let mut cache = DirCache::default();
        for p in [&f1, &f2, &f1, &link, &sub.join("missing"), &dir.path().join("a/../a/x.json")] {
            assert_eq!(cache.stat(p), std_stat(p), "{p:?}");
        }
        assert!(cache.stat(&sub.join("missing")).is_none());
    }
}
