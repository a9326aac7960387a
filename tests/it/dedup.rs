//! Duplicate deliveries through the CLI: a copy of an event is dropped, but a record that reuses
//! an event's (account, eventID) with another eventName or eventTime is another event: kept,
//! counted and named.

use crate::support::trailhound;
use serde_json::{Value, json};

fn record(id: &str, name: &str, time: &str) -> Value {
    json!({
        "eventVersion": "1.08", "eventTime": time, "eventSource": "iam.amazonaws.com", "eventName": name,
        "awsRegion": "us-east-1", "eventID": id, "recipientAccountId": "111122223333", "eventType": "AwsApiCall",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"},
    })
}

#[test]
fn a_record_reusing_an_event_id_for_another_event_is_kept_counted_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.json");
    let records = [
        record("id-1", "GetUser", "2024-03-01T12:00:00Z"),
        record("id-1", "GetUser", "2024-03-01T12:00:00Z"),    // a copy: dropped
        record("id-1", "DeleteUser", "2024-03-01T12:00:00Z"), // another event
        record("id-1", "GetUser", "2024-03-01T12:05:00Z"),    // another event
        record("id-1", "DeleteUser", "2024-03-01T12:00:00Z"), // a copy of the second event
        record("id-2", "GetUser", "2024-03-01T12:00:00Z"),
    ];
    std::fs::write(&file, json!({ "Records": records }).to_string()).unwrap();

    let out = trailhound().args(["stats", "--format", "json", "-q"]).arg(&file).output().unwrap();
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&report["events"], &report["duplicates"], &report["conflicting_ids"]), (&json!(4), &json!(2), &json!(2)), "{report:#}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("eventID")).collect();
    assert_eq!(warnings.len(), 1, "one warning per file: {stderr}");
    assert!(warnings[0].contains("2 records kept as distinct events") && warnings[0].contains("111122223333/id-1"), "{stderr}");

    let scan = trailhound()
        .arg("scan")
        .arg("--state")
        .arg(dir.path().join("s.sqlite"))
        .args(["-q", "--format", "jsonl"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(scan.status.success());
    let summary = String::from_utf8_lossy(&scan.stderr);
    assert!(summary.contains(", 2 conflicting event ids; 4 events read"), "{summary}");
}
