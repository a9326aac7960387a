//! Rule packs: plain TOML files of rules, metric filters and alarms, with parameters. Two ship
//! inside the binary (`packs/cis.toml`, `packs/seed.toml`); users enable them by name, point at
//! their own files, or write rules straight into the `[rules]` section of their config.

use super::alarm::AlarmConfig;
use super::metric::MetricFilterConfig;
use super::params::{self, Expanded};
use crate::alert::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Packs compiled into the binary, by name.
pub const BUILT_IN: &[(&str, &str)] = &[("cis", include_str!("../../packs/cis.toml")), ("seed", include_str!("../../packs/seed.toml"))];

/// A parameter's value: one string or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    One(String),
    List(Vec<String>),
}

impl ParamValue {
    fn into_list(self) -> Vec<String> {
        match self {
            ParamValue::One(s) => vec![s],
            ParamValue::List(v) => v,
        }
    }
}

/// `[[rules.rule]]` (or `[[rule]]` in a pack): one alert per matching event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Unique within its pack; the alert's `kind`.
    pub name: String,
    /// A CloudWatch Logs filter pattern (pack parameters allowed).
    pub pattern: String,
    /// The alert's title (default: the name).
    pub title: Option<String>,
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// For whoever reads the rule next.
    pub description: Option<String>,
}

fn default_severity() -> Severity {
    Severity::Medium
}

/// `[rules]` in the config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Packs to enable: a built-in name (`cis`, `seed`) or a path to a pack file (relative to
    /// the config file).
    pub packs: Vec<String>,
    /// Values for pack parameters; they override the packs' defaults.
    pub params: BTreeMap<String, ParamValue>,
    /// `pack/name` (or `name` for the config's own) of rules and alarms to leave out.
    pub disable: Vec<String>,
    pub rule: Vec<RuleConfig>,
    pub metric_filter: Vec<MetricFilterConfig>,
    pub alarm: Vec<AlarmConfig>,
}

/// A pack file: the same shape as `[rules]` without `packs`/`disable`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PackFile {
    pub params: BTreeMap<String, ParamValue>,
    pub rule: Vec<RuleConfig>,
    pub metric_filter: Vec<MetricFilterConfig>,
    pub alarm: Vec<AlarmConfig>,
}

/// Everything enabled, with patterns expanded and ready to compile (with
/// `FilterPattern::parse_expanded`: the length limit was checked before expansion).
#[derive(Debug, Clone, Default)]
pub struct LoadedRules {
    /// `(pack, rule)`; pack is `config` for the config's own rules.
    pub rules: Vec<(String, RuleConfig)>,
    pub metric_filters: Vec<(String, MetricFilterConfig)>,
    pub alarms: Vec<(String, AlarmConfig)>,
    /// Rules, filters and their alarms left out because a parameter they need is empty.
    pub inactive: Vec<Inactive>,
    /// `(pack/name, kind)` of rules and alarms left out by `[rules] disable`.
    pub disabled: Vec<(String, &'static str)>,
}

/// A rule, metric filter or alarm that cannot match until a parameter is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inactive {
    /// `pack/name`.
    pub what: String,
    /// `rule`, `metric_filter` or `alarm`.
    pub kind: &'static str,
    pub param: String,
}

/// Loads the enabled packs and the config's own rules. `base` is the config file's folder.
pub fn load(cfg: &RulesConfig, base: Option<&Path>) -> anyhow::Result<LoadedRules> {
    let mut packs: Vec<(String, PackFile)> = Vec::new();
    for p in &cfg.packs {
        if let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| n == p) {
            packs.push((p.clone(), parse_pack(text, &format!("built-in pack {p}"))?));
            continue;
        }
        let path = base.map_or_else(|| PathBuf::from(p), |b| b.join(p));
        if !path.is_file() {
            let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
            anyhow::bail!("[rules] packs: {p:?} is neither a built-in pack ({}) nor a file", names.join(", "));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("reading pack {}: {e}", path.display()))?;
        let name = path.file_stem().map_or_else(|| p.clone(), |s| s.to_string_lossy().into_owned());
        packs.push((name, parse_pack(&text, &path.display().to_string())?));
    }
    packs.push((
        "config".into(),
        PackFile { params: BTreeMap::new(), rule: cfg.rule.clone(), metric_filter: cfg.metric_filter.clone(), alarm: cfg.alarm.clone() },
    ));

    let mut out = LoadedRules::default();
    let mut idle_metrics: Vec<(String, String, String)> = Vec::new();
    // Every rule and alarm by its `pack/name`: what a `disable` entry may name, each name once.
    let mut names: Vec<String> = Vec::new();
    for (pack, file) in &packs {
        let mut seen = std::collections::BTreeSet::new();
        for name in file.rule.iter().map(|r| &r.name).chain(file.alarm.iter().map(|a| &a.alarm_name)) {
            if !seen.insert(name) {
                // Alerts are keyed by this name: two rules sharing it would lose one's alerts.
                anyhow::bail!("{pack}/{name} is defined twice: rule and alarm names must be unique within a pack");
            }
            names.push(format!("{pack}/{name}"));
        }
    }
    for d in &cfg.disable {
        if !names.iter().any(|n| n == d || n.strip_prefix("config/") == Some(d.as_str())) {
            let near = names.iter().min_by_key(|n| strsim::levenshtein(n, d)).filter(|n| strsim::levenshtein(n, d) <= 3);
            anyhow::bail!(
                "[rules] disable: {d:?} names no rule or alarm of the enabled packs{}",
                near.map(|n| format!(" (did you mean {n:?}?)")).unwrap_or_default()
            );
        }
    }
    for (pack, file) in packs {
        let mut values: BTreeMap<String, Vec<String>> = file.params.into_iter().map(|(k, v)| (k, v.into_list())).collect();
        for (k, v) in &cfg.params {
            values.insert(k.clone(), v.clone().into_list());
        }
        let full = |name: &str| format!("{pack}/{name}");
        let off = |name: &str| cfg.disable.iter().any(|d| *d == full(name) || (pack == "config" && d == name));
        for mut rule in file.rule {
            if off(&rule.name) {
                out.disabled.push((full(&rule.name), "rule"));
                continue;
            }
            match expand(&pack, &rule.name, &rule.pattern, &values)? {
                Expanded::Pattern(p) => {
                    rule.pattern = p;
                    out.rules.push((pack.clone(), rule));
                }
                Expanded::NeedsParam(param) => out.inactive.push(Inactive { what: full(&rule.name), kind: "rule", param }),
            }
        }
        for mut mf in file.metric_filter {
            match expand(&pack, &mf.filter_name, &mf.filter_pattern, &values)? {
                Expanded::Pattern(p) => {
                    mf.filter_pattern = p;
                    out.metric_filters.push((pack.clone(), mf));
                }
                Expanded::NeedsParam(param) => {
                    idle_metrics.push((mf.metric_namespace.clone(), mf.metric_name.clone(), param.clone()));
                    out.inactive.push(Inactive { what: full(&mf.filter_name), kind: "metric_filter", param });
                }
            }
        }
        for alarm in file.alarm {
            if off(&alarm.alarm_name) {
                out.disabled.push((full(&alarm.alarm_name), "alarm"));
                continue;
            }
            // An alarm on a metric only an inactive filter publishes is inactive too.
            let published =
                out.metric_filters.iter().any(|(_, f)| f.metric_namespace == alarm.namespace && f.metric_name == alarm.metric_name);
            match idle_metrics.iter().find(|(ns, m, _)| !published && *ns == alarm.namespace && *m == alarm.metric_name) {
                Some((_, _, param)) => out.inactive.push(Inactive { what: full(&alarm.alarm_name), kind: "alarm", param: param.clone() }),
                None => out.alarms.push((pack.clone(), alarm)),
            }
        }
    }
    Ok(out)
}

fn expand(pack: &str, name: &str, pattern: &str, values: &BTreeMap<String, Vec<String>>) -> anyhow::Result<Expanded> {
    // AWS's limit holds for the pattern as written; lists of accounts may make its expansion longer.
    if pattern.len() > crate::rules::pattern::MAX_PATTERN_LEN {
        crate::rules::pattern::FilterPattern::parse(pattern).map_err(|e| anyhow::anyhow!("{pack}/{name}: {e}"))?;
    }
    params::expand(pattern, values).map_err(|e| anyhow::anyhow!("{pack}/{name}: {e}"))
}

fn parse_pack(text: &str, origin: &str) -> anyhow::Result<PackFile> {
    toml::from_str(text).map_err(|e| crate::toml_error::toml_error(text, origin, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disable_entries_must_name_something_and_names_are_unique() {
        let cfg = |disable: &str| RulesConfig { packs: vec!["cis".into()], disable: vec![disable.into()], ..RulesConfig::default() };
        assert!(load(&cfg("cis/unauthorized_api_calls"), None).is_ok());
        let e = load(&cfg("cis/unauthorised_api_calls"), None).unwrap_err().to_string();
        assert!(e.contains("names no rule or alarm") && e.contains("did you mean \"cis/unauthorized_api_calls\""), "{e}");
        let e = load(&cfg("nothing/like/it"), None).unwrap_err().to_string();
        assert!(!e.contains("did you mean"), "{e}");
        let twice: RulesConfig =
            toml::from_str("[[rule]]\nname = \"r\"\npattern = \"x\"\n[[rule]]\nname = \"r\"\npattern = \"y\"\n").unwrap();
        let e = load(&twice, None).unwrap_err().to_string();
        assert!(e.contains("config/r is defined twice"), "{e}");
    }

    #[test]
    fn built_in_packs_load_and_report_what_needs_parameters() {
        let cfg = RulesConfig { packs: vec!["cis".into(), "seed".into()], ..RulesConfig::default() };
        let loaded = load(&cfg, None).unwrap();
        assert_eq!(loaded.alarms.iter().filter(|(p, _)| p == "cis").count(), 15);
        assert_eq!(loaded.metric_filters.iter().filter(|(p, _)| p == "cis").count(), 15);
        // No sensitive bucket named: the bucket-listing filter cannot match anything.
        let inactive: Vec<(&str, &str)> = loaded.inactive.iter().map(|i| (i.what.as_str(), i.param.as_str())).collect();
        assert_eq!(inactive, [("seed/SensitiveBucketListing", "sensitive_buckets"), ("seed/s3_enumeration", "sensitive_buckets")]);
        assert!(loaded.rules.iter().all(|(_, r)| !r.pattern.contains("$pipeline") && !r.pattern.contains("$own")));
        // Every alarm finds its metric.
        let filters: Vec<MetricFilterConfig> = loaded.metric_filters.iter().map(|(_, f)| f.clone()).collect();
        let filters = crate::rules::metric::compile_filters(&filters).unwrap();
        let alarms: Vec<AlarmConfig> = loaded.alarms.iter().map(|(_, a)| a.clone()).collect();
        crate::rules::alarm::compile_alarms(&alarms, &filters).unwrap();
    }

    #[test]
    fn user_params_override_defaults_and_disable_drops_rules() {
        let cfg: RulesConfig = toml::from_str(
            "packs = [\"seed\"]\ndisable = [\"seed/resource_shared_externally\"]\n[params]\npipeline_principals = \"ci\"\nsensitive_buckets = [\"b\"]\n",
        )
        .unwrap();
        let loaded = load(&cfg, None).unwrap();
        assert!(loaded.inactive.is_empty());
        let names: Vec<&str> = loaded.rules.iter().map(|(_, r)| r.name.as_str()).collect();
        assert_eq!(names, ["ec2_outside_pipeline"]);
        assert!(loaded.rules[0].1.pattern.contains(r#"$.userIdentity.userName != "ci""#), "{}", loaded.rules[0].1.pattern);
    }

    #[test]
    fn unknown_packs_and_parameters_are_errors() {
        let cfg = RulesConfig { packs: vec!["nope".into()], ..RulesConfig::default() };
        assert!(load(&cfg, None).unwrap_err().to_string().contains("neither a built-in pack"));
        let cfg: RulesConfig = toml::from_str("[[rule]]\nname = \"r\"\npattern = '{ $.a = $missing }'\n").unwrap();
        assert!(load(&cfg, None).unwrap_err().to_string().contains("config/r: unknown parameter $missing"));
    }
}
