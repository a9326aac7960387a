//! The detector over the store: episodes, late events, batches, bounded state. The model's own
//! rules are pinned in `model.rs` on hand-made hour series.

use super::*;
use crate::store::Store;

/// 2024-01-01T00:00Z, a Monday, in ms.
const MONDAY: i64 = 1_704_067_200_000;
const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

/// One record: `name` in account 111111111111, us-east-1, by the deploy role; a write unless
/// the name reads.
fn ev(t: i64, name: &str, error: Option<&str>, n: usize) -> String {
    let err = error.map(|e| format!(r#","errorCode":"{e}""#)).unwrap_or_default();
    format!(
        r#"{{"eventTime":"{}","eventSource":"ec2.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","recipientAccountId":"111111111111","eventID":"{name}-{t}-{n}","readOnly":{},"eventType":"AwsApiCall","userAgent":"terraform/1.7","userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111111111111:assumed-role/deploy/s{n}","accountId":"111111111111"}}{err}}}"#,
        crate::event::time::format_millis(t),
        name.starts_with("Describe")
    )
}

/// A regular series: `per` calls of `name` every `every` minutes for `days` days from Monday.
fn regular(days: i64, every: i64, per: usize, name: &str, error: Option<&str>) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut t = MONDAY;
    while t < MONDAY + days * DAY {
        for n in 0..per {
            out.push((t + n as i64 * 1000, ev(t + n as i64 * 1000, name, error, n)));
        }
        t += every * MINUTE;
    }
    out
}

/// `n` calls within the minute starting at `t`.
fn burst(t: i64, n: usize, name: &str, error: Option<&str>) -> Vec<(i64, String)> {
    (0..n).map(|i| (t + i as i64 * 100, ev(t + i as i64 * 100, name, error, i))).collect()
}

fn apply(store: &mut dyn Store, det: &StatisticsDetector, events: &[(i64, String)]) -> Vec<Alert> {
    let mut batch = RateBatch::default();
    for (_, raw) in events {
        batch.event(&crate::event::Record::parse(raw).unwrap(), &det.cfg);
    }
    let tx = store.transaction().unwrap();
    let (alerts, _) = det.apply(batch, &*tx, 0).unwrap();
    tx.commit().unwrap();
    alerts
}

/// Runs the events through a fresh store, cut into batches at the given times (event time).
fn scan(events: &[(i64, String)], cuts: &[i64]) -> Vec<Alert> {
    let det = StatisticsDetector { cfg: StatisticsConfig::default() };
    let mut store = crate::store::open_in_memory().unwrap();
    let mut alerts = Vec::new();
    let mut bounds = vec![i64::MIN];
    bounds.extend_from_slice(cuts);
    bounds.push(i64::MAX);
    for w in bounds.windows(2) {
        let part: Vec<_> = events.iter().filter(|(t, _)| *t >= w[0] && *t < w[1]).cloned().collect();
        alerts.extend(apply(&mut *store, &det, &part));
    }
    alerts
}

fn week_then_spike() -> (Vec<(i64, String)>, i64) {
    // Two RunInstances every ten minutes for a week, then 60 a minute for five minutes on the
    // eighth day at 14:00.
    let mut events = regular(8, 10, 2, "RunInstances", None);
    let spike = MONDAY + 7 * DAY + 14 * 60 * MINUTE + 3 * MINUTE;
    for m in 0..5 {
        events.extend(burst(spike + m * MINUTE, 60, "RunInstances", None));
    }
    (events, spike)
}

#[test]
fn a_spike_is_one_alert_with_its_evidence() {
    let (events, spike) = week_then_spike();
    let alerts = scan(&events, &[]);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.detector, Detector::Statistics);
    assert_eq!(a.kind, "api_call_rate");
    assert_eq!(a.event_time.as_deref(), Some(crate::event::time::format_millis(spike).as_str()));
    assert_eq!((a.account.as_deref(), a.region.as_deref()), (Some("111111111111"), Some("us-east-1")));
    assert_eq!(
        (a.event_source.as_deref(), a.event_name.as_deref(), a.error_code.as_deref()),
        (Some("ec2.amazonaws.com"), Some("RunInstances"), None)
    );
    assert_eq!(a.count, 60);
    assert_eq!(a.event_ids.len(), SAMPLES);
    let e = a.evidence.as_statistics().unwrap();
    assert_eq!(e.insight_type, "ApiCallRateInsight");
    assert_eq!(e.baseline_duration_minutes, 7 * 24 * 60, "the seven days before the spike's hour");
    assert!((e.baseline_average - 0.2).abs() < 0.01, "{e:?}");
    assert_eq!(e.baseline_peak, 2);
    assert!(e.threshold <= 60 && e.p_value < 1e-6 && e.score > 6.0, "{e:?}");
    assert_eq!(e.attributions.user_identity_arn[0].value, "arn:aws:sts::111111111111:assumed-role/deploy");
    assert_eq!(e.attributions.error_code[0].value, "null");
    assert_eq!(a.user_agent.as_deref(), Some("terraform/1.7"));
}

#[test]
fn day_by_day_gives_the_same_alerts_and_late_events_count() {
    let (mut events, spike) = week_then_spike();
    let one = scan(&events, &[]);
    let days: Vec<i64> = (1..9).map(|d| MONDAY + d * DAY).collect();
    let daily = scan(&events, &days);
    let ids = |v: &[Alert]| v.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&one), ids(&daily));
    assert_eq!(one, daily, "same bodies too: every minute was whole when judged");

    // A spike minute that arrives in two parts, the second after its day was scanned: 40 calls
    // are not unusual that evening (the afternoon's spike is history by then), 150 are. Judged
    // again with its whole count, the minute alerts then, under the id a single scan gives it.
    let late_spike = MONDAY + 8 * DAY - 30 * MINUTE;
    events.extend(burst(late_spike, 150, "RunInstances", None));
    let mut split = events.clone();
    for (t, _) in split.iter_mut().filter(|(t, _)| (late_spike + 4000..late_spike + MINUTE).contains(t)) {
        // Read in the batch after (their eventTime stays).
        *t += DAY;
    }
    let whole = scan(&events, &[]);
    let parts = scan(&split, &days);
    assert_eq!(ids(&whole), ids(&parts));
    assert!(whole.iter().any(|a| a.event_time.as_deref() == Some(crate::event::time::format_millis(late_spike).as_str())));
    assert_eq!(whole.len(), 2, "{whole:#?}");
    assert_eq!(whole[0].event_time.as_deref(), Some(crate::event::time::format_millis(spike).as_str()));
}

#[test]
fn an_error_burst_is_an_error_rate_alert() {
    // A steady trickle of AccessDenied on DescribeInstances (reads count for errors), then a
    // burst of a code never seen.
    let mut events = regular(8, 30, 1, "DescribeInstances", Some("AccessDenied"));
    let t = MONDAY + 7 * DAY + 9 * 60 * MINUTE;
    events.extend(burst(t, 25, "DescribeInstances", Some("UnauthorizedOperation")));
    let alerts = scan(&events, &[]);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a.kind, "api_error_rate");
    assert_eq!(a.error_code.as_deref(), Some("UnauthorizedOperation"));
    let e = a.evidence.as_statistics().unwrap();
    assert_eq!(e.insight_type, "ApiErrorRateInsight");
    assert_eq!((e.baseline_average, e.baseline_peak), (0.0, 0));
    assert_eq!(e.attributions.error_code[0].value, "UnauthorizedOperation");
    // Reads are not call-rate series: only the error series exists.
    assert!(alerts.iter().all(|a| a.kind == "api_error_rate"));
}

#[test]
fn no_alert_before_minimum_history() {
    // The same spike on the second day: the account and region have one day of history.
    let mut events = regular(2, 10, 2, "RunInstances", None);
    events.extend(burst(MONDAY + DAY + 14 * 60 * MINUTE, 200, "RunInstances", None));
    assert!(scan(&events, &[]).is_empty());
}

#[test]
fn a_daily_burst_stays_quiet_and_state_stays_bounded() {
    // A nightly job: 30 calls in one minute at 02:00 for three weeks, plus a trickle. No alert,
    // and the store holds the window's hours, not three weeks of them.
    let mut events = regular(21, 60, 1, "CreateSnapshot", None);
    for d in 0..21 {
        events.extend(burst(MONDAY + d * DAY + 2 * 60 * MINUTE, 30, "CreateSnapshot", None));
    }
    let det = StatisticsDetector { cfg: StatisticsConfig::default() };
    let mut store = crate::store::open_in_memory().unwrap();
    for d in 0..21 {
        let day: Vec<_> = events.iter().filter(|(t, _)| (MONDAY + d * DAY..MONDAY + (d + 1) * DAY).contains(t)).cloned().collect();
        assert!(apply(&mut *store, &det, &day).is_empty(), "day {d}");
    }
    let tx = store.transaction().unwrap();
    let key = SeriesKey {
        kind: Kind::CallRate,
        account: "111111111111".into(),
        region: "us-east-1".into(),
        source: "ec2.amazonaws.com".into(),
        name: "CreateSnapshot".into(),
        error: None,
    };
    let hours = tx.stat_hours(&key.id(), i64::MIN, i64::MAX).unwrap();
    // The window and two days of hours, counting the latest hour itself.
    assert!(hours.len() <= (7 + 2) * 24 + 1 && hours.len() > 7 * 24, "{}", hours.len());
    let minutes = tx.stat_minutes(&key.id(), i64::MIN, i64::MAX).unwrap();
    assert!(minutes.len() <= 25 * 60, "{}", minutes.len());
}
