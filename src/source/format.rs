//! Splitting one decoded input into CloudTrail records, whatever shape it came in.
//!
//! The shape is read from the content, never from the file name:
//! - `{"Records":[…]}`: S3 delivery (Insights files use the same envelope);
//! - one JSON value after another (JSON lines, or pretty-printed records back to back);
//! - a JSON array of records;
//! - envelopes, unwrapped: EventBridge (`detail-type` + `detail`), CloudWatch Logs subscription
//!   data (`logEvents[].message`), LookupEvents exports (`CloudTrailEvent`, a JSON string);
//! - digest files (`digestStartTime`, `logFiles`), recognised and skipped.
//!
//! A broken value costs that value only: parsing resumes at the next line. The records of a
//! `Records` array before a syntax error are kept.

#[cfg(any(test, fuzzing))]
use crate::event::identity::UserIdentity;
use crate::event::record::{MembersVisitor, Record, RecordError};
use crate::event::value::{Key, decode_str};
use crate::json::identity::IdentityWalk;
use serde::de::{DeserializeSeed, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// What came out of a file, one item at a time. Records are lent, not handed over: a record is
/// over a kilobyte, and moving it through each layer was 4% of reading.
#[derive(Debug)]
pub enum Item<'r, 'a> {
    /// An API, service, console or network-activity event.
    Event(&'r Record<'a>),
    /// A CloudTrail Insights event (`eventType` `AwsCloudTrailInsight`): kept apart.
    Insight(&'r Record<'a>),
    /// A value that is not a readable CloudTrail record.
    Bad(BadRecord),
}

/// A record that could not be read, with where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRecord {
    /// 1-based position of the value in the file (records, lines or array elements).
    pub index: usize,
    /// 1-based line, for inputs with more than one line.
    pub line: Option<usize>,
    pub kind: BadKind,
    pub error: String,
}

/// Why a value was bad, where a reader decides by it (`error` is for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadKind {
    /// The value itself is not a readable record.
    Invalid,
    /// The input ended inside the value: when the input was cut (a truncated gzip, the size
    /// cap), that is the cut's doing, and the cut is reported already.
    EndsEarly,
    /// A field that identifies the event holds a lone surrogate escape
    /// ([`RecordError::LoneSurrogate`]): valid JSON, but no text to read it as.
    LoneSurrogate,
}

/// A record the reader refused, with what came before the error (an envelope's member).
fn refused(index: usize, line: Option<usize>, context: &str, e: &RecordError) -> Item<'static, 'static> {
    let kind = if matches!(e, RecordError::LoneSurrogate(_)) { BadKind::LoneSurrogate } else { BadKind::Invalid };
    Item::Bad(BadRecord { index, line, kind, error: format!("{context}{e}") })
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "record {} (line {l}): {}", self.index, self.error),
            None => write!(f, "record {}: {}", self.index, self.error),
        }
    }
}

/// The shape a file turned out to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    #[default]
    Empty,
    /// `{"Records":[…]}`.
    Records,
    /// JSON values one after another.
    Stream,
    /// A JSON array of records.
    Array,
    /// A log-file validation digest.
    Digest,
    /// Text that is not JSON at all.
    NotJson,
}

/// What one file held.
#[derive(Debug, Default)]
pub struct Split {
    pub shape: Shape,
    pub events: usize,
    pub insights: usize,
    pub bad: usize,
    /// Top-level values that were JSON but not CloudTrail.
    pub foreign: usize,
    /// Runs of lines that were not JSON at all.
    pub garbage: usize,
}

/// Splits decoded bytes into items. `on_item` sees every record and every bad value.
pub fn split(bytes: &[u8], on_item: &mut dyn FnMut(Item<'_, '_>)) -> Split {
    // simdutf8: the whole buffer is checked, at several times the speed of `std`'s check.
    let text = match simdutf8::basic::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        // One bad byte must not cost a whole file: decode lossily and fail only the records that
        // hold a replacement character.
        Err(_) => std::borrow::Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
    };
    let lossy = matches!(text, std::borrow::Cow::Owned(_));
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let multi_line = memchr::memchr(b'\n', text.trim_end().as_bytes()).is_some();
    let mut splitter = super::splitter::Splitter::whole(lossy, multi_line);
    splitter.feed(text, 0, true, on_item);
    splitter.finish()
}

/// serde_json's message without its " at line L column C" (we name the line ourselves).
pub(super) fn without_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

pub(super) fn next_line(text: &str, pos: usize) -> usize {
    let pos = pos.min(text.len());
    match memchr::memchr(b'\n', &text.as_bytes()[pos..]) {
        Some(i) => pos + i + 1,
        None => text.len(),
    }
}

pub(super) type Members<'a> = Vec<(std::borrow::Cow<'a, str>, &'a RawValue)>;

fn member<'m, 'a>(members: &'m Members<'a>, key: &str) -> Option<&'m RawValue> {
    members.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

pub(super) fn is_digest(members: &Members<'_>) -> bool {
    member(members, "digestStartTime").is_some() || (member(members, "logFiles").is_some() && member(members, "digestEndTime").is_some())
}

/// One array element or `Records` entry: normally a record, sometimes an envelope.
pub(super) fn classify_element(
    text: &str,
    element: Element<'_>,
    index: usize,
    line: Option<usize>,
    emit: &mut dyn FnMut(Item<'_, '_>, &mut Split),
    out: &mut Split,
) {
    let bad = |error: String| Item::Bad(BadRecord { index, line, kind: BadKind::Invalid, error });
    let Element::Object(members, identity) = element else {
        return emit(bad(RecordError::NotAnObject.to_string()), out);
    };
    let Some(raw) = object_span(text, &members) else {
        return emit(bad("record text could not be located".into()), out);
    };
    match &Record::from_members(raw, members, identity.as_ref()) {
        Ok(r) => emit_record(r, emit, out),
        Err(RecordError::NotCloudTrail) => {
            let mut de = serde_json::Deserializer::from_str(raw);
            match de.deserialize_map(MembersVisitor) {
                Ok(members) => classify_members(raw, &members, index, line, emit, out),
                Err(e) => emit(bad(e.to_string()), out),
            }
        }
        Err(e) => emit(refused(index, line, "", e), out),
    }
}

/// The text of an object, from its members' positions inside `text`: back from the first key to
/// `{`, forward from the last value to `}`.
fn object_span<'a>(text: &'a str, members: &[(std::borrow::Cow<'a, str>, &'a RawValue)]) -> Option<&'a str> {
    let Some((first_key, first_value)) = members.first() else {
        return Some("{}");
    };
    let base = text.as_ptr() as usize;
    let offset = |p: *const u8| (p as usize).checked_sub(base).filter(|o| *o <= text.len());
    let before = match first_key {
        std::borrow::Cow::Borrowed(k) => offset(k.as_ptr())?.checked_sub(1)?,
        // A key with escapes was decoded into a copy: walk back from its value over `:` and the
        // quoted key text to find the opening quote.
        std::borrow::Cow::Owned(_) => {
            let head = text[..offset(first_value.get().as_ptr())?].trim_end().strip_suffix(':')?.trim_end();
            let close = head.strip_suffix('"')?.len();
            let bytes = head.as_bytes();
            (0..close).rev().find(|&i| bytes[i] == b'"' && bytes[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0)?
        }
    };
    let head = text[..before].trim_end();
    if !head.ends_with('{') {
        return None;
    }
    let start = head.len() - 1;
    let last = members.last()?.1.get();
    let value_end = offset(last.as_ptr())? + last.len();
    let tail = &text[value_end..];
    let gap = tail.len() - tail.trim_start().len();
    if !tail[gap..].starts_with('}') {
        return None;
    }
    Some(&text[start..value_end + gap + 1])
}

fn emit_record(r: &Record<'_>, emit: &mut dyn FnMut(Item<'_, '_>, &mut Split), out: &mut Split) {
    let insight = r.event_type.as_deref() == Some("AwsCloudTrailInsight") || r.event_category.as_deref() == Some("Insight");
    emit(if insight { Item::Insight(r) } else { Item::Event(r) }, out)
}

/// A top-level object that is not a `Records` file: a record or an envelope around records.
pub(super) fn classify_members(
    raw: &str,
    members: &Members<'_>,
    index: usize,
    line: Option<usize>,
    emit: &mut dyn FnMut(Item<'_, '_>, &mut Split),
    out: &mut Split,
) {
    let bad = |error: String| Item::Bad(BadRecord { index, line, kind: BadKind::Invalid, error });
    if let (Some(_), Some(detail)) = (member(members, "detail-type"), member(members, "detail")) {
        // EventBridge: the record is `detail`.
        return match Record::parse(detail.get()) {
            Ok(r) => emit_record(&r, emit, out),
            Err(e) => emit(refused(index, line, "EventBridge detail: ", &e), out),
        };
    }
    if let Some(cte) = member(members, "CloudTrailEvent") {
        // LookupEvents export: the record is a JSON string.
        let Some(text) = decode_str(cte.get()) else {
            return emit(bad("CloudTrailEvent is not a string".into()), out);
        };
        return match Record::parse(&text) {
            Ok(r) => emit_record(&r, emit, out),
            Err(e) => emit(refused(index, line, "CloudTrailEvent: ", &e), out),
        };
    }
    if let Some(events) = member(members, "logEvents") {
        // CloudWatch Logs subscription data: each message is a record.
        let mut elements = Vec::new();
        let mut de = serde_json::Deserializer::from_str(events.get());
        if collect_elements(&mut de, &mut elements).is_err() {
            return emit(bad("logEvents is not an array".into()), out);
        }
        for (i, ev) in elements.iter().enumerate() {
            let message = match ev {
                Element::Object(m, _) => m.iter().find(|(k, _)| k == "message").and_then(|(_, v)| decode_str(v.get())),
                Element::Other => None,
            };
            let Some(text) = message else {
                emit(bad(format!("logEvents[{i}] has no message string")), out);
                continue;
            };
            match Record::parse(&text) {
                Ok(r) => emit_record(&r, emit, out),
                Err(e) => emit(refused(index, line, &format!("logEvents[{i}]: "), &e), out),
            }
        }
        return;
    }
    if member(members, "messageType").is_some() {
        return; // CONTROL_MESSAGE: a reachability check without events.
    }
    match Record::parse(raw) {
        Ok(r) => emit_record(&r, emit, out),
        Err(RecordError::NotCloudTrail) => match nested_record(members) {
            // Re-shippers wrap the record in one member (`{"log": {…}, "rule_id": …}`).
            Some(r) => emit_record(&r, emit, out),
            None => {
                out.foreign += 1;
                emit(bad(RecordError::NotCloudTrail.to_string()), out)
            }
        },
        Err(e) => emit(refused(index, line, "", &e), out),
    }
}

/// The one member of a wrapper object that is a CloudTrail record (has both `eventSource` and
/// `eventName`), if exactly one is.
fn nested_record<'a>(members: &Members<'a>) -> Option<Record<'a>> {
    let mut found = None;
    for (_, v) in members {
        if !v.get().starts_with('{') {
            continue;
        }
        if let Ok(r) = Record::parse(v.get())
            && r.event_source.is_some()
            && r.event_name.is_some()
        {
            if found.is_some() {
                return None;
            }
            found = Some(r);
        }
    }
    found
}

/// One top-level JSON value, split as far as classification needs.
pub(super) enum TopValue<'a> {
    /// `{"Records":[…]}`: the elements went to the callback.
    Records,
    /// Any other object: its members, raw.
    Object(Box<Members<'a>>),
    /// A top-level array: the elements went to the callback.
    Array,
}

/// Reads one top-level value, handing each `Records` or array element (1-based index) to
/// `on_element` as soon as it is read.
pub(super) struct TopSeed<'c, 'a> {
    pub(super) on_element: &'c mut dyn FnMut(usize, Element<'a>),
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, 'de> {
    type Value = TopValue<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, 'de> {
    type Value = TopValue<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Members::new();
        let mut records = false;
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            if k == "Records" && !records {
                map.next_value_seed(StreamElements { on_element: &mut *self.on_element })?;
                records = true;
            } else {
                members.push((k, map.next_value::<&'de RawValue>()?));
            }
        }
        Ok(if records { TopValue::Records } else { TopValue::Object(Box::new(members)) })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        StreamElements { on_element: self.on_element }.visit_seq(seq)?;
        Ok(TopValue::Array)
    }
}

/// An array whose elements go to `on_element` one by one.
struct StreamElements<'c, 'a> {
    on_element: &'c mut dyn FnMut(usize, Element<'a>),
}

impl<'de> DeserializeSeed<'de> for StreamElements<'_, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for StreamElements<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while let Some(v) = seq.next_element::<Element<'de>>()? {
            i += 1;
            (self.on_element)(i, v);
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(()) // "Records": null
    }
}

/// Recovery after an error: streams the `Records` elements read before it into `records`.
pub(super) struct RecordsOnly<'v, 'a> {
    pub(super) records: &'v mut Vec<Element<'a>>,
}

impl<'de> Visitor<'de> for RecordsOnly<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            if k == "Records" {
                let records = &mut *self.records;
                map.next_value_seed(StreamElements { on_element: &mut |_, e| records.push(e) })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Byte offset of serde_json's 1-based line and column within `text`.
pub(super) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0usize;
    if line > 1 {
        match memchr::memchr_iter(b'\n', text.as_bytes()).nth(line - 2) {
            Some(nl) => start = nl + 1,
            None => return text.len(),
        }
    }
    (start + column.saturating_sub(1)).min(text.len())
}

/// One element of an array, split into members when it is an object. Splitting here, while the
/// array is read, scans each record once instead of twice.
pub(super) enum Element<'a> {
    /// With its `userIdentity` when the scanner walked it.
    Object(Vec<(std::borrow::Cow<'a, str>, &'a RawValue)>, Option<IdentityWalk<'a>>),
    /// Not an object (a number, string, array or null).
    Other,
}

impl<'de> serde::Deserialize<'de> for Element<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        MembersVisitor.visit_map(map).map(|m| Element::Object(m, None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Element::Other)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Element::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Element::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Element::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Element::Other)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Element::Other)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Element::Other)
    }
}

/// Pushes each element of the array `de` reads into `out` as it is read, so a later syntax
/// error keeps the earlier elements.
pub(super) fn collect_elements<'a>(
    de: &mut serde_json::Deserializer<serde_json::de::StrRead<'a>>,
    out: &mut Vec<Element<'a>>,
) -> serde_json::Result<()> {
    StreamElements { on_element: &mut |_, e| out.push(e) }.deserialize(de)
}

/// For the fuzz target and tests: the scanner and serde_json read the value at the start of
/// `text` the same way. Panics on any difference.
#[cfg(any(test, fuzzing))]
pub fn check_scanner(text: &str) {
    type Seen = Vec<(usize, Vec<(String, String)>)>;
    fn owned(m: &Members<'_>) -> Vec<(String, String)> {
        m.iter().map(|(k, v)| (k.to_string(), v.get().to_string())).collect()
    }
    fn shape(t: &TopValue<'_>) -> (u8, Vec<(String, String)>) {
        match t {
            TopValue::Records => (0, Vec::new()),
            TopValue::Array => (1, Vec::new()),
            TopValue::Object(m) => (2, owned(m)),
        }
    }
    let pos = text.len() - text.trim_start_matches([' ', '\n', '\r', '\t']).len();
    if !matches!(text.as_bytes().get(pos), Some(b'{' | b'[')) {
        return;
    }
    let mut fast: Seen = Vec::new();
    let fast_top = crate::json::scan::top(text, pos, &mut |i, m, identity| {
        if let Some(w) = identity {
            // The walk is of one of the element's `userIdentity` members and reads what
            // parsing that member on its own reads.
            assert!(m.iter().any(|(k, v)| k == "userIdentity" && std::ptr::eq(*v, w.raw)), "walked identity is no member: {text:?}");
            let (walked, parsed) = (UserIdentity::from_walk(&w, false), UserIdentity::parse(w.raw));
            assert_eq!(format!("{walked:?}"), format!("{parsed:?}"), "walked identity differs: {text:?}");
        }
        fast.push((i, owned(&m)))
    });
    let mut slow: Seen = Vec::new();
    let mut de = serde_json::Deserializer::from_str(&text[pos..]);
    let mut on = |i: usize, e: Element<'_>| {
        slow.push((
            i,
            match e {
                Element::Object(m, _) => owned(&m),
                Element::Other => vec![("<other>".into(), String::new())],
            },
        ))
    };
    let slow_top = TopSeed { on_element: &mut on }.deserialize(&mut de).map(|t| (shape(&t), de.into_iter::<IgnoredAny>().byte_offset()));
    match (fast_top, slow_top) {
        (Some((t, used)), Ok(slow_top)) => {
            let t = match t {
                crate::json::scan::Top::Records => TopValue::Records,
                crate::json::scan::Top::Array => TopValue::Array,
                crate::json::scan::Top::Object(m) => TopValue::Object(m),
            };
            assert_eq!((shape(&t), used), slow_top, "top value differs: {text:?}");
            assert_eq!(fast, slow, "elements differ: {text:?}");
        }
        (Some(_), Err(e)) => panic!("scanner accepted what serde_json refuses ({e}): {text:?}"),
        (None, _) => assert!(slow.starts_with(&fast), "scanner handed out elements serde_json does not: {text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str) -> (Split, Vec<String>) {
        let mut seen = Vec::new();
        let s = split(input.as_bytes(), &mut |item| {
            seen.push(match item {
                Item::Event(r) => format!("event {}", r.event_name.as_deref().unwrap_or("?")),
                Item::Insight(r) => format!("insight {}", r.event_name.as_deref().unwrap_or("?")),
                Item::Bad(b) => format!("bad {b}"),
            })
        });
        (s, seen)
    }

    const A: &str = r#"{"eventName":"A","eventSource":"s3.amazonaws.com","eventTime":"2024-01-01T00:00:00Z"}"#;
    const B: &str = r#"{"eventVersion":"1.08","eventName":"B","eventSource":"s3.amazonaws.com"}"#;

    #[test]
    fn scanner_agrees_with_serde_json() {
        for t in [
            format!(r#"{{"Records":[{A},{B}]}}"#),
            format!(r#"{{"Records":[{A},5,{B}]}}"#),
            format!(r#"{{"x":1,"Records":[{A}],"Records":[{B}]}}"#),
            format!(r#"{{"Records":[{A},{{"eventName":"B""#),
            format!(r#"  [{A} , {B}]"#),
            format!(r#"{{"\u0065ventName":"x",{}"#, &A[1..]),
            A.to_string(),
            r#"{"Records":null}"#.to_string(),
            r#"{"a":"\ud800","b":[1e400,-0.5E-3,{"c":null}]}"#.to_string(),
            "{\"a\":\"\u{1}\"}".to_string(),
            "[]".into(),
            "{}".into(),
            "{,}".into(),
            // The userIdentity walk against parsing the member alone: nested objects, arrays in them.
            r#"{"Records":[{"eventName":"A","userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"userName":"r"},"attributes":{"mfaAuthenticated":"false"}},"arn":"a"}}]}"#.into(),
            r#"[{"userIdentity":{"onBehalfOf":{"userId":"u","x":[1,{"y":2}]},"type":"IdentityCenterUser"}}]"#.into(),
        ] {
            check_scanner(&t);
        }
    }

    #[test]
    fn records_file() {
        let (s, seen) = run(&format!(r#"{{"Records":[{A},{A}]}}"#));
        assert_eq!((s.shape, s.events), (Shape::Records, 2));
        assert_eq!(seen, ["event A", "event A"]);
        let (s, _) = run(r#"{"Records":[]}"#);
        assert_eq!((s.shape, s.events, s.bad), (Shape::Records, 0, 0));
    }

    #[test]
    fn record_text_is_exactly_the_object() {
        let text = "{ \"Records\" : [\n  {\"eventName\" : \"A\", \"eventSource\":\"s\"} ,\n {\"\\u0065ventSource\":\"s\",\"eventName\":\"B\\\"\"}, {} ] }";
        let mut raws = Vec::new();
        let s = split(text.as_bytes(), &mut |item| match item {
            Item::Event(r) => raws.push(r.raw.to_string()),
            Item::Bad(b) => raws.push(format!("bad {b}")),
            Item::Insight(_) => {}
        });
        assert_eq!(s.events, 2);
        assert_eq!(raws[0], "{\"eventName\" : \"A\", \"eventSource\":\"s\"}");
        assert_eq!(raws[1], "{\"\\u0065ventSource\":\"s\",\"eventName\":\"B\\\"\"}");
        assert!(raws[2].starts_with("bad record 3"), "{raws:?}");
    }

    #[test]
    fn truncated_records_keep_the_good_ones() {
        let text = format!(r#"{{"Records":[{A},{A},{{"eventName":"B""#);
        let (s, seen) = run(&text);
        assert_eq!((s.shape, s.events, s.bad), (Shape::Records, 2, 1));
        assert!(seen[2].starts_with("bad record 3"), "{seen:?}");
    }

    #[test]
    fn json_lines_with_a_bad_line() {
        let text = format!("{A}\n{{oops\n[1]\n{A}\n\n");
        let (s, seen) = run(&text);
        assert_eq!((s.shape, s.events, s.bad), (Shape::Stream, 2, 2));
        assert!(seen[1].starts_with("bad record 2 (line 2)"), "{seen:?}");
        assert!(seen[2].contains("not a JSON object"), "{seen:?}");
    }

    #[test]
    fn envelopes() {
        let eb = format!(r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{A}}}"#);
        assert_eq!(run(&eb).0.events, 1);
        let lookup = format!(r#"[{{"EventId":"x","CloudTrailEvent":{}}}]"#, serde_json::to_string(A).unwrap());
        let (s, _) = run(&lookup);
        assert_eq!((s.shape, s.events), (Shape::Array, 1));
        let cwl = format!(
            r#"{{"messageType":"DATA_MESSAGE","logEvents":[{{"id":"1","timestamp":1,"message":{}}}]}}"#,
            serde_json::to_string(A).unwrap()
        );
        assert_eq!(run(&cwl).0.events, 1);
        assert_eq!(run(r#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#).0.bad, 0);
    }

    #[test]
    fn insights_digests_and_foreign_json() {
        let ins = r#"{"Records":[{"eventVersion":"1.07","eventType":"AwsCloudTrailInsight","eventName":"CreateUser","eventCategory":"Insight"}]}"#;
        assert_eq!(run(ins).0.insights, 1);
        let dig = r#"{"awsAccountId":"1","digestStartTime":"x","digestEndTime":"y","logFiles":[]}"#;
        assert_eq!(run(dig).0.shape, Shape::Digest);
        let (s, _) = run(r#"{"name":"package.json"}"#);
        assert_eq!((s.foreign, s.bad), (1, 1));
        assert_eq!(run("hello world").0.shape, Shape::NotJson);
        assert_eq!(run("a,b,c\n1,2,3\n").0.shape, Shape::NotJson);
        assert_eq!(run("  \n").0.shape, Shape::Empty);
    }

    #[test]
    fn salvages_a_broken_paste() {
        // A terminal copy of a pretty-printed Records file: starts mid-record, ends with a prompt.
        let text = format!("me\":\"ListPolicies\"}},\n    {A},\n    {A}\n]}}\nuser@host:~$ ");
        let minified = format!("me\":\"X\"}},{B},{B}]}}\nuser@host:~$ ");
        let (s, _) = run(&minified);
        assert_eq!((s.shape, s.events, s.garbage), (Shape::Stream, 2, 2));
        let (s, seen) = run(&text);
        assert_eq!((s.events, s.garbage), (2, 2), "{seen:?}");
        assert!(seen[0].contains("line 1: not JSON"), "{seen:?}");
    }

    #[test]
    fn unwraps_a_record_nested_in_a_wrapper() {
        let (s, _) = run(&format!(r#"{{"rule_id":"x","log":{A}}}"#));
        assert_eq!(s.events, 1);
        let (s, _) = run(&format!(r#"{{"a":{A},"b":{A}}}"#));
        assert_eq!((s.events, s.foreign), (0, 1), "ambiguous wrappers are not guessed");
    }

    #[test]
    fn invalid_utf8_costs_one_record() {
        let mut bytes = format!("{A}\n").into_bytes();
        bytes.extend_from_slice(b"{\"eventName\":\"B\xff\"}\n");
        let mut n = (0, 0);
        split(&bytes, &mut |i| match i {
            Item::Event(_) => n.0 += 1,
            Item::Bad(_) => n.1 += 1,
            _ => {}
        });
        assert_eq!(n, (1, 1));
    }
}
