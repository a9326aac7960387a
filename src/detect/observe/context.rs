//! What a principal usually looks like from outside, for first-seen evidence: the networks it
//! calls from and the kinds of client it uses (an analyst's first questions: "from where? console
//! or CLI?"). Each worker keeps, per principal, the [`MAX_PER_PRINCIPAL`] networks and client
//! kinds first seen earliest (a Lambda role calls from many AWS addresses: the first ones stand
//! for the rest). Keeping the earliest, not the first read, makes the result independent of how
//! events were split between workers and batches, as every first-seen decision is.

use std::collections::HashMap;
use std::net::IpAddr;

/// Networks, and client kinds, kept per principal (per worker, and in the store).
pub(crate) const MAX_PER_PRINCIPAL: usize = 32;

/// User agents whose client kind, and source addresses whose network, a worker remembers
/// (classifying an agent lower-cases it; a network is parsed and formatted).
const AGENT_CACHE: usize = 4096;

/// The baseline key kinds context is kept under.
pub(crate) const NETWORK: &str = "principal_network";
pub(crate) const CLIENT: &str = "principal_client";

/// One worker's context.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContextObs {
    principals: HashMap<u128, Seen, foldhash::fast::RandomState>,
    agents: HashMap<u64, &'static str, foldhash::fast::RandomState>,
    /// Source address (hashed) → its network.
    networks: HashMap<u64, Box<str>, foldhash::fast::RandomState>,
}

#[derive(Debug, Clone)]
struct Seen {
    principal: String,
    /// Network or client kind → its earliest and latest event, at most `MAX_PER_PRINCIPAL` of each.
    networks: Held<String>,
    clients: Held<&'static str>,
}

/// A principal's networks or clients. Looked up on every event: foldhash, as the maps above,
/// not SipHash (the keys are ours, not a flood risk: at most `MAX_PER_PRINCIPAL` are kept).
type Held<K> = HashMap<K, (i64, i64), foldhash::fast::RandomState>;

/// A network or client kind of one principal, with its earliest and latest event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContextItem {
    pub principal: String,
    /// [`NETWORK`] or [`CLIENT`].
    pub key_kind: &'static str,
    pub item: String,
    pub first: i64,
    pub last: i64,
}

/// Records `item` seen from `first` to `last`, keeping the `MAX_PER_PRINCIPAL` first seen
/// earliest (ties by item): the latest one makes room for an earlier newcomer.
fn keep_earliest<K: std::hash::Hash + Eq + Ord + Clone>(map: &mut Held<K>, item: K, (first, last): (i64, i64)) {
    if let Some(seen) = map.get_mut(&item) {
        *seen = (seen.0.min(first), seen.1.max(last));
        return;
    }
    if map.len() >= MAX_PER_PRINCIPAL {
        let latest = map.iter().max_by(|a, b| (a.1.0, a.0).cmp(&(b.1.0, b.0))).map(|(k, v)| (k.clone(), v.0));
        let Some((latest, lt)) = latest else { return };
        if (lt, &latest) < (first, &item) {
            return;
        }
        map.remove(&latest);
    }
    map.insert(item, (first, last));
}

impl ContextObs {
    /// Counts one event of the principal hashed `principal_hash`.
    pub(crate) fn add(&mut self, principal_hash: u128, principal: &str, t: i64, source_ip: Option<&str>, user_agent: Option<&str>) {
        let client = user_agent.map(|ua| {
            let h = xxhash_rust::xxh3::xxh3_64(ua.as_bytes());
            match self.agents.get(&h) {
                Some(k) => *k,
                None => {
                    let k = crate::report::agent::kind(ua);
                    if self.agents.len() < AGENT_CACHE {
                        self.agents.insert(h, k);
                    }
                    k
                }
            }
        });
        let seen = self.principals.entry(principal_hash).or_insert_with(|| Seen {
            principal: principal.to_string(),
            networks: Held::default(),
            clients: Held::default(),
        });
        if let Some(ip) = source_ip {
            // Most events come from an address seen before, in a network already kept: neither
            // parsed nor allocated for.
            let h = xxhash_rust::xxh3::xxh3_64(ip.as_bytes());
            let fresh;
            let net: &str = match self.networks.get(&h) {
                Some(n) => n,
                None => {
                    fresh = network(ip);
                    if self.networks.len() < AGENT_CACHE {
                        self.networks.insert(h, fresh.as_str().into());
                    }
                    &fresh
                }
            };
            match seen.networks.get_mut(net) {
                Some(seen) => *seen = (seen.0.min(t), seen.1.max(t)),
                None => keep_earliest(&mut seen.networks, net.to_string(), (t, t)),
            }
        }
        if let Some(c) = client {
            keep_earliest(&mut seen.clients, c, (t, t));
        }
    }

    /// Folds `o` into `self`.
    pub(crate) fn merge(&mut self, o: ContextObs) {
        for (h, s) in o.principals {
            match self.principals.get_mut(&h) {
                None => {
                    self.principals.insert(h, s);
                }
                Some(mine) => {
                    for (n, t) in s.networks {
                        keep_earliest(&mut mine.networks, n, t);
                    }
                    for (c, t) in s.clients {
                        keep_earliest(&mut mine.clients, c, t);
                    }
                }
            }
        }
    }

    /// Each principal's networks and client kinds, sorted.
    pub(crate) fn expand(self) -> Vec<ContextItem> {
        let mut v = Vec::new();
        for s in self.principals.into_values() {
            for (item, (first, last)) in s.networks {
                v.push(ContextItem { principal: s.principal.clone(), key_kind: NETWORK, item, first, last });
            }
            for (c, (first, last)) in s.clients {
                v.push(ContextItem { principal: s.principal.clone(), key_kind: CLIENT, item: c.to_string(), first, last });
            }
        }
        v.sort_by(|a, b| (&a.principal, a.key_kind, &a.item).cmp(&(&b.principal, b.key_kind, &b.item)));
        v
    }
}

/// The network a source address belongs to: its /24 (IPv4) or /48 (IPv6); a service name
/// (`ec2.amazonaws.com`, `AWS Internal`) as it is, cut at 64 characters.
pub(crate) fn network(source: &str) -> String {
    match source.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => {
            let o = a.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        Ok(IpAddr::V6(a)) => {
            let s = a.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        Err(_) => source.chars().take(64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_networks_and_clients_whatever_the_split() {
        assert_eq!(network("203.0.113.9"), "203.0.113.0/24");
        assert_eq!(network("2001:db8:1:2::7"), "2001:db8:1::/48");
        assert_eq!(network("ec2.amazonaws.com"), "ec2.amazonaws.com");
        // Principal 2 calls from 100 networks, in an order that is not time order.
        let events: Vec<(u128, i64, String)> = (0..100i64)
            .map(|i| (2, (i * 37) % 100, format!("10.0.{i}.1")))
            .chain([(1, 10, "203.0.113.9".to_string()), (1, 5, "203.0.113.10".into()), (1, 7, "198.51.100.1".into())])
            .collect();
        let fold = |evs: &[(u128, i64, String)]| {
            let mut o = ContextObs::default();
            for (p, t, ip) in evs {
                o.add(*p, &format!("p{p}"), *t, Some(ip), Some("aws-cli/2.15"));
            }
            o
        };
        let all = fold(&events).expand();
        for split in [1, 50, 99] {
            let mut a = fold(&events[..split]);
            a.merge(fold(&events[split..]));
            assert_eq!(a.expand(), all, "split at {split}");
        }
        let p1: Vec<(&str, &str, i64, i64)> =
            all.iter().filter(|i| i.principal == "p1").map(|i| (i.key_kind, i.item.as_str(), i.first, i.last)).collect();
        assert_eq!(p1, [(CLIENT, "cli", 5, 10), (NETWORK, "198.51.100.0/24", 7, 7), (NETWORK, "203.0.113.0/24", 5, 10)]);
        let p2: Vec<i64> = all.iter().filter(|i| i.principal == "p2" && i.key_kind == NETWORK).map(|i| i.first).collect();
        assert_eq!(p2.len(), MAX_PER_PRINCIPAL);
        assert!(p2.iter().all(|&t| t < MAX_PER_PRINCIPAL as i64), "the earliest are kept");
    }
}
