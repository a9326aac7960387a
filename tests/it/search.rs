//! `trailhound search` over the bundled real logs. Expected counts were computed independently
//! (Python over the same files, deduplicated by eventID), not with trailhound.

use crate::support::{jsonl, trailhound};

fn search(args: &[&str]) -> std::process::Output {
    trailhound().arg("search").args(args).arg("-q").output().unwrap()
}

fn count(pattern: &str, path: &str) -> u64 {
    let out = search(&[pattern, path, "--format", "count"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
}

#[test]
fn counts_match_an_independent_count() {
    assert_eq!(count(r#"{ $.errorCode = "AccessDenied*" }"#, "testdata/invictus"), 16);
    assert_eq!(count("AccessDenied", "testdata/invictus"), 16);
    assert_eq!(count(r#"{ $.eventName = "ConsoleLogin" }"#, "testdata/invictus"), 2);
    assert_eq!(count("{ $.eventName = GetSecretValue }", "testdata/invictus"), 60);
    assert_eq!(count("", "testdata/invictus"), 2900);
    assert_eq!(count(r#"{ $.eventName = "ModifySnapshotAttribute" }"#, "testdata/stratus"), 1);
}

#[test]
fn jsonl_prints_whole_records_and_limit_caps_them() {
    let out = search(&["{ $.eventName = GetSecretValue }", "testdata/invictus", "--format", "jsonl", "--limit", "3"]);
    assert!(out.status.success());
    let lines = jsonl(&out.stdout);
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|r| r["eventName"] == "GetSecretValue" && r["userIdentity"].is_object()));
    // The earliest three can be in any file: every file is read, every match counted.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("60 of 2900 events match (3 earliest shown, --limit)"), "{err}");
    // A count may stop at the limit: any N matches make the same count.
    let out = search(&["", "testdata/invictus", "--format", "count", "--limit", "3"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3");
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading stopped early"));
}

#[test]
fn a_closed_pipe_ends_the_search_quietly_and_a_write_error_fails_it() {
    use std::io::Read;
    use std::process::Stdio;
    let bin = assert_cmd::cargo::cargo_bin("trailhound");
    let mut child = std::process::Command::new(&bin)
        .args(["search", "-q", "", "testdata/invictus", "--format", "jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then the pipe closes
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("trailhound: error"), "{err}");
    assert!(err.contains("reading stopped early"), "{err}");

    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = std::process::Command::new(&bin)
        .args(["search", "-q", "", "testdata/invictus", "--format", "jsonl"])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("writing to standard output"), "{err}");
}

#[test]
fn table_shows_the_context_in_time_order() {
    let out = search(&[r#"{ $.eventName = "ConsoleLogin" }"#, "testdata/invictus", "--format", "table"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.find("2023-07-10T12:23:15Z").unwrap();
    let second = text.find("2023-07-10T12:27:45Z").unwrap();
    assert!(first < second, "{text}");
    assert!(text.contains("signin:ConsoleLogin") && text.contains("console Mozilla/5.0") && text.contains("user/bert-jan"), "{text}");
}

#[test]
fn a_bad_pattern_is_an_error_with_a_caret() {
    let out = search(&["{ $.eventName = ConsoleLogin && }", "testdata/invictus"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("expected a comparison"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let caret = lines.iter().position(|l| l.trim() == "^").expect("a caret line");
    assert_eq!(lines[caret].find('^'), lines[caret - 1].find('}'), "{err}");
}
