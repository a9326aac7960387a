//! Dropping CloudTrail's duplicate deliveries with bounded memory.
//!
//! CloudTrail may deliver an event twice (same `eventID`), and two trails writing to one bucket
//! deliver every management event twice. Copies arrive close together in delivery order, so
//! remembering the IDs of recently read events is enough: an ID is forgotten once the read has
//! moved `window` past its file's delivery time, or when more than `capacity` IDs are held
//! (oldest first). The contract: duplicates are dropped when both copies are delivered within
//! `window` of each other and fewer than `capacity` events apart; later detectors still treat
//! event time as unordered.
//!
//! A copy is the same event: two records under one (account, eventID) whose [`fingerprint`]
//! (eventSource, eventName, eventTime) differs are two events (a tool that made up IDs, a
//! replayed or hand-edited record), and both are kept and reported as conflicting.

use super::time::Millis;
use std::collections::VecDeque;
use std::collections::hash_map::{Entry, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

const SHARDS: usize = 64;

/// Default: forget IDs a day (of delivery time) after their file.
pub(crate) const DEFAULT_WINDOW: Millis = 24 * 3_600_000;
/// Default: at most 8 million IDs (about 400 MB).
pub(crate) const DEFAULT_CAPACITY: usize = 8_000_000;

/// A concurrent set of recently seen event IDs.
pub struct Deduplicator {
    shards: Vec<Padded>,
    window: Millis,
    shard_capacity: usize,
    watermark: AtomicI64,
}

/// One shard on cache lines of its own: neighbouring shards locked by two workers at once
/// would otherwise bounce one line between the cores.
#[repr(align(128))]
struct Padded(Mutex<Shard>);

/// IDs by the upper half of their hash (the lower half picked the shard), each with the
/// fingerprint of the record first read under it. A 16-byte entry, as the 128-bit hash alone was:
/// two events whose IDs collide in those bits now read as a conflict (both kept), and are only
/// taken for copies if their fingerprints collide too.
#[derive(Default)]
struct Shard {
    seen: HashMap<u64, u64, IdHash>,
    order: VecDeque<(u64, Millis)>,
}

/// What [`Deduplicator::offer`] makes of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The first record under its ID (or the first since the ID was forgotten): keep it.
    First,
    /// A copy of a record already read: drop it.
    Copy,
    /// Its ID was read with another fingerprint: another event, keep it (and say so).
    Conflict,
}

/// What tells two events under one ID apart: source, name and time (epoch ms, or `None`).
pub(crate) fn fingerprint(event_source: Option<&str>, event_name: Option<&str>, event_time: Option<Millis>) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for text in [event_source, event_name] {
        h.update(text.unwrap_or("").as_bytes());
        h.update(&[0]);
    }
    h.update(&event_time.map_or([0xff; 8], i64::to_le_bytes));
    h.digest()
}

/// The set's keys are xxh3 digests already: hashing them again would only cost time.
#[derive(Default, Clone, Copy)]
struct IdHash;

impl std::hash::BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not reached for `u128` keys; kept correct for any other use.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        // The key is the hash's upper half, independent of the lower bits that picked the shard
        // (as they always have: which IDs share a shard decides which are forgotten first when
        // event times are unordered), so it spreads the table as it is.
        self.0 = v;
    }
}

/// xxh3-128 of `account`, a 0 byte and `event_id`, in one shot for the usual short IDs.
fn id_hash(account: &str, event_id: &str) -> u128 {
    let mut buf = [0u8; 128];
    let n = account.len() + 1 + event_id.len();
    if n <= buf.len() {
        buf[..account.len()].copy_from_slice(account.as_bytes());
        buf[account.len() + 1..n].copy_from_slice(event_id.as_bytes());
        return xxhash_rust::xxh3::xxh3_128(&buf[..n]);
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(account.as_bytes());
    h.update(&[0]);
    h.update(event_id.as_bytes());
    h.digest128()
}

impl Deduplicator {
    pub fn new(window: Millis, capacity: usize) -> Deduplicator {
        Deduplicator {
            shards: (0..SHARDS).map(|_| Padded(Mutex::new(Shard::default()))).collect(),
            window,
            shard_capacity: (capacity / SHARDS).max(1),
            watermark: AtomicI64::new(i64::MIN),
        }
    }

    /// Whether a record under (account, eventID) with `fingerprint` is the first, a copy or a
    /// different event. `delivered` is the delivery time of the file it came from. An ID from a
    /// file without one (an export, a local copy) is kept until the capacity pushes it out: such
    /// files are in no delivery order, and forgetting by their event times made the answer
    /// depend on which worker read what first.
    pub fn offer(&self, account: &str, event_id: &str, fingerprint: u64, delivered: Option<Millis>) -> Seen {
        let id = id_hash(account, event_id);
        // Read before writing: the watermark rarely moves, and an atomic write on every event
        // bounces its cache line between the read workers.
        let seen = self.watermark.load(Ordering::Relaxed);
        let mark = match delivered {
            Some(d) if d > seen => self.watermark.fetch_max(d, Ordering::Relaxed).max(d),
            _ => seen,
        };
        let delivered = delivered.unwrap_or(Millis::MAX);
        let horizon = mark.saturating_sub(self.window);
        let mut shard = self.shards[(id as usize) % SHARDS].0.lock().unwrap_or_else(|e| e.into_inner());
        // One probe of the table for a new ID or a copy. The new key is last in `order`, so
        // forgetting older ones (all of them, at worst) never reaches it.
        let mut key = (id >> 64) as u64;
        let seen = match shard.seen.entry(key) {
            Entry::Vacant(v) => {
                v.insert(fingerprint);
                Seen::First
            }
            Entry::Occupied(o) if *o.get() == fingerprint => return Seen::Copy,
            Entry::Occupied(_) => Seen::Conflict,
        };
        if seen == Seen::Conflict {
            // Another event under a known ID: it is remembered under a key of its own, so that its
            // copies are copies too.
            key ^= fingerprint;
            match shard.seen.entry(key) {
                Entry::Occupied(_) => return Seen::Copy,
                Entry::Vacant(v) => {
                    v.insert(fingerprint);
                }
            }
        }
        shard.order.push_back((key, delivered));
        while shard.order.len() > 1
            && let Some(&(old, t)) = shard.order.front()
        {
            if t >= horizon && shard.order.len() <= self.shard_capacity {
                break;
            }
            shard.order.pop_front();
            shard.seen.remove(&old);
        }
        seen
    }

    /// IDs currently held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.lock().map(|s| s.seen.len()).unwrap_or(0)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `offer` with one fingerprint for every record: the ID alone decides.
    fn first_time(d: &Deduplicator, account: &str, id: &str, delivered: Option<Millis>) -> bool {
        d.offer(account, id, 0, delivered) == Seen::First
    }

    #[test]
    fn a_record_with_another_name_or_time_under_a_known_id_is_kept_and_its_copies_dropped() {
        let d = Deduplicator::new(1000, 1_000_000);
        let get = fingerprint(Some("s3.amazonaws.com"), Some("GetObject"), Some(5));
        let put = fingerprint(Some("s3.amazonaws.com"), Some("PutObject"), Some(5));
        let later = fingerprint(Some("s3.amazonaws.com"), Some("GetObject"), Some(6));
        assert_ne!(fingerprint(Some("ab"), Some("c"), None), fingerprint(Some("a"), Some("bc"), None));
        assert_eq!(d.offer("a", "e1", get, Some(0)), Seen::First);
        assert_eq!(d.offer("a", "e1", get, Some(0)), Seen::Copy);
        assert_eq!(d.offer("a", "e1", put, Some(0)), Seen::Conflict);
        assert_eq!(d.offer("a", "e1", put, Some(0)), Seen::Copy, "a copy of the second event");
        assert_eq!(d.offer("a", "e1", later, Some(0)), Seen::Conflict);
        assert_eq!(d.offer("a", "e1", get, Some(0)), Seen::Copy);
    }

    #[test]
    fn drops_copies_and_forgets_old_ids() {
        let d = Deduplicator::new(1000, 1_000_000);
        assert!(first_time(&d, "a", "e1", Some(0)));
        assert!(!first_time(&d, "a", "e1", Some(10)));
        assert!(first_time(&d, "b", "e1", Some(10)), "same ID in another account is another event");
        for i in 0..200 {
            first_time(&d, "a", &format!("x{i}"), Some(5000));
        }
        assert!(d.len() <= 203);
        assert!(first_time(&d, "a", "e1", Some(5000)), "forgotten after the window");
    }

    #[test]
    fn one_shot_hash_matches_the_streaming_one() {
        let long = "x".repeat(200);
        for (a, e) in [("111122223333", "3c6a6b46-1d2e-4f3a-9b8c-7d6e5f4a3b2c"), ("", ""), ("a", long.as_str())] {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            h.update(a.as_bytes());
            h.update(&[0]);
            h.update(e.as_bytes());
            assert_eq!(id_hash(a, e), h.digest128());
        }
    }

    #[test]
    fn capacity_bounds_memory() {
        let d = Deduplicator::new(i64::MAX / 2, SHARDS * 10);
        for i in 0..10_000 {
            first_time(&d, "a", &i.to_string(), Some(0));
        }
        assert!(d.len() <= SHARDS * 10);
        let undated = Deduplicator::new(1000, SHARDS * 10);
        for i in 0..10_000 {
            first_time(&undated, "a", &i.to_string(), None);
        }
        assert!(undated.len() <= SHARDS * 10);
    }

    #[test]
    fn ids_from_undated_files_are_not_forgotten_by_time() {
        let d = Deduplicator::new(1000, 1_000_000);
        assert!(first_time(&d, "a", "export-1", None));
        // A dated file read meanwhile (by another worker) moves the watermark far ahead.
        assert!(first_time(&d, "a", "s3-1", Some(1_000_000)));
        assert!(first_time(&d, "a", "s3-2", Some(1_000_000)));
        assert!(!first_time(&d, "a", "export-1", None), "still a copy, whatever was read in between");
    }
}
