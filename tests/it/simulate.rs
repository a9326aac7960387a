//! `trailhound simulate`: determinism, labels that point into the tree, and a clean `stats` read.

use crate::support::stats;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use trailhound::simulate::labels::{Labels, ScenarioKind};
use trailhound::simulate::{SimConfig, attacks, parse_attacks, run};

fn config(dir: &Path, seed: u64, threads: usize) -> SimConfig {
    SimConfig {
        out: dir.join("tree"),
        labels: dir.join("tree.labels.json"),
        accounts: 3,
        days: 8,
        scale: 0.02,
        seed,
        start: 1_714_953_600_000, // 2024-05-06
        attacks: parse_attacks("all").unwrap(),
        threads,
        gzip_level: 1,
    }
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        walkdir::WalkDir::new(root).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()).map(|e| e.into_path()).collect();
    v.sort();
    v
}

fn tree_hash(root: &Path) -> u64 {
    let mut h = Vec::new();
    for f in files(root) {
        h.extend_from_slice(f.strip_prefix(root).unwrap().to_string_lossy().as_bytes());
        h.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&std::fs::read(&f).unwrap()).to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&h)
}

#[test]
fn same_seed_same_bytes_whatever_the_thread_count() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(&config(a.path(), 11, 2)).unwrap();
    run(&config(b.path(), 11, 1)).unwrap();
    run(&config(c.path(), 12, 2)).unwrap();
    assert_eq!(tree_hash(&a.path().join("tree")), tree_hash(&b.path().join("tree")));
    assert_eq!(std::fs::read(a.path().join("tree.labels.json")).unwrap(), std::fs::read(b.path().join("tree.labels.json")).unwrap());
    assert_ne!(tree_hash(&a.path().join("tree")), tree_hash(&c.path().join("tree")), "another seed gives another corpus");
}

#[test]
fn labels_point_at_events_in_the_tree_and_stats_reads_it_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), 5, 2);
    let summary = run(&cfg).unwrap();
    let labels: Labels = serde_json::from_slice(&std::fs::read(&cfg.labels).unwrap()).unwrap();
    assert!(!cfg.out.join("tree.labels.json").exists());

    // Every record in the tree, by eventID, with its principal ARN.
    let mut ids = HashSet::new();
    let (mut records, mut digests) = (0u64, 0u64);
    for f in files(&cfg.out) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&f).unwrap()).read_to_string(&mut text).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        if f.to_string_lossy().contains("CloudTrail-Digest") {
            digests += 1;
            assert!(name.contains("_CloudTrail-Digest_"), "{name}");
            assert!(doc["logFiles"].is_array());
            continue;
        }
        assert!(name.contains("_CloudTrail_") && name.ends_with(".json.gz"), "{name}");
        for r in doc["Records"].as_array().unwrap() {
            records += 1;
            assert!(r["userIdentity"].is_object() && r["eventCategory"].is_string() && r["readOnly"].is_boolean());
            ids.insert(r["eventID"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(records, summary.records);
    assert_eq!(digests, summary.digest_files);
    assert_eq!(ids.len() as u64, summary.records - summary.duplicates);

    let attack_names: HashSet<&str> =
        labels.scenarios.iter().filter(|s| s.kind == ScenarioKind::Attack).map(|s| s.technique.as_str()).collect();
    for name in attacks::ATTACKS {
        assert!(attack_names.contains(name), "attack {name} is labelled");
    }
    for s in &labels.scenarios {
        for id in &s.event_ids {
            assert!(ids.contains(id), "{}: eventID {id} is in the tree", s.id);
        }
        let gap_or_account_change = s.technique == "skipped_backup" || s.technique == "new_account";
        assert_eq!(s.event_ids.is_empty(), gap_or_account_change, "{}", s.id);
        assert!(s.start <= s.end);
    }

    // The product's own reader: zero bad records, every duplicate recognised.
    let (code, stats, err) = stats(&["-q", cfg.out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(stats["bad_records"], 0);
    assert_eq!(stats["file_errors"], 0);
    assert_eq!(stats["records"], summary.records);
    assert_eq!(stats["duplicates"], summary.duplicates);
    assert_eq!(stats["events"], summary.records - summary.duplicates);
    assert_eq!(stats["skipped_by_reason"]["digest"], summary.digest_files);
    assert_eq!(stats["accounts"], 3);
}

#[test]
fn refuses_to_mix_corpora_or_put_labels_in_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), 1, 1);
    cfg.days = 1;
    cfg.labels = cfg.out.join("labels.json");
    assert!(run(&cfg).unwrap_err().to_string().contains("inside the log tree"));
    cfg.labels = dir.path().join("l.json");
    run(&cfg).unwrap();
    assert!(run(&cfg).unwrap_err().to_string().contains("already holds"));
    assert!(parse_attacks("recon_burst,nope").is_err());
}
