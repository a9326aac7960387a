//! The `seed` and `cis` packs end to end: on hand-written events (each seed rule and filter fires
//! on one and not on its near misses), on the bundled real logs (Invictus, Stratus), and on a
//! simulated organisation with labelled attacks.

use crate::support::{evaluate, jsonl, simulate_org, trailhound};
use serde_json::Value;
use std::collections::BTreeMap;
use trailhound::event::Record;
use trailhound::rules::pack::{RulesConfig, load};
use trailhound::rules::pattern::FilterPattern;

/// The seed pack's patterns (rules and metric filters) by name, with `params`.
fn seed(params: &str) -> BTreeMap<String, FilterPattern> {
    let cfg: RulesConfig = toml::from_str(&format!("packs = [\"seed\"]\n[params]\n{params}")).unwrap();
    let loaded = load(&cfg, None).unwrap();
    let mut out = BTreeMap::new();
    for (_, r) in loaded.rules {
        out.insert(r.name, FilterPattern::parse_expanded(&r.pattern).unwrap());
    }
    for (_, f) in loaded.metric_filters {
        out.insert(f.filter_name, FilterPattern::parse_expanded(&f.filter_pattern).unwrap());
    }
    out
}

fn ev(identity: &str, members: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:00Z","eventID":"e","awsRegion":"us-east-1","userIdentity":{identity},{members}}}"#
    )
}

const ROLE: &str = r#"{"type":"AssumedRole","arn":"arn:aws:sts::111111111111:assumed-role/ROLE/s","accountId":"111111111111","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111111111111:role/ROLE","userName":"ROLE"}}}"#;
const USER: &str = r#"{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/alice","accountId":"111111111111","userName":"alice"}"#;

fn role(name: &str) -> String {
    ROLE.replace("ROLE", name)
}

fn hits(p: &FilterPattern, e: &str) -> bool {
    p.matches(&Record::parse(e).unwrap())
}

#[test]
fn seed_rules_fire_and_stay_quiet_where_they_should() {
    let p = seed(
        "pipeline_principals = [\"cicd\"]\nown_accounts = [\"111111111111\", \"222222222222\"]\nsensitive_buckets = [\"exports\"]\nexpected_bucket_listers = [\"arn:aws:sts::*:assumed-role/batch/*\"]\nexpected_enumerators = [\"arn:aws:sts::*:assumed-role/auditor/*\"]\n",
    );
    let run = r#""eventSource":"ec2.amazonaws.com","eventName":"RunInstances""#;
    let ec2 = &p["ec2_outside_pipeline"];
    assert!(hits(ec2, &ev(&role("admin"), run)));
    assert!(hits(ec2, &ev(USER, run)));
    assert!(hits(ec2, &ev(USER, &format!(r#"{run},"errorCode":"Client.UnauthorizedOperation""#))), "denied attempts count");
    assert!(!hits(ec2, &ev(&role("cicd"), run)));
    let asg = role("AWSServiceRoleForAutoScaling").replace(r#""accountId""#, r#""invokedBy":"autoscaling.amazonaws.com","accountId""#);
    assert!(!hits(ec2, &ev(&asg, run)), "launches AWS makes on the owner's behalf");
    assert!(!hits(ec2, &ev(&role("admin"), r#""eventSource":"ec2.amazonaws.com","eventName":"StartInstances""#)));

    let share = &p["resource_shared_externally"];
    let snap = |op: &str, who: &str| {
        ev(
            USER,
            &format!(
                r#""eventSource":"ec2.amazonaws.com","eventName":"ModifySnapshotAttribute","requestParameters":{{"snapshotId":"snap-1","createVolumePermission":{{"{op}":{{"items":[{who}]}}}}}}"#
            ),
        )
    };
    assert!(hits(share, &snap("add", r#"{"userId":"999999999999"}"#)));
    assert!(hits(share, &snap("add", r#"{"group":"all"}"#)), "made public");
    assert!(!hits(share, &snap("add", r#"{"userId":"222222222222"}"#)), "shared inside the organisation");
    assert!(!hits(share, &snap("remove", r#"{"userId":"999999999999"}"#)));
    let rds = |key: &str| {
        ev(
            USER,
            &format!(
                r#""eventSource":"rds.amazonaws.com","eventName":"ModifyDBSnapshotAttribute","requestParameters":{{"dBSnapshotIdentifier":"x","attributeName":"restore","{key}":["999999999999"]}}"#
            ),
        )
    };
    assert!(hits(share, &rds("valuesToAdd")) && !hits(share, &rds("valuesToRemove")));
    let ami = ev(
        USER,
        r#""eventSource":"ec2.amazonaws.com","eventName":"ModifyImageAttribute","requestParameters":{"imageId":"ami-1","launchPermission":{"add":{"items":[{"userId":"999999999999"}]}}}"#,
    );
    assert!(hits(share, &ami));

    let recon = &p["ListDescribeCalls"];
    let list = |who: &str, agent: &str| {
        ev(who, &format!(r#""eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","userAgent":"{agent}""#))
    };
    assert!(hits(recon, &list(&role("dev"), "aws-cli/2.15")));
    assert!(!hits(recon, &list(&role("auditor"), "aws-cli/2.15")), "expected enumerators");
    assert!(!hits(recon, &list(&role("dev"), "AWS Internal")));
    assert!(!hits(recon, &ev(&role("dev"), r#""eventSource":"ec2.amazonaws.com","eventName":"RunInstances""#)));

    let denied = &p["DeniedSensitiveCalls"];
    let call = |source: &str, code: &str| {
        ev(&role("app"), &format!(r#""eventSource":"{source}","eventName":"GetSecretValue","errorCode":"{code}""#))
    };
    assert!(hits(denied, &call("secretsmanager.amazonaws.com", "AccessDeniedException")));
    assert!(hits(denied, &call("ec2.amazonaws.com", "Client.UnauthorizedOperation")));
    assert!(!hits(denied, &call("secretsmanager.amazonaws.com", "ResourceNotFoundException")));
    assert!(!hits(denied, &call("cloudwatch.amazonaws.com", "AccessDenied")), "not a sensitive service");

    let listing = &p["SensitiveBucketListing"];
    let lb = |who: &str, bucket: &str, agent: &str| {
        ev(
            who,
            &format!(
                r#""eventSource":"s3.amazonaws.com","eventName":"ListObjects","userAgent":"{agent}","requestParameters":{{"bucketName":"{bucket}"}}"#
            ),
        )
    };
    assert!(hits(listing, &lb(&role("monitoring"), "exports", "aws-sdk-go")));
    assert!(!hits(listing, &lb(&role("batch"), "exports", "aws-sdk-go")), "expected lister");
    assert!(!hits(listing, &lb(&role("monitoring"), "exports", "AWS Internal")), "Macie, Access Analyzer");
    assert!(!hits(listing, &lb(&role("monitoring"), "app-data", "aws-sdk-go")), "not a sensitive bucket");
}

fn scan(config: &str, path: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("th.toml");
    std::fs::write(&cfg, config).unwrap();
    let out =
        trailhound().args(["scan", "-q", "--state", ":memory:", "--format", "jsonl", "--config"]).arg(&cfg).arg(path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    jsonl(&out.stdout)
}

fn kinds(alerts: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    // Incidents only: an alarm's update alerts (new principals while it stays in ALARM) are
    // checked where they are asserted.
    for a in alerts.iter().filter(|a| a["evidence"]["reason"] != "update") {
        *m.entry(format!("{}/{}", a["detector"].as_str().unwrap(), a["kind"].as_str().unwrap())).or_default() += 1;
    }
    m
}

/// Expected figures from a Python pass over the same files (eventName, requestParameters,
/// errorCode and caller per record), not from trailhound.
#[test]
fn packs_on_the_invictus_attack_logs() {
    let alerts = scan(
        "[first_seen]\nenabled = false\n[rules]\npacks = [\"cis\", \"seed\"]\n[rules.params]\nown_accounts = [\"123837392027\"]\npipeline_principals = [\"bert-jan\"]\n",
        "testdata/invictus",
    );
    let k = kinds(&alerts);
    // Snapshot, AMI and RDS snapshot each shared once with an outside account (and unshared).
    assert_eq!(k["rule/resource_shared_externally"], 3);
    let shared: Vec<&str> =
        alerts.iter().filter(|a| a["kind"] == "resource_shared_externally").map(|a| a["event_name"].as_str().unwrap()).collect();
    assert!(
        shared.contains(&"ModifySnapshotAttribute")
            && shared.contains(&"ModifyImageAttribute")
            && shared.contains(&"ModifyDBSnapshotAttribute")
    );
    // The two RunInstances by Stratus roles; bert-jan's own launches are the "pipeline".
    assert_eq!(k["rule/ec2_outside_pipeline"], 2);
    // 29 and 15 denied EC2 calls by two Stratus roles within minutes.
    let denied: Vec<&str> =
        alerts.iter().filter(|a| a["kind"] == "failed_calls_sensitive").map(|a| a["principal"].as_str().unwrap()).collect();
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert!(denied.iter().any(|p| p.ends_with("role/stratus-red-team-ec2-get-password-data-role")));
    // CIS: trail, IAM policy, Organizations (leave-org technique) changes alarm once each.
    for kind in
        ["alarm/cloudtrail_config_changes", "alarm/iam_policy_changes", "alarm/organizations_changes", "alarm/unauthorized_api_calls"]
    {
        assert_eq!(k.get(kind), Some(&1), "{kind}: {k:?}");
    }
    assert!(!k.contains_key("alarm/root_account_usage"), "no root activity in the set");
    // A second caller's denied calls while unauthorized_api_calls is still in ALARM: one update.
    let updates: Vec<&Value> = alerts.iter().filter(|a| a["evidence"]["reason"] == "update").collect();
    assert!(updates.iter().all(|u| !u["evidence"]["update"]["new_principals"].as_array().unwrap().is_empty()), "{updates:?}");
}

#[test]
fn snapshot_sharing_in_the_stratus_detonation() {
    let alerts = scan(
        "[first_seen]\nenabled = false\n[rules]\npacks = [\"seed\"]\n",
        "testdata/stratus/aws.exfiltration.ec2-share-ebs-snapshot.json",
    );
    assert_eq!(kinds(&alerts).get("rule/resource_shared_externally"), Some(&1));
}

#[test]
fn packs_and_traps_catch_the_simulated_attacks() {
    let dir = tempfile::tempdir().unwrap();
    let tree = simulate_org(dir.path(), 2, 10, 0.02);
    // The simulator's own config, first-seen off: what rules, alarms and traps see alone.
    let cfg = std::fs::read_to_string(dir.path().join("sim.trailhound.toml"))
        .unwrap()
        .replace("[first_seen]\n", "[first_seen]\nenabled = false\n");
    let cfg_path = dir.path().join("rules-only.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let labels = dir.path().join("sim.labels.json");
    let card = evaluate(&["--labels", labels.to_str().unwrap(), "--config", cfg_path.to_str().unwrap(), tree.to_str().unwrap()]);
    let by = |technique: &str| -> Vec<String> {
        let s = card["scenarios"].as_array().unwrap().iter().find(|s| s["technique"] == technique).unwrap_or_else(|| panic!("{technique}"));
        s["detected_by"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    for (technique, detector) in [
        ("ebs_snapshot_shared", "rule/resource_shared_externally"),
        ("ami_shared", "rule/resource_shared_externally"),
        ("rds_snapshot_shared", "rule/resource_shared_externally"),
        ("ec2_outside_pipeline", "rule/ec2_outside_pipeline"),
        ("recon_burst", "alarm/recon_burst"),
        ("failed_calls_sensitive", "alarm/failed_calls_sensitive"),
        ("s3_sensitive_enumeration", "alarm/s3_enumeration"),
        ("cloudtrail_tampering", "alarm/cloudtrail_config_changes"),
        ("trap_console_login", "trap/console_login"),
        ("trap_assume_role", "trap/assume_role"),
        ("trap_dynamodb", "trap/dynamodb_table"),
        ("trap_s3_object", "trap/s3_object"),
    ] {
        assert!(by(technique).iter().any(|d| d == detector), "{technique} not caught by {detector}: {:?}", by(technique));
    }
    let noise = card["benign_alerts_per_principal_day"].as_f64().unwrap();
    assert!(noise <= 0.05, "benign alerts per principal-day {noise}");
}

/// `trailhound rules` lists what a config runs, with expanded patterns and what is off, and
/// fails on a config that would not scan.
#[test]
fn rules_lists_what_a_config_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("th.toml");
    std::fs::write(
        &cfg,
        "[rules]\npacks = [\"cis\", \"seed\"]\ndisable = [\"cis/vpc_changes\"]\n[rules.params]\nown_accounts = [\"111122223333\"]\n",
    )
    .unwrap();
    let out = trailhound().args(["rules", "--format", "json", "--config"]).arg(&cfg).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = doc["rules"].as_array().unwrap();
    let find = |name: &str| rules.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("{name} not listed"));
    let shared = find("resource_shared_externally");
    assert_eq!((shared["kind"].as_str(), shared["state"].as_str()), (Some("rule"), Some("active")));
    assert!(shared["what"].as_str().unwrap().contains("\"111122223333\""), "parameters expanded");
    assert_eq!(find("vpc_changes")["state"], "disabled");
    let listing = find("SensitiveBucketListing");
    assert_eq!((listing["state"].as_str(), listing["needs"].as_str()), (Some("inactive"), Some("sensitive_buckets")));
    assert_eq!(find("recon_burst")["kind"], "alarm");
    assert_eq!(rules.iter().filter(|r| r["kind"] == "metric_filter" && r["pack"] == "cis").count(), 15);
    assert_eq!(doc["detectors"], serde_json::json!(["first_seen", "rule", "alarm", "statistics"]));

    std::fs::write(&cfg, "[[rules.rule]]\nname = \"x\"\npattern = '{ $.a = %(x)% }'\n").unwrap();
    let out = trailhound().args(["rules", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rule config/x") && err.contains("parentheses"), "{err}");
}
