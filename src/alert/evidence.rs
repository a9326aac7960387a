//! `evidence`: one typed struct per detector, so what an alert carries is a contract (documented
//! field by field in docs/alerts.md, checked by docs/alert.schema.json) rather than whatever a
//! `json!` map held. Optional fields are always written (`null` when they do not apply), so every
//! alert of a detector has the same keys.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The detector-specific part of an alert. Written without a tag (the alert's `detector` says
/// which); each variant refuses the others' fields, so reading one back finds its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Evidence {
    FirstSeen(FirstSeenEvidence),
    Trap(TrapEvidence),
    Rule(RuleEvidence),
    Alarm(AlarmEvidence),
    Statistics(StatisticsEvidence),
    /// Evidence of an alert raised by a trailhound older than this contract, read back from a
    /// store's outbox that still held it undelivered: delivered as it was written, not dropped.
    Earlier(serde_json::Value),
}

impl Evidence {
    /// As the JSON an alert line holds.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    pub fn as_trap(&self) -> Option<&TrapEvidence> {
        match self {
            Evidence::Trap(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_alarm(&self) -> Option<&AlarmEvidence> {
        match self {
            Evidence::Alarm(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_statistics(&self) -> Option<&StatisticsEvidence> {
        match self {
            Evidence::Statistics(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_first_seen(&self) -> Option<&FirstSeenEvidence> {
        match self {
            Evidence::FirstSeen(f) => Some(f),
            _ => None,
        }
    }
}

/// A principal's new behaviours, grouped into one alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstSeenEvidence {
    /// When trailhound first saw the principal (RFC 3339).
    pub principal_first_seen: Option<String>,
    /// Distinct actions the principal had done before the group's first event.
    pub principal_behaviours: i64,
    /// How many behaviours the group holds (`behaviours.len()`).
    pub new_behaviours: u64,
    /// Every behaviour in the group failed.
    pub attempt_only: bool,
    /// What the principal usually looks like, before the group's first event. (Read as empty
    /// from evidence written before it existed, as the fields below marked `default`.)
    #[serde(default)]
    pub principal_context: PrincipalContext,
    /// The group's members, riskiest first (the title names the first); the alert's top-level
    /// event fields describe the group's earliest event.
    pub behaviours: Vec<Behaviour>,
}

/// The principal's networks and clients before the group, and when its current run of activity
/// began.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalContext {
    /// The start of its current run of activity (RFC 3339): when it came back after more than
    /// `n_days` idle, or was first seen.
    pub active_since: Option<String>,
    /// Its source networks (`/24`, `/48`, or a service name) first seen before the group, earliest
    /// first (at most 5), how many it had (at most 32 are kept), and whether the group's first
    /// event came from one of them.
    pub usual_networks: Vec<Usual>,
    pub networks_known: u64,
    pub source_network_known: bool,
    /// Its client kinds (`cli`, `console`, `sdk`, …) likewise.
    pub usual_clients: Vec<Usual>,
    pub clients_known: u64,
    pub client_known: bool,
}

/// One network or client kind a principal used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usual {
    pub value: String,
    /// Its first event (RFC 3339).
    pub first_seen: String,
}

/// One new behaviour: an action (or a region) new for the principal in one outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// The strongest kind it is new in (`first_in_account`, …).
    pub kind: String,
    /// Weaker kinds it is also new in, sorted.
    pub also: Vec<String>,
    /// How much it deserves a first look (members are ordered by it, riskiest first), and the
    /// factors that add up to it (docs/first-seen.md#ranking).
    #[serde(default)]
    pub risk: u32,
    #[serde(default)]
    pub risk_factors: Vec<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// `service:EventName` of its first event.
    pub action: String,
    /// For `new_region`: the region that is new.
    pub new_region: Option<String>,
    /// For `first_for_resource`: the resource first touched (`s3_bucket:NAME`, `secret:ACCOUNT/NAME`, …).
    pub resource: Option<String>,
    /// Its first event: time (RFC 3339), `eventID`, region.
    pub first_event_time: String,
    pub first_event_id: Option<String>,
    pub region: Option<String>,
    pub last_event_time: String,
    /// Events of this behaviour in the run of activity that made it new.
    pub count: u64,
    /// The earliest `eventID`s of that run (at most 5).
    pub event_ids: Vec<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    /// For `first_in_n_days`: when it was last done before, and how many days ago.
    pub last_seen_before: Option<String>,
    pub days_unused: Option<i64>,
    /// For roles, at the behaviour's first event (event time): other accounts holding a role of
    /// this name, and how many of those roles had done the action.
    pub peer_role_accounts: Option<i64>,
    pub peer_roles_doing_action: Option<i64>,
    /// For a role's success: other accounts whose role of this name began the action within
    /// `group_minutes` after it (a roll-out, alerted once here), sorted.
    pub reached_accounts: Option<Vec<String>>,
}

/// Touches of one trap by one principal within one grouping window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapEvidence {
    pub trap: TrapRef,
    /// Where the first event touched the trap.
    pub matched: Vec<TrapMatch>,
    /// The first event's outcome: `succeeded`, `denied` or `failed`.
    pub outcome: String,
    /// Whether any touch in the group went through.
    pub succeeded: bool,
    /// Touches in the group by outcome.
    pub outcomes: TrapOutcomes,
    /// The first event's `errorMessage` and `readOnly`.
    pub error_message: Option<String>,
    pub read_only: Option<bool>,
    /// The first event's bytes hashed, when it has no `eventID`.
    pub record_hash: Option<String>,
    /// The grouping window (`[traps] group_minutes`, aligned to the epoch), `null` when grouping is off.
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    /// The last touch in the group (RFC 3339).
    pub last_event_time: Option<String>,
    /// The earliest touches (at most 10); the alert's `count` is the total.
    pub events: Vec<TrapTouch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapRef {
    /// `type:account-or-*:name as declared`.
    pub id: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub name: String,
    pub account: Option<String>,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapMatch {
    pub location: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapOutcomes {
    pub succeeded: u64,
    pub denied: u64,
    pub failed: u64,
}

/// One touch of a trap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrapTouch {
    pub event_time: Option<String>,
    pub event_id: Option<String>,
    pub event_name: Option<String>,
    pub outcome: String,
    pub region: Option<String>,
    pub source_ip: Option<String>,
}

/// A pattern rule that matched one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEvidence {
    pub pack: String,
    pub rule: String,
    /// The filter pattern as it ran (parameters expanded): paste it into `trailhound search`.
    pub pattern: String,
}

/// An alarm's incident: its start (`reason = "alarm"`), its end (`"ok"`, with `alert_on_ok`), or
/// principals it had not named yet while it stayed in ALARM (`"update"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmEvidence {
    pub alarm: String,
    pub description: Option<String>,
    /// `alarm`, `ok` or `update`.
    pub reason: String,
    /// The id of the alert that opened the incident (this alert's own id for `reason = "alarm"`).
    pub episode_id: String,
    pub metric: AlarmMetric,
    /// The metric filters publishing the metric, each pattern as it runs.
    pub filters: Vec<AlarmFilter>,
    /// PutMetricAlarm's names: `Sum`, `GreaterThanOrEqualToThreshold`, … (the alarm's own
    /// vocabulary, in `rules::alarm`; kept as text so alerts sit below the detectors).
    pub statistic: String,
    pub comparison_operator: String,
    pub threshold: f64,
    pub period: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub treat_missing_data: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub from_state: String,
    pub to_state: String,
    /// The transition (for an update, the one that opened the incident).
    pub transition_time: String,
    /// The evaluation range in one line, oldest first (`-` missing, `!` breaching).
    pub datapoints_oldest_first: String,
    pub datapoints: Vec<AlarmDatapoint>,
    /// The earliest events counted (at most 10; for an update, the new principals' events).
    pub events: Vec<CountedEvent>,
    /// For `reason = "update"`: the alarm period whose events named new principals.
    pub update: Option<AlarmUpdate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmMetric {
    pub namespace: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmFilter {
    pub name: String,
    pub pattern: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmDatapoint {
    pub period_start: String,
    pub value: Option<f64>,
    pub breaching: Option<bool>,
    pub sample_count: Option<u64>,
}

/// One event a metric filter counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountedEvent {
    pub event_time: String,
    pub event_id: String,
    pub event_name: Option<String>,
    pub principal: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmUpdate {
    pub period_start: String,
    pub period_end: String,
    pub new_principals: Vec<String>,
}

/// An episode of unusual call or error rate of one API (docs/statistics.md), as its first unusual
/// minute showed it. Names follow Insights' `insightContext.statistics` where there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatisticsEvidence {
    /// `ApiCallRateInsight` or `ApiErrorRateInsight`.
    pub insight_type: String,
    /// The unusual minute (RFC 3339, end exclusive).
    pub window_start: String,
    pub window_end: String,
    pub insight_duration_minutes: u64,
    /// Calls (errors) per minute in the window.
    pub insight_average: f64,
    /// Calls per minute over the baseline, and its length (minutes; shorter than `baseline_days`
    /// while the account and region have less history).
    pub baseline_average: f64,
    pub baseline_duration_minutes: i64,
    /// The busiest minute of the baseline.
    pub baseline_peak: u64,
    /// The seasonal slot (the same hours of the day): which days (`weekdays`, `weekends`,
    /// `all`), calls per minute there, its busiest minute.
    pub seasonal_days: String,
    pub seasonal_average: f64,
    pub seasonal_peak: u64,
    /// The Poisson rate the window was tested against.
    pub expected_per_minute: f64,
    /// The fewest calls in a minute that were unusual here; the alert's `count` reached it.
    pub threshold: u64,
    /// P(at least `count` calls in a minute at the expected rate), and `-log10` of it.
    pub p_value: f64,
    pub score: f64,
    /// The settings the threshold came from.
    pub min_count: u64,
    pub peak_factor: f64,
    pub attributions: Attributions,
}

/// Who and what made the window, top five of each (Insights' `attributions`, insight side).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attributions {
    pub user_identity_arn: Vec<Attribution>,
    pub user_agent: Vec<Attribution>,
    /// `"null"` for calls without an error, as Insights writes it.
    pub error_code: Vec<Attribution>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribution {
    pub value: String,
    pub count: u64,
    /// Per minute over the window.
    pub average: f64,
}
