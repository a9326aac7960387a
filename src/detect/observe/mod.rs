//! The parallel stage of first-seen detection: each worker folds the events it reads into a
//! compact map of behaviour observations, never one entry per event. Memory grows with distinct
//! behaviours, not events.
//!
//! An event touches one *cell*: one principal doing one action in one region and account, with
//! one outcome (success or failure). Applying a batch expands the cells into the baseline keys
//! (four kinds, see [`KeyKind`]) and scopes. A key's spans (`span.rs`) are the coalesced spans of
//! its cells, which are exactly the spans a fold per key would have made, at a quarter of the
//! lookups per event.

mod context;
mod principals;
mod resource;
mod span;

use super::first_seen::FirstSeenConfig;
use crate::event::{PrincipalType, Record};
use crate::pipeline::{EventContext, EventSink, Flow};
pub(crate) use context::{CLIENT, ContextItem, MAX_PER_PRINCIPAL, NETWORK, network};
use principals::{PrincipalCache, Who};
pub(crate) use resource::{RESOURCE_TYPES, ResourceFilter};
pub(crate) use span::Span;
use std::collections::HashMap;
use std::sync::Arc;

/// What a baseline key is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum KeyKind {
    /// Any principal of the account doing an action.
    AccountAction,
    /// One principal doing an action.
    PrincipalAction,
    /// One principal acting in a region (any action).
    PrincipalRegion,
    /// Any role of this name, in any account, doing an action.
    RoleNameAction,
    /// One principal touching a data-bearing resource (`resource.rs`), with any action.
    PrincipalResource,
}

impl KeyKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyKind::AccountAction => "account_action",
            KeyKind::PrincipalAction => "principal_action",
            KeyKind::PrincipalRegion => "principal_region",
            KeyKind::RoleNameAction => "role_name_action",
            KeyKind::PrincipalResource => "principal_resource",
        }
    }
}

/// Whose first observation a burn-in is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ScopeKind {
    Principal,
    Account,
    RoleName,
}

impl ScopeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Principal => "principal",
            ScopeKind::Account => "account",
            ScopeKind::RoleName => "role_name",
        }
    }
}

/// The context of one event, kept for the earliest event of a span: what the alert shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sample {
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

/// Everything observed for one baseline key.
#[derive(Debug, Clone)]
pub(crate) struct KeyObs {
    pub kind: KeyKind,
    pub scope: String,
    pub item: String,
    pub account: Option<String>,
    pub success: Vec<Span>,
    pub failure: Vec<Span>,
}

/// First and last sighting of a principal, account or role name.
#[derive(Debug, Clone)]
pub(crate) struct ScopeObs {
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
pub(crate) struct SkipFilter {
    pub service_linked_roles: bool,
    pub aws_services: bool,
    pub principals: Vec<String>,
    pub user_agents: Vec<String>,
    pub event_types: Vec<String>,
    /// The resource types `first_for_resource` tracks (none when the kind is off).
    pub resources: ResourceFilter,
}

impl SkipFilter {
    pub(crate) fn from_config(c: &FirstSeenConfig) -> SkipFilter {
        SkipFilter {
            service_linked_roles: c.skip_service_linked_roles,
            aws_services: c.skip_aws_services,
            principals: c.skip_principals.clone(),
            user_agents: c.skip_user_agents.clone(),
            event_types: c.skip_event_types.clone(),
            resources: ResourceFilter::new(if c.kinds.first_for_resource { &c.resource_types } else { &[] }),
        }
    }
}

/// The `[first_seen]` skip rule an event fell under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkipReason {
    AwsService,
    ServiceLinkedRole,
    Principal,
    UserAgent,
    EventType,
}

impl SkipReason {
    const ALL: [SkipReason; 5] =
        [SkipReason::AwsService, SkipReason::ServiceLinkedRole, SkipReason::Principal, SkipReason::UserAgent, SkipReason::EventType];

    /// What the summary calls it: the config key it comes from.
    fn label(self) -> &'static str {
        match self {
            SkipReason::AwsService => "AWS services (skip_aws_services)",
            SkipReason::ServiceLinkedRole => "service-linked roles (skip_service_linked_roles)",
            SkipReason::Principal => "listed principals (skip_principals)",
            SkipReason::UserAgent => "user agents such as AWS Internal (skip_user_agents)",
            SkipReason::EventType => "event types such as AwsServiceEvent (skip_event_types)",
        }
    }
}

/// Events not learned, counted by the skip rule that took them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Skipped([u64; 5]);

impl Skipped {
    fn add(&mut self, r: SkipReason) {
        self.0[r as usize] += 1;
    }

    pub(crate) fn absorb(&mut self, o: &Skipped) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a += b;
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// `"12 AWS services (skip_aws_services), 3 ..."`, the rules that took any; empty for none.
    pub(crate) fn by_rule(&self) -> String {
        SkipReason::ALL
            .iter()
            .filter(|r| self.0[**r as usize] > 0)
            .map(|r| format!("{} {}", self.0[*r as usize], r.label()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Everything one worker saw of one principal doing one action in one region and account (the
/// event's), with one outcome. The parts keep their hashes, so expanding hashes nothing again.
#[derive(Debug, Clone)]
struct Cell {
    who: Arc<Who>,
    event_account: Option<(Box<str>, u128)>,
    /// `service:name`, as `Record::action` spells it.
    action: (Box<str>, u128),
    region: Option<(Box<str>, u128)>,
    failed: bool,
    /// Sorted by `first`, apart by more than the window.
    spans: Vec<Span>,
}

impl Cell {
    fn first(&self) -> i64 {
        self.spans.first().map_or(i64::MAX, |s| s.first)
    }

    /// Earliest first, then by content: an order that does not depend on reading.
    fn order(&self) -> (i64, &str, Option<&str>, &str, Option<&str>, bool) {
        fn name(p: &Option<(Box<str>, u128)>) -> Option<&str> {
            p.as_ref().map(|(s, _)| &**s)
        }
        (self.first(), &self.who.principal.id, name(&self.event_account), &self.action.0, name(&self.region), self.failed)
    }

    /// The spans are sorted and apart, so the last one ends last.
    fn last(&self) -> i64 {
        self.spans.last().map_or(i64::MIN, |s| s.last)
    }
}

/// One worker's observations; merge them with [`Observations::merge`], then
/// [`Observations::expand`] them into keys and scopes.
#[derive(Debug, Clone)]
pub(crate) struct Observations {
    /// The `first_in_n_days` window in milliseconds: spans further apart stay apart.
    pub gap: i64,
    /// Keyed by a 128-bit hash of the cell's parts already: foldhash (seeded per run) only
    /// spreads it, where the default SipHash would hash it all again.
    cells: HashMap<u128, Cell, foldhash::fast::RandomState>,
    /// Events folded in.
    pub events: u64,
    /// Events not learned by the `[first_seen]` skip rules, by rule.
    pub skipped: Skipped,
    /// Events without a readable `eventTime` (nothing to place them in time).
    pub without_time: u64,
    skip: Arc<SkipFilter>,
    scratch: Vec<u8>,
    principals: PrincipalCache,
    /// Each principal's source networks and client kinds (`context.rs`).
    context: context::ContextObs,
    /// Principal × resource cells (the action is the resource), apart from `cells`: they make
    /// one key each and no scope.
    resource_cells: HashMap<u128, Cell, foldhash::fast::RandomState>,
    /// Resource cells per principal hash, bounded by [`MAX_RESOURCES_PER_PRINCIPAL`].
    resources_held: HashMap<u128, usize, foldhash::fast::RandomState>,
    touched: Vec<String>,
}

/// Resources one worker tracks per principal in a batch, and the store keeps per principal: the
/// first ones given (beyond it, which resources are tracked depends on the reading order).
pub(crate) const MAX_RESOURCES_PER_PRINCIPAL: usize = 256;

fn hash_str(s: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(s.as_bytes())
}

/// A key's, scope's or cell's hash from a tag (what it is) and the hashes of its parts (0 for a
/// part that is absent): a few bytes hashed per part, however long the principal's ARN.
fn hash_parts(tag: u8, parts: &[u128]) -> u128 {
    let mut b = [0u8; 1 + 16 * 5];
    b[0] = tag;
    for (chunk, h) in b[1..].chunks_exact_mut(16).zip(parts) {
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_128(&b[..1 + 16 * parts.len()])
}

impl Observations {
    pub(crate) fn new(gap: i64, skip: Arc<SkipFilter>) -> Observations {
        Observations {
            gap,
            cells: HashMap::default(),
            events: 0,
            skipped: Skipped::default(),
            without_time: 0,
            skip,
            scratch: Vec::new(),
            principals: PrincipalCache::default(),
            context: context::ContextObs::default(),
            resource_cells: HashMap::default(),
            resources_held: HashMap::default(),
            touched: Vec::new(),
        }
    }

    /// Folds `o` into `self`.
    pub(crate) fn merge(mut self, o: Observations) -> Observations {
        merge_cells(&mut self.cells, o.cells, self.gap);
        merge_cells(&mut self.resource_cells, o.resource_cells, self.gap);
        self.context.merge(o.context);
        self.events += o.events;
        self.skipped.absorb(&o.skipped);
        self.without_time += o.without_time;
        self
    }

    /// The earliest and latest event time folded in (every event is in an action cell).
    pub(crate) fn time_range(&self) -> Option<(i64, i64)> {
        let first = self.cells.values().map(Cell::first).min()?;
        Some((first, self.cells.values().map(Cell::last).max()?))
    }

    /// Folds one event in.
    pub(crate) fn observe(&mut self, r: &Record<'_>) {
        let Some(t) = r.event_time else {
            self.without_time += 1;
            return;
        };
        let skip = &*self.skip;
        let known = self.principals.get(r, skip);
        let reason = known.skipped.or_else(|| {
            if r.user_agent.as_deref().is_some_and(|ua| super::pattern::any(&skip.user_agents, ua)) {
                Some(SkipReason::UserAgent)
            } else if r.event_type.as_deref().is_some_and(|t| skip.event_types.iter().any(|x| x == t)) {
                Some(SkipReason::EventType)
            } else {
                None
            }
        });
        if let Some(reason) = reason {
            self.skipped.add(reason);
            return;
        }
        self.events += 1;
        // "First in the account" is about the account acted in, as its own logs show it.
        let who = &known.who;
        let event_account = r.account().or(who.principal.account.as_deref());
        let account_hash = event_account.map_or(0, |a| known.account.hash(a));
        // The action is hashed from the scratch buffer; its string is only made for a new cell.
        let (service, name) = crate::event::record::action_parts(r.event_source.as_deref(), r.event_name.as_deref());
        self.scratch.clear();
        self.scratch.extend_from_slice(service.as_bytes());
        self.scratch.push(b':');
        self.scratch.extend_from_slice(name.as_bytes());
        let action_hash = xxhash_rust::xxh3::xxh3_128(&self.scratch);
        let region = r.aws_region.as_deref();
        let region_hash = region.map_or(0, hash_str);
        let failed = r.error_code.is_some();
        let h = hash_parts(0x20 | u8::from(failed), &[who.principal_hash, who.role_hash, account_hash, action_hash, region_hash]);
        let cell = self.cells.entry(h).or_insert_with(|| Cell {
            who: who.clone(),
            event_account: event_account.map(|a| (a.into(), account_hash)),
            action: (format!("{service}:{name}").into(), action_hash),
            region: region.map(|r| (r.into(), region_hash)),
            failed,
            spans: Vec::new(),
        });
        let p = &who.principal;
        self.context.add(who.principal_hash, &p.id, t, r.source_ip.as_deref(), r.user_agent.as_deref());
        let id = r.event_id.as_deref();
        let mut sample = || {
            Arc::new(Sample {
                time: t,
                event_id: id.map(str::to_string),
                principal: p.id.clone(),
                principal_type: p.kind,
                principal_name: p.name.clone(),
                account: p.account.as_deref().or_else(|| r.account()).map(str::to_string),
                event_account: event_account.map(str::to_string),
                session: p.session.clone(),
                source_ip: r.source_ip.as_deref().map(str::to_string),
                user_agent: r.user_agent.as_deref().map(str::to_string),
                error_code: r.error_code.as_deref().map(str::to_string),
                region: region.map(str::to_string),
                event_source: r.event_source.as_deref().map(str::to_string),
                event_name: r.event_name.as_deref().map(str::to_string),
                read_only: r.read_only,
            })
        };
        span::add_event(&mut cell.spans, self.gap, t, id, &mut sample);
        skip.resources.touched(r, event_account, &mut self.touched);
        for res in &self.touched {
            let res_hash = hash_str(res);
            let h = hash_parts(0x40 | u8::from(failed), &[who.principal_hash, res_hash]);
            let cell = match self.resource_cells.entry(h) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let held = self.resources_held.entry(who.principal_hash).or_default();
                    if *held >= MAX_RESOURCES_PER_PRINCIPAL {
                        continue;
                    }
                    *held += 1;
                    e.insert(Cell {
                        who: who.clone(),
                        event_account: event_account.map(|a| (a.into(), account_hash)),
                        action: (res.as_str().into(), res_hash),
                        region: region.map(|r| (r.into(), region_hash)),
                        failed,
                        spans: Vec::new(),
                    })
                }
            };
            span::add_event(&mut cell.spans, self.gap, t, id, &mut sample);
        }
    }

    /// The baseline keys and scopes the cells make, in no particular order, and the principals'
    /// networks and client kinds.
    pub(crate) fn expand(self) -> (Vec<KeyObs>, Vec<ScopeObs>, Vec<ContextItem>) {
        let gap = self.gap;
        let context = self.context.expand();
        let mut cells: Vec<Cell> = self.cells.into_values().collect();
        // A key takes its account, and a scope its type, account and name, from its first cell:
        // earliest first, so that does not depend on the order events were read in.
        cells.sort_by(|a, b| a.order().cmp(&b.order()));
        let mut keys: HashMap<u128, KeyObs, foldhash::fast::RandomState> = HashMap::default();
        let mut scopes: HashMap<u128, ScopeObs, foldhash::fast::RandomState> = HashMap::default();
        let mut resource_cells: Vec<Cell> = self.resource_cells.into_values().collect();
        resource_cells.sort_by(|a, b| a.order().cmp(&b.order()));
        for c in resource_cells {
            let p = &c.who.principal;
            let account = p.account.as_deref().or(c.event_account.as_ref().map(|a| &*a.0));
            let k =
                keys.entry(hash_parts(KeyKind::PrincipalResource as u8, &[c.who.principal_hash, c.action.1])).or_insert_with(|| KeyObs {
                    kind: KeyKind::PrincipalResource,
                    scope: p.id.clone(),
                    item: c.action.0.to_string(),
                    account: account.map(str::to_string),
                    success: Vec::new(),
                    failure: Vec::new(),
                });
            (if c.failed { &mut k.failure } else { &mut k.success }).extend(c.spans);
        }
        for mut c in cells {
            let w = c.who.clone();
            let p = &w.principal;
            let acct = c.event_account.as_ref().map(|(a, h)| (&**a, *h));
            let account = p.account.as_deref().or(acct.map(|a| a.0));
            let action = (&*c.action.0, c.action.1);
            let principal = (p.id.as_str(), w.principal_hash);
            // The keys this cell adds to: (kind, scope, item, account).
            let mut targets: smallvec::SmallVec<[_; 4]> = smallvec::SmallVec::new();
            targets.push((KeyKind::PrincipalAction, principal, action, account));
            if let Some((region, region_hash)) = &c.region {
                targets.push((KeyKind::PrincipalRegion, principal, (region, *region_hash), account));
            }
            if let Some(a) = acct {
                targets.push((KeyKind::AccountAction, a, action, Some(a.0)));
            }
            if let Some(rk) = &w.role_key {
                targets.push((KeyKind::RoleNameAction, (rk, w.role_hash), action, None));
            }
            let (first, last) = (c.first(), c.last());
            let mut spans = std::mem::take(&mut c.spans);
            let n = targets.len();
            for (i, (kind, (scope, scope_hash), (item, item_hash), account)) in targets.into_iter().enumerate() {
                let k = keys.entry(hash_parts(kind as u8, &[scope_hash, item_hash])).or_insert_with(|| KeyObs {
                    kind,
                    scope: scope.to_string(),
                    item: item.to_string(),
                    account: account.map(str::to_string),
                    success: Vec::new(),
                    failure: Vec::new(),
                });
                // The last key takes the spans; the others take copies.
                let mine = if i + 1 == n { std::mem::take(&mut spans) } else { spans.clone() };
                (if c.failed { &mut k.failure } else { &mut k.success }).extend(mine);
            }
            let mut scope = |kind: ScopeKind, (scope, scope_hash): (&str, u128), ptype, account: Option<&str>, name: Option<&str>| {
                let s = scopes.entry(hash_parts(0x10 | kind as u8, &[scope_hash])).or_insert_with(|| ScopeObs {
                    kind,
                    scope: scope.to_string(),
                    principal_type: ptype,
                    account: account.map(str::to_string),
                    name: name.map(str::to_string),
                    first,
                    last,
                });
                s.first = s.first.min(first);
                s.last = s.last.max(last);
            };
            if let Some(a) = acct {
                scope(ScopeKind::Account, a, None, Some(a.0), None);
            }
            if let Some(rk) = &w.role_key {
                scope(ScopeKind::RoleName, (rk, w.role_hash), None, None, Some(&p.name));
            }
            scope(ScopeKind::Principal, (&p.id, w.principal_hash), Some(p.kind), account, Some(&p.name));
        }
        let keys = keys
            .into_values()
            .map(|mut k| {
                span::coalesce(&mut k.success, gap);
                span::coalesce(&mut k.failure, gap);
                k
            })
            .collect();
        (keys, scopes.into_values().collect(), context)
    }
}

/// Folds `other`'s cells into `mine`.
fn merge_cells(
    mine: &mut HashMap<u128, Cell, foldhash::fast::RandomState>,
    other: HashMap<u128, Cell, foldhash::fast::RandomState>,
    gap: i64,
) {
    for (h, c) in other {
        match mine.get_mut(&h) {
            None => {
                mine.insert(h, c);
            }
            Some(m) => {
                m.spans.extend(c.spans);
                span::coalesce(&mut m.spans, gap);
            }
        }
    }
}

impl EventSink for Observations {
    fn event(&mut self, ev: &Record<'_>, _ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        self.observe(ev);
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::span::MAX_EVENT_IDS;
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
        let (keys, ..) = o.clone().expand();
        let k = keys.iter().find(|k| k.kind == KeyKind::PrincipalAction).unwrap();
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
        assert_eq!(all.expand().1.len(), 2); // the user and the account
    }

    #[test]
    fn event_ids_keep_the_earliest() {
        let evs: Vec<(i64, String)> = (0..20).rev().map(|i| (i, format!("id{i:02}"))).collect();
        let refs: Vec<(i64, &str)> = evs.iter().map(|(t, s)| (*t, s.as_str())).collect();
        let (keys, ..) = fold(&refs).expand();
        let k = keys.iter().find(|k| k.kind == KeyKind::PrincipalAction).unwrap();
        let ids: Vec<&str> = k.success[0].event_ids.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(ids, ["id00", "id01", "id02", "id03", "id04"]);
    }

    /// First, last, count, sample's event ID, event IDs.
    type PlainSpan = (i64, i64, u64, Option<String>, Vec<String>);
    /// Kind, scope, item, failed.
    type PlainKey = (KeyKind, String, String, bool);

    /// The same events, one key at a time: what expanding the cells must give.
    fn per_key(events: &[String], gap: i64) -> Vec<(PlainKey, Vec<PlainSpan>)> {
        let mut out: HashMap<PlainKey, Vec<(i64, Option<String>)>> = HashMap::new();
        for e in events {
            let r = Record::parse(e).unwrap();
            let p = r.user_identity.principal();
            let t = r.event_time.unwrap();
            let action = r.action();
            let failed = r.error_code.is_some();
            let acct = r.account().map(str::to_string).or(p.account.clone());
            let id = r.event_id.as_deref().map(str::to_string);
            let mut push =
                |k: KeyKind, s: &str, i: &str| out.entry((k, s.to_string(), i.to_string(), failed)).or_default().push((t, id.clone()));
            push(KeyKind::PrincipalAction, &p.id, &action);
            if let Some(region) = r.aws_region.as_deref() {
                push(KeyKind::PrincipalRegion, &p.id, region);
            }
            if let Some(a) = &acct {
                push(KeyKind::AccountAction, a, &action);
            }
            if let Some(rk) = p.cross_account_key() {
                push(KeyKind::RoleNameAction, &rk, &action);
            }
        }
        let mut v: Vec<_> = out
            .into_iter()
            .map(|(key, mut evs)| {
                evs.sort();
                let mut spans: Vec<PlainSpan> = Vec::new();
                for (t, id) in evs {
                    match spans.last_mut() {
                        Some(sp) if t - sp.1 <= gap => {
                            sp.1 = t;
                            sp.2 += 1;
                            if let Some(id) = id.filter(|_| sp.4.len() < MAX_EVENT_IDS) {
                                sp.4.push(id);
                            }
                        }
                        _ => spans.push((t, t, 1, id.clone(), id.into_iter().collect())),
                    }
                }
                (key, spans)
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn cells_expand_to_what_a_fold_per_key_gives() {
        // Two roles of one name in two accounts, a user, cross-account calls, failures, a
        // record without a region, in an order that is not time order, split over workers.
        let role = |acct: &str, name: &str| {
            format!(
                r#"{{"type":"AssumedRole","principalId":"AROA:s","arn":"arn:aws:sts::{acct}:assumed-role/{name}/s","accountId":"{acct}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::{acct}:role/{name}","accountId":"{acct}"}}}}}}"#
            )
        };
        let user = r#"{"type":"IAMUser","arn":"arn:aws:iam::111:user/u","accountId":"111","userName":"u"}"#.to_string();
        let ids = [role("111", "deploy"), role("222", "deploy"), user];
        let actions = [("s3.amazonaws.com", "GetObject"), ("ec2.amazonaws.com", "DescribeInstances"), ("iam.amazonaws.com", "ListRoles")];
        let mut events = Vec::new();
        for i in 0..400u64 {
            let who = &ids[(i * 7 % 3) as usize];
            let (src, name) = actions[(i * 5 % 3) as usize];
            let t = ((i * 7919) % 400) as i64 * DAY / 3;
            let region = match i % 4 {
                0 => r#","awsRegion":"eu-west-1""#,
                1 => "",
                _ => r#","awsRegion":"us-east-1""#,
            };
            let recipient = if i % 9 == 0 {
                "333"
            } else if i % 2 == 0 {
                "111"
            } else {
                "222"
            };
            let err = if i % 6 == 0 { r#","errorCode":"AccessDenied""# } else { "" };
            let time = crate::event::time::format_millis(t);
            events.push(format!(
                r#"{{"eventTime":"{time}","eventID":"e{i:03}","eventSource":"{src}","eventName":"{name}"{region},"recipientAccountId":"{recipient}"{err},"userIdentity":{who}}}"#
            ));
        }
        let gap = 30 * DAY;
        let fold_all = |evs: &[String]| {
            let mut o = Observations::new(gap, Arc::new(SkipFilter::default()));
            for e in evs {
                o.observe(&Record::parse(e).unwrap());
            }
            o
        };
        let want = per_key(&events, gap);
        for split in [0, 1, 137, 399] {
            let (keys, ..) = fold_all(&events[..split]).merge(fold_all(&events[split..])).expand();
            let mut got: Vec<_> = keys
                .into_iter()
                .flat_map(|k| {
                    [(false, k.success.clone()), (true, k.failure.clone())].into_iter().filter(|(_, s)| !s.is_empty()).map(move |(f, s)| {
                        let spans = s
                            .iter()
                            .map(|s| {
                                (s.first, s.last, s.count, s.sample.event_id.clone(), s.event_ids.iter().map(|x| x.1.clone()).collect())
                            })
                            .collect();
                        ((k.kind, k.scope.clone(), k.item.clone(), f), spans)
                    })
                })
                .collect();
            got.sort();
            assert_eq!(got, want, "split at {split}");
        }
    }
}
