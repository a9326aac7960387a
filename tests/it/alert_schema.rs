//! The alert contract (docs/alerts.md): alerts from real scans of repo fixtures validate against
//! docs/alert.schema.json, carry stable ids, and their fields agree with each other.

use crate::support::scan_jsonl;
use serde_json::Value;
use std::collections::BTreeSet;

const CONFIG: &str = r#"
[first_seen]
burn_in_days = 0
[rules]
packs = ["cis", "seed"]
[[traps.secret]]
name = "stratus-red-team-retrieve-secret-3"
[[traps.ec2_instance]]
id = "i-0dbc91f429e48eeed"
"#;

fn scan(dir: &std::path::Path, state: &str, paths: &[&str]) -> Vec<Value> {
    let cfg = dir.join("alerts.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    scan_jsonl(&dir.join(state), &cfg, paths)
}

#[test]
fn scanned_alerts_follow_the_schema_and_agree_with_themselves() {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string("docs/alert.schema.json").unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let alerts = scan(dir.path(), "a.sqlite", &["testdata/invictus", "testdata/stratus"]);
    let detectors: BTreeSet<&str> = alerts.iter().map(|a| a["detector"].as_str().unwrap()).collect();
    assert_eq!(detectors, BTreeSet::from(["alarm", "first_seen", "rule", "trap"]), "every detector is exercised");
    for a in &alerts {
        let errors: Vec<String> = validator.iter_errors(a).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:?}\n{a}");
        if a["detector"] == "first_seen" {
            // The top-level event fields describe the group's earliest member; members are
            // ranked riskiest first.
            let members = a["evidence"]["behaviours"].as_array().unwrap();
            let first = members.iter().min_by_key(|b| (b["first_event_time"].as_str(), b["first_event_id"].as_str())).unwrap();
            assert_eq!(a["event_time"], first["first_event_time"], "{a}");
            assert_eq!(a["event_ids"][0], first["first_event_id"], "{a}");
            let risks: Vec<u64> = members.iter().map(|b| b["risk"].as_u64().unwrap()).collect();
            assert!(risks.windows(2).all(|w| w[0] >= w[1]), "{a}");
        }
    }
    // 61 touches of the instance by its role's sessions within an hour are not 61 alerts.
    let instance: Vec<&Value> = alerts.iter().filter(|a| a["evidence"]["trap"]["type"] == "ec2_instance").collect();
    let touches: u64 = instance.iter().map(|a| a["count"].as_u64().unwrap()).sum();
    assert!(instance.len() < 10 && touches >= 61, "{} alerts, {touches} touches", instance.len());

    // A rescan into a fresh store gives the same ids, whatever the batches.
    let again = scan(dir.path(), "b.sqlite", &["testdata/invictus", "testdata/stratus"]);
    let ids = |v: &[Value]| v.iter().map(|a| a["id"].as_str().unwrap().to_string()).collect::<BTreeSet<_>>();
    assert_eq!(ids(&alerts), ids(&again));
    assert_eq!(ids(&alerts).len(), alerts.len(), "ids are unique");
}
