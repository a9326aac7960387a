//! Streaming splits exactly as the whole-file path does, cut into windows of every size.

use super::*;
use crate::event::record::MAX_RECORD_BYTES;
use crate::source::format::split;
use flate2::{Compression, write::GzEncoder};
use std::io::Write;

fn describe(item: Item<'_, '_>) -> String {
    match item {
        Item::Event(r) => format!("event {}", r.raw),
        Item::Insight(r) => format!("insight {}", r.raw),
        Item::Bad(b) => format!("bad {b}"),
    }
}

fn whole(bytes: &[u8]) -> (String, Vec<String>) {
    let mut seen = Vec::new();
    let s = split(bytes, &mut |i| seen.push(describe(i)));
    (format!("{s:?}"), seen)
}

fn streamed(data: Vec<u8>, chunk: usize, cap: u64, max_window: usize) -> (String, Vec<String>, Streamed) {
    let mut seen = Vec::new();
    let input = Input::new(Box::new(io::Cursor::new(data))).unwrap();
    let s = split_input(input, &StreamOptions { cap, chunk, max_window }, &Cell::new(false), &Cell::new(false), &mut |i| {
        seen.push(describe(i))
    });
    (format!("{:?}", s.split), seen, s)
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Every chunk size from 1 to past the end, plain and gzip.
fn same_at_every_chunk(text: &[u8]) {
    let expected = whole(text);
    for chunk in 1..=text.len() + 1 {
        let (split, items, s) = streamed(text.to_vec(), chunk, u64::MAX, 1 << 20);
        assert_eq!((split, items), expected, "chunk {chunk}: {:?}", String::from_utf8_lossy(text));
        assert_eq!(s.decoded, text.len() as u64);
        assert!(s.error.is_none());
    }
    for chunk in [1, 5, 64, 1 << 16] {
        let (split, items, s) = streamed(gz(text), chunk, u64::MAX, 1 << 20);
        assert_eq!((split, items), expected, "gzip, chunk {chunk}: {:?}", String::from_utf8_lossy(text));
        assert_eq!(s.decoded, text.len() as u64);
    }
}

const A: &str =
    r#"{"eventVersion":"1.08","eventName":"A","eventSource":"s3.amazonaws.com","eventTime":"2024-01-01T00:00:00Z","eventID":"a"}"#;
const B: &str = r#"{"eventName":"B\"é日本","eventSource":"s3.amazonaws.com","requestParameters":{"x":[1.5e3,-0,true,null]}}"#;
const INSIGHT: &str = r#"{"eventVersion":"1.07","eventType":"AwsCloudTrailInsight","eventName":"CreateUser","eventCategory":"Insight"}"#;

fn shapes() -> Vec<String> {
    let eb = format!(r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{A}}}"#);
    let lookup = format!(r#"{{"EventId":"x","CloudTrailEvent":{}}}"#, serde_json::to_string(A).unwrap());
    let cwl = format!(
        r#"{{"messageType":"DATA_MESSAGE","logEvents":[{{"id":"1","timestamp":1,"message":{}}}]}}"#,
        serde_json::to_string(B).unwrap()
    );
    vec![
        // `Records` files: plain, pretty, with odd elements, members after, errors.
        format!(r#"{{"Records":[{A},{B},{INSIGHT}]}}"#),
        format!("{{ \"Records\" :\n [\n  {A} ,\n  {B}\n ]\n}}\n"),
        format!(r#"{{"Records":[{A},5,{{"\u0065ventName":"x","eventSource":"s"}},{B},[1],{{}}]}}"#),
        format!(r#"{{"Records":[{A}],"x":{{"y":[1]}},"Records":[{B}]}}{{"Records":[{B}]}}"#),
        format!(r#"{{"x":1,"Records":[{A},{B}]}}"#),
        format!(r#"{{"Records":[{A},{A},{{"eventName":"B""#),
        format!(r#"{{"Records":[{A},,{B}]}}"#),
        format!("{{\"Records\":[{A},{B},]}}\n{A}\n"),
        format!(r#"{{"Records":[{A}] x}}"#),
        format!(r#"{{"Records":[{{"eventName":1e}}, {A}]}}"#),
        r#"{"Records":[]}"#.into(),
        r#"{"Records":null}"#.into(),
        format!(r#"{{"Records":[{A}{B}]}}"#),
        // Arrays.
        format!("[{A},\n{B}]"),
        format!("[{lookup},{lookup}]"),
        format!("[{A},]"),
        format!("[1e5,{A},\"s\",[[]],null]"),
        format!("[12345,-0.25e-7,{A},678]"),
        format!(r#"{{"Records":[123456,{A}]}}"#),
        "[]".into(),
        format!("[{A}"),
        // JSON lines and values back to back, envelopes, bad lines.
        format!("{A}\n{{oops\n[1]\n{B}\n\n{eb}\n{cwl}\n{INSIGHT}\n"),
        format!("{A}{B}"),
        format!("{A}\n{{\n  \"eventName\": \"P\",\n  \"eventSource\": \"s\"\n}}\n{B}"),
        format!("{A}\u{a0}\n\u{2028}{B}\n"),
        format!("{A}\n{B}\n{{\"eventName\":\"C\",\"eventSource\":\"s3.amazonaws.com\"\n{A}\n"),
        format!("{A}\n{{\"name\":\"package.json\"}}\n"),
        r#"{"awsAccountId":"1","digestStartTime":"x","digestEndTime":"y","logFiles":[]}"#.into(),
        // Not JSON, salvaged pastes, byte order mark, nothing.
        "hello world\nmore\n".into(),
        "a,b,c\n1,2,3".into(),
        format!("me\":\"ListPolicies\"}},\n    {A},\n    {B}\n]}}\nuser@host:~$ "),
        format!("me\":\"X\"}},{A},{B}]}}\nuser@host:~$ "),
        format!("\u{feff}{A}\n"),
        format!("\u{feff}{{\"Records\":[{A}]}}"),
        "  \n".into(),
        String::new(),
    ]
}

#[test]
fn every_shape_splits_the_same_at_every_chunk_size() {
    for text in shapes() {
        same_at_every_chunk(text.as_bytes());
    }
}

#[test]
fn invalid_utf8_costs_the_same_records() {
    let mut bytes = format!("{A}\n").into_bytes();
    bytes.extend_from_slice(b"{\"eventName\":\"B\xff\",\"eventSource\":\"s\"}\n\xe6\x97");
    bytes.extend_from_slice(format!("\n{A}\n").as_bytes());
    same_at_every_chunk(&bytes);
    same_at_every_chunk(b"{\"Records\":[{\"eventName\":\"\xc3\",\"eventSource\":\"s\"}]}");
}

#[test]
fn a_record_over_the_size_limit_is_refused_as_whole() {
    let big = format!("{{\"eventName\":\"{}\",\"eventSource\":\"s\"}}", "a".repeat(MAX_RECORD_BYTES));
    for text in [format!("{A}\n{big}\n{B}\n"), format!(r#"{{"Records":[{A},{big},{B}]}}"#)] {
        let expected = whole(text.as_bytes());
        assert!(expected.1[1].contains("over the 1048576-byte limit"), "{:?}", &expected.1[1][..80]);
        for chunk in [4096, 100_000, 1 << 20] {
            let (split, items, s) = streamed(text.clone().into_bytes(), chunk, u64::MAX, 4 << 20);
            assert_eq!((split, items), expected);
            assert!(s.error.is_none());
        }
    }
}

#[test]
fn a_value_over_the_window_stops_the_file() {
    let huge = format!("{{\"eventName\":\"{}\"}}", "a".repeat(10_000));
    let (_, items, s) = streamed(format!("{A}\n{huge}\n{B}\n").into_bytes(), 1000, u64::MAX, 4000);
    assert!(matches!(s.error, Some(ReadError::ValueTooLarge { line: 2, limit: 4000 })), "{:?}", s.error.map(|e| e.to_string()));
    assert_eq!(items[0], format!("event {A}"));
}

#[test]
fn truncated_gzip_keeps_the_records_before_the_damage() {
    let text = format!("{A}\n").repeat(200);
    let z = gz(text.as_bytes());
    let cut = Cell::new(false);
    let mut events = 0;
    let input = Input::new(Box::new(io::Cursor::new(z[..z.len() / 2].to_vec()))).unwrap();
    let s = split_input(input, &StreamOptions { cap: u64::MAX, chunk: 256, max_window: 1 << 20 }, &cut, &Cell::new(false), &mut |i| {
        events += usize::from(matches!(i, Item::Event(_)))
    });
    assert!(matches!(s.error, Some(ReadError::Gzip { .. })) && cut.get());
    let Some(ReadError::Gzip { decoded, .. }) = s.error else { unreachable!() };
    assert_eq!(decoded as u64, s.decoded);
    assert!(events > 0 && events == s.split.events && (events as u64) < 200, "{events}");
    assert_eq!(s.split.events, text[..s.decoded as usize].matches('\n').count());
}

#[test]
fn the_cap_cuts_a_file_and_a_file_of_exactly_the_cap_is_whole() {
    let text = format!("{A}\n").repeat(10);
    let (_, items, s) = streamed(text.clone().into_bytes(), 64, text.len() as u64, 1 << 20);
    assert!(s.error.is_none());
    assert_eq!(items.len(), 10);
    let (_, _, s) = streamed(text.clone().into_bytes(), 64, text.len() as u64 - 10, 1 << 20);
    assert!(matches!(s.error, Some(ReadError::TooLarge { .. })));
    assert_eq!((s.split.events, s.decoded), (9, text.len() as u64 - 10));
}
