//! The statistics model, pure (docs/statistics.md#the-model): a series' history is kept as hours
//! (calls in the hour and the busiest minute in it); a minute is judged against the hours before
//! its own, with the hours of the same time of day (and kind of day) standing for what is
//! expected then. Nothing here touches the store, so the model's tests are hand-made series.

use super::config::StatisticsConfig;
use std::collections::BTreeMap;

pub(crate) const MINUTES_PER_HOUR: i64 = 60;
pub(crate) const MINUTES_PER_DAY: i64 = 24 * 60;

/// One hour of a series: calls (or errors) in it and its busiest minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HourCount {
    pub count: u64,
    pub peak: u64,
}

/// A series' history by hour (hours since the epoch, UTC); hours without a row had no calls.
pub(crate) type History = BTreeMap<i64, HourCount>;

/// Which days the seasonal slot was drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Days {
    Weekdays,
    Weekends,
    /// The window held no earlier day of the minute's kind: every day stands in.
    All,
}

impl Days {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Days::Weekdays => "weekdays",
            Days::Weekends => "weekends",
            Days::All => "all",
        }
    }
}

/// Saturday or Sunday, UTC (1970-01-01 was a Thursday).
pub(crate) fn is_weekend(hour: i64) -> bool {
    let day = hour.div_euclid(24);
    (day + 3).rem_euclid(7) >= 5
}

/// What one hour's minutes are judged against: the whole window, and the slot of the same hours
/// of the day (the hour before, the same hour and the hour after, on days of the same kind).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Baseline {
    /// The window's length: `baseline_days`, or less when the account and region were observed
    /// for less (the average is not diluted by time nothing was read).
    pub minutes: i64,
    pub total: u64,
    /// The busiest minute anywhere in the window.
    pub peak: u64,
    pub days: Days,
    pub slot_minutes: i64,
    pub slot_total: u64,
    pub slot_peak: u64,
    /// Expected calls per minute at this time of day: the slot's average, floored at half a call
    /// over the whole window (a call never seen is rare, not impossible).
    pub expected: f64,
    /// The fewest calls in one minute that are unusual (all four rules of [`baseline`] at once).
    pub threshold: u64,
}

impl Baseline {
    pub(crate) fn average(&self) -> f64 {
        self.total as f64 / self.minutes as f64
    }
    pub(crate) fn slot_average(&self) -> f64 {
        if self.slot_minutes == 0 { 0.0 } else { self.slot_total as f64 / self.slot_minutes as f64 }
    }
}

/// The baseline for the minutes of `hour`: the hours in `[hour - baseline_days, hour)` that are
/// not before `first_minute` (when the account and region were first observed). `None` when
/// there is no such hour. A minute of `hour` is unusual when its count is at least
/// [`Baseline::threshold`], which asks for all of:
/// - at least `min_count`;
/// - above `peak_factor` times the busiest minute of the slot (a job that bursts at this time of
///   day keeps its bursts);
/// - above the busiest minute of the whole window (a burst seen at another hour is not news);
/// - a Poisson tail probability at the expected rate of at most `p_value` (what makes a busy
///   series need more than its peak).
pub(crate) fn baseline(history: &History, hour: i64, first_minute: i64, cfg: &StatisticsConfig) -> Option<Baseline> {
    let start = (hour - i64::from(cfg.baseline_days) * 24).max(first_minute.div_euclid(MINUTES_PER_HOUR));
    if start >= hour {
        return None;
    }
    let at = |h: i64| history.get(&h).copied().unwrap_or_default();
    let (mut total, mut peak) = (0, 0);
    for (_, c) in history.range(start..hour) {
        total += c.count;
        peak = peak.max(c.peak);
    }
    // The slot: hours of the day within one of `hour`'s, on earlier days (and the hour just
    // before, today). Same kind of day when the window holds one.
    let weekend = is_weekend(hour);
    let in_slot = |h: i64| {
        let d = (h - hour).rem_euclid(24);
        d <= 1 || d == 23
    };
    let same_kind = (start..hour).any(|h| in_slot(h) && is_weekend(h) == weekend && h < hour - 1);
    let days = match (same_kind, weekend) {
        (false, _) => Days::All,
        (true, true) => Days::Weekends,
        (true, false) => Days::Weekdays,
    };
    let (mut slot_hours, mut slot_total, mut slot_peak) = (0, 0, 0);
    for h in (start..hour).filter(|&h| in_slot(h) && (days == Days::All || is_weekend(h) == weekend)) {
        let c = at(h);
        slot_hours += 1;
        slot_total += c.count;
        slot_peak = slot_peak.max(c.peak);
    }
    let minutes = (hour - start) * MINUTES_PER_HOUR;
    let mut b = Baseline {
        minutes,
        total,
        peak,
        days,
        slot_minutes: slot_hours * MINUTES_PER_HOUR,
        slot_total,
        slot_peak,
        expected: 0.0,
        threshold: 0,
    };
    b.expected = b.slot_average().max(0.5 / minutes as f64);
    let over_slot_peak = (cfg.peak_factor * slot_peak as f64).floor() as u64 + 1;
    b.threshold = cfg.min_count.max(over_slot_peak).max(peak + 1).max(poisson_quantile(b.expected, cfg.p_value));
    Some(b)
}

/// `ln(n!)`: exact below 30, Stirling's series above (error under 1e-10 there).
fn ln_factorial(n: u64) -> f64 {
    if n < 30 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let x = n as f64;
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x) - 1.0 / (360.0 * x * x * x)
}

fn ln_pmf(k: u64, lambda: f64) -> f64 {
    k as f64 * lambda.ln() - lambda - ln_factorial(k)
}

/// `P(X >= k)` for `X ~ Poisson(lambda)`, `lambda > 0`. Above the mean the terms shrink at least
/// geometrically, so they are summed from `k` up until they stop mattering; at or below it, one
/// minus the lower sum.
pub(crate) fn poisson_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if (k as f64) <= lambda {
        let below: f64 = (0..k).map(|j| ln_pmf(j, lambda).exp()).sum();
        return (1.0 - below).clamp(0.0, 1.0);
    }
    let first = ln_pmf(k, lambda);
    let (mut sum, mut term, mut j) = (1.0, 1.0, k);
    // Relative to the first term, so a tail far below f64's range is still ordered correctly
    // until it underflows at the end.
    while term > 1e-17 * sum {
        j += 1;
        term *= lambda / j as f64;
        sum += term;
    }
    (first + sum.ln()).exp().min(1.0)
}

/// The smallest `k` with `P(X >= k) <= p`.
pub(crate) fn poisson_quantile(lambda: f64, p: f64) -> u64 {
    let mut k = lambda.floor() as u64 + 1;
    while poisson_tail(k, lambda) > p {
        k += 1;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A series as per-minute counts: `f(minute)` for every minute of `days` days from a Monday
    /// 00:00 UTC, folded into hours as the store keeps them.
    fn series(days: i64, f: impl Fn(i64) -> u64) -> History {
        let mut h = History::new();
        for m in 0..days * MINUTES_PER_DAY {
            let c = f(MONDAY + m);
            if c > 0 {
                let e = h.entry((MONDAY + m).div_euclid(60)).or_default();
                e.count += c;
                e.peak = e.peak.max(c);
            }
        }
        h
    }

    /// 2024-01-01T00:00Z, a Monday, in minutes.
    const MONDAY: i64 = 1_704_067_200 / 60;

    fn judge(h: &History, minute: i64, count: u64) -> (bool, Baseline) {
        let b = baseline(h, minute.div_euclid(60), MONDAY, &StatisticsConfig::default()).unwrap();
        (count >= b.threshold, b)
    }

    fn day_hour(day: i64, hour: i64) -> i64 {
        MONDAY + day * MINUTES_PER_DAY + hour * 60
    }

    #[test]
    fn calendar() {
        assert!(!is_weekend(MONDAY / 60));
        assert!(is_weekend(day_hour(5, 0) / 60) && is_weekend(day_hour(6, 23) / 60));
        assert!(!is_weekend(day_hour(7, 0) / 60));
    }

    #[test]
    fn poisson_tail_and_quantile() {
        assert!((poisson_tail(1, 1.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        // P(X >= 3 | 0.04) = 1 - e^-0.04 (1 + 0.04 + 0.0008) ≈ 1.03517e-5
        assert!((poisson_tail(3, 0.04) / 1.03517e-5 - 1.0).abs() < 1e-4, "{}", poisson_tail(3, 0.04));
        // Far tails stay ordered instead of collapsing to 0 early.
        assert!(poisson_tail(60, 0.01) < poisson_tail(30, 0.01));
        assert!(poisson_tail(60, 0.01) > 0.0);
        // Around a large mean the tail is about normal: 85 ± 5 sd.
        let q = poisson_quantile(85.0, 1e-6);
        assert!((128..=136).contains(&q), "{q}");
        assert!(poisson_tail(q, 85.0) <= 1e-6 && poisson_tail(q - 1, 85.0) > 1e-6);
    }

    #[test]
    fn flat_series_alerts_on_a_spike_only() {
        // 5 calls every minute for a week and a day.
        let h = series(8, |_| 5);
        let m = day_hour(7, 10);
        let (usual, b) = judge(&h, m, 9);
        assert!(!usual, "{b:?}");
        assert!((b.average() - 5.0).abs() < 1e-9 && b.peak == 5 && b.days == Days::Weekdays);
        assert!(!judge(&h, m, 11).0, "over twice the peak, but not rare at 5 a minute");
        assert!(judge(&h, m, 30).0);
    }

    #[test]
    fn a_rare_api_is_judged_on_its_own_terms() {
        // Two calls a day at 02:00, nothing else; the threshold is min_count, not 3.
        let h = series(7, |m| u64::from(m.rem_euclid(MINUTES_PER_DAY) == 120) * 2);
        let (usual, b) = judge(&h, day_hour(7, 15), 9);
        assert!(!usual && b.threshold == 10, "{b:?}");
        assert!(judge(&h, day_hour(7, 15), 10).0);
        // Never seen at all: the expected rate is the floor, still above zero.
        let empty = History::new();
        let (usual, b) = judge(&empty, day_hour(7, 15), 10);
        assert!(usual && b.expected > 0.0 && b.total == 0, "{b:?}");
    }

    #[test]
    fn seasonal_series_keeps_its_hours() {
        // Office hours on weekdays: 40/min 09:00-17:00, 1/min otherwise; weekends 1/min.
        let f = |m: i64| {
            let hod = m.rem_euclid(MINUTES_PER_DAY) / 60;
            if !is_weekend(m / 60) && (9..17).contains(&hod) { 40 } else { 1 }
        };
        let h = series(14, f);
        // Monday 10:00 at office volume is normal; the same volume at 03:00 is not.
        let (usual, b) = judge(&h, day_hour(14, 10), 60);
        assert!(!usual, "{b:?}");
        assert!(b.expected > 30.0 && b.days == Days::Weekdays);
        let (usual, b) = judge(&h, day_hour(14, 3), 41);
        assert!(usual, "{b:?}");
        // A Saturday is judged against weekends: office volume there is unusual too.
        let (usual, b) = judge(&h, day_hour(12, 11), 41);
        assert!(usual && b.days == Days::Weekends, "{b:?}");
        // But office volume + a little is not, at 09:00 on a weekday (the slot reaches 08:00–10:00).
        assert!(!judge(&h, day_hour(14, 9), 45).0);
    }

    #[test]
    fn bursty_but_regular_series_does_not_alert() {
        // A Terraform apply: 20 calls in one minute once a day, at a different hour each day.
        let f = |m: i64| {
            let day = (m - MONDAY).div_euclid(MINUTES_PER_DAY);
            u64::from(m.rem_euclid(MINUTES_PER_DAY) == (day * 97 % 24) * 60 + 13) * 20
        };
        let h = series(7, f);
        for hour in 0..24 {
            let (usual, b) = judge(&h, day_hour(7, hour), 20);
            assert!(!usual, "20 at {hour}:00 is its usual burst: {b:?}");
        }
        // Ten times the burst is not.
        let (usual, b) = judge(&h, day_hour(7, 5), 200);
        assert!(usual && b.peak == 20, "{b:?}");
        // A burst a little over its usual near the hours it ran on weekdays is not news either
        // (Monday 02:00: it ran at 01:13, 02:13 and 03:13 on Tuesday to Thursday).
        assert!(!judge(&h, day_hour(7, 2), 25).0);
        // At 07:00 it never ran on a weekday (only on Sunday at 06:13): over its busiest minute
        // but not over twice the slot's, 25 is still unusual there.
        assert!(judge(&h, day_hour(7, 7), 25).0);
    }

    #[test]
    fn sparse_history_is_not_diluted() {
        // Observed for one day only: the window is that day, not seven.
        let h = series(1, |_| 2);
        let b = baseline(&h, day_hour(1, 0) / 60, MONDAY, &StatisticsConfig::default()).unwrap();
        assert_eq!(b.minutes, MINUTES_PER_DAY);
        assert!((b.average() - 2.0).abs() < 1e-9);
        assert_eq!(b.days, Days::Weekdays, "Monday 00:00 and 01:00 stand in for Tuesday 00:00");
        // A Saturday with only weekdays behind it is judged against them.
        let b = baseline(&series(5, |_| 2), day_hour(5, 10) / 60, MONDAY, &StatisticsConfig::default()).unwrap();
        assert_eq!(b.days, Days::All);
        // Nothing observed before the hour: nothing to judge against.
        assert!(baseline(&h, MONDAY / 60, MONDAY, &StatisticsConfig::default()).is_none());
    }

    #[test]
    fn the_current_hour_is_not_its_own_baseline() {
        // A quiet week, then a burst at 10:05: the 10:06 minute is judged against the week,
        // not against 10:05.
        let mut h = series(7, |_| 1);
        let burst = day_hour(7, 10) + 5;
        h.insert(burst / 60, HourCount { count: 300, peak: 300 });
        assert!(judge(&h, burst + 1, 300).0);
        // An hour later, the burst is history: the same again is not unusual.
        assert!(!judge(&h, burst + 60, 300).0);
    }
}
