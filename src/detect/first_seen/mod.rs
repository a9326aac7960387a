//! The sequential stage of first-seen detection: merged observations are compared with the store
//! and written back in one transaction, and new behaviours become alerts.
//!
//! Every decision is made in event time: a key's first seen is its earliest event, a burn-in is
//! the time between a scope's first observation and the event, and an action is "new in N days"
//! when the gap before it exceeds N days. So late or unordered delivery raises nothing spurious,
//! a rescan raises nothing, and running day by day raises what one run over the period raises.

mod config;
mod risk;

pub(crate) use config::{FirstSeenConfig, Kinds};

use super::observe::{
    CLIENT, ContextItem, KeyKind, KeyObs, MAX_PER_PRINCIPAL, MAX_RESOURCES_PER_PRINCIPAL, NETWORK, Observations, Sample, ScopeKind,
    SkipFilter, Span, network,
};
use super::pattern;
use crate::alert::evidence::{Behaviour, FirstSeenEvidence, PrincipalContext, Usual};
use crate::alert::{Alert, Detector, Evidence, Severity};
use crate::event::PrincipalType;
use crate::event::time::format_millis;
use crate::store::{BaselineRow, ScopeRow, StoreTx, Tally};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

const DAY: i64 = 86_400_000;
/// The scope row holding a principal's latest run of activity (`activity_runs`).
const RUN_SCOPE: &str = "principal_run";

/// Each principal's runs of activity, `(first, last)` sorted (`activity_runs`).
type Runs = HashMap<String, Vec<(i64, i64)>>;

/// What the gate needs to know beyond a candidate, gathered while applying a batch.
#[derive(Default)]
struct Known {
    /// First observation of each scope (store and batch merged).
    scope_first: HashMap<(ScopeKind, String), i64>,
    /// Earliest success and failure of each role-name key `(role/<name>, action)`.
    role_first: HashMap<(String, String), (Option<i64>, Option<i64>)>,
    /// Each principal's runs of activity (`activity_runs`), to tell an idle principal coming
    /// back from one changing what it does.
    runs: Runs,
    coverage_first: i64,
}

/// Alert kinds, in the order `[[first_seen.allow]] kind` and the config use them.
pub(crate) const KIND_NAMES: &[&str] =
    &["first_in_account", "first_for_role_name", "new_region", "first_for_principal", "first_for_resource", "first_in_n_days"];

/// The kinds of "first time", weakest first: when one event is new in several ways, the alert
/// names the strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    FirstInNDays,
    FirstForResource,
    FirstForPrincipal,
    NewRegion,
    FirstForRoleName,
    FirstInAccount,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::FirstInAccount => "first_in_account",
            Kind::FirstForRoleName => "first_for_role_name",
            Kind::NewRegion => "new_region",
            Kind::FirstForPrincipal => "first_for_principal",
            Kind::FirstInNDays => "first_in_n_days",
            Kind::FirstForResource => "first_for_resource",
        }
    }

    fn severity(self) -> Severity {
        match self {
            Kind::FirstInAccount | Kind::FirstForRoleName | Kind::NewRegion => Severity::Medium,
            Kind::FirstForPrincipal | Kind::FirstForResource | Kind::FirstInNDays => Severity::Low,
        }
    }

    fn label(self, n_days: u32) -> String {
        match self {
            Kind::FirstInAccount => "first in the account".into(),
            Kind::FirstForRoleName => "first for any role of this name".into(),
            Kind::NewRegion => "first in this region".into(),
            Kind::FirstForPrincipal => "first for this principal".into(),
            Kind::FirstInNDays => format!("first in {n_days} days"),
            Kind::FirstForResource => "first touch of this resource".into(),
        }
    }

    fn enabled(self, k: &Kinds) -> bool {
        match self {
            Kind::FirstInAccount => k.first_in_account,
            Kind::FirstForRoleName => k.first_for_role_name,
            Kind::NewRegion => k.new_region,
            Kind::FirstForPrincipal => k.first_for_principal,
            Kind::FirstInNDays => k.first_in_n_days,
            Kind::FirstForResource => k.first_for_resource,
        }
    }
}

/// One new behaviour found by comparing a span with what was known before it.
#[derive(Debug, Clone)]
struct Candidate {
    kind: Kind,
    key_kind: KeyKind,
    scope: String,
    item: String,
    failed: bool,
    span: Span,
    /// For `first_in_n_days`: the last time before this span.
    last_before: Option<i64>,
    also: Vec<Kind>,
}

impl Candidate {
    fn t0(&self) -> i64 {
        self.span.first
    }
    fn sample(&self) -> &Arc<Sample> {
        &self.span.sample
    }
    fn is_region(&self) -> bool {
        self.key_kind == KeyKind::PrincipalRegion
    }
    fn is_resource(&self) -> bool {
        self.key_kind == KeyKind::PrincipalResource
    }
    /// A region or resource key's item is not an action: its first event's action is.
    fn action(&self) -> String {
        if self.is_region() || self.is_resource() {
            let s = self.sample();
            let (service, name) = crate::event::record::action_parts(s.event_source.as_deref(), s.event_name.as_deref());
            format!("{service}:{name}")
        } else {
            self.item.clone()
        }
    }
}

/// What one application of observations did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(crate) struct ApplyStats {
    /// Baseline keys seen for the first time (learned, alerted or not).
    pub new_keys: u64,
    pub alerts: u64,
    /// New behaviours not alerted on, by reason.
    pub suppressed: BTreeMap<&'static str, u64>,
}

impl ApplyStats {
    /// Adds another batch's counts.
    pub(crate) fn merge(&mut self, o: ApplyStats) {
        self.new_keys += o.new_keys;
        self.alerts += o.alerts;
        for (k, v) in o.suppressed {
            *self.suppressed.entry(k).or_default() += v;
        }
    }
}

/// The first-seen detector: configuration plus the two stages' entry points.
#[derive(Debug, Clone)]
pub(crate) struct FirstSeenDetector {
    pub cfg: FirstSeenConfig,
    skip: Arc<SkipFilter>,
}

impl FirstSeenDetector {
    pub(crate) fn new(cfg: FirstSeenConfig) -> FirstSeenDetector {
        let skip = Arc::new(SkipFilter::from_config(&cfg));
        FirstSeenDetector { cfg, skip }
    }

    fn gap(&self) -> i64 {
        i64::from(self.cfg.n_days.max(1)) * DAY
    }

    /// A fresh per-worker sink for the parallel stage.
    pub(crate) fn observations(&self) -> Observations {
        Observations::new(self.gap(), self.skip.clone())
    }

    /// Applies merged observations to the store inside `tx`, returning the alerts raised (already
    /// in the store's outbox; a learning transaction records them as learned).
    pub(crate) fn apply(&self, obs: Observations, tx: &dyn StoreTx, now: i64) -> anyhow::Result<(Vec<Alert>, ApplyStats)> {
        let mut stats = ApplyStats::default();
        let Some((first, last)) = obs.time_range() else {
            return Ok((Vec::new(), stats));
        };
        let (coverage_first, _) = tx.extend_coverage(first, last)?;

        let mut known = Known { coverage_first, ..Known::default() };
        let (mut keys, mut scopes, context) = obs.expand();
        learn_context(&context, tx)?;
        // Before the scopes merge this batch in: a store without runs falls back on them.
        known.runs = self.activity_runs(&keys, tx)?;
        scopes.sort_by(|a, b| (a.kind, &a.scope).cmp(&(b.kind, &b.scope)));
        for s in scopes {
            let row = ScopeRow {
                scope_kind: s.kind.as_str().into(),
                scope: s.scope.clone(),
                principal_type: s.principal_type.map(|p| p.as_str().to_string()),
                account: s.account,
                name: s.name,
                first_seen: s.first,
                last_seen: s.last,
            };
            let merged = tx.merge_scope(&row)?;
            known.scope_first.insert((s.kind, s.scope), merged.first_seen);
        }

        keys.sort_by(|a, b| (a.kind, &a.scope, &a.item).cmp(&(b.kind, &b.scope, &b.item)));
        let mut candidates = Vec::new();
        // Resource keys each principal holds, looked up once per batch (the store's cap).
        let mut resources_held: HashMap<&str, usize> = HashMap::new();
        for k in &keys {
            let stored = tx.baseline(k.kind.as_str(), &k.scope, &k.item)?;
            if k.kind == KeyKind::PrincipalResource && stored.is_none() {
                let held = match resources_held.entry(&k.scope) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        e.insert(tx.baseline_earliest(k.kind.as_str(), &k.scope, i64::MAX, MAX_RESOURCES_PER_PRINCIPAL)?.len())
                    }
                };
                if *held >= MAX_RESOURCES_PER_PRINCIPAL {
                    *stats.suppressed.entry("resource_cap").or_default() += 1;
                    continue;
                }
                *held += 1;
            }
            let (old_ok, old_err) = stored.as_ref().map_or((Tally::default(), Tally::default()), |r| (r.success, r.failure));
            if stored.is_none() {
                stats.new_keys += 1;
            }
            let mut ok = old_ok;
            let mut err = old_err;
            for s in &k.success {
                ok.absorb(&Tally { first: Some(s.first), last: Some(s.last), count: s.count as i64 });
            }
            for s in &k.failure {
                err.absorb(&Tally { first: Some(s.first), last: Some(s.last), count: s.count as i64 });
            }
            self.find_new(k, &old_ok, &k.success, false, None, &mut candidates);
            self.find_new(k, &old_err, &k.failure, true, ok.first, &mut candidates);
            if k.kind == KeyKind::RoleNameAction {
                known.role_first.insert((k.scope.clone(), k.item.clone()), (ok.first, err.first));
            }
            let account = k.account.clone().or_else(|| stored.and_then(|s| s.account));
            tx.put_baseline(&BaselineRow {
                key_kind: k.kind.as_str().into(),
                scope: k.scope.clone(),
                item: k.item.clone(),
                account,
                success: ok,
                failure: err,
            })?;
        }

        let mut kept: Vec<Candidate> = Vec::new();
        for c in candidates {
            match self.gate(&c, tx, &known)? {
                Some(reason) => *stats.suppressed.entry(reason).or_default() += 1,
                None => kept.push(c),
            }
        }
        let alerts = self.group(kept, tx, now, &known.runs)?;
        stats.alerts = alerts.len() as u64;
        Ok((alerts, stats))
    }

    /// Each principal's runs of activity: its events of any action, split where it was idle for
    /// more than `n_days`. The store keeps each principal's latest run (scope kind
    /// `principal_run`: first = when it came back, last = its latest event), so a run per day
    /// finds the returns one run over the period finds. A store written before runs were kept
    /// has none: the principal's first and last observation stand in (as if always active).
    fn activity_runs(&self, keys: &[KeyObs], tx: &dyn StoreTx) -> anyhow::Result<Runs> {
        let mut runs: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        for k in keys.iter().filter(|k| k.kind == KeyKind::PrincipalAction) {
            runs.entry(k.scope.clone()).or_default().extend(k.success.iter().chain(&k.failure).map(|s| (s.first, s.last)));
        }
        let gap = self.gap();
        let mut principals: Vec<&String> = runs.keys().collect();
        principals.sort();
        let mut out = HashMap::with_capacity(runs.len());
        for p in principals {
            let mut iv = runs[p].clone();
            let stored = match tx.scope(RUN_SCOPE, p)? {
                Some(r) => Some(r),
                None => tx.scope(ScopeKind::Principal.as_str(), p)?,
            };
            iv.extend(stored.map(|r| (r.first_seen, r.last_seen)));
            iv.sort_unstable();
            let mut merged: Vec<(i64, i64)> = Vec::with_capacity(iv.len());
            for (f, l) in iv {
                match merged.last_mut() {
                    Some(m) if f - m.1 <= gap => m.1 = m.1.max(l),
                    _ => merged.push((f, l)),
                }
            }
            if let Some(&(first, last)) = merged.last() {
                let row = ScopeRow {
                    scope_kind: RUN_SCOPE.into(),
                    scope: p.clone(),
                    principal_type: None,
                    account: None,
                    name: None,
                    first_seen: first,
                    last_seen: last,
                };
                tx.put_scope(&row)?;
            }
            out.insert(p.clone(), merged);
        }
        Ok(out)
    }

    /// New behaviours among `spans` (one outcome of key `k`) given what was stored. A failure is
    /// new only if no success came before it (`success_first`).
    fn find_new(&self, k: &KeyObs, stored: &Tally, spans: &[Span], failed: bool, success_first: Option<i64>, out: &mut Vec<Candidate>) {
        let mut prev_last = stored.last;
        for span in spans {
            let kind = match prev_last {
                None if success_first.is_none_or(|s| s > span.first) => Some(match k.kind {
                    KeyKind::AccountAction => Kind::FirstInAccount,
                    KeyKind::PrincipalAction => Kind::FirstForPrincipal,
                    KeyKind::PrincipalRegion => Kind::NewRegion,
                    KeyKind::RoleNameAction => Kind::FirstForRoleName,
                    KeyKind::PrincipalResource => Kind::FirstForResource,
                }),
                // An earlier span, delivered late, is history: it never alerts.
                Some(pl)
                    if !failed
                        && k.kind == KeyKind::PrincipalAction
                        && stored.first.is_none_or(|f| span.first >= f)
                        && span.first - pl > self.gap() =>
                {
                    Some(Kind::FirstInNDays)
                }
                _ => None,
            };
            if let Some(kind) = kind {
                out.push(Candidate {
                    kind,
                    key_kind: k.kind,
                    scope: k.scope.clone(),
                    item: k.item.clone(),
                    failed,
                    span: span.clone(),
                    last_before: prev_last.filter(|_| kind == Kind::FirstInNDays),
                    also: Vec::new(),
                });
            }
            prev_last = Some(prev_last.map_or(span.last, |p| p.max(span.last)));
        }
    }

    /// Why `c` does not alert, or `None` when it does.
    fn gate(&self, c: &Candidate, tx: &dyn StoreTx, known: &Known) -> anyhow::Result<Option<&'static str>> {
        let cfg = &self.cfg;
        let s = c.sample();
        if !cfg.enabled {
            return Ok(Some("disabled"));
        }
        if !c.kind.enabled(&cfg.kinds) {
            return Ok(Some("kind_disabled"));
        }
        if c.failed && !cfg.alert_failures {
            return Ok(Some("failure"));
        }
        let burn_in = i64::from(cfg.burn_in_days) * DAY;
        let scope = match c.kind {
            Kind::FirstInAccount => (ScopeKind::Account, c.scope.clone()),
            Kind::FirstForRoleName => (ScopeKind::RoleName, c.scope.clone()),
            _ => (ScopeKind::Principal, s.principal.clone()),
        };
        let born = known.scope_first.get(&scope).copied().unwrap_or(c.t0());
        if c.t0() - known.coverage_first < burn_in || c.t0() - born < burn_in {
            return Ok(Some("burn_in"));
        }
        let action = c.action();
        if pattern::any(&cfg.ignore_actions, &action) {
            return Ok(Some("ignored_action"));
        }
        let region = if c.is_region() { Some(c.item.as_str()) } else { s.region.as_deref() };
        let allowed = cfg.allow.iter().any(|r| {
            let m = |p: &Option<String>, v: Option<&str>| p.as_deref().is_none_or(|p| v.is_some_and(|v| pattern::wildcard(p, v)));
            m(&r.principal, Some(&s.principal))
                && m(&r.action, Some(&action))
                && m(&r.region, region)
                && m(&r.account, s.event_account.as_deref())
                && m(&r.resource, c.is_resource().then_some(c.item.as_str()))
                && r.kind.as_deref().is_none_or(|k| k == c.kind.as_str())
        });
        if allowed {
            return Ok(Some("allowed"));
        }
        // A role inherits its peers' baseline: what a same-named role elsewhere already did (in
        // event time) is not new, for the role nor for its account. A release rolled out to every
        // account alerts once, where it began (`reached_accounts` lists where it went next).
        if matches!(c.kind, Kind::FirstForPrincipal | Kind::FirstInAccount)
            && cfg.kinds.first_for_role_name
            && s.principal_type == PrincipalType::Role
            && let Some((ok, err)) = known.role_first.get(&(format!("role/{}", s.principal_name), c.item.clone()))
        {
            let before = if c.failed { crate::store::min_opt(*ok, *err) } else { *ok };
            if before.is_some_and(|b| b < c.t0()) {
                return Ok(Some("peer_baseline"));
            }
        }
        // A principal idle for more than N days that comes back doing what it did before (a
        // quarterly job) has not changed its behaviour: for N days after its return, its actions
        // are not new in N days. The return's own events are not activity "meanwhile".
        if c.kind == Kind::FirstInNDays && cfg.n_days_skip_idle {
            let run = known.runs.get(&s.principal).and_then(|rs| rs.iter().find(|&&(f, l)| f <= c.t0() && c.t0() <= l));
            if run.is_some_and(|&(back, _)| c.t0() - back <= self.gap()) {
                return Ok(Some("idle_principal"));
            }
        }
        if c.kind == Kind::FirstForRoleName {
            let (peers, _) = tx.role_peers(&s.principal_name, s.account.as_deref(), &c.item, c.t0())?;
            if peers == 0 {
                return Ok(Some("no_peer_roles"));
            }
        }
        Ok(None)
    }

    /// Folds candidates into alerts: one per principal per burst of new behaviours.
    fn group(&self, cands: Vec<Candidate>, tx: &dyn StoreTx, now: i64, runs: &Runs) -> anyhow::Result<Vec<Alert>> {
        // One entry per (principal, item, outcome): the strongest kind, the others listed.
        let mut best: BTreeMap<(String, bool, String, bool), Candidate> = BTreeMap::new();
        for c in cands {
            let key = (c.sample().principal.clone(), c.key_kind == KeyKind::PrincipalRegion || c.is_resource(), c.item.clone(), c.failed);
            match best.get_mut(&key) {
                None => {
                    best.insert(key, c);
                }
                Some(b) => {
                    let (strong, weak) = if (c.kind, -c.t0()) > (b.kind, -b.t0()) { (c, b.clone()) } else { (b.clone(), c) };
                    let mut strong = strong;
                    strong.also.push(weak.kind);
                    strong.also.extend(weak.also);
                    *b = strong;
                }
            }
        }
        let mut by_principal: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
        for ((p, ..), c) in best {
            by_principal.entry(p).or_default().push(c);
        }
        let window = i64::from(self.cfg.group_minutes) * 60_000;
        let mut alerts = Vec::new();
        for (_, mut cs) in by_principal {
            cs.sort_by(|a, b| (a.t0(), std::cmp::Reverse(a.kind), &a.item).cmp(&(b.t0(), std::cmp::Reverse(b.kind), &b.item)));
            // A burst that began in a learned period does not swallow what comes after the
            // boundary: learning vouches for what it read, not for what follows, so a behaviour
            // after it is news of its own (an attacker continuing a burst must not go quiet).
            let mut group: Vec<Candidate> = Vec::new();
            for c in cs {
                if group.first().is_some_and(|g| c.t0() - g.t0() > window) {
                    alerts.extend(self.alert(std::mem::take(&mut group), tx, now, runs)?);
                }
                group.push(c);
            }
            alerts.extend(self.alert(group, tx, now, runs)?);
        }
        alerts.sort_by(|a, b| (&a.event_time, &a.principal).cmp(&(&b.event_time, &b.principal)));
        Ok(alerts)
    }

    /// How risky a candidate looks (`risk.rs`). A region is only news for a principal that had
    /// acted before (`seasoned`): for a new one every region is new, and its actions say more.
    fn risk(&self, c: &Candidate, seasoned: bool) -> risk::Risk {
        let action = c.action();
        risk::assess(&risk::Facts {
            action: &action,
            read_only: c.sample().read_only,
            failed: c.failed,
            new_region: c.is_region() && seasoned,
            new_resource: c.is_resource(),
        })
    }

    fn alert(&self, group: Vec<Candidate>, tx: &dyn StoreTx, now: i64, runs: &Runs) -> anyhow::Result<Option<Alert>> {
        let Some(head) = group.first() else { return Ok(None) };
        let s = head.sample().clone();
        let strongest = group.iter().map(|c| c.kind).max().unwrap_or(head.kind);
        // The id names the principal and each behaviour (kind, item, outcome, first time), in
        // event time: how the members are ranked for reading does not change which alert it is.
        let mut about = vec![s.principal.clone()];
        about.extend(group.iter().map(|c| format!("{}\0{}\0{}\0{}", c.kind.as_str(), c.item, c.failed, c.t0())));
        // Members are read riskiest first, then strongest kind, then earliest; the title names the
        // first, and the severity follows it.
        let behaviours_before = tx.behaviours(&s.principal, head.t0())?;
        let mut ranked: Vec<(risk::Risk, &Candidate)> = group.iter().map(|c| (self.risk(c, behaviours_before > 0), c)).collect();
        ranked.sort_by(|(ra, a), (rb, b)| {
            (std::cmp::Reverse(ra.score), std::cmp::Reverse(a.kind), a.t0(), &a.item).cmp(&(
                std::cmp::Reverse(rb.score),
                std::cmp::Reverse(b.kind),
                b.t0(),
                &b.item,
            ))
        });
        let lead = ranked[0].1;
        let mut severity = group.iter().map(|c| c.kind.severity()).max().unwrap_or(Severity::Low).max(ranked[0].0.severity());
        if s.principal_type == PrincipalType::Root {
            severity = Severity::High;
        }
        let mut behaviours = Vec::new();
        let mut event_ids: Vec<(i64, String)> = Vec::new();
        let mut count = 0u64;
        for (risk, c) in &ranked {
            count += c.span.count;
            event_ids.extend(c.span.event_ids.iter().cloned());
            let cs = c.sample();
            let mut also: Vec<String> = c.also.iter().map(|k| k.as_str().to_string()).collect();
            also.sort_unstable();
            also.dedup();
            // Peers as they stood at the behaviour's first event, and where it went next.
            let role = cs.principal_type == PrincipalType::Role && !c.is_region() && !c.is_resource();
            let peers = if role { Some(tx.role_peers(&cs.principal_name, cs.account.as_deref(), &c.item, c.t0())?) } else { None };
            let reached = if role && !c.failed {
                let window = i64::from(self.cfg.group_minutes) * 60_000;
                Some(tx.role_peers_starting(&cs.principal_name, cs.account.as_deref(), &c.item, c.t0(), c.t0() + window)?)
            } else {
                None
            };
            behaviours.push(Behaviour {
                kind: c.kind.as_str().into(),
                also,
                risk: risk.score,
                risk_factors: risk.factors.iter().map(|f| f.to_string()).collect(),
                outcome: if c.failed { "failure" } else { "success" }.into(),
                action: c.action(),
                new_region: c.is_region().then(|| c.item.clone()),
                resource: c.is_resource().then(|| c.item.clone()),
                first_event_time: format_millis(c.t0()),
                first_event_id: cs.event_id.clone(),
                region: cs.region.clone(),
                last_event_time: format_millis(c.span.last),
                count: c.span.count,
                event_ids: c.span.event_ids.iter().map(|(_, id)| id.clone()).collect(),
                source_ip: cs.source_ip.clone(),
                user_agent: cs.user_agent.clone(),
                error_code: cs.error_code.clone(),
                last_seen_before: c.last_before.map(format_millis),
                days_unused: c.last_before.map(|lb| (c.t0() - lb) / DAY),
                peer_role_accounts: peers.map(|p| p.0),
                peer_roles_doing_action: peers.map(|p| p.1),
                reached_accounts: reached,
            });
        }
        event_ids.sort();
        event_ids.dedup();
        event_ids.truncate(10);
        let principal_first = tx.scope("principal", &s.principal)?.map(|r| r.first_seen);
        let n = group.len();
        let attempt = group.iter().all(|c| c.failed);
        let title = format!(
            "{} {} {}{}: {} {}{}",
            s.principal_type,
            s.principal_name,
            if lead.failed { "attempted " } else { "" },
            lead.action(),
            lead.kind.label(self.cfg.n_days),
            if lead.is_region() || lead.is_resource() { format!("({}) ", lead.item) } else { String::new() },
            if n > 1 { format!("and {} more new behaviour{}", n - 1, if n > 2 { "s" } else { "" }) } else { String::new() },
        )
        .trim_end()
        .to_string();
        let about: Vec<&str> = about.iter().map(String::as_str).collect();
        let mut alert = Alert {
            id: crate::alert::alert_id(Detector::FirstSeen, &about),
            raised_at: String::new(),
            detector: Detector::FirstSeen,
            kind: strongest.as_str().into(),
            severity,
            title,
            account: s.event_account.clone(),
            region: s.region.clone(),
            principal: Some(s.principal.clone()),
            principal_type: Some(s.principal_type.as_str().into()),
            session: s.session.clone(),
            event_source: s.event_source.clone(),
            event_name: s.event_name.clone(),
            // The group's first event, which every event field above describes too.
            event_time: Some(format_millis(s.time)),
            event_ids: event_ids.into_iter().map(|(_, id)| id).collect(),
            source_ip: s.source_ip.clone(),
            user_agent: s.user_agent.clone(),
            error_code: s.error_code.clone(),
            count,
            evidence: Evidence::FirstSeen(FirstSeenEvidence {
                principal_first_seen: principal_first.map(format_millis),
                principal_behaviours: behaviours_before,
                new_behaviours: n as u64,
                attempt_only: attempt,
                principal_context: principal_context(tx, &s, head.t0(), runs)?,
                behaviours,
            }),
        };
        Ok(tx.raise_alert(&mut alert, now)?.then_some(alert))
    }
}

/// Adds the principals' networks and client kinds to the store, at most [`MAX_PER_PRINCIPAL`] of
/// each per principal: the first admitted stay (a principal calling from every AWS address costs
/// that many rows; each batch offers its earliest).
fn learn_context(items: &[ContextItem], tx: &dyn StoreTx) -> anyhow::Result<()> {
    let mut held: HashMap<(&str, &str), usize> = HashMap::new();
    for c in items {
        let stored = tx.baseline(c.key_kind, &c.principal, &c.item)?;
        if stored.is_none() {
            let n = match held.entry((c.key_kind, &c.principal)) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(tx.baseline_earliest(c.key_kind, &c.principal, i64::MAX, MAX_PER_PRINCIPAL)?.len()),
            };
            if *n >= MAX_PER_PRINCIPAL {
                continue;
            }
            *n += 1;
        }
        let (mut seen, other) = stored.map_or((Tally::default(), Tally::default()), |r| (r.success, r.failure));
        // First and last seen; events are not counted.
        seen.absorb(&Tally { first: Some(c.first), last: Some(c.last), count: 0 });
        let row = BaselineRow {
            key_kind: c.key_kind.into(),
            scope: c.principal.clone(),
            item: c.item.clone(),
            account: None,
            success: seen,
            failure: other,
        };
        tx.put_baseline(&row)?;
    }
    Ok(())
}

/// The principal's networks and clients before `t0` (`sample` is the group's first event), and
/// when its run of activity holding `t0` began.
fn principal_context(tx: &dyn StoreTx, sample: &Sample, t0: i64, runs: &Runs) -> anyhow::Result<PrincipalContext> {
    let known = |kind: &str| tx.baseline_earliest(kind, &sample.principal, t0, MAX_PER_PRINCIPAL);
    let usual = |v: &[(String, i64)]| {
        v.iter().take(5).map(|(value, first)| Usual { value: value.clone(), first_seen: format_millis(*first) }).collect()
    };
    let (networks, clients) = (known(NETWORK)?, known(CLIENT)?);
    let has = |v: &[(String, i64)], x: Option<String>| x.is_some_and(|x| v.iter().any(|(i, _)| *i == x));
    let run = runs.get(&sample.principal).and_then(|rs| rs.iter().find(|&&(f, l)| f <= t0 && t0 <= l));
    Ok(PrincipalContext {
        active_since: run.map(|r| format_millis(r.0)),
        usual_networks: usual(&networks),
        networks_known: networks.len() as u64,
        source_network_known: has(&networks, sample.source_ip.as_deref().map(network)),
        usual_clients: usual(&clients),
        clients_known: clients.len() as u64,
        client_known: has(&clients, sample.user_agent.as_deref().map(|ua| crate::report::agent::kind(ua).to_string())),
    })
}

#[cfg(test)]
pub(crate) mod tests;
