//! `trailhound baseline learn|show|export|import|forget`.

use crate::cli::{BaselineCommand, BaselineFilterArgs};
use crate::event::arn::principal_key;
use crate::event::time::format_millis;
use crate::report::OutputFormat;
use crate::store::{BaselineRow, ExportLine, ForgetFilter, Store};
use crate::term::escape::terminal;
use anyhow::Context;
use std::io::{BufRead, Write};

pub fn run(cmd: &BaselineCommand) -> anyhow::Result<i32> {
    match cmd {
        BaselineCommand::Learn(a) => {
            let (cfg, mut store) = super::open_state(&a.state)?;
            let (inputs, opts) = super::prepare_inputs(&a.input, crate::source::StatWhen::Now)?;
            // Every detector the config runs learns: a later scan with it then knows the alarms'
            // state, the trap windows and the first-seen bursts of the learned period.
            let detectors = super::detectors(&cfg)?;
            let mode = crate::engine::Mode { learn: true, reread: a.reread };
            let config = super::ConfigFingerprint::of(a.state.config.as_deref())?;
            let outcome = crate::engine::run(store.as_mut(), &detectors, &inputs, &opts, mode, &mut [])?;
            config.remember(store.as_mut())?;
            eprintln!("{}", outcome.line(true, store.path()));
            Ok(if outcome.read.incomplete() { super::EXIT_INCOMPLETE } else { 0 })
        }
        BaselineCommand::Show(a) => {
            let (_, store) = super::open_state_for_reading(&a.state)?;
            let rows = store.baseline_rows(&filter(&a.filter, store.as_ref())?)?;
            let text = match OutputFormat::resolve(a.format, OutputFormat::Jsonl) {
                OutputFormat::Jsonl => {
                    rows.iter().map(|r| serde_json::to_string(&ShownRow::from(r)).map(|s| s + "\n")).collect::<Result<String, _>>()?
                }
                OutputFormat::Json => serde_json::to_string_pretty(&rows.iter().map(ShownRow::from).collect::<Vec<_>>())? + "\n",
                OutputFormat::Table | OutputFormat::Count => table(&rows, store.as_ref())?,
            };
            crate::write_stdout(&text)?;
            Ok(0)
        }
        BaselineCommand::Export(a) => {
            let (_, store) = super::open_state_for_reading(&a.state)?;
            let mut out: Box<dyn Write> = match &a.output {
                Some(p) => {
                    Box::new(std::io::BufWriter::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?))
                }
                None => Box::new(crate::Stdout::new()),
            };
            let mut n = 0usize;
            let lines = store
                .scope_rows()?
                .into_iter()
                .map(ExportLine::Scope)
                .chain(store.baseline_rows(&ForgetFilter::default())?.into_iter().map(ExportLine::Baseline));
            for line in lines {
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
                n += 1;
            }
            out.flush()?;
            eprintln!("trailhound: exported {n} lines");
            Ok(0)
        }
        BaselineCommand::Import(a) => {
            let (_, mut store) = super::open_state(&a.state)?;
            let name = a.file.display().to_string();
            let reader: Box<dyn BufRead> = if name == "-" {
                Box::new(std::io::stdin().lock())
            } else {
                Box::new(std::io::BufReader::new(std::fs::File::open(&a.file).with_context(|| format!("opening {name}"))?))
            };
            let n = import(store.as_mut(), reader, &name)?;
            eprintln!("trailhound: imported {n} lines");
            Ok(0)
        }
        BaselineCommand::Forget(a) => {
            let (_, mut store) = super::open_state(&a.state)?;
            let n = store.forget(&filter(&a.filter, store.as_ref())?)?;
            eprintln!("trailhound: forgot {n} baseline keys");
            Ok(0)
        }
    }
}

/// Imports JSON lines in one transaction: a bad line rejects the whole file, naming the line.
pub fn import(store: &mut dyn Store, reader: impl BufRead, name: &str) -> anyhow::Result<usize> {
    let tx = store.transaction()?;
    let mut n = 0;
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{name}: reading line {}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: ExportLine =
            serde_json::from_str(&line).map_err(|e| anyhow::anyhow!("{name}:{}: {}", i + 1, terminal(&e.to_string())))?;
        tx.import(&parsed)?;
        n += 1;
    }
    tx.commit()?;
    Ok(n)
}

/// `baseline show` as a person reads it: one row per key, times in RFC 3339, oldest key first
/// within each kind and scope.
fn table(rows: &[BaselineRow], store: &dyn Store) -> anyhow::Result<String> {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(["kind", "scope", "item", "first seen", "last seen", "successes", "failures"]);
    let mut sorted: Vec<&BaselineRow> = rows.iter().collect();
    sorted.sort_by(|a, b| (&a.key_kind, &a.scope, a.first_seen(), &a.item).cmp(&(&b.key_kind, &b.scope, b.first_seen(), &b.item)));
    for r in sorted {
        t.add_row([
            r.key_kind.clone(),
            terminal(&r.scope).into_owned(),
            terminal(&r.item).into_owned(),
            rfc3339(r.first_seen()).unwrap_or_else(|| "-".into()),
            rfc3339(r.last_seen()).unwrap_or_else(|| "-".into()),
            r.success.count.to_string(),
            r.failure.count.to_string(),
        ]);
    }
    let cov = store
        .coverage()?
        .map(|(f, l)| format!("coverage {} → {}", format_millis(f), format_millis(l)))
        .unwrap_or_else(|| "empty store".into());
    Ok(format!("{t}\n{} keys; {cov}\n", rows.len()))
}

fn rfc3339(ms: Option<i64>) -> Option<String> {
    ms.map(format_millis)
}

/// A baseline key as `baseline show` prints it for scripts: the stored row with RFC 3339 times
/// (`baseline export` keeps the stored milliseconds, for `import`).
#[derive(serde::Serialize)]
struct ShownRow<'a> {
    key_kind: &'a str,
    scope: &'a str,
    item: &'a str,
    account: Option<&'a str>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    success: ShownTally,
    failure: ShownTally,
}

#[derive(serde::Serialize)]
struct ShownTally {
    first: Option<String>,
    last: Option<String>,
    count: i64,
}

impl<'a> From<&'a BaselineRow> for ShownRow<'a> {
    fn from(r: &'a BaselineRow) -> Self {
        let tally = |t: &crate::store::Tally| ShownTally { first: rfc3339(t.first), last: rfc3339(t.last), count: t.count };
        ShownRow {
            key_kind: &r.key_kind,
            scope: &r.scope,
            item: &r.item,
            account: r.account.as_deref(),
            first_seen: rfc3339(r.first_seen()),
            last_seen: rfc3339(r.last_seen()),
            success: tally(&r.success),
            failure: tally(&r.failure),
        }
    }
}

/// The stored scope a `--principal` names. Baselines key a role by its IAM ARN with its path,
/// but CloudTrail shows the session (`arn:aws:sts::1:assumed-role/dev/alice`) and people type
/// the role without its path: either finds the stored role (a user ARN likewise finds its user).
fn resolve_principal(given: &str, store: &dyn Store) -> anyhow::Result<String> {
    let Some(key) = principal_key(given) else { return Ok(given.to_string()) };
    let scopes = store.scope_rows()?;
    if scopes.iter().any(|s| s.scope == given) {
        return Ok(given.to_string());
    }
    Ok(scopes.into_iter().map(|s| s.scope).find(|s| principal_key(s) == Some(key)).unwrap_or_else(|| given.to_string()))
}

fn filter(a: &BaselineFilterArgs, store: &dyn Store) -> anyhow::Result<ForgetFilter> {
    let now = jiff::Timestamp::now().as_millisecond();
    let before = a
        .before
        .as_deref()
        .map(|t| crate::event::time::parse_time_bound(t, now))
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("invalid --before")?;
    let scope = a.principal.as_deref().map(|p| resolve_principal(p, store)).transpose()?;
    Ok(ForgetFilter { scope, account: a.account.clone(), item: a.item.clone(), last_seen_before: before })
}
