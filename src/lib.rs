//! trailhound: behaviour-based anomaly detection for AWS CloudTrail.
//!
//! The pipeline, one folder each: `source` (find, read and split inputs) → `event` (the borrowed
//! record, principals, field lookups, deduplication) → `pipeline` (parallel read loop feeding
//! sinks) → `report` (what commands print). `cli` and `commands` are the binary's front end.

pub mod alert;
pub mod cli;
pub mod commands;
pub mod config;
pub mod detect;
pub(crate) mod engine;
pub(crate) mod evaluate;
pub mod event;
pub(crate) mod json;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod simulate;
pub mod source;
pub(crate) mod store;
pub(crate) mod tally;
pub mod term;
pub(crate) mod toml_error;

use std::io::Write;

/// Writes to stdout; a closed pipe (`trailhound stats … | head`) is success, not an error.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = Stdout::new();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Buffered standard output on which a closed pipe (`trailhound … | head`) is the reader having
/// read enough, not an error: from then on writes are dropped and succeed. Whichever write meets
/// the close (a caller's line, one inside a serializer, the buffer's flush), the command goes on
/// and ends as it would have.
pub struct Stdout {
    out: std::io::BufWriter<std::io::Stdout>,
    closed: bool,
}

impl Stdout {
    pub fn new() -> Stdout {
        Stdout { out: std::io::BufWriter::new(std::io::stdout()), closed: false }
    }

    /// Whether the reader has gone (a write met a closed pipe).
    pub fn closed(&self) -> bool {
        self.closed
    }

    fn unless_closed<T>(&mut self, r: std::io::Result<T>, dropped: T) -> std::io::Result<T> {
        match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(dropped)
            }
            r => r,
        }
    }
}

impl Default for Stdout {
    fn default() -> Self {
        Stdout::new()
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let r = self.out.write(buf);
        self.unless_closed(r, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.out.flush();
        self.unless_closed(r, ())
    }
}

#[cfg(test)]
mod layering {
    use std::collections::{BTreeMap, BTreeSet};

    /// The top-level module (folder or file under `src/`) each non-test source file imports,
    /// by `crate::` path. Test code (`tests.rs`, `*_tests.rs`, whatever follows `#[cfg(test)]`)
    /// may reach anywhere and is left out.
    fn imports() -> BTreeMap<String, BTreeMap<String, String>> {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for entry in walkdir::WalkDir::new(&src) {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name().to_string_lossy();
            if !name.ends_with(".rs") || name == "tests.rs" || name.ends_with("_tests.rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
            let text = std::fs::read_to_string(path).unwrap();
            for (n, line) in text.lines().enumerate().take_while(|(_, l)| !l.starts_with("#[cfg(test)]")) {
                for (i, _) in line.match_indices("crate::") {
                    let target: String = line[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if target != top && !target.is_empty() {
                        out.entry(top.clone()).or_default().entry(target).or_insert_with(|| format!("{}:{}", rel.display(), n + 1));
                    }
                }
            }
        }
        out
    }

    /// ARCHITECTURE.md's "Who imports whom": each folder imports only folders below it. Run with
    /// `--nocapture` to print the arrows.
    #[test]
    fn no_folder_imports_one_that_imports_it_back() {
        let deps = imports();
        let mut cycles = Vec::new();
        for (a, targets) in &deps {
            println!("{a} -> {}", targets.keys().cloned().collect::<Vec<_>>().join(", "));
            for (b, at) in targets {
                if let Some(back) = deps.get(b).and_then(|t| t.get(a))
                    && a < b
                {
                    cycles.push(format!("{a} <-> {b} ({at}; {back})"));
                }
            }
        }
        assert!(cycles.is_empty(), "folders that import each other: {cycles:#?}");
        // The front end sits on top: no stage imports it.
        let front: BTreeSet<&str> = ["commands", "cli"].into();
        for (a, targets) in &deps {
            for b in targets.keys().filter(|b| front.contains(b.as_str())) {
                assert!(front.contains(a.as_str()), "{a} imports the front end ({b}): {}", targets[b]);
            }
        }
    }
}
