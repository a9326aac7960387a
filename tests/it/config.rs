//! Malformed configs: each is refused with the file, line and column of what is wrong, and
//! `rules --config` refuses exactly what `scan --config` refuses (one load-and-check path).

use crate::support::trailhound;
use std::path::Path;

/// `(name, config text, line:column, a fragment of the message)`. `PACK` in the text stands for
/// a pack file beside the config whose rule has a bad pattern; its errors name that file.
const MALFORMED: &[(&str, &[u8], &str, &str)] = &[
    ("invalid_utf8", b"[first_seen]\nburn_in_days = 3\n# caf\xe9\n", "3:6", "invalid UTF-8"),
    ("toml_syntax", b"[first_seen\nburn_in_days = 3\n", "1:12", ""),
    ("unknown_section", b"[fist_seen]\nburn_in_days = 3\n", "1:2", "unknown field `fist_seen`"),
    ("unknown_key", b"[first_seen]\nburn_in_dayz = 3\n", "2:1", "unknown field `burn_in_dayz`"),
    ("wrong_type", b"[first_seen]\nn_days = \"ninety\"\n", "2:10", ""),
    ("allow_kind", b"[[first_seen.allow]]\nprincipal = \"x\"\nkind = \"new_regoin\"\n", "3:8", "did you mean \"new_region\""),
    ("unknown_pack", b"[rules]\npacks = [\"cis\", \"sed\"]\n", "2:17", "did you mean \"seed\""),
    ("missing_pack_file", b"[rules]\npacks = [\"./gone.toml\"]\n", "2:10", "neither a built-in pack"),
    ("pattern_in_pack_file", b"[rules]\npacks = [\"PACK\"]\n", "4:20", "invalid filter pattern"),
    ("rule_pattern", b"[[rules.rule]]\nname = \"r\"\npattern = '{ $.eventName = \"X\" && }'\n", "3:35", "invalid filter pattern"),
    ("escaped_pattern", b"[[rules.rule]]\nname = \"r\"\npattern = \"{ $.a = \\\"x\\\" &&& $.b = 1 }\"\n", "3:28", "invalid filter pattern"),
    (
        "filter_pattern",
        b"[[rules.metric_filter]]\nfilter_name = \"f\"\nmetric_name = \"M\"\nfilter_pattern = '{ $.a = 1 ||| }'\n",
        "4:31",
        "invalid filter pattern",
    ),
    ("pattern_too_long", b"[[rules.rule]]\nname = \"r\"\npattern = 'LONG'\n", "3:1036", "1024 characters"),
    ("unknown_parameter", b"[[rules.rule]]\nname = \"r\"\npattern = '{ $.a = $nope }'\n", "3:20", "unknown parameter $nope"),
    (
        "misplaced_parameter",
        b"[rules.params]\nv = \"1\"\n[[rules.rule]]\nname = \"r\"\npattern = '{ $.a >= $v }'\n",
        "5:21",
        "must follow",
    ),
    ("unknown_params_key", b"[rules]\npacks = [\"seed\"]\n[rules.params]\npipeline_principal = [\"ci\"]\n", "4:1", "did you mean \"pipeline_principals\""),
    ("disable_typo", b"[rules]\npacks = [\"cis\"]\ndisable = [\"cis/unauthorised_api_calls\"]\n", "3:12", "did you mean"),
    (
        "duplicate_rule",
        b"[[rules.rule]]\nname = \"r\"\npattern = \"x\"\n[[rules.rule]]\nname = \"r\"\npattern = \"y\"\n",
        "5:8",
        "defined twice",
    ),
    ("alarm_period", b"FILTER[[rules.alarm]]\nALARM\nperiod = 90\nevaluation_periods = 1\nthreshold = 1\n", "10:10", "multiple of 60"),
    ("alarm_periods_zero", b"FILTER[[rules.alarm]]\nALARM\nperiod = 60\nevaluation_periods = 0\nthreshold = 1\n", "11:22", "at least 1"),
    (
        "alarm_datapoints",
        b"FILTER[[rules.alarm]]\nALARM\nperiod = 60\nevaluation_periods = 2\ndatapoints_to_alarm = 3\nthreshold = 1\n",
        "12:23",
        "datapoints_to_alarm",
    ),
    ("alarm_threshold", b"FILTER[[rules.alarm]]\nALARM\nperiod = 60\nevaluation_periods = 1\nthreshold = nan\n", "12:13", "finite"),
    (
        "alarm_no_metric",
        b"FILTER[[rules.alarm]]\nALARM\nperiod = 60\nevaluation_periods = 1\nthreshold = 1\nmetric_name = \"Other\"\n",
        "12:15",
        "no metric filter publishes",
    ),
    (
        "alarm_dimension",
        b"FILTER[[rules.alarm]]\nALARM\nperiod = 60\nevaluation_periods = 1\nthreshold = 1\ndimensions = { user = \"u\" }\n",
        "13:16",
        "no dimension",
    ),
    ("alarm_statistic", b"[[rules.alarm]]\nalarm_name = \"a\"\nstatistic = \"Total\"\n", "3:13", "Total"),
    ("filter_metric_value", b"[[rules.metric_filter]]\nfilter_name = \"f\"\nmetric_name = \"M\"\nfilter_pattern = \"\"\nmetric_value = \"one\"\n", "5:16", "metric_value"),
    ("filter_unit", b"[[rules.metric_filter]]\nfilter_name = \"f\"\nmetric_name = \"M\"\nfilter_pattern = \"\"\nunit = \"Parsecs\"\n", "5:8", "unit"),
    (
        "duplicate_filter",
        b"[[rules.metric_filter]]\nfilter_name = \"f\"\nmetric_name = \"M\"\nfilter_pattern = \"\"\n[[rules.metric_filter]]\nfilter_name = \"f\"\nmetric_name = \"N\"\nfilter_pattern = \"\"\n",
        "6:15",
        "defined twice",
    ),
    ("webhook_no_host", b"[alerts.webhook]\nurl = \"http://\"\n", "2:7", "names no host"),
    ("webhook_ftp", b"[alerts.webhook]\nurl = \"ftp://example.com/hook\"\n", "2:7", "http:// or https://"),
    ("webhook_attempts", b"[alerts.webhook]\nurl = \"http://h/\"\nattempts = -1\n", "3:12", ""),
    ("trap_arn_kind", b"[[traps.iam_role]]\narn = \"arn:aws:iam::111111111111:user/x\"\n", "2:7", "role/NAME"),
    (
        "trap_account",
        b"[[traps.iam_role]]\narn = \"arn:aws:iam::111111111111:role/a\"\naccount = \"999999999999\"\n",
        "3:11",
        "contradicts",
    ),
    ("severity", b"[[rules.rule]]\nname = \"r\"\npattern = \"x\"\nseverity = \"urgent\"\n", "4:12", "urgent"),
];

const FILTER: &str = "[[rules.metric_filter]]\nfilter_name = \"f\"\nmetric_name = \"M\"\nfilter_pattern = '{ $.a = 1 }'\n";
const ALARM: &str = "alarm_name = \"a\"\nmetric_name = \"M\"\nstatistic = \"Sum\"\ncomparison_operator = \"GreaterThanThreshold\"";

/// The config's bytes with the table's shorthands written out.
fn expand(text: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(text) else { return text.to_vec() };
    let long = format!("{{ $.eventName = \"{}\" }}", "x".repeat(1020));
    // The no-metric alarm keeps its metric_name of the table: drop the shorthand's.
    let alarm = if text.contains("\"Other\"") { ALARM.replace("metric_name = \"M\"\n", "") } else { ALARM.to_string() };
    text.replacen("FILTER", FILTER, 1).replacen("ALARM", &alarm, 1).replacen("LONG", &long, 1).replacen("PACK", "pack.toml", 1).into_bytes()
}

/// Runs a command and returns (exit code, stderr).
fn run(args: &[&str], config: &Path, dir: &Path) -> (i32, String) {
    let out = trailhound().args(args).arg("--config").arg(config).current_dir(dir).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn every_malformed_config_is_refused_at_its_line_and_column_by_rules_and_scan_alike() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pack.toml"), "# a pack\n[[rule]]\nname = \"r\"\npattern = '{ $.a = }'\n").unwrap();
    std::fs::write(dir.path().join("in.json"), r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"A","eventSource":"s3.amazonaws.com"}"#)
        .unwrap();
    assert!(MALFORMED.len() >= 23);
    let mut failures = Vec::new();
    for (name, text, at, fragment) in MALFORMED {
        let file = format!("{name}.toml");
        std::fs::write(dir.path().join(&file), expand(text)).unwrap();
        let (code, rules) = run(&["rules"], Path::new(&file), dir.path());
        let state = dir.path().join(format!("{name}.db"));
        let (scan_code, scan) = run(&["scan", "-q", "--state", state.to_str().unwrap(), "in.json"], Path::new(&file), dir.path());
        let origin = if *name == "pattern_in_pack_file" { "pack.toml" } else { file.as_str() };
        let first = rules.lines().next().unwrap_or("");
        let located = at.is_empty() || first.contains(&format!("{origin}:{at}: "));
        if code != 1 || !located || !first.contains(fragment) || (scan_code, &scan) != (code, &rules) || state.exists() {
            failures.push(format!("{name}: rules exit {code}, scan exit {scan_code}\n  rules: {rules}  scan: {scan}"));
        }
        // Every config error names the file and the line.
        if !first.contains(&format!("{origin}:")) {
            failures.push(format!("{name}: no file:line in {first}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn parameters_a_config_declares_for_its_own_rules_are_known() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ok.toml");
    std::fs::write(&cfg, "[rules.params]\nmine = [\"a\", \"b\"]\n[[rules.rule]]\nname = \"r\"\npattern = '{ $.eventName = $mine }'\n")
        .unwrap();
    let (code, err) = run(&["rules"], &cfg, dir.path());
    assert_eq!(code, 0, "{err}");
}
