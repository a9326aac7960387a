//! Spans: runs of activity on one key and outcome whose gaps are at most the `first_in_n_days`
//! window. Gaps longer than the window survive merging, so one run over a year finds the same
//! "first time in N days" as a run per day.

use super::Sample;
use std::sync::Arc;

/// Event IDs kept per span (the earliest by time, then ID).
pub(crate) const MAX_EVENT_IDS: usize = 5;

/// A run of activity on one key and outcome.
#[derive(Debug, Clone)]
pub(crate) struct Span {
    pub first: i64,
    pub last: i64,
    pub count: u64,
    /// The earliest event (by time, then event ID, so the choice does not depend on read order).
    pub sample: Arc<Sample>,
    pub event_ids: Vec<(i64, String)>,
    /// The time of the last kept ID once `event_ids` is full (`i64::MAX` before): a later event
    /// cannot enter, and telling so needs no look into the list.
    ids_until: i64,
}

impl Span {
    pub(super) fn new(t: i64, id: Option<&str>, sample: Arc<Sample>) -> Span {
        let event_ids = id.map(|id| vec![(t, id.to_string())]).unwrap_or_default();
        Span { first: t, last: t, count: 1, sample, event_ids, ids_until: i64::MAX }
    }

    fn absorb(&mut self, o: Span) {
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.count += o.count;
        if o.sample.order() < self.sample.order() {
            self.sample = o.sample;
        }
        for id in o.event_ids {
            self.push_id(id);
        }
    }

    fn push_id(&mut self, id: (i64, String)) {
        let ids = &mut self.event_ids;
        if ids.contains(&id) {
            return;
        }
        if ids.len() == MAX_EVENT_IDS {
            if ids.last().is_some_and(|l| &id >= l) {
                return;
            }
            ids.pop();
        }
        let at = ids.partition_point(|x| x < &id);
        ids.insert(at, id);
        if ids.len() == MAX_EVENT_IDS {
            self.ids_until = ids.last().map_or(i64::MAX, |l| l.0);
        }
    }
}

/// Adds one event at `t` to `spans` (sorted, apart by more than `gap`), keeping them so.
/// `sample` is called only when the event becomes a span's earliest.
pub(super) fn add_event(spans: &mut Vec<Span>, gap: i64, t: i64, id: Option<&str>, sample: &mut dyn FnMut() -> Arc<Sample>) {
    match spans.iter().position(|s| t >= s.first.saturating_sub(gap) && t <= s.last.saturating_add(gap)) {
        Some(i) => {
            let s = &mut spans[i];
            s.count += 1;
            s.last = s.last.max(t);
            // The sample is the span's earliest event, so its time is `first`: most events are
            // told apart from it without reading it.
            if t <= s.first && (t, id) < s.sample.order() {
                s.first = t;
                s.sample = sample();
            }
            if let Some(id) = id
                && t <= s.ids_until
                && (s.event_ids.len() < MAX_EVENT_IDS || s.event_ids.last().is_some_and(|l| (t, id) < (l.0, l.1.as_str())))
            {
                s.push_id((t, id.to_string()));
            }
            if spans.len() > 1 {
                coalesce(spans, gap);
            }
        }
        None => {
            let at = spans.partition_point(|s| s.first < t);
            spans.insert(at, Span::new(t, id, sample()));
        }
    }
}

/// Sorts spans and joins those whose gap is at most `gap`: the spans of a union of event sets
/// are the coalesced spans of its parts, which is what lets workers and cells merge exactly.
pub(super) fn coalesce(spans: &mut Vec<Span>, gap: i64) {
    if spans.len() < 2 {
        return;
    }
    spans.sort_by_key(|s| s.first);
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans.drain(..) {
        match out.last_mut() {
            Some(prev) if s.first.saturating_sub(prev.last) <= gap => prev.absorb(s),
            _ => out.push(s),
        }
    }
    *spans = out;
}
