//! `trailhound evaluate` on real labelled data (Invictus subset) and on a simulated corpus.

use crate::support::{evaluate, simulate_org, trailhound};
use std::io::Write;

#[test]
fn invictus_labels_score_the_detectors_a_scan_would_run() {
    let card = evaluate(&["--labels", "testdata/evaluate/invictus_labels_subset.csv", "testdata/evaluate/invictus"]);
    let rows = std::fs::read_to_string("testdata/evaluate/invictus_labels_subset.csv").unwrap().lines().count() - 1;
    assert_eq!(card["read"]["events"], rows as u64);
    assert_eq!(card["read"]["bad_records"], 0);
    let techniques: Vec<&str> = card["scenarios"].as_array().unwrap().iter().map(|s| s["technique"].as_str().unwrap()).collect();
    assert!(techniques.contains(&"aws.exfiltration.rds-share-snapshot"), "{techniques:?}");
    assert_eq!(card["attacks"], techniques.len());
    // The default first-seen burn-in (14 days) covers this 44-event subset: nothing raised.
    assert_eq!(card["read"]["detectors"][0], "first_seen");
    assert_eq!(card["attacks_detected"], 0);
    assert_eq!(card["alerts"], 0);
    // Without burn-in every first action alerts, so each alert lands on a labelled technique.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("th.toml");
    std::fs::write(&cfg, "[first_seen]\nburn_in_days = 0\n").unwrap();
    let card = evaluate(&[
        "--labels",
        "testdata/evaluate/invictus_labels_subset.csv",
        "--config",
        cfg.to_str().unwrap(),
        "testdata/evaluate/invictus",
    ]);
    assert!(card["attacks_detected"].as_u64().unwrap() >= 1, "{card}");
    assert_eq!(card["alerts_unexplained"], 0);
}

#[test]
fn saved_alerts_score_against_simulated_labels() {
    let dir = tempfile::tempdir().unwrap();
    let tree = simulate_org(dir.path(), 2, 4, 0.01);
    let labels_path = dir.path().join("sim.labels.json");
    let labels: serde_json::Value = serde_json::from_slice(&std::fs::read(&labels_path).unwrap()).unwrap();
    let trap = labels["scenarios"].as_array().unwrap().iter().find(|s| s["technique"] == "trap_console_login").unwrap();
    // One alert on the trap's first event, one on nothing labelled.
    let alert = |id: &str, time: &str| {
        serde_json::json!({"id": format!("{:032x}", id.len()), "raised_at": "2024-05-01T00:00:00Z", "detector": "trap", "kind": "console_login", "severity": "high", "title": "t", "account": trap["account"], "region": null,
            "principal": "arn:aws:iam::000000000000:user/nobody", "principal_type": null, "session": null, "event_source": null, "event_name": null,
            "event_time": time, "event_ids": [id], "source_ip": null, "user_agent": null, "error_code": null, "count": 1,
            "evidence": {"pack": "p", "rule": "r", "pattern": "{ $.x = 1 }"}})
    };
    let alerts_path = dir.path().join("alerts.jsonl");
    let mut f = std::fs::File::create(&alerts_path).unwrap();
    writeln!(f, "{}", alert(trap["event_ids"][0].as_str().unwrap(), trap["start"].as_str().unwrap())).unwrap();
    writeln!(f).unwrap();
    writeln!(f, "{}", alert("not-an-attack", labels["end"].as_str().unwrap())).unwrap();
    drop(f);
    let card = evaluate(&["--labels", labels_path.to_str().unwrap(), "--alerts", alerts_path.to_str().unwrap()]);
    let trap_result = card["scenarios"].as_array().unwrap().iter().find(|s| s["technique"] == "trap_console_login").unwrap();
    assert_eq!(trap_result["detected"], true);
    assert_eq!(trap_result["delay_seconds"], 0);
    assert_eq!(trap_result["detected_by"][0], "trap/console_login");
    assert_eq!(card["attacks_detected"], 1);
    assert_eq!(card["alerts_on_attacks"], 1);
    assert_eq!(card["alerts_unexplained"], 1);
    assert_eq!(card["precision"], 0.5);

    // The log tree through the detectors a scan runs: 4 days are all first-seen burn-in.
    let card = evaluate(&["--labels", labels_path.to_str().unwrap(), tree.to_str().unwrap()]);
    assert_eq!(card["alerts"], 0);
    assert!(card["read"]["events"].as_u64().unwrap() > 0);

    // A broken alerts line is named.
    std::fs::write(&alerts_path, "{}\n").unwrap();
    let out = trailhound().args(["evaluate", "--labels"]).arg(&labels_path).arg("--alerts").arg(&alerts_path).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
}

#[test]
fn stratus_detonation_logs_label_themselves_by_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("th.toml");
    std::fs::write(&cfg, "[first_seen]\nburn_in_days = 0\n").unwrap();
    let card = evaluate(&["--labels", "testdata/stratus", "--config", cfg.to_str().unwrap(), "testdata/stratus"]);
    let techniques: Vec<&str> = card["scenarios"].as_array().unwrap().iter().map(|s| s["technique"].as_str().unwrap()).collect();
    assert_eq!(techniques.len(), 5, "{techniques:?}");
    assert!(techniques.contains(&"aws.persistence.iam-create-admin-user"));
    // No benign traffic in detonation logs: nothing can be noise.
    assert_eq!(card["principal_days"], 0);
    assert_eq!(card["alerts_unexplained"], 0);
    assert!(card["attacks_detected"].as_u64().unwrap() >= 1);
}

/// The first-seen noise budget (docs/first-seen.md): on the simulated organisation, after
/// burn-in, at most 0.05 benign alerts per principal-day, while the stolen-credential and
/// new-region attacks still alert.
#[test]
fn first_seen_stays_within_its_benign_budget_on_a_simulated_org() {
    let dir = tempfile::tempdir().unwrap();
    let tree = simulate_org(dir.path(), 2, 16, 0.02);
    let cfg = dir.path().join("th.toml");
    std::fs::write(&cfg, "[first_seen]\nburn_in_days = 7\n").unwrap();
    let labels = dir.path().join("sim.labels.json");
    let card = evaluate(&["--labels", labels.to_str().unwrap(), "--config", cfg.to_str().unwrap(), tree.to_str().unwrap()]);
    let rate = card["benign_alerts_per_principal_day"].as_f64().unwrap();
    assert!(rate <= 0.05, "benign alerts per principal-day {rate} over budget: {card}");
    assert!(card["principal_days"].as_u64().unwrap() >= 100);
    let detected = |prefix: &str| {
        card["scenarios"].as_array().unwrap().iter().any(|s| s["id"].as_str().unwrap().contains(prefix) && s["detected"] == true)
    };
    assert!(detected("stolen-credentials"), "{card}");
    assert!(detected("known-api-new-region"), "{card}");
}

/// The Invictus labels scored by event ids, technique by technique: a regression test of the
/// detectors and of the scorecard. Terraform's launches (labelled benign) alert through
/// `ec2_outside_pipeline` but credit no technique, as they once did by sharing a principal and a
/// window with eight of them.
#[test]
fn invictus_techniques_are_credited_by_event_ids() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("th.toml");
    std::fs::write(
        &cfg,
        "[first_seen]\nburn_in_days = 0\n[rules]\npacks = [\"cis\", \"seed\"]\n[rules.params]\npipeline_principals = [\"none-here\"]\n",
    )
    .unwrap();
    let card = evaluate(&["--labels", INVICTUS_LABELS, "--config", cfg.to_str().unwrap(), "testdata/invictus"]);
    let detected: Vec<&str> = card["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["detected"] == true)
        .map(|s| s["technique"].as_str().unwrap().trim_start_matches("aws."))
        .collect();
    assert_eq!(detected, INVICTUS_DETECTED, "{card}");
    assert_eq!(card["attacks"], 26);
    // Crediting is by event ids alone: a detected technique's alerts name its events, and the
    // launches credit nothing.
    for s in card["scenarios"].as_array().unwrap() {
        assert_eq!(s["detected"], s["alerts"].as_u64().unwrap() > 0, "{s}");
        assert!(
            !s["detected_by"].as_array().unwrap().iter().any(|d| d == "rule/ec2_outside_pipeline")
                || s["technique"].as_str().unwrap().contains("ec2"),
            "{s}"
        );
    }
    assert_eq!(card["alerts_on_attacks"], INVICTUS_ON_ATTACKS, "{card}");
    assert!(card["alerts_on_benign_events"].as_u64().unwrap() > 0, "{card}");
    // One day of activity: the noise rate has its denominator.
    assert!(card["principal_days"].as_u64().unwrap() > 0, "{card}");
    assert!(card["benign_alerts_per_principal_day"].is_number(), "{card}");
    assert_eq!(card["read"]["labelled_attack_events_unread"], 0);
}

/// Labelled events that were never read are named: here the labels cover all 55 files and only
/// 4 are read.
#[test]
fn labelled_events_never_read_are_warned_about() {
    let out = trailhound()
        .args(["evaluate", "--format", "json", "-q", "--labels", INVICTUS_LABELS, "testdata/evaluate/invictus"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let card: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unread = card["read"]["labelled_attack_events_unread"].as_u64().unwrap();
    assert!(unread > 100, "{card}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("warning: {unread} of 182 labelled attack events were never read")), "{err}");
    assert!(err.contains("duplicates") && err.contains("i05-defense-evasion.cloudtrail-delete"), "{err}");
}

const INVICTUS_LABELS: &str = "testdata/evaluate/invictus_labels.csv";
/// Techniques detected with burn-in 0, the cis and seed packs and a pipeline that launched
/// nothing (docs/evaluation.md has the figures and the command). 13 of 26: before crediting by
/// event ids, the launches and alarms sharing a principal and a window made it 19.
const INVICTUS_DETECTED: &[&str] = &[
    "credential-access.ec2-get-password-data",
    "credential-access.ec2-steal-instance-credentials",
    "defense-evasion.cloudtrail-delete",
    "defense-evasion.organizations-leave",
    "discovery.ec2-download-user-data",
    "discovery.ec2-enumerate-from-instance",
    "execution.ec2-launch-unusual-instances",
    "exfiltration.ec2-security-group-open-port-22-ingress",
    "exfiltration.ec2-share-ami",
    "exfiltration.ec2-share-ebs-snapshot",
    "exfiltration.rds-share-snapshot",
    "initial-access.console-login-without-mfa",
    "persistence.lambda-backdoor-function",
];
const INVICTUS_ON_ATTACKS: u64 = 22;
