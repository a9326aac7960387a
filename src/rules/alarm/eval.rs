//! Alarm evaluation, pure: one evaluation over an evaluation range ([`decide`]), and the
//! evaluations an alarm makes every minute over a stretch of event time ([`run`]).

use super::{Alarm, State, Statistic, TreatMissingData};
use crate::rules::metric::{MINUTE, Stat};
use serde::Serialize;
use std::collections::BTreeMap;

/// The state one evaluation gives. `range` holds the evaluation range's datapoints, oldest
/// first: `None` missing, `Some(true)` breaching. The rules are AWS's (reference §8.2–8.4):
///
/// - At least N real datapoints: the most recent N real ones decide (M of them breaching → ALARM).
/// - Fewer: missing ones are filled as few times as possible (N − real) with `treat_missing_data`;
///   `breaching` fills count as breaching, `notBreaching` fills as not.
/// - `missing` and `ignore` never count a fill: M real breaching → ALARM; else a real
///   non-breaching datapoint → OK; else (only breaching, too few) `missing` goes to ALARM when the
///   oldest breaching datapoint is at least M datapoints old (the premature-alarm rule), and
///   otherwise the state is kept, as `ignore` always keeps it.
/// - No real datapoint: `missing` → INSUFFICIENT_DATA, `ignore` keeps the state, `breaching` →
///   ALARM, `notBreaching` → OK.
pub fn decide(range: &[Option<bool>], n: usize, m: usize, treat: TreatMissingData, current: State) -> State {
    let real: Vec<bool> = range.iter().flatten().copied().collect();
    let verdict = |breaching: usize| if breaching >= m { State::Alarm } else { State::Ok };
    if real.len() >= n {
        return verdict(real[real.len() - n..].iter().filter(|b| **b).count());
    }
    let breaching = real.iter().filter(|b| **b).count();
    if real.is_empty() {
        return match treat {
            TreatMissingData::Missing => State::InsufficientData,
            TreatMissingData::Ignore => current,
            TreatMissingData::Breaching => verdict(n),
            TreatMissingData::NotBreaching => State::Ok,
        };
    }
    match treat {
        TreatMissingData::Breaching => verdict(breaching + (n - real.len())),
        TreatMissingData::NotBreaching => verdict(breaching),
        TreatMissingData::Missing | TreatMissingData::Ignore => {
            if breaching >= m {
                State::Alarm
            } else if breaching < real.len() {
                State::Ok
            } else if treat == TreatMissingData::Missing && oldest_breaching_age(range) >= m {
                State::Alarm
            } else {
                current
            }
        }
    }
}

/// How many datapoints back (1 = the newest) the oldest breaching datapoint is.
fn oldest_breaching_age(range: &[Option<bool>]) -> usize {
    range.iter().position(|d| *d == Some(true)).map_or(0, |i| range.len() - i)
}

/// The value of a datapoint for a statistic.
pub fn value(stat: &Stat, statistic: Statistic) -> f64 {
    match statistic {
        Statistic::SampleCount => stat.count as f64,
        Statistic::Average => stat.sum / stat.count.max(1) as f64,
        Statistic::Sum => stat.sum,
        Statistic::Minimum => stat.min,
        Statistic::Maximum => stat.max,
    }
}

/// One datapoint of an evaluation range, as an alert shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Datapoint {
    /// Period start, epoch ms.
    pub start: i64,
    /// `None`: missing.
    pub value: Option<f64>,
    pub breaching: Option<bool>,
    /// The latest minute with data in the period.
    #[serde(skip)]
    pub last_minute: Option<i64>,
    /// Statistics of the period (samples: earliest matching events).
    #[serde(skip)]
    pub stat: Option<Stat>,
}

/// A change of state at evaluation time `at` (a minute boundary: the end of the newest period).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub at: i64,
    pub from: State,
    pub to: State,
    /// The evaluation range that decided it, oldest first.
    pub datapoints: Vec<Datapoint>,
    /// Whether it raises an alert: into ALARM on fresh evidence, or back to OK from an ALARM that
    /// raised one. See [`run`].
    pub alert: bool,
}

/// What [`run`] needs to know about the series before its first evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesState {
    pub state: State,
    /// The current ALARM (if the state is ALARM) raised an alert.
    pub alarm_alerted: bool,
    /// When the latest alerted transition into ALARM happened.
    pub last_alarm_alert: Option<i64>,
}

impl SeriesState {
    pub fn new() -> SeriesState {
        SeriesState { state: State::InsufficientData, alarm_alerted: false, last_alarm_alert: None }
    }
}

impl Default for SeriesState {
    fn default() -> Self {
        SeriesState::new()
    }
}

/// The evaluation range at time `t`: `range` periods ending at `t`, oldest first.
pub fn datapoints(alarm: &Alarm, minutes: &BTreeMap<i64, Stat>, t: i64) -> Vec<Datapoint> {
    let p = alarm.period_ms;
    let r = i64::from(alarm.range());
    (0..r)
        .map(|i| {
            let start = t - (r - i) * p;
            let mut stat: Option<Stat> = None;
            let mut last_minute = None;
            for (minute, s) in minutes.range(start..start + p) {
                last_minute = Some(*minute);
                match &mut stat {
                    Some(acc) => acc.absorb(s),
                    None => stat = Some(s.clone()),
                }
            }
            let value = stat.as_ref().filter(|s| s.count > 0).map(|s| value(s, alarm.config.statistic));
            let breaching = value.map(|v| alarm.config.comparison_operator.breaches(v, alarm.config.threshold));
            Datapoint { start, value, breaching, last_minute, stat }
        })
        .collect()
}

/// Evaluates `alarm` on one series every minute from `from` to `to` (minute boundaries,
/// inclusive), starting in `start`. Returns the transitions and the final state. Stretches whose
/// evaluation ranges hold no data and would not change the state are skipped in one step.
///
/// Windows slide by a minute and an evaluation falls back on older real datapoints when newer
/// ones are missing, so the same events can take a series ALARM → OK → ALARM. A transition into
/// ALARM whose breaching datapoints hold no minute at or after the last alerted ALARM is that
/// flap: it is recorded but raises no alert (nor does the OK that ends it).
pub fn run(alarm: &Alarm, minutes: &BTreeMap<i64, Stat>, from: i64, to: i64, start: SeriesState) -> (Vec<Transition>, SeriesState) {
    let mut series = start;
    let mut state = start.state;
    let n = alarm.evaluation_periods() as usize;
    let m = alarm.datapoints_to_alarm as usize;
    let span = i64::from(alarm.range()) * alarm.period_ms;
    let treat = alarm.config.treat_missing_data;
    let mut out = Vec::new();
    let mut t = from;
    while t <= to {
        if minutes.range(t - span..t).next().is_none() {
            let empty = vec![None; alarm.range() as usize];
            let next = decide(&empty, n, m, treat, state);
            if next == state {
                // Nothing changes until a datapoint enters the range.
                match minutes.range(t..).next() {
                    Some((&minute, _)) => t = (minute + MINUTE).max(t + MINUTE),
                    None => break,
                }
                continue;
            }
        }
        let dps = datapoints(alarm, minutes, t);
        let range: Vec<Option<bool>> = dps.iter().map(|d| d.breaching).collect();
        let next = decide(&range, n, m, treat, state);
        if next != state {
            let alert = match next {
                State::Alarm => {
                    let fresh =
                        |d: &Datapoint| d.breaching == Some(true) && d.last_minute.zip(series.last_alarm_alert).is_none_or(|(m, a)| m >= a);
                    let fresh = dps.iter().any(fresh);
                    if fresh {
                        series.last_alarm_alert = Some(t);
                    }
                    series.alarm_alerted = fresh;
                    fresh
                }
                State::Ok => state == State::Alarm && series.alarm_alerted,
                State::InsufficientData => false,
            };
            out.push(Transition { at: t, from: state, to: next, datapoints: dps, alert });
            state = next;
        }
        t += MINUTE;
    }
    series.state = state;
    (out, series)
}
