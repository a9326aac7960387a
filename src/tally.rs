//! What is in a set of logs (`trailhound stats`): a sink that counts events by account, region,
//! API, principal, error and day on each read worker; merged, it gives the `stats` report.

use crate::event::time::{MILLIS_PER_DAY, Millis, format_day, format_millis};
use crate::event::{PrincipalType, Record};
use crate::pipeline::{EventContext, EventSink, Flow, ReadSummary};
use crate::report::stats::{Count, StatsReport};
use foldhash::fast::FixedState;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// foldhash: xxh3's `Hasher` copies its 192-byte secret into every hasher it builds, which cost
/// more than the hashing itself on these short keys.
type Fast<K, V> = HashMap<K, V, FixedState>;

/// Per-worker counters, merged at the end.
#[derive(Default)]
pub(crate) struct TallySink {
    events: u64,
    errors: u64,
    no_time: u64,
    first: Option<Millis>,
    last: Option<Millis>,
    /// Events by account, region, event source and action together (see [`Cells`]).
    cells: Cells,
    error_codes: Fast<String, u64>,
    days: BTreeMap<i64, u64>,
    /// The current day's count, not yet in `days`: a file's events are mostly of one day.
    day: Option<(i64, u64)>,
    /// Identity hash → its entry in `by_identity`, so the principal is normalised once per
    /// distinct identity and an event costs one lookup by a number, not one more by its text.
    identities: Fast<u64, usize>,
    /// Each distinct identity's principal and events; identities that name one principal are
    /// added up in the report.
    by_identity: Vec<((PrincipalType, String), u64)>,
}

/// Events counted by (account, region, event source, action) in one table: one lookup per event
/// where a table per field cost four. The key is the four texts, each after its length (so no
/// text, whatever bytes it holds, can run into the next); the report adds them up per field.
#[derive(Default)]
struct Cells {
    counts: Fast<Box<[u8]>, u64>,
    /// Scratch for the key, reused from event to event.
    key: Vec<u8>,
}

impl Cells {
    /// One event of `fields` (account, region, event source) and the action written in
    /// `action`'s pieces (`service`, `:`, `name`: no `String` is built for it).
    fn bump(&mut self, fields: [&str; 3], action: [&str; 3]) {
        self.key.clear();
        for p in fields {
            self.key.extend_from_slice(&(p.len() as u64).to_le_bytes());
            self.key.extend_from_slice(p.as_bytes());
        }
        let action_len: usize = action.iter().map(|p| p.len()).sum();
        self.key.extend_from_slice(&(action_len as u64).to_le_bytes());
        for p in action {
            self.key.extend_from_slice(p.as_bytes());
        }
        match self.counts.get_mut(self.key.as_slice()) {
            Some(n) => *n += 1,
            None => {
                self.counts.insert(self.key.as_slice().into(), 1);
            }
        }
    }

    fn merge(&mut self, o: Cells) {
        for (k, v) in o.counts {
            *self.counts.entry(k).or_default() += v;
        }
    }

    /// Each key's four texts.
    fn parts(key: &[u8]) -> [&str; 4] {
        let mut out = [""; 4];
        let mut rest = key;
        for slot in &mut out {
            let Some((len, tail)) = rest.split_first_chunk::<8>() else { break };
            let n = usize::try_from(u64::from_le_bytes(*len)).unwrap_or(usize::MAX).min(tail.len());
            // The texts went in as `&str`: they come out whole and valid.
            *slot = std::str::from_utf8(&tail[..n]).unwrap_or("");
            rest = &tail[n..];
        }
        out
    }

    /// Events per value of field `i` (0 account, 1 region, 2 event source, 3 action).
    fn tally(&self, i: usize) -> Fast<&str, u64> {
        let mut out: Fast<&str, u64> = Fast::default();
        for (key, n) in &self.counts {
            *out.entry(Self::parts(key)[i]).or_default() += n;
        }
        out
    }
}

fn bump(map: &mut Fast<String, u64>, key: Option<&str>) {
    let key = key.unwrap_or("(none)");
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

impl EventSink for TallySink {
    fn event(&mut self, r: &Record<'_>, _ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        self.events += 1;
        if r.error_code.is_some() {
            self.errors += 1;
            bump(&mut self.error_codes, r.error_code.as_deref());
        }
        match r.event_time {
            Some(t) => {
                self.first = Some(self.first.map_or(t, |f| f.min(t)));
                self.last = Some(self.last.map_or(t, |l| l.max(t)));
                let day = t.div_euclid(MILLIS_PER_DAY);
                match &mut self.day {
                    Some((d, n)) if *d == day => *n += 1,
                    pending => add_day(&mut self.days, pending.replace((day, 1))),
                }
            }
            None => self.no_time += 1,
        }
        let (service, name) = crate::event::record::action_parts(r.event_source.as_deref(), r.event_name.as_deref());
        let fields = [r.account(), r.aws_region.as_deref(), r.event_source.as_deref()].map(|v| v.unwrap_or("(none)"));
        self.cells.bump(fields, [service, ":", name]);
        let u = &r.user_identity;
        // The fields normalisation reads, so identities that hash alike name one principal.
        let ih = FixedState::default().hash_one(u.basis());
        let next = self.by_identity.len();
        let i = *self.identities.entry(ih).or_insert_with(|| {
            let p = u.principal();
            self.by_identity.push(((p.kind, p.id), 0));
            next
        });
        self.by_identity[i].1 += 1;
        Ok(Flow::Continue)
    }
}

impl TallySink {
    pub(crate) fn merge(mut self, mut o: TallySink) -> TallySink {
        self.flush_day();
        o.flush_day();
        self.events += o.events;
        self.errors += o.errors;
        self.no_time += o.no_time;
        self.first = [self.first, o.first].into_iter().flatten().min();
        self.last = [self.last, o.last].into_iter().flatten().max();
        self.cells.merge(o.cells);
        for (k, v) in o.error_codes {
            *self.error_codes.entry(k).or_default() += v;
        }
        for (k, v) in o.days {
            *self.days.entry(k).or_default() += v;
        }
        // `o`'s identities are not carried over: their hashes only saved normalising again.
        self.by_identity.extend(o.by_identity);
        self
    }

    fn flush_day(&mut self) {
        add_day(&mut self.days, self.day.take());
    }

    /// The report, as a serialisable value (the `--format json` document).
    pub(crate) fn report(&self, read: &ReadSummary, top: usize) -> StatsReport {
        let mut days = self.days.clone();
        add_day(&mut days, self.day);
        let [accounts, regions, sources, actions] = [0, 1, 2, 3].map(|i| self.cells.tally(i));
        let mut principals: Fast<&(PrincipalType, String), u64> = Fast::default();
        for (p, n) in &self.by_identity {
            *principals.entry(p).or_default() += n;
        }
        let mut by_type: BTreeMap<&'static str, u64> = BTreeMap::new();
        for (kind, _) in principals.keys() {
            *by_type.entry(kind.as_str()).or_default() += 1;
        }
        let mut top_principals: Vec<Count> =
            principals.iter().map(|((kind, id), n)| Count { name: format!("{id} ({kind})"), count: *n }).collect();
        sort_top(&mut top_principals, top);
        StatsReport {
            events: self.events,
            records: read.records as u64,
            duplicates: read.duplicates as u64,
            conflicting_ids: read.conflicting_ids as u64,
            out_of_range: read.out_of_range as u64,
            bad_records: read.bad_records as u64,
            repaired_records: read.repaired_records as u64,
            insights: read.insights as u64,
            files: read.files_read as u64,
            skipped_files: read.skipped_total() as u64,
            skipped_by_reason: read.skipped_files.iter().map(|(k, v)| (k.to_string(), *v as u64)).collect(),
            file_errors: read.file_errors as u64,
            bytes_stored: read.bytes_stored,
            bytes_decoded: read.bytes_decoded,
            errors: self.errors,
            events_without_time: self.no_time,
            first_event: self.first.map(format_millis),
            last_event: self.last.map(format_millis),
            accounts: accounts.len() as u64,
            regions: regions.len() as u64,
            principals: principals.len() as u64,
            principals_by_type: by_type,
            top_accounts: top_of(accounts, top),
            top_regions: top_of(regions, top),
            top_event_sources: top_of(sources, top),
            top_event_names: top_of(actions, top),
            top_error_codes: top_of(self.error_codes.iter().map(|(k, n)| (k.as_str(), *n)), top),
            top_principals,
            events_per_day: days.iter().map(|(d, n)| (format_day(d * MILLIS_PER_DAY), *n)).collect(),
        }
    }
}

/// A day's count into `days`.
fn add_day(days: &mut BTreeMap<i64, u64>, day: Option<(i64, u64)>) {
    if let Some((d, n)) = day {
        *days.entry(d).or_default() += n;
    }
}

fn top_of<'k>(counts: impl IntoIterator<Item = (&'k str, u64)>, top: usize) -> Vec<Count> {
    let mut v: Vec<Count> = counts.into_iter().map(|(k, n)| Count { name: k.to_string(), count: n }).collect();
    sort_top(&mut v, top);
    v
}

fn sort_top(v: &mut Vec<Count>, top: usize) {
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    v.truncate(top);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_keep_fields_apart_whatever_bytes_they_hold() {
        let mut c = Cells::default();
        c.bump(["a\0b", "c", "s"], ["x", ":", "y"]);
        c.bump(["a", "b\0c", "s"], ["x", ":", "y"]);
        c.bump(["a", "b\0c", "s"], ["x:", "", "y"]);
        c.bump(["", "", ""], ["", "", ""]);
        assert_eq!(c.counts.len(), 3, "the same action spelt in other pieces is one cell");
        let accounts = c.tally(0);
        assert_eq!((accounts["a\0b"], accounts["a"], accounts[""]), (1, 2, 1));
        let regions = c.tally(1);
        assert_eq!((regions["c"], regions["b\0c"]), (1, 2));
        assert_eq!(c.tally(3)["x:y"], 3);
        assert_eq!(Cells::parts(b"\xff\xff"), ["", "", "", ""], "a short key gives empty texts, not a panic");
    }
}
