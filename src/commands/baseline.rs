//! `trailhound baseline learn|show|export|import|forget`.

use crate::cli::{AlertFormat, BaselineCommand, BaselineFilterArgs};
use crate::event::time::format_millis;
use crate::store::{ExportLine, ForgetFilter, Store};
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
            let outcome = crate::engine::run(store.as_mut(), &detectors, &inputs, &opts, mode, &mut [])?;
            eprintln!("{}", outcome.line(true, store.path()));
            Ok(if outcome.read.incomplete() { super::EXIT_INCOMPLETE } else { 0 })
        }
        BaselineCommand::Show(a) => {
            let (_, store) = super::open_state_for_reading(&a.state)?;
            let rows = store.baseline_rows(&filter(&a.filter)?)?;
            let format = a.format.unwrap_or_else(|| {
                use std::io::IsTerminal;
                if std::io::stdout().is_terminal() { AlertFormat::Table } else { AlertFormat::Jsonl }
            });
            let text = match format {
                AlertFormat::Jsonl => rows.iter().map(|r| serde_json::to_string(r).map(|s| s + "\n")).collect::<Result<String, _>>()?,
                AlertFormat::Table => {
                    let mut t = comfy_table::Table::new();
                    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
                    t.set_header(["kind", "scope", "item", "first seen", "last seen", "successes", "failures"]);
                    let when = |v: Option<i64>| v.map(format_millis).unwrap_or_else(|| "-".into());
                    for r in &rows {
                        t.add_row([
                            r.key_kind.clone(),
                            terminal(&r.scope).into_owned(),
                            terminal(&r.item).into_owned(),
                            when(r.first_seen()),
                            when(r.last_seen()),
                            r.success.count.to_string(),
                            r.failure.count.to_string(),
                        ]);
                    }
                    let cov = store
                        .coverage()?
                        .map(|(f, l)| format!("coverage {} → {}", format_millis(f), format_millis(l)))
                        .unwrap_or_else(|| "empty store".into());
                    format!("{t}\n{} keys; {cov}\n", rows.len())
                }
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
            let n = store.forget(&filter(&a.filter)?)?;
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

fn filter(a: &BaselineFilterArgs) -> anyhow::Result<ForgetFilter> {
    let now = jiff::Timestamp::now().as_millisecond();
    let before = a
        .before
        .as_deref()
        .map(|t| crate::event::time::parse_time_bound(t, now))
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("invalid --before")?;
    Ok(ForgetFilter { scope: a.principal.clone(), account: a.account.clone(), item: a.item.clone(), last_seen_before: before })
}
