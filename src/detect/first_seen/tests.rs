//! First-seen's unit tests: hand-made records through one detector and an in-memory store.

use super::config::AllowRule;
use super::*;
use crate::event::Record;
use crate::store::Store;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// One CloudTrail record: `who` is `user:<account>:<name>` or `role:<account>:<name>`.
pub(crate) fn rec(day: f64, who: &str, action: &str, region: &str, err: Option<&str>) -> String {
    let t = (day * DAY as f64) as i64 + 1_600_000_000_000;
    let parts: Vec<&str> = who.split(':').collect();
    let (typ, acct, name) = (parts[0], parts[1], parts[2]);
    let identity = match typ {
        "user" => json!({"type": "IAMUser", "arn": format!("arn:aws:iam::{acct}:user/{name}"), "accountId": acct, "userName": name}),
        "slr" => json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{acct}:assumed-role/{name}/s"), "accountId": acct,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{acct}:role/aws-service-role/x.amazonaws.com/{name}"), "accountId": acct}}}),
        _ => json!({"type": "AssumedRole", "arn": format!("arn:aws:sts::{acct}:assumed-role/{name}/sess"), "accountId": acct,
            "principalId": format!("AROA:{name}-sess"),
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{acct}:role/{name}"), "accountId": acct}}}),
    };
    let (svc, api) = action.split_once(':').unwrap();
    let mut r = json!({
        "eventTime": format_millis(t), "eventSource": format!("{svc}.amazonaws.com"), "eventName": api, "awsRegion": region,
        "eventID": format!("ev-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed)), "recipientAccountId": acct, "userIdentity": identity,
        "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15", "eventType": "AwsApiCall",
    });
    if let Some(e) = err {
        r["errorCode"] = json!(e);
    }
    r.to_string()
}

pub(crate) fn cfg(burn_in_days: u32) -> FirstSeenConfig {
    FirstSeenConfig { burn_in_days, ..FirstSeenConfig::default() }
}

/// Applies one batch of records; returns the alerts.
pub(crate) fn batch(det: &FirstSeenDetector, store: &mut dyn Store, records: &[String], learn: bool) -> Vec<Alert> {
    let mut obs = det.observations();
    for r in records {
        obs.observe(&Record::parse(r).unwrap());
    }
    let waiting = store.undelivered_alerts().unwrap().len();
    let mut tx = store.transaction().unwrap();
    if learn {
        tx.learning();
    }
    let (alerts, _) = det.apply(obs, &*tx, 0).unwrap();
    tx.commit().unwrap();
    if learn {
        // Learned alerts take their ids but never reach the outbox's queue.
        assert_eq!(store.undelivered_alerts().unwrap().len(), waiting, "learning queued an alert");
        return Vec::new();
    }
    alerts
}

/// Thirty days of a steady routine for `who` (and the store's coverage).
fn routine(who: &str) -> Vec<String> {
    (0..30)
        .flat_map(|d| {
            [rec(d as f64, who, "s3:GetObject", "us-east-1", None), rec(d as f64 + 0.5, who, "ec2:DescribeInstances", "us-east-1", None)]
        })
        .collect()
}

fn kinds(a: &Alert) -> Vec<String> {
    a.evidence.to_json()["behaviours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| format!("{}:{}", b["kind"].as_str().unwrap(), b["action"].as_str().unwrap()))
        .collect()
}

#[test]
fn burn_in_then_first_for_principal_and_account() {
    let det = FirstSeenDetector::new(cfg(14));
    let mut st = crate::store::open_in_memory().unwrap();
    // Before the burn-in nothing alerts, however new.
    let mut early = routine("user:111:alice");
    early.push(rec(5.0, "user:111:alice", "iam:ListUsers", "us-east-1", None));
    assert!(batch(&det, &mut *st, &early, false).is_empty());
    // bob was first seen on day 2: old enough on day 31. alice's ListUsers is known to the account.
    let a = batch(&det, &mut *st, &[rec(2.0, "user:111:bob", "s3:GetObject", "us-east-1", None)], false);
    assert!(a.is_empty(), "{a:?}");
    let a = batch(
        &det,
        &mut *st,
        &[rec(31.0, "user:111:bob", "iam:ListUsers", "us-east-1", None), rec(31.01, "user:111:bob", "iam:CreateUser", "us-east-1", None)],
        false,
    );
    assert_eq!(a.len(), 1, "a burst is one alert: {a:?}");
    assert_eq!(a[0].kind, "first_in_account");
    // Riskiest first (an IAM write before an IAM read), but the event fields describe the
    // group's first event.
    assert_eq!(kinds(&a[0]), ["first_in_account:iam:CreateUser", "first_for_principal:iam:ListUsers"]);
    assert!(a[0].title.contains("iam:CreateUser"), "{}", a[0].title);
    assert_eq!(a[0].event_name.as_deref(), Some("ListUsers"));
    assert_eq!(a[0].evidence.to_json()["principal_first_seen"], json!(format_millis(1_600_000_000_000 + 2 * DAY)));
    assert_eq!(a[0].count, 2);
    // A principal seen for the first time today is in burn-in: its own firsts stay quiet, but
    // the account's burn-in is long over, so an action new to the account still alerts.
    assert!(batch(&det, &mut *st, &[rec(31.0, "user:111:carol", "s3:GetObject", "us-east-1", None)], false).is_empty());
    let a = batch(&det, &mut *st, &[rec(31.0, "user:111:carol", "iam:DeleteUser", "us-east-1", None)], false);
    assert_eq!(a.len(), 1);
    assert_eq!(kinds(&a[0]), ["first_in_account:iam:DeleteUser"]);
}

#[test]
fn first_in_n_days_and_new_region() {
    let det = FirstSeenDetector::new(cfg(14));
    let mut st = crate::store::open_in_memory().unwrap();
    let mut recs = routine("user:111:alice");
    recs.push(rec(1.0, "user:111:alice", "kms:Decrypt", "us-east-1", None));
    batch(&det, &mut *st, &recs, true);
    // A known action in a new region: one new_region alert, keyed by region not action.
    let a = batch(
        &det,
        &mut *st,
        &[
            rec(31.0, "user:111:alice", "s3:GetObject", "ap-south-1", None),
            rec(31.0, "user:111:alice", "ec2:DescribeInstances", "ap-south-1", None),
        ],
        false,
    );
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].kind, "new_region");
    assert_eq!(a[0].evidence.to_json()["behaviours"].as_array().unwrap().len(), 1);
    // bob, idle since day 29, comes back doing what he always did: not news.
    let mut bob = routine("user:111:bob");
    batch(&det, &mut *st, &bob, true);
    bob = vec![rec(150.0, "user:111:bob", "s3:GetObject", "us-east-1", None)];
    assert!(batch(&det, &mut *st, &bob, false).is_empty());
    // Nor the rest of his routine the next day, in another batch: he is back since day 150
    // (the store keeps that run), not active "meanwhile".
    bob = vec![rec(151.0, "user:111:bob", "ec2:DescribeInstances", "us-east-1", None)];
    assert!(batch(&det, &mut *st, &bob, false).is_empty());
    let run = st.scope_rows().unwrap().into_iter().find(|r| r.scope_kind == "principal_run" && r.scope.ends_with("user/bob")).unwrap();
    assert_eq!(run.first_seen, 1_600_000_000_000 + 150 * DAY);
    // alice stays active but has not decrypted anything since day 1.
    let active: Vec<String> = (100..150).map(|d| rec(d as f64, "user:111:alice", "s3:GetObject", "us-east-1", None)).collect();
    assert!(batch(&det, &mut *st, &active, false).is_empty(), "each action was used within 90 days of its previous use");
    let a = batch(&det, &mut *st, &[rec(150.0, "user:111:alice", "kms:Decrypt", "us-east-1", None)], false);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].kind, "first_in_n_days");
    assert_eq!(a[0].evidence.to_json()["behaviours"][0]["days_unused"], json!(149));
    assert_eq!(a[0].evidence.to_json()["behaviours"][0]["last_seen_before"], json!(format_millis(1_600_000_000_000 + DAY)));
}

#[test]
fn failures_are_attempts_and_do_not_hide_a_later_success() {
    let det = FirstSeenDetector::new(cfg(14));
    let mut st = crate::store::open_in_memory().unwrap();
    batch(&det, &mut *st, &routine("user:111:alice"), true);
    let a = batch(&det, &mut *st, &[rec(40.0, "user:111:alice", "iam:CreateAccessKey", "us-east-1", Some("AccessDenied"))], false);
    assert_eq!(a.len(), 1);
    assert!(a[0].title.contains("attempted"), "{}", a[0].title);
    assert_eq!(a[0].error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(a[0].evidence.to_json()["attempt_only"], json!(true));
    // The same denied call again is known; the first success still alerts.
    assert!(
        batch(&det, &mut *st, &[rec(41.0, "user:111:alice", "iam:CreateAccessKey", "us-east-1", Some("AccessDenied"))], false).is_empty()
    );
    let a = batch(&det, &mut *st, &[rec(42.0, "user:111:alice", "iam:CreateAccessKey", "us-east-1", None)], false);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].evidence.to_json()["behaviours"][0]["outcome"], json!("success"));
    // A failure of something that already succeeded is no news.
    assert!(batch(&det, &mut *st, &[rec(43.0, "user:111:alice", "s3:GetObject", "us-east-1", Some("NoSuchKey"))], false).is_empty());
}

#[test]
fn ignore_lists_learn_and_skips_do_not() {
    let mut c = cfg(14);
    c.ignore_actions = vec!["sts:GetCallerIdentity".into()];
    c.allow = vec![AllowRule { action: Some("ssm:*".into()), ..Default::default() }];
    let det = FirstSeenDetector::new(c);
    let mut st = crate::store::open_in_memory().unwrap();
    batch(&det, &mut *st, &routine("user:111:alice"), true);
    let quiet = [
        rec(40.0, "user:111:alice", "sts:GetCallerIdentity", "us-east-1", None),
        rec(40.0, "user:111:alice", "ssm:GetParameter", "us-east-1", None),
        rec(40.0, "slr:111:AWSServiceRoleForSupport", "support:DescribeCases", "us-east-1", None),
    ];
    assert!(batch(&det, &mut *st, &quiet, false).is_empty());
    let keys = st.baseline_rows(&Default::default()).unwrap();
    assert!(keys.iter().any(|k| k.item == "sts:GetCallerIdentity" && k.key_kind == "principal_action"), "ignored actions are learned");
    assert!(!keys.iter().any(|k| k.item == "support:DescribeCases"), "skipped principals are not");
}

#[test]
fn role_inherits_peers_baseline_across_accounts() {
    let det = FirstSeenDetector::new(cfg(14));
    let mut st = crate::store::open_in_memory().unwrap();
    let mut recs = routine("role:111:app");
    recs.extend(routine("role:222:app"));
    batch(&det, &mut *st, &recs, true);
    // The same role in a new account: what its peers do is known, what none did stands out.
    let a = batch(
        &det,
        &mut *st,
        &[rec(40.0, "role:333:app", "s3:GetObject", "us-east-1", None), rec(40.0, "role:333:app", "iam:PassRole", "us-east-1", None)],
        false,
    );
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].kind, "first_for_role_name");
    assert_eq!(kinds(&a[0]), ["first_for_role_name:iam:PassRole"]);
    assert_eq!(a[0].evidence.to_json()["behaviours"][0]["peer_role_accounts"], json!(2));
    assert_eq!(a[0].evidence.to_json()["behaviours"][0]["peer_roles_doing_action"], json!(0));
    assert_eq!(a[0].session.as_deref(), Some("sess"));
}

#[test]
fn first_in_account_is_about_the_account_acted_in() {
    let det = FirstSeenDetector::new(cfg(0));
    let mut st = crate::store::open_in_memory().unwrap();
    batch(&det, &mut *st, &[rec(0.0, "user:111:alice", "s3:GetObject", "us-east-1", None)], true);
    // A role of account 222 reading in account 111: new for the role, not for account 111.
    let mut cross: serde_json::Value = serde_json::from_str(&rec(1.0, "role:222:auditor", "s3:GetObject", "us-east-1", None)).unwrap();
    cross["recipientAccountId"] = json!("111");
    let a = batch(&det, &mut *st, &[cross.to_string()], false);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].account.as_deref(), Some("111"));
    assert_eq!(kinds(&a[0]), ["new_region:s3:GetObject", "first_for_principal:s3:GetObject"]);
}

#[test]
fn late_delivery_and_rescans_raise_nothing() {
    let det = FirstSeenDetector::new(cfg(14));
    let mut st = crate::store::open_in_memory().unwrap();
    let mut recs = routine("user:111:alice");
    recs.push(rec(20.0, "user:111:alice", "iam:ListRoles", "us-east-1", None));
    batch(&det, &mut *st, &recs, true);
    // Day 25's ListRoles, delivered late, falls inside known history (first seen day 20).
    assert!(batch(&det, &mut *st, &[rec(25.0, "user:111:alice", "iam:ListRoles", "us-east-1", None)], false).is_empty());
    // Something older than anything known for the key is history, not news.
    assert!(batch(&det, &mut *st, &[rec(10.0, "user:111:alice", "iam:ListRoles", "us-east-1", None)], false).is_empty());
    let new = [rec(40.0, "user:111:alice", "iam:CreateRole", "us-east-1", None)];
    assert_eq!(batch(&det, &mut *st, &new, false).len(), 1);
    assert!(batch(&det, &mut *st, &new, false).is_empty(), "a rescan raises nothing");
}

#[test]
fn day_by_day_equals_all_at_once() {
    let det = FirstSeenDetector::new(cfg(7));
    let mut days: Vec<Vec<String>> = Vec::new();
    for d in 0..60 {
        let f = d as f64;
        let mut v = vec![
            rec(f, "user:111:alice", "s3:GetObject", "us-east-1", None),
            rec(f + 0.2, "role:111:app", "sqs:SendMessage", "us-east-1", None),
        ];
        if d % 13 == 5 {
            v.push(rec(f + 0.3, "user:111:alice", &format!("iam:Api{d}"), "us-east-1", None));
        }
        if d == 20 || d == 45 {
            v.push(rec(f + 0.4, "role:111:app", "kms:Decrypt", if d == 20 { "eu-west-1" } else { "us-east-1" }, Some("AccessDenied")));
        }
        // A late file: yesterday's event delivered today.
        if d > 0 && d % 9 == 0 {
            v.push(rec(f - 1.0, "user:111:alice", &format!("ec2:Late{d}"), "us-east-1", None));
        }
        days.push(v);
    }
    let summary = |alerts: &[Alert]| {
        let mut k: Vec<String> =
            alerts.iter().flat_map(|a| kinds(a).into_iter().map(|k| format!("{} {k}", a.principal.as_deref().unwrap()))).collect();
        k.sort();
        k
    };
    let mut one = crate::store::open_in_memory().unwrap();
    let all: Vec<String> = days.iter().flatten().cloned().collect();
    let at_once = batch(&det, &mut *one, &all, false);
    let mut daily = crate::store::open_in_memory().unwrap();
    let by_day: Vec<Alert> = days.iter().flat_map(|d| batch(&det, &mut *daily, d, false)).collect();
    assert!(at_once.len() >= 5, "{:?}", summary(&at_once));
    assert_eq!(summary(&at_once), summary(&by_day));
    assert_eq!(one.baseline_rows(&Default::default()).unwrap(), daily.baseline_rows(&Default::default()).unwrap());
}

#[test]
fn learning_raises_nothing_and_kinds_switch_off() {
    let mut c = cfg(0);
    c.kinds.first_in_account = false;
    c.kinds.first_for_principal = false;
    let det = FirstSeenDetector::new(c);
    let mut st = crate::store::open_in_memory().unwrap();
    assert!(batch(&det, &mut *st, &[rec(0.0, "user:111:a", "s3:ListBuckets", "us-east-1", None)], true).is_empty());
    assert!(batch(&det, &mut *st, &[rec(1.0, "user:111:a", "iam:CreateUser", "us-east-1", None)], false).is_empty());
    let a = batch(&det, &mut *st, &[rec(2.0, "user:111:a", "iam:CreateUser", "eu-west-3", None)], false);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].kind, "new_region");
}
