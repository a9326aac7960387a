//! A reader that stops early (`trailhound … | head`): the run ends as it would have, with the
//! same exit status and messages, wherever its output was when the pipe closed.

use crate::support::trailhound;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs the binary with `args`, reads `keep` lines of its output and closes the pipe; returns
/// the exit code and stderr.
fn read_then_close(args: &[&str], keep: usize) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trailhound"))
        .args(args)
        .env_remove("TRAILHOUND_STATE")
        .env_remove("TRAILHOUND_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for _ in 0..keep {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "{args:?}: fewer than {keep} lines");
    }
    drop(out);
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (child.wait().unwrap().code(), err)
}

/// The same run read to the end: (exit code, stderr, lines of output).
fn read_all(args: &[&str]) -> (Option<i32>, String, usize) {
    let out = trailhound().args(args).output().unwrap();
    let lines = out.stdout.iter().filter(|&&b| b == b'\n').count();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned(), lines)
}

/// A store learnt from the Invictus sample: its export (~130 KB) is more than a pipe holds, so
/// the run is still writing when the reader goes.
fn learnt(dir: &Path) -> PathBuf {
    let state = dir.join("state.sqlite");
    trailhound().args(["baseline", "learn", "-q", "--state"]).arg(&state).arg("testdata/invictus").assert().success();
    state
}

#[test]
fn baseline_export_wherever_the_pipe_closes() {
    let dir = tempfile::tempdir().unwrap();
    let state = learnt(dir.path());
    let args = ["baseline", "export", "--state", state.to_str().unwrap()];
    let (code, err, lines) = read_all(&args);
    assert_eq!((code, err.as_str()), (Some(0), format!("trailhound: exported {lines} lines\n").as_str()));
    assert!(lines > 300, "{lines}");
    for keep in [0, 1, lines / 2, lines - 1] {
        assert_eq!(read_then_close(&args, keep), (code, err.clone()), "closed after {keep} of {lines} lines");
    }
}

#[test]
fn head_one_on_every_command_that_prints() {
    let dir = tempfile::tempdir().unwrap();
    let state = learnt(dir.path());
    let state = state.to_str().unwrap();
    let runs: [&[&str]; 5] = [
        &["stats", "-q", "--format", "table", "testdata/invictus"],
        &["search", "-q", "--format", "jsonl", "{ $.eventName = \"*\" }", "testdata/invictus"],
        &["baseline", "show", "--format", "jsonl", "--state", state],
        &["baseline", "show", "--format", "table", "--state", state],
        &["rules", "--format", "table"],
    ];
    for args in runs {
        let (code, err, _) = read_all(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        // Search stops reading once its reader has gone, and says so: its messages may differ.
        let (closed_code, closed_err) = read_then_close(args, 1);
        assert_eq!(closed_code, code, "{args:?}: {closed_err}");
        let failed = ["trailhound: error", "Broken pipe", "panicked"].iter().any(|m| closed_err.contains(m));
        assert!(!failed, "{args:?}: {closed_err}");
    }
}
