//! Dropping CloudTrail's duplicate deliveries with bounded memory.
//!
//! CloudTrail may deliver an event twice (same `eventID`), and two trails writing to one bucket
//! deliver every management event twice. Copies arrive close together in delivery order, so
//! remembering the IDs of recently read events is enough: an ID is forgotten once the read has
//! moved `window` past its file's delivery time, or when more than `capacity` IDs are held
//! (oldest first). The contract: duplicates are dropped when both copies are delivered within
//! `window` of each other and fewer than `capacity` events apart; later detectors still treat
//! event time as unordered.

use super::time::Millis;
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

const SHARDS: usize = 64;

/// Default: forget IDs a day (of delivery time) after their file.
pub const DEFAULT_WINDOW: Millis = 24 * 3_600_000;
/// Default: at most 8 million IDs (about 400 MB).
pub const DEFAULT_CAPACITY: usize = 8_000_000;

/// A concurrent set of recently seen event IDs.
pub struct Deduplicator {
    shards: Vec<Mutex<Shard>>,
    window: Millis,
    shard_capacity: usize,
    watermark: AtomicI64,
}

#[derive(Default)]
struct Shard {
    seen: HashSet<u128, xxhash_rust::xxh3::Xxh3Builder>,
    order: VecDeque<(u128, Millis)>,
}

impl Deduplicator {
    pub fn new(window: Millis, capacity: usize) -> Deduplicator {
        Deduplicator {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            window,
            shard_capacity: (capacity / SHARDS).max(1),
            watermark: AtomicI64::new(i64::MIN),
        }
    }

    /// True the first time an (account, eventID) pair is offered. `delivered` is the delivery
    /// time of the file it came from (or its event time when the file has none).
    pub fn first_time(&self, account: &str, event_id: &str, delivered: Millis) -> bool {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(account.as_bytes());
        h.update(&[0]);
        h.update(event_id.as_bytes());
        let id = h.digest128();
        let mark = self.watermark.fetch_max(delivered, Ordering::Relaxed).max(delivered);
        let horizon = mark.saturating_sub(self.window);
        let mut shard = self.shards[(id as usize) % SHARDS].lock().unwrap_or_else(|e| e.into_inner());
        if shard.seen.contains(&id) {
            return false;
        }
        while let Some(&(old, t)) = shard.order.front() {
            if t >= horizon && shard.order.len() < self.shard_capacity {
                break;
            }
            shard.order.pop_front();
            shard.seen.remove(&old);
        }
        shard.seen.insert(id);
        shard.order.push_back((id, delivered));
        true
    }

    /// IDs currently held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().map(|s| s.seen.len()).unwrap_or(0)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_copies_and_forgets_old_ids() {
        let d = Deduplicator::new(1000, 1_000_000);
        assert!(d.first_time("a", "e1", 0));
        assert!(!d.first_time("a", "e1", 10));
        assert!(d.first_time("b", "e1", 10), "same ID in another account is another event");
        for i in 0..200 {
            d.first_time("a", &format!("x{i}"), 5000);
        }
        assert!(d.len() <= 203);
        assert!(d.first_time("a", "e1", 5000), "forgotten after the window");
    }

    #[test]
    fn capacity_bounds_memory() {
        let d = Deduplicator::new(i64::MAX / 2, SHARDS * 10);
        for i in 0..10_000 {
            d.first_time("a", &i.to_string(), 0);
        }
        assert!(d.len() <= SHARDS * 10);
    }
}
