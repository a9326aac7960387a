//! The simulated organisation: accounts, regions, network addresses.

use super::rng::{Rng, mix};

/// Regions the simulator knows, in a fixed order (indices are stored in events).
pub(crate) const REGIONS: &[&str] =
    &["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1", "ap-northeast-1", "ca-central-1"];
pub(crate) const US_EAST_1: u8 = 0;
/// Enabled and scanned by the auditor, but no workload runs there.
pub(crate) const ENABLED_REGIONS: &[u8] = &[0, 1, 2, 3];
/// The region rolled out mid-way (benign novelty).
pub(crate) const ROLLOUT_REGION: u8 = 4;
/// Regions nobody in the organisation uses (attack material).
pub(crate) const UNUSED_REGIONS: &[u8] = &[5, 6, 7];

const ACCOUNT_NAMES: &[&str] =
    &["prod-payments", "prod-web", "data-lake", "staging", "shared-services", "security", "dev", "log-archive", "network", "sandbox"];

/// One member account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// Where workloads run: primary first.
    pub workload_regions: Vec<u8>,
    /// First simulated day with activity (0 for founding members).
    pub joined_day: u32,
    /// NAT egress addresses of the account's VPCs (app, batch and pipeline traffic leaves here).
    pub nat_ips: Vec<String>,
}

/// The organisation and its fixed facts.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: String,
    pub accounts: Vec<Account>,
    pub bucket: String,
    pub trail: String,
    /// The account joining mid-way, if any (benign novelty).
    pub late_account: Option<usize>,
}

impl Org {
    pub fn build(seed: u64, accounts: usize, days: u32) -> Org {
        let mut rng = Rng::keyed(&[seed, 0x0_4a]);
        let id = format!("o-{}", alnum(&mut rng, 10, b"abcdefghijklmnopqrstuvwxyz0123456789"));
        let late_account = (accounts >= 3 && days >= 6).then_some(accounts - 1);
        let accounts = (0..accounts)
            .map(|i| {
                let mut r = Rng::keyed(&[seed, 0xacc, i as u64]);
                let id = format!("{:012}", 100_000_000_000 + r.below(899_999_999_999));
                let base = ACCOUNT_NAMES[i % ACCOUNT_NAMES.len()];
                let name = if i < ACCOUNT_NAMES.len() { base.to_string() } else { format!("{base}-{}", i / ACCOUNT_NAMES.len() + 1) };
                let workload_regions = if r.chance(0.7) { vec![0, 1] } else { vec![2, 3] };
                let nat_ips = (0..2).map(|_| aws_ip(&mut r)).collect();
                let joined_day = if Some(i) == late_account { days / 2 } else { 0 };
                Account { id, name, workload_regions, joined_day, nat_ips }
            })
            .collect();
        Org { bucket: format!("{id}-cloudtrail-logs"), trail: "org-trail".into(), id, accounts, late_account }
    }
}

/// A public address in a range AWS uses for EC2 and Lambda (3.x, 52.x, 54.x).
pub(crate) fn aws_ip(r: &mut Rng) -> String {
    let first = *r.pick(&[3u8, 18, 34, 35, 44, 52, 54]);
    format!("{first}.{}.{}.{}", r.below(256), r.below(256), 1 + r.below(254))
}

/// A stable address for a key (an office, a person's home, a Lambda region pool).
pub(crate) fn keyed_ip(prefix: &str, key: &[u64]) -> String {
    let h = mix(key);
    format!("{prefix}.{}.{}", (h >> 8) & 0xFF, 1 + (h & 0xFF) % 254)
}

pub(crate) fn alnum(r: &mut Rng, n: usize, alphabet: &[u8]) -> String {
    (0..n).map(|_| alphabet[r.below(alphabet.len() as u64) as usize] as char).collect()
}

/// A stable IAM-style unique id (`AROA…`, `AIDA…`, `ASIA…`, `AKIA…`) for a key.
pub(crate) fn iam_id(prefix: &str, key: &[u64]) -> String {
    let mut r = Rng::keyed(key);
    format!(
        "{prefix}{}",
        alnum(&mut r, if prefix.starts_with("AS") || prefix.starts_with("AK") { 16 } else { 17 }, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    )
}

/// A stable 64-bit key for a string (names of roles, people, buckets).
pub(crate) fn key_of(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes())
}
