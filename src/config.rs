//! The TOML configuration (`--config FILE`). Unknown keys are errors that name the line, so a
//! typo never silently turns a detector off.

use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub mod traps;
pub use traps::TrapsConfig;

/// The whole config file. Every section is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub store: StoreConfig,
    pub first_seen: FirstSeenConfig,
    pub alerts: AlertsConfig,
    pub traps: TrapsConfig,
    /// Rule packs, pattern rules, metric filters and alarms (`docs/rules.md`).
    pub rules: crate::rules::pack::RulesConfig,
    /// The config file's folder, against which relative paths in it are resolved.
    #[serde(skip)]
    pub dir: Option<PathBuf>,
}

/// `[store]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// State file; relative paths are taken from the config file's folder.
    pub path: Option<PathBuf>,
}

/// `[alerts]`: where alerts go besides the `--output` stream.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    pub webhook: Option<WebhookConfig>,
}

/// `[alerts.webhook]`: POST each alert as JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Attempts per alert before it is counted as lost.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Per-request timeout.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Alerts waiting for delivery before new ones are dropped (and counted) rather than slowing
    /// detection.
    #[serde(default = "default_queue")]
    pub queue: usize,
}

fn default_attempts() -> u32 {
    5
}
fn default_timeout() -> u64 {
    10
}
fn default_queue() -> usize {
    1000
}

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
    /// A principal idle for the whole N days that comes back doing what it did before raises no
    /// `first_in_n_days` alert (quarterly jobs); only a principal active meanwhile does.
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
}

impl Default for Kinds {
    fn default() -> Self {
        Kinds { first_in_account: true, first_for_principal: true, first_in_n_days: true, new_region: true, first_for_role_name: true }
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
    pub kind: Option<String>,
    /// Why this is allowed, for whoever reads the config next.
    pub reason: Option<String>,
}

/// A TOML error as one line, `origin:line:column: message` (messages are printed escaped, and the
/// multi-line snippet toml renders would come out as `\u{a}`s).
pub fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> anyhow::Error {
    let at = e.span().map(|s| {
        let before = text.get(..s.start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(":{line}:{column}")
    });
    anyhow::anyhow!("{origin}{}: {}", at.unwrap_or_default(), e.message().trim())
}

impl Config {
    /// Parses config text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Config> {
        let cfg: Config = toml::from_str(text).map_err(|e| toml_error(text, origin, &e))?;
        for rule in &cfg.first_seen.allow {
            if let Some(k) = &rule.kind
                && !crate::detect::first_seen::KIND_NAMES.contains(&k.as_str())
            {
                anyhow::bail!(
                    "{origin}: [[first_seen.allow]] kind {k:?} is not one of {}",
                    crate::detect::first_seen::KIND_NAMES.join(", ")
                );
            }
        }
        // Compiling checks what serde cannot: that each ARN names a resource of its section.
        crate::detect::traps::TrapDetector::new(&cfg.traps).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        Ok(cfg)
    }

    /// Loads `path`, or the defaults when `None`. A relative `[store] path` is resolved against
    /// the config file's folder.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else { return Ok(Config::default()) };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
        let mut cfg = Config::parse(&text, &path.display().to_string())?;
        cfg.dir = path.parent().map(Path::to_path_buf);
        if let Some(p) = &cfg.store.path
            && p.is_relative()
            && let Some(dir) = path.parent()
        {
            cfg.store.path = Some(dir.join(p));
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_sections() {
        let c = Config::parse("", "x").unwrap();
        assert_eq!(c.first_seen.burn_in_days, 14);
        assert!(c.first_seen.kinds.new_region);
        let c = Config::parse(
            "[store]\npath = \"s.db\"\n[first_seen]\nburn_in_days = 0\nignore_actions = [\"sts:GetCallerIdentity\"]\n[first_seen.kinds]\nnew_region = false\n[[first_seen.allow]]\nprincipal = \"arn:aws:iam::*:role/deploy\"\nkind = \"new_region\"\n[traps]\n[[traps.iam_user]]\nname = \"Backup_Admin\"\n",
            "x",
        )
        .unwrap();
        assert_eq!(c.first_seen.burn_in_days, 0);
        assert!(!c.first_seen.kinds.new_region);
        assert_eq!(c.first_seen.allow.len(), 1);
        assert_eq!(c.traps.len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let e = Config::parse("[first_seen]\nburn_in_days = 3\nburn_in_dayz = 4\n", "cfg.toml").unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml:3:1: unknown field `burn_in_dayz`"), "{e}");
        assert!(!e.contains('\n'));
        let e = Config::parse("[first_seen]\nn_days = \"ninety\"\n", "cfg.toml").unwrap_err().to_string();
        assert!(e.starts_with("cfg.toml:2:10: "), "{e}");
        let e = Config::parse("[[first_seen.allow]]\nkind = \"nope\"\n", "cfg.toml").unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
    }
}
