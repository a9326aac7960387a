//! The streaming reader against the whole-file reader, through `pipeline::run`: the fixtures and
//! generated files bigger than a (test-sized) streaming threshold, JSON lines, `Records` and
//! arrays, plain and gzip, give the same `ReadSummary` and the same events read either way.

use crate::support::{gz, stats, trailhound};
use std::path::{Path, PathBuf};
use trailhound::event::Record;
use trailhound::pipeline::{self, EventContext, EventSink, Flow, ReadOptions};
use trailhound::source::{StatWhen, TimeRange, discover};

struct Collect(Vec<String>);

impl EventSink for Collect {
    fn event(&mut self, ev: &Record<'_>, ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        self.0.push(format!("{} {}", ctx.file.name, ev.raw));
        Ok(Flow::Continue)
    }
    fn insight(&mut self, ev: &Record<'_>, ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        self.0.push(format!("insight {} {}", ctx.file.name, ev.raw));
        Ok(Flow::Continue)
    }
}

/// The summary (as JSON) and every event, read with files over `stream_above` bytes streamed.
fn read(paths: &[PathBuf], stream_above: u64, chunk: usize, range: TimeRange) -> (String, Vec<String>) {
    let (inputs, errors) = discover(paths, range, StatWhen::OnRead);
    assert!(errors.is_empty());
    let opts = ReadOptions { stream_above, stream_chunk: chunk, threads: 1, range, ..ReadOptions::default() };
    let (sinks, summary) = pipeline::run(&inputs, &opts, || Collect(Vec::new())).unwrap();
    let mut events: Vec<String> = sinks.into_iter().flat_map(|s| s.0).collect();
    events.sort();
    (serde_json::to_string(&summary).unwrap(), events)
}

fn same_both_ways(paths: &[PathBuf], range: TimeRange, chunks: &[usize]) -> (String, Vec<String>) {
    let whole = read(paths, u64::MAX, 1 << 20, range);
    for &chunk in chunks {
        let (summary, events) = read(paths, 0, chunk, range);
        assert_eq!(summary, whole.0, "chunk {chunk}");
        let first_difference = events.iter().zip(&whole.1).position(|(a, b)| a != b);
        assert_eq!((events.len(), first_difference), (whole.1.len(), None), "chunk {chunk}");
    }
    whole
}

fn record(i: usize) -> String {
    // Every 50th record repeats an earlier eventID: a duplicate delivery.
    let id = if i % 50 == 49 { i - 7 } else { i };
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-01-{:02}T00:00:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"Get{i}","eventID":"id-{id}","recipientAccountId":"111122223333","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{}","accountId":"111122223333"}},"requestParameters":{{"bucketName":"b-é-{i}"}}}}"#,
        1 + i % 28,
        i % 60,
        i % 7
    )
}

/// Generated inputs of a few hundred KB: JSON lines with bad lines, envelopes and an insight in
/// the middle, a `Records` file, an array, each plain and gzip, and a truncated gzip.
fn generated(dir: &Path) -> Vec<PathBuf> {
    let n = 600;
    let mut lines: Vec<String> = (0..n).map(record).collect();
    lines[100] = "{\"eventName\":\"broken\",".into();
    lines[200] = format!(r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","detail":{}}}"#, record(200));
    lines[300] = r#"{"eventVersion":"1.07","eventType":"AwsCloudTrailInsight","eventName":"CreateUser","eventCategory":"Insight","eventTime":"2024-01-02T00:00:00Z"}"#.into();
    lines[400] = "not json at all".into();
    lines[500] = format!(r#"{{"Records":[{}]}}"#, record(500));
    let jsonl = lines.join("\n") + "\n";
    let records = format!("{{\"Records\":[{}]}}", (0..n).map(|i| record(i + n)).collect::<Vec<_>>().join(","));
    let array = format!("[\n{}\n]\n", (0..n).map(|i| record(i + 2 * n)).collect::<Vec<_>>().join(",\n"));
    let pretty: String = (0..50)
        .map(|i| serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&record(i + 3 * n)).unwrap()).unwrap() + "\n")
        .collect();
    let truncated = gz(format!("{{\"Records\":[{}]}}", (0..n).map(|i| record(i + 4 * n)).collect::<Vec<_>>().join(",")).as_bytes());
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("export.jsonl", jsonl.clone().into_bytes()),
        ("export.jsonl.gz", gz(jsonl.as_bytes())),
        ("records.json", records.clone().into_bytes()),
        ("records.json.gz", gz(records.as_bytes())),
        ("array.json", array.into_bytes()),
        ("pretty.json", pretty.into_bytes()),
        ("truncated.json.gz", truncated[..truncated.len() * 2 / 3].to_vec()),
    ];
    files
        .into_iter()
        .map(|(name, data)| {
            let p = dir.join(name);
            std::fs::write(&p, data).unwrap();
            p
        })
        .collect()
}

#[test]
fn big_generated_files_stream_to_the_same_summary_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let paths = generated(dir.path());
    let (summary, events) = same_both_ways(&paths, TimeRange::default(), &[4096, 1000, 65_536]);
    let s: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert!(s["duplicates"].as_u64().unwrap() > 0 && s["bad_records"].as_u64().unwrap() >= 4, "{summary}");
    assert_eq!(s["file_errors"], 1, "the truncated gzip: {summary}");
    assert!(events.len() > 2000, "{}", events.len());
    // Time filtering is the same too.
    let range = TimeRange { since: Some(1_704_153_600_000), until: Some(1_704_931_200_000) };
    let (summary, _) = same_both_ways(&paths, range, &[4096]);
    assert!(serde_json::from_str::<serde_json::Value>(&summary).unwrap()["out_of_range"].as_u64().unwrap() > 0);
}

#[test]
fn every_fixture_streams_to_the_same_summary_and_events() {
    same_both_ways(&[PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata"))], TimeRange::default(), &[4096, 333]);
}

#[test]
fn stdin_is_streamed_like_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let paths = generated(dir.path());
    for p in &paths[..2] {
        let run = |args: &[&str], stdin: Option<Vec<u8>>| {
            let mut c = trailhound();
            c.args(["stats", "-q", "--format", "json"]).args(args);
            if let Some(s) = stdin {
                c.write_stdin(s);
            }
            let out = c.output().unwrap();
            let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v.as_object_mut().unwrap().remove("bytes_stored");
            (v, String::from_utf8_lossy(&out.stderr).replace(&p.display().to_string(), "<stdin>"))
        };
        assert_eq!(run(&["-"], Some(std::fs::read(p).unwrap())), run(&[p.to_str().unwrap()], None), "{}", p.display());
    }
}

#[test]
fn the_cap_cuts_a_streamed_file_and_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.jsonl");
    std::fs::write(&p, (0..100).map(|i| record(i) + "\n").collect::<String>()).unwrap();
    let (_, v, err) = stats(&["-q", "--max-file-bytes", "5000", p.to_str().unwrap()]);
    assert!(err.contains("a.jsonl: decompresses to more than 5000 bytes (raise --max-file-bytes"), "{err}");
    assert_eq!((v["file_errors"].as_u64(), v["bad_records"].as_u64()), (Some(1), Some(0)), "{v}");
    assert!(v["records"].as_u64().unwrap() > 0);
}
