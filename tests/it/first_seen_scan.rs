//! End-to-end first-seen scans through the CLI: learn then scan, rescans, day-by-day runs.

use crate::support::{jsonl, trailhound};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

/// `principal kind action-or-region outcome` for every behaviour in every alert.
fn behaviours(alerts: &[Value]) -> BTreeSet<String> {
    alerts
        .iter()
        .flat_map(|a| {
            a["evidence"]["behaviours"].as_array().unwrap().iter().map(move |b| {
                let what = b.get("new_region").and_then(Value::as_str).unwrap_or_else(|| b["action"].as_str().unwrap());
                format!("{} {} {} {}", a["principal"].as_str().unwrap(), b["kind"].as_str().unwrap(), what, b["outcome"].as_str().unwrap())
            })
        })
        .collect()
}

#[test]
fn invictus_attack_part_alerts_after_learning_the_first_part() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let config = dir.path().join("trailhound.toml");
    // The capture is 55 minutes long: no burn-in, or nothing could ever alert.
    std::fs::write(&config, "[first_seen]\nburn_in_days = 0\n").unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/invictus/CloudTrail");
    let args = |extra: &[&str]| {
        let mut v: Vec<String> =
            vec!["--state".into(), state.display().to_string(), "--config".into(), config.display().to_string(), "-q".into()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push(data.display().to_string());
        v
    };
    let learn = trailhound().arg("baseline").arg("learn").args(args(&["--until", "2023-07-10T12:20:00Z"])).output().unwrap();
    assert!(learn.status.success(), "{}", String::from_utf8_lossy(&learn.stderr));
    assert!(learn.stdout.is_empty());

    let scan = trailhound().arg("scan").args(args(&["--since", "2023-07-10T12:20:00Z", "--format", "jsonl"])).output().unwrap();
    assert!(scan.status.success(), "{}", String::from_utf8_lossy(&scan.stderr));
    let raised = jsonl(&scan.stdout);
    let seen = behaviours(&raised);
    let user = "arn:aws:iam::123837392027:user/bert-jan";
    // Stratus detonations after 12:20 (rds-share-snapshot, iam-create-user-login-profile,
    // iam-backdoor-role, iam-backdoor-user, iam-create-admin-user, lambda-overwrite-code,
    // rolesanywhere-create-trust-anchor): each is a first for the account.
    for action in [
        "rds:ModifyDBSnapshotAttribute",
        "iam:CreateLoginProfile",
        "iam:UpdateAssumeRolePolicy",
        "iam:CreateAccessKey",
        "iam:AttachUserPolicy",
        "lambda:UpdateFunctionCode20150331v2",
        "rolesanywhere:CreateTrustAnchor",
    ] {
        assert!(seen.contains(&format!("{user} first_in_account {action} success")), "{action} missing from {seen:#?}");
    }
    // console-login-without-mfa: the Stratus-created user's console login.
    assert!(
        seen.contains("arn:aws:iam::123837392027:user/stratus-red-team-nmfalu-gfjyeaypjt first_in_account signin:ConsoleLogin success")
    );
    // Actions learned in the first part do not alert again.
    assert!(!seen.iter().any(|s| s.contains(" ec2:DescribeInstances ")), "{seen:#?}");
    for a in &raised {
        for field in [
            "detector",
            "kind",
            "severity",
            "title",
            "account",
            "principal",
            "principal_type",
            "event_time",
            "event_ids",
            "count",
            "evidence",
        ] {
            assert!(!a[field].is_null(), "{field} missing in {a}");
        }
        assert!(a["evidence"]["principal_first_seen"].is_string());
        // 0 for a principal whose first actions these are (new in an account past its burn-in).
        assert!(a["evidence"]["principal_behaviours"].is_u64());
    }

    // The same files again: already processed, nothing read, nothing raised.
    let again = trailhound().arg("scan").args(args(&["--format", "jsonl"])).output().unwrap();
    assert!(again.status.success());
    assert!(again.stdout.is_empty(), "{}", String::from_utf8_lossy(&again.stdout));
    // Even forced to reread every file, the baselines know it all.
    let reread = trailhound().arg("scan").args(args(&["--format", "jsonl", "--reread"])).output().unwrap();
    assert!(reread.status.success());
    assert!(reread.stdout.is_empty(), "{}", String::from_utf8_lossy(&reread.stdout));
}

fn date(day: u32) -> (u32, u32) {
    (1 + day / 28, 1 + day % 28)
}

/// Writes one CloudTrail file for day `day` (delivered that day) holding `records`.
fn write_day(root: &Path, day: u32, records: &[Value]) {
    let (m, d) = date(day);
    let dir = root.join(format!("AWSLogs/111122223333/CloudTrail/us-east-1/2024/{m:02}/{d:02}"));
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("111122223333_CloudTrail_us-east-1_2024{m:02}{d:02}T2355Z_f{day}.json");
    std::fs::write(dir.join(name), json!({ "Records": records }).to_string()).unwrap();
}

fn event(day: u32, hour: u32, who: &str, action: &str, region: &str, err: Option<&str>, n: usize) -> Value {
    let (svc, api) = action.split_once(':').unwrap();
    let (m, d) = date(day);
    let time = format!("2024-{m:02}-{d:02}T{hour:02}:{:02}:00Z", n % 60);
    let identity = match who.strip_prefix("role/") {
        Some(name) => {
            json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::111122223333:assumed-role/{name}/i-0abc"), "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::111122223333:role/{name}"), "accountId": "111122223333"}}})
        }
        None => {
            json!({"type": "IAMUser", "arn": format!("arn:aws:iam::111122223333:user/{who}"), "accountId": "111122223333", "userName": who})
        }
    };
    let mut v = json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": format!("{svc}.amazonaws.com"), "eventName": api,
        "awsRegion": region, "eventID": format!("{day}-{hour}-{n}-{who}-{action}"), "recipientAccountId": "111122223333",
        "eventType": "AwsApiCall", "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.15", "userIdentity": identity,
    });
    if let Some(e) = err {
        v["errorCode"] = json!(e);
    }
    v
}

#[test]
fn day_by_day_equals_all_at_once_and_rescans_raise_nothing() {
    let days = 50u32;
    let mut per_day: Vec<Vec<Value>> = Vec::new();
    for d in 0..days {
        let mut v = vec![
            event(d, 9, "alice", "s3:GetObject", "us-east-1", None, 0),
            event(d, 10, "role/app", "sqs:SendMessage", "us-east-1", None, 1),
            event(d, 11, "role/app", "dynamodb:PutItem", "us-east-1", None, 2),
        ];
        if d % 11 == 7 {
            v.push(event(d, 12, "alice", &format!("iam:Api{d}"), "us-east-1", None, 3));
            v.push(event(d, 12, "alice", &format!("ec2:Other{d}"), "us-east-1", None, 4));
        }
        if d == 30 {
            v.push(event(d, 13, "role/app", "iam:CreateAccessKey", "us-east-1", Some("AccessDenied"), 5));
            v.push(event(d, 14, "role/app", "s3:GetObject", "ap-southeast-2", None, 6));
        }
        if d == 31 {
            v.push(event(d, 13, "role/app", "iam:CreateAccessKey", "us-east-1", None, 7));
        }
        // Late delivery: two days ago, delivered today.
        if d > 20 && d % 6 == 0 {
            v.push(event(d - 2, 15, "alice", &format!("kms:Late{d}"), "us-east-1", None, 8));
        }
        per_day.push(v);
    }
    let cfg_dir = tempfile::tempdir().unwrap();
    let config = cfg_dir.path().join("c.toml");
    std::fs::write(&config, "[first_seen]\nburn_in_days = 8\n").unwrap();
    let scan = |state: &Path, root: &Path| -> Vec<Value> {
        let out = trailhound()
            .args(["scan", "-q", "--format", "jsonl", "--state"])
            .arg(state)
            .arg("--config")
            .arg(&config)
            .arg(root)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        jsonl(&out.stdout)
    };

    let all_dir = tempfile::tempdir().unwrap();
    for (d, recs) in per_day.iter().enumerate() {
        write_day(all_dir.path(), d as u32, recs);
    }
    let at_once = scan(&all_dir.path().join("state.sqlite"), &all_dir.path().join("AWSLogs"));

    let daily_dir = tempfile::tempdir().unwrap();
    let mut by_day = Vec::new();
    for (d, recs) in per_day.iter().enumerate() {
        write_day(daily_dir.path(), d as u32, recs);
        by_day.extend(scan(&daily_dir.path().join("state.sqlite"), &daily_dir.path().join("AWSLogs")));
    }
    let (a, b) = (behaviours(&at_once), behaviours(&by_day));
    assert_eq!(a, b);
    let alice = "arn:aws:iam::111122223333:user/alice";
    let app = "arn:aws:iam::111122223333:role/app";
    // Day 7 is inside the 8-day burn-in (coverage starts day 0): no alert. Later bursts alert.
    assert!(!a.iter().any(|s| s.contains("Api7 ")), "{a:#?}");
    assert!(a.contains(&format!("{alice} first_in_account iam:Api18 success")), "{a:#?}");
    assert!(a.contains(&format!("{app} first_in_account iam:CreateAccessKey failure")));
    assert!(a.contains(&format!("{app} first_in_account iam:CreateAccessKey success")));
    assert!(a.contains(&format!("{app} new_region ap-southeast-2 success")));
    assert!(a.contains(&format!("{alice} first_in_account kms:Late24 success")));
    // A burst (two new actions the same minute) is one alert.
    let burst: Vec<&Value> = at_once.iter().filter(|x| x["evidence"]["behaviours"].to_string().contains("iam:Api18")).collect();
    assert_eq!(burst.len(), 1);
    assert_eq!(burst[0]["evidence"]["new_behaviours"], json!(2));
    // The evidence counts what alice had done before the burst (s3:GetObject, iam:Api7,
    // ec2:Other7), whatever else the same run went on to learn.
    let daily_burst: Vec<&Value> = by_day.iter().filter(|x| x["evidence"]["behaviours"].to_string().contains("iam:Api18")).collect();
    assert_eq!(burst[0]["evidence"]["principal_behaviours"], json!(3));
    assert_eq!(daily_burst[0]["evidence"]["principal_behaviours"], json!(3));

    // Rescanning everything raises nothing.
    assert!(scan(&all_dir.path().join("state.sqlite"), &all_dir.path().join("AWSLogs")).is_empty());
}

#[test]
fn baseline_export_import_show_forget() {
    let dir = tempfile::tempdir().unwrap();
    let s1 = dir.path().join("a.sqlite");
    let s2 = dir.path().join("b.sqlite");
    for d in 0..3 {
        write_day(
            dir.path(),
            d,
            &[event(d, 9, "alice", "s3:GetObject", "us-east-1", None, 0), event(d, 9, "bob", "ec2:RunInstances", "eu-west-1", None, 1)],
        );
    }
    let logs = dir.path().join("AWSLogs");
    trailhound().args(["baseline", "learn", "-q", "--state"]).arg(&s1).arg(&logs).assert().success();
    let export = trailhound().args(["baseline", "export", "--state"]).arg(&s1).output().unwrap();
    assert!(export.status.success());
    let text = String::from_utf8(export.stdout).unwrap();
    // Scopes: 2 principals, their runs of activity, 1 account. Keys: per principal an action, a
    // region, a network and a client kind; per account 2 actions.
    assert_eq!(text.lines().count(), 5 + 8 + 2);
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &text).unwrap();
    for _ in 0..2 {
        trailhound().args(["baseline", "import", "--state"]).arg(&s2).arg(&file).assert().success();
    }
    let again = trailhound().args(["baseline", "export", "--state"]).arg(&s2).output().unwrap();
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text, "importing twice changes nothing");

    let bob = "arn:aws:iam::111122223333:user/bob";
    let show = trailhound().args(["baseline", "show", "--format", "jsonl", "--principal", bob, "--state"]).arg(&s2).output().unwrap();
    let rows = jsonl(&show.stdout);
    // An action, a client kind, a network, a region.
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["success"]["count"], json!(3));
    assert_eq!(rows[1]["key_kind"], "principal_client");

    trailhound().args(["baseline", "forget", "--principal", bob, "--state"]).arg(&s2).assert().success();
    let show = trailhound().args(["baseline", "show", "--format", "jsonl", "--state"]).arg(&s2).output().unwrap();
    assert_eq!(jsonl(&show.stdout).len(), 6);
    trailhound().args(["baseline", "forget", "--state"]).arg(&s2).assert().failure();

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, format!("{}\nnot json\n", text.lines().next().unwrap())).unwrap();
    let out = trailhound().args(["baseline", "import", "--state"]).arg(&s2).arg(&bad).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.jsonl:2"));
}
