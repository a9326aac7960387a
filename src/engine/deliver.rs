//! Delivery from the store's alert outbox to the sinks: at least once, each copy the stored body
//! byte for byte (docs/reliability.md).
//!
//! A stream (JSON lines, a table) is written first and the alerts marked delivered after, so a
//! run killed in between writes them again. A receiver that confirms (the webhook) has its own
//! outbox rows, queued in the transaction that marks the stream delivered and settled only by
//! its confirmation: whatever it has not confirmed is handed to it again by the next run.

use crate::alert::Alert;
use crate::alert::sink::AlertSink;
use crate::store::Store;

/// Writes alerts waiting in the outbox to the streams, marks them delivered (queueing them for
/// the confirming sinks), and hands each confirming sink what it has not confirmed yet.
/// Returns how many alerts the streams took.
pub(super) fn pending(store: &mut dyn Store, sinks: &mut [&mut dyn AlertSink]) -> anyhow::Result<u64> {
    let pending = store.undelivered_alerts()?;
    let mut ids = Vec::with_capacity(pending.len());
    let mut unreadable = Vec::new();
    for (id, body) in pending {
        let Some((alert, json)) = outgoing(&id, &body) else {
            unreadable.push(id);
            continue;
        };
        for s in sinks.iter_mut().filter(|s| s.confirms().is_none()) {
            s.send(&alert, &json)?;
        }
        ids.push(id);
    }
    let queue_for: Vec<&'static str> = sinks.iter().filter_map(|s| s.confirms()).collect();
    let now = jiff::Timestamp::now().as_millisecond();
    store.mark_delivered(&ids, &queue_for, now)?;
    if !unreadable.is_empty() {
        store.mark_delivered(&unreadable, &[], now)?;
    }
    for s in sinks.iter_mut() {
        if let Some(name) = s.confirms() {
            hand_over(store, &mut **s, name)?;
        }
    }
    Ok(ids.len() as u64)
}

/// At the end of a run: lets each confirming sink work through its outbox until it has tried
/// every alert once this run or its time is up, recording confirmations as they come. Returns
/// what each still has pending (`(sink, alerts)`, those with none left out).
pub(super) fn settle(store: &mut dyn Store, sinks: &mut [&mut dyn AlertSink]) -> anyhow::Result<Vec<(&'static str, u64)>> {
    let mut left = Vec::new();
    for s in sinks.iter_mut() {
        let Some(name) = s.confirms() else { continue };
        loop {
            hand_over(store, &mut **s, name)?;
            if !s.wait() {
                break;
            }
        }
        let n = hand_over(store, &mut **s, name)? as u64;
        if n > 0 {
            left.push((name, n));
        }
    }
    Ok(left)
}

/// Records what `sink` confirmed, then offers it every alert still pending for it (it skips
/// those it already holds or tried this run). Returns how many are still pending.
fn hand_over(store: &mut dyn Store, sink: &mut dyn AlertSink, name: &str) -> anyhow::Result<usize> {
    let done = sink.confirmed();
    if !done.is_empty() {
        store.mark_confirmed(name, &done, jiff::Timestamp::now().as_millisecond())?;
    }
    let pending = store.pending_for(name)?;
    for (id, body) in &pending {
        if let Some((alert, json)) = outgoing(id, body) {
            sink.send(&alert, &json)?;
        }
    }
    Ok(pending.len())
}

/// The alert and the exact text to send for a stored body. A body an older trailhound stored
/// without an id gets the outbox key as its id (and is written out again with it); an
/// unreadable one is reported and skipped.
fn outgoing(id: &str, body: &str) -> Option<(Alert, String)> {
    match serde_json::from_str::<Alert>(body) {
        Ok(alert) if !alert.id.is_empty() => Some((alert, body.to_string())),
        Ok(mut alert) => {
            alert.id = id.to_string();
            let json = serde_json::to_string(&alert).ok()?;
            Some((alert, json))
        }
        Err(e) => {
            eprintln!("trailhound: stored alert {id} is unreadable ({e}); dropping it");
            None
        }
    }
}
