//! Delivery: events of one account go into `~5-minute` files per region, as an organisation trail
//! writes them to S3, with delivery lag, unordered records, rare duplicate deliveries and an
//! hourly digest chain under `CloudTrail-Digest/`.
//!
//! Digest files have the documented fields and real SHA-256 hashes of the log files and of the
//! previous digest, but the RSA signatures are placeholders (the simulator has no AWS key), so
//! signature validation of a simulated tree fails by design.

use super::baseline::{World, day_events};
use super::event::{Event, WriteCtx, civil_from_days, write_record, write_time};
use super::org::{ENABLED_REGIONS, REGIONS, alnum};
use super::rng::{Rng, mix};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

const MINUTE: i64 = 60_000;
const SLOT: i64 = 5 * MINUTE;
const HOUR: i64 = 3_600_000;
/// Share of events delivered twice.
pub(crate) const DUPLICATE_RATE: f64 = 0.000_2;

/// What writing one account produced.
#[derive(Debug, Default, Clone)]
pub(crate) struct AccountOutput {
    pub records: u64,
    pub duplicates: u64,
    pub log_files: u64,
    pub digest_files: u64,
    pub bytes_json: u64,
    pub bytes_gzip: u64,
    /// Benign principals active, per day.
    pub principal_days: Vec<u64>,
}

struct LogFile {
    key: String,
    hash: [u8; 32],
    oldest: i64,
    newest: i64,
    delivered: i64,
}

struct DigestChain {
    next_end: i64,
    previous: Option<(String, [u8; 32])>,
}

struct AccountWriter<'a> {
    w: &'a World,
    ctx: WriteCtx<'a>,
    account: usize,
    root: &'a Path,
    level: Compression,
    out: AccountOutput,
    pending: BTreeMap<(u8, i64), Vec<Event>>,
    delivered: BTreeMap<u8, Vec<LogFile>>,
    chains: BTreeMap<u8, DigestChain>,
    dirs: HashSet<PathBuf>,
    json: Vec<u8>,
}

/// Writes everything of one account: baseline plus `overlay` (this account's scenario events).
pub(crate) fn write_account(
    w: &World,
    account: usize,
    overlay: Vec<Event>,
    root: &Path,
    level: Compression,
) -> std::io::Result<AccountOutput> {
    let mut by_day: BTreeMap<u32, Vec<Event>> = BTreeMap::new();
    for e in overlay {
        by_day.entry(((e.time - w.start).div_euclid(24 * HOUR)).max(0) as u32).or_default().push(e);
    }
    let mut aw = AccountWriter {
        w,
        ctx: WriteCtx { org: &w.org, catalogue: &w.catalogue, seed: w.seed },
        account,
        root,
        level,
        out: AccountOutput { principal_days: vec![0; w.days as usize], ..AccountOutput::default() },
        pending: BTreeMap::new(),
        delivered: BTreeMap::new(),
        chains: BTreeMap::new(),
        dirs: HashSet::new(),
        json: Vec::with_capacity(1 << 20),
    };
    let mut events = Vec::new();
    for day in 0..w.days {
        if !w.active(account, day) {
            continue;
        }
        events.clear();
        aw.out.principal_days[day as usize] = day_events(w, account, day, &mut events);
        events.extend(by_day.remove(&day).unwrap_or_default());
        let mut rng = Rng::keyed(&[w.seed, 0xde1, account as u64, u64::from(day)]);
        for e in events.drain(..) {
            aw.deliver(e, &mut rng);
        }
        aw.flush(w.day_start(day + 1))?;
    }
    aw.flush(i64::MAX)?;
    Ok(aw.out)
}

impl AccountWriter<'_> {
    fn slot_offset(&self, region: u8) -> i64 {
        (mix(&[self.w.seed, self.account as u64, region as u64]) % 5) as i64 * MINUTE
    }

    fn deliver(&mut self, e: Event, rng: &mut Rng) {
        // Lag: 10 s plus an exponential tail with a 1.5-minute mean, capped at 5 minutes; with
        // the slot rounding, file time minus event time lands in 0–10 minutes.
        let lag = 10_000 + ((-rng.unit().max(1e-9).ln()) * 1.5 * MINUTE as f64).min(5.0 * MINUTE as f64) as i64;
        let off = self.slot_offset(e.region);
        let stamp = (e.time + lag - off).div_euclid(SLOT) * SLOT + SLOT + off;
        if rng.chance(DUPLICATE_RATE) {
            self.out.duplicates += 1;
            self.pending.entry((e.region, stamp + SLOT)).or_default().push(e.clone());
        }
        self.pending.entry((e.region, stamp)).or_default().push(e);
    }

    /// Writes every pending file stamped at or before `horizon`, then the digests it completes.
    fn flush(&mut self, horizon: i64) -> std::io::Result<()> {
        let ready: Vec<(u8, i64)> = self.pending.keys().filter(|k| k.1 <= horizon).copied().collect();
        for key in ready {
            let events = self.pending.remove(&key).unwrap_or_default();
            self.write_log_file(key.0, key.1, events)?;
        }
        self.write_digests(horizon)
    }

    fn write_log_file(&mut self, region: u8, stamp: i64, mut events: Vec<Event>) -> std::io::Result<()> {
        let acct = &self.w.org.accounts[self.account].id;
        let region_name = REGIONS[region as usize];
        let mut rng = Rng::keyed(&[self.w.seed, 0xf11e, self.account as u64, region as u64, stamp as u64]);
        rng.shuffle(&mut events);
        let unique = alnum(&mut rng, 16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        let (dir, day) = self.dated_dir("CloudTrail", region_name, stamp);
        let name = format!("{acct}_CloudTrail_{region_name}_{}_{unique}.json.gz", file_stamp(stamp, false));
        self.json.clear();
        self.json.extend_from_slice(b"{\"Records\":[");
        for (i, e) in events.iter().enumerate() {
            if i > 0 {
                self.json.push(b',');
            }
            write_record(&mut self.json, e, &self.ctx);
        }
        self.json.extend_from_slice(b"]}");
        let gz = gzip(&self.json, self.level)?;
        self.ensure_dir(&dir)?;
        std::fs::write(dir.join(&name), &gz)?;
        self.out.records += events.len() as u64;
        self.out.log_files += 1;
        self.out.bytes_json += self.json.len() as u64;
        self.out.bytes_gzip += gz.len() as u64;
        let key = format!("AWSLogs/{}/{acct}/CloudTrail/{region_name}/{day}/{name}", self.w.org.id);
        let oldest = events.iter().map(|e| e.time).min().unwrap_or(stamp);
        let newest = events.iter().map(|e| e.time).max().unwrap_or(stamp);
        self.delivered.entry(region).or_default().push(LogFile { key, hash: Sha256::digest(&gz).into(), oldest, newest, delivered: stamp });
        if !self.chains.contains_key(&region) {
            let first = stamp.div_euclid(HOUR) * HOUR + self.digest_offset(region);
            let next_end = if first > stamp { first } else { first + HOUR };
            self.chains.insert(region, DigestChain { next_end, previous: None });
        }
        Ok(())
    }

    fn digest_offset(&self, region: u8) -> i64 {
        5 * MINUTE + (mix(&[self.w.seed, 0xd16, self.account as u64, region as u64]) % 55_000) as i64
    }

    /// Hourly digests for every region with a chain (enabled regions always have one).
    fn write_digests(&mut self, horizon: i64) -> std::io::Result<()> {
        let joined = self.w.day_start(self.w.org.accounts[self.account].joined_day);
        for &r in ENABLED_REGIONS {
            if !self.chains.contains_key(&r) {
                let off = self.digest_offset(r);
                self.chains.insert(r, DigestChain { next_end: joined + off, previous: None });
            }
        }
        let last_event = self.w.day_start(self.w.days) + 20 * MINUTE;
        let regions: BTreeSet<u8> = self.chains.keys().copied().collect();
        for region in regions {
            loop {
                let end = self.chains[&region].next_end;
                // A window is complete when no later flush can add files to it.
                if end > horizon || end > last_event + HOUR {
                    break;
                }
                self.write_digest(region, end)?;
            }
        }
        Ok(())
    }

    fn write_digest(&mut self, region: u8, end: i64) -> std::io::Result<()> {
        let start = end - HOUR;
        let acct = self.w.org.accounts[self.account].id.clone();
        let region_name = REGIONS[region as usize];
        let files: Vec<LogFile> = {
            let all = self.delivered.entry(region).or_default();
            let (inside, rest): (Vec<LogFile>, Vec<LogFile>) = all.drain(..).partition(|f| f.delivered < end);
            *all = rest;
            inside
        };
        let bucket = &self.w.org.bucket;
        let (dir, day) = self.dated_dir("CloudTrail-Digest", region_name, end);
        let name = format!("{acct}_CloudTrail-Digest_{region_name}_{}_us-east-1_{}.json.gz", self.w.org.trail, file_stamp(end, true));
        let key = format!("AWSLogs/{}/{acct}/CloudTrail-Digest/{region_name}/{day}/{name}", self.w.org.id);
        let time = |ms: i64| {
            let mut b = Vec::new();
            write_time(&mut b, ms);
            String::from_utf8_lossy(&b).into_owned()
        };
        let chain = &self.chains[&region];
        let (prev_key, prev_hash) = match &chain.previous {
            Some((k, h)) => (serde_json::Value::from(k.clone()), serde_json::Value::from(hex(h))),
            None => (serde_json::Value::Null, serde_json::Value::Null),
        };
        let placeholder_signature =
            chain.previous.as_ref().map(|(_, h)| hex(&Sha256::digest([h.as_slice(), &self.w.seed.to_le_bytes()].concat()).into()));
        let doc = serde_json::json!({
            "awsAccountId": acct,
            "digestStartTime": time(start),
            "digestEndTime": time(end),
            "digestS3Bucket": bucket,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": format!("{:016x}{:016x}", mix(&[self.w.seed, 1]), mix(&[self.w.seed, 2])),
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": files.iter().map(|f| f.newest).max().map(time),
            "oldestEventTime": files.iter().map(|f| f.oldest).min().map(time),
            "previousDigestS3Bucket": chain.previous.as_ref().map(|_| bucket.clone()),
            "previousDigestS3Object": prev_key,
            "previousDigestHashValue": prev_hash,
            "previousDigestHashAlgorithm": "SHA-256",
            "previousDigestSignature": placeholder_signature,
            "logFiles": files.iter().map(|f| serde_json::json!({
                "s3Bucket": bucket,
                "s3Object": f.key,
                "hashValue": hex(&f.hash),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": time(f.newest),
                "oldestEventTime": time(f.oldest),
            })).collect::<Vec<_>>(),
        });
        let gz = gzip(&serde_json::to_vec(&doc).map_err(std::io::Error::other)?, self.level)?;
        self.ensure_dir(&dir)?;
        std::fs::write(dir.join(&name), &gz)?;
        self.out.digest_files += 1;
        let chain = self.chains.get_mut(&region).unwrap_or_else(|| unreachable!("chain exists"));
        chain.previous = Some((key, Sha256::digest(&gz).into()));
        chain.next_end = end + HOUR;
        Ok(())
    }

    /// `<root>/AWSLogs/<org>/<acct>/<kind>/<region>/YYYY/MM/DD` and `YYYY/MM/DD`.
    fn dated_dir(&self, kind: &str, region: &str, ms: i64) -> (PathBuf, String) {
        let (y, m, d) = civil_from_days(ms.div_euclid(24 * HOUR));
        let day = format!("{y:04}/{m:02}/{d:02}");
        let acct = &self.w.org.accounts[self.account].id;
        (self.root.join("AWSLogs").join(&self.w.org.id).join(acct).join(kind).join(region).join(&day), day)
    }

    fn ensure_dir(&mut self, dir: &Path) -> std::io::Result<()> {
        if !self.dirs.contains(dir) {
            std::fs::create_dir_all(dir)?;
            self.dirs.insert(dir.to_path_buf());
        }
        Ok(())
    }
}

fn gzip(data: &[u8], level: Compression) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 6 + 64), level);
    enc.write_all(data)?;
    enc.finish()
}

/// `YYYYMMDDTHHmmZ` (log files) or `YYYYMMDDTHHmmssZ` (digests).
fn file_stamp(ms: i64, seconds: bool) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    if seconds {
        format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", sod / 3600, sod / 60 % 60, sod % 60)
    } else {
        format!("{y:04}{m:02}{d:02}T{:02}{:02}Z", sod / 3600, sod / 60 % 60)
    }
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
