//! The borrowed view of one CloudTrail record.
//!
//! Parsing splits the record's top-level members into raw slices in one pass, then decodes the
//! fields detectors use. A field of the wrong type or `null` reads as absent; it never fails the
//! record. Only text that is not a JSON object fails.

use super::identity::UserIdentity;
use super::lookup::{FieldLookup, Segment, TextField, visit_raw};
use super::time::{Millis, parse_event_time};
use super::value::{Key, Value, decode_str};
use crate::json::identity::IdentityWalk;
use serde::de::{self, Deserializer as _, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::ops::ControlFlow;

/// Text borrowed from the record unless it had JSON escapes.
pub type Text<'a> = Cow<'a, str>;

/// Records larger than this are refused. CloudTrail caps events at 256 KiB; CloudTrail Lake can
/// opt in to 1 MiB. Anything larger is not a CloudTrail event.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Why a record could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RecordError {
    #[error("record is {0} bytes, over the {MAX_RECORD_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("record is not a JSON object")]
    NotAnObject,
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("not a CloudTrail record (no eventName, eventSource or eventTime)")]
    NotCloudTrail,
    /// A field that identifies the event holds a `\uD800`-`\uDFFF` escape without its other
    /// half: no character, so the field cannot be read as written, and guessing would learn or
    /// alert on an action, caller or time nobody performed.
    #[error("{0} holds a lone surrogate escape (\\ud800-\\udfff without its pair): not read")]
    LoneSurrogate(&'static str),
}

/// The members whose text identifies an event (what it was, who, when, where, which): a lone
/// surrogate in one of them makes the record unreadable. Elsewhere (a user agent, an error
/// message, request parameters) it reads as U+FFFD and the record is marked [`Record::repaired`].
const IDENTIFYING: &[&str] = &[
    "eventName",
    "eventSource",
    "eventTime",
    "@timestamp",
    "eventID",
    "eventType",
    "eventCategory",
    "recipientAccountId",
    "awsRegion",
    "userIdentity",
];

/// One CloudTrail event, borrowing from the buffer it was read from.
#[derive(Debug)]
pub struct Record<'a> {
    /// The record's JSON text, for whole-event matching and `--format jsonl` output.
    pub raw: &'a str,
    /// Every top-level member, in order, for field lookups.
    pub members: Vec<(Text<'a>, &'a RawValue)>,
    /// One bit per top-level key (see [`key_bit`]), made on the first lookup (0 until then): a
    /// lookup of a key whose bit is clear is answered without scanning `members`. Most rule
    /// lookups are of absent keys (`errorCode`); readers that never look up pay nothing.
    key_mask: std::cell::Cell<u64>,
    /// The text holds no backslash (see [`FieldLookup::plain`]).
    plain: bool,
    /// `eventTime` parsed to epoch milliseconds; `None` when absent or not a time.
    pub event_time: Option<Millis>,
    pub event_version: Option<Text<'a>>,
    pub event_source: Option<Text<'a>>,
    pub event_name: Option<Text<'a>>,
    pub aws_region: Option<Text<'a>>,
    pub source_ip: Option<Text<'a>>,
    pub user_agent: Option<Text<'a>>,
    pub error_code: Option<Text<'a>>,
    pub error_message: Option<Text<'a>>,
    pub read_only: Option<bool>,
    pub event_type: Option<Text<'a>>,
    pub event_category: Option<Text<'a>>,
    pub management_event: Option<bool>,
    pub recipient_account_id: Option<Text<'a>>,
    pub event_id: Option<Text<'a>>,
    pub shared_event_id: Option<Text<'a>>,
    pub vpc_endpoint_id: Option<Text<'a>>,
    pub request_id: Option<Text<'a>>,
    pub user_identity: UserIdentity<'a>,
    pub request_parameters: Option<&'a RawValue>,
    pub response_elements: Option<&'a RawValue>,
    pub additional_event_data: Option<&'a RawValue>,
    pub resources: Option<&'a RawValue>,
    /// Some free text held a lone surrogate escape, read as U+FFFD (counted by the reader).
    pub repaired: bool,
}

impl<'a> Record<'a> {
    /// Parses one record from its JSON text.
    pub fn parse(raw: &'a str) -> Result<Record<'a>, RecordError> {
        if raw.len() > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge(raw.len()));
        }
        let trimmed = raw.trim();
        if !trimmed.starts_with('{') {
            return Err(RecordError::NotAnObject);
        }
        let mut de = serde_json::Deserializer::from_str(trimmed);
        let members = de.deserialize_map(MembersVisitor).map_err(|e| RecordError::Json(e.to_string()))?;
        de.end().map_err(|e| RecordError::Json(e.to_string()))?;
        Record::from_members(trimmed, members, None)
    }

    /// Builds a record from its text and its top-level members, already split by a caller that
    /// scanned the text once (the `Records` array reader), with that scanner's walk of
    /// `userIdentity` when it made one: the member it walked is not scanned again.
    pub(crate) fn from_members(
        raw: &'a str,
        members: Vec<(Text<'a>, &'a RawValue)>,
        identity: Option<&IdentityWalk<'a>>,
    ) -> Result<Record<'a>, RecordError> {
        if raw.len() > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge(raw.len()));
        }
        let mut r = Record {
            raw,
            members: Vec::new(),
            key_mask: std::cell::Cell::new(0),
            plain: false,
            event_time: None,
            event_version: None,
            event_source: None,
            event_name: None,
            aws_region: None,
            source_ip: None,
            user_agent: None,
            error_code: None,
            error_message: None,
            read_only: None,
            event_type: None,
            event_category: None,
            management_event: None,
            recipient_account_id: None,
            event_id: None,
            shared_event_id: None,
            vpc_endpoint_id: None,
            request_id: None,
            user_identity: UserIdentity::default(),
            request_parameters: None,
            response_elements: None,
            additional_event_data: None,
            resources: None,
            repaired: false,
        };
        // One memchr over the record: without a backslash anywhere, no field needs decoding,
        // and each string field is its text between the quotes.
        let plain = memchr::memchr(b'\\', raw.as_bytes()).is_none();
        r.plain = plain;
        if !plain && crate::json::escape::has_lone_surrogate(raw) {
            if let Some((key, _)) =
                members.iter().find(|(k, v)| IDENTIFYING.contains(&k.as_ref()) && crate::json::escape::has_lone_surrogate(v.get()))
            {
                let key = IDENTIFYING.iter().find(|i| **i == key.as_ref()).copied().unwrap_or("a field");
                return Err(RecordError::LoneSurrogate(key));
            }
            r.repaired = true;
        }
        for (key, value) in &members {
            let text = || text_in(value, plain);
            match key.as_ref() {
                "eventTime" => r.event_time = text().and_then(|t| parse_event_time(&t)),
                // Logstash-shipped records carry only the shipper's `@timestamp`.
                "@timestamp" if r.event_time.is_none() => r.event_time = text().and_then(|t| parse_event_time(&t)),
                "eventVersion" => r.event_version = text(),
                "eventSource" => r.event_source = text(),
                "eventName" => r.event_name = text(),
                "awsRegion" => r.aws_region = text(),
                "sourceIPAddress" => r.source_ip = text(),
                "userAgent" => r.user_agent = text(),
                "errorCode" => r.error_code = text(),
                "errorMessage" => r.error_message = text(),
                "readOnly" => r.read_only = bool_of(value),
                "eventType" => r.event_type = text(),
                "eventCategory" => r.event_category = text(),
                "managementEvent" => r.management_event = bool_of(value),
                "recipientAccountId" => r.recipient_account_id = text(),
                "eventID" => r.event_id = text(),
                "sharedEventID" => r.shared_event_id = text(),
                "vpcEndpointId" => r.vpc_endpoint_id = text(),
                "requestID" => r.request_id = text(),
                "userIdentity" => {
                    r.user_identity = match identity {
                        Some(w) if std::ptr::eq(w.raw, *value) => UserIdentity::from_walk(w, plain),
                        _ => UserIdentity::parse_in(value, plain),
                    }
                }
                "requestParameters" => r.request_parameters = non_null(value),
                "responseElements" => r.response_elements = non_null(value),
                "additionalEventData" => r.additional_event_data = non_null(value),
                "resources" => r.resources = non_null(value),
                _ => {}
            }
        }
        r.members = members;
        if r.event_name.is_none() && r.event_source.is_none() && r.event_time.is_none() {
            return Err(RecordError::NotCloudTrail);
        }
        Ok(r)
    }

    /// `eventSource:eventName` with the `.amazonaws.com` suffix dropped (`iam:CreateUser`), the
    /// IAM-policy spelling of an action.
    pub fn action(&self) -> String {
        let (service, name) = action_parts(self.event_source.as_deref(), self.event_name.as_deref());
        format!("{service}:{name}")
    }

    /// The account the event belongs to: `recipientAccountId`, else the caller's account.
    pub fn account(&self) -> Option<&str> {
        self.recipient_account_id.as_deref().or(self.user_identity.account_id.as_deref())
    }

    /// The top-level member named `key`, raw.
    pub fn member(&self, key: &str) -> Option<&'a RawValue> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// The two halves of [`Record::action`], `unknown` where missing: the service (`eventSource`
/// without `.amazonaws.com`) and `eventName`. For building the key without allocating it.
pub fn action_parts<'s>(event_source: Option<&'s str>, event_name: Option<&'s str>) -> (&'s str, &'s str) {
    let source = event_source.unwrap_or("unknown");
    (source.strip_suffix(".amazonaws.com").unwrap_or(source), event_name.unwrap_or("unknown"))
}

impl FieldLookup for Record<'_> {
    fn text_field(&self, field: TextField) -> Option<Option<&str>> {
        let text = match field {
            TextField::EventVersion => &self.event_version,
            TextField::EventSource => &self.event_source,
            TextField::EventName => &self.event_name,
            TextField::AwsRegion => &self.aws_region,
            TextField::SourceIpAddress => &self.source_ip,
            TextField::UserAgent => &self.user_agent,
            TextField::ErrorCode => &self.error_code,
            TextField::ErrorMessage => &self.error_message,
            TextField::EventType => &self.event_type,
            TextField::EventCategory => &self.event_category,
            TextField::RecipientAccountId => &self.recipient_account_id,
        };
        Some(text.as_deref())
    }

    fn plain(&self) -> bool {
        self.plain
    }

    fn visit_path<'s>(&'s self, path: &[Segment], f: &mut dyn FnMut(Value<'s>) -> ControlFlow<()>) -> ControlFlow<()> {
        let Some((first, rest)) = path.split_first() else {
            return ControlFlow::Continue(());
        };
        match first {
            Segment::Key(k) => {
                // Split members mean `userIdentity` is there: no need for the key mask, which
                // costs a pass over the record's keys.
                if k == "userIdentity"
                    && let (Some(members), [Segment::Key(k2), below @ ..]) = (&self.user_identity.members, rest)
                    && is_identity_member(k2)
                {
                    for (_, v) in members.iter().filter(|(name, _)| *name == k2.as_str()) {
                        visit_raw(v, below, f)?;
                    }
                    return ControlFlow::Continue(());
                }
                let mut mask = self.key_mask.get();
                if mask == 0 {
                    mask = self.members.iter().fold(0, |m, (name, _)| m | key_bit(name));
                    self.key_mask.set(mask);
                }
                if mask & key_bit(k) == 0 {
                    return ControlFlow::Continue(());
                }
                // Duplicate keys are legal JSON; like most parsers, the last one wins. Many keys
                // share a length (`eventName`, `eventTime`, `errorCode`): the last byte tells
                // most of them apart before a full comparison.
                let same = |name: &str| name.len() == k.len() && name.as_bytes().last() == k.as_bytes().last() && name == k;
                if let Some((_, v)) = self.members.iter().rev().find(|(name, _)| same(name)) {
                    return visit_raw(v, rest, f);
                }
                ControlFlow::Continue(())
            }
            Segment::AnyKey => {
                for (_, v) in &self.members {
                    visit_raw(v, rest, f)?;
                }
                ControlFlow::Continue(())
            }
            Segment::Index(_) | Segment::AnyIndex => ControlFlow::Continue(()),
        }
    }
}

/// Whether a record finds the value at `path` without parsing: a top-level member (split when
/// the record was read), or a direct member of `userIdentity` (split with it, when it is an
/// object without escaped keys). Rules screen the raw text only for the other paths.
pub fn at_hand(path: &[Segment]) -> bool {
    match path {
        [Segment::Key(_)] => true,
        [Segment::Key(k), Segment::Key(k2)] => k == "userIdentity" && is_identity_member(k2),
        _ => false,
    }
}

/// The members of `userIdentity` that [`UserIdentity::members`] keeps (all but the nested two).
fn is_identity_member(k: &str) -> bool {
    k != "sessionContext" && k != "onBehalfOf"
}

/// A key's bit in [`Record`]'s key mask: its length and four of its bytes, mixed by a
/// multiplier chosen so that every key CloudTrail documents for a record gets a bit of its own
/// (`CLOUDTRAIL_KEYS` in the tests). A collision is what made the mask useless for `errorCode`,
/// which rules look up on every event and which shared a bit with `requestParameters`.
fn key_bit(k: &str) -> u64 {
    let b = k.as_bytes();
    let n = b.len();
    let at = |i: usize| b.get(i).map_or(0, |&c| c as u64);
    let x = n as u64 | at(n.wrapping_sub(1)) << 8 | at(n.wrapping_sub(2)) << 16 | at(n / 2) << 24 | at(n / 2 + 1) << 32;
    1 << (x.wrapping_mul(0x2d93_7537_cef9_0987) >> 58)
}

/// A string member (numbers and booleans are read as their text; other types as absent).
pub(crate) fn text_of(v: &RawValue) -> Option<Text<'_>> {
    text_in(v, false)
}

/// [`text_of`], told whether the text around `v` is known to hold no backslash (then a string
/// is its text between the quotes, as `decode_str` would find after looking).
pub(crate) fn text_in(v: &RawValue, plain: bool) -> Option<Text<'_>> {
    let t = v.get();
    match t.as_bytes().first()? {
        b'"' if plain => t.strip_prefix('"')?.strip_suffix('"').map(Cow::Borrowed),
        b'"' => decode_str(t),
        b'{' | b'[' | b'n' => None,
        _ => Some(Cow::Borrowed(t)),
    }
}

/// A boolean member; the strings `"true"`/`"false"` (LookupEvents exports) count too.
pub(crate) fn bool_of(v: &RawValue) -> Option<bool> {
    match v.get() {
        "true" | "\"true\"" => Some(true),
        "false" | "\"false\"" => Some(false),
        _ => None,
    }
}

fn non_null(v: &RawValue) -> Option<&RawValue> {
    (v.get() != "null").then_some(v)
}

pub(crate) struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Vec<(Text<'de>, &'de RawValue)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail record object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(24));
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            out.push((k, map.next_value::<&'de RawValue>()?));
        }
        Ok(out)
    }
}

impl<'de> de::Deserialize<'de> for Record<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        Record::parse(raw.get()).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::lookup::FieldPath;

    const EV: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDA","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2023-07-10T11:42:18Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","userAgent":"aws-cli/2 \"quoted\"","requestParameters":{"userName":"bob"},"responseElements":null,"readOnly":false,"eventID":"e1","eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","custom":{"x":[1]}}"#;

    /// The record's shortcuts (key mask, `userIdentity` members) give what a plain walk of the
    /// record's JSON gives, for every path, on records that stress them.
    #[test]
    fn lookups_equal_a_plain_walk() {
        let records = [
            EV.to_string(),
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","userIdentity":{"type":"AssumedRole","arn":"a1","arn":"a2","invokedBy":null,"sessionContext":{"sessionIssuer":{"userName":"r"},"attributes":{"mfaAuthenticated":"false"}},"onBehalfOf":{"userId":"u"},"n":5,"b":true,"o":{"p":[1,{"q":"x"}]}}}"#.to_string(),
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","userIdentity":{"type":"IAMUser"},"userIdentity":{"type":"Root","arn":"last"}}"#.to_string(),
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","userIdentity":"a string","errorCode":null}"#.to_string(),
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","userIdentity":{"ty\u0070e":"Root","arn":"esc"}}"#.to_string(),
            r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","userIdentity":{"sessionContext":null,"onBehalfOf":"s"}}"#.to_string(),
        ];
        let paths = [
            "$.userIdentity.type",
            "$.userIdentity.arn",
            "$.userIdentity.invokedBy",
            "$.userIdentity.n",
            "$.userIdentity.b",
            "$.userIdentity.o.p[1].q",
            "$.userIdentity.o.p[*]",
            "$.userIdentity.*",
            "$.userIdentity.sessionContext.sessionIssuer.userName",
            "$.userIdentity.sessionContext",
            "$.userIdentity.onBehalfOf.userId",
            "$.userIdentity.onBehalfOf",
            "$.userIdentity.missing",
            "$.userIdentity",
            "$.errorCode",
            "$.eventName",
            "$.eventTime",
            "$.requestParameters.userName",
            "$.custom.x[0]",
            "$.nothere",
            "$.*",
            "$.ty",
        ];
        fn all<L: FieldLookup + ?Sized>(l: &L, p: &FieldPath) -> Vec<String> {
            let mut seen = Vec::new();
            let _ = l.visit_path(&p.segments, &mut |v| {
                seen.push(format!("{v:?}"));
                ControlFlow::Continue(())
            });
            seen
        }
        for text in &records {
            let rec = Record::parse(text).unwrap();
            let raw: Box<RawValue> = serde_json::from_str(text).unwrap();
            for p in paths {
                let path = FieldPath::parse(p).unwrap();
                let plain = all(&*raw, &path);
                // A plain walk visits every duplicate key; records keep the last one at the top level.
                let want = if p.starts_with("$.userIdentity") && text.matches("\"userIdentity\"").count() > 1 {
                    let last: Box<RawValue> =
                        serde_json::from_str(&text[text.rfind("\"userIdentity\":").unwrap() + 15..text.len() - 1]).unwrap();
                    all(&*last, &FieldPath { segments: path.segments[1..].to_vec() })
                } else {
                    plain
                };
                assert_eq!(all(&rec, &path), want, "{p} on {text}");
            }
        }
    }

    /// Every top-level key of a CloudTrail record (the record contents reference), and the
    /// shipper's `@timestamp`.
    const CLOUDTRAIL_KEYS: &str = "eventVersion userIdentity eventTime eventSource eventName awsRegion sourceIPAddress \
        userAgent errorCode errorMessage requestParameters responseElements additionalEventData requestID eventID \
        eventType apiVersion managementEvent readOnly resources recipientAccountId serviceEventDetails sharedEventID \
        vpcEndpointId vpcEndpointAccountId eventCategory addendum sessionCredentialFromConsole edgeDeviceDetails \
        tlsDetails insightDetails @timestamp";

    #[test]
    fn cloudtrail_keys_have_bits_of_their_own() {
        let mut seen = 0u64;
        for k in CLOUDTRAIL_KEYS.split_whitespace() {
            assert_eq!(seen & key_bit(k), 0, "{k} shares a bit");
            seen |= key_bit(k);
        }
        assert_eq!(seen.count_ones(), 32);
        // Short keys have bytes missing from the mix; they still get a bit.
        assert_eq!([key_bit(""), key_bit("a"), key_bit("ab")].map(u64::count_ones), [1, 1, 1]);
    }

    #[test]
    fn reads_fields() {
        let r = Record::parse(EV).unwrap();
        assert_eq!(r.event_name.as_deref(), Some("CreateUser"));
        assert_eq!(r.user_agent.as_deref(), Some("aws-cli/2 \"quoted\""));
        assert_eq!(r.read_only, Some(false));
        assert_eq!(r.event_time, Some(1_688_989_338_000));
        assert!(r.response_elements.is_none());
        assert_eq!(r.action(), "iam:CreateUser");
        assert_eq!(r.account(), Some("111122223333"));
        let user = FieldPath::parse("$.requestParameters.userName").unwrap();
        assert_eq!(r.lookup(&user).unwrap().as_str(), Some("bob"));
        let custom = FieldPath::parse("$.custom.x[0]").unwrap();
        assert_eq!(r.lookup(&custom), Some(Value::Number("1")));
    }

    #[test]
    fn tolerates_wrong_types() {
        let r = Record::parse(r#"{"eventName":5,"eventSource":null,"readOnly":"true","eventTime":"redacted","userIdentity":"x"}"#).unwrap();
        assert_eq!(r.event_name.as_deref(), Some("5"));
        assert_eq!(r.event_source, None);
        assert_eq!(r.read_only, Some(true));
        assert_eq!(r.event_time, None);
    }

    #[test]
    fn refuses_non_records() {
        assert_eq!(Record::parse("[1]").unwrap_err(), RecordError::NotAnObject);
        assert_eq!(Record::parse(r#"{"a":1}"#).unwrap_err(), RecordError::NotCloudTrail);
        assert!(matches!(Record::parse(r#"{"eventName":"#), Err(RecordError::Json(_))));
        let deep = format!("{{\"eventSource\":\"s\",\"eventName\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        // Deep nesting is skipped as an opaque value, without recursion: no stack overflow.
        let r = Record::parse(&deep).unwrap();
        assert_eq!(r.event_name, None);
        assert!(matches!(r.lookup(&FieldPath::parse("$.eventName[0][0]").unwrap()), Some(Value::Array(_))));
        let big = format!("{{\"eventName\":\"{}\"}}", "a".repeat(MAX_RECORD_BYTES));
        assert!(matches!(Record::parse(&big), Err(RecordError::TooLarge(_))));
    }

    #[test]
    fn lone_surrogates_refuse_identifying_fields_and_are_repaired_in_free_text() {
        let text = |members: &str| format!(r#"{{"eventTime":"2024-01-01T00:00:00Z","eventSource":"s",{members}}}"#);
        let refused = |members: &str| Record::parse(&text(members)).unwrap_err();
        assert_eq!(refused(r#""eventName":"Cr\udc00""#), RecordError::LoneSurrogate("eventName"));
        let e = refused(r#""eventName":"A","userIdentity":{"type":"IAMUser","arn":"x\ud800"}"#);
        assert_eq!(e, RecordError::LoneSurrogate("userIdentity"));
        let repaired = text(r#""eventName":"A","userAgent":"x\ud800y","requestParameters":{"k":"\udc00"}"#);
        let r = Record::parse(&repaired).unwrap();
        assert!(r.repaired);
        assert_eq!(r.user_agent.as_deref(), Some("x\u{fffd}y"));
        let k = r.lookup(&FieldPath::parse("$.requestParameters.k").unwrap());
        assert_eq!(k.as_ref().and_then(Value::as_str), Some("\u{fffd}"));
        // A pair is a character, and an escaped backslash no escape at all.
        let paired = text(r#""eventName":"A","userAgent":"\ud83d\ude00 \\ud800""#);
        let r = Record::parse(&paired).unwrap();
        assert!(!r.repaired);
        assert_eq!(r.user_agent.as_deref(), Some("😀 \\ud800"));
    }
}
