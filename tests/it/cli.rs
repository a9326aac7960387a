//! End-to-end tests of the `trailhound` binary over real fixtures (testdata/, see its README)
//! and over bad input made on the fly. Expected counts come from
//! `python3 scripts/independent_count.py`, run once, not from trailhound.

use crate::support::{gz, stats, trailhound};
use serde_json::Value;
use std::path::Path;

const GOOD: &str = r#"{"Records":[{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventID":"good-1","recipientAccountId":"111122223333","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}}]}"#;

mod fixtures {
    use super::*;

    /// (folder, records, unique events, bad records, first, last) from the independent count.
    const EXPECTED: &[(&str, u64, u64, u64, &str, &str)] = &[
        ("invictus", 2900, 2900, 0, "2023-07-10T11:42:18Z", "2023-07-10T12:37:50Z"),
        ("stratus", 8, 8, 0, "2024-07-31T12:46:41Z", "2024-11-30T08:43:18Z"),
        ("permiso", 26, 26, 0, "2023-11-30T07:15:50Z", "2023-11-30T07:19:17Z"),
        ("plaso", 6, 6, 0, "2022-02-07T22:19:04Z", "2022-02-07T22:23:37Z"),
        ("otrf", 103, 103, 0, "2020-09-14T00:44:20Z", "2020-09-14T01:13:20Z"),
        // One upstream file concatenates records without commas: all 15 are recovered, and the
        // break plus the trailing `]}` are reported as bad values.
        ("zmallen", 15, 15, 2, "2022-07-20T20:53:54Z", "2022-07-20T21:06:11Z"),
    ];

    #[test]
    fn counts_agree_with_an_independent_count() {
        for (dir, records, events, bad, first, last) in EXPECTED {
            let (code, r, err) = stats(&["-q", &format!("testdata/{dir}")]);
            assert_eq!(r["records"], *records, "{dir}");
            assert_eq!(r["events"], *events, "{dir}");
            assert_eq!(r["bad_records"], *bad, "{dir}: {err}");
            assert_eq!(r["first_event"], *first, "{dir}");
            assert_eq!(r["last_event"], *last, "{dir}");
            assert_eq!(code, if *bad > 0 { 3 } else { 0 }, "{dir}: {err}");
        }
    }

    #[test]
    fn panther_wrapped_fixtures_unwrap_and_reused_ids_dedupe() {
        // 40 rule-test lines, each `{"rule_id":…,"log":{record}}`; fixtures reuse eventIDs, for
        // copies (dropped) and for other events (kept: 27 as scripts/independent_count.py counts).
        let (_, r, _) = stats(&["-q", "testdata/panther"]);
        assert_eq!(r["records"], 40);
        assert_eq!((&r["events"], &r["duplicates"], &r["conflicting_ids"]), (&27.into(), &13.into(), &6.into()));
    }

    #[test]
    fn duplicates_do_not_depend_on_the_thread_count() {
        // Every fixture at once: undated files of different years, read by workers in any order.
        let (_, one, _) = stats(&["-q", "-j", "1", "testdata"]);
        for _ in 0..3 {
            let (_, two, _) = stats(&["-q", "-j", "2", "testdata"]);
            assert_eq!((&two["events"], &two["duplicates"]), (&one["events"], &one["duplicates"]));
        }
    }

    #[test]
    fn json_report_has_the_documented_keys() {
        let (code, r, _) = stats(&["-q", "testdata/invictus"]);
        assert_eq!(code, 0);
        for key in ["events", "duplicates", "files", "skipped_files", "bad_records", "accounts", "principals", "first_event", "last_event"]
        {
            assert!(r.get(key).is_some(), "missing {key}");
        }
        assert_eq!(r["files"], 55);
        assert_eq!(r["accounts"], 1);
        assert_eq!(r["principals_by_type"]["IAMUser"], 3);
        assert_eq!(r["events_per_day"]["2023-07-10"], 2900);
        assert_eq!(r["top_event_names"][0]["name"], "kms:Decrypt");
        assert_eq!(r["top_event_names"][0]["count"], 178);
    }

    #[test]
    fn table_output_for_people() {
        let out = trailhound().args(["stats", "--format", "table", "-q", "testdata/stratus"]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("events (unique, in range)"), "{text}");
        assert!(text.contains("ec2:ModifySnapshotAttribute"), "{text}");
    }
}

mod layout {
    use super::*;

    /// Writes the Invictus records as an S3 tree (gzip) under `prefix`.
    fn s3_tree(root: &Path, prefix: &str) {
        let dir = root.join(prefix).join("2023/07/10");
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir("testdata/invictus/CloudTrail").unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().replace(".json", ".json.gz");
            std::fs::write(dir.join(name), gz(&std::fs::read(&path).unwrap())).unwrap();
        }
    }

    #[test]
    fn two_trails_into_one_bucket_are_deduplicated() {
        let tmp = tempfile::tempdir().unwrap();
        s3_tree(tmp.path(), "AWSLogs/218007301253/CloudTrail/us-east-1");
        s3_tree(tmp.path(), "other-prefix/AWSLogs/218007301253/CloudTrail/us-east-1");
        let (code, r, _) = stats(&["-q", tmp.path().to_str().unwrap()]);
        assert_eq!(code, 0);
        assert_eq!((r["records"].as_u64(), r["events"].as_u64(), r["duplicates"].as_u64()), (Some(5800), Some(2900), Some(2900)));
        assert_eq!(r["files"], 110);
    }

    #[test]
    fn organisation_trail_digests_insights_and_other_services() {
        let tmp = tempfile::tempdir().unwrap();
        let org = tmp.path().join("AWSLogs/o-abc123def4/111122223333");
        let ct = org.join("CloudTrail/us-east-1/2024/01/01");
        std::fs::create_dir_all(&ct).unwrap();
        std::fs::write(ct.join("111122223333_CloudTrail_us-east-1_20240101T0005Z_abcdefghijklmnop.json.gz"), gz(GOOD.as_bytes())).unwrap();
        let digest = org.join("CloudTrail-Digest/us-east-1/2024/01/01");
        std::fs::create_dir_all(&digest).unwrap();
        std::fs::write(
            digest.join("111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20240101T010000Z.json.gz"),
            gz(b"{\"digestStartTime\":\"x\"}"),
        )
        .unwrap();
        let insight = org.join("CloudTrail-Insight/us-east-1/2024/01/01");
        std::fs::create_dir_all(&insight).unwrap();
        let ins = r#"{"Records":[{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","eventType":"AwsCloudTrailInsight","eventCategory":"Insight","eventID":"i1","insightDetails":{"state":"Start"}}]}"#;
        std::fs::write(insight.join("111122223333_CloudTrail-Insight_us-east-1_20240101T0100Z_x.json.gz"), gz(ins.as_bytes())).unwrap();
        let flow = tmp.path().join("AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/01/01");
        std::fs::create_dir_all(&flow).unwrap();
        std::fs::write(flow.join("flow.log.gz"), gz(b"2 123 eni-1 ACCEPT")).unwrap();
        let (code, r, err) = stats(&["-q", tmp.path().to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(r["events"], 1);
        assert_eq!(r["insights"], 1);
        assert_eq!(r["skipped_by_reason"]["digest"], 1);
        assert_eq!(r["skipped_by_reason"]["other_service"], 1);
    }

    #[test]
    fn since_and_until_prune_files_by_key_and_events_by_time() {
        let tmp = tempfile::tempdir().unwrap();
        for (day, time) in [("01", "2024-01-01T10:00:00Z"), ("05", "2024-01-05T10:00:00Z"), ("09", "2024-01-09T10:00:00Z")] {
            let dir = tmp.path().join(format!("AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/{day}"));
            std::fs::create_dir_all(&dir).unwrap();
            let rec = GOOD.replace("2024-01-01T00:00:00Z", time).replace("good-1", &format!("id-{day}"));
            std::fs::write(dir.join(format!("111122223333_CloudTrail_us-east-1_202401{day}T1005Z_x.json.gz")), gz(rec.as_bytes())).unwrap();
        }
        let root = tmp.path().to_str().unwrap();
        let (_, r, _) = stats(&["-q", "--since", "2024-01-04", "--until", "2024-01-06", root]);
        assert_eq!(r["events"], 1);
        assert_eq!(r["skipped_by_reason"]["out_of_range"], 2, "files outside the range are not opened");
        let (_, r, _) = stats(&["-q", "--since", "2024-01-05T10:00:01Z", root]);
        assert_eq!(r["events"], 1);
        assert_eq!(r["out_of_range"], 1, "the 01-05 file is opened, its older event filtered");
        let out = trailhound().args(["stats", "--since", "yesterday-ish", root]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
    }

    #[test]
    fn reads_standard_input() {
        let out = trailhound().args(["stats", "--format", "json", "-"]).write_stdin(GOOD).output().unwrap();
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["events"], 1);
        let out = trailhound().args(["stats", "--format", "json", "-"]).write_stdin(gz(GOOD.as_bytes())).output().unwrap();
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["events"], 1, "gzip on stdin too");
    }

    #[test]
    fn envelopes_and_exports() {
        let tmp = tempfile::tempdir().unwrap();
        let record = r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","eventID":"E"}"#;
        let eb = format!(
            r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.sts","detail":{}}}"#,
            record.replace('E', "eb")
        );
        let lines = format!("{}\n{}\n{eb}\n", record.replace('E', "l1"), record.replace('E', "l2"));
        std::fs::write(tmp.path().join("export.jsonl"), lines).unwrap();
        let lookup = format!(
            r#"[{{"EventId":"x","EventName":"GetCallerIdentity","CloudTrailEvent":{}}}]"#,
            serde_json::to_string(&record.replace('E', "lk")).unwrap()
        );
        std::fs::write(tmp.path().join("lookup.json"), lookup).unwrap();
        let (code, r, err) = stats(&["-q", tmp.path().to_str().unwrap()]);
        assert_eq!((code, r["events"].as_u64()), (0, Some(4)), "{err}");
    }
}

mod bad_input {
    use super::*;

    /// A directory with one good file and `name` holding `bad`; returns (code, report, stderr).
    fn with_bad(name: &str, bad: &[u8], extra: &[&str]) -> (i32, Value, String) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("good.json"), GOOD).unwrap();
        std::fs::write(tmp.path().join(name), bad).unwrap();
        let mut args = vec!["-q"];
        args.extend_from_slice(extra);
        let root = tmp.path().to_str().unwrap().to_string();
        args.push(&root);
        let result = stats(&args);
        assert!(result.1["events"].as_u64() >= Some(1), "the good file is still read: {}", result.2);
        let shown = name.replace('\u{1b}', "\\u{1b}");
        assert!(result.2.contains(&shown), "the message names the file: {}", result.2);
        result
    }

    #[test]
    fn truncated_gzip() {
        let mut records = String::from("{\"Records\":[");
        for i in 0..200 {
            records.push_str(&GOOD[13..GOOD.len() - 2].replace("good-1", &format!("t{i}")));
            records.push(',');
        }
        records.push_str(&GOOD[13..GOOD.len() - 2].replace("good-1", "last"));
        records.push_str("]}");
        let z = gz(records.as_bytes());
        let (code, r, err) = with_bad("cut.json.gz", &z[..z.len() * 2 / 3], &[]);
        assert_eq!(code, 3);
        assert_eq!(r["file_errors"], 1);
        assert!(err.contains("truncated gzip"), "{err}");
    }

    #[test]
    fn corrupt_gzip() {
        let (code, r, err) = with_bad("bad.json.gz", b"\x1f\x8b\x08\x00garbage-garbage-garbage", &[]);
        assert_eq!((code, r["file_errors"].as_u64()), (3, Some(1)), "{err}");
    }

    #[test]
    fn invalid_json_names_the_record_and_line() {
        let (code, r, err) = with_bad("bad.jsonl", b"{\"eventName\":\"A\",\"eventSource\":\"x\"}\n{\"eventName\": oops}\n", &[]);
        assert_eq!((code, r["bad_records"].as_u64()), (3, Some(1)));
        assert!(err.contains("record 2 (line 2)"), "{err}");
    }

    #[test]
    fn record_that_is_not_an_object() {
        let (code, r, err) = with_bad("arr.json", br#"{"Records":[42, "x", {"eventName":"A","eventSource":"s"}]}"#, &[]);
        assert_eq!((code, r["bad_records"].as_u64()), (3, Some(2)));
        assert!(err.contains("record 1: record is not a JSON object"), "{err}");
    }

    #[test]
    fn huge_record_is_refused() {
        let huge =
            format!(r#"{{"Records":[{{"eventName":"A","eventSource":"s","requestParameters":{{"p":"{}"}}}}]}}"#, "x".repeat(1_100_000));
        let (code, r, err) = with_bad("huge.json", huge.as_bytes(), &[]);
        assert_eq!((code, r["bad_records"].as_u64()), (3, Some(1)));
        assert!(err.contains("over the 1048576-byte limit"), "{err}");
    }

    #[test]
    fn decompression_bomb_is_capped() {
        let bomb = gz(&vec![b' '; 50_000_000]);
        assert!(bomb.len() < 200_000);
        let (code, r, err) = with_bad("bomb.json.gz", &bomb, &["--max-file-bytes", "10000000"]);
        assert_eq!((code, r["file_errors"].as_u64()), (3, Some(1)));
        assert!(err.contains("more than 10000000 bytes"), "{err}");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
        let (code, r, _) = with_bad("deep.json", deep.as_bytes(), &[]);
        assert_eq!((code, r["bad_records"].as_u64()), (3, Some(1)));
        let deep_obj = format!(r#"{{"eventName":"A","eventSource":"s","x":{}1{}}}"#, "[".repeat(500_000), "]".repeat(500_000));
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("deep2.json"), deep_obj).unwrap();
        let (code, r, _) = stats(&["-q", tmp.path().to_str().unwrap()]);
        assert_eq!((code, r["events"].as_u64()), (0, Some(1)), "a deep value inside a record is kept opaque");
    }

    #[test]
    fn invalid_utf8_costs_only_its_record() {
        let mut bytes = b"{\"eventName\":\"A\",\"eventSource\":\"x\",\"eventID\":\"u1\"}\n".to_vec();
        bytes.extend_from_slice(b"{\"eventName\":\"B\xff\",\"eventSource\":\"x\"}\n");
        let (code, r, err) = with_bad("utf8.jsonl", &bytes, &[]);
        assert_eq!((code, r["bad_records"].as_u64(), r["records"].as_u64()), (3, Some(1), Some(2)));
        assert!(err.contains("invalid UTF-8"), "{err}");
    }

    #[test]
    fn empty_and_non_cloudtrail_files_are_skipped_and_counted() {
        let (code, r, err) = with_bad("empty.json", b"", &[]);
        assert_eq!((code, r["skipped_by_reason"]["empty"].as_u64()), (0, Some(1)), "{err}");
        let (code, r, err) = with_bad("package.json", br#"{"name":"x","version":"1.0.0"}"#, &[]);
        assert_eq!((code, r["skipped_by_reason"]["not_cloudtrail"].as_u64()), (3, Some(1)));
        assert!(err.contains("JSON without CloudTrail records"), "{err}");
        let (code, r, _) = with_bad("notes.txt", b"hello\nworld\n", &[]);
        assert_eq!((code, r["skipped_by_reason"]["not_cloudtrail"].as_u64(), r["bad_records"].as_u64()), (3, Some(1), Some(0)));
    }

    #[test]
    fn control_characters_in_names_are_escaped() {
        let (_, _, err) = with_bad("evil\u{1b}[31m.json", b"{", &[]);
        assert!(!err.contains('\u{1b}'), "{err:?}");
        assert!(err.contains("\\u{1b}"), "{err:?}");
    }

    #[test]
    fn missing_input_is_an_error() {
        let out = trailhound().args(["stats", "/nonexistent/trailhound"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/trailhound"));
    }

    /// A line that is not JSON, then a record the input is cut inside (by the size cap or a
    /// truncated gzip): a skipped, cut file, counted once each way, read whole or streamed.
    mod cut_input {
        use super::*;

        const CUT_BY_CAP: &[u8] = b"hello there\n{\"eventVersion\":\"1.08\",\"eventName\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}\n";

        /// (exit code, files read, not_cloudtrail skips, file errors, bad records, records).
        fn counts(out: (i32, Value, String)) -> (i32, [u64; 5]) {
            let (code, r, err) = out;
            let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("{v}: {err}"));
            let skipped = r["skipped_by_reason"].get("not_cloudtrail").map_or(0, n);
            (code, [n(&r["files"]), skipped, n(&r["file_errors"]), n(&r["bad_records"]), n(&r["records"])])
        }

        fn stdin(args: &[&str], input: &[u8]) -> (i32, Value, String) {
            let out = trailhound().args(["stats", "--format", "json"]).args(args).arg("-").write_stdin(input).output().unwrap();
            let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
            (out.status.code().unwrap(), report, String::from_utf8_lossy(&out.stderr).into_owned())
        }

        /// A gzip cut inside the record after the line that is not JSON.
        fn truncated_gzip() -> Vec<u8> {
            let digits: String = (0..2000).map(|i| (i * 7919 % 10_007).to_string()).collect();
            let text = format!("hello there\n{{\"eventVersion\":\"1.08\",\"eventName\":\"{digits}\"}}\n");
            let z = gz(text.as_bytes());
            z[..z.len() / 2].to_vec()
        }

        const SKIPPED_AND_CUT: (i32, [u64; 5]) = (3, [0, 1, 1, 0, 0]);

        #[test]
        fn cap_on_standard_input() {
            assert_eq!(counts(stdin(&["-q", "--max-file-bytes", "40"], CUT_BY_CAP)), SKIPPED_AND_CUT);
        }

        #[test]
        fn cap_on_a_file() {
            let tmp = tempfile::tempdir().unwrap();
            let p = tmp.path().join("cut.jsonl");
            std::fs::write(&p, CUT_BY_CAP).unwrap();
            assert_eq!(counts(stats(&["-q", "--max-file-bytes", "40", p.to_str().unwrap()])), SKIPPED_AND_CUT);
        }

        #[test]
        fn truncated_gzip_read_whole_and_streamed() {
            let tmp = tempfile::tempdir().unwrap();
            let p = tmp.path().join("cut.json.gz");
            std::fs::write(&p, truncated_gzip()).unwrap();
            assert_eq!(counts(stats(&["-q", p.to_str().unwrap()])), SKIPPED_AND_CUT, "a file is read whole");
            assert_eq!(counts(stdin(&["-q"], &truncated_gzip())), SKIPPED_AND_CUT, "standard input is streamed");
        }

        #[test]
        fn bad_records_before_the_cut_still_count() {
            // A record, a broken line, then the cut: one bad record, the file read and cut.
            let text = format!("{}\n{{\"eventName\": oops}}\n", &GOOD[12..GOOD.len() - 2]);
            let mut input = text.into_bytes();
            input.extend_from_slice(&CUT_BY_CAP[12..]);
            let cap = (input.len() - 20).to_string();
            let expected = (3, [1, 0, 1, 1, 1]);
            assert_eq!(counts(stdin(&["-q", "--max-file-bytes", &cap], &input)), expected);
            let tmp = tempfile::tempdir().unwrap();
            let p = tmp.path().join("cut.jsonl");
            std::fs::write(&p, &input).unwrap();
            assert_eq!(counts(stats(&["-q", "--max-file-bytes", &cap, p.to_str().unwrap()])), expected);
        }
    }
}
