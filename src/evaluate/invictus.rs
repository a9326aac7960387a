//! Labels for the Invictus IR AWS dataset (`invictus_aws_dataset_event_labels.csv`: one row per
//! event with its phase and Stratus Red Team technique). Rows in the `detonation` and
//! `post-compromise` phases make one attack scenario per technique; every other row is benign.

use crate::simulate::labels::{DayCount, Labels, Scenario, ScenarioKind};
use anyhow::{Context, bail};
use std::collections::{BTreeMap, BTreeSet};

/// How the file begins.
pub(crate) const HEADER_START: &str = "eventID,eventTime,";
const COLUMNS: &[&str] = &[
    "eventID",
    "eventTime",
    "eventSource",
    "eventName",
    "principal_arn",
    "errorCode",
    "stratus_ua_uuid",
    "phase",
    "stratus_technique",
    "file",
];

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn is_malicious(phase: &str) -> bool {
    phase == "detonation" || phase.starts_with("post-compromise")
}

/// Parses the CSV into labels (no burn-in: the dataset is 55 minutes long).
pub(crate) fn parse(text: &str) -> anyhow::Result<Labels> {
    let mut lines = text.lines();
    let header = fields(lines.next().unwrap_or_default());
    if header != COLUMNS {
        bail!("unexpected columns {:?}", header);
    }
    struct Acc {
        ids: Vec<String>,
        start: String,
        end: String,
        principals: BTreeSet<String>,
    }
    let mut by_technique: BTreeMap<String, Acc> = BTreeMap::new();
    let mut benign_principal_days: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut benign_ids = Vec::new();
    let (mut first, mut last) = (String::new(), String::new());
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f = fields(line);
        if f.len() != COLUMNS.len() {
            bail!("line {}: {} fields, expected {}", i + 2, f.len(), COLUMNS.len());
        }
        let (id, time, principal, phase, technique) = (&f[0], &f[1], &f[4], &f[7], &f[8]);
        crate::event::time::parse_event_time(time).with_context(|| format!("line {}: bad eventTime {time:?}", i + 2))?;
        if first.is_empty() || time < &first {
            first = time.clone();
        }
        if time > &last {
            last = time.clone();
        }
        if is_malicious(phase) {
            let name = if technique.is_empty() { "unattributed".to_string() } else { technique.clone() };
            let acc = by_technique.entry(name).or_insert_with(|| Acc {
                ids: Vec::new(),
                start: time.clone(),
                end: time.clone(),
                principals: BTreeSet::new(),
            });
            acc.ids.push(id.clone());
            acc.start = acc.start.clone().min(time.clone());
            acc.end = acc.end.clone().max(time.clone());
            if !principal.is_empty() {
                acc.principals.insert(principal.clone());
            }
        } else {
            benign_ids.push(id.clone());
            if !principal.is_empty() {
                benign_principal_days.entry(time.get(..10).unwrap_or(time).to_string()).or_default().insert(principal.clone());
            }
        }
    }
    let scenarios = by_technique
        .into_iter()
        .enumerate()
        .map(|(i, (technique, acc))| {
            // The principal most tied to the technique: a single one if there is one.
            let principal = (acc.principals.len() == 1).then(|| acc.principals.iter().next().cloned()).flatten();
            let account = acc.principals.iter().find_map(|p| p.split(':').nth(4).filter(|a| !a.is_empty()).map(str::to_string));
            Scenario {
                id: format!("i{:02}-{}", i + 1, technique.trim_start_matches("aws.")),
                kind: ScenarioKind::Attack,
                title: format!("Stratus Red Team {technique}"),
                reference: Some(technique.clone()),
                technique,
                account,
                principal,
                start: acc.start,
                end: acc.end,
                event_ids: acc.ids,
                expected: Vec::new(),
            }
        })
        .collect();
    Ok(Labels {
        format: crate::simulate::labels::FORMAT.into(),
        start: first,
        end: last,
        burn_in_days: 0,
        generator: None,
        scenarios,
        principal_days: benign_principal_days.into_iter().map(|(day, p)| DayCount { day, principals: p.len() as u64 }).collect(),
        benign_event_ids: benign_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_grouping() {
        assert_eq!(fields(r#"a,"b, c",,"d ""e""""#), vec!["a", "b, c", "", r#"d "e""#]);
        let csv = "eventID,eventTime,eventSource,eventName,principal_arn,errorCode,stratus_ua_uuid,phase,stratus_technique,file\n\
            e1,2023-07-10T11:42:18Z,ec2.amazonaws.com,ModifySnapshotAttribute,arn:aws:iam::123837392027:user/bert-jan,,u,detonation,aws.exfiltration.ec2-share-ebs-snapshot,f\n\
            e2,2023-07-10T11:43:00Z,s3.amazonaws.com,GetBucketAcl,arn:aws:iam::123837392027:user/benjamin,,,\"background/other (console, other users)\",,f\n";
        let l = parse(csv).unwrap();
        assert_eq!(l.scenarios.len(), 1);
        assert_eq!(l.scenarios[0].event_ids, vec!["e1"]);
        assert_eq!(l.scenarios[0].account.as_deref(), Some("123837392027"));
        assert_eq!(l.principal_days[0].principals, 1);
        assert_eq!(l.benign_event_ids, vec!["e2"]);
        assert!(parse("eventID,eventTime,x\n").is_err());
    }
}
