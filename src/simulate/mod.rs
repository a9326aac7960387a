//! `trailhound simulate`: a believable organisation's CloudTrail, delivered as an organisation
//! trail writes it to S3, with labelled attacks and benign novelty.
//!
//! `org` (accounts, regions, addresses) and `principals` (roles and their repertoires) define the
//! organisation; `baseline` generates each account-day of benign activity; `attacks` lays labelled
//! scenarios over it; `event` and `params` turn events into CloudTrail JSON; `writer` delivers
//! them into files and digests. Everything is a function of the seed: no wall clock, no thread
//! timing, so a seed always gives the same bytes.

pub mod attacks;
pub(crate) mod baseline;
pub mod config;
pub(crate) mod event;
pub mod labels;
pub(crate) mod org;
pub(crate) mod params;
pub(crate) mod principals;
pub(crate) mod rng;
pub(crate) mod writer;

use anyhow::{Context, bail};
use baseline::World;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub out: PathBuf,
    pub labels: PathBuf,
    pub accounts: usize,
    pub days: u32,
    pub scale: f64,
    pub seed: u64,
    /// Epoch ms of the first day (midnight UTC).
    pub start: i64,
    /// Attack techniques (names from `attacks::ATTACKS`).
    pub attacks: Vec<String>,
    pub threads: usize,
    /// gzip level 0–9 (1 is what the throughput goal assumes).
    pub gzip_level: u32,
}

/// What a run wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimSummary {
    pub records: u64,
    pub duplicates: u64,
    pub log_files: u64,
    pub digest_files: u64,
    pub bytes_json: u64,
    pub bytes_gzip: u64,
    pub scenarios: usize,
}

/// Parses `--attacks`: `all`, `none` or a comma-separated list of technique names.
pub fn parse_attacks(spec: &str) -> anyhow::Result<Vec<String>> {
    match spec.trim() {
        "all" => Ok(attacks::ATTACKS.iter().map(|s| s.to_string()).collect()),
        "none" | "" => Ok(Vec::new()),
        list => {
            let mut out = Vec::new();
            for name in list.split(',').map(|s| s.trim().replace('-', "_")).filter(|s| !s.is_empty()) {
                if !attacks::ATTACKS.contains(&name.as_str()) {
                    bail!("unknown attack {:?}; known: all, none, {}", crate::term::escape::terminal(&name), attacks::ATTACKS.join(", "));
                }
                if !out.contains(&name) {
                    out.push(name);
                }
            }
            Ok(out)
        }
    }
}

/// The default labels path: `DIR.labels.json` beside the output directory.
pub fn default_labels_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "simulated".into());
    name.push(".labels.json");
    out.with_file_name(name)
}

/// Builds the organisation, writes the tree and the labels file.
pub fn run(cfg: &SimConfig) -> anyhow::Result<SimSummary> {
    if cfg.accounts == 0 || cfg.days == 0 {
        bail!("--accounts and --days must be at least 1");
    }
    if !(cfg.scale > 0.0 && cfg.scale.is_finite()) {
        bail!("--scale must be a positive number");
    }
    check_paths(&cfg.out, &cfg.labels)?;
    let attack_names: Vec<&str> = cfg.attacks.iter().map(String::as_str).collect();
    let mut w = World {
        seed: cfg.seed,
        start: cfg.start,
        days: cfg.days,
        scale: cfg.scale,
        org: org::Org::build(cfg.seed, cfg.accounts, cfg.days),
        catalogue: principals::catalogue(),
        deploy_day: None,
        rollout_day: None,
        skipped_backup: None,
    };
    let burn = attacks::burn_in_days(cfg.days);
    if cfg.days - burn >= 3 {
        w.deploy_day = Some(burn + (cfg.days - burn) / 3);
        w.rollout_day = Some(burn + 2 * (cfg.days - burn) / 3);
    }
    w.skipped_backup = attacks::skipped_backup_slot(&w, &attack_names);
    let plan = attacks::plan(&w, &attack_names);
    let mut overlay: Vec<Vec<event::Event>> = vec![Vec::new(); cfg.accounts];
    for e in plan.events {
        overlay[e.account as usize].push(e);
    }
    std::fs::create_dir_all(&cfg.out).with_context(|| format!("cannot create {}", cfg.out.display()))?;
    let level = flate2::Compression::new(cfg.gzip_level.min(9));
    let next = AtomicUsize::new(0);
    let overlay: Vec<Mutex<Vec<event::Event>>> = overlay.into_iter().map(Mutex::new).collect();
    let results: Vec<Mutex<Option<std::io::Result<writer::AccountOutput>>>> = (0..cfg.accounts).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..cfg.threads.clamp(1, cfg.accounts) {
            s.spawn(|| {
                loop {
                    let a = next.fetch_add(1, Ordering::Relaxed);
                    if a >= cfg.accounts {
                        break;
                    }
                    let mine = std::mem::take(&mut *overlay[a].lock().unwrap_or_else(|e| e.into_inner()));
                    let r = writer::write_account(&w, a, mine, &cfg.out, level);
                    *results[a].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                }
            });
        }
    });
    let mut sum = SimSummary {
        records: 0,
        duplicates: 0,
        log_files: 0,
        digest_files: 0,
        bytes_json: 0,
        bytes_gzip: 0,
        scenarios: plan.scenarios.len(),
    };
    let mut principal_days = vec![0u64; cfg.days as usize];
    for (a, r) in results.into_iter().enumerate() {
        let out = r
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(|| Err(std::io::Error::other("worker did not finish")))
            .with_context(|| format!("writing account {} under {}", w.org.accounts[a].id, cfg.out.display()))?;
        sum.records += out.records;
        sum.duplicates += out.duplicates;
        sum.log_files += out.log_files;
        sum.digest_files += out.digest_files;
        sum.bytes_json += out.bytes_json;
        sum.bytes_gzip += out.bytes_gzip;
        for (d, n) in out.principal_days.iter().enumerate() {
            principal_days[d] += n;
        }
    }
    let labels = labels::Labels {
        format: labels::FORMAT.into(),
        start: crate::event::time::format_millis(cfg.start),
        end: crate::event::time::format_millis(w.day_start(cfg.days) - 1000),
        burn_in_days: burn,
        generator: Some(labels::Generator {
            seed: cfg.seed,
            accounts: cfg.accounts,
            days: cfg.days,
            scale: cfg.scale,
            org_id: w.org.id.clone(),
            records_written: sum.records,
            duplicates_written: sum.duplicates,
            log_files: sum.log_files,
            digest_files: sum.digest_files,
        }),
        scenarios: plan.scenarios,
        principal_days: principal_days
            .iter()
            .enumerate()
            .map(|(d, &n)| labels::DayCount { day: crate::event::time::format_day(w.day_start(d as u32)), principals: n })
            .collect(),
        benign_event_ids: Vec::new(),
    };
    let text = serde_json::to_string_pretty(&labels)? + "\n";
    std::fs::write(&cfg.labels, text).with_context(|| format!("cannot write labels to {}", cfg.labels.display()))?;
    let config = config::config_path(&cfg.labels);
    std::fs::write(&config, config::config_text(&w.org, burn))
        .with_context(|| format!("cannot write the config to {}", config.display()))?;
    Ok(sum)
}

/// Refuses to mix a new corpus into an old one, and labels inside the log tree.
fn check_paths(out: &Path, labels: &Path) -> anyhow::Result<()> {
    if out.join("AWSLogs").exists() {
        bail!("{} already holds an AWSLogs tree; choose an empty directory (simulated corpora are not merged)", out.display());
    }
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if abs(labels).starts_with(abs(out)) {
        bail!("the labels file {} is inside the log tree {}; labels must live outside it", labels.display(), out.display());
    }
    Ok(())
}
