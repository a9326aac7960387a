//! Alarm evaluation, pure: one evaluation over an evaluation range ([`decide`]), and the
//! evaluations an alarm makes every minute over a stretch of event time ([`run`]).

use super::{Alarm, State, Statistic, TreatMissingData};
use crate::rules::metric::MINUTE;
use crate::store::metrics::Stat;
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
pub(crate) fn decide(range: &[Option<bool>], n: usize, m: usize, treat: TreatMissingData, current: State) -> State {
    // Run for every minute of every series with data: no allocation for the usual few periods.
    let real: smallvec::SmallVec<[bool; 8]> = range.iter().flatten().copied().collect();
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
pub(crate) fn value(stat: &Stat, statistic: Statistic) -> f64 {
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
pub(crate) struct Datapoint {
    /// Period start, epoch ms.
    pub start: i64,
    /// `None`: missing.
    pub value: Option<f64>,
    pub breaching: Option<bool>,
    /// Statistics of the period (samples: earliest matching events).
    #[serde(skip)]
    pub stat: Option<Stat>,
}

/// A change of state at evaluation time `at` (a minute boundary: the end of the newest period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transition {
    pub at: i64,
    pub from: State,
    pub to: State,
}

/// The evaluation range at time `t`: `range` periods ending at `t`, oldest first.
pub(crate) fn datapoints(alarm: &Alarm, minutes: &BTreeMap<i64, Stat>, t: i64) -> Vec<Datapoint> {
    let (p, r) = (alarm.period_ms, i64::from(alarm.range()));
    (0..r)
        .map(|i| {
            let start = t - (r - i) * p;
            let mut stat: Option<Stat> = None;
            for (_, s) in minutes.range(start..start + p) {
                match &mut stat {
                    Some(acc) => acc.absorb(s),
                    None => stat = Some(s.clone()),
                }
            }
            let (value, breaching) = judge(alarm, stat.as_ref());
            Datapoint { start, value, breaching, stat }
        })
        .collect()
}

/// A period's value for the alarm's statistic and whether it breaches; `None` (missing) without
/// events.
fn judge(alarm: &Alarm, stat: Option<&Stat>) -> (Option<f64>, Option<bool>) {
    let value = stat.filter(|s| s.count > 0).map(|s| value(s, alarm.config.statistic));
    (value, value.map(|v| alarm.config.comparison_operator.breaches(v, alarm.config.threshold)))
}

/// The periods of the evaluation range at `t` (oldest first) into `periods`, as [`datapoints`]
/// sums them (minute order) but without samples, from one pass over the range's minutes:
/// evaluation runs every minute of every series with data, and copying samples and a range
/// query per period were most of its cost. False when the range holds no datapoint.
fn range_values(alarm: &Alarm, minutes: &BTreeMap<i64, Stat>, t: i64, periods: &mut [Option<Stat>]) -> bool {
    periods.iter_mut().for_each(|p| *p = None);
    let start = t - alarm.span();
    let mut any = false;
    for (&minute, s) in minutes.range(start..t) {
        any = true;
        match &mut periods[((minute - start) / alarm.period_ms) as usize] {
            Some(acc) => acc.absorb_values(s),
            empty => *empty = Some(Stat { samples: Vec::new(), ..*s }),
        }
    }
    any
}

/// Evaluates `alarm` on one series every minute from `from` to `to` (minute boundaries,
/// inclusive), starting in `state`. Returns the transitions and the final state. Stretches whose
/// evaluation ranges hold no data and would not change the state are skipped in one step.
pub(crate) fn run(alarm: &Alarm, minutes: &BTreeMap<i64, Stat>, from: i64, to: i64, mut state: State) -> (Vec<Transition>, State) {
    let n = alarm.evaluation_periods() as usize;
    let m = alarm.datapoints_to_alarm as usize;
    let treat = alarm.config.treat_missing_data;
    let mut periods = vec![None; alarm.range() as usize];
    let mut range: Vec<Option<bool>> = Vec::with_capacity(periods.len());
    let mut out = Vec::new();
    let mut t = from;
    while t <= to {
        let any = range_values(alarm, minutes, t, &mut periods);
        range.clear();
        range.extend(periods.iter().map(|p| judge(alarm, p.as_ref()).1));
        let next = decide(&range, n, m, treat, state);
        if !any && next == state {
            // Nothing changes until a datapoint enters the range.
            match minutes.range(t..).next() {
                Some((&minute, _)) => t = (minute + MINUTE).max(t + MINUTE),
                None => break,
            }
            continue;
        }
        if next != state {
            out.push(Transition { at: t, from: state, to: next });
            state = next;
        }
        t += MINUTE;
    }
    (out, state)
}

/// An incident: from a transition into ALARM until the series has stayed out of ALARM for a
/// whole evaluation span (`end` is when it left ALARM for good; `None` while open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Episode {
    pub start: i64,
    pub end: Option<i64>,
}

/// Groups a series' transitions (`(at, state)`, oldest first) into episodes. Windows slide by a
/// minute and an evaluation falls back on older real datapoints when newer ones are missing, so
/// the same events can take a series ALARM → OK → ALARM; nothing that left the evaluation span
/// can do that, so an ALARM within `span` of the last one continues its episode. `horizon` is
/// the last evaluation time.
pub(crate) fn episodes(history: &[(i64, State)], span: i64, horizon: i64) -> Vec<Episode> {
    let mut out = Vec::new();
    let mut open: Option<(i64, Option<i64>)> = None;
    for &(at, state) in history {
        match (state, &mut open) {
            (State::Alarm, None) => open = Some((at, None)),
            (State::Alarm, Some((start, clear))) => match *clear {
                Some(c) if at - c >= span => {
                    out.push(Episode { start: *start, end: Some(c) });
                    open = Some((at, None));
                }
                _ => *clear = None,
            },
            (_, Some((_, clear @ None))) => *clear = Some(at),
            _ => {}
        }
    }
    if let Some((start, clear)) = open {
        out.push(Episode { start, end: clear.filter(|c| horizon - c >= span) });
    }
    out
}
