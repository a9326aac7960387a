//! Every enabled detector over one batch of files, in two stages: a [`BatchSink`] per read worker
//! (parallel: folds events into first-seen observations, metric datapoints and rate counts, raises per-event
//! alerts from traps and rules), then [`Detectors::apply`] (sequential, inside the batch's store
//! transaction: baselines, datapoints and alarm state, the alert outbox). Adding a detector means
//! a field here, a line in `BatchSink::event` and one in `apply`.

use super::first_seen::ApplyStats;
use super::first_seen::FirstSeenConfig;
use super::statistics::{RateBatch, StatisticsConfig, StatisticsDetector, StatisticsStats};
use super::traps::TrapsConfig;
use super::{FirstSeenDetector, Observations, RuleDetector, TrapDetector};
use crate::alert::{Alert, Detector};
use crate::event::Record;
use crate::pipeline::{EventContext, EventSink, Flow};
use crate::rules::alarm::{self, Alarm, AlarmApplyStats};
use crate::rules::metric::{self, MetricBatch, MetricFilter};
use crate::rules::pattern::{FilterPattern, PatternSet};
use crate::store::StoreTx;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Metric filters and the alarms over them (the filters' patterns are in [`Detectors`]'s set).
#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    filters: Arc<[MetricFilter]>,
    alarms: Vec<Alarm>,
}

/// The config file's detector sections, borrowed (`Config::detectors` gives them): what
/// [`Detectors::from_config`] builds from.
#[derive(Debug, Clone, Copy)]
pub struct DetectorsConfig<'c> {
    pub first_seen: &'c FirstSeenConfig,
    pub traps: &'c TrapsConfig,
    pub rules: &'c crate::rules::pack::RulesConfig,
    pub statistics: &'c StatisticsConfig,
    /// The config file's folder, against which pack paths are resolved.
    pub dir: Option<&'c std::path::Path>,
}

/// The detectors a scan runs, built once from the config.
#[derive(Debug, Default)]
pub(crate) struct Detectors {
    /// Behaviour baselines (`[first_seen] enabled`).
    pub first_seen: Option<FirstSeenDetector>,
    /// Canaries and honeypots (`[traps]`), when any is declared.
    pub traps: Option<TrapDetector>,
    /// Pattern rules from the packs and `[[rules.rule]]`.
    pub rules: RuleDetector,
    /// Metric filters and alarms from the packs and `[rules]`, when any is declared.
    pub metrics: Option<Metrics>,
    /// Call and error rates against their history (`[statistics] enabled`).
    pub statistics: Option<StatisticsDetector>,
    /// Pack rules, filters and alarms left out for want of a parameter.
    pub inactive: Vec<crate::rules::pack::Inactive>,
    /// The rules' patterns, then the metric filters': each event is tried once against the
    /// patterns its name can match, whichever detector they belong to.
    patterns: PatternSet,
}

impl Detectors {
    /// Everything the config enables. Bad patterns, unknown packs and alarms without a metric
    /// are errors naming the pack and rule.
    pub(crate) fn from_config(cfg: DetectorsConfig<'_>) -> anyhow::Result<Detectors> {
        let loaded = crate::rules::pack::load(cfg.rules, cfg.dir)?;
        let traps = TrapDetector::new(cfg.traps)?;
        let (rules, mut patterns) = RuleDetector::new(&loaded.rules)?;
        let metrics = if loaded.metric_filters.is_empty() && loaded.alarms.is_empty() {
            None
        } else {
            let configs: Vec<_> = loaded.metric_filters.iter().map(|(_, f)| f.clone()).collect();
            let filters = metric::compile_filters(&configs)?;
            for (pack, f) in &loaded.metric_filters {
                patterns.push(
                    FilterPattern::parse_expanded(&f.filter_pattern)
                        .map_err(|e| anyhow::anyhow!("metric filter {pack}/{}: {e}", f.filter_name))?,
                );
            }
            let alarm_configs: Vec<_> = loaded.alarms.iter().map(|(_, a)| a.clone()).collect();
            let alarms = alarm::compile_alarms(&alarm_configs, &filters)?;
            Some(Metrics { filters, alarms })
        };
        Ok(Detectors {
            first_seen: cfg.first_seen.enabled.then(|| FirstSeenDetector::new(cfg.first_seen.clone())),
            traps: (!traps.is_empty()).then_some(traps),
            rules,
            metrics,
            statistics: cfg.statistics.enabled.then(|| StatisticsDetector { cfg: cfg.statistics.clone() }),
            inactive: loaded.inactive,
            patterns: PatternSet::new(patterns),
        })
    }

    /// First-seen alone (tests).
    #[cfg(test)]
    pub(crate) fn first_seen_only(cfg: &FirstSeenConfig) -> Detectors {
        Detectors { first_seen: Some(FirstSeenDetector::new(cfg.clone())), ..Detectors::default() }
    }

    /// The enabled detectors, for summaries.
    pub(crate) fn names(&self) -> Vec<Detector> {
        let enabled = |d: Detector| match d {
            Detector::FirstSeen => self.first_seen.is_some(),
            Detector::Trap => self.traps.is_some(),
            Detector::Rule => !self.rules.is_empty(),
            Detector::Alarm => self.metrics.as_ref().is_some_and(|m| !m.alarms.is_empty()),
            Detector::Statistics => self.statistics.is_some(),
        };
        Detector::ALL.into_iter().filter(|&d| enabled(d)).collect()
    }

    /// Loads what detectors remember between runs outside the batches' transactions: the hosts
    /// learned in trap subnets and VPCs.
    pub(crate) fn load(&self, store: &dyn crate::store::Store) -> anyhow::Result<()> {
        if let Some(traps) = &self.traps {
            traps.remember(store.trap_members(super::traps::MAX_MEMBERS)?);
        }
        Ok(())
    }

    /// A fresh sink for one read worker.
    pub(crate) fn sink(&self) -> BatchSink<'_> {
        BatchSink {
            detectors: self,
            observations: self.first_seen.as_ref().map(|d| d.observations()),
            metrics: self.metrics.as_ref().map(|m| MetricBatch::new(m.filters.clone())),
            rates: self.statistics.as_ref().map(|_| RateBatch::default()),
            alerts: Vec::new(),
            deferred: Vec::new(),
            deferred_bytes: 0,
            deferred_dropped: 0,
            events: 0,
        }
    }

    /// Applies a batch's merged sinks inside `tx`: baselines grow, datapoints and alarm states
    /// are stored, alerts enter the outbox (each once: their ids are deterministic, so a batch
    /// read again raises nothing new). Every detector runs the same whether the run learns or
    /// not: a learning transaction ([`StoreTx::learning`]) records the alerts as learned.
    pub(crate) fn apply(&self, batch: BatchSink<'_>, tx: &dyn StoreTx, now: i64) -> anyhow::Result<BatchOutcome> {
        let mut out = BatchOutcome { events: batch.events, ..BatchOutcome::default() };
        if let (Some(det), Some(obs)) = (&self.first_seen, batch.observations) {
            out.learned = obs.events;
            out.skipped = obs.skipped.clone();
            out.without_time = obs.without_time;
            let (alerts, stats) = det.apply(obs, tx, now)?;
            out.count(Detector::FirstSeen, alerts.len());
            out.first_seen = stats;
        }
        let alerts = match &self.traps {
            Some(traps) => {
                let mut alerts = batch.alerts;
                alerts.extend(traps.recheck(&batch.deferred, batch.deferred_dropped));
                for (trap, member, time) in traps.take_learned() {
                    tx.put_trap_member(&trap, &member, time)?;
                }
                traps.group(alerts)
            }
            None => batch.alerts,
        };
        for mut alert in alerts {
            if tx.raise_alert(&mut alert, now)? {
                out.count(alert.detector, 1);
            }
        }
        if let (Some(m), Some(points)) = (&self.metrics, batch.metrics) {
            let (alerts, stats) = alarm::apply(points, tx, &m.alarms, now)?;
            out.count(Detector::Alarm, alerts.len());
            out.alarms = stats;
        }
        if let (Some(det), Some(rates)) = (&self.statistics, batch.rates) {
            let (alerts, stats) = det.apply(rates, tx, now)?;
            out.count(Detector::Statistics, alerts.len());
            out.statistics = stats;
        }
        Ok(out)
    }
}

/// Record text a worker keeps for traps' second look (`BatchSink::deferred`).
const DEFERRED_BYTES: usize = 16 << 20;

/// One read worker's share of a batch; merge them with [`BatchSink::merge`].
pub(crate) struct BatchSink<'d> {
    detectors: &'d Detectors,
    /// First-seen observations (when enabled).
    pub observations: Option<Observations>,
    /// Metric datapoints (when any metric filter is declared).
    pub metrics: Option<MetricBatch>,
    /// Series-minutes of call and error rates (when statistics is enabled).
    pub rates: Option<RateBatch>,
    /// Alerts raised by per-event detectors, stored by `apply`.
    pub alerts: Vec<Alert>,
    /// Records naming a host no trap subnet knows yet, read again by `apply` (another worker
    /// may be reading the launch that puts it there); at most [`DEFERRED_BYTES`] per worker.
    deferred: Vec<Box<str>>,
    deferred_bytes: usize,
    deferred_dropped: u64,
    /// Events seen.
    pub events: u64,
}

impl BatchSink<'_> {
    /// Folds `o` into `self`.
    pub(crate) fn merge(mut self, o: BatchSink<'_>) -> Self {
        self.observations = match (self.observations, o.observations) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => a.or(b),
        };
        self.metrics = match (self.metrics, o.metrics) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => a.or(b),
        };
        self.rates = match (self.rates, o.rates) {
            (Some(a), Some(b)) => Some(a.merge(b)),
            (a, b) => a.or(b),
        };
        self.alerts.extend(o.alerts);
        self.deferred.extend(o.deferred);
        self.deferred_bytes += o.deferred_bytes;
        self.deferred_dropped += o.deferred_dropped;
        self.events += o.events;
        self
    }
}

impl EventSink for BatchSink<'_> {
    fn event(&mut self, ev: &Record<'_>, _ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        self.events += 1;
        let d = self.detectors;
        if let Some(obs) = &mut self.observations {
            obs.observe(ev);
        }
        if let Some(traps) = &d.traps {
            let (alerts, defer) = traps.check_deferring(ev);
            self.alerts.extend(alerts);
            if defer && self.deferred_bytes + ev.raw.len() <= DEFERRED_BYTES {
                self.deferred_bytes += ev.raw.len();
                self.deferred.push(ev.raw.into());
            } else if defer {
                self.deferred_dropped += 1;
            }
        }
        if let Some(batch) = &mut self.metrics {
            batch.event(ev);
        }
        if let (Some(rates), Some(det)) = (&mut self.rates, &d.statistics) {
            rates.event(ev, &det.cfg);
        }
        let rules = d.rules.len();
        let (alerts, metrics) = (&mut self.alerts, &mut self.metrics);
        d.patterns.for_each_match(ev, |i| match i.checked_sub(rules) {
            None => d.rules.raise(i, d.patterns.get(i), ev, alerts),
            Some(filter) => {
                if let Some(batch) = metrics {
                    batch.record(filter, ev);
                }
            }
        });
        Ok(Flow::Continue)
    }
}

/// What applying one batch did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(crate) struct BatchOutcome {
    /// Events read.
    pub events: u64,
    /// Events first-seen learned from.
    pub learned: u64,
    /// Events first-seen did not learn, by skip rule.
    pub skipped: crate::detect::observe::Skipped,
    pub without_time: u64,
    /// New alerts put in the outbox, by detector.
    pub alerts: BTreeMap<Detector, u64>,
    /// Alerts a learning run recorded as history instead (never delivered), by detector.
    pub learned_alerts: BTreeMap<Detector, u64>,
    pub first_seen: ApplyStats,
    pub alarms: AlarmApplyStats,
    pub statistics: StatisticsStats,
}

impl BatchOutcome {
    /// Adds another batch's outcome.
    pub(crate) fn merge(&mut self, o: BatchOutcome) {
        self.events += o.events;
        self.learned += o.learned;
        self.skipped.absorb(&o.skipped);
        self.without_time += o.without_time;
        for (k, v) in o.alerts {
            *self.alerts.entry(k).or_default() += v;
        }
        for (k, v) in o.learned_alerts {
            *self.learned_alerts.entry(k).or_default() += v;
        }
        self.first_seen.merge(o.first_seen);
        self.alarms.merge(&o.alarms);
        self.statistics.merge(&o.statistics);
    }

    fn count(&mut self, detector: Detector, n: usize) {
        if n > 0 {
            *self.alerts.entry(detector).or_default() += n as u64;
        }
    }
}
