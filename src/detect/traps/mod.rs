//! Traps: canaries and honeypots declared in `[traps]`. Any event that touches one (as the
//! caller, in a request parameter, in `resources[]`, or as the name typed into a failed console
//! sign-in) raises one high-severity alert per trap touched, denied and failed attempts included.
//!
//! `TrapDetector::new` compiles the config once into hash indexes; `check` is stateless and
//! thread-safe, so each pipeline worker can call it from its sink. In the common no-match case it
//! does a few hash probes per event and allocates nothing.

pub mod config;
mod filter;
mod locate;
pub mod names;
mod network;
pub mod probe;

pub use config::TrapsConfig;
pub use network::MAX_MEMBERS;

use crate::alert::evidence::{TrapEvidence, TrapMatch, TrapOutcomes, TrapRef, TrapTouch};
use crate::alert::{Alert, Detector, Evidence, Severity};
use crate::event::Record;
use crate::event::time::format_millis;
use crate::toml_error::{ValueError, toml_path};
use anyhow::bail;
use config::{S3Key, TrapTarget};
use names::{TrapType, ident, secret_without_suffix};
use std::collections::{BTreeMap, HashMap};

/// One compiled trap.
#[derive(Debug, Clone)]
pub struct Trap {
    pub ty: TrapType,
    /// Stable identity: `type:account-or-*:name as declared`. Alert ids hash it.
    pub id: String,
    /// The name, ID, ARN or `bucket/key` as declared.
    pub display: String,
    pub account: Option<String>,
    pub label: Option<String>,
    pub severity: Severity,
    /// `s3_object` traps: the bucket, when the trap is limited to one.
    bucket: Option<String>,
}

/// Where an event touched a trap.
#[derive(Debug, Clone)]
struct Hit {
    trap: u32,
    location: &'static str,
    value: String,
}

/// Names to trap numbers; IAM names compare case-insensitively.
#[derive(Debug, Default)]
struct NameIndex {
    map: HashMap<Box<str>, Vec<u32>>,
    fold: bool,
    /// Bit `n` set: some key is `n` bytes long (bit 127: 127 or more). Most values are settled
    /// by their length alone, before hashing.
    lengths: u128,
}

impl NameIndex {
    fn insert(&mut self, key: &str, trap: u32) {
        let key = if self.fold { key.to_ascii_lowercase() } else { key.to_string() };
        self.lengths |= length_bit(key.len());
        self.map.entry(key.into_boxed_str()).or_default().push(trap);
    }

    fn get(&self, key: &str) -> &[u32] {
        if self.lengths & length_bit(key.len()) == 0 {
            return &[];
        }
        if self.fold && key.bytes().any(|b| b.is_ascii_uppercase()) {
            // Lower-case on the stack: IAM names are at most 64 characters.
            let mut buf = [0u8; 128];
            let Some(dst) = buf.get_mut(..key.len()) else { return &[] };
            dst.copy_from_slice(key.as_bytes());
            dst.make_ascii_lowercase();
            return std::str::from_utf8(dst).ok().and_then(|k| self.map.get(k)).map_or(&[], Vec::as_slice);
        }
        self.map.get(key).map_or(&[], Vec::as_slice)
    }
}

fn length_bit(len: usize) -> u128 {
    1u128 << len.min(127)
}

/// Whether the touching call went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Refused for lack of permission (`AccessDenied*`, `*Unauthorized*`).
    Denied,
    /// Any other error, or a failed console sign-in.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    fn tally(self, o: &mut TrapOutcomes) -> &mut u64 {
        match self {
            Outcome::Succeeded => &mut o.succeeded,
            Outcome::Denied => &mut o.denied,
            Outcome::Failed => &mut o.failed,
        }
    }
}

/// The compiled traps. Build once per run with [`TrapDetector::new`]; share by reference.
#[derive(Debug)]
pub struct TrapDetector {
    traps: Vec<Trap>,
    by_name: Vec<NameIndex>,
    s3_exact: HashMap<Box<str>, Vec<u32>>,
    s3_prefixes: Vec<(Box<str>, u32)>,
    has: [bool; TrapType::ALL.len()],
    paths: locate::Paths,
    /// Screens for the raw `requestParameters` and `resources` texts.
    params_filter: filter::TextFilter,
    resources_filter: filter::TextFilter,
    /// `[traps] group_minutes` in ms (0: no grouping).
    window: i64,
    /// `requestParameters` screens of the sources whose parameters are read, with only the keys
    /// of the types read there (an S3 call's parameters can only name buckets and objects): each
    /// key is a scan of the text, and most events are from a few sources.
    /// foldhash: looked up for every event with request parameters.
    source_filters: HashMap<&'static str, filter::TextFilter, foldhash::fast::FixedState>,
    /// Subnet or VPC traps are declared: every event is walked for their IDs and members.
    network: bool,
    /// Hosts in trap subnets and VPCs, declared and learned (`network.rs`).
    members: network::Members,
}

impl TrapDetector {
    /// Compiles `[traps]`. Errors name the section and the offending value.
    pub fn new(cfg: &TrapsConfig) -> anyhow::Result<TrapDetector> {
        let mut d = TrapDetector {
            traps: Vec::new(),
            by_name: TrapType::ALL.iter().map(|t| NameIndex { map: HashMap::new(), fold: t.case_insensitive(), lengths: 0 }).collect(),
            s3_exact: HashMap::new(),
            s3_prefixes: Vec::new(),
            has: [false; TrapType::ALL.len()],
            paths: locate::Paths::default(),
            params_filter: filter::TextFilter::default(),
            resources_filter: filter::TextFilter::default(),
            window: i64::from(cfg.group_minutes) * 60_000,
            source_filters: HashMap::default(),
            network: false,
            members: network::Members::default(),
        };
        if !cfg.enabled {
            return Ok(d);
        }
        for (section, list) in cfg.named() {
            let Some(ty) = TrapType::from_section(section) else { bail!("internal: unknown trap section {section}") };
            for (i, t) in list.iter().enumerate() {
                d.add_named(ty, i, t, cfg.severity)?;
            }
        }
        for (ty, list) in [(TrapType::Subnet, &cfg.subnet), (TrapType::Vpc, &cfg.vpc)] {
            for (i, t) in list.iter().enumerate() {
                let n = d.add_named(ty, i, &t.trap, cfg.severity)?;
                for m in &t.members {
                    d.members.insert(m, n);
                }
                d.network = true;
            }
        }
        for t in &cfg.s3_object {
            let (shown, key) = match &t.key {
                S3Key::Exact(k) => (format!("{}/{k}", t.bucket.as_deref().unwrap_or("*")), k),
                S3Key::Prefix(p) => (format!("{}/{p}*", t.bucket.as_deref().unwrap_or("*")), p),
            };
            let n = d.push(
                TrapType::S3Object,
                &shown,
                t.account.clone(),
                t.label.clone(),
                t.severity.unwrap_or(cfg.severity),
                t.bucket.clone(),
            );
            match &t.key {
                S3Key::Exact(_) => d.s3_exact.entry(key.clone().into_boxed_str()).or_default().push(n),
                S3Key::Prefix(_) => d.s3_prefixes.push((key.clone().into_boxed_str(), n)),
            }
        }
        d.paths = locate::Paths::new(&d.has);
        d.params_filter = filter::TextFilter::new(d.keys(|_| true));
        d.source_filters = d.paths.sources().map(|src| (src, filter::TextFilter::new(d.keys(|t| d.paths.reads(src, t))))).collect();
        // Access key IDs have no ARN.
        d.resources_filter = filter::TextFilter::new(d.keys(|t| t != TrapType::AccessKey));
        Ok(d)
    }

    /// Compiles the `i`th trap of its section, declared by name or ARN; returns its number.
    /// Errors point at the trap's value in the config file (`Config` locates them).
    fn add_named(&mut self, ty: TrapType, i: usize, t: &config::NamedTrap, default: Severity) -> anyhow::Result<u32> {
        let section = ty.as_str();
        let (written, is_arn) = match &t.target {
            TrapTarget::Name(n) => (n.as_str(), false),
            TrapTarget::Arn(a) => (a.as_str(), true),
        };
        let fail = |key: &str, m: String| ValueError::new(toml_path!["traps", section, i, key], m);
        let key = t.key.as_str();
        if ty == TrapType::Resource && !is_arn {
            return Err(fail(key, format!("[[traps.resource]] {written:?}: resource traps are declared by `arn`")).into());
        }
        let prefix = match ty {
            TrapType::Subnet => "subnet-",
            TrapType::Vpc => "vpc-",
            _ => "",
        };
        let Some(id) = ident(ty, written).filter(|id| id.name.starts_with(prefix)) else {
            let m = format!("[[traps.{section}]] {written:?} does not name a {section}: expected {}", ty.arn_form());
            return Err(fail(key, m).into());
        };
        if let (Some(want), Some(got)) = (&t.account, id.account)
            && want != got
        {
            let m = format!("[[traps.{section}]] {written:?}: `account = {want:?}` contradicts the ARN's account {got}");
            return Err(fail("account", m).into());
        }
        let key = match (ty, is_arn) {
            (TrapType::Secret, true) => secret_without_suffix(id.name).unwrap_or(id.name),
            _ => id.name,
        };
        let account = t.account.clone().or(id.account.map(str::to_string));
        let n = self.push(ty, written, account, t.label.clone(), t.severity.unwrap_or(default), None);
        self.by_name[ty.index()].insert(key, n);
        Ok(n)
    }

    /// Every lookup key of the types `want` selects, with whether it compares case-insensitively.
    fn keys(&self, want: impl Fn(TrapType) -> bool) -> Vec<(&str, bool)> {
        let named = TrapType::ALL.iter().filter(|&&t| want(t)).flat_map(|&t| {
            let ix = &self.by_name[t.index()];
            ix.map.keys().map(move |k| (&**k, ix.fold))
        });
        let objects = self.s3_exact.keys().chain(self.s3_prefixes.iter().map(|(p, _)| p)).map(|k| (&**k, false));
        named.chain(objects).collect()
    }

    fn push(
        &mut self,
        ty: TrapType,
        shown: &str,
        account: Option<String>,
        label: Option<String>,
        severity: Severity,
        bucket: Option<String>,
    ) -> u32 {
        let n = self.traps.len() as u32;
        let id = format!("{}:{}:{shown}", ty.as_str(), account.as_deref().unwrap_or("*"));
        self.traps.push(Trap { ty, id, display: shown.to_string(), account, label, severity, bucket });
        self.has[ty.index()] = true;
        n
    }

    /// The compiled traps, in declaration order (named sections first, then `s3_object`).
    pub fn traps(&self) -> &[Trap] {
        &self.traps
    }

    pub fn is_empty(&self) -> bool {
        self.traps.is_empty()
    }

    /// One alert per trap `rec` touches; usually none.
    pub fn check(&self, rec: &Record<'_>) -> Vec<Alert> {
        self.check_deferring(rec).0
    }

    /// [`TrapDetector::check`], and whether to look at `rec` again once the batch is read
    /// ([`TrapDetector::recheck`]): it names a host that is in no trap subnet or VPC yet.
    pub fn check_deferring(&self, rec: &Record<'_>) -> (Vec<Alert>, bool) {
        if self.traps.is_empty() {
            return (Vec::new(), false);
        }
        let mut hits = Vec::new();
        let unknown = self.locate(rec, &mut hits);
        let defer = unknown && !hits.iter().any(|h| matches!(self.traps[h.trap as usize].ty, TrapType::Subnet | TrapType::Vpc));
        if hits.is_empty() {
            return (Vec::new(), defer);
        }
        let outcome = self.outcome(rec);
        let mut order: Vec<u32> = Vec::new();
        for h in &hits {
            if !order.contains(&h.trap) {
                order.push(h.trap);
            }
        }
        (order.iter().map(|&t| self.alert(rec, &self.traps[t as usize], hits.iter().filter(|h| h.trap == t), outcome)).collect(), defer)
    }

    /// Records a hit for every trap of `ty` that `value` names, in `account` unless the value
    /// names its own.
    fn find(&self, ty: TrapType, value: &str, location: &'static str, account: Option<&str>, hits: &mut Vec<Hit>) {
        if !self.has[ty.index()] {
            return;
        }
        let Some(id) = ident(ty, value) else { return };
        let account = id.account.or(account);
        self.find_key(ty, id.name, account, location, value, hits);
        if ty == TrapType::Secret
            && let Some(base) = secret_without_suffix(id.name)
        {
            self.find_key(ty, base, account, location, value, hits);
        }
    }

    fn find_key(&self, ty: TrapType, key: &str, account: Option<&str>, location: &'static str, value: &str, hits: &mut Vec<Hit>) {
        for &t in self.by_name[ty.index()].get(key) {
            if self.in_scope(t, account) {
                add_hit(hits, t, location, value);
            }
        }
    }

    /// `s3_object` traps matching `bucket`/`key`.
    fn find_object(&self, bucket: Option<&str>, key: &str, account: Option<&str>, location: &'static str, hits: &mut Vec<Hit>) {
        if !self.has[TrapType::S3Object.index()] || key.is_empty() {
            return;
        }
        let exact = self.s3_exact.get(key).map_or(&[][..], Vec::as_slice);
        let prefixed = self.s3_prefixes.iter().filter(|(p, _)| key.starts_with(&**p)).map(|(_, t)| t);
        for &t in exact.iter().chain(prefixed) {
            let trap = &self.traps[t as usize];
            let bucket_ok = trap.bucket.as_deref().is_none_or(|b| Some(b) == bucket);
            if bucket_ok && self.in_scope(t, account) {
                add_hit(hits, t, location, &format!("{}/{key}", bucket.unwrap_or("?")));
            }
        }
    }

    fn in_scope(&self, t: u32, account: Option<&str>) -> bool {
        self.traps[t as usize].account.as_deref().is_none_or(|a| Some(a) == account)
    }

    fn outcome(&self, rec: &Record<'_>) -> Outcome {
        if let Some(code) = rec.error_code.as_deref().filter(|c| !c.is_empty()) {
            let denied = code.starts_with("AccessDenied") || code.contains("Unauthorized") || code == "Forbidden";
            return if denied { Outcome::Denied } else { Outcome::Failed };
        }
        if self.paths.console_login_failed(rec) || rec.error_message.as_deref().is_some_and(|m| !m.is_empty()) {
            return Outcome::Failed;
        }
        Outcome::Succeeded
    }

    fn alert<'h>(&self, rec: &Record<'_>, trap: &Trap, hits: impl Iterator<Item = &'h Hit>, outcome: Outcome) -> Alert {
        let hits: Vec<&Hit> = hits.collect();
        let kind = alert_kind(trap.ty, rec, &hits);
        let action = rec.action();
        let title = format!(
            "Trap {} {:?} touched by {action} ({}){}",
            trap.ty.as_str(),
            trap.display,
            outcome.as_str(),
            trap.label.as_deref().map(|l| format!(": {l}")).unwrap_or_default()
        );
        let text = |t: &Option<crate::event::record::Text<'_>>| t.as_deref().map(str::to_string);
        let mut outcomes = TrapOutcomes::default();
        *outcome.tally(&mut outcomes) += 1;
        let evidence = TrapEvidence {
            trap: TrapRef {
                id: trap.id.clone(),
                ty: trap.ty.as_str().into(),
                name: trap.display.clone(),
                account: trap.account.clone(),
                label: trap.label.clone(),
            },
            matched: hits.iter().map(|h| TrapMatch { location: h.location.into(), value: h.value.clone() }).collect(),
            outcome: outcome.as_str().into(),
            succeeded: outcome == Outcome::Succeeded,
            outcomes,
            error_message: text(&rec.error_message),
            read_only: rec.read_only,
            // No eventID to key the alert on: the record's own bytes identify it.
            record_hash: rec
                .event_id
                .as_deref()
                .is_none_or(str::is_empty)
                .then(|| format!("{:032x}", xxhash_rust::xxh3::xxh3_128(rec.raw.as_bytes()))),
            window_start: None,
            window_end: None,
            last_event_time: rec.event_time.map(format_millis),
            events: vec![TrapTouch {
                event_time: rec.event_time.map(format_millis),
                event_id: rec.event_id.as_deref().filter(|s| !s.is_empty()).map(str::to_string),
                event_name: text(&rec.event_name),
                outcome: outcome.as_str().into(),
                region: text(&rec.aws_region),
                source_ip: text(&rec.source_ip),
            }],
        };
        crate::alert::for_event(rec, Detector::Trap, &trap.id, kind, trap.severity, title, Evidence::Trap(evidence))
    }
}

fn add_hit(hits: &mut Vec<Hit>, trap: u32, location: &'static str, value: &str) {
    if !hits.iter().any(|h| h.trap == trap && h.location == location) {
        hits.push(Hit { trap, location, value: value.to_string() });
    }
}

/// The alert kind: what was touched, and for identities how.
fn alert_kind(ty: TrapType, rec: &Record<'_>, hits: &[&Hit]) -> &'static str {
    let name = rec.event_name.as_deref().unwrap_or("");
    let console = name == "ConsoleLogin" && rec.event_source.as_deref() == Some("signin.amazonaws.com");
    match ty {
        TrapType::IamUser | TrapType::IamRole if console => "console_login",
        TrapType::IamRole
            if rec.event_source.as_deref() == Some("sts.amazonaws.com")
                && name.starts_with("AssumeRole")
                && hits.iter().any(|h| !h.location.starts_with("userIdentity")) =>
        {
            "assume_role"
        }
        _ => ty.as_str(),
    }
}

/// Touches kept in a group's `evidence.events` and `event_ids`.
pub const MAX_GROUP_EVENTS: usize = 10;

impl TrapDetector {
    /// Folds a batch's per-touch alerts into one per trap, principal and window (`[traps]
    /// group_minutes`, aligned to the epoch). Members are ordered by event time then event id,
    /// so the result does not depend on which worker read what; the id names the trap, the
    /// principal and the window, so a later batch's touches in the same window find the group
    /// already raised (the outbox keeps the first) instead of raising another. Other alerts pass
    /// through.
    pub fn group(&self, alerts: Vec<Alert>) -> Vec<Alert> {
        if self.window <= 0 {
            return alerts;
        }
        let mut out = Vec::new();
        let mut groups: BTreeMap<(String, String, i64), Vec<Alert>> = BTreeMap::new();
        for a in alerts {
            let time = a.event_time.as_deref().and_then(crate::event::time::parse_event_time);
            match (a.evidence.as_trap(), time) {
                (Some(e), Some(t)) => {
                    let key = (e.trap.id.clone(), a.principal.clone().unwrap_or_default(), t.div_euclid(self.window) * self.window);
                    groups.entry(key).or_default().push(a);
                }
                _ => out.push(a),
            }
        }
        for ((trap, principal, start), mut members) in groups {
            members.sort_by(|a, b| (&a.event_time, &a.event_ids, &a.id).cmp(&(&b.event_time, &b.event_ids, &b.id)));
            out.push(merge_touches(members, &trap, &principal, (start, start + self.window)));
        }
        out
    }
}

/// One alert for a group's touches (sorted): the first touch's alert, with the group's count,
/// outcomes, earliest events and id.
fn merge_touches(members: Vec<Alert>, trap: &str, principal: &str, window: (i64, i64)) -> Alert {
    let n = members.len();
    let mut it = members.into_iter();
    let Some(mut head) = it.next() else { unreachable!("a group has a member") };
    head.id = crate::alert::alert_id(Detector::Trap, &[trap, principal, &window.0.to_string()]);
    head.count = n as u64;
    let rest: Vec<Alert> = it.collect();
    let Evidence::Trap(ev) = &mut head.evidence else { return head };
    ev.window_start = Some(format_millis(window.0));
    ev.window_end = Some(format_millis(window.1));
    for m in &rest {
        let Some(me) = m.evidence.as_trap() else { continue };
        ev.succeeded |= me.succeeded;
        ev.outcomes.succeeded += me.outcomes.succeeded;
        ev.outcomes.denied += me.outcomes.denied;
        ev.outcomes.failed += me.outcomes.failed;
        ev.last_event_time = me.last_event_time.clone().or(ev.last_event_time.take());
        if ev.events.len() < MAX_GROUP_EVENTS {
            ev.events.extend(me.events.iter().cloned());
        }
        if head.event_ids.len() < MAX_GROUP_EVENTS {
            head.event_ids.extend(m.event_ids.iter().cloned());
        }
    }
    ev.events.truncate(MAX_GROUP_EVENTS);
    head.event_ids.truncate(MAX_GROUP_EVENTS);
    if n > 1 {
        let o = ev.outcomes;
        head.title = format!("{}; {n} touches (succeeded {}, denied {}, failed {})", head.title, o.succeeded, o.denied, o.failed);
    }
    head
}

#[cfg(test)]
mod tests;
