//! `[first_seen]`: the behaviour-baseline detector's settings (docs/first-seen.md).

use serde::Deserialize;

/// `[first_seen]`: the behaviour-baseline detector.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirstSeenConfig {
    pub enabled: bool,
    pub kinds: Kinds,
    /// No alert for a principal (account, role name) first observed less than this many days
    /// before the event, and none while the store covers less than this.
    pub burn_in_days: u32,
    /// The window of `first_in_n_days`: an action unused this long is new again.
    pub n_days: u32,
    /// A principal idle for more than N days that comes back doing what it did before raises no
    /// `first_in_n_days` alert for N days after its return (quarterly jobs); only a principal
    /// active meanwhile does (its return's own events do not count as activity meanwhile).
    pub n_days_skip_idle: bool,
    /// New behaviours of one principal within this many minutes of the first make one alert.
    pub group_minutes: u32,
    /// Alert on a first failed call (an attempt) as well as on a first success.
    pub alert_failures: bool,
    /// Actions (`service:Event`, `*` wildcards) learned but never alerted on.
    pub ignore_actions: Vec<String>,
    /// Principals (normalised ARN or id, `*` wildcards) neither learned nor alerted on.
    pub skip_principals: Vec<String>,
    pub skip_service_linked_roles: bool,
    pub skip_aws_services: bool,
    /// User agents (wildcards) whose events are neither learned nor alerted on.
    pub skip_user_agents: Vec<String>,
    /// `eventType`s not made by the caller (e.g. `AwsServiceEvent`), not learned.
    pub skip_event_types: Vec<String>,
    /// Known-good new behaviours: learned, never alerted on.
    pub allow: Vec<AllowRule>,
    /// What `first_for_resource` tracks: `s3_bucket`, `dynamodb_table`, `secret`, `kms_key`,
    /// `ssm_parameter`, `lambda_function`, `iam_role` (assumed or passed). All by default.
    pub resource_types: Vec<String>,
}

impl Default for FirstSeenConfig {
    fn default() -> Self {
        FirstSeenConfig {
            enabled: true,
            kinds: Kinds::default(),
            burn_in_days: 14,
            n_days: 90,
            n_days_skip_idle: true,
            group_minutes: 15,
            alert_failures: true,
            ignore_actions: Vec::new(),
            skip_principals: Vec::new(),
            skip_service_linked_roles: true,
            skip_aws_services: true,
            skip_user_agents: vec!["AWS Internal".into()],
            skip_event_types: vec!["AwsServiceEvent".into()],
            allow: Vec::new(),
            resource_types: crate::detect::observe::RESOURCE_TYPES.iter().map(|t| t.to_string()).collect(),
        }
    }
}

/// `[first_seen.kinds]`: each kind of "first time" on or off.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Kinds {
    pub first_in_account: bool,
    pub first_for_principal: bool,
    pub first_in_n_days: bool,
    pub new_region: bool,
    pub first_for_role_name: bool,
    pub first_for_resource: bool,
}

impl Default for Kinds {
    fn default() -> Self {
        Kinds {
            first_in_account: true,
            first_for_principal: true,
            first_in_n_days: true,
            new_region: true,
            first_for_role_name: true,
            first_for_resource: true,
        }
    }
}

/// `[[first_seen.allow]]`: every field given must match (wildcards `*`); `kind` limits the rule to
/// one alert kind.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowRule {
    pub principal: Option<String>,
    pub action: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    /// A resource as `first_for_resource` names it (`s3_bucket:NAME`, `secret:ACCOUNT/NAME`, …);
    /// a rule with it matches resource behaviours only.
    pub resource: Option<String>,
    pub kind: Option<String>,
    /// Why this is allowed, for whoever reads the config next.
    pub reason: Option<String>,
}
