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

impl Alert {
    /// A deterministic identity for alerts raised per event (traps, rules): the same event
    /// tripping the same detector the same way always gets the same id, so the outbox takes it
    /// once however often its file is read.
    pub fn stable_id(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for part in [self.detector.as_str(), self.kind.as_str(), self.account.as_deref().unwrap_or("")] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        for id in &self.event_ids {
            h.update((id.len() as u64).to_le_bytes());
            h.update(id.as_bytes());
        }
        h.update(self.evidence.to_string().as_bytes());
        let digest = h.finalize();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
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

pub mod sink;
pub mod webhook;
