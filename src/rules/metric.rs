//! Metric filters: each event that matches a filter publishes one value to a metric, aggregated
//! per minute of event time into CloudWatch's datapoint statistics (sum, sample count, min, max).
//!
//! [`MetricBatch`] is the parallel part: one per worker, folded with [`MetricBatch::merge`]. It
//! never sees the filter pattern; the caller says which filters an event matched.

use crate::event::Record;
use crate::event::lookup::{FieldLookup, FieldPath};
use crate::event::value::Value;
use crate::store::metrics::{MetricSample, PendingPoint, PointKey, Published};
use crate::toml_error::{Target, ValueError, toml_path};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

pub(crate) const MINUTE: i64 = 60_000;

/// Distinct dimension combinations one metric may have in one batch; events for further
/// combinations are dropped and counted. AWS disables a filter at 1000 name/value pairs.
pub(crate) const MAX_SERIES_PER_METRIC: usize = 1000;

/// Units PutMetricFilter accepts (`StandardUnit`).
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// The namespace of metrics whose filter names none.
pub(crate) const DEFAULT_NAMESPACE: &str = "trailhound";

/// One metric filter as configured: PutMetricFilter's fields and its one `MetricTransformation`,
/// in snake_case.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricFilterConfig {
    pub filter_name: String,
    /// The CloudWatch Logs filter pattern, verbatim.
    pub filter_pattern: String,
    pub metric_name: String,
    #[serde(default = "default_namespace")]
    pub metric_namespace: String,
    /// A number (`"1"`) or a field (`"$.requestParameters.maxResults"`).
    #[serde(default = "default_metric_value")]
    pub metric_value: String,
    /// Published, once, in each minute that had events but no match.
    pub default_value: Option<f64>,
    /// Dimension name to field (`$.eventName`), at most three.
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    pub unit: Option<String>,
}

fn default_namespace() -> String {
    DEFAULT_NAMESPACE.into()
}
fn default_metric_value() -> String {
    "1".into()
}

/// What a match publishes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MetricValue {
    Constant(f64),
    /// A numeric field; an event where it is missing or not a number publishes nothing.
    Field(FieldPath),
}

/// A validated metric filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetricFilter {
    pub name: String,
    pub pattern: String,
    /// `namespace:name` (neither may contain `:`), the key datapoints are stored under.
    pub metric: String,
    pub value: MetricValue,
    pub default_value: Option<f64>,
    /// Sorted by dimension name.
    pub dimensions: Vec<(String, FieldPath)>,
    pub unit: Option<String>,
}

/// The store key of a metric.
pub(crate) fn metric_id(namespace: &str, name: &str) -> String {
    format!("{namespace}:{name}")
}

fn check_name(what: &'static str, s: &str) -> Result<(), ValueError> {
    if s.is_empty() || s.chars().count() > 255 || s.contains([':', '*', '$']) {
        return Err(ValueError::new(toml_path![what], format!("{what} {s:?} must be 1 to 255 characters without `:`, `*` or `$`")));
    }
    Ok(())
}

impl MetricFilter {
    /// Validates a configured filter with PutMetricFilter's rules. An error names the field it is
    /// about (its path inside the filter's table).
    pub(crate) fn compile(c: &MetricFilterConfig) -> Result<MetricFilter, ValueError> {
        let err = |field: &str, m: String| ValueError::new(toml_path![field], format!("metric filter {:?}: {m}", c.filter_name));
        if c.filter_name.is_empty() || c.filter_name.chars().count() > 512 {
            return Err(err("filter_name", "filter_name must be 1 to 512 characters".into()));
        }
        // The pattern's length is checked as written, before its parameters are expanded
        // (`rules::validate::pattern`): this is the expanded pattern, which may be longer.
        let named = |e: ValueError| ValueError { message: format!("metric filter {:?}: {}", c.filter_name, e.message), ..e };
        check_name("metric_name", &c.metric_name).map_err(named)?;
        check_name("metric_namespace", &c.metric_namespace).map_err(named)?;
        let v = c.metric_value.trim();
        if v.is_empty() || v.chars().count() > 100 {
            return Err(err("metric_value", "metric_value must be 1 to 100 characters".into()));
        }
        let value = if v.starts_with('$') {
            MetricValue::Field(FieldPath::parse(v).map_err(|m| err("metric_value", m))?)
        } else {
            match v.parse::<f64>() {
                Ok(n) if n.is_finite() => MetricValue::Constant(n),
                _ => return Err(err("metric_value", format!("metric_value {v:?} is neither a number nor a `$.field`"))),
            }
        };
        if c.dimensions.len() > 3 {
            return Err(err("dimensions", "at most 3 dimensions".into()));
        }
        if !c.dimensions.is_empty() && c.default_value.is_some() {
            return Err(err("default_value", "a metric with dimensions cannot have a default_value (as in CloudWatch)".into()));
        }
        if c.default_value.is_some_and(|d| !d.is_finite()) {
            return Err(err("default_value", "default_value must be a finite number".into()));
        }
        let mut dimensions = Vec::new();
        for (name, field) in &c.dimensions {
            let dim_err =
                |m: String| ValueError::new(toml_path!["dimensions", name.as_str()], format!("metric filter {:?}: {m}", c.filter_name));
            if name.is_empty() || name.chars().count() > 255 {
                return Err(dim_err(format!("dimension name {name:?} must be 1 to 255 characters")).at(Target::Key));
            }
            if !field.trim().starts_with('$') {
                return Err(dim_err(format!("dimension {name:?} must name a field (`$.eventName`), not {field:?}")));
            }
            dimensions.push((name.clone(), FieldPath::parse(field).map_err(dim_err)?));
        }
        if let Some(u) = &c.unit
            && !UNITS.contains(&u.as_str())
        {
            return Err(err("unit", format!("unit {u:?} is not a CloudWatch unit ({})", UNITS.join(", "))));
        }
        Ok(MetricFilter {
            name: c.filter_name.clone(),
            pattern: c.filter_pattern.clone(),
            metric: metric_id(&c.metric_namespace, &c.metric_name),
            value,
            default_value: c.default_value,
            dimensions,
            unit: c.unit.clone(),
        })
    }
}

/// Validates every filter; filter names must be unique.
pub(crate) fn compile_filters(configs: &[MetricFilterConfig]) -> anyhow::Result<Arc<[MetricFilter]>> {
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(configs.len());
    for c in configs {
        if !names.insert(c.filter_name.as_str()) {
            anyhow::bail!("metric filter {:?} is defined twice", c.filter_name);
        }
        out.push(MetricFilter::compile(c)?);
    }
    Ok(out.into())
}

/// What a batch did besides datapoints. Nothing is dropped without being counted here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct MetricStats {
    pub events: u64,
    pub events_without_time: u64,
    pub matches: u64,
    /// Matches whose `$.field` metric value was missing or not a number: nothing published.
    pub no_value: u64,
    /// Matches where a dimension field was missing or not a scalar: nothing published.
    pub no_dimension: u64,
    /// Matches dropped because their metric had [`MAX_SERIES_PER_METRIC`] combinations already.
    pub over_cardinality: u64,
}

impl MetricStats {
    /// Adds `o`'s counts.
    pub(crate) fn merge(&mut self, o: &MetricStats) {
        self.events += o.events;
        self.events_without_time += o.events_without_time;
        self.matches += o.matches;
        self.no_value += o.no_value;
        self.no_dimension += o.no_dimension;
        self.over_cardinality += o.over_cardinality;
    }
}

/// A worker's datapoints. Memory is one [`Published`] (16 bytes) per match plus five samples per
/// datapoint, and datapoints are bounded by (at most [`MAX_SERIES_PER_METRIC`] dimension
/// combinations per metric) × (minutes the batch spans); events that match nothing cost one
/// counter per minute.
#[derive(Debug, Clone)]
pub(crate) struct MetricBatch {
    filters: Arc<[MetricFilter]>,
    /// Distinct metric ids of the filters, and which one each filter publishes to.
    metrics: Vec<String>,
    filter_metric: Vec<usize>,
    /// Per metric (index into `metrics`): series → minute → datapoint. The keys of a metric's
    /// map are its series, so the cardinality cap is the map's length.
    points: Vec<Series>,
    /// Events per minute: the minutes "logs were ingested", when default values are published
    /// and up to which alarms are evaluated.
    minutes: BTreeMap<i64, u64>,
    /// Reused for each match's series key, so a match on a known series allocates nothing.
    key: Vec<u8>,
    callers: Callers,
    pub stats: MetricStats,
}

/// A series key: each dimension's name and value, length-prefixed. It tells series apart as
/// their canonical JSON does, without escaping anything per match; the JSON is written once,
/// when a series first appears.
type SeriesKey = Box<[u8]>;

/// One series of a batch: its canonical dimensions JSON and its datapoints by minute.
#[derive(Debug, Clone, Default)]
struct SeriesPoints {
    dimensions: String,
    by_minute: BTreeMap<i64, PendingPoint>,
}

impl SeriesPoints {
    fn add(&mut self, t: i64, published: Published, rec: &Record<'_>, callers: &mut Callers) {
        let point = self.by_minute.entry(minute_of(t)).or_default();
        point.values.push(published);
        if let Some(id) = &rec.event_id {
            let principal = callers.principal(rec);
            let principal = principal.as_deref();
            point.offer_sample(t, id, principal, || {
                let text = |v: &Option<crate::event::record::Text<'_>>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
                MetricSample(
                    t,
                    id.to_string(),
                    text(&rec.event_name),
                    principal.map(str::to_string),
                    rec.account().map(str::to_string),
                    text(&rec.aws_region),
                )
            });
        }
    }
}

/// The principal of each caller a worker's matches saw, by `userIdentity` text: normalising an
/// identity allocates five strings (measured: 4,200 instructions, most of a match's cost), and
/// a caller's matches repeat its identity byte for byte. The text is compared, not only hashed,
/// so a hit is exact.
#[derive(Debug, Clone, Default)]
struct Callers {
    /// Hash of the text → the text and its caller.
    map: HashMap<u64, Caller, foldhash::fast::FixedState>,
}

/// A `userIdentity` text and its principal ID (`None` when empty).
type Caller = (Box<str>, Option<Box<str>>);

impl Callers {
    /// Distinct identities kept before the cache starts over.
    const MAX: usize = 4096;

    fn principal<'c>(&'c mut self, rec: &Record<'_>) -> Option<std::borrow::Cow<'c, str>> {
        let id = |rec: &Record<'_>| Some(rec.user_identity.principal().id).filter(|p| !p.is_empty());
        let Some(raw) = rec.user_identity.raw.map(|v| v.get()) else {
            return id(rec).map(std::borrow::Cow::Owned);
        };
        let h = std::hash::BuildHasher::hash_one(self.map.hasher(), raw.as_bytes());
        if !matches!(self.map.get(&h), Some((text, _)) if **text == *raw) {
            if self.map.len() >= Self::MAX {
                self.map.clear();
            }
            self.map.insert(h, (raw.into(), id(rec).map(String::into_boxed_str)));
        }
        self.map.get(&h).and_then(|(_, p)| p.as_deref()).map(std::borrow::Cow::Borrowed)
    }
}

type Series = HashMap<SeriesKey, SeriesPoints, foldhash::fast::FixedState>;

fn minute_of(t: i64) -> i64 {
    t.div_euclid(MINUTE) * MINUTE
}

fn number_of(v: &Value<'_>) -> Option<f64> {
    let n = match v {
        Value::Number(_) => v.as_f64(),
        // Log text carries numbers as strings as often as not; a string that is wholly a number counts.
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    n.filter(|n| n.is_finite())
}

/// A dimension's value as text: non-empty strings, numbers as written, booleans.
fn dimension_of<'v>(v: &'v Value<'_>) -> Option<&'v str> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n),
        Value::Bool(b) => Some(if *b { "true" } else { "false" }),
        _ => None,
    }
}

/// The canonical JSON object of a series key's names and values (names sorted, as a filter's
/// dimensions are): what serde_json writes for a `BTreeMap<&str, &str>`.
fn canonical_dimensions(key: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut rest = key;
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let (part, tail) = tail.split_at(u32::from_le_bytes(*len) as usize);
        parts.push(std::str::from_utf8(part).unwrap_or(""));
        rest = tail;
    }
    let mut out = Vec::from(*b"{");
    for (i, pair) in parts.chunks_exact(2).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing a string to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, pair[0]);
        out.push(b':');
        let _ = serde_json::to_writer(&mut out, pair[1]);
    }
    out.push(b'}');
    String::from_utf8(out).unwrap_or_else(|_| "{}".into())
}

fn event_key(metric: &str, rec: &Record<'_>) -> i64 {
    let mut h = xxhash_rust::xxh3::Xxh3Default::new();
    h.update(metric.as_bytes());
    h.update(b"\0");
    match &rec.event_id {
        // Cross-account copies of one call carry distinct eventIDs; the account keeps them apart anyway.
        Some(id) => {
            h.update(id.as_bytes());
            h.update(b"\0");
            h.update(rec.recipient_account_id.as_deref().unwrap_or("").as_bytes());
        }
        None => h.update(rec.raw.as_bytes()),
    }
    h.digest() as i64
}

impl MetricBatch {
    pub(crate) fn new(filters: Arc<[MetricFilter]>) -> MetricBatch {
        let mut metrics: Vec<String> = Vec::new();
        let filter_metric = filters
            .iter()
            .map(|f| match metrics.iter().position(|m| *m == f.metric) {
                Some(i) => i,
                None => {
                    metrics.push(f.metric.clone());
                    metrics.len() - 1
                }
            })
            .collect();
        let points = metrics.iter().map(|_| Series::default()).collect();
        MetricBatch {
            filters,
            metrics,
            filter_metric,
            points,
            minutes: BTreeMap::new(),
            key: Vec::new(),
            callers: Callers::default(),
            stats: MetricStats::default(),
        }
    }

    /// Counts one event read, matched or not. Call it once for every event, before or after its
    /// [`MetricBatch::record`] calls: minutes with events are when default values are published
    /// and how far alarms are evaluated.
    pub(crate) fn event(&mut self, rec: &Record<'_>) {
        self.stats.events += 1;
        match rec.event_time {
            Some(t) => *self.minutes.entry(minute_of(t)).or_default() += 1,
            None => self.stats.events_without_time += 1,
        }
    }

    /// The event matched metric filter `filter` (an index into the filters this batch was made
    /// with): publish its value.
    pub(crate) fn record(&mut self, filter: usize, rec: &Record<'_>) {
        let Some(f) = self.filters.get(filter) else { return };
        let Some(t) = rec.event_time else { return };
        self.stats.matches += 1;
        let value = match &f.value {
            MetricValue::Constant(c) => *c,
            MetricValue::Field(p) => match rec.lookup(p).as_ref().and_then(number_of) {
                Some(v) => v,
                None => {
                    self.stats.no_value += 1;
                    return;
                }
            },
        };
        self.key.clear();
        for (name, path) in &f.dimensions {
            let v = rec.lookup(path);
            let Some(text) = v.as_ref().and_then(dimension_of) else {
                self.stats.no_dimension += 1;
                return;
            };
            for part in [name.as_str(), text] {
                self.key.extend_from_slice(&(part.len() as u32).to_le_bytes());
                self.key.extend_from_slice(part.as_bytes());
            }
        }
        let published = Published { event_key: event_key(&f.metric, rec), value };
        let series = &mut self.points[self.filter_metric[filter]];
        if let Some(points) = series.get_mut(self.key.as_slice()) {
            return points.add(t, published, rec, &mut self.callers);
        }
        if series.len() >= MAX_SERIES_PER_METRIC {
            self.stats.over_cardinality += 1;
            return;
        }
        let dimensions = canonical_dimensions(&self.key);
        series.entry(self.key.as_slice().into()).or_insert(SeriesPoints { dimensions, by_minute: BTreeMap::new() }).add(
            t,
            published,
            rec,
            &mut self.callers,
        );
    }

    /// Folds another worker's batch into this one.
    pub(crate) fn merge(mut self, other: MetricBatch) -> MetricBatch {
        self.stats.merge(&other.stats);
        for (m, n) in other.minutes {
            *self.minutes.entry(m).or_default() += n;
        }
        for (mine, theirs) in self.points.iter_mut().zip(other.points) {
            let mut theirs: Vec<_> = theirs.into_iter().collect();
            // Sorted, so which series survive the cap does not depend on hash order.
            theirs.sort_by(|a, b| a.1.dimensions.cmp(&b.1.dimensions));
            for (key, series) in theirs {
                let values: u64 = series.by_minute.values().map(|p| p.values.len() as u64).sum();
                if !mine.contains_key(&key) && mine.len() >= MAX_SERIES_PER_METRIC {
                    self.stats.over_cardinality += values;
                    continue;
                }
                let target = mine.entry(key).or_insert_with(|| SeriesPoints { dimensions: series.dimensions, by_minute: BTreeMap::new() });
                for (minute, p) in series.by_minute {
                    target.by_minute.entry(minute).or_default().absorb(p);
                }
            }
        }
        self
    }

    /// First and last minute with events, if any.
    pub(crate) fn minute_range(&self) -> Option<(i64, i64)> {
        Some((*self.minutes.keys().next()?, *self.minutes.keys().next_back()?))
    }

    /// The batch's parts: datapoints sorted by key, the minutes that had events, and counts.
    pub(crate) fn into_parts(self) -> (Vec<(PointKey, PendingPoint)>, Vec<i64>, MetricStats) {
        let mut points = Vec::new();
        for (metric, series) in self.metrics.iter().zip(self.points) {
            for (_, series) in series {
                for (minute, p) in series.by_minute {
                    points.push((PointKey { metric: metric.clone(), dimensions: series.dimensions.clone(), minute }, p));
                }
            }
        }
        points.sort_by(|a, b| a.0.cmp(&b.0));
        (points, self.minutes.into_keys().collect(), self.stats)
    }
}

/// The statistics of published values (no dedup: the store does that).
#[cfg(test)]
fn stat_of(p: &PendingPoint) -> Option<crate::store::metrics::Stat> {
    use crate::store::metrics::Stat;
    let mut it = p.values.iter();
    let mut s = Stat::of(it.next()?.value);
    for v in it {
        s.absorb(&Stat::of(v.value));
    }
    s.samples = p.samples.clone();
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::metrics::Stat;

    pub(crate) fn filter(name: &str, metric: &str) -> MetricFilterConfig {
        MetricFilterConfig {
            filter_name: name.into(),
            filter_pattern: "{ $.eventName = X }".into(),
            metric_name: metric.into(),
            metric_namespace: DEFAULT_NAMESPACE.into(),
            metric_value: "1".into(),
            default_value: None,
            dimensions: BTreeMap::new(),
            unit: None,
        }
    }

    fn ev(t_sec: i64, id: &str, extra: &str) -> String {
        let time = crate::event::time::format_millis(t_sec * 1000);
        format!(r#"{{"eventTime":"{time}","eventID":"{id}","eventName":"X","eventSource":"s3.amazonaws.com"{extra}}}"#)
    }

    fn feed(b: &mut MetricBatch, raw: &str, filters: &[usize]) {
        let r = Record::parse(raw).unwrap();
        b.event(&r);
        for &f in filters {
            b.record(f, &r);
        }
    }

    fn stats_by_key(b: MetricBatch) -> (Vec<(PointKey, Stat)>, Vec<i64>, MetricStats) {
        let (points, minutes, stats) = b.into_parts();
        (points.iter().map(|(k, p)| (k.clone(), stat_of(p).unwrap())).collect(), minutes, stats)
    }

    #[test]
    fn per_minute_statistics_and_samples() {
        let mut c = filter("bytes", "Bytes");
        c.metric_value = "$.additionalEventData.bytes".into();
        let f = compile_filters(&[c, filter("count", "Count")]).unwrap();
        let mut a = MetricBatch::new(f.clone());
        let mut b = MetricBatch::new(f);
        feed(&mut a, &ev(0, "e1", r#","additionalEventData":{"bytes":10}"#), &[0, 1]);
        feed(&mut b, &ev(30, "e2", r#","additionalEventData":{"bytes":"4"}"#), &[0, 1]);
        feed(&mut b, &ev(59, "e3", r#","additionalEventData":{"bytes":"many"}"#), &[0, 1]);
        feed(&mut a, &ev(61, "e4", ""), &[1]);
        feed(&mut a, &ev(200, "e5", ""), &[]);
        let (points, minutes, stats) = stats_by_key(a.merge(b));
        assert_eq!(stats.events, 5);
        assert_eq!(stats.matches, 7);
        assert_eq!(stats.no_value, 1);
        assert_eq!(minutes, vec![0, 60_000, 180_000]);
        let bytes = &points.iter().find(|(k, _)| k.metric == "trailhound:Bytes").unwrap().1;
        assert_eq!((bytes.sum, bytes.count, bytes.min, bytes.max), (14.0, 2, 4.0, 10.0));
        assert_eq!(bytes.samples.iter().map(|s| (s.0, s.1.as_str())).collect::<Vec<_>>(), vec![(0, "e1"), (30_000, "e2")]);
        let counts: Vec<(i64, f64)> =
            points.iter().filter(|(k, _)| k.metric == "trailhound:Count").map(|(k, s)| (k.minute, s.sum)).collect();
        assert_eq!(counts, vec![(0, 3.0), (60_000, 1.0)]);
    }

    #[test]
    fn event_keys_tell_events_and_metrics_apart() {
        let f = compile_filters(&[filter("a", "A"), filter("b", "B")]).unwrap();
        let mut batch = MetricBatch::new(f);
        for raw in [ev(0, "same", ""), ev(0, "same", ""), ev(0, "other", "")] {
            feed(&mut batch, &raw, &[0, 1]);
        }
        let (points, _, _) = batch.into_parts();
        let keys: Vec<Vec<i64>> = points.iter().map(|(_, p)| p.values.iter().map(|v| v.event_key).collect()).collect();
        assert_eq!(keys.len(), 2);
        // The same event read twice has one key; another event or another metric has another.
        assert_eq!(keys[0][0], keys[0][1]);
        assert_ne!(keys[0][0], keys[0][2]);
        assert_ne!(keys[0][0], keys[1][0]);
    }

    #[test]
    fn dimensions_and_cardinality_cap() {
        let mut c = filter("f", "M");
        c.dimensions.insert("user".into(), "$.userIdentity.userName".into());
        let f = compile_filters(&[c]).unwrap();
        let mut b = MetricBatch::new(f);
        for i in 0..MAX_SERIES_PER_METRIC + 3 {
            feed(&mut b, &ev(0, &format!("e{i}"), &format!(r#","userIdentity":{{"userName":"u{i}"}}"#)), &[0]);
        }
        feed(&mut b, &ev(0, "nodim", ""), &[0]);
        assert_eq!(b.stats.over_cardinality, 3);
        assert_eq!(b.stats.no_dimension, 1);
        let (points, _, _) = stats_by_key(b);
        assert_eq!(points.len(), MAX_SERIES_PER_METRIC);
        assert!(points.iter().any(|(k, _)| k.dimensions == r#"{"user":"u7"}"#));
    }

    #[test]
    fn validation_follows_put_metric_filter() {
        let ok = filter("f", "M");
        let bad = |f: &dyn Fn(&mut MetricFilterConfig)| {
            let mut c = ok.clone();
            f(&mut c);
            MetricFilter::compile(&c).unwrap_err().to_string()
        };
        assert!(bad(&|c| c.metric_name = "a:b".into()).contains("metric_name"));
        assert!(bad(&|c| c.metric_value = "one".into()).contains("metric_value"));
        assert!(
            bad(&|c| {
                c.default_value = Some(0.0);
                c.dimensions.insert("d".into(), "$.eventName".into());
            })
            .contains("default_value")
        );
        assert!(bad(&|c| c.dimensions.insert("d".into(), "eventName".into()).map_or((), drop)).contains("field"));
        assert!(bad(&|c| c.unit = Some("Parsecs".into())).contains("unit"));
        assert!(compile_filters(&[ok.clone(), ok]).is_err());
    }
}
