//! `trailhound rules`: what a config runs. Loads and compiles everything the config enables
//! (so it doubles as a config check) and lists each rule, metric filter and alarm with its
//! pack, its state (active, inactive until a parameter is set, disabled) and the pattern that
//! actually runs, parameters expanded.

use crate::cli::RulesArgs;
use crate::config::Config;
use crate::detect::Detectors;
use crate::report::OutputFormat;
use crate::rules::alarm::AlarmConfig;
use crate::rules::pack::LoadedRules;
use crate::term::escape::terminal;
use serde::Serialize;

/// One line of the listing.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub pack: String,
    pub name: String,
    /// `rule`, `metric_filter` or `alarm`.
    pub kind: &'static str,
    /// `active`, `inactive` or `disabled`.
    pub state: &'static str,
    /// For inactive entries, the parameter they need.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
    /// The pattern as it runs (rules and filters) or the alarm's condition.
    pub what: String,
}

/// Every entry of the loaded rules, in pack order: rules, filters, alarms, then what is off.
pub fn entries(loaded: &LoadedRules) -> Vec<Entry> {
    let entry = |pack: &str, name: &str, kind, what: String| Entry {
        pack: pack.to_string(),
        name: name.to_string(),
        kind,
        state: "active",
        needs: None,
        what,
    };
    let mut out: Vec<Entry> = Vec::new();
    out.extend(loaded.rules.iter().map(|(p, r)| entry(p, &r.name, "rule", r.pattern.clone())));
    out.extend(loaded.metric_filters.iter().map(|(p, f)| entry(p, &f.filter_name, "metric_filter", f.filter_pattern.clone())));
    out.extend(loaded.alarms.iter().map(|(p, a)| entry(p, &a.alarm_name, "alarm", condition(a))));
    for i in &loaded.inactive {
        let (pack, name) = i.what.split_once('/').unwrap_or(("", &i.what));
        out.push(Entry { state: "inactive", needs: Some(i.param.clone()), ..entry(pack, name, i.kind, String::new()) });
    }
    for (full, kind) in &loaded.disabled {
        let (pack, name) = full.split_once('/').unwrap_or(("", full));
        out.push(Entry { state: "disabled", ..entry(pack, name, kind, String::new()) });
    }
    out
}

/// `Sum of ns:Metric >= 10 in 1 of 1 periods of 300 s (missing: notBreaching)`.
fn condition(a: &AlarmConfig) -> String {
    let m = a.datapoints_to_alarm.unwrap_or(a.evaluation_periods);
    format!(
        "{:?} of {}:{} {} {} in {m} of {} periods of {} s (missing data: {})",
        a.statistic,
        a.namespace,
        a.metric_name,
        a.comparison_operator.symbol(),
        a.threshold,
        a.evaluation_periods,
        a.period,
        serde_json::to_value(a.treat_missing_data).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
    )
}

pub fn run(args: &RulesArgs) -> anyhow::Result<i32> {
    let cfg = Config::load(args.config.as_deref())?;
    // Compiles every pattern and alarm: a config that lists cleanly also scans.
    let detectors = Detectors::from_config(cfg.detectors())?;
    let loaded = crate::rules::pack::load(&cfg.rules, cfg.dir.as_deref())?;
    let list = entries(&loaded);
    match OutputFormat::resolve(args.format, OutputFormat::Json) {
        OutputFormat::Jsonl => {
            let lines: Vec<String> = list.iter().map(serde_json::to_string).collect::<Result<_, _>>()?;
            crate::write_stdout(&lines.iter().map(|l| format!("{l}\n")).collect::<String>())?;
        }
        OutputFormat::Json => {
            let doc = serde_json::json!({ "detectors": detectors.names(), "rules": list });
            crate::write_stdout(&(serde_json::to_string_pretty(&doc)? + "\n"))?;
        }
        OutputFormat::Table | OutputFormat::Count => {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            // Long patterns wrap within the terminal (or 160 columns when writing to a file).
            t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
            if t.width().is_none() {
                t.set_width(160);
            }
            t.set_header(["pack", "name", "kind", "state", "runs"]);
            for e in &list {
                let runs = match &e.needs {
                    Some(p) => format!("nothing until [rules.params] {p} is set"),
                    None => e.what.clone(),
                };
                t.add_row([e.pack.as_str(), e.name.as_str(), e.kind, e.state, runs.as_str()].map(|c| terminal(c).into_owned()));
            }
            crate::write_stdout(&format!(
                "{t}\ndetectors: {}\n",
                detectors.names().iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
            ))?;
        }
    }
    Ok(0)
}
