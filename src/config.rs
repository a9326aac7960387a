//! The TOML configuration (`--config FILE`). Unknown keys are errors that name the line, so a
//! typo never silently turns a detector off.

use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::alert::AlertsConfig;
use crate::detect::first_seen::FirstSeenConfig;
use crate::detect::statistics::StatisticsConfig;
use crate::detect::traps::TrapsConfig;
use crate::toml_error::{ValueError, invalid_utf8, locate, toml_error, toml_path};

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
    /// Call and error rates against their history (`docs/statistics.md`).
    pub statistics: StatisticsConfig,
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

impl Config {
    /// The sections that configure detectors, for [`crate::detect::Detectors::from_config`].
    pub fn detectors(&self) -> crate::detect::run::DetectorsConfig<'_> {
        crate::detect::run::DetectorsConfig {
            first_seen: &self.first_seen,
            traps: &self.traps,
            rules: &self.rules,
            statistics: &self.statistics,
            dir: self.dir.as_deref(),
        }
    }

    /// Parses and checks config text; `origin` names it in errors (pack paths are taken from
    /// the working directory).
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Config> {
        Config::parse_in(text, origin, None)
    }

    /// [`Config::parse`] for a config in folder `dir`. Every check a scan makes on its config is
    /// made here, and every error names `origin:line:column` of the value it is about.
    fn parse_in(text: &str, origin: &str, dir: Option<&Path>) -> anyhow::Result<Config> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| toml_error(text, origin, &e))?;
        cfg.dir = dir.map(Path::to_path_buf);
        cfg.check().map_err(|e| locate(text, origin, e))?;
        Ok(cfg)
    }

    /// What serde cannot check: names that must resolve, values with rules of their own, the
    /// packs, patterns and alarms compiled (and dropped: the commands build their own).
    fn check(&self) -> anyhow::Result<()> {
        use crate::detect::first_seen::KIND_NAMES;
        for (i, rule) in self.first_seen.allow.iter().enumerate() {
            if let Some(k) = &rule.kind
                && !KIND_NAMES.contains(&k.as_str())
            {
                let near = crate::toml_error::did_you_mean(crate::toml_error::nearest(k, KIND_NAMES.iter().copied()));
                let m = format!("[[first_seen.allow]] kind {k:?} is not one of {}{near}", KIND_NAMES.join(", "));
                return Err(ValueError::new(toml_path!["first_seen", "allow", i, "kind"], m).into());
            }
        }
        let types = crate::detect::observe::RESOURCE_TYPES;
        if let Some((i, t)) = self.first_seen.resource_types.iter().enumerate().find(|(_, t)| !types.contains(&t.as_str())) {
            let near = crate::toml_error::did_you_mean(crate::toml_error::nearest(t, types.iter().copied()));
            let m = format!("[first_seen] resource_types: {t:?} is not one of {}{near}", types.join(", "));
            return Err(ValueError::new(toml_path!["first_seen", "resource_types", i], m).into());
        }
        self.statistics.check().map_err(|(key, m)| ValueError::new(toml_path!["statistics", key], m))?;
        if let Some(hook) = &self.alerts.webhook {
            crate::alert::webhook::check_url(&hook.url).map_err(|m| ValueError::new(toml_path!["alerts", "webhook", "url"], m))?;
        }
        crate::detect::Detectors::from_config(self.detectors())?;
        Ok(())
    }

    /// Loads `path`, or the defaults when `None`. A relative `[store] path` is resolved against
    /// the config file's folder.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else { return Ok(Config::default()) };
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).with_context(|| format!("reading config {origin}"))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| invalid_utf8(&bytes, &origin, &e))?;
        let mut cfg = Config::parse_in(text, &origin, path.parent())?;
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
