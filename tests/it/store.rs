//! The state store under concurrency and faults: the promises of docs/reliability.md, "The
//! store". Tests that need root (a tmpfs, a read-only bind mount) say so on stderr and pass when
//! they cannot run.

use crate::support::{jsonl, simulate_org};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A small simulated organisation (about 2,500 files, 58 alerts) with its config.
struct Org {
    dir: tempfile::TempDir,
    logs: PathBuf,
    config: PathBuf,
}

fn org() -> Org {
    let dir = tempfile::tempdir().unwrap();
    let logs = simulate_org(dir.path(), 2, 3, 0.02);
    let config = dir.path().join("sim.trailhound.toml");
    Org { dir, logs, config }
}

fn bin() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("trailhound"));
    c.env_remove("TRAILHOUND_STATE").env_remove("TRAILHOUND_CONFIG");
    c
}

impl Org {
    fn scan(&self, state: &Path) -> Command {
        let mut c = bin();
        c.args(["scan", "-q", "--format", "jsonl", "--state"]).arg(state).arg("--config").arg(&self.config).arg(&self.logs);
        c
    }

    fn spawn_scan(&self, state: &Path) -> Child {
        self.scan(state).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// One scan on a fresh store: its alert ids and baseline export.
    fn reference(&self) -> (BTreeSet<String>, String) {
        let state = self.dir.path().join("reference.sqlite");
        let out = self.scan(&state).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (ids(&out.stdout), export(&state))
    }
}

fn ids(stdout: &[u8]) -> BTreeSet<String> {
    jsonl(stdout).iter().map(|a: &Value| a["id"].as_str().unwrap().to_string()).collect()
}

fn export(state: &Path) -> String {
    let out = bin().args(["baseline", "export", "--state"]).arg(state).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Unmounts what a test mounted, however the test ends.
struct Mount(PathBuf);

impl Mount {
    fn new(args: &[&str], at: &Path) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount").args(args).arg(at).status().is_ok_and(|s| s.success());
        ok.then(|| Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn two_scans_started_together_apply_every_file_once() {
    let org = org();
    let (want_ids, want_export) = org.reference();
    for round in 0..3 {
        let state = org.dir.path().join(format!("pair{round}.sqlite"));
        let first = org.spawn_scan(&state);
        std::thread::sleep(std::time::Duration::from_millis(50 * round));
        let second = org.spawn_scan(&state);
        let (a, b) = (first.wait_with_output().unwrap(), second.wait_with_output().unwrap());
        assert!(a.status.success() && b.status.success(), "round {round}: {}\n{}", stderr(&a), stderr(&b));
        assert_eq!(export(&state), want_export, "round {round}: the baseline is one scan's");
        // The store raised each alert once; delivery is at-least-once, and a repeat carries the
        // same id, so together the two outputs hold exactly one scan's alerts.
        let mut got = ids(&a.stdout);
        got.extend(ids(&b.stdout));
        assert_eq!(got, want_ids, "round {round}");
    }
}

#[test]
fn baseline_show_never_fails_during_a_scan() {
    let org = org();
    let state = org.dir.path().join("state.sqlite");
    // Its alerts are not read here: a pipe nobody reads would stop it.
    let mut scan = org.scan(&state).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut shows = 0;
    while scan.try_wait().unwrap().is_none() || shows == 0 {
        let out = bin().args(["baseline", "show", "--format", "jsonl", "--state"]).arg(&state).output().unwrap();
        assert!(out.status.success(), "show {shows} failed during a scan: {}", stderr(&out));
        shows += 1;
    }
    assert!(scan.wait().unwrap().success());
    eprintln!("{shows} `baseline show` during one scan, none failed");
}

#[test]
fn a_read_only_store_can_be_inspected_and_is_not_written() {
    let org = org();
    let dir = org.dir.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    let state = dir.join("state.sqlite");
    assert!(org.scan(&state).output().unwrap().status.success());
    let want = export(&state);
    // As root, permissions do not stop a write: a read-only bind mount does.
    let (view, _mount) = if is_root() {
        let at = org.dir.path().join("ro-view");
        let Some(m) = Mount::new(&["--bind", dir.to_str().unwrap()], &at) else {
            eprintln!("SKIPPED a_read_only_store_can_be_inspected_and_is_not_written: running as root and cannot bind-mount");
            return;
        };
        if !Command::new("mount").args(["-o", "remount,ro,bind"]).arg(&at).status().is_ok_and(|s| s.success()) {
            eprintln!("SKIPPED a_read_only_store_can_be_inspected_and_is_not_written: cannot remount read-only");
            return;
        }
        (at.join("state.sqlite"), Some(m))
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o444)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        (state.clone(), None)
    };
    let before = std::fs::read(&view).unwrap();
    assert_eq!(export(&view), want);
    let show = bin().args(["baseline", "show", "--format", "jsonl", "--state"]).arg(&view).output().unwrap();
    assert!(show.status.success(), "{}", stderr(&show));
    // Read again, so that the scan has something to write.
    let scan = org.scan(&view).arg("--reread").output().unwrap();
    assert!(!scan.status.success());
    assert!(stderr(&scan).contains(view.to_str().unwrap()) && stderr(&scan).contains("cannot be opened or written"), "{}", stderr(&scan));
    assert_eq!(std::fs::read(&view).unwrap(), before);
    if !is_root() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// SQLite's verdict on a store, read through a connection that cannot write.
fn quick_check(path: &Path) -> String {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    rusqlite::Connection::open_with_flags(path, flags)
        .and_then(|c| c.query_row("PRAGMA quick_check(1)", [], |r| r.get::<_, String>(0)))
        .unwrap_or_else(|e| e.to_string())
}

#[test]
fn a_corrupt_store_is_refused_with_its_path_and_never_written() {
    let org = org();
    let clean = org.dir.path().join("clean.sqlite");
    assert!(org.scan(&clean).output().unwrap().status.success());
    let bytes = std::fs::read(&clean).unwrap();
    let n = bytes.len();
    // The header's magic, its page size and file change counter, the first page's b-tree, and
    // pages through the file (b-tree headers sit at each 4 KiB page's start).
    let offsets = [0, 17, 24, 100, 4096, n / 4, n / 3 + 7, n / 2, n - 4096, n - 1];
    let (mut refused, mut worked) = (0, 0);
    for off in offsets {
        let dir = org.dir.path().join(format!("flip{off}"));
        std::fs::create_dir(&dir).unwrap();
        let state = dir.join("state.sqlite");
        let mut b = bytes.clone();
        b[off] ^= 0x5a;
        std::fs::write(&state, &b).unwrap();
        let verdict = quick_check(&state);
        let scan = org.scan(&state).output().unwrap();
        if verdict == "ok" && scan.status.success() {
            worked += 1;
            continue;
        }
        refused += 1;
        let err = stderr(&scan);
        assert!(!scan.status.success(), "offset {off}: {verdict}, yet the scan succeeded: {err}");
        assert!(err.contains(state.to_str().unwrap()), "offset {off}: the error does not name the store: {err}");
        assert!(verdict == "ok" || err.contains("corrupt"), "offset {off}: {err}");
        let export = bin().args(["baseline", "export", "--state"]).arg(&state).output().unwrap();
        assert!(export.status.success() || stderr(&export).contains(state.to_str().unwrap()), "offset {off}: {}", stderr(&export));
        assert!(std::fs::read(&state).unwrap() == b, "offset {off}: a corrupt store was written to");
    }
    eprintln!("corrupt stores: {refused} refused, {worked} still sound and scanned");
    assert!(refused > 0);
}

#[test]
fn a_full_disk_names_the_store_keeps_nothing_half_written_and_a_retry_completes() {
    if !is_root() {
        eprintln!("SKIPPED a_full_disk_…: needs root to mount a small tmpfs");
        return;
    }
    let org = org();
    let (want_ids, want_export) = org.reference();
    let at = org.dir.path().join("tmpfs");
    let Some(_mount) = Mount::new(&["-t", "tmpfs", "-o", "size=4m", "tmpfs"], &at) else {
        eprintln!("SKIPPED a_full_disk_…: cannot mount a tmpfs");
        return;
    };
    let state = at.join("state.sqlite");
    // Room for the empty schema and a little more, not for the run.
    let filler = at.join("filler");
    std::fs::write(&filler, vec![0u8; 4 * 1024 * 1024 - 400 * 1024]).unwrap();
    let full = org.scan(&state).output().unwrap();
    let err = stderr(&full);
    assert!(!full.status.success(), "{err}");
    assert!(err.contains(state.to_str().unwrap()) && err.contains("full"), "{err}");
    let partial = ids(&full.stdout);
    std::fs::remove_file(&filler).unwrap();
    let retry = org.scan(&state).output().unwrap();
    assert!(retry.status.success(), "{}", stderr(&retry));
    assert_eq!(export(&state), want_export);
    let mut got = partial;
    got.extend(ids(&retry.stdout));
    assert_eq!(got, want_ids);
}
