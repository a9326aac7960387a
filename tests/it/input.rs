//! Bad input is named where it starts and counted; text that cannot be read as written is either
//! refused (when it identifies the event) or read repaired and counted, never silently dropped.

use crate::support::{stats, trailhound};

fn record(id: &str, name: &str, extra: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","eventID":"{id}","recipientAccountId":"111111111111","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/a","accountId":"111111111111","userName":"a"}}{extra}}}"#
    )
}

#[test]
fn lone_surrogates_refuse_identifying_fields_and_are_repaired_in_free_text() {
    let dir = tempfile::tempdir().unwrap();
    let records = [
        record("e1", "CreateUser", ""),
        record("e2", "ListUsers", r#","userAgent":"aws-cli\ud800""#),
        record("e3", r"Cr\udc00", ""),
        record("e4", "GetUser", "").replace("user/a", r"user/\ud800"),
        record("e5", "ListRoles", r#","requestParameters":{"marker":"\udc00x"}"#),
    ];
    let path = dir.path().join("s.json");
    std::fs::write(&path, format!("{{\"Records\":[\n{}\n]}}\n", records.join(",\n"))).unwrap();
    let (code, report, err) = stats(&[path.to_str().unwrap()]);
    assert_eq!(code, 3, "bad records make the run incomplete: {err}");
    assert_eq!(
        (report["events"].as_u64(), report["bad_records"].as_u64(), report["repaired_records"].as_u64()),
        (Some(3), Some(2), Some(2))
    );
    assert!(err.contains("s.json: record 3: eventName holds a lone surrogate"), "{err}");
    assert!(err.contains("s.json: record 4: userIdentity holds a lone surrogate"), "{err}");
    assert!(err.contains("s.json: 2 records read with U+FFFD"), "{err}");
    let names = report["top_event_names"].to_string();
    assert!(!names.contains("unknown") && names.contains("iam:ListUsers") && names.contains("iam:ListRoles"), "{names}");

    // A scan says so in its summary line.
    let state = dir.path().join("s.db");
    let out = trailhound().args(["scan", "-q", "--learn", "--state", state.to_str().unwrap()]).arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 bad records, 2 records with repaired text;"), "{err}");
}

#[test]
fn a_bad_record_is_named_by_the_line_it_starts_on_whole_or_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let good = |n: &str| format!(r#"{{"eventTime":"2024-01-01T00:00:00Z","eventName":"{n}","eventSource":"s3.amazonaws.com"}}"#);
    // JSON lines: record 2 starts on line 2 and breaks on line 5.
    let lines = format!(
        "{}\n{{\"eventTime\":\"2024-01-01T00:00:00Z\",\n\"eventName\":\"B\",\n \"x\": [1, 2,\n oops]}}\n{}\n",
        good("A"),
        good("C")
    );
    // A pretty `Records` file: record 3 starts on line 4 and breaks on line 6.
    let records = format!(
        "{{\"Records\": [\n{},\n{},\n{{\"eventName\": \"X\",\n  \"eventTime\": \"2024-01-01T00:00:00Z\",\n  \"broken\": tru}},\n{}\n]}}\n",
        good("A"),
        good("B"),
        good("D")
    );
    for (name, text, want) in [("l.json", &lines, "l.json: record 2 (line 2): "), ("r.json", &records, "r.json: record 3 (line 4): ")] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = stats(&[path.to_str().unwrap()]);
        assert!(code == 3 && err.contains(want), "{name}: {err}");
        // Standard input is streamed a window at a time: the same line.
        let out = trailhound().args(["stats", "--format", "json", "-"]).write_stdin(text.as_bytes()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&want[name.len()..]), "stdin {name}: {err}");
    }
}
