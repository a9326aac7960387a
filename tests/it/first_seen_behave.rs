//! First-seen behaving as docs/first-seen.md says (issue 17): risk ranking of a grouped alert,
//! idle principals coming back, roll-outs across same-named roles, peer evidence in event time,
//! the principal's usual context. Each test builds its events, scans them once and day by day.

use crate::support::{jsonl, trailhound};
use serde_json::{Value, json};
use std::path::Path;

/// Day `day` after 2024-03-01, at `hh:mm`.
fn at(day: u32, hh: u32, mm: u32) -> String {
    let t = jiff::civil::date(2024, 3, 1).at(0, 0, 0, 0).to_zoned(jiff::tz::TimeZone::UTC).unwrap();
    let t = t.checked_add(jiff::Span::new().days(i64::from(day)).hours(i64::from(hh)).minutes(i64::from(mm))).unwrap();
    t.timestamp().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One record: `who` is `user/NAME` or `role/NAME`, in account `acct`.
fn ev(time: &str, acct: &str, who: &str, action: &str) -> Value {
    let (svc, api) = action.split_once(':').unwrap();
    let (typ, name) = who.split_once('/').unwrap();
    let identity = if typ == "role" {
        json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{acct}:assumed-role/{name}/s1"), "accountId": acct,
               "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{acct}:role/{name}"), "accountId": acct}}})
    } else {
        json!({"type": "IAMUser", "arn": format!("arn:aws:iam::{acct}:user/{name}"), "accountId": acct, "userName": name})
    };
    json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": format!("{svc}.amazonaws.com"), "eventName": api,
        "awsRegion": "us-east-1", "eventID": format!("{time}-{acct}-{who}-{action}"), "recipientAccountId": acct,
        "eventType": "AwsApiCall", "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.15", "userIdentity": identity,
    })
}

/// Writes each day's records as one file delivered that day, returning the tree's root.
fn write_days(root: &Path, days: &[Vec<Value>], upto: usize) {
    for (d, recs) in days.iter().enumerate().take(upto) {
        let dir = root.join(format!("AWSLogs/111111111111/CloudTrail/us-east-1/day{d:03}"));
        // Delivered once, as CloudTrail does: a file written again is a new file to the ledger,
        // read again (statistics would count its events twice, docs/statistics.md).
        if dir.exists() {
            continue;
        }
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("111111111111_CloudTrail_us-east-1_f{d:03}.json")), json!({ "Records": recs }).to_string())
            .unwrap();
    }
}

fn scan(state: &Path, config: &Path, root: &Path) -> Vec<Value> {
    let out = trailhound()
        .args(["scan", "-q", "--format", "jsonl", "--state"])
        .arg(state)
        .arg("--config")
        .arg(config)
        .arg(root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    jsonl(&out.stdout)
}

/// The alerts of one scan over every day, and of a scan after each day; asserts they agree
/// (behaviour by behaviour) and returns the one scan's.
fn scan_both_ways(config_text: &str, days: &[Vec<Value>]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, config_text).unwrap();
    let once = dir.path().join("once");
    write_days(&once, days, days.len());
    let at_once = scan(&once.join("state.sqlite"), &config, &once.join("AWSLogs"));
    let daily = dir.path().join("daily");
    let mut by_day = Vec::new();
    for d in 1..=days.len() {
        write_days(&daily, days, d);
        by_day.extend(scan(&daily.join("state.sqlite"), &config, &daily.join("AWSLogs")));
    }
    let summary = |alerts: &[Value]| {
        let mut v: Vec<String> = alerts.iter().map(|a| format!("{} {}", a["principal"], a["evidence"]["behaviours"])).collect();
        v.sort();
        v
    };
    assert_eq!(summary(&at_once), summary(&by_day), "one scan and daily scans differ");
    at_once
}

fn actions(a: &Value) -> Vec<String> {
    a["evidence"]["behaviours"].as_array().unwrap().iter().map(|b| b["action"].as_str().unwrap().to_string()).collect()
}

#[test]
fn grouped_alert_leads_with_its_riskiest_behaviour() {
    // Twenty quiet days, then an intruder's burst: a security group first (alphabetically and in
    // time), the IAM, logging and secrets calls after it.
    let mut days: Vec<Vec<Value>> = (0..20).map(|d| vec![ev(&at(d, 9, 0), "111111111111", "user/alice", "s3:GetObject")]).collect();
    days.push(
        [
            (0, "ec2:CreateSecurityGroup"),
            (1, "ec2:DescribeInstances"),
            (2, "iam:ListUsers"),
            (5, "iam:CreateAccessKey"),
            (6, "secretsmanager:GetSecretValue"),
            (7, "cloudtrail:StopLogging"),
        ]
        .into_iter()
        .map(|(m, a)| ev(&at(20, 10, m), "111111111111", "user/alice", a))
        .collect(),
    );
    let alerts = scan_both_ways("[first_seen]\nburn_in_days = 7\n", &days);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(
        actions(a),
        [
            "iam:CreateAccessKey",
            "cloudtrail:StopLogging",
            "secretsmanager:GetSecretValue",
            "ec2:CreateSecurityGroup",
            "iam:ListUsers",
            "ec2:DescribeInstances"
        ]
    );
    assert!(
        a["title"].as_str().unwrap().starts_with("IAMUser alice iam:CreateAccessKey: first in the account and 5 more"),
        "{}",
        a["title"]
    );
    assert_eq!(a["severity"], "high");
    assert_eq!(a["evidence"]["behaviours"][0]["risk"], 50);
    assert_eq!(a["evidence"]["behaviours"][0]["risk_factors"], json!(["identity_write"]));
    // The event fields still describe when and how the burst began.
    assert_eq!(a["event_name"], "CreateSecurityGroup");
    assert_eq!(a["event_time"], at(20, 10, 0));
    // What alice usually looks like, before the burst: active since day 0, from one network, by CLI.
    let ctx = &a["evidence"]["principal_context"];
    assert_eq!(ctx["active_since"], at(0, 9, 0));
    assert_eq!(ctx["usual_networks"], json!([{"value": "203.0.113.0/24", "first_seen": at(0, 9, 0)}]));
    assert_eq!(ctx["usual_clients"], json!([{"value": "cli", "first_seen": at(0, 9, 0)}]));
    assert_eq!((&ctx["networks_known"], &ctx["source_network_known"], &ctx["client_known"]), (&json!(1), &json!(true), &json!(true)));
}

#[test]
fn an_idle_job_coming_back_to_its_routine_is_not_news() {
    // A job role runs five actions daily for ten days, is idle ten days (n_days = 3), then comes
    // back doing the same: nothing, on the day of its return or the day after. alice, active
    // throughout, decrypting again after 18 days: first in 3 days.
    let job = ["s3:GetObject", "kms:Decrypt", "sqs:SendMessage", "dynamodb:PutItem", "logs:PutLogEvents"];
    let mut days: Vec<Vec<Value>> = Vec::new();
    for d in 0..23u32 {
        let mut v = vec![ev(&at(d, 8, 0), "111111111111", "user/alice", "s3:ListBucket")];
        if !(10..20).contains(&d) {
            // The return is split over two days: three actions, then the other two.
            let todays: &[&str] = match d {
                20 => &job[..3],
                21 => &job[3..],
                _ => &job,
            };
            v.extend(todays.iter().enumerate().map(|(i, a)| ev(&at(d, 2, i as u32), "111111111111", "role/job", a)));
        }
        if d < 2 || d == 20 {
            v.push(ev(&at(d, 9, 0), "111111111111", "user/alice", "kms:Decrypt"));
        }
        days.push(v);
    }
    let alerts = scan_both_ways("[first_seen]\nburn_in_days = 2\nn_days = 3\n", &days);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0]["principal"], "arn:aws:iam::111111111111:user/alice");
    assert_eq!(alerts[0]["kind"], "first_in_n_days");
    assert_eq!(alerts[0]["evidence"]["behaviours"][0]["days_unused"], 19);
}

#[test]
fn a_roll_out_across_same_named_roles_alerts_once_where_it_began() {
    // appRole in three accounts, with their routine; at 14:08 on day 20 the release reaches the
    // first account, at 14:15 and 14:17 the others.
    let accts = ["111111111111", "222222222222", "333333333333"];
    let mut days: Vec<Vec<Value>> =
        (0..20).map(|d| accts.iter().map(|a| ev(&at(d, 9, 0), a, "role/appRole", "sqs:SendMessage")).collect()).collect();
    days.push(vec![
        ev(&at(20, 14, 8), accts[0], "role/appRole", "dynamodb:CreateTable"),
        ev(&at(20, 14, 15), accts[1], "role/appRole", "dynamodb:CreateTable"),
        ev(&at(20, 14, 17), accts[2], "role/appRole", "dynamodb:CreateTable"),
    ]);
    let alerts = scan_both_ways("[first_seen]\nburn_in_days = 7\n", &days);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a["account"], accts[0]);
    let b = &a["evidence"]["behaviours"][0];
    assert_eq!(b["kind"], "first_in_account");
    assert_eq!(b["also"], json!(["first_for_principal", "first_for_role_name"]));
    assert_eq!(b["reached_accounts"], json!([accts[1], accts[2]]));
    // Peer evidence as it stood at 14:08: two peer accounts, neither doing it yet.
    assert_eq!(b["peer_role_accounts"], 2);
    assert_eq!(b["peer_roles_doing_action"], 0);
}

#[test]
fn a_principal_touching_a_resource_it_never_touched_alerts_once_per_burst() {
    // The batch role reads its own bucket and secret all day. After the burn-in it reads another
    // bucket with the very action it always uses, then assumes a role it never assumed: one
    // alert, two new resources. A third bucket, allowed by config, stays quiet.
    let with = |mut e: Value, params: Value| {
        e["requestParameters"] = params;
        e
    };
    let acct = "111111111111";
    let mut days: Vec<Vec<Value>> = (0..20)
        .map(|d| {
            vec![
                with(ev(&at(d, 3, 0), acct, "role/batch", "s3:GetObject"), json!({"bucketName": "batch-input", "key": "a"})),
                with(ev(&at(d, 3, 1), acct, "role/batch", "secretsmanager:GetSecretValue"), json!({"secretId": "batch/db"})),
                with(ev(&at(d, 3, 2), acct, "role/batch", "sts:AssumeRole"), json!({"roleArn": "arn:aws:iam::111111111111:role/reader"})),
            ]
        })
        .collect();
    days.push(vec![
        with(ev(&at(20, 3, 0), acct, "role/batch", "s3:GetObject"), json!({"bucketName": "batch-input", "key": "b"})),
        with(ev(&at(20, 3, 5), acct, "role/batch", "s3:GetObject"), json!({"bucketName": "customer-exports", "key": "all.csv"})),
        with(
            ev(&at(20, 3, 6), acct, "role/batch", "sts:AssumeRole"),
            json!({"roleArn": "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"}),
        ),
        with(ev(&at(20, 3, 7), acct, "role/batch", "s3:GetObject"), json!({"bucketName": "batch-scratch", "key": "c"})),
    ]);
    let config =
        "[first_seen]\nburn_in_days = 7\n[[first_seen.allow]]\nresource = \"s3_bucket:batch-scratch\"\nreason = \"its scratch space\"\n";
    let alerts = scan_both_ways(config, &days);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a["kind"], "first_for_resource");
    let members: Vec<(&str, &str)> = a["evidence"]["behaviours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["resource"].as_str().unwrap(), b["action"].as_str().unwrap()))
        .collect();
    // The assumed role (a credential read, on a new resource) outranks the bucket read.
    assert_eq!(
        members,
        [("iam_role:222222222222/OrganizationAccountAccessRole", "sts:AssumeRole"), ("s3_bucket:customer-exports", "s3:GetObject")]
    );
    assert_eq!(a["evidence"]["behaviours"][1]["risk_factors"], json!(["new_resource"]));
    assert!(
        a["title"].as_str().unwrap().contains("sts:AssumeRole: first touch of this resource (iam_role:222222222222/"),
        "{}",
        a["title"]
    );

    // The kind switches off, and then nothing is tracked at all.
    let off = scan_both_ways("[first_seen]\nburn_in_days = 7\n[first_seen.kinds]\nfirst_for_resource = false\n", &days);
    assert!(off.is_empty(), "{off:#?}");
}
