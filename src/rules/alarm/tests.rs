use super::eval::{decide, run, value};
use super::*;
use crate::event::Record;
use crate::rules::metric::{MINUTE, MetricBatch, MetricFilterConfig, compile_filters};
use crate::store::Store;
use crate::store::metrics::Stat;
use std::collections::BTreeMap;

const STATES: [State; 3] = [State::Ok, State::Alarm, State::InsufficientData];

/// `"0 - X"` → datapoints (oldest first).
fn points(s: &str) -> Vec<Option<bool>> {
    s.split_whitespace()
        .map(|p| match p {
            "0" => Some(false),
            "X" => Some(true),
            "-" => None,
            other => panic!("bad datapoint {other}"),
        })
        .collect()
}

/// Expected outcome in a table cell; `None` = "Retain current state".
fn cell(s: &str) -> Option<State> {
    match s {
        "OK" => Some(State::Ok),
        "ALARM" => Some(State::Alarm),
        "INSUFFICIENT_DATA" => Some(State::InsufficientData),
        "retain" => None,
        other => panic!("bad cell {other}"),
    }
}

fn check_table(m: usize, n: usize, rows: &[(&str, [&str; 4])]) {
    let treatments = [TreatMissingData::Missing, TreatMissingData::Ignore, TreatMissingData::Breaching, TreatMissingData::NotBreaching];
    for (row, expected) in rows {
        for (treat, want) in treatments.iter().zip(expected) {
            for current in STATES {
                let got = decide(&points(row), n, m, *treat, current);
                let want = cell(want).unwrap_or(current);
                assert_eq!(got, want, "M={m} N={n} `{row}` {treat:?} from {current:?}");
            }
        }
    }
}

#[test]
fn missing_data_table_1_three_of_three() {
    check_table(
        3,
        3,
        &[
            ("0 - X - X", ["OK", "OK", "OK", "OK"]),
            ("0 - - - -", ["OK", "OK", "OK", "OK"]),
            ("- - - - -", ["INSUFFICIENT_DATA", "retain", "ALARM", "OK"]),
            ("0 X X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
            ("- - X - -", ["ALARM", "retain", "ALARM", "OK"]),
        ],
    );
}

#[test]
fn missing_data_table_2_two_of_three() {
    check_table(
        2,
        3,
        &[
            ("0 - X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
            ("0 0 X 0 X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
            ("0 - X - -", ["OK", "OK", "ALARM", "OK"]),
            ("- - - - 0", ["OK", "OK", "ALARM", "OK"]),
            ("- - - X -", ["ALARM", "retain", "ALARM", "OK"]),
        ],
    );
}

#[test]
fn premature_alarm_is_avoided() {
    // §8.4: with N = M = 3, a fresh breaching datapoint amid missing ones does not alarm yet.
    for row in ["- - - - X", "- - - X -"] {
        for current in [State::Ok, State::InsufficientData] {
            assert_eq!(decide(&points(row), 3, 3, TreatMissingData::Missing, current), current, "{row}");
        }
    }
    // …and the data that follows shows why: the next datapoint is fine.
    assert_eq!(decide(&points("- - - X 0"), 3, 3, TreatMissingData::Missing, State::Ok), State::Ok);
    assert_eq!(decide(&points("- - X - 0"), 3, 3, TreatMissingData::Missing, State::Ok), State::Ok);
}

#[test]
fn m_of_n() {
    // 3 of 5, no missing data: only the newest five count.
    let d = |s: &str| decide(&points(s), 5, 3, TreatMissingData::Missing, State::Ok);
    assert_eq!(d("0 X 0 X 0 X 0"), State::Ok);
    assert_eq!(d("0 0 X 0 X 0 X"), State::Alarm);
    assert_eq!(d("X X X 0 0 0 0"), State::Ok);
    assert_eq!(d("0 0 X X X 0 0"), State::Alarm);
    // With gaps but enough real datapoints, the newest five real ones decide.
    assert_eq!(d("X - X 0 - X 0 X"), State::Alarm);
    assert_eq!(d("X - 0 0 - X 0 X"), State::Ok);
}

#[test]
fn statistics() {
    let mut s = Stat::of(2.0);
    s.absorb(&Stat::of(10.0));
    s.absorb(&Stat::of(3.0));
    assert_eq!(value(&s, Statistic::Sum), 15.0);
    assert_eq!(value(&s, Statistic::SampleCount), 3.0);
    assert_eq!(value(&s, Statistic::Average), 5.0);
    assert_eq!(value(&s, Statistic::Minimum), 2.0);
    assert_eq!(value(&s, Statistic::Maximum), 10.0);
}

#[test]
fn operators() {
    use ComparisonOperator::*;
    let cases = [
        (GreaterThanOrEqualToThreshold, [false, true, true]),
        (GreaterThanThreshold, [false, false, true]),
        (LessThanThreshold, [true, false, false]),
        (LessThanOrEqualToThreshold, [true, true, false]),
    ];
    for (op, want) in cases {
        assert_eq!([op.breaches(0.5, 1.0), op.breaches(1.0, 1.0), op.breaches(1.5, 1.0)], want, "{op:?}");
    }
}

fn filter_cfg(metric: &str, value: &str, dims: &[(&str, &str)]) -> MetricFilterConfig {
    MetricFilterConfig {
        filter_name: format!("f-{metric}"),
        filter_pattern: "{ $.eventName = X }".into(),
        metric_name: metric.into(),
        metric_namespace: "test".into(),
        metric_value: value.into(),
        default_value: None,
        dimensions: dims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        unit: None,
    }
}

fn alarm_cfg(
    name: &str,
    metric: &str,
    (period, n, m): (u32, u32, u32),
    statistic: Statistic,
    op: ComparisonOperator,
    threshold: f64,
) -> AlarmConfig {
    AlarmConfig {
        alarm_name: name.into(),
        alarm_description: None,
        metric_name: metric.into(),
        namespace: "test".into(),
        dimensions: BTreeMap::new(),
        period,
        evaluation_periods: n,
        datapoints_to_alarm: Some(m),
        statistic,
        comparison_operator: op,
        threshold,
        treat_missing_data: TreatMissingData::NotBreaching,
        severity: crate::alert::Severity::High,
        alert_on_ok: false,
    }
}

fn minutes(values: &[(i64, f64)]) -> BTreeMap<i64, Stat> {
    let mut out: BTreeMap<i64, Stat> = BTreeMap::new();
    for (m, v) in values {
        match out.get_mut(&(m * MINUTE)) {
            Some(s) => s.absorb(&Stat::of(*v)),
            None => {
                out.insert(m * MINUTE, Stat::of(*v));
            }
        }
    }
    out
}

#[test]
fn each_statistic_over_a_period() {
    use ComparisonOperator::*;
    // Values 1, 4 and 7 in one five-minute period; each statistic crosses its threshold.
    let data = minutes(&[(10, 1.0), (11, 4.0), (12, 7.0)]);
    let filters = compile_filters(&[filter_cfg("M", "$.v", &[])]).unwrap();
    // (statistic, operator, threshold, first alarming evaluation (minute), a threshold no window crosses)
    for (statistic, op, threshold, first, nudged) in [
        (Statistic::Sum, GreaterThanOrEqualToThreshold, 12.0, 13, 12.5),
        (Statistic::SampleCount, GreaterThanThreshold, 2.0, 13, 3.0),
        // Windows [8, 13) average 4; later windows that lose the 1 average 5.5, then 7.
        (Statistic::Average, GreaterThanOrEqualToThreshold, 4.0, 13, 7.5),
        // The first window holding minute 10 ends at minute 11.
        (Statistic::Minimum, LessThanOrEqualToThreshold, 1.0, 11, 0.5),
        (Statistic::Maximum, GreaterThanOrEqualToThreshold, 7.0, 13, 7.5),
    ] {
        let alarm = Alarm::compile(&alarm_cfg("a", "M", (300, 1, 1), statistic, op, threshold), &filters).unwrap();
        let (tr, _) = run(&alarm, &data, 0, 60 * MINUTE, State::InsufficientData);
        let alarmed: Vec<i64> = tr.iter().filter(|t| t.to == State::Alarm).map(|t| t.at / MINUTE).collect();
        assert_eq!(alarmed.first(), Some(&first), "{statistic:?}");
        // A threshold just past the value: no alarm.
        let alarm = Alarm::compile(&alarm_cfg("a", "M", (300, 1, 1), statistic, op, nudged), &filters).unwrap();
        let (tr, _) = run(&alarm, &data, 0, 60 * MINUTE, State::InsufficientData);
        assert!(tr.iter().all(|t| t.to != State::Alarm), "{statistic:?}");
    }
}

#[test]
fn evaluation_slides_every_minute_and_recovers() {
    let filters = compile_filters(&[filter_cfg("M", "1", &[])]).unwrap();
    let cfg = alarm_cfg("a", "M", (300, 1, 1), Statistic::Sum, ComparisonOperator::GreaterThanOrEqualToThreshold, 1.0);
    let alarm = Alarm::compile(&cfg, &filters).unwrap();
    let data = minutes(&[(100, 1.0)]);
    let (tr, last) = run(&alarm, &data, MINUTE, 200 * MINUTE, State::InsufficientData);
    let got: Vec<(i64, State)> = tr.iter().map(|t| (t.at / MINUTE, t.to)).collect();
    // notBreaching: OK from the first evaluation; ALARM once minute 100 is in the newest period.
    // With N = 1 the newest real datapoint decides, and that one stays the breaching period until
    // it leaves the 3-period evaluation range (15 minutes later); then all is missing: OK.
    assert_eq!(got, vec![(1, State::Ok), (101, State::Alarm), (116, State::Ok)]);
    assert_eq!(last, State::Ok);
}

#[test]
fn flaps_on_the_same_events_are_one_episode() {
    let filters = compile_filters(&[filter_cfg("M", "1", &[])]).unwrap();
    let cfg = alarm_cfg("a", "M", (300, 1, 1), Statistic::Sum, ComparisonOperator::GreaterThanOrEqualToThreshold, 2.0);
    let alarm = Alarm::compile(&cfg, &filters).unwrap();
    let data = minutes(&[(0, 1.0), (1, 1.0), (40, 1.0), (41, 1.0)]);
    let (tr, _) = run(&alarm, &data, MINUTE, 80 * MINUTE, State::InsufficientData);
    let history: Vec<(i64, State)> = tr.iter().map(|t| (t.at, t.to)).collect();
    let got: Vec<(i64, State)> = history.iter().map(|(t, s)| (t / MINUTE, *s)).collect();
    // At 00:06 the newest period [1, 6) holds one event: OK. At 00:07 it is empty and the older
    // period [-3, 2) with both events decides again: ALARM, on the same two events.
    use State::{Alarm as A, Ok as O};
    assert_eq!(got, vec![(1, O), (2, A), (6, O), (7, A), (11, O), (12, A), (16, O), (42, A), (46, O), (47, A), (51, O), (52, A), (56, O)]);
    // Two incidents: each ends once it has been out of ALARM for the 15-minute evaluation span.
    let eps: Vec<(i64, Option<i64>)> =
        super::eval::episodes(&history, alarm.span(), 80 * MINUTE).iter().map(|e| (e.start / MINUTE, e.end.map(|x| x / MINUTE))).collect();
    assert_eq!(eps, vec![(2, Some(16)), (42, Some(56))]);
    // Before the span has passed, the second is still open.
    let open = super::eval::episodes(&history, alarm.span(), 60 * MINUTE);
    assert_eq!(open[1].end, None);
}

// --- store, batches and alerts ---

fn ev(minute: i64, second: i64, id: &str, name: &str, user: &str) -> String {
    let time = crate::event::time::format_millis(minute * MINUTE + second * 1000);
    format!(
        r#"{{"eventTime":"{time}","eventID":"{id}","eventName":"{name}","eventSource":"signin.amazonaws.com","userIdentity":{{"type":"IAMUser","userName":"{user}"}}}}"#
    )
}

/// A batch over `events`; an event "matches" every filter when its eventName is `X` (standing in
/// for the filter-pattern matcher).
fn batch(filters: &std::sync::Arc<[crate::rules::metric::MetricFilter]>, events: &[String]) -> MetricBatch {
    let mut b = MetricBatch::new(filters.clone());
    for raw in events {
        let r = Record::parse(raw).unwrap();
        b.event(&r);
        if r.event_name.as_deref() == Some("X") {
            for i in 0..filters.len() {
                b.record(i, &r);
            }
        }
    }
    b
}

fn apply_batch(store: &mut dyn Store, b: MetricBatch, alarms: &[Alarm]) -> Vec<crate::alert::Alert> {
    let tx = store.transaction().unwrap();
    let (alerts, _) = apply(b, &*tx, alarms, 0).unwrap();
    tx.commit().unwrap();
    alerts
}

#[test]
fn late_datapoints_change_the_outcome_and_nothing_repeats() {
    let filters = compile_filters(&[filter_cfg("Fails", "1", &[])]).unwrap();
    let cfg = alarm_cfg("three-fails", "Fails", (300, 1, 1), Statistic::Sum, ComparisonOperator::GreaterThanOrEqualToThreshold, 3.0);
    let alarms = compile_alarms(&[cfg], &filters).unwrap();
    let mut store = crate::store::open_in_memory().unwrap();

    // Two failures, then unrelated activity up to minute 30: no alarm.
    let first = vec![ev(0, 5, "a", "X", "u"), ev(1, 5, "b", "X", "u"), ev(30, 0, "c", "Other", "u")];
    assert!(apply_batch(&mut *store, batch(&filters, &first), &alarms).is_empty());

    // A third failure at minute 2 arrives late: the five-minute window ending at minute 3 now holds 3.
    let late = vec![ev(2, 0, "d", "X", "u")];
    let alerts = apply_batch(&mut *store, batch(&filters, &late), &alarms);
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!((a.detector.as_str(), a.kind.as_str()), ("alarm", "three-fails"));
    assert_eq!(a.event_ids, vec!["a", "b", "d"]);
    assert_eq!(a.count, 3);
    assert_eq!(a.evidence.to_json()["transition_time"], "1970-01-01T00:03:00Z");
    assert_eq!(a.event_time.as_deref(), Some("1970-01-01T00:00:05Z"));

    // Later batches re-evaluate from their own minutes; the raised transition is never repeated,
    // and a batch overlapping the old window re-evaluates it without raising it again.
    assert!(apply_batch(&mut *store, batch(&filters, &[ev(60, 0, "e", "Other", "u")]), &alarms).is_empty());
    assert!(apply_batch(&mut *store, batch(&filters, &[ev(1, 30, "f", "Other", "u")]), &alarms).is_empty());
    let tx = store.transaction().unwrap();
    let alerted: Vec<(i64, String)> = tx.alarm_alerts("three-fails", "{}").unwrap().into_iter().map(|(t, s)| (t / MINUTE, s)).collect();
    assert_eq!(alerted, vec![(3, "ALARM".to_string())]);
    drop(tx);
    assert_eq!(store.undelivered_alerts().unwrap().len(), 1);
}

#[test]
fn a_late_ok_datapoint_keeps_a_missing_alarm_from_firing() {
    // LessThan alarms and `missing` data: a late non-breaching datapoint turns a premature-alarm
    // ALARM into OK when re-evaluated; the ALARM already raised stays raised (alerts are events).
    let mut c = filter_cfg("Heartbeat", "$.v", &[]);
    c.filter_pattern = "{ $.v = * }".into();
    let filters = compile_filters(&[c]).unwrap();
    let mut cfg = alarm_cfg("low", "Heartbeat", (60, 3, 2), Statistic::Maximum, ComparisonOperator::LessThanThreshold, 10.0);
    cfg.treat_missing_data = TreatMissingData::Missing;
    let alarms = compile_alarms(&[cfg], &filters).unwrap();
    let with_v = |minute: i64, id: &str, v: i64| {
        let t = crate::event::time::format_millis(minute * MINUTE);
        format!(r#"{{"eventTime":"{t}","eventID":"{id}","eventName":"X","v":{v}}}"#)
    };
    let mut store = crate::store::open_in_memory().unwrap();
    // Minute 0: value 5 (breaching), nothing else until minute 2.
    let a = apply_batch(&mut *store, batch(&filters, &[with_v(0, "a", 5), ev(2, 0, "z", "Other", "u")]), &alarms);
    // At 00:02 the range is `- - - X -`... the oldest breaching datapoint is 2 old = M: ALARM.
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].evidence.to_json()["transition_time"], "1970-01-01T00:02:00Z");
    let tx = store.transaction().unwrap();
    assert_eq!(tx.alarm_states("low").unwrap()[0].state, "ALARM");
    drop(tx);
    // A late healthy value at minute 1: `- - - X 0` is OK, and stays OK.
    let b = apply_batch(&mut *store, batch(&filters, &[with_v(1, "b", 50)]), &alarms);
    assert!(b.is_empty());
    let tx = store.transaction().unwrap();
    assert_eq!(tx.alarm_states("low").unwrap()[0].state, "OK");
    let history: Vec<String> = tx.alarm_transitions("low", "{}").unwrap().into_iter().map(|(_, s)| s).collect();
    assert!(!history.contains(&"ALARM".to_string()), "{history:?}");
}

#[test]
fn rereading_events_counts_them_once() {
    let filters = compile_filters(&[filter_cfg("M", "1", &[])]).unwrap();
    let cfg = alarm_cfg("two", "M", (300, 1, 1), Statistic::Sum, ComparisonOperator::GreaterThanOrEqualToThreshold, 2.0);
    let alarms = compile_alarms(&[cfg], &filters).unwrap();
    let mut store = crate::store::open_in_memory().unwrap();
    let events = vec![ev(0, 0, "only", "X", "u"), ev(9, 0, "later", "Other", "u")];
    for _ in 0..3 {
        assert!(apply_batch(&mut *store, batch(&filters, &events), &alarms).is_empty());
    }
    let tx = store.transaction().unwrap();
    assert_eq!(tx.metric_points("test:M", "{}", 0, MINUTE).unwrap()[&0].sum, 1.0);
}

#[test]
fn default_value_fills_minutes_with_events_but_no_match() {
    // "No successful sign-in this minute" with default 0: minutes with other events breach,
    // minutes with no events at all stay missing.
    let mut c = filter_cfg("Good", "1", &[]);
    c.default_value = Some(0.0);
    let filters = compile_filters(&[c]).unwrap();
    let mut cfg = alarm_cfg("none-good", "Good", (60, 1, 1), Statistic::Sum, ComparisonOperator::LessThanThreshold, 1.0);
    cfg.treat_missing_data = TreatMissingData::Ignore;
    let alarms = compile_alarms(&[cfg], &filters).unwrap();
    assert_eq!(alarms[0].default_value, Some(0.0));
    let mut store = crate::store::open_in_memory().unwrap();
    let events = vec![ev(0, 0, "a", "X", "u"), ev(0, 1, "b", "Other", "u"), ev(5, 0, "c", "X", "u"), ev(6, 0, "d", "Other", "u")];
    let alerts = apply_batch(&mut *store, batch(&filters, &events), &alarms);
    let tx = store.transaction().unwrap();
    let history: Vec<(i64, String)> = tx.alarm_transitions("none-good", "{}").unwrap().into_iter().map(|(t, s)| (t / MINUTE, s)).collect();
    // Minute 0 had a match (1, and no default): OK. Minutes 1–4 had no events: ignored. Minute 5 a
    // match: OK. Minute 6 only a non-matching event: the default 0 breaches.
    assert_eq!(history, vec![(1, "OK".to_string()), (7, "ALARM".to_string())]);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].evidence.to_json()["datapoints"][2]["value"], 0.0);
}

#[test]
fn per_dimension_series_alarm_separately() {
    let filters = compile_filters(&[filter_cfg("Logins", "1", &[("user", "$.userIdentity.userName")])]).unwrap();
    let mut cfg = alarm_cfg("logins", "Logins", (300, 1, 1), Statistic::Sum, ComparisonOperator::GreaterThanOrEqualToThreshold, 2.0);
    cfg.alert_on_ok = true;
    let alarms = compile_alarms(&[cfg.clone()], &filters).unwrap();
    assert!(!alarms[0].single_series);
    let mut store = crate::store::open_in_memory().unwrap();
    let events =
        vec![ev(0, 0, "a1", "X", "alice"), ev(1, 0, "a2", "X", "alice"), ev(1, 0, "b1", "X", "bob"), ev(40, 0, "z", "Other", "carol")];
    let alerts = apply_batch(&mut *store, batch(&filters, &events), &alarms);
    let got: Vec<(String, String)> = alerts
        .iter()
        .map(|a| (a.evidence.to_json()["metric"]["dimensions"]["user"].to_string(), a.evidence.to_json()["to_state"].to_string()))
        .collect();
    assert_eq!(got, vec![("\"alice\"".into(), "\"ALARM\"".into()), ("\"alice\"".into(), "\"OK\"".into())]);
    assert_eq!(alerts[1].severity, crate::alert::Severity::Info);

    // An alarm naming the dimension watches that series only.
    cfg.alarm_name = "bob".into();
    cfg.threshold = 1.0;
    cfg.dimensions.insert("user".into(), "bob".into());
    let bob = compile_alarms(&[cfg], &filters).unwrap();
    assert!(bob[0].single_series);
    // A new alarm is evaluated over all stored data, as if it had existed from the start.
    let alerts = apply_batch(&mut *store, batch(&filters, &[ev(41, 0, "y", "Other", "carol")]), &bob);
    let to: Vec<&str> = alerts.iter().map(|a| a.evidence.as_alarm().unwrap().to_state.as_str()).collect();
    assert_eq!(to, vec!["ALARM", "OK"], "alert_on_ok is still set");
    assert_eq!(alerts[0].event_ids, vec!["b1"]);
    assert_eq!(alerts[0].evidence.to_json()["transition_time"], "1970-01-01T00:02:00Z");
    let tx = store.transaction().unwrap();
    let states = tx.alarm_states("bob").unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].dimensions, r#"{"user":"bob"}"#);
}

#[test]
fn a_changed_definition_is_evaluated_afresh_without_repeats() {
    let filters = compile_filters(&[filter_cfg("M", "1", &[])]).unwrap();
    let cfg = alarm_cfg("a", "M", (300, 1, 1), Statistic::Sum, ComparisonOperator::GreaterThanOrEqualToThreshold, 2.0);
    let mut store = crate::store::open_in_memory().unwrap();
    let events = vec![ev(0, 0, "1", "X", "u"), ev(60, 0, "2", "X", "u"), ev(60, 1, "3", "X", "u"), ev(90, 0, "4", "Other", "u")];
    let alarms = compile_alarms(std::slice::from_ref(&cfg), &filters).unwrap();
    assert_eq!(apply_batch(&mut *store, batch(&filters, &events), &alarms).len(), 1);
    // Threshold lowered to 1: minute 0 now alarms too (a new alert); minute 60's alarm was raised already.
    let mut lower = cfg.clone();
    lower.threshold = 1.0;
    let alarms = compile_alarms(&[lower], &filters).unwrap();
    let alerts = apply_batch(&mut *store, batch(&filters, &[ev(91, 0, "5", "Other", "u")]), &alarms);
    let times: Vec<String> = alerts.iter().map(|a| a.evidence.to_json()["transition_time"].as_str().unwrap().to_string()).collect();
    assert_eq!(times, vec!["1970-01-01T00:01:00Z"]);
}

#[test]
fn store_round_trip_and_migration() {
    let filters = compile_filters(&[filter_cfg("M", "$.v", &[])]).unwrap();
    let raw = |id: &str, v: i64| format!(r#"{{"eventTime":"1970-01-01T00:05:10Z","eventID":"{id}","eventName":"X","v":{v}}}"#);
    let mut store = crate::store::open_in_memory().unwrap();
    for (id, v, changed, repeated) in [("a", 3, 1, 0), ("b", -1, 1, 0), ("a", 3, 0, 1)] {
        let (points, minutes, _) = batch(&filters, &[raw(id, v)]).into_parts();
        let tx = store.transaction().unwrap();
        assert_eq!(tx.merge_metric_points(&points).unwrap(), (changed, repeated), "{id}");
        tx.add_metric_minutes(&minutes).unwrap();
        tx.commit().unwrap();
    }
    let tx = store.transaction().unwrap();
    let got = tx.metric_points("test:M", "{}", 0, 10 * MINUTE).unwrap();
    let s = &got[&(5 * MINUTE)];
    assert_eq!((s.sum, s.count, s.min, s.max), (2.0, 2, -1.0, 3.0));
    assert_eq!(s.samples.iter().map(|s| (s.0, s.1.as_str())).collect::<Vec<_>>(), vec![(310_000, "a"), (310_000, "b")]);
    assert_eq!(tx.metric_series("test:M").unwrap(), vec![("{}".to_string(), 5 * MINUTE)]);
    assert!(tx.metric_points("test:M", "{}", 6 * MINUTE, 10 * MINUTE).unwrap().is_empty());
    assert_eq!(tx.metric_minute_range().unwrap(), Some((5 * MINUTE, 5 * MINUTE)));
    tx.add_metric_minutes(&[2 * MINUTE, 9 * MINUTE]).unwrap();
    assert_eq!(tx.metric_minute_range().unwrap(), Some((2 * MINUTE, 9 * MINUTE)));
    assert_eq!(tx.metric_minutes(3 * MINUTE, 10 * MINUTE).unwrap(), vec![5 * MINUTE, 9 * MINUTE]);
}

#[test]
fn schema_v1_store_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(crate::store::sqlite::schema::MIGRATIONS[0]).unwrap();
        conn.execute("INSERT INTO meta (name, value) VALUES ('schema_version', '1')", []).unwrap();
    }
    let mut store = crate::store::open(&path).unwrap();
    let tx = store.transaction().unwrap();
    assert!(tx.alarm_states("x").unwrap().is_empty());
    assert!(tx.metric_series("m").unwrap().is_empty());
}

#[test]
fn validation_follows_put_metric_alarm() {
    let filters = compile_filters(&[filter_cfg("M", "1", &[("user", "$.u")])]).unwrap();
    let ok = alarm_cfg("a", "M", (300, 3, 2), Statistic::Sum, ComparisonOperator::GreaterThanThreshold, 1.0);
    assert!(Alarm::compile(&ok, &filters).is_ok());
    let bad = |f: &dyn Fn(&mut AlarmConfig)| {
        let mut c = ok.clone();
        f(&mut c);
        Alarm::compile(&c, &filters).unwrap_err().to_string()
    };
    assert!(bad(&|c| c.period = 90).contains("multiple of 60"));
    assert!(bad(&|c| c.period = 30).contains("multiple of 60"));
    assert!(bad(&|c| c.datapoints_to_alarm = Some(4)).contains("datapoints_to_alarm"));
    assert!(bad(&|c| c.evaluation_periods = 0).contains("evaluation_periods"));
    assert!(bad(&|c| c.evaluation_periods = 289).contains("one day"));
    assert!(bad(&|c| c.metric_name = "Nope".into()).contains("no metric filter"));
    assert!(bad(&|c| c.namespace = "other".into()).contains("no metric filter"));
    assert!(
        bad(&|c| {
            c.dimensions.insert("host".into(), "x".into());
        })
        .contains("no dimension")
    );
    assert!(compile_alarms(&[ok.clone(), ok], &filters).is_err());
}

#[test]
fn config_parses_with_put_metric_names() {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rules {
        metric_filters: Vec<MetricFilterConfig>,
        alarms: Vec<AlarmConfig>,
    }
    let text = r#"
[[metric_filters]]
filter_name = "RootAccountUsage"
filter_pattern = '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}'
metric_name = "RootAccountUsageCount"
metric_namespace = "LogMetrics"
metric_value = "1"

[[metric_filters]]
filter_name = "ListCalls"
filter_pattern = '{ $.eventName = "List*" }'
metric_name = "ListCalls"
dimensions = { principal = "$.userIdentity.arn" }
unit = "Count"

[[alarms]]
alarm_name = "CIS root usage"
metric_name = "RootAccountUsageCount"
namespace = "LogMetrics"
period = 300
evaluation_periods = 1
statistic = "Sum"
comparison_operator = "GreaterThanOrEqualToThreshold"
threshold = 1
treat_missing_data = "notBreaching"
severity = "high"

[[alarms]]
alarm_name = "list burst"
metric_name = "ListCalls"
period = 60
evaluation_periods = 5
datapoints_to_alarm = 3
statistic = "SampleCount"
comparison_operator = "GreaterThanThreshold"
threshold = 50
alert_on_ok = true
"#;
    let r: Rules = toml::from_str(text).unwrap();
    let filters = compile_filters(&r.metric_filters).unwrap();
    let alarms = compile_alarms(&r.alarms, &filters).unwrap();
    assert_eq!(filters[0].metric, "LogMetrics:RootAccountUsageCount");
    assert_eq!(filters[1].metric, "trailhound:ListCalls");
    assert_eq!(alarms[0].config.treat_missing_data, TreatMissingData::NotBreaching);
    assert_eq!(alarms[1].config.treat_missing_data, TreatMissingData::Missing);
    assert_eq!(alarms[1].datapoints_to_alarm, 3);
    assert!(alarms[0].single_series && !alarms[1].single_series);

    let typo = text.replace("treat_missing_data = \"notBreaching\"", "treat_missing = \"notBreaching\"");
    let e = toml::from_str::<Rules>(&typo).err().unwrap();
    assert!(e.message().contains("unknown field `treat_missing`"), "{e}");
    let bad_op = text.replace("GreaterThanThreshold", "GreaterThan");
    assert!(toml::from_str::<Rules>(&bad_op).is_err());
}

/// Six hours of synthetic activity in ten-minute chunks: three users, quiet stretches and bursts
/// of matching events.
fn synthetic_chunks() -> Vec<Vec<String>> {
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut chunks = vec![Vec::new(); 36];
    for minute in 0..360i64 {
        let bursting = (minute / 30) % 3 == 1 && next(4) > 0;
        let n = if bursting { 2 + next(4) } else { next(2) };
        for k in 0..n {
            let user = ["alice", "bob", "carol"][next(3) as usize];
            let name = if bursting || next(5) == 0 { "X" } else { "Other" };
            chunks[(minute / 10) as usize].push(ev(minute, (k * 7 % 60) as i64, &format!("{minute}-{k}"), name, user));
        }
    }
    chunks
}

/// One series after a run: dimensions, transitions, alerts raised.
type SeriesOutcome = (String, Vec<(i64, String)>, usize);

#[test]
fn batch_order_does_not_change_history_or_alerts() {
    let filters = compile_filters(&[filter_cfg("M", "1", &[]), filter_cfg("U", "1", &[("user", "$.userIdentity.userName")])]).unwrap();
    let mut burst = alarm_cfg("burst", "M", (300, 1, 1), Statistic::Sum, ComparisonOperator::GreaterThanOrEqualToThreshold, 8.0);
    burst.alert_on_ok = true;
    let mut m_of_n = alarm_cfg("3-of-5", "M", (60, 5, 3), Statistic::SampleCount, ComparisonOperator::GreaterThanThreshold, 2.0);
    m_of_n.treat_missing_data = TreatMissingData::Missing;
    let mut per_user = alarm_cfg("per-user", "U", (120, 2, 2), Statistic::Sum, ComparisonOperator::GreaterThanOrEqualToThreshold, 2.0);
    per_user.treat_missing_data = TreatMissingData::Ignore;
    let alarms = compile_alarms(&[burst, m_of_n, per_user], &filters).unwrap();
    let chunks = synthetic_chunks();

    let outcome = |batches: &[Vec<String>]| {
        let mut store = crate::store::open_in_memory().unwrap();
        let mut raised = 0;
        for b in batches {
            // Update alerts judge each period once, when the data reaches its end: events arriving
            // after that (reversed, interleaved) name no one, so only incidents are compared.
            let alerts = apply_batch(&mut *store, batch(&filters, b), &alarms);
            raised += alerts.iter().filter(|a| a.evidence.as_alarm().is_some_and(|e| e.reason != "update")).count();
        }
        let tx = store.transaction().unwrap();
        let mut history = Vec::new();
        for a in &alarms {
            for s in tx.alarm_states(&a.config.alarm_name).unwrap() {
                // Alerts are counted, not timed: with late data an incident is raised when first
                // seen, and its start moving earlier later does not raise it again.
                let alerted = tx.alarm_alerts(&s.alarm, &s.dimensions).unwrap().len();
                history.push((s.dimensions.clone(), tx.alarm_transitions(&s.alarm, &s.dimensions).unwrap(), alerted));
            }
        }
        (history, raised)
    };
    let (reference, raised) = outcome(&[chunks.concat()]);
    assert!(raised >= 6, "the data should alarm several times, raised {raised}");
    let in_order = chunks.clone();
    let reversed: Vec<Vec<String>> = chunks.iter().rev().cloned().collect();
    let interleaved: Vec<Vec<String>> = chunks.iter().step_by(2).chain(chunks.iter().skip(1).step_by(2)).cloned().collect();
    for (name, order) in [("in order", in_order), ("reversed", reversed), ("interleaved", interleaved)] {
        let (got, got_raised) = outcome(&order);
        let transitions = |h: &[SeriesOutcome]| h.iter().map(|(d, t, _)| (d.clone(), t.clone())).collect::<Vec<_>>();
        assert!(transitions(&got) == transitions(&reference), "{name}: the final history must not depend on batch order");
        // No incident is lost. Delivered late but whole (reversed), each is raised once; with
        // holes filled later (interleaved), an incident first seen as two pieces was raised twice.
        for ((_, _, a), (_, _, b)) in got.iter().zip(&reference) {
            assert!(a >= b, "{name}");
        }
        if name == "interleaved" {
            assert!(got_raised >= raised, "{name}");
        } else {
            assert_eq!(got, reference, "{name}");
            assert_eq!(got_raised, raised, "{name}");
        }
    }
}

/// A store written by schema V2 (event keys in `metric_events`, none on the datapoints) still
/// counts each event once after the upgrade to V3, for old datapoints and new ones.
#[test]
fn v2_store_upgrades_without_counting_twice() {
    let filters = compile_filters(&[filter_cfg("M", "1", &[])]).unwrap();
    let raw = |id: &str, minute: u32| format!(r#"{{"eventTime":"1970-01-01T00:0{minute}:10Z","eventID":"{id}","eventName":"X"}}"#);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.sqlite");
    {
        // What a V2 build left: its schema, one datapoint, and the key of the event it counted.
        let conn = rusqlite::Connection::open(&path).unwrap();
        for step in &crate::store::sqlite::schema::MIGRATIONS[..2] {
            conn.execute_batch(step).unwrap();
        }
        conn.execute("INSERT INTO meta (name, value) VALUES ('schema_version', '2')", []).unwrap();
        let (points, _, _) = batch(&filters, &[raw("old", 5)]).into_parts();
        let (k, p) = &points[0];
        conn.execute(
            "INSERT INTO metric_points (metric, dimensions, minute, sum, count, min, max, samples) VALUES (?1, ?2, ?3, 1, 1, 1, 1, '[]')",
            rusqlite::params![k.metric, k.dimensions, k.minute],
        )
        .unwrap();
        conn.execute("INSERT INTO metric_events (event_key) VALUES (?1)", [p.values[0].event_key]).unwrap();
    }
    let mut store = crate::store::open(&path).unwrap();
    // The old event again with a new one in the same (pre-V3) minute, and in a new minute twice.
    for (events, want) in [(vec![raw("old", 5), raw("new", 5)], (1, 1)), (vec![raw("later", 7)], (1, 0)), (vec![raw("later", 7)], (0, 1))] {
        let (points, _, _) = batch(&filters, &events).into_parts();
        let tx = store.transaction().unwrap();
        assert_eq!(tx.merge_metric_points(&points).unwrap(), want, "{events:?}");
        tx.commit().unwrap();
    }
    let tx = store.transaction().unwrap();
    let got = tx.metric_points("test:M", "{}", 0, 10 * MINUTE).unwrap();
    assert_eq!((got[&(5 * MINUTE)].count, got[&(7 * MINUTE)].count), (2, 1));
}

fn caller_ev(minute: i64, second: i64, id: &str, user: &str) -> String {
    let time = crate::event::time::format_millis(minute * MINUTE + second * 1000);
    format!(
        r#"{{"eventTime":"{time}","eventID":"{id}","eventName":"X","awsRegion":"eu-west-1","recipientAccountId":"111122223333","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{user}","accountId":"111122223333","userName":"{user}"}}}}"#
    )
}

#[test]
fn new_principals_inside_an_alarm_episode_raise_one_update_per_period() {
    let filters = compile_filters(&[filter_cfg("Fails", "1", &[])]).unwrap();
    let cfg = alarm_cfg("fails", "Fails", (300, 1, 1), Statistic::Sum, ComparisonOperator::GreaterThanOrEqualToThreshold, 3.0);
    let alarms = compile_alarms(&[cfg], &filters).unwrap();
    // A benign job keeps the alarm in ALARM from minute 3; eve calls in the first period after
    // it, mallory and trent (and eve again) in the second.
    let mut events: Vec<String> = (0..21).map(|m| caller_ev(m, 0, &format!("n{m:02}"), "job")).collect();
    events.extend([caller_ev(7, 30, "e1", "eve"), caller_ev(7, 40, "e2", "eve"), caller_ev(9, 0, "e3", "eve")]);
    events.extend([caller_ev(9, 10, "m1", "mallory"), caller_ev(9, 20, "t1", "trent")]);
    let mut once = crate::store::open_in_memory().unwrap();
    let all = apply_batch(&mut *once, batch(&filters, &events), &alarms);
    let evidence: Vec<&crate::alert::evidence::AlarmEvidence> = all.iter().map(|a| a.evidence.as_alarm().unwrap()).collect();
    let reasons: Vec<&str> = evidence.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, ["alarm", "update", "update"]);
    let opening = &all[0];
    assert_eq!(opening.account.as_deref(), Some("111122223333"));
    assert_eq!(opening.region.as_deref(), Some("eu-west-1"));
    assert_eq!(evidence[0].events[0].principal.as_deref(), Some("arn:aws:iam::111122223333:user/job"));
    assert_eq!(evidence[0].filters[0].pattern, "{ $.eventName = X }");
    let named = |e: &crate::alert::evidence::AlarmEvidence| e.update.as_ref().unwrap().new_principals.clone();
    assert_eq!(named(evidence[1]), ["arn:aws:iam::111122223333:user/eve"]);
    assert_eq!(named(evidence[2]), ["arn:aws:iam::111122223333:user/mallory", "arn:aws:iam::111122223333:user/trent"]);
    assert!(evidence[1..].iter().all(|e| e.episode_id == opening.id));
    assert_eq!(all[1].event_ids, ["e1", "e2"]);
    assert_eq!(all[1].count, 2);

    // Day by day (two batches, cut inside the second period) raises the same alerts.
    let mut daily = crate::store::open_in_memory().unwrap();
    let (early, late): (Vec<String>, Vec<String>) = events.iter().cloned().partition(|e| e.as_str() < "{\"eventTime\":\"1970-01-01T00:10");
    let mut split = apply_batch(&mut *daily, batch(&filters, &early), &alarms);
    split.extend(apply_batch(&mut *daily, batch(&filters, &late), &alarms));
    let ids = |v: &[crate::alert::Alert]| v.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&all), ids(&split));

    // Read again: nothing new.
    assert!(apply_batch(&mut *once, batch(&filters, &events), &alarms).is_empty());
}

#[test]
fn names_in_alerts_are_the_names_serde_reads() {
    use serde_json::json;
    for s in [Statistic::SampleCount, Statistic::Average, Statistic::Sum, Statistic::Minimum, Statistic::Maximum] {
        assert_eq!(json!(s), json!(s.as_str()));
    }
    for c in [
        ComparisonOperator::GreaterThanOrEqualToThreshold,
        ComparisonOperator::GreaterThanThreshold,
        ComparisonOperator::LessThanThreshold,
        ComparisonOperator::LessThanOrEqualToThreshold,
    ] {
        assert_eq!(json!(c), json!(c.as_str()));
    }
    for t in [TreatMissingData::Missing, TreatMissingData::Ignore, TreatMissingData::Breaching, TreatMissingData::NotBreaching] {
        assert_eq!(json!(t), json!(t.as_str()));
    }
    for s in [State::Ok, State::Alarm, State::InsufficientData] {
        assert_eq!(json!(s), json!(s.as_str()));
    }
}
