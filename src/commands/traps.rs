//! `trailhound traps test`: acts as an attacker against every configured trap. The records
//! (`detect::traps::probe`) are written as a trail delivers them and read back through the
//! same engine and detectors `scan` runs, on a throw-away store; a probe fired when an alert of
//! its trap names its `eventID`.

use crate::cli::{TrapsCommand, TrapsTestArgs};
use crate::detect::run::DetectorsConfig;
use crate::detect::traps::probe::{self, Logging, Probe};
use crate::detect::traps::{TrapDetector, TrapsConfig};
use crate::report::OutputFormat;
use anyhow::{Context, bail};
use serde::Serialize;
use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Exit status when some trap would not fire on the trail described.
pub const EXIT_TRAP_SILENT: i32 = 4;

/// When the probes happen (2025-01-06T09:00:00Z): fixed, so `--out` writes the same tree twice.
const START: i64 = 1_736_154_000_000;

pub fn run(cmd: &TrapsCommand) -> anyhow::Result<i32> {
    match cmd {
        TrapsCommand::Test(args) => test(args),
    }
}

/// One probe's result.
#[derive(Debug, Serialize)]
pub struct ProbeResult {
    pub action: String,
    pub what: &'static str,
    /// `management`, or the data events the trail must log.
    pub logged_as: &'static str,
    /// False with `--management-only` for data events: the record was not written.
    pub logged: bool,
    pub fired: bool,
    pub event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

/// One trap's result.
#[derive(Debug, Serialize)]
pub struct TrapResult {
    pub id: String,
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `fires`, `needs_data_events` or `does_not_fire`.
    pub verdict: &'static str,
    pub reason: String,
    pub probes: Vec<ProbeResult>,
}

/// What `traps test` found.
#[derive(Debug, Serialize)]
pub struct Report {
    pub management_only: bool,
    pub events_written: usize,
    pub traps: Vec<TrapResult>,
}

impl Report {
    /// Whether every trap fires on the trail described.
    pub fn all_fire(&self) -> bool {
        self.traps.iter().all(|t| t.verdict != "does_not_fire")
    }
}

fn test(args: &TrapsTestArgs) -> anyhow::Result<i32> {
    let cfg = crate::config::Config::load(Some(&args.config))?;
    if cfg.traps.is_empty() {
        bail!("{}: no trap is declared ([[traps.<type>]] tables: docs/traps.md)", args.config.display());
    }
    if !cfg.traps.enabled {
        eprintln!("trailhound: [traps] enabled = false: no trap fires");
        return Ok(EXIT_TRAP_SILENT);
    }
    let scratch = args.out.is_none().then(scratch_dir).transpose()?;
    let dir = args.out.clone().or(scratch.clone()).unwrap_or_default();
    let report = check(&cfg.traps, args.management_only, &dir);
    if let Some(s) = &scratch {
        let _ = std::fs::remove_dir_all(s);
    }
    let report = report?;
    match OutputFormat::resolve(args.format, OutputFormat::Json) {
        OutputFormat::Json => crate::write_stdout(&(serde_json::to_string_pretty(&report)? + "\n"))?,
        _ => crate::write_stdout(&render(&report, args.out.as_deref()))?,
    }
    Ok(if report.all_fire() { 0 } else { EXIT_TRAP_SILENT })
}

/// A fresh folder under the system's temporary directory.
fn scratch_dir() -> anyhow::Result<PathBuf> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("trailhound-traps-test-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Writes the probes of `traps` under `dir` (data events left out with `management_only`), reads
/// them through the detectors, and says which fired.
pub fn check(traps: &TrapsConfig, management_only: bool, dir: &Path) -> anyhow::Result<Report> {
    // One alert per touch, so each probe's eventID is in its own alert.
    let traps = TrapsConfig { group_minutes: 0, ..traps.clone() };
    let detector = TrapDetector::new(&traps)?;
    let probes = probe::probes(&detector, START);
    let logged = |p: &Probe| !management_only || p.logging == Logging::Management;
    let written: Vec<&Probe> = probes.iter().filter(|p| logged(p)).collect();
    write_tree(dir, &written)?;

    let first_seen = crate::detect::first_seen::FirstSeenConfig { enabled: false, ..Default::default() };
    let rules = crate::rules::pack::RulesConfig::default();
    // Traps alone: the probes are a few events, nothing for the other detectors to learn from.
    let statistics = crate::detect::statistics::StatisticsConfig { enabled: false, ..Default::default() };
    let cfg = DetectorsConfig { first_seen: &first_seen, traps: &traps, rules: &rules, statistics: &statistics, dir: None };
    let detectors = crate::detect::Detectors::from_config(cfg)?;
    let (inputs, errors) = crate::source::discover(&[dir.to_path_buf()], Default::default(), crate::source::StatWhen::Now);
    if let Some(e) = errors.first() {
        bail!("reading back the probes in {}: {e}", dir.display());
    }
    // One reader: the launch that teaches the detector a honeypot host is read before its use.
    let opts = crate::pipeline::ReadOptions { threads: 1, ..Default::default() };
    let (alerts, _) = crate::evaluate::scan::run(&inputs, &opts, &detectors)?;
    let fired: HashSet<(String, String)> = alerts
        .iter()
        .filter_map(|a| a.evidence.as_trap().map(|e| (e, a)))
        .flat_map(|(e, a)| a.event_ids.iter().map(move |id| (e.trap.id.clone(), id.clone())))
        .collect();

    let results = detector
        .traps()
        .iter()
        .enumerate()
        .map(|(n, trap)| {
            let probes: Vec<ProbeResult> = probes
                .iter()
                .filter(|p| p.trap == n)
                .map(|p| {
                    let event_id = p.record["eventID"].as_str().unwrap_or_default().to_string();
                    ProbeResult {
                        action: p.action.clone(),
                        what: p.what,
                        logged_as: p.logging.as_str(),
                        logged: logged(p),
                        fired: logged(p) && fired.contains(&(trap.id.clone(), event_id.clone())),
                        event_id,
                        note: p.note,
                    }
                })
                .collect();
            let (verdict, reason) = verdict(&probes, management_only);
            TrapResult {
                id: trap.id.clone(),
                ty: trap.ty.as_str(),
                name: trap.display.clone(),
                label: trap.label.clone(),
                verdict,
                reason,
                probes,
            }
        })
        .collect();
    Ok(Report { management_only, events_written: written.len(), traps: results })
}

/// The trap's verdict from its probes.
fn verdict(probes: &[ProbeResult], management_only: bool) -> (&'static str, String) {
    let fired: Vec<&ProbeResult> = probes.iter().filter(|p| p.fired).collect();
    let data_kinds = || {
        let mut kinds: Vec<&str> = probes.iter().filter(|p| p.logged_as != "management").map(|p| p.logged_as).collect();
        kinds.dedup();
        kinds.join(", ")
    };
    if fired.iter().any(|p| p.logged_as == "management") {
        let names: Vec<&str> = fired.iter().map(|p| p.action.as_str()).collect();
        return ("fires", format!("{} of {} probes fire: {}", fired.len(), probes.len(), names.join(", ")));
    }
    if !fired.is_empty() {
        return ("needs_data_events", format!("fires only with {} on the trail", data_kinds()));
    }
    if management_only && probes.iter().any(|p| !p.logged) {
        return ("does_not_fire", format!("only {} reach it, and the trail logs management events only", data_kinds()));
    }
    ("does_not_fire", "no probe fired it: its name may not be one these calls use (see docs/traps.md)".into())
}

/// Writes each probe as one delivery file of a trail, one minute apart, in probe order.
fn write_tree(dir: &Path, probes: &[&Probe]) -> anyhow::Result<()> {
    for (i, p) in probes.iter().enumerate() {
        let r = &p.record;
        let (account, region) = (r["recipientAccountId"].as_str().unwrap_or("0"), r["awsRegion"].as_str().unwrap_or("us-east-1"));
        let stamp = crate::event::time::format_millis(START + i as i64 * 60_000);
        // 2025-01-06T09:00:00.000Z -> 2025/01/06 and 20250106T0900Z.
        let (date, time) = (&stamp[..10], &stamp[11..16]);
        let folder = dir.join(format!("AWSLogs/{account}/CloudTrail/{region}/{}", date.replace('-', "/")));
        std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
        let name = format!("{account}_CloudTrail_{region}_{}T{}Z_probe{i:04}.json.gz", date.replace('-', ""), time.replace(':', ""));
        let body = serde_json::to_vec(&serde_json::json!({ "Records": [r] }))?;
        let path = folder.join(name);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body)?;
        std::fs::write(&path, gz.finish()?).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The report as text: one block per trap, then the count.
fn render(report: &Report, out: Option<&Path>) -> String {
    use std::fmt::Write as _;
    let esc = |s: &str| crate::term::escape::terminal(s).into_owned();
    let mut s = String::new();
    for t in &report.traps {
        let label = t.label.as_deref().map(|l| format!(" ({})", esc(l))).unwrap_or_default();
        let verdict = match t.verdict {
            "fires" => "FIRES",
            "needs_data_events" => "FIRES ONLY WITH DATA EVENTS",
            _ => "DOES NOT FIRE",
        };
        let _ = writeln!(s, "{} {:?}{label}: {verdict}\n  {}", t.ty, esc(&t.name), t.reason);
        for p in &t.probes {
            let state = match (p.logged, p.fired) {
                (false, _) => "not logged",
                (true, true) => "fires",
                (true, false) => "silent",
            };
            let note = p.note.map(|n| format!(" [{n}]")).unwrap_or_default();
            let _ = writeln!(s, "    {:<10} {:<36} {:<22} {}{note}", state, p.action, p.logged_as, p.what);
        }
    }
    let firing = report.traps.iter().filter(|t| t.verdict == "fires").count();
    let data = report.traps.iter().filter(|t| t.verdict == "needs_data_events").count();
    let _ = writeln!(
        s,
        "\nOf {} traps: {firing} fire on management events{}, {data} only with data events, {} not at all{}.",
        report.traps.len(),
        if report.management_only { " (all the trail logs)" } else { "" },
        report.traps.len() - firing - data,
        out.map(|o| format!("; {} events written under {}", report.events_written, o.display())).unwrap_or_default()
    );
    s
}
