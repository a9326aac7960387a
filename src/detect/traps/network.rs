//! Honeypot hosts: `[[traps.subnet]]` and `[[traps.vpc]]`. An event touches such a trap when it
//! names the subnet or VPC, or one of its *members*: an instance, network interface or volume in
//! it. CloudTrail events about a host usually name only the instance (`StopInstances`,
//! `GetConsoleOutput`, `SendCommand`), so members are declared in the config and, besides,
//! learned from the events that put them there: `RunInstances` and `CreateNetworkInterface`
//! responses (instance and interface IDs with their subnet and VPC), and `AttachVolume` /
//! `AttachNetworkInterface` to a member instance. Learned members are remembered in the store
//! (`StoreTx::put_trap_member`), so a later run knows them; at most [`MAX_MEMBERS`] are kept.

use super::names::{TrapType, split_arn};
use super::{Hit, TrapDetector, add_hit};
use crate::event::Record;
use crate::event::value::{Pick, Value, children};
use serde_json::value::RawValue;
use std::collections::HashMap;

/// Members (declared and learned) kept in memory and in the store, over every network trap:
/// about 100 bytes each. Past it, new hosts are not learned (the run says so once on stderr);
/// declared members and the subnets and VPCs themselves still match.
pub const MAX_MEMBERS: usize = 100_000;

/// Nesting walked into request parameters and responses; EC2's deepest (`RunInstances`'
/// `networkInterfaceSet.items[].privateIpAddressesSet.items[]…`) is well within it.
const MAX_DEPTH: usize = 12;

/// Prefixes of the IDs a network trap can be named by: `eni-` ends with `i-`, so four needles
/// screen for all five kinds of ID.
const NEEDLES: [&str; 4] = ["i-", "vol-", "subnet-", "vpc-"];

/// Members learned from events, shared by the read workers of a run.
#[derive(Debug, Default)]
pub(super) struct Members {
    /// Member ID to the traps it belongs to.
    map: std::sync::RwLock<HashMap<Box<str>, Vec<u32>>>,
    /// Learned since the store last took them: (trap number, member, event time).
    fresh: std::sync::Mutex<Vec<(u32, String, i64)>>,
    full_said: std::sync::atomic::AtomicBool,
    /// Some member is known (declared or learned): deferred events are worth a second look.
    learned: std::sync::atomic::AtomicBool,
}

impl Members {
    pub(super) fn insert(&self, id: &str, trap: u32) -> bool {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.get(id).is_some_and(|t| t.contains(&trap)) {
            return false;
        }
        if map.len() >= MAX_MEMBERS && !map.contains_key(id) {
            if !self.full_said.swap(true, std::sync::atomic::Ordering::Relaxed) {
                eprintln!("trailhound: traps: {MAX_MEMBERS} honeypot hosts known; hosts created later are not learned");
            }
            return false;
        }
        map.entry(id.into()).or_default().push(trap);
        self.learned.store(true, std::sync::atomic::Ordering::Relaxed);
        true
    }

    fn get(&self, id: &str) -> Vec<u32> {
        self.map.read().unwrap_or_else(|e| e.into_inner()).get(id).cloned().unwrap_or_default()
    }
}

/// Whether `s` has the form of a member ID: `i-`, `eni-` or `vol-` and 8 or 17 hex digits (a
/// key pair or tag value that merely starts with `i-` is not learned).
fn is_member_id(s: &str) -> bool {
    let Some(hex) = s.strip_prefix("i-").or_else(|| s.strip_prefix("eni-")).or_else(|| s.strip_prefix("vol-")) else { return false };
    matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

impl TrapDetector {
    /// Looks for subnet and VPC traps and their members in the caller, request parameters,
    /// response and `resources[]`; learns members the event creates in a trap. True when the
    /// event names a host that is no member (yet: see [`TrapDetector::recheck`]).
    pub(super) fn locate_network(&self, rec: &Record<'_>, hits: &mut Vec<Hit>) -> bool {
        let account = rec.account();
        let mut unknown = false;
        // The instance's role credentials in use: session name `i-…`.
        if let Some(session) = rec.user_identity.arn.as_deref().and_then(|a| a.rsplit_once('/')).map(|(_, s)| s)
            && session.starts_with("i-")
            && rec.user_identity.kind.as_deref() == Some("AssumedRole")
        {
            self.find_network(session, "userIdentity.arn (role session name)", account, hits, &mut unknown);
        }
        let screened = |raw: &RawValue| NEEDLES.iter().any(|n| memchr::memmem::find(raw.get().as_bytes(), n.as_bytes()).is_some());
        if let Some(rp) = rec.request_parameters.filter(|r| screened(r)) {
            self.walk(rp, 0, &mut |s| self.find_network(s, "requestParameters", account, hits, &mut unknown));
        }
        if let Some(res) = rec.resources.filter(|r| screened(r)) {
            self.walk(res, 0, &mut |s| self.find_network(s, "resources[].ARN", account, hits, &mut unknown));
        }
        if rec.event_source.as_deref() == Some("ec2.amazonaws.com") {
            self.learn(rec, account, hits);
        }
        unknown
    }

    /// Every string below `raw`.
    fn walk(&self, raw: &RawValue, depth: usize, f: &mut dyn FnMut(&str)) {
        if depth > MAX_DEPTH {
            return;
        }
        match Value::from_raw(raw) {
            Value::String(s) => f(&s),
            Value::Object(_) | Value::Array(_) => {
                for (_, child) in children(raw, Pick::All) {
                    self.walk(child, depth + 1, f);
                }
            }
            _ => {}
        }
    }

    /// One string: a subnet or VPC ID or ARN, or a member's ID or ARN.
    fn find_network(&self, value: &str, location: &'static str, account: Option<&str>, hits: &mut Vec<Hit>, unknown: &mut bool) {
        // `arn:aws:ec2:REGION:ACCOUNT:instance/i-…` (also `network-interface/`, `volume/`).
        let (id, account) = match split_arn(value) {
            Some(a) if a.service == "ec2" => {
                (a.resource.rsplit('/').next().unwrap_or(""), Some(a.account).filter(|a| !a.is_empty()).or(account))
            }
            Some(_) => return,
            None => (value, account),
        };
        if id.starts_with("subnet-") {
            self.find(TrapType::Subnet, id, location, account, hits);
        } else if id.starts_with("vpc-") {
            self.find(TrapType::Vpc, id, location, account, hits);
        } else if is_member_id(id) {
            let traps = self.members.get(id);
            *unknown |= traps.is_empty();
            for t in traps {
                if self.in_scope(t, account) {
                    add_hit(hits, t, location, id);
                }
            }
        }
    }

    /// Members an `ec2` event places in a trap: the instances and interfaces a `RunInstances` or
    /// `CreateNetworkInterface` created in a trap subnet or VPC (read from the response, which
    /// says where they went even when a launch template chose), and the volume or interface an
    /// `Attach*` call attached to a member instance. A placement in a trap is a touch too.
    fn learn(&self, rec: &Record<'_>, account: Option<&str>, hits: &mut Vec<Hit>) {
        let name = rec.event_name.as_deref().unwrap_or("");
        let created: Vec<&RawValue> = match (name, rec.response_elements) {
            ("RunInstances", Some(r)) => items(r, &["instancesSet", "items"]),
            ("CreateNetworkInterface", Some(r)) => children(r, Pick::Key("networkInterface")).into_iter().map(|(_, v)| v).collect(),
            ("AttachVolume" | "AttachNetworkInterface", _) => {
                let Some(rp) = rec.request_parameters else { return };
                let field = |k: &str| children(rp, Pick::Key(k)).first().and_then(|(_, v)| Value::from_raw(v).as_str().map(str::to_string));
                let (Some(instance), Some(attached)) = (field("instanceId"), field("volumeId").or_else(|| field("networkInterfaceId")))
                else {
                    return;
                };
                for t in self.members.get(&instance) {
                    if self.in_scope(t, account) && self.members.insert(&attached, t) {
                        self.remember_fresh(t, &attached, rec);
                    }
                }
                return;
            }
            _ => return,
        };
        for item in created {
            let mut ids = Vec::new();
            let mut traps = Vec::new();
            self.walk(item, 0, &mut |s| {
                if s.starts_with("subnet-") || s.starts_with("vpc-") {
                    let mut found = Vec::new();
                    self.find_network(s, "responseElements", account, &mut found, &mut false);
                    traps.extend(found.iter().map(|h| h.trap));
                    for h in found {
                        add_hit(hits, h.trap, h.location, &h.value);
                    }
                } else if is_member_id(s) && !ids.iter().any(|i| i == s) {
                    ids.push(s.to_string());
                }
            });
            for t in traps {
                for id in &ids {
                    if self.members.insert(id, t) {
                        self.remember_fresh(t, id, rec);
                    }
                }
            }
        }
    }

    fn remember_fresh(&self, trap: u32, id: &str, rec: &Record<'_>) {
        let mut fresh = self.members.fresh.lock().unwrap_or_else(|e| e.into_inner());
        fresh.push((trap, id.to_string(), rec.event_time.unwrap_or(0)));
    }

    /// Events that named an unknown host, read again once the batch is read: the worker that
    /// read one may have run ahead of the worker reading the launch that made the host a
    /// member. Only subnet and VPC alerts come out (the others were raised the first time).
    /// `dropped`: such events the workers could not keep (said on stderr when it may matter).
    pub fn recheck(&self, deferred: &[Box<str>], dropped: u64) -> Vec<crate::alert::Alert> {
        if !self.members.learned.load(std::sync::atomic::Ordering::Relaxed) {
            return Vec::new();
        }
        if dropped > 0 {
            eprintln!("trailhound: traps: {dropped} events naming hosts outside the trap subnets were not read again (memory bound)");
        }
        let network = |a: &crate::alert::Alert| a.evidence.as_trap().is_some_and(|e| e.trap.ty == "subnet" || e.trap.ty == "vpc");
        deferred.iter().filter_map(|raw| Record::parse(raw).ok()).flat_map(|r| self.check(&r)).filter(network).collect()
    }

    /// Members remembered from earlier runs: (trap id, member ID). Rows of traps no longer
    /// declared are ignored.
    pub fn remember(&self, rows: impl IntoIterator<Item = (String, String)>) {
        let by_id: HashMap<&str, u32> = self.traps.iter().enumerate().map(|(n, t)| (t.id.as_str(), n as u32)).collect();
        for (trap, member) in rows {
            if let Some(&n) = by_id.get(trap.as_str()) {
                self.members.insert(&member, n);
            }
        }
    }

    /// Members learned since the last call: (trap id, member ID, event time), for the store.
    pub fn take_learned(&self) -> Vec<(String, String, i64)> {
        let fresh = std::mem::take(&mut *self.members.fresh.lock().unwrap_or_else(|e| e.into_inner()));
        fresh.into_iter().map(|(t, id, time)| (self.traps[t as usize].id.clone(), id, time)).collect()
    }
}

/// The elements of the array at `path` below `raw`.
fn items<'a>(raw: &'a RawValue, path: &[&str]) -> Vec<&'a RawValue> {
    let mut at = vec![raw];
    for key in path {
        at = at.into_iter().flat_map(|r| children(r, Pick::Key(key)).into_iter().map(|(_, v)| v)).collect();
    }
    at.into_iter().flat_map(|r| children(r, Pick::All).into_iter().map(|(_, v)| v)).collect()
}
