use super::*;
use crate::alert::Alert;
use crate::detect::first_seen::tests::{cfg, rec};
use std::path::Path;

fn write(dir: &Path, name: &str, records: &[String]) {
    std::fs::write(dir.join(name), format!("{{\"Records\":[{}]}}", records.join(","))).unwrap();
}

#[test]
fn alerts_raised_by_a_killed_run_are_delivered_once_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let det = Detectors::first_seen_only(&cfg(0));
    let mut store = crate::store::open(&dir.path().join("s.sqlite")).unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    write(&logs, "a.json", &[rec(0.0, "user:111:alice", "s3:GetObject", "us-east-1", None)]);
    let files = |p: &Path| crate::source::discover(&[p.to_path_buf()], Default::default(), crate::source::StatWhen::Now).0;
    let (learn, detect, reread) = (Mode { learn: true, reread: false }, Mode::default(), Mode { learn: false, reread: true });
    let opts = ReadOptions { threads: 1, ..ReadOptions::default() };
    let mut got: Vec<Alert> = Vec::new();
    run(&mut *store, &det, &files(&logs), &opts, learn, &mut [&mut got]).unwrap();
    assert!(got.is_empty());

    // A run killed after its commit but before delivery leaves alerts in the outbox.
    write(&logs, "b.json", &[rec(1.0, "user:111:alice", "iam:CreateUser", "us-east-1", None)]);
    let mut failing = FailingSink;
    assert!(run(&mut *store, &det, &files(&logs), &opts, detect, &mut [&mut failing]).is_err());
    let out = run(&mut *store, &det, &files(&logs), &opts, detect, &mut [&mut got]).unwrap();
    assert_eq!(out.already_processed, 2);
    assert_eq!(out.delivered, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event_name.as_deref(), Some("CreateUser"));
    let out = run(&mut *store, &det, &files(&logs), &opts, reread, &mut [&mut got]).unwrap();
    assert_eq!((out.delivered, got.len()), (0, 1), "a reread raises nothing new");
}

struct FailingSink;

impl AlertSink for FailingSink {
    fn send(&mut self, _: &Alert, _: &str) -> anyhow::Result<()> {
        anyhow::bail!("killed")
    }
}

#[test]
fn an_alert_left_in_an_older_stores_outbox_is_delivered_not_dropped() {
    // The body a trailhound before the alert contract stored: no id, no raised_at, free evidence.
    let old = r#"{"detector":"first_seen","kind":"new_region","severity":"medium","title":"t","principal":"arn:aws:iam::111:user/alice","event_time":"2024-05-06T02:09:59Z","event_ids":["e1"],"count":1,"evidence":{"attempt_only":false,"behaviours":[{"action":"ec2:DescribeInstances"}]}}"#;
    let mut store = crate::store::open_in_memory().unwrap();
    let tx = store.transaction().unwrap();
    assert!(tx.insert_alert("0123abcd", "first_seen", None, Some(1), old, 0).unwrap());
    tx.commit().unwrap();
    let mut got: Vec<Alert> = Vec::new();
    assert_eq!(deliver::pending(store.as_mut(), &mut [&mut got]).unwrap(), 1);
    assert_eq!(got[0].id, "0123abcd", "the outbox key stands in for the id");
    assert_eq!(got[0].evidence.to_json()["behaviours"][0]["action"], "ec2:DescribeInstances");
}
