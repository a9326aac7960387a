//! The parallel stage of first-seen detection: each worker folds the events it reads into a
//! compact map of behaviour observations, keyed by what was done and by whom, never by event.
//! Memory grows with distinct keys, not events.
//!
//! Per key and outcome (success, failure) an observation is a list of *spans*: runs of activity
//! whose gaps are at most the `first_in_n_days` window. Gaps longer than the window survive
//! merging, so one run over a year finds the same "first time in N days" as a run per day.

use super::pattern;
use crate::config::FirstSeenConfig;
use crate::event::{PrincipalType, Record};
use crate::pipeline::{EventContext, EventSink};
use std::collections::HashMap;
use std::sync::Arc;

/// Event IDs kept per span (the earliest by time, then ID).
pub const MAX_EVENT_IDS: usize = 5;

/// What a baseline key is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// Any principal of the account doing an action.
    AccountAction,
    /// One principal doing an action.
    PrincipalAction,
    /// One principal acting in a region (any action).
    PrincipalRegion,
    /// Any role of this name, in any account, doing an action.
    RoleNameAction,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::AccountAction => "account_action",
            KeyKind::PrincipalAction => "principal_action",
            KeyKind::PrincipalRegion => "principal_region",
            KeyKind::RoleNameAction => "role_name_action",
        }
    }
}

/// Whose first observation a burn-in is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeKind {
    Principal,
    Account,
    RoleName,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Principal => "principal",
            ScopeKind::Account => "account",
            ScopeKind::RoleName => "role_name",
        }
    }
}

/// The context of one event, kept for the earliest event of a span: what the alert shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub time: i64,
    pub event_id: Option<String>,
    pub principal: String,
    pub principal_type: PrincipalType,
    pub principal_name: String,
    /// The principal's own account.
    pub account: Option<String>,
    /// The account the event happened in (`recipientAccountId`), which differs for cross-account calls.
    pub event_account: Option<String>,
    pub session: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub region: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub read_only: Option<bool>,
}

impl Sample {
    fn order(&self) -> (i64, Option<&str>) {
        (self.time, self.event_id.as_deref())
    }
}

/// A run of activity on one key and outcome.
#[derive(Debug, Clone)]
pub struct Span {
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

    fn new(t: i64, id: Option<&str>, sample: Arc<Sample>) -> Span {
        let event_ids = id.map(|id| vec![(t, id.to_string())]).unwrap_or_default();
        Span { first: t, last: t, count: 1, sample, event_ids, ids_until: i64::MAX }
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

/// Sorts spans and joins those whose gap is at most `gap`.
fn coalesce(spans: &mut Vec<Span>, gap: i64) {
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

/// Everything observed for one baseline key.
#[derive(Debug, Clone)]
pub struct KeyObs {
    pub kind: KeyKind,
    pub scope: String,
    pub item: String,
    pub account: Option<String>,
    pub success: Vec<Span>,
    pub failure: Vec<Span>,
}

/// First and last sighting of a principal, account or role name.
#[derive(Debug, Clone)]
pub struct ScopeObs {
    pub kind: ScopeKind,
    pub scope: String,
    pub principal_type: Option<PrincipalType>,
    pub account: Option<String>,
    pub name: Option<String>,
    pub first: i64,
    pub last: i64,
}

/// Which events are not learned at all.
#[derive(Debug, Clone, Default)]
pub struct SkipFilter {
    pub service_linked_roles: bool,
    pub aws_services: bool,
    pub principals: Vec<String>,
    pub user_agents: Vec<String>,
    pub event_types: Vec<String>,
}

impl SkipFilter {
    pub fn from_config(c: &FirstSeenConfig) -> SkipFilter {
        SkipFilter {
            service_linked_roles: c.skip_service_linked_roles,
            aws_services: c.skip_aws_services,
            principals: c.skip_principals.clone(),
            user_agents: c.skip_user_agents.clone(),
            event_types: c.skip_event_types.clone(),
        }
    }
}

/// One worker's observations; merge them with [`Observations::merge`].
#[derive(Debug, Clone)]
pub struct Observations {
    /// The `first_in_n_days` window in milliseconds: spans further apart stay apart.
    pub gap: i64,
    /// Keyed by a 128-bit hash already: foldhash (seeded per run) only spreads it, where the
    /// default SipHash would hash it all again on each of the seven probes per event.
    pub keys: HashMap<u128, KeyObs, foldhash::fast::RandomState>,
    pub scopes: HashMap<u128, ScopeObs, foldhash::fast::RandomState>,
    /// Events folded in.
    pub events: u64,
    /// Events not learned: skipped principal, user agent or event type.
    pub skipped: u64,
    /// Events without a readable `eventTime` (nothing to place them in time).
    pub without_time: u64,
    pub first_time: Option<i64>,
    pub last_time: Option<i64>,
    skip: Arc<SkipFilter>,
    scratch: Vec<u8>,
    principals: PrincipalCache,
}

/// What the fold needs of one `userIdentity`, worked out once for all its events.
#[derive(Debug, Clone)]
struct Known {
    principal: Arc<crate::event::Principal>,
    /// The principal's cross-account role key (`role/<name>`), for roles.
    role_key: Option<Box<str>>,
    /// Skipped whatever the event: a service-linked role, an AWS service, a listed principal.
    skipped: bool,
    principal_hash: u128,
    role_hash: u128,
    /// The time ranges already folded into the principal's and role name's scope entries: a
    /// scope's range only grows, so an event inside them changes nothing there.
    principal_seen: (i64, i64),
    role_seen: (i64, i64),
    /// The last account acted in, its hash and folded range (most events are in one account).
    account: Option<(Box<str>, u128, (i64, i64))>,
}

/// `userIdentity` text → what the fold needs of it. The text is compared, not only hashed, so a
/// hit is exact; a session's events repeat it byte for byte, and normalising allocates five
/// strings.
#[derive(Debug, Clone, Default)]
struct PrincipalCache {
    map: HashMap<u64, (Box<str>, Known), foldhash::fast::RandomState>,
    /// For a record without `userIdentity`: made afresh each time, never cached.
    uncached: Option<Known>,
}

impl PrincipalCache {
    /// Distinct identities kept before the cache starts over (about a session each).
    const MAX: usize = 4096;

    fn get(&mut self, r: &Record<'_>, skip: &SkipFilter) -> &mut Known {
        let Some(raw) = r.user_identity.raw.map(|v| v.get()) else {
            return self.uncached.insert(Known::new(r.user_identity.principal(), skip));
        };
        // foldhash is seeded per run; the whole text is hashed, since sessions of one role can
        // share both ends of it (type and principal ID first, the creation time last).
        let h = std::hash::BuildHasher::hash_one(self.map.hasher(), raw.as_bytes());
        let hit = matches!(self.map.get(&h), Some((text, _)) if **text == *raw);
        if !hit {
            if self.map.len() >= Self::MAX {
                self.map.clear();
            }
            self.map.insert(h, (raw.into(), Known::new(r.user_identity.principal(), skip)));
        }
        &mut self.map.get_mut(&h).expect("inserted above").1
    }
}

impl Known {
    fn new(p: crate::event::Principal, skip: &SkipFilter) -> Known {
        let role_key = p.cross_account_key().map(String::into_boxed_str);
        let skipped = (skip.service_linked_roles && p.service_linked)
            || (skip.aws_services && p.kind == PrincipalType::AwsService)
            || pattern::any(&skip.principals, &p.id);
        Known {
            principal_hash: hash_str(&p.id),
            role_hash: role_key.as_deref().map_or(0, hash_str),
            principal: Arc::new(p),
            role_key,
            skipped,
            principal_seen: EMPTY,
            role_seen: EMPTY,
            account: None,
        }
    }

    /// The account acted in, with its hash and folded range.
    fn account(&mut self, acct: &str) -> (u128, &mut (i64, i64)) {
        if self.account.as_ref().is_none_or(|(a, ..)| **a != *acct) {
            self.account = Some((acct.into(), hash_str(acct), EMPTY));
        }
        let (_, h, seen) = self.account.as_mut().expect("set above");
        (*h, seen)
    }
}

/// A range that holds no time, so the first event is always folded.
const EMPTY: (i64, i64) = (i64::MAX, i64::MIN);

fn hash_str(s: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(s.as_bytes())
}

/// A key's hash from its kind and the hashes of its two parts: 33 bytes hashed, however long the
/// principal's ARN, and each part hashed once per event, not once per key.
fn hash_key(tag: u8, scope: u128, item: u128) -> u128 {
    let mut b = [0u8; 33];
    b[0] = tag;
    b[1..17].copy_from_slice(&scope.to_le_bytes());
    b[17..].copy_from_slice(&item.to_le_bytes());
    xxhash_rust::xxh3::xxh3_128(&b)
}

/// Where one event's keys go: the maps and the window, apart from the principal cache.
struct Fold<'m> {
    keys: &'m mut HashMap<u128, KeyObs, foldhash::fast::RandomState>,
    scopes: &'m mut HashMap<u128, ScopeObs, foldhash::fast::RandomState>,
    gap: i64,
}

impl Observations {
    pub fn new(gap: i64, skip: Arc<SkipFilter>) -> Observations {
        Observations {
            gap,
            keys: HashMap::default(),
            scopes: HashMap::default(),
            events: 0,
            skipped: 0,
            without_time: 0,
            first_time: None,
            last_time: None,
            skip,
            scratch: Vec::new(),
            principals: PrincipalCache::default(),
        }
    }

    /// Folds `o` into `self`.
    pub fn merge(mut self, o: Observations) -> Observations {
        for (h, k) in o.keys {
            match self.keys.get_mut(&h) {
                None => {
                    self.keys.insert(h, k);
                }
                Some(mine) => {
                    mine.success.extend(k.success);
                    mine.failure.extend(k.failure);
                    coalesce(&mut mine.success, self.gap);
                    coalesce(&mut mine.failure, self.gap);
                    if mine.account.is_none() {
                        mine.account = k.account;
                    }
                }
            }
        }
        for (h, s) in o.scopes {
            match self.scopes.get_mut(&h) {
                None => {
                    self.scopes.insert(h, s);
                }
                Some(mine) => {
                    mine.first = mine.first.min(s.first);
                    mine.last = mine.last.max(s.last);
                    mine.principal_type = mine.principal_type.or(s.principal_type);
                    mine.account = mine.account.take().or(s.account);
                    mine.name = mine.name.take().or(s.name);
                }
            }
        }
        self.events += o.events;
        self.skipped += o.skipped;
        self.without_time += o.without_time;
        self.first_time = crate::store::min_opt(self.first_time, o.first_time);
        self.last_time = crate::store::max_opt(self.last_time, o.last_time);
        self
    }

    /// Folds one event in.
    pub fn observe(&mut self, r: &Record<'_>) {
        let Some(t) = r.event_time else {
            self.without_time += 1;
            return;
        };
        let skip = &*self.skip;
        let known = self.principals.get(r, skip);
        if known.skipped
            || r.user_agent.as_deref().is_some_and(|ua| pattern::any(&skip.user_agents, ua))
            || r.event_type.as_deref().is_some_and(|t| skip.event_types.iter().any(|x| x == t))
        {
            self.skipped += 1;
            return;
        }
        self.events += 1;
        self.first_time = Some(self.first_time.map_or(t, |f| f.min(t)));
        self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
        let p = known.principal.clone();
        let account = p.account.as_deref().or_else(|| r.account());
        let event_account = r.account().or(account);
        // The action (`service:name`, as `Record::action` spells it) is hashed from the scratch
        // buffer; its string is only made for a key seen for the first time.
        let source = r.event_source.as_deref().unwrap_or("unknown");
        let service = source.strip_suffix(".amazonaws.com").unwrap_or(source);
        let name = r.event_name.as_deref().unwrap_or("unknown");
        self.scratch.clear();
        self.scratch.extend_from_slice(service.as_bytes());
        self.scratch.push(b':');
        self.scratch.extend_from_slice(name.as_bytes());
        let action_hash = xxhash_rust::xxh3::xxh3_128(&self.scratch);
        let action = || format!("{service}:{name}");
        let failed = r.error_code.is_some();
        let mut sample: Option<Arc<Sample>> = None;
        let make = |sample: &mut Option<Arc<Sample>>| {
            sample
                .get_or_insert_with(|| {
                    Arc::new(Sample {
                        time: t,
                        event_id: r.event_id.as_deref().map(str::to_string),
                        principal: p.id.clone(),
                        principal_type: p.kind,
                        principal_name: p.name.clone(),
                        account: account.map(str::to_string),
                        event_account: event_account.map(str::to_string),
                        session: p.session.clone(),
                        source_ip: r.source_ip.as_deref().map(str::to_string),
                        user_agent: r.user_agent.as_deref().map(str::to_string),
                        error_code: r.error_code.as_deref().map(str::to_string),
                        region: r.aws_region.as_deref().map(str::to_string),
                        event_source: r.event_source.as_deref().map(str::to_string),
                        event_name: r.event_name.as_deref().map(str::to_string),
                        read_only: r.read_only,
                    })
                })
                .clone()
        };
        let id = r.event_id.as_deref();
        let mut fold = Fold { keys: &mut self.keys, scopes: &mut self.scopes, gap: self.gap };
        let ph = known.principal_hash;
        fold.key((KeyKind::PrincipalAction, ph, action_hash), &p.id, &action, account, failed, t, id, &mut || make(&mut sample));
        if let Some(region) = r.aws_region.as_deref() {
            let item = || region.to_string();
            fold.key((KeyKind::PrincipalRegion, ph, hash_str(region)), &p.id, &item, account, failed, t, id, &mut || make(&mut sample));
        }
        // "First in the account" is about the account acted in, as its own logs show it.
        if let Some(acct) = event_account {
            let (ah, seen) = known.account(acct);
            fold.key((KeyKind::AccountAction, ah, action_hash), acct, &action, Some(acct), failed, t, id, &mut || make(&mut sample));
            fold.scope((ScopeKind::Account, ah), seen, acct, None, Some(acct), None, t);
        }
        if let Some(rk) = known.role_key.as_deref() {
            let rh = known.role_hash;
            fold.key((KeyKind::RoleNameAction, rh, action_hash), rk, &action, None, failed, t, id, &mut || make(&mut sample));
            fold.scope((ScopeKind::RoleName, rh), &mut known.role_seen, rk, None, None, Some(&p.name), t);
        }
        fold.scope((ScopeKind::Principal, ph), &mut known.principal_seen, &p.id, Some(p.kind), account, Some(&p.name), t);
    }
}

impl Fold<'_> {
    #[allow(clippy::too_many_arguments)]
    fn key(
        &mut self,
        (kind, scope_hash, item_hash): (KeyKind, u128, u128),
        scope: &str,
        item: &dyn Fn() -> String,
        account: Option<&str>,
        failed: bool,
        t: i64,
        id: Option<&str>,
        sample: &mut dyn FnMut() -> Arc<Sample>,
    ) {
        let h = hash_key(kind as u8, scope_hash, item_hash);
        let gap = self.gap;
        let obs = self.keys.entry(h).or_insert_with(|| KeyObs {
            kind,
            scope: scope.to_string(),
            item: item(),
            account: account.map(str::to_string),
            success: Vec::new(),
            failure: Vec::new(),
        });
        let spans = if failed { &mut obs.failure } else { &mut obs.success };
        let order = (t, id);
        match spans.iter().position(|s| t >= s.first.saturating_sub(gap) && t <= s.last.saturating_add(gap)) {
            Some(i) => {
                let s = &mut spans[i];
                s.count += 1;
                s.last = s.last.max(t);
                // The sample is the span's earliest event, so its time is `first`: most events
                // are told apart from it without reading it.
                if t <= s.first && order < s.sample.order() {
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

    /// Widens a scope's first/last sighting to `t`, unless `seen` (what this cache entry already
    /// folded in) holds it.
    #[allow(clippy::too_many_arguments)]
    fn scope(
        &mut self,
        (kind, scope_hash): (ScopeKind, u128),
        seen: &mut (i64, i64),
        scope: &str,
        ptype: Option<PrincipalType>,
        account: Option<&str>,
        name: Option<&str>,
        t: i64,
    ) {
        if seen.0 <= t && t <= seen.1 {
            return;
        }
        *seen = (seen.0.min(t), seen.1.max(t));
        let h = hash_key(0x10 | kind as u8, scope_hash, 0);
        match self.scopes.get_mut(&h) {
            Some(s) => {
                s.first = s.first.min(t);
                s.last = s.last.max(t);
            }
            None => {
                self.scopes.insert(
                    h,
                    ScopeObs {
                        kind,
                        scope: scope.to_string(),
                        principal_type: ptype,
                        account: account.map(str::to_string),
                        name: name.map(str::to_string),
                        first: t,
                        last: t,
                    },
                );
            }
        }
    }
}

impl EventSink for Observations {
    fn event(&mut self, ev: &Record<'_>, _ctx: &EventContext<'_>) {
        self.observe(ev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn ev(t: i64, id: &str) -> String {
        let time = crate::event::time::format_millis(t);
        format!(
            r#"{{"eventTime":"{time}","eventID":"{id}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"111","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111:user/a","accountId":"111","userName":"a"}}}}"#
        )
    }

    fn fold(events: &[(i64, &str)]) -> Observations {
        let mut o = Observations::new(90 * DAY, Arc::new(SkipFilter::default()));
        for (t, id) in events {
            o.observe(&Record::parse(&ev(*t, id)).unwrap());
        }
        o
    }

    fn spans(o: &Observations) -> Vec<(i64, i64, u64, String)> {
        let k = o.keys.values().find(|k| k.kind == KeyKind::PrincipalAction).unwrap();
        k.success.iter().map(|s| (s.first, s.last, s.count, s.sample.event_id.clone().unwrap())).collect()
    }

    #[test]
    fn spans_split_on_long_gaps_whatever_the_order_or_partition() {
        let events = [(200 * DAY, "c"), (0, "a"), (10 * DAY, "b"), (205 * DAY, "d"), (0, "0")];
        let all = fold(&events);
        assert_eq!(spans(&all), vec![(0, 10 * DAY, 3, "0".into()), (200 * DAY, 205 * DAY, 2, "c".into())]);
        let parts = fold(&events[..2]).merge(fold(&events[2..]));
        assert_eq!(spans(&parts), spans(&all));
        // A late event bridging the gap joins the spans.
        let bridged = fold(&[(0, "a"), (150 * DAY, "c"), (75 * DAY, "m")]);
        assert_eq!(spans(&fold(&[(0, "a"), (200 * DAY, "c"), (100 * DAY, "m")])).len(), 3);
        assert_eq!(spans(&bridged).len(), 1);
        assert_eq!(all.scopes.len(), 2); // the user and the account
    }

    #[test]
    fn event_ids_keep_the_earliest() {
        let evs: Vec<(i64, String)> = (0..20).rev().map(|i| (i, format!("id{i:02}"))).collect();
        let refs: Vec<(i64, &str)> = evs.iter().map(|(t, s)| (*t, s.as_str())).collect();
        let o = fold(&refs);
        let k = o.keys.values().find(|k| k.kind == KeyKind::PrincipalAction).unwrap();
        let ids: Vec<&str> = k.success[0].event_ids.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(ids, ["id00", "id01", "id02", "id03", "id04"]);
    }
}
