//! The labels file: ground truth for a simulated corpus, kept outside the log tree.

use serde::{Deserialize, Serialize};

/// Version tag of the labels format.
pub const FORMAT: &str = "trailhound-labels/1";

/// Whether a labelled scenario is an attack or benign change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    Attack,
    BenignNovelty,
}

/// One labelled scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Stable id, e.g. `a07-ebs-snapshot-shared`.
    pub id: String,
    pub kind: ScenarioKind,
    /// Short technique name (`recon_burst`, `cloudtrail_tampering`, …).
    pub technique: String,
    pub title: String,
    pub account: Option<String>,
    /// The normalised principal (as `alert.principal`: a role or user ARN, a service name).
    pub principal: Option<String>,
    /// RFC 3339: first and last event (or, for a gap, the window with no events).
    pub start: String,
    pub end: String,
    /// The events that make the scenario (empty for gaps and whole-account changes).
    pub event_ids: Vec<String>,
    /// Detector kinds expected to catch it, as `detector/kind` (e.g. `first_seen/new_api`).
    pub expected: Vec<String>,
    /// Where the event sequence is modelled from (e.g. a Stratus Red Team technique id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Benign principals active on one day (the denominator of alerts per principal-day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: String,
    pub principals: u64,
}

/// How a corpus was generated and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    pub seed: u64,
    pub accounts: usize,
    pub days: u32,
    pub scale: f64,
    pub org_id: String,
    pub records_written: u64,
    pub duplicates_written: u64,
    pub log_files: u64,
    pub digest_files: u64,
}

/// The whole labels file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    pub format: String,
    /// RFC 3339: the covered time span.
    pub start: String,
    pub end: String,
    /// Days from `start` during which baselines learn; alerts before its end are not scored as
    /// benign noise.
    pub burn_in_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<Generator>,
    pub scenarios: Vec<Scenario>,
    #[serde(default)]
    pub principal_days: Vec<DayCount>,
    /// Events labelled benign one by one (the Invictus CSV labels every event): an alert on
    /// them is benign whatever principal or time it shares with an attack.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub benign_event_ids: Vec<String>,
}
