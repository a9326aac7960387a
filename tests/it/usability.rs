//! Where users go wrong, and the CLI conventions: one `--format` vocabulary, `--fail-on-alert`,
//! `baseline show` with the ARNs CloudTrail shows, hints for searches that find nothing.

use crate::support::{jsonl, trailhound};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_command_speaks_one_format_vocabulary() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.sqlite");
    let s = state.to_str().unwrap();
    // Lists take table, json and jsonl; documents table and json; search also count.
    for (args, ok) in [
        (vec!["rules", "--format", "jsonl"], true),
        (vec!["rules", "--format", "json"], true),
        (vec!["baseline", "show", "--state", s, "--format", "json"], true),
        (vec!["search", "-q", "{ $.eventName = ConsoleLogin }", "testdata/invictus", "--format", "json"], true),
        (vec!["stats", "-q", "testdata/stratus", "--format", "jsonl"], false),
        (vec!["search", "-q", "x", "testdata/stratus", "--format", "yaml"], false),
    ] {
        let out = trailhound().args(&args).output().unwrap();
        assert_eq!(out.status.success(), ok, "{args:?}: {}", stderr(&out));
        if !ok {
            assert_eq!(out.status.code(), Some(2));
            assert!(stderr(&out).contains("possible values"), "{}", stderr(&out));
        }
    }
    let out =
        trailhound().args(["search", "-q", "{ $.eventName = ConsoleLogin }", "testdata/invictus", "--format", "json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc.as_array().unwrap().len(), 2);
    let out = trailhound().args(["rules", "--format", "jsonl"]).output().unwrap();
    assert!(jsonl(&out.stdout).iter().all(|r| r["state"].is_string()));
}

#[test]
fn search_limit_gives_the_earliest_matches_every_time() {
    let run = |fmt: &str, threads: &str| {
        let out = trailhound()
            .args(["search", "-q", "{ $.eventName = GetSecretValue }", "testdata/invictus", "--limit", "3", "--format", fmt, "-j", threads])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        (out.stdout, err)
    };
    let (first, err) = run("jsonl", "2");
    let records = jsonl(&first);
    assert_eq!(records.len(), 3);
    assert!(err.contains("60 of 2900 events match (3 earliest shown, --limit)"), "{err}");
    // The three earliest of all 60, in time order, whatever the workers.
    let all =
        trailhound().args(["search", "-q", "{ $.eventName = GetSecretValue }", "testdata/invictus", "--format", "jsonl"]).output().unwrap();
    let mut times: Vec<String> = jsonl(&all.stdout).iter().map(|r| r["eventTime"].as_str().unwrap().to_string()).collect();
    times.sort();
    let got: Vec<&str> = records.iter().map(|r| r["eventTime"].as_str().unwrap()).collect();
    assert_eq!(got, times[..3].iter().map(String::as_str).collect::<Vec<_>>());
    for threads in ["1", "2", "4"] {
        assert_eq!(run("jsonl", threads).0, first, "-j {threads}");
    }
    let (table, _) = run("table", "4");
    assert_eq!(String::from_utf8(table).unwrap().matches("GetSecretValue").count(), 3);
}

#[test]
fn searches_that_find_nothing_get_a_hint() {
    let hint = |pattern: &str| {
        let out = trailhound().args(["search", "-q", pattern, "testdata/invictus", "--format", "count"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
        stderr(&out)
    };
    let err = hint(r#"{ $.eventname = "ConsoleLogin" }"#);
    assert!(err.contains("hint: no event read has $.eventname, but events have $.eventName"), "{err}");
    let err = hint(r#".eventName == "ConsoleLogin""#);
    assert!(err.contains("hint: this looks like jq"), "{err}");
    let err = hint("fields @timestamp | filter eventName = 'ConsoleLogin'");
    assert!(err.contains("hint: this looks like a CloudWatch Logs Insights query"), "{err}");
    // A pattern that matches says nothing of the kind.
    let out = trailhound()
        .args(["search", "-q", r#"{ $.eventName = "ConsoleLogin" }"#, "testdata/invictus", "--format", "count"])
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("hint"));
}

#[test]
fn zip_inputs_are_named_and_times_need_a_zone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("export.zip"), b"PK\x03\x04").unwrap();
    std::fs::copy("testdata/plaso/aws_cloudtrail.jsonl", dir.path().join("a.jsonl")).unwrap();
    let out = trailhound().args(["stats", "-q", "--format", "json"]).arg(dir.path()).output().unwrap();
    assert!(stderr(&out).contains("export.zip: zip archives are not read"), "{}", stderr(&out));
    let out = trailhound().args(["stats", "-q", "--since", "2024-05-01T12:00:00", "testdata/stratus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("has no time zone"), "{}", stderr(&out));
}

/// A config with a rule every Invictus ConsoleLogin trips.
fn login_rule(dir: &std::path::Path) -> std::path::PathBuf {
    let cfg = dir.join("th.toml");
    std::fs::write(
        &cfg,
        "[first_seen]\nenabled = false\n[[rules.rule]]\nname = \"login\"\npattern = '{ $.eventName = \"ConsoleLogin\" }'\n",
    )
    .unwrap();
    cfg
}

#[test]
fn fail_on_alert_exits_4_and_a_changed_config_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = login_rule(dir.path());
    let state = dir.path().join("s.sqlite");
    let scan = |extra: &[&str]| {
        trailhound()
            .args(["scan", "-q", "--format", "jsonl", "--config"])
            .arg(&cfg)
            .arg("--state")
            .arg(&state)
            .args(extra)
            .arg("testdata/invictus")
            .output()
            .unwrap()
    };
    let out = scan(&["--fail-on-alert"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(jsonl(&out.stdout).len(), 2);
    // Nothing new the second time: 0.
    assert_eq!(scan(&["--fail-on-alert"]).status.code(), Some(0));
    // The config changes after the last scan: the files were processed before, and the user is
    // told how to read them again.
    // The same text written again is the same config: no note.
    std::fs::write(&cfg, std::fs::read(&cfg).unwrap()).unwrap();
    let out = scan(&[]);
    assert!(!stderr(&out).contains("config changed"), "{}", stderr(&out));
    let text = std::fs::read_to_string(&cfg).unwrap().replace("ConsoleLogin", "GetSecretValue");
    std::fs::write(&cfg, text).unwrap();
    let out = scan(&[]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(err.contains("55 files were processed before the change") && err.contains("--reread"), "{err}");
    // `--help` documents the exit status.
    let help = trailhound().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("4  scan --fail-on-alert"));
}

#[test]
fn baseline_show_takes_the_arns_cloudtrail_shows_and_prints_rfc3339() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.sqlite");
    trailhound().args(["baseline", "learn", "-q", "--state"]).arg(&state).arg("testdata/invictus").assert().success();
    let show = |principal: &str| {
        let out =
            trailhound().args(["baseline", "show", "--format", "jsonl", "--principal", principal, "--state"]).arg(&state).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        jsonl(&out.stdout)
    };
    let role = "arn:aws:iam::123837392027:role/stratus-red-team-ec2-steal-credentials-role";
    let by_role = show(role);
    assert!(!by_role.is_empty());
    // The session ARN as it appears in the stolen credentials' events.
    let session = "arn:aws:sts::123837392027:assumed-role/stratus-red-team-ec2-steal-credentials-role/i-0dbc91f429e48eeed";
    assert_eq!(show(session), by_role);
    assert!(by_role.iter().all(|r| r["scope"] == role));
    let first = by_role[0]["first_seen"].as_str().unwrap();
    assert!(first.starts_with("2023-07-10T") && first.ends_with('Z'), "{first}");
    assert!(by_role[0]["success"]["last"].is_string() || by_role[0]["failure"]["last"].is_string());
}

#[test]
fn the_summary_says_which_skip_rule_took_the_events_not_learned() {
    let dir = tempfile::tempdir().unwrap();
    let out = trailhound().args(["scan", "-q", "--state"]).arg(dir.path().join("s.sqlite")).arg("testdata/invictus").output().unwrap();
    assert!(out.status.success());
    let err = stderr(&out);
    // Invictus: 500 of 2,900 events are not learned, each counted under the rule that took it.
    assert!(
        err.contains(
            "500 not learned by [first_seen] skip rules: 76 AWS services (skip_aws_services), 6 service-linked roles (skip_service_linked_roles), 418 user agents such as AWS Internal (skip_user_agents);"
        ),
        "{err}"
    );
}
