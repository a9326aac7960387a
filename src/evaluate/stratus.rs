//! Labels for a folder of Stratus Red Team detonation logs (`DataDog/stratus-red-team`,
//! `docs/detonation-logs/<technique>.json`): each file holds the CloudTrail events of one
//! technique's detonation, so every event in it is that technique. One attack scenario per file;
//! there is no benign traffic, so only detection and delay are scored.

use crate::event::Record;
use crate::pipeline::{self, EventContext, EventSink, Flow, ReadOptions};
use crate::simulate::labels::{Labels, Scenario, ScenarioKind};
use anyhow::bail;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Default)]
struct Technique {
    ids: Vec<String>,
    start: Option<i64>,
    end: Option<i64>,
    principals: BTreeSet<String>,
    accounts: BTreeSet<String>,
}

#[derive(Default)]
struct Collect {
    by_file: BTreeMap<String, Technique>,
}

impl EventSink for Collect {
    fn event(&mut self, ev: &Record<'_>, ctx: &EventContext<'_>) -> anyhow::Result<Flow> {
        let stem = Path::new(&ctx.file.name).file_name().map_or_else(|| ctx.file.name.clone(), |n| n.to_string_lossy().into_owned());
        let technique = stem.trim_end_matches(".gz").trim_end_matches(".json").to_string();
        let t = self.by_file.entry(technique).or_default();
        if let Some(id) = ev.event_id.as_deref() {
            t.ids.push(id.to_string());
        }
        if let Some(time) = ev.event_time {
            t.start = Some(t.start.map_or(time, |s| s.min(time)));
            t.end = Some(t.end.map_or(time, |e| e.max(time)));
        }
        let p = ev.user_identity.principal();
        t.principals.insert(p.id);
        if let Some(a) = ev.account() {
            t.accounts.insert(a.to_string());
        }
        Ok(Flow::Continue)
    }
}

/// Reads every log file under `dir` and makes one scenario per file.
pub(crate) fn from_dir(dir: &Path) -> anyhow::Result<Labels> {
    let (mut inputs, errors) = crate::source::discover(&[dir.to_path_buf()], Default::default(), crate::source::StatWhen::OnRead);
    if let Some(e) = errors.first() {
        bail!("reading {}: {e}", dir.display());
    }
    let opts = ReadOptions { threads: 1, ..ReadOptions::default() };
    // Only what was read counts here: files skipped by name are not labels.
    inputs.skipped.clear();
    let (sinks, summary) = pipeline::run(&inputs, &opts, Collect::default)?;
    if summary.incomplete() {
        bail!(
            "{}: {} unreadable files, {} bad records; labels would be incomplete",
            dir.display(),
            summary.file_errors,
            summary.bad_records
        );
    }
    let mut by_file = BTreeMap::new();
    for s in sinks {
        by_file.extend(s.by_file);
    }
    if by_file.is_empty() {
        bail!("{} holds no CloudTrail events to label", dir.display());
    }
    let fmt = crate::event::time::format_millis;
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let scenarios = by_file
        .into_iter()
        .enumerate()
        .map(|(i, (technique, t))| {
            let (start, end) = (t.start.unwrap_or(0), t.end.unwrap_or(0));
            first = first.min(start);
            last = last.max(end);
            Scenario {
                id: format!("s{:02}-{}", i + 1, technique.trim_start_matches("aws.")),
                kind: ScenarioKind::Attack,
                title: format!("Stratus Red Team {technique}"),
                reference: Some(technique.clone()),
                principal: (t.principals.len() == 1).then(|| t.principals.iter().next().cloned()).flatten(),
                account: (t.accounts.len() == 1).then(|| t.accounts.iter().next().cloned()).flatten(),
                technique,
                start: fmt(start),
                end: fmt(end),
                event_ids: t.ids,
                expected: Vec::new(),
            }
        })
        .collect();
    Ok(Labels {
        format: crate::simulate::labels::FORMAT.into(),
        start: fmt(first),
        end: fmt(last),
        burn_in_days: 0,
        generator: None,
        scenarios,
        principal_days: Vec::new(),
        benign_event_ids: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_scenario_per_technique_file() {
        let labels = super::from_dir(std::path::Path::new("testdata/stratus")).unwrap();
        let techniques: Vec<&str> = labels.scenarios.iter().map(|s| s.technique.as_str()).collect();
        assert!(techniques.contains(&"aws.defense-evasion.cloudtrail-delete"), "{techniques:?}");
        assert_eq!(
            labels.scenarios.len(),
            std::fs::read_dir("testdata/stratus")
                .unwrap()
                .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json"))
                .count()
        );
        assert!(labels.scenarios.iter().all(|s| !s.event_ids.is_empty() && s.start <= s.end));
    }
}
