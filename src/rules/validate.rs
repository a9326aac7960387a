//! The checks `pack::load` makes beyond what serde checks, each pointing at the value it is
//! about: a pack file's errors carry that file's line and column, the config's own rules and
//! `[rules]` lists become [`ValueError`]s that `Config` locates in the config file. Everything is
//! checked once, at load, so `trailhound rules --config` refuses exactly what `scan` would.

use super::alarm::{Alarm, AlarmConfig};
use super::metric::{MetricFilter, MetricFilterConfig};
use super::params::{self, Expanded};
use super::pattern::FilterPattern;
use crate::toml_error::{Step, Target, ValueError, locate, toml_path};
use std::collections::BTreeMap;

/// Where a pack came from, so that its errors can point into it.
pub(super) enum Origin {
    BuiltIn(String),
    File {
        path: String,
        text: String,
    },
    /// The config's own `[rules]`.
    Config,
}

impl Origin {
    /// An error about the value at `e.path` inside this pack.
    pub(super) fn error(&self, e: ValueError) -> anyhow::Error {
        match self {
            Origin::Config => e.under(toml_path!["rules"]).into(),
            Origin::File { path, text } => locate(text, path, e.into()),
            Origin::BuiltIn(name) => anyhow::anyhow!("built-in pack {name}: {e}"),
        }
    }
}

/// Expands a rule's or filter's pattern and checks it, pointing at the fault inside the pattern
/// as written (`at` is the pattern's path in the pack).
pub(super) fn pattern(
    origin: &Origin,
    at: Vec<Step>,
    what: &str,
    pattern: &str,
    values: &BTreeMap<String, Vec<String>>,
) -> anyhow::Result<Expanded> {
    let fail = |message: String, target: Target| origin.error(ValueError::new(at.clone(), format!("{what}: {message}")).at(target));
    let expanded = params::expand(pattern, values).map_err(|e| fail(e.to_string(), Target::Within(e.position())))?;
    // Parameters stand in as strings of their own length, so a position is one in the text the
    // user wrote; AWS's length limit holds for it too (lists of accounts may make an expansion
    // longer).
    FilterPattern::parse(&params::placeholders(pattern)).map_err(|e| fail(e.to_string(), Target::Within(e.position)))?;
    if let Expanded::Pattern(p) = &expanded {
        FilterPattern::parse_expanded(p).map_err(|e| fail(format!("after expanding its parameters: {e}"), Target::Value))?;
    }
    Ok(expanded)
}

/// Every `[rules.params]` key names a parameter some enabled pack declares or uses.
pub(super) fn params(given: &BTreeMap<String, super::pack::ParamValue>, declared: &[&str], patterns: &[&str]) -> Result<(), ValueError> {
    let used: Vec<&str> = patterns.iter().flat_map(|p| params::references(p).into_iter().map(move |r| &p[r.start + 1..r.end])).collect();
    let known = || declared.iter().chain(&used).copied();
    for key in given.keys() {
        if !known().any(|k| k == key) {
            return Err(ValueError::new(
                toml_path!["rules", "params", key.as_str()],
                format!(
                    "[rules.params] {key:?} is a parameter of no enabled pack or rule{}",
                    crate::toml_error::did_you_mean(crate::toml_error::nearest(key, known()))
                ),
            )
            .at(Target::Key));
        }
    }
    Ok(())
}

/// Compiles every metric filter and alarm (each with its origin and index in its pack), so that
/// each error names the field it is about. Filter and alarm names are unique across packs.
pub(super) fn metrics(filters: &[(&Origin, usize, &MetricFilterConfig)], alarms: &[(&Origin, usize, &AlarmConfig)]) -> anyhow::Result<()> {
    let mut compiled: Vec<MetricFilter> = Vec::with_capacity(filters.len());
    for (origin, i, f) in filters {
        if compiled.iter().any(|c| c.name == f.filter_name) {
            let m = format!("metric filter {:?} is defined twice: filter names are unique across the enabled packs", f.filter_name);
            return Err(origin.error(ValueError::new(toml_path!["metric_filter", *i, "filter_name"], m)));
        }
        compiled.push(MetricFilter::compile(f).map_err(|e| origin.error(e.under(toml_path!["metric_filter", *i])))?);
    }
    let mut names = std::collections::HashSet::new();
    for (origin, i, a) in alarms {
        if !names.insert(a.alarm_name.as_str()) {
            let m = format!("alarm {:?} is defined twice: alarm names are unique across the enabled packs", a.alarm_name);
            return Err(origin.error(ValueError::new(toml_path!["alarm", *i, "alarm_name"], m)));
        }
        Alarm::compile(a, &compiled).map_err(|e| origin.error(e.under(toml_path!["alarm", *i])))?;
    }
    Ok(())
}
