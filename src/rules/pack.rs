//! Rule packs: plain TOML files of rules, metric filters and alarms, with parameters. Two ship
//! inside the binary (`packs/cis.toml`, `packs/seed.toml`); users enable them by name, point at
//! their own files, or write rules straight into the `[rules]` section of their config.

use super::alarm::AlarmConfig;
use super::metric::MetricFilterConfig;
use super::params::Expanded;
use super::validate::{self, Origin};
use crate::alert::Severity;
use crate::toml_error::{ValueError, toml_path};
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
    /// Parameters the rule means nothing without: while any is empty the rule is inactive
    /// (`ec2_outside_pipeline` with no pipeline named would alert on every launch).
    #[serde(default)]
    pub requires: Vec<String>,
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
/// Every error points at what it is about: a pack file's by its file, line and column; the
/// config's (`[rules]`) as a [`ValueError`] that `Config` locates in the config file.
pub fn load(cfg: &RulesConfig, base: Option<&Path>) -> anyhow::Result<LoadedRules> {
    let mut packs: Vec<(String, PackFile, Origin)> = Vec::new();
    for (i, p) in cfg.packs.iter().enumerate() {
        if let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| n == p) {
            packs.push((p.clone(), parse_pack(text, &format!("built-in pack {p}"))?, Origin::BuiltIn(p.clone())));
            continue;
        }
        let at = || toml_path!["rules", "packs", i];
        let path = base.map_or_else(|| PathBuf::from(p), |b| b.join(p));
        if !path.is_file() {
            let names = BUILT_IN.iter().map(|(n, _)| *n);
            let near = crate::toml_error::did_you_mean(crate::toml_error::nearest(p, names.clone()));
            let m = format!("[rules] packs: {p:?} is neither a built-in pack ({}) nor a file{near}", names.collect::<Vec<_>>().join(", "));
            return Err(ValueError::new(at(), m).into());
        }
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| ValueError::new(at(), format!("reading pack {shown}: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| crate::toml_error::invalid_utf8(e.as_bytes(), &shown, &e.utf8_error()))?;
        let name = path.file_stem().map_or_else(|| p.clone(), |s| s.to_string_lossy().into_owned());
        let file = parse_pack(&text, &shown)?;
        packs.push((name, file, Origin::File { path: shown, text }));
    }
    packs.push((
        "config".into(),
        PackFile { params: BTreeMap::new(), rule: cfg.rule.clone(), metric_filter: cfg.metric_filter.clone(), alarm: cfg.alarm.clone() },
        Origin::Config,
    ));
    check_names(&packs, &cfg.disable)?;
    {
        let declared: Vec<&str> = packs.iter().flat_map(|(_, f, _)| f.params.keys().map(String::as_str)).collect();
        let patterns: Vec<&str> = packs
            .iter()
            .flat_map(|(_, f, _)| {
                f.rule.iter().map(|r| r.pattern.as_str()).chain(f.metric_filter.iter().map(|m| m.filter_pattern.as_str()))
            })
            .collect();
        validate::params(&cfg.params, &declared, &patterns)?;
    }

    let mut out = LoadedRules::default();
    let mut idle_metrics: Vec<(String, String, String)> = Vec::new();
    for (pack, file, origin) in &packs {
        let mut values: BTreeMap<String, Vec<String>> = file.params.iter().map(|(k, v)| (k.clone(), v.clone().into_list())).collect();
        for (k, v) in &cfg.params {
            values.insert(k.clone(), v.clone().into_list());
        }
        let full = |name: &str| format!("{pack}/{name}");
        let off = |name: &str| cfg.disable.iter().any(|d| *d == full(name) || (pack == "config" && d == name));
        for (i, rule) in file.rule.iter().enumerate() {
            if off(&rule.name) {
                out.disabled.push((full(&rule.name), "rule"));
                continue;
            }
            if let Some(param) = unset_requirement(origin, i, &full(&rule.name), rule, &values)? {
                out.inactive.push(Inactive { what: full(&rule.name), kind: "rule", param });
                continue;
            }
            let at = toml_path!["rule", i, "pattern"];
            match validate::pattern(origin, at, &format!("rule {}", full(&rule.name)), &rule.pattern, &values)? {
                Expanded::Pattern(p) => out.rules.push((pack.clone(), RuleConfig { pattern: p, ..rule.clone() })),
                Expanded::NeedsParam(param) => out.inactive.push(Inactive { what: full(&rule.name), kind: "rule", param }),
            }
        }
        for (i, mf) in file.metric_filter.iter().enumerate() {
            let at = toml_path!["metric_filter", i, "filter_pattern"];
            match validate::pattern(origin, at, &format!("metric filter {}", full(&mf.filter_name)), &mf.filter_pattern, &values)? {
                Expanded::Pattern(p) => out.metric_filters.push((pack.clone(), MetricFilterConfig { filter_pattern: p, ..mf.clone() })),
                Expanded::NeedsParam(param) => {
                    idle_metrics.push((mf.metric_namespace.clone(), mf.metric_name.clone(), param.clone()));
                    out.inactive.push(Inactive { what: full(&mf.filter_name), kind: "metric_filter", param });
                }
            }
        }
        for alarm in &file.alarm {
            if off(&alarm.alarm_name) {
                out.disabled.push((full(&alarm.alarm_name), "alarm"));
                continue;
            }
            // An alarm on a metric only an inactive filter publishes is inactive too.
            let published =
                out.metric_filters.iter().any(|(_, f)| f.metric_namespace == alarm.namespace && f.metric_name == alarm.metric_name);
            match idle_metrics.iter().find(|(ns, m, _)| !published && *ns == alarm.namespace && *m == alarm.metric_name) {
                Some((_, _, param)) => out.inactive.push(Inactive { what: full(&alarm.alarm_name), kind: "alarm", param: param.clone() }),
                None => out.alarms.push((pack.clone(), alarm.clone())),
            }
        }
    }
    // Every filter and every alarm not disabled, active or waiting for a parameter: a mistake
    // is reported before the parameter that would reveal it is set.
    let filters: Vec<_> = packs.iter().flat_map(|(_, f, o)| f.metric_filter.iter().enumerate().map(move |(i, m)| (o, i, m))).collect();
    let alarms: Vec<_> = packs
        .iter()
        .flat_map(|(pack, f, o)| f.alarm.iter().enumerate().map(move |(i, a)| (pack, o, i, a)))
        .filter(|(pack, _, _, a)| !out.disabled.iter().any(|(n, k)| *k == "alarm" && *n == format!("{pack}/{}", a.alarm_name)))
        .map(|(_, o, i, a)| (o, i, a))
        .collect();
    validate::metrics(&filters, &alarms)?;
    Ok(out)
}

/// The first parameter in the rule's `requires` that has no value (an undeclared one is an error:
/// a typo there would leave the rule inactive for ever).
fn unset_requirement(
    origin: &Origin,
    i: usize,
    full: &str,
    rule: &RuleConfig,
    values: &BTreeMap<String, Vec<String>>,
) -> anyhow::Result<Option<String>> {
    for (j, name) in rule.requires.iter().enumerate() {
        match values.get(name) {
            None => {
                let m = format!("rule {full} requires unknown parameter {name:?} (declare it under [params])");
                return Err(origin.error(ValueError::new(toml_path!["rule", i, "requires", j], m)));
            }
            Some(v) if v.is_empty() => return Ok(Some(name.clone())),
            Some(_) => {}
        }
    }
    Ok(None)
}

/// Rule and alarm names are unique within a pack, and every `disable` entry names one of them.
fn check_names(packs: &[(String, PackFile, Origin)], disable: &[String]) -> anyhow::Result<()> {
    let mut names: Vec<String> = Vec::new();
    for (pack, file, origin) in packs {
        let mut seen = std::collections::BTreeSet::new();
        let rules = file.rule.iter().enumerate().map(|(i, r)| (toml_path!["rule", i, "name"], &r.name));
        let alarms = file.alarm.iter().enumerate().map(|(i, a)| (toml_path!["alarm", i, "alarm_name"], &a.alarm_name));
        for (at, name) in rules.chain(alarms) {
            if !seen.insert(name) {
                // Alerts are keyed by this name: two rules sharing it would lose one's alerts.
                let m = format!("{pack}/{name} is defined twice: rule and alarm names must be unique within a pack");
                return Err(origin.error(ValueError::new(at, m)));
            }
            names.push(format!("{pack}/{name}"));
        }
    }
    for (i, d) in disable.iter().enumerate() {
        if !names.iter().any(|n| n == d || n.strip_prefix("config/") == Some(d.as_str())) {
            let near = crate::toml_error::nearest(d, names.iter().map(String::as_str));
            let m = format!("[rules] disable: {d:?} names no rule or alarm of the enabled packs{}", crate::toml_error::did_you_mean(near));
            return Err(ValueError::new(toml_path!["rules", "disable", i], m).into());
        }
    }
    Ok(())
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
        assert_eq!(
            inactive,
            [
                ("seed/ec2_outside_pipeline", "pipeline_principals"),
                ("seed/SensitiveBucketListing", "sensitive_buckets"),
                ("seed/s3_enumeration", "sensitive_buckets")
            ]
        );
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
    fn a_rule_waits_for_the_parameters_it_requires() {
        let rule = "[[rule]]\nname = \"r\"\npattern = '{ $.a != $p }'\nrequires = [\"p\"]\n";
        let pack = |p: &str| -> RulesConfig { toml::from_str(&format!("[params]\np = {p}\n{rule}")).unwrap() };
        let loaded = load(&pack("[]"), None).unwrap();
        assert!(loaded.rules.is_empty());
        assert_eq!(loaded.inactive, [Inactive { what: "config/r".into(), kind: "rule", param: "p".into() }]);
        let loaded = load(&pack("[\"x\"]"), None).unwrap();
        assert_eq!(loaded.rules.len(), 1);
        assert!(loaded.inactive.is_empty());
        let typo: RulesConfig = toml::from_str(&rule.replace("[\"p\"]", "[\"q\"]")).unwrap();
        let e = load(&typo, None).unwrap_err().to_string();
        assert!(e.contains("rule config/r requires unknown parameter \"q\""), "{e}");
    }

    #[test]
    fn unknown_packs_and_parameters_are_errors() {
        let cfg = RulesConfig { packs: vec!["nope".into()], ..RulesConfig::default() };
        assert!(load(&cfg, None).unwrap_err().to_string().contains("neither a built-in pack"));
        let cfg: RulesConfig = toml::from_str("[[rule]]\nname = \"r\"\npattern = '{ $.a = $missing }'\n").unwrap();
        assert!(load(&cfg, None).unwrap_err().to_string().contains("config/r: unknown parameter $missing"));
    }
}
