//! The webhook sink: each alert POSTed as JSON from its own thread, retried with exponential
//! back-off, so detection never waits for the receiver. An alert counts as delivered only once
//! the receiver answers 2xx: the engine records that in the store's delivery table, and what is
//! unconfirmed when the run's delivery deadline passes stays pending for the next run. Every
//! request carries the alert's `id` in the body and as its `Idempotency-Key`, so a receiver can
//! drop the repeats at-least-once delivery brings.

use super::Alert;
use super::sink::AlertSink;
use serde::Deserialize;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The webhook's name in the store's delivery table.
pub(crate) const SINK: &str = "webhook";

/// What the webhook did this run, reported when the run ends.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WebhookStats {
    /// Confirmed with a 2xx.
    pub delivered: u64,
    /// Every attempt this run failed (the alert stays pending).
    pub failed: u64,
}

/// What the sink and its sender thread share.
#[derive(Default)]
struct State {
    queue: VecDeque<(String, String)>,
    /// A request is in flight.
    busy: bool,
    confirmed: Vec<String>,
    stats: WebhookStats,
    /// No attempt starts after this (set when the run settles), and none lasts past it.
    stop_at: Option<Instant>,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct WebhookSink {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
    /// Ids handed to the thread this run: each alert gets one round of attempts per run.
    taken: HashSet<String>,
    /// Alerts held in memory at most; the rest wait in the store's outbox.
    capacity: usize,
    /// An alert was left in the store because the queue was full: worth offering again.
    overflowed: bool,
    deadline: Duration,
    settle_by: Option<Instant>,
}

/// Back-off before attempt `n` (1-based): 0.5 s doubling, at most 30 s.
pub fn backoff(n: u32) -> Duration {
    Duration::from_millis((500u64 << n.saturating_sub(1).min(6)).min(30_000))
}

impl WebhookSink {
    pub fn start(cfg: &WebhookConfig) -> anyhow::Result<WebhookSink> {
        check_url(&cfg.url).map_err(anyhow::Error::msg)?;
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), changed: Condvar::new() });
        let sender = Sender {
            shared: Arc::clone(&shared),
            url: cfg.url.clone(),
            attempts: cfg.attempts.max(1),
            timeout: Duration::from_secs(cfg.timeout_secs.max(1)),
            agent: ureq::Agent::config_builder().build().into(),
        };
        let worker = std::thread::Builder::new().name("webhook".into()).spawn(move || sender.run())?;
        Ok(WebhookSink {
            shared,
            worker: Some(worker),
            taken: HashSet::new(),
            capacity: cfg.queue.max(1),
            overflowed: false,
            deadline: Duration::from_secs(cfg.deadline_secs),
            settle_by: None,
        })
    }

    /// Stops the thread (what it holds stays pending in the store) and returns what it did. A
    /// request still in flight is not waited for: it ends by its own timeout.
    pub fn close(&mut self) -> WebhookStats {
        let idle = {
            let mut st = self.shared.lock();
            st.closed = true;
            st.queue.clear();
            self.shared.changed.notify_all();
            !st.busy
        };
        if let Some(w) = self.worker.take()
            && idle
        {
            let _ = w.join();
        }
        self.shared.lock().stats.clone()
    }
}

impl AlertSink for WebhookSink {
    fn send(&mut self, alert: &Alert, json: &str) -> anyhow::Result<()> {
        if self.taken.contains(&alert.id) {
            return Ok(());
        }
        let mut st = self.shared.lock();
        if st.queue.len() >= self.capacity {
            self.overflowed = true;
            return Ok(());
        }
        st.queue.push_back((alert.id.clone(), json.to_string()));
        self.taken.insert(alert.id.clone());
        self.shared.changed.notify_all();
        Ok(())
    }

    fn confirms(&self) -> Option<&'static str> {
        Some(SINK)
    }

    fn confirmed(&mut self) -> Vec<String> {
        std::mem::take(&mut self.shared.lock().confirmed)
    }

    fn wait(&mut self) -> bool {
        let until = *self.settle_by.get_or_insert_with(|| Instant::now() + self.deadline);
        let mut st = self.shared.lock();
        if st.stop_at.is_none() {
            st.stop_at = Some(until);
            self.shared.changed.notify_all();
        }
        loop {
            if st.queue.is_empty() && !st.busy {
                return std::mem::take(&mut self.overflowed);
            }
            // Room again for what the store still holds: offer it now rather than after the rest.
            if self.overflowed && st.queue.len() <= self.capacity / 2 {
                self.overflowed = false;
                return true;
            }
            let now = Instant::now();
            if now >= until {
                return false;
            }
            st = self.shared.changed.wait_timeout(st, until - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    fn finish(&mut self) -> anyhow::Result<Option<String>> {
        let s = self.close();
        Ok(Some(format!("webhook: {} delivered, {} failed", s.delivered, s.failed)))
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.close();
    }
}

/// The sender thread: one request at a time, in outbox order.
struct Sender {
    shared: Arc<Shared>,
    url: String,
    attempts: u32,
    timeout: Duration,
    agent: ureq::Agent,
}

impl Sender {
    fn run(self) {
        // After an alert used every attempt, the endpoint is taken to be down: later alerts get
        // one attempt each until one gets through, so a dead endpoint cannot hold the run's end.
        let mut down = false;
        loop {
            let (id, body, stop_at) = {
                let mut st = self.shared.lock();
                loop {
                    if st.closed || st.stop_at.is_some_and(|t| Instant::now() >= t) {
                        return;
                    }
                    if let Some((id, body)) = st.queue.pop_front() {
                        st.busy = true;
                        break (id, body, st.stop_at);
                    }
                    st = self.shared.changed.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            };
            let ok = self.post(&id, &body, if down { 1 } else { self.attempts }, stop_at);
            if !ok && !down {
                eprintln!("trailhound: webhook: an alert failed every attempt; one attempt per alert until it answers");
            }
            down = !ok;
            let mut st = self.shared.lock();
            st.busy = false;
            if ok {
                st.confirmed.push(id);
                st.stats.delivered += 1;
            } else {
                st.stats.failed += 1;
            }
            self.shared.changed.notify_all();
        }
    }

    /// Up to `tries` attempts, none past `stop_at`; true on a 2xx.
    fn post(&self, id: &str, body: &str, tries: u32, stop_at: Option<Instant>) -> bool {
        for n in 1..=tries {
            let left = stop_at.map(|t| t.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                return false;
            }
            let timeout = left.map_or(self.timeout, |l| l.min(self.timeout));
            let sent = self
                .agent
                .post(&self.url)
                .config()
                .timeout_global(Some(timeout))
                .build()
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", id)
                .send(body);
            match sent {
                Ok(r) if r.status().is_success() => return true,
                Ok(r) => tracing::warn!("webhook attempt {n}/{tries}: answered {}", r.status()),
                Err(e) => tracing::warn!("webhook attempt {n}/{tries} failed: {e}"),
            }
            if n < tries {
                let pause = backoff(n);
                std::thread::sleep(left.map_or(pause, |l| l.min(pause)));
            }
        }
        false
    }
}

/// `[alerts.webhook]`: POST each alert as JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Attempts per alert per run before it is left pending for the next run.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Per-request timeout.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Alerts held in memory for sending; the rest wait in the store's outbox.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// The most a run waits for the webhook once detection is done; what is unconfirmed then
    /// stays pending for the next run.
    #[serde(default = "default_deadline")]
    pub deadline_secs: u64,
}

/// Whether this binary can POST to `url`: `http://` or `https://` (with the `webhook-tls`
/// feature) and a host. Config loading and `--webhook` both check it, so `rules --config`
/// refuses what `scan` would.
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => rest,
        _ => return Err(format!("webhook url {url:?} must start with http:// or https://")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') { host.split_inclusive(']').next().unwrap_or("") } else { host.split(':').next().unwrap_or("") };
    if host.is_empty() || host == "[]" {
        return Err(format!("webhook url {url:?} names no host"));
    }
    if url[..5].eq_ignore_ascii_case("https") && !cfg!(feature = "webhook-tls") {
        return Err(
            "this trailhound was built without https webhooks: rebuild with `--features webhook-tls`, or use an http:// relay".into()
        );
    }
    Ok(())
}

impl WebhookConfig {
    /// `--webhook URL` without an `[alerts.webhook]` section: the defaults.
    pub fn new(url: &str) -> WebhookConfig {
        WebhookConfig {
            url: url.to_string(),
            attempts: default_attempts(),
            timeout_secs: default_timeout(),
            queue: default_queue(),
            deadline_secs: default_deadline(),
        }
    }
}

fn default_attempts() -> u32 {
    5
}
fn default_timeout() -> u64 {
    10
}
fn default_queue() -> usize {
    1000
}
fn default_deadline() -> u64 {
    30
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn urls_need_an_http_scheme_and_a_host() {
        for ok in ["http://127.0.0.1:8080/hook", "http://user@host/", "http://[::1]:80/", "HTTP://h"] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for bad in ["http://", "http:///path", "http://:80/", "ftp://host/", "host/hook", "http://u@/x", "http://[]/"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(20), Duration::from_secs(30));
    }

    #[test]
    fn a_dead_endpoint_gets_one_attempt_per_alert_after_the_first_gives_up_and_confirms_none() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cfg = WebhookConfig { attempts: 3, timeout_secs: 2, queue: 8, ..WebhookConfig::new(&format!("http://127.0.0.1:{port}/")) };
        let mut sink = WebhookSink::start(&cfg).unwrap();
        for id in ["a", "b", "c", "d", "a"] {
            let alert = crate::alert::test_alert(id, None, None, &[]);
            sink.send(&alert, "{}").unwrap();
        }
        let started = Instant::now();
        while sink.wait() {}
        assert!(sink.confirmed().is_empty());
        assert_eq!(sink.close(), WebhookStats { delivered: 0, failed: 4 }, "each alert once per run");
        // 0.5 s + 1 s of back-off for the first alert, none for the rest.
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }
}
