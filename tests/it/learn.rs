//! Learning (`baseline learn`, `scan --learn`) through the CLI: every detector the config runs
//! takes in the learned period and raises nothing, and learning up to a time then scanning from
//! it raises what one scan raises for what happened after that time (plus, on purpose, the new
//! behaviours after it of a first-seen burst begun before it).

use crate::support::{jsonl, trailhound};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Packs, traps and first-seen all fire on the Invictus capture (55 minutes: no burn-in). The
/// attack touches the first four traps before [`T`], the last two after it.
const CONFIG: &str = r#"
[first_seen]
burn_in_days = 0
[rules]
packs = ["cis", "seed"]
[rules.params]
own_accounts = ["123837392027"]
pipeline_principals = ["bert-jan"]
[[traps.ec2_instance]]
id = "i-0dbc91f429e48eeed"
[[traps.s3_bucket]]
name = "stratus-red-team-ctlr-bucket-zqfsvooxqj"
[[traps.kms_key]]
id = "alias/aws/ssm"
[[traps.iam_role]]
name = "stratus-red-team-ec2-steal-credentials-role"
[[traps.lambda_function]]
name = "stratus-red-team-olc-func-xhfgzaowxc"
[[traps.iam_user]]
arn = "arn:aws:iam::123837392027:user/malicious-iam-user"
"#;

/// The boundary: inside a first-seen burst (bert-jan's, from 12:10:01), alarm incidents that are
/// in ALARM across it, and a trap window (the hour). No Invictus event is at this very
/// millisecond (the bounds are inclusive: one would be read on both sides).
const T: &str = "2023-07-10T12:20:00Z";

fn invictus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/invictus")
}

/// Runs trailhound with `--state` and `--config` in `dir`; returns the alerts it printed and
/// its summary line. The run must succeed.
fn run(dir: &Path, state: &str, args: &[&str], input: &Path) -> (Vec<Value>, String) {
    let out = trailhound()
        .args(args)
        .arg("--state")
        .arg(dir.join(state))
        .arg("--config")
        .arg(dir.join("th.toml"))
        .arg("-q")
        .arg(input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (jsonl(&out.stdout), stderr)
}

/// Alerts by id, without `raised_at` (the wall clock's).
fn by_id(alerts: Vec<Value>) -> BTreeMap<String, Value> {
    alerts
        .into_iter()
        .map(|mut a| {
            a.as_object_mut().unwrap().remove("raised_at");
            (a["id"].as_str().unwrap().to_string(), a)
        })
        .collect()
}

/// When an alert was decided: an alarm's transition is decided by the evaluation at its time and
/// an update by the end of its period (alarms are evaluated on data up to then); everything else
/// by its (first) event.
fn decided_at(a: &Value) -> &str {
    let e = &a["evidence"];
    match (a["detector"].as_str(), e["reason"].as_str()) {
        (Some("alarm"), Some("update")) => e["update"]["period_end"].as_str().unwrap(),
        (Some("alarm"), _) => e["transition_time"].as_str().unwrap(),
        _ => a["event_time"].as_str().unwrap(),
    }
}

fn detectors(alerts: &BTreeMap<String, Value>) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for a in alerts.values() {
        *n.entry(a["detector"].as_str().unwrap().to_string()).or_default() += 1;
    }
    n
}

#[test]
fn learning_with_packs_and_traps_raises_nothing_and_takes_every_alert_as_history() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("th.toml"), CONFIG).unwrap();
    let (raised, summary) = run(dir.path(), "s.sqlite", &["scan", "--learn", "--format", "jsonl"], &invictus());
    assert!(raised.is_empty(), "learning raised {} alerts", raised.len());
    assert!(summary.contains(" 0 alerts (learning: raises none; learned as history: "), "{summary}");
    for d in ["first_seen", "trap", "rule", "alarm"] {
        assert!(summary.contains(&format!("{d} ")), "no {d} alert was learned: {summary}");
    }
    // What was learned is never raised: reading the same files again raises nothing.
    let (raised, _) = run(dir.path(), "s.sqlite", &["scan", "--reread", "--format", "jsonl"], &invictus());
    assert!(raised.is_empty(), "{raised:#?}");
}

#[test]
fn learning_up_to_a_time_then_scanning_raises_what_one_scan_raises_after_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("th.toml"), CONFIG).unwrap();
    let (once, _) = run(dir.path(), "once.sqlite", &["scan", "--format", "jsonl"], &invictus());
    let once = by_id(once);
    let (learned, summary) = run(dir.path(), "split.sqlite", &["baseline", "learn", "--until", T], &invictus());
    assert!(learned.is_empty());
    assert!(summary.contains("learned as history: "), "the config's detectors learned nothing: {summary}");
    let (after, _) = run(dir.path(), "split.sqlite", &["scan", "--since", T, "--format", "jsonl"], &invictus());
    let after = by_id(after);

    let t = T.trim_end_matches('Z');
    let want: BTreeMap<String, Value> = once.iter().filter(|(_, a)| decided_at(a) > t).map(|(k, v)| (k.clone(), v.clone())).collect();
    // The fixture holds what can go wrong: each detector raised before and after the boundary.
    let (before, since) = (detectors(&once), detectors(&want));
    for d in ["first_seen", "trap", "rule", "alarm"] {
        assert!(before[d] > since.get(d).copied().unwrap_or(0), "no {d} alert before {T}: {before:?} {since:?}");
        assert!(since.get(d).is_some_and(|n| *n > 0), "no {d} alert after {T}: {since:?}");
    }
    let (missing, extra): (Vec<_>, Vec<_>) =
        (want.keys().filter(|k| !after.contains_key(*k)).collect(), after.keys().filter(|k| !want.contains_key(*k)).collect());
    for (k, a) in &want {
        if !missing.contains(&k) {
            assert_eq!(&after[k], a, "the same alerts, field for field");
        }
    }
    // One difference, on purpose: new behaviours after T of a first-seen burst that began before
    // it (bert-jan's, from 12:10:01). One scan lists them in that burst's alert, which learning
    // took as history; learning vouches for what it read, not for what follows, so they open a
    // burst of their own (the attacker's IAM backdoors at 12:22-12:24 must not go quiet), which
    // can take in a burst one scan began a little later. Every behaviour is accounted for.
    let members = |alerts: &mut dyn Iterator<Item = &Value>| -> Vec<(String, String, String)> {
        alerts
            .flat_map(|a| {
                a["evidence"]["behaviours"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| (a["principal"].to_string(), b["action"].to_string(), b["kind"].to_string()))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert!(!extra.is_empty(), "the burst straddling {T} raised nothing after it");
    for a in missing.iter().map(|k| &want[*k]).chain(extra.iter().map(|k| &after[*k])) {
        assert_eq!(a["detector"], "first_seen", "{a:#}");
        assert!(decided_at(a) > t, "{a:#}");
    }
    let raised = members(&mut extra.iter().map(|k| &after[*k]));
    for m in members(&mut missing.iter().map(|k| &want[*k])) {
        assert!(raised.contains(&m), "{m:?}, raised by one scan after {T}, is not raised by the split");
    }
    let learned: Vec<_> = once.values().filter(|a| a["detector"] == "first_seen" && decided_at(a) <= t).collect();
    let explained = [members(&mut learned.into_iter()), members(&mut missing.iter().map(|k| &want[*k]))].concat();
    for m in raised {
        assert!(explained.contains(&m), "{m:?} is neither in a burst begun before {T} nor raised by one scan");
    }
}

/// A CloudTrail record at `time` (`HH:MM:SS` on 2024-03-01) by the IAM user `who`.
fn record(time: &str, who: &str, name: &str, params: Value) -> Value {
    serde_json::json!({
        "eventVersion": "1.08", "eventTime": format!("2024-03-01T{time}Z"), "eventSource": "iam.amazonaws.com",
        "eventName": name, "awsRegion": "us-east-1", "eventID": format!("{name}-{who}-{time}"),
        "recipientAccountId": "111122223333", "eventType": "AwsApiCall", "sourceIPAddress": "198.51.100.7",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::111122223333:user/{who}"), "accountId": "111122223333", "userName": who},
        "requestParameters": params,
    })
}

/// `records` as one log file in `dir/logs`, which it returns.
fn logs(dir: &Path, records: Vec<Value>) -> PathBuf {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("events.json"), serde_json::json!({ "Records": records }).to_string()).unwrap();
    logs
}

/// One call a minute from 12:00:30 to 12:29:30 by alice, each counted by the alarm's filter
/// (Sum >= 1 over one minute: in ALARM from 12:01 on), and bob joining at 12:22.
fn probes(dir: &Path) -> PathBuf {
    let mut records: Vec<Value> = (0..30).map(|m| record(&format!("12:{m:02}:30"), "alice", "GetUser", Value::Null)).collect();
    records.push(record("12:22:30", "bob", "GetUser", Value::Null));
    logs(dir, records)
}

const PROBE_ALARM: &str = r#"
[first_seen]
enabled = false
[[rules.metric_filter]]
filter_name = "probes"
filter_pattern = '{ $.eventName = "GetUser" }'
metric_name = "Probes"
[[rules.alarm]]
alarm_name = "probing"
metric_name = "Probes"
period = 60
evaluation_periods = 1
statistic = "Sum"
comparison_operator = "GreaterThanOrEqualToThreshold"
threshold = 1
treat_missing_data = "notBreaching"
"#;

#[test]
fn an_alarm_in_alarm_across_the_boundary_does_not_alert_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("th.toml"), PROBE_ALARM).unwrap();
    let logs = probes(dir.path());
    let reason = |a: &Value| a["evidence"]["reason"].as_str().unwrap().to_string();
    let (once, _) = run(dir.path(), "once.sqlite", &["scan", "--format", "jsonl"], &logs);
    assert_eq!(once.iter().map(reason).collect::<Vec<_>>(), ["alarm", "update"], "{once:#?}");
    assert_eq!(once[0]["evidence"]["transition_time"], "2024-03-01T12:01:00Z");
    let update = by_id(once[1..].to_vec());

    let boundary = "2024-03-01T12:10:00Z";
    let (learned, _) = run(dir.path(), "learn.sqlite", &["baseline", "learn", "--until", boundary], &logs);
    assert!(learned.is_empty());
    let (after, _) = run(dir.path(), "learn.sqlite", &["scan", "--since", boundary, "--format", "jsonl"], &logs);
    assert_eq!(by_id(after), update, "after learning, only bob's joining the incident alerts");

    // Two scans split at the boundary raise what one raises: the incident once, then the update.
    let (first, _) = run(dir.path(), "split.sqlite", &["scan", "--until", boundary, "--format", "jsonl"], &logs);
    assert_eq!(by_id(first), by_id(once[..1].to_vec()));
    let (second, _) = run(dir.path(), "split.sqlite", &["scan", "--since", boundary, "--format", "jsonl"], &logs);
    assert_eq!(by_id(second), update);
}

#[test]
fn a_trap_window_touched_before_the_boundary_is_not_raised_again_after_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("th.toml"), "[first_seen]\nenabled = false\n[[traps.iam_user]]\nname = \"canary\"\n").unwrap();
    let touch = |time: &str| record(time, "alice", "GetUser", serde_json::json!({"userName": "canary"}));
    let logs = logs(dir.path(), vec![touch("12:05:30"), touch("12:15:30"), touch("13:05:30")]);
    let (once, _) = run(dir.path(), "once.sqlite", &["scan", "--format", "jsonl"], &logs);
    // One alert per hour's window: 12:00 (two touches) and 13:00.
    assert_eq!(once.iter().map(|a| a["count"].as_u64().unwrap()).collect::<Vec<_>>(), [2, 1], "{once:#?}");

    let boundary = "2024-03-01T12:10:00Z";
    let (learned, _) = run(dir.path(), "learn.sqlite", &["baseline", "learn", "--until", boundary], &logs);
    assert!(learned.is_empty());
    let (after, _) = run(dir.path(), "learn.sqlite", &["scan", "--since", boundary, "--format", "jsonl"], &logs);
    assert_eq!(by_id(after), by_id(once[1..].to_vec()), "the 12:00 window was learned: only 13:00 alerts");
}
