//! Delivery from the store's alert outbox to the sinks.

use crate::alert::Alert;
use crate::alert::sink::AlertSink;
use crate::store::Store;

/// Delivers alerts waiting in the store's outbox to every sink, then marks them delivered.
pub(super) fn pending(store: &mut dyn Store, sinks: &mut [&mut dyn AlertSink]) -> anyhow::Result<u64> {
    let pending = store.undelivered_alerts()?;
    let mut ids = Vec::with_capacity(pending.len());
    for (id, body) in pending {
        match serde_json::from_str::<Alert>(&body) {
            Ok(mut alert) => {
                if alert.id.is_empty() {
                    alert.id.clone_from(&id);
                }
                for s in sinks.iter_mut() {
                    s.send(&alert)?;
                }
            }
            Err(e) => eprintln!("trailhound: stored alert {id} is unreadable ({e}); dropping it"),
        }
        ids.push(id);
    }
    store.mark_delivered(&ids)?;
    Ok(ids.len() as u64)
}
