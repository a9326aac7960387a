//! The statistics detector through the CLI: a week of a regular series then a spike, an error
//! burst, and the same data scanned day by day (docs/statistics.md).

use crate::support::{gz, scan_jsonl, trailhound};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// 2024-01-01T00:00Z, a Monday, in seconds.
const MONDAY: i64 = 1_704_067_200;
const DAY: i64 = 86_400;
const ACCOUNT: &str = "111122223333";

fn time(t: i64) -> String {
    jiff::Timestamp::from_second(t).unwrap().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn record(t: i64, name: &str, read_only: bool, error: Option<&str>, n: usize) -> String {
    let err = error.map(|e| format!(r#","errorCode":"{e}","errorMessage":"no""#)).unwrap_or_default();
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"{}","eventSource":"ec2.amazonaws.com","eventName":"{name}","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","userAgent":"terraform/1.7","eventID":"{name}-{t}-{n}","readOnly":{read_only},"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management","recipientAccountId":"{ACCOUNT}","userIdentity":{{"type":"AssumedRole","principalId":"AROAX:s{n}","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/s{n}","accountId":"{ACCOUNT}"}}{err}}}"#,
        time(t)
    )
}

/// Eight days: two RunInstances every ten minutes and a DescribeInstances denied every half
/// hour; on the eighth day at 14:03 sixty RunInstances in a minute, and at 16:20 forty
/// DescribeInstances failing with a code never seen. Written as CloudTrail delivers it, one file
/// per hour, a folder per day; returns the day folders.
fn write_corpus(root: &Path) -> Vec<PathBuf> {
    let mut days = Vec::new();
    for d in 0..8 {
        let day = MONDAY + d * DAY;
        let date = jiff::Timestamp::from_second(day).unwrap().strftime("%Y/%m/%d").to_string();
        let dir = root.join(format!("AWSLogs/{ACCOUNT}/CloudTrail/eu-west-1/{date}"));
        std::fs::create_dir_all(&dir).unwrap();
        for h in 0..24 {
            let start = day + h * 3600;
            let mut recs = Vec::new();
            for m in (0..60).step_by(10) {
                let t = start + m * 60;
                recs.push(record(t, "RunInstances", false, None, 0));
                recs.push(record(t + 1, "RunInstances", false, None, 1));
                if m % 30 == 0 {
                    recs.push(record(t + 2, "DescribeInstances", true, Some("Client.UnauthorizedOperation"), 0));
                }
            }
            if d == 7 && h == 14 {
                recs.extend((0..60).map(|n| record(start + 3 * 60 + n / 2, "RunInstances", false, None, n as usize + 2)));
            }
            if d == 7 && h == 16 {
                recs.extend(
                    (0..40)
                        .map(|n| record(start + 20 * 60 + n, "DescribeInstances", true, Some("Client.RequestLimitExceeded"), n as usize)),
                );
            }
            let name = jiff::Timestamp::from_second(start + 3300).unwrap().strftime("%Y%m%dT%H%MZ").to_string();
            let body = format!(r#"{{"Records":[{}]}}"#, recs.join(","));
            std::fs::write(dir.join(format!("{ACCOUNT}_CloudTrail_eu-west-1_{name}_h{h:02}.json.gz")), gz(body.as_bytes())).unwrap();
        }
        days.push(dir);
    }
    days
}

fn scan(state: &Path, config: &Path, paths: &[PathBuf]) -> Vec<Value> {
    scan_jsonl(state, config, paths)
}

#[test]
fn a_week_then_a_spike_alerts_once_per_kind_whole_or_day_by_day() {
    let dir = tempfile::tempdir().unwrap();
    let days = write_corpus(&dir.path().join("logs"));
    let config = dir.path().join("trailhound.toml");
    // First-seen off: this is about statistics alone.
    std::fs::write(&config, "[first_seen]\nenabled = false\n").unwrap();

    let whole = scan(&dir.path().join("whole.sqlite"), &config, &[dir.path().join("logs")]);
    let kinds: Vec<(&str, &str)> = whole.iter().map(|a| (a["detector"].as_str().unwrap(), a["kind"].as_str().unwrap())).collect();
    assert_eq!(kinds, [("statistics", "api_call_rate"), ("statistics", "api_error_rate")], "{whole:#?}");

    let call = &whole[0];
    assert_eq!(call["event_time"], "2024-01-08T14:03:00Z");
    assert_eq!((&call["account"], &call["region"]), (&Value::from(ACCOUNT), &Value::from("eu-west-1")));
    assert_eq!((&call["event_source"], &call["event_name"]), (&Value::from("ec2.amazonaws.com"), &Value::from("RunInstances")));
    assert_eq!(call["count"], 60);
    assert_eq!(call["evidence"]["baseline_average"], 0.2);
    assert_eq!(call["evidence"]["baseline_duration_minutes"], 7 * 24 * 60);
    assert_eq!(call["evidence"]["attributions"]["user_identity_arn"][0]["value"], format!("arn:aws:sts::{ACCOUNT}:assumed-role/deploy"));
    assert_eq!(call["event_ids"].as_array().unwrap().len(), 10);

    let err = &whole[1];
    assert_eq!(err["event_time"], "2024-01-08T16:20:00Z");
    assert_eq!(err["error_code"], "Client.RequestLimitExceeded");
    assert_eq!(err["evidence"]["insight_type"], "ApiErrorRateInsight");
    assert_eq!(err["count"], 40);

    let schema: Value = serde_json::from_str(&std::fs::read_to_string("docs/alert.schema.json").unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    for a in &whole {
        let errors: Vec<String> = validator.iter_errors(a).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:?}\n{a}");
    }

    // Day by day into one store: the same alerts, under the same ids.
    let state = dir.path().join("daily.sqlite");
    let daily: Vec<Value> = days.iter().flat_map(|d| scan(&state, &config, std::slice::from_ref(d))).collect();
    let ids = |v: &[Value]| v.iter().map(|a| a["id"].as_str().unwrap().to_string()).collect::<BTreeSet<_>>();
    assert_eq!(ids(&whole), ids(&daily));
    assert_eq!(daily.len(), 2);

    // A rescan raises nothing; `[statistics] enabled = false` turns it off.
    assert!(scan(&state, &config, &[dir.path().join("logs")]).is_empty());
    std::fs::write(&config, "[first_seen]\nenabled = false\n[statistics]\nenabled = false\n").unwrap();
    assert!(scan(&dir.path().join("off.sqlite"), &config, &[dir.path().join("logs")]).is_empty());
}

#[test]
fn rules_lists_statistics_among_the_detectors_and_checks_its_keys() {
    let out = trailhound().args(["rules", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["detectors"].as_array().unwrap().contains(&Value::from("statistics")), "{doc}");

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("t.toml");
    std::fs::write(&config, "[statistics]\nbaseline_days = 7\npeak_factor = 0.5\n").unwrap();
    let out = trailhound().args(["rules", "--config"]).arg(&config).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("t.toml:3:") && err.contains("peak_factor"), "{err}");
}
