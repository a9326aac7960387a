//! `trailhound stats`: the report of what is in a set of logs (counted by `tally`), as JSON
//! or a table.

use crate::term::escape::terminal;
use std::collections::BTreeMap;

#[derive(Debug, serde::Serialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
}

/// Everything `stats` reports. Field names are the JSON keys.
#[derive(Debug, serde::Serialize)]
pub struct StatsReport {
    /// Unique events in range (what detectors see).
    pub events: u64,
    /// Records found, duplicates and out-of-range included.
    pub records: u64,
    pub duplicates: u64,
    /// Records kept though their eventID was read before with another event (not copies).
    #[serde(skip_serializing_if = "is_zero")]
    pub conflicting_ids: u64,
    pub out_of_range: u64,
    pub bad_records: u64,
    /// Records read with U+FFFD for a lone surrogate escape in free text.
    pub repaired_records: u64,
    pub insights: u64,
    pub files: u64,
    pub skipped_files: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    pub file_errors: u64,
    pub bytes_stored: u64,
    pub bytes_decoded: u64,
    /// Events with an `errorCode`.
    pub errors: u64,
    pub events_without_time: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub accounts: u64,
    pub regions: u64,
    pub principals: u64,
    pub principals_by_type: BTreeMap<&'static str, u64>,
    pub top_accounts: Vec<Count>,
    pub top_regions: Vec<Count>,
    pub top_event_sources: Vec<Count>,
    pub top_event_names: Vec<Count>,
    pub top_error_codes: Vec<Count>,
    pub top_principals: Vec<Count>,
    pub events_per_day: BTreeMap<String, u64>,
}

impl StatsReport {
    /// The table form, for people.
    pub fn render_table(&self) -> String {
        use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
        let mut out = String::new();
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY);
        t.set_header(vec!["summary", ""]);
        let rows: Vec<(&str, String)> = vec![
            ("events (unique, in range)", self.events.to_string()),
            ("records read", self.records.to_string()),
            ("duplicates dropped", self.duplicates.to_string()),
            ("conflicting event ids (kept)", self.conflicting_ids.to_string()),
            ("outside --since/--until", self.out_of_range.to_string()),
            ("bad records", self.bad_records.to_string()),
            ("records with repaired text", self.repaired_records.to_string()),
            ("insights events", self.insights.to_string()),
            ("files read", self.files.to_string()),
            ("files skipped", skipped_text(self)),
            ("files with errors", self.file_errors.to_string()),
            ("MB read (stored / decoded)", format!("{:.1} / {:.1}", self.bytes_stored as f64 / 1e6, self.bytes_decoded as f64 / 1e6)),
            ("events with errorCode", self.errors.to_string()),
            ("first event", self.first_event.clone().unwrap_or_else(|| "-".into())),
            ("last event", self.last_event.clone().unwrap_or_else(|| "-".into())),
            ("accounts", self.accounts.to_string()),
            ("regions", self.regions.to_string()),
            ("principals", principal_text(self)),
        ];
        for (k, v) in rows {
            t.add_row(vec![k.to_string(), v]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
        for (title, list) in [
            ("top principals", &self.top_principals),
            ("top event names", &self.top_event_names),
            ("top event sources", &self.top_event_sources),
            ("top error codes", &self.top_error_codes),
            ("accounts", &self.top_accounts),
            ("regions", &self.top_regions),
        ] {
            if list.is_empty() {
                continue;
            }
            let mut t = Table::new();
            t.load_preset(UTF8_BORDERS_ONLY);
            t.set_header(vec![title, "events"]);
            for c in list {
                t.add_row(vec![terminal(&c.name).into_owned(), c.count.to_string()]);
            }
            out.push_str(&t.to_string());
            out.push('\n');
        }
        if !self.events_per_day.is_empty() {
            let mut t = Table::new();
            t.load_preset(UTF8_BORDERS_ONLY);
            t.set_header(vec!["day", "events"]);
            for (d, n) in &self.events_per_day {
                t.add_row(vec![d.clone(), n.to_string()]);
            }
            out.push_str(&t.to_string());
            out.push('\n');
        }
        out
    }
}

fn skipped_text(r: &StatsReport) -> String {
    if r.skipped_by_reason.is_empty() {
        return "0".into();
    }
    let parts: Vec<String> = r.skipped_by_reason.iter().map(|(k, v)| format!("{v} {k}")).collect();
    format!("{} ({})", r.skipped_files, parts.join(", "))
}

fn principal_text(r: &StatsReport) -> String {
    let parts: Vec<String> = r.principals_by_type.iter().map(|(k, v)| format!("{v} {k}")).collect();
    if parts.is_empty() { r.principals.to_string() } else { format!("{} ({})", r.principals, parts.join(", ")) }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
