//! What more than one test module needs: the binary, gzip, and the runs whose JSON they read.

use assert_cmd::Command;
use flate2::{Compression, write::GzEncoder};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The binary, without the environment that would point it at the user's own state or config.
pub(crate) fn trailhound() -> Command {
    let mut c = Command::cargo_bin("trailhound").unwrap();
    c.env_remove("TRAILHOUND_STATE").env_remove("TRAILHOUND_CONFIG");
    c
}

/// Runs `stats --format json` and returns (exit code, report, stderr).
pub(crate) fn stats(args: &[&str]) -> (i32, Value, String) {
    let out = trailhound().arg("stats").arg("--format").arg("json").args(args).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), report, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs `evaluate --format json` and returns its scorecard; the run must succeed.
pub(crate) fn evaluate(args: &[&str]) -> Value {
    let out = trailhound().arg("evaluate").args(args).args(["--format", "json", "-q"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `trailhound simulate` into `dir/sim`, which it returns; the labels and config are written
/// beside it (`dir/sim.labels.json`, `dir/sim.trailhound.toml`).
pub(crate) fn simulate_org(dir: &Path, accounts: u32, days: u32, scale: f64) -> PathBuf {
    let tree = dir.join("sim");
    trailhound()
        .args(["simulate", "--accounts", &accounts.to_string(), "--days", &days.to_string(), "--scale", &scale.to_string()])
        .args(["--format", "json", "--out"])
        .arg(&tree)
        .assert()
        .success();
    tree
}

/// Runs `scan -q --format jsonl` with a state and a config over `paths` and returns its alerts;
/// the run must succeed.
pub(crate) fn scan_jsonl<P: AsRef<std::ffi::OsStr>>(state: &Path, config: &Path, paths: &[P]) -> Vec<Value> {
    let out = trailhound()
        .args(["scan", "-q", "--format", "jsonl", "--state"])
        .arg(state)
        .arg("--config")
        .arg(config)
        .args(paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    jsonl(&out.stdout)
}

/// One JSON value per line, as `--format jsonl` and `baseline export` write them.
pub(crate) fn jsonl(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

pub(crate) fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
