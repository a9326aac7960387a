//! CloudWatch alarms over metric-filter metrics, evaluated in event time.
//!
//! `eval` is the pure part (one evaluation, and a series of them minute by minute); `apply`
//! merges a batch's datapoints into the store, re-evaluates what the batch can have changed and
//! raises an alert per new transition. docs/alarms.md describes the semantics.

pub(crate) mod apply;
pub(crate) mod eval;

pub(crate) use apply::{AlarmApplyStats, apply};

use super::metric::{DEFAULT_NAMESPACE, MetricFilter, metric_id};
use crate::alert::Severity;
use crate::toml_error::{Target, ValueError, toml_path};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// `Statistic` of PutMetricAlarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
}

/// `ComparisonOperator` of PutMetricAlarm (static thresholds).
#[allow(clippy::enum_variant_names)] // AWS's names, read from configs as they are
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl Statistic {
    /// The PutMetricAlarm name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::SampleCount => "SampleCount",
            Statistic::Average => "Average",
            Statistic::Sum => "Sum",
            Statistic::Minimum => "Minimum",
            Statistic::Maximum => "Maximum",
        }
    }
}

impl ComparisonOperator {
    /// The PutMetricAlarm name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            ComparisonOperator::GreaterThanThreshold => "GreaterThanThreshold",
            ComparisonOperator::LessThanThreshold => "LessThanThreshold",
            ComparisonOperator::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
        }
    }

    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => value >= threshold,
            ComparisonOperator::GreaterThanThreshold => value > threshold,
            ComparisonOperator::LessThanThreshold => value < threshold,
            ComparisonOperator::LessThanOrEqualToThreshold => value <= threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => ">=",
            ComparisonOperator::GreaterThanThreshold => ">",
            ComparisonOperator::LessThanThreshold => "<",
            ComparisonOperator::LessThanOrEqualToThreshold => "<=",
        }
    }
}

/// `TreatMissingData` of PutMetricAlarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    #[default]
    Missing,
    Ignore,
    Breaching,
    NotBreaching,
}

impl TreatMissingData {
    /// The PutMetricAlarm name (as serde writes it).
    pub fn as_str(self) -> &'static str {
        match self {
            TreatMissingData::Missing => "missing",
            TreatMissingData::Ignore => "ignore",
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::NotBreaching => "notBreaching",
        }
    }
}

/// An alarm's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum State {
    Ok,
    Alarm,
    InsufficientData,
}

impl State {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Alarm => "ALARM",
            State::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<State> {
        [State::Ok, State::Alarm, State::InsufficientData].into_iter().find(|st| st.as_str() == s)
    }
}

/// One alarm as configured: PutMetricAlarm's fields in snake_case, plus how trailhound alerts.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmConfig {
    pub alarm_name: String,
    pub alarm_description: Option<String>,
    pub metric_name: String,
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Dimension values selecting series. Naming every dimension of the metric selects one series;
    /// naming fewer (or none) evaluates each matching series as its own alarm.
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// Seconds, a multiple of 60.
    pub period: u32,
    pub evaluation_periods: u32,
    /// M of N; defaults to `evaluation_periods`.
    pub datapoints_to_alarm: Option<u32>,
    pub statistic: Statistic,
    pub comparison_operator: ComparisonOperator,
    pub threshold: f64,
    #[serde(default)]
    pub treat_missing_data: TreatMissingData,
    /// The severity of the alerts this alarm raises.
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// Also alert when the alarm goes from ALARM back to OK.
    #[serde(default)]
    pub alert_on_ok: bool,
}

fn default_namespace() -> String {
    DEFAULT_NAMESPACE.into()
}
fn default_severity() -> Severity {
    Severity::Medium
}

/// A validated alarm.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Alarm {
    pub config: AlarmConfig,
    /// The metric's store key (`namespace:name`).
    pub metric: String,
    /// M.
    pub datapoints_to_alarm: u32,
    /// Period in milliseconds.
    pub period_ms: i64,
    /// True when the dimensions name one series (all of the metric's dimensions, or it has none):
    /// that series exists from the start of the data. Otherwise each series is alarmed from its
    /// first datapoint.
    pub single_series: bool,
    /// The metric's default value, published in minutes with events but no match.
    pub default_value: Option<f64>,
    /// A digest of the definition: a changed alarm is evaluated afresh.
    pub definition: String,
    /// `(name, pattern)` of the metric filters publishing the metric: what the alarm counts.
    pub filters: Vec<(String, String)>,
    /// Some dimension of the metric is a `userIdentity` field: each series is one caller's.
    pub caller_dimension: bool,
}

/// Datapoints an evaluation looks at beyond N (the evaluation range is N + 2, as in the
/// documentation's tables, where N = 3 gives a range of 5).
pub(crate) const EXTRA_DATAPOINTS: u32 = 2;

impl Alarm {
    /// Validates an alarm against PutMetricAlarm's rules and the configured metric filters.
    pub(crate) fn compile(c: &AlarmConfig, filters: &[MetricFilter]) -> Result<Alarm, ValueError> {
        // Each check names the field it is about (its path inside the alarm's table).
        let err = |field: &str, m: String| ValueError::new(toml_path![field], format!("alarm {:?}: {m}", c.alarm_name));
        if c.alarm_name.is_empty() || c.alarm_name.chars().count() > 255 {
            return Err(err("alarm_name", "alarm_name must be 1 to 255 characters".into()));
        }
        if c.period < 60 || !c.period.is_multiple_of(60) {
            return Err(err(
                "period",
                format!("period {} must be a multiple of 60 seconds (high-resolution periods do not apply)", c.period),
            ));
        }
        if c.evaluation_periods == 0 {
            return Err(err("evaluation_periods", "evaluation_periods must be at least 1".into()));
        }
        if u64::from(c.evaluation_periods) * u64::from(c.period) > 86_400 {
            return Err(err("evaluation_periods", "evaluation_periods × period cannot exceed one day".into()));
        }
        let m = c.datapoints_to_alarm.unwrap_or(c.evaluation_periods);
        if m == 0 || m > c.evaluation_periods {
            return Err(err(
                "datapoints_to_alarm",
                format!("datapoints_to_alarm {m} must be between 1 and evaluation_periods ({})", c.evaluation_periods),
            ));
        }
        if !c.threshold.is_finite() {
            return Err(err("threshold", "threshold must be a finite number".into()));
        }
        let metric = metric_id(&c.namespace, &c.metric_name);
        let publishers: Vec<&MetricFilter> = filters.iter().filter(|f| f.metric == metric).collect();
        if publishers.is_empty() {
            return Err(err(
                "metric_name",
                format!("no metric filter publishes metric {:?} in namespace {:?}", c.metric_name, c.namespace),
            ));
        }
        let metric_dims: HashSet<&str> = publishers.iter().flat_map(|f| f.dimensions.iter().map(|(n, _)| n.as_str())).collect();
        for name in c.dimensions.keys() {
            if !metric_dims.contains(name.as_str()) {
                let m = format!("alarm {:?}: metric {:?} has no dimension {name:?}", c.alarm_name, c.metric_name);
                return Err(ValueError::new(toml_path!["dimensions", name.as_str()], m).at(Target::Key));
            }
        }
        let single_series = metric_dims.len() == c.dimensions.len();
        let definition = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(serde_json::to_string(c).unwrap_or_default().as_bytes()));
        let default_value = publishers.iter().find_map(|f| f.default_value);
        Ok(Alarm {
            config: c.clone(),
            metric,
            datapoints_to_alarm: m,
            period_ms: i64::from(c.period) * 1000,
            single_series,
            default_value,
            definition,
            filters: publishers.iter().map(|f| (f.name.clone(), f.pattern.clone())).collect(),
            caller_dimension: publishers
                .iter()
                .flat_map(|f| &f.dimensions)
                .any(|(_, p)| matches!(p.segments.first(), Some(crate::event::lookup::Segment::Key(k)) if k == "userIdentity")),
        })
    }

    /// N.
    pub(crate) fn evaluation_periods(&self) -> u32 {
        self.config.evaluation_periods
    }

    /// Datapoints fetched per evaluation.
    pub(crate) fn range(&self) -> u32 {
        self.config.evaluation_periods + EXTRA_DATAPOINTS
    }

    /// The time one evaluation looks back over (range × period), in ms.
    pub(crate) fn span(&self) -> i64 {
        i64::from(self.range()) * self.period_ms
    }

    /// Whether a series (canonical dimensions JSON) is one this alarm watches.
    pub(crate) fn watches(&self, dimensions: &str) -> bool {
        let Ok(dims) = serde_json::from_str::<BTreeMap<String, String>>(dimensions) else { return false };
        self.config.dimensions.iter().all(|(k, v)| dims.get(k) == Some(v))
    }
}

/// Validates every alarm; names must be unique.
pub(crate) fn compile_alarms(configs: &[AlarmConfig], filters: &[MetricFilter]) -> anyhow::Result<Vec<Alarm>> {
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(configs.len());
    for c in configs {
        if !names.insert(c.alarm_name.as_str()) {
            anyhow::bail!("alarm {:?} is defined twice", c.alarm_name);
        }
        out.push(Alarm::compile(c, filters)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
