//! Alerts: what detectors emit and sinks deliver. One shape for every detector, so scoring,
//! delivery and reports treat them alike. docs/alerts.md documents every field (and
//! docs/alert.schema.json checks them); `evidence` holds one typed struct per detector
//! ([`evidence`]).

pub mod evidence;

pub use evidence::Evidence;
use serde::{Deserialize, Serialize};

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// The detector that raised an alert; serialised as `first_seen`, `trap`, `rule`, `alarm`,
/// `statistics` (in
/// alert lines, the store's outbox and scan summaries alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    FirstSeen,
    Trap,
    Rule,
    Alarm,
    Statistics,
}

impl Detector {
    pub const ALL: [Detector; 5] = [Detector::FirstSeen, Detector::Trap, Detector::Rule, Detector::Alarm, Detector::Statistics];

    pub fn as_str(self) -> &'static str {
        match self {
            Detector::FirstSeen => "first_seen",
            Detector::Trap => "trap",
            Detector::Rule => "rule",
            Detector::Alarm => "alarm",
            Detector::Statistics => "statistics",
        }
    }

    pub fn parse(s: &str) -> Option<Detector> {
        Detector::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl std::fmt::Display for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert. Field names are the JSON-lines keys; docs/alerts.md says what each holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable identity ([`alert_id`]): the same logs scanned again give the same id. The outbox
    /// is keyed by it.
    /// (Empty in the stored body of an alert raised before ids were written; delivery fills it
    /// from the outbox key.)
    #[serde(default)]
    pub id: String,
    /// RFC 3339, UTC: when the alert entered the outbox. Stored in the body, so a redelivery is
    /// a byte copy of the first delivery.
    #[serde(default)]
    pub raised_at: String,
    pub detector: Detector,
    /// The detector's sub-kind (e.g. `first_in_account`, `new_region`).
    pub kind: String,
    pub severity: Severity,
    /// One line for people.
    pub title: String,
    pub account: Option<String>,
    pub region: Option<String>,
    /// The normalised principal (see `event::identity`).
    pub principal: Option<String>,
    pub principal_type: Option<String>,
    pub session: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    /// RFC 3339, UTC: the time of the (first) event behind the alert; `event_source`,
    /// `event_name`, `region` and `session` describe that same event.
    pub event_time: Option<String>,
    /// The first few `eventID`s behind the alert.
    pub event_ids: Vec<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    /// Events behind the alert.
    pub count: u64,
    /// Why this alert: the detector's typed context for the responder.
    pub evidence: Evidence,
}

/// The one id scheme: a 128-bit hash of the detector and what the alert is about (a trap's id
/// and principal and window, a rule and an event, a principal's new behaviours, an alarm series'
/// transition), each part NUL-terminated so parts cannot run into each other.
pub fn alert_id(detector: Detector, parts: &[&str]) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(detector.as_str().as_bytes());
    h.update(&[0]);
    for part in parts {
        h.update(part.as_bytes());
        h.update(&[0]);
    }
    format!("{:032x}", h.digest128())
}

/// What identifies an event: its `eventID`, or for a record without one, the hash of its bytes.
pub fn event_key(rec: &crate::event::Record<'_>) -> String {
    match rec.event_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => id.to_string(),
        None => format!("{:032x}", xxhash_rust::xxh3::xxh3_128(rec.raw.as_bytes())),
    }
}

/// An alert about one event (traps, rules): the event's time, caller, place and outcome filled
/// in from the record; its id is the hash of `what` fired (a trap's id, a rule's `pack/name`)
/// and the event (see [`event_key`]), so reading a file again never repeats one.
pub fn for_event(
    rec: &crate::event::Record<'_>,
    detector: Detector,
    what: &str,
    kind: &str,
    severity: Severity,
    title: String,
    evidence: Evidence,
) -> Alert {
    let p = rec.user_identity.principal();
    let text = |t: &Option<crate::event::record::Text<'_>>| t.as_deref().map(str::to_string);
    Alert {
        id: alert_id(detector, &[what, &event_key(rec)]),
        raised_at: String::new(),
        detector,
        kind: kind.into(),
        severity,
        title,
        account: rec.account().map(str::to_string).or_else(|| p.account.clone()),
        region: text(&rec.aws_region),
        principal: (!p.id.is_empty()).then(|| p.id.clone()),
        principal_type: Some(p.kind.as_str().into()),
        session: p.session.clone(),
        event_source: text(&rec.event_source),
        event_name: text(&rec.event_name),
        event_time: rec.event_time.map(crate::event::time::format_millis),
        event_ids: rec.event_id.as_deref().filter(|s| !s.is_empty()).map(|s| vec![s.to_string()]).unwrap_or_default(),
        source_ip: text(&rec.source_ip),
        user_agent: text(&rec.user_agent),
        error_code: text(&rec.error_code),
        count: 1,
        evidence,
    }
}

/// `[alerts]`: where alerts go besides the `--output` stream. Each delivery sink's settings are
/// a member; [`sink::configured`] starts the sinks they describe.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    pub webhook: Option<webhook::WebhookConfig>,
}

pub mod sink;
pub mod webhook;

/// A minimal alert for tests of what carries alerts (store, sinks, scoring).
#[cfg(test)]
pub(crate) fn test_alert(id: &str, principal: Option<&str>, time: Option<&str>, event_ids: &[&str]) -> Alert {
    Alert {
        id: id.into(),
        raised_at: String::new(),
        detector: Detector::Rule,
        kind: "k".into(),
        severity: Severity::Medium,
        title: "t".into(),
        account: Some("111111111111".into()),
        region: None,
        principal: principal.map(str::to_string),
        principal_type: None,
        session: None,
        event_source: None,
        event_name: None,
        event_time: time.map(str::to_string),
        event_ids: event_ids.iter().map(|s| s.to_string()).collect(),
        source_ip: None,
        user_agent: None,
        error_code: None,
        count: 1,
        evidence: Evidence::Rule(evidence::RuleEvidence { pack: "p".into(), rule: "r".into(), pattern: "{ $.x = 1 }".into() }),
    }
}
