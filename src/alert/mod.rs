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

pub mod sink;
pub mod webhook;
