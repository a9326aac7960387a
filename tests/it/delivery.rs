//! Delivery promises (docs/reliability.md): nothing raised is lost, a repeat is a byte copy with
//! the alert's id, a hanging receiver costs a bounded time. Receivers are tiny HTTP servers on
//! loopback; the scans are the binary, killed with SIGKILL where a test says so.

use crate::support::trailhound;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the receiver answers a request.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Status(u16),
    /// Reads the request and never answers (holding the connection open).
    Hang,
    /// 200 after a pause.
    Slow(u64),
}

/// One request the receiver read: its `Idempotency-Key`, body and what it answered (`None`: it
/// hung).
#[derive(Clone, Debug)]
struct Hit {
    key: Option<String>,
    body: String,
    status: Option<u16>,
}

impl Hit {
    fn id(&self) -> String {
        let v: serde_json::Value = serde_json::from_str(&self.body).unwrap();
        v["id"].as_str().unwrap().to_string()
    }
    fn confirmed(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

#[derive(Clone)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Answers in turn; the last one repeats.
    script: Arc<Mutex<Vec<Answer>>>,
}

impl Receiver {
    /// Serves on `port` (0: any), one thread per connection so a hung one holds nothing else.
    fn on(port: u16, script: &[Answer]) -> (Receiver, u16) {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let r = Receiver { hits: Arc::default(), script: Arc::new(Mutex::new(script.to_vec())) };
        let served = r.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let r = served.clone();
                std::thread::spawn(move || r.serve(stream));
            }
        });
        (r, port)
    }

    fn answer_with(&self, script: &[Answer]) {
        *self.script.lock().unwrap() = script.to_vec();
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    fn serve(&self, mut s: TcpStream) {
        let Some((head, body)) = read_request(&mut s) else { return };
        let key = head.lines().find_map(|l| l.to_ascii_lowercase().starts_with("idempotency-key:").then(|| l[16..].trim().to_string()));
        let answer = {
            let mut script = self.script.lock().unwrap();
            if script.len() > 1 { script.remove(0) } else { script[0] }
        };
        let status = match answer {
            Answer::Status(code) => Some(code),
            Answer::Slow(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                Some(200)
            }
            Answer::Hang => None,
        };
        self.hits.lock().unwrap().push(Hit { key, body, status });
        match status {
            Some(code) => {
                let _ = write!(s, "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
            None => std::thread::sleep(Duration::from_secs(120)),
        }
    }
}

/// A request's head and body (by its Content-Length).
fn read_request(s: &mut TcpStream) -> Option<(String, String)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(h) = text.find("\r\n\r\n") {
            let len: usize = text[..h]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            if got.len() >= h + 4 + len {
                return Some((text[..h].to_string(), text[h + 4..h + 4 + len].to_string()));
            }
        }
    }
}

/// A port nothing listens on (until a test starts a receiver there).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A config raising 29 alerts from testdata/invictus, with a webhook to `port`.
fn setup(dir: &Path, port: u16, hook: &str) -> PathBuf {
    let cfg = dir.join("th.toml");
    std::fs::write(
        &cfg,
        format!(
            "[first_seen]\nburn_in_days = 0\n[rules]\npacks = [\"cis\", \"seed\"]\n[alerts.webhook]\nurl = \"http://127.0.0.1:{port}/hook\"\n{hook}\n"
        ),
    )
    .unwrap();
    cfg
}

const ALERTS: usize = 29;

/// One scan of testdata/invictus on `dir`'s store: (ids written to stdout, stderr, time taken).
fn scan(dir: &Path, cfg: &Path) -> (Vec<String>, String, Duration) {
    let started = Instant::now();
    let out = trailhound()
        .args(["scan", "-q", "--format", "jsonl", "--state"])
        .arg(dir.join("s.sqlite"))
        .arg("--config")
        .arg(cfg)
        .arg("testdata/invictus")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let ids = crate::support::jsonl(&out.stdout).iter().map(|v| v["id"].as_str().unwrap().to_string()).collect();
    (ids, stderr, started.elapsed())
}

/// The binary as a plain process, for a test that kills it or gives it its own stdout.
fn binary() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("trailhound"));
    c.env_remove("TRAILHOUND_STATE").env_remove("TRAILHOUND_CONFIG");
    c
}

/// Every hit carries its alert's id as the key; the confirmed ones, as a sorted list.
fn confirmed_ids(hits: &[Hit]) -> Vec<String> {
    for h in hits {
        assert_eq!(h.key.as_deref(), Some(h.id().as_str()), "Idempotency-Key is the alert id");
    }
    let mut ids: Vec<String> = hits.iter().filter(|h| h.confirmed()).map(Hit::id).collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn a_refusing_receiver_gets_every_alert_once_when_it_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let cfg = setup(dir.path(), port, "attempts = 2\ntimeout_secs = 1\ndeadline_secs = 5");
    let (stream, err, _) = scan(dir.path(), &cfg);
    assert_eq!(stream.len(), ALERTS);
    assert!(err.contains(&format!("{ALERTS} pending for the webhook")), "{err}");

    let (receiver, _) = Receiver::on(port, &[Answer::Status(200)]);
    let (again, err, _) = scan(dir.path(), &cfg);
    assert!(again.is_empty(), "the stream took them already");
    assert!(!err.contains("pending"), "{err}");
    assert_eq!(confirmed_ids(&receiver.hits()), sorted(stream), "each alert once");
    scan(dir.path(), &cfg);
    assert_eq!(receiver.hits().len(), ALERTS, "nothing sent again once confirmed");
}

#[test]
fn a_500_is_retried_and_only_a_2xx_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, port) = Receiver::on(0, &[Answer::Status(500), Answer::Status(503), Answer::Status(200)]);
    let cfg = setup(dir.path(), port, "attempts = 3\ntimeout_secs = 2");
    let (stream, err, _) = scan(dir.path(), &cfg);
    assert!(err.contains(&format!("webhook: {ALERTS} delivered, 0 failed")), "{err}");
    // Log lines into a pipe carry no terminal colours.
    assert!(err.contains("attempt 1/3 failed") && !err.contains('\u{1b}'), "{err:?}");
    let hits = receiver.hits();
    assert_eq!(hits.len(), ALERTS + 2);
    assert_eq!(confirmed_ids(&hits), sorted(stream));
    assert!(hits[..3].iter().all(|h| h.body == hits[0].body), "a retry is a byte copy");
    scan(dir.path(), &cfg);
    assert_eq!(receiver.hits().len(), ALERTS + 2);
}

#[test]
fn a_hanging_receiver_costs_the_deadline_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, port) = Receiver::on(0, &[Answer::Hang]);
    let cfg = setup(dir.path(), port, "attempts = 2\ntimeout_secs = 1\ndeadline_secs = 2");
    let (stream, err, took) = scan(dir.path(), &cfg);
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert!(err.contains(&format!("{ALERTS} pending for the webhook")), "{err}");
    assert!(confirmed_ids(&receiver.hits()).is_empty());

    receiver.answer_with(&[Answer::Slow(20)]);
    let (_, err, _) = scan(dir.path(), &cfg);
    assert!(!err.contains("pending"), "{err}");
    let confirmed = confirmed_ids(&receiver.hits());
    assert_eq!(confirmed, sorted(stream), "each once, after the hung ones");
}

/// Killed at pseudo-random points ten times, then left to finish: the file and the receiver
/// hold every alert of an uninterrupted run at least once, repeats are byte copies, and the
/// file holds only whole lines.
#[test]
fn scans_killed_at_random_points_lose_no_alert_and_repeat_only_exact_copies() {
    let reference = tempfile::tempdir().unwrap();
    let (r0, p0) = Receiver::on(0, &[Answer::Status(200)]);
    let (want, _, _) = scan(reference.path(), &setup(reference.path(), p0, ""));
    assert_eq!(confirmed_ids(&r0.hits()), sorted(want.clone()));

    let dir = tempfile::tempdir().unwrap();
    let (receiver, port) = Receiver::on(0, &[Answer::Slow(10)]);
    let cfg = setup(dir.path(), port, "deadline_secs = 5");
    let file = dir.path().join("alerts.jsonl");
    let run = || {
        let mut c = binary();
        c.args(["scan", "-q", "--format", "jsonl", "--state"]).arg(dir.path().join("s.sqlite")).arg("--config").arg(&cfg);
        c.arg("--output").arg(&file).arg("testdata/invictus").stderr(std::process::Stdio::null());
        c
    };
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = run().spawn().unwrap();
        std::thread::sleep(Duration::from_millis(seed % 700));
        let _ = child.kill();
        child.wait().unwrap();
    }
    assert!(run().status().unwrap().success());

    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "only whole lines");
    let mut by_id: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        by_id.entry(v["id"].as_str().unwrap().to_string()).or_default().insert(line.to_string());
    }
    for h in receiver.hits() {
        by_id.entry(format!("webhook {}", h.id())).or_default().insert(h.body.clone());
    }
    assert!(by_id.values().all(|copies| copies.len() == 1), "a repeat is a byte copy");
    let confirmed: BTreeSet<String> = confirmed_ids(&receiver.hits()).into_iter().collect();
    for id in &want {
        assert!(by_id.contains_key(id), "{id} never written");
        assert!(confirmed.contains(id), "{id} never confirmed by the receiver");
    }
}

#[test]
fn a_failed_write_names_its_target_and_loses_nothing() {
    if !Path::new("/dev/full").exists() {
        eprintln!("SKIPPED: no /dev/full");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.sqlite");
    let cfg = dir.path().join("th.toml");
    std::fs::write(&cfg, "[first_seen]\nburn_in_days = 0\n[rules]\npacks = [\"cis\", \"seed\"]\n").unwrap();
    let scan = |out: &[&str]| {
        trailhound()
            .args(["scan", "-q", "--format", "jsonl", "--state"])
            .arg(&state)
            .arg("--config")
            .arg(&cfg)
            .args(out)
            .arg("testdata/invictus")
            .output()
            .unwrap()
    };
    let out = scan(&["--output", "/dev/full"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("writing alerts to /dev/full"), "{err}");

    let full = std::fs::File::create("/dev/full").unwrap();
    let out = binary()
        .args(["scan", "-q", "--format", "jsonl", "--state"])
        .arg(&state)
        .arg("--config")
        .arg(&cfg)
        .arg("testdata/invictus")
        .stdout(full)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("writing alerts to standard output"));

    let file = dir.path().join("a.jsonl");
    assert!(scan(&["--output", file.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), ALERTS, "nothing was marked delivered");
}
