//! Alerts: what detectors emit and sinks deliver. One shape for every detector, so scoring,
//! delivery and reports treat them alike.

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

/// One alert. Field names are the JSON-lines keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The detector that raised it (`first_seen`, `trap`, `rule`, `alarm`, …).
    pub detector: String,
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
    /// RFC 3339, UTC: the time of the (first) event behind the alert.
    pub event_time: Option<String>,
    /// The first few `eventID`s behind the alert.
    pub event_ids: Vec<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    /// Events behind the alert.
    pub count: u64,
    /// Why this alert: detector-specific context for the responder.
    pub evidence: serde_json::Value,
}

/// The identity of an alert one event raised: the detector, what in it fired (a trap's id, a
/// rule's `pack/name`) and the event (see [`event_key`]). The outbox takes an alert once per
/// identity, so reading a file again never repeats one.
pub fn per_event_id(detector: &str, what: &str, event: &str) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for part in [detector, what, event] {
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
/// in from the record.
pub fn for_event(
    rec: &crate::event::Record<'_>,
    detector: &str,
    kind: &str,
    severity: Severity,
    title: String,
    evidence: serde_json::Value,
) -> Alert {
    let p = rec.user_identity.principal();
    let text = |t: &Option<crate::event::record::Text<'_>>| t.as_deref().map(str::to_string);
    Alert {
        detector: detector.into(),
        kind: kind.into(),
        severity,
        title,
        account: rec.account().map(str::to_string).or_else(|| p.account.clone()),
        region: text(&rec.aws_region),
        principal: Some(p.id.clone()),
        principal_type: Some(p.kind.as_str().into()),
        session: p.session.clone(),
        event_source: text(&rec.event_source),
        event_name: text(&rec.event_name),
        event_time: rec.event_time.map(crate::event::time::format_millis),
        event_ids: rec.event_id.as_deref().map(|s| vec![s.to_string()]).unwrap_or_default(),
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
