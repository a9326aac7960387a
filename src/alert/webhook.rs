//! The webhook sink: each alert POSTed as JSON from its own thread, retried with exponential
//! back-off. Detection never waits for it: a bounded queue sits in between, and alerts that find
//! it full are dropped and counted (they stay in the store's alert table).

use super::Alert;
use super::sink::AlertSink;
use serde::Deserialize;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the webhook did, reported when the run ends.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WebhookStats {
    pub delivered: u64,
    /// Gave up after every attempt failed.
    pub failed: u64,
    /// Not queued: the queue was full.
    pub dropped: u64,
}

pub struct WebhookSink {
    queue: Option<SyncSender<String>>,
    worker: Option<JoinHandle<WebhookStats>>,
    dropped: u64,
}

/// Back-off before attempt `n` (1-based): 0.5 s doubling, at most 30 s.
pub fn backoff(n: u32) -> Duration {
    Duration::from_millis((500u64 << n.saturating_sub(1).min(6)).min(30_000))
}

impl WebhookSink {
    pub fn start(cfg: &WebhookConfig) -> anyhow::Result<WebhookSink> {
        if !(cfg.url.starts_with("http://") || cfg.url.starts_with("https://")) {
            anyhow::bail!("webhook url must start with http:// or https://: {}", cfg.url);
        }
        if cfg.url.starts_with("https://") && !cfg!(feature = "webhook-tls") {
            anyhow::bail!(
                "this trailhound was built without https webhooks: rebuild with `--features webhook-tls`, or use an http:// relay"
            );
        }
        let (tx, rx) = sync_channel::<String>(cfg.queue.max(1));
        let url = cfg.url.clone();
        let attempts = cfg.attempts.max(1);
        let agent: ureq::Agent =
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(cfg.timeout_secs.max(1)))).build().into();
        let worker = std::thread::Builder::new().name("webhook".into()).spawn(move || {
            let mut stats = WebhookStats::default();
            // After an alert used every attempt, the endpoint is taken to be down: later alerts get
            // one attempt each until one gets through, so a dead endpoint cannot hold the run's end.
            let mut down = false;
            for body in rx {
                let mut ok = false;
                let tries = if down { 1 } else { attempts };
                for n in 1..=tries {
                    match agent.post(&url).header("Content-Type", "application/json").send(body.as_str()) {
                        Ok(_) => {
                            ok = true;
                            break;
                        }
                        Err(e) => {
                            tracing::warn!("webhook attempt {n}/{tries} failed: {e}");
                            if n < tries {
                                std::thread::sleep(backoff(n));
                            }
                        }
                    }
                }
                if ok {
                    stats.delivered += 1;
                } else {
                    stats.failed += 1;
                    if !down {
                        eprintln!(
                            "trailhound: webhook: giving up on an alert after {tries} attempts; one attempt per alert until it answers"
                        );
                    }
                }
                down = !ok;
            }
            stats
        })?;
        Ok(WebhookSink { queue: Some(tx), worker: Some(worker), dropped: 0 })
    }

    /// Waits for queued alerts to be sent and returns what happened.
    pub fn close(&mut self) -> WebhookStats {
        self.queue.take();
        let mut stats = self.worker.take().and_then(|w| w.join().ok()).unwrap_or_default();
        stats.dropped = self.dropped;
        stats
    }
}

impl AlertSink for WebhookSink {
    fn finish(&mut self) -> anyhow::Result<Option<String>> {
        let s = self.close();
        Ok(Some(format!("webhook: {} delivered, {} failed, {} dropped", s.delivered, s.failed, s.dropped)))
    }

    fn send(&mut self, alert: &Alert) -> anyhow::Result<()> {
        let Some(q) = &self.queue else { return Ok(()) };
        match q.try_send(serde_json::to_string(alert)?) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped += 1;
                if self.dropped == 1 {
                    eprintln!("trailhound: webhook: queue full, dropping alerts (they remain in the state store)");
                }
            }
        }
        Ok(())
    }
}

/// `[alerts.webhook]`: POST each alert as JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// Attempts per alert before it is counted as lost.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Per-request timeout.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Alerts waiting for delivery before new ones are dropped (and counted) rather than slowing
    /// detection.
    #[serde(default = "default_queue")]
    pub queue: usize,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(20), Duration::from_secs(30));
    }

    fn alert() -> Alert {
        crate::alert::test_alert("a", None, None, &[])
    }

    #[test]
    fn a_dead_endpoint_gets_one_attempt_per_alert_after_the_first_gives_up() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cfg = WebhookConfig { url: format!("http://127.0.0.1:{port}/"), attempts: 3, timeout_secs: 2, queue: 8 };
        let mut sink = WebhookSink::start(&cfg).unwrap();
        for _ in 0..4 {
            sink.send(&alert()).unwrap();
        }
        let started = std::time::Instant::now();
        assert_eq!(sink.close(), WebhookStats { delivered: 0, failed: 4, dropped: 0 });
        // 0.5 s + 1 s of back-off for the first alert, none for the rest.
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    /// A one-connection-at-a-time HTTP server: the first request gets a 500, the rest 200.
    #[test]
    fn posts_json_and_retries() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let mut bodies = Vec::new();
            for (i, stream) in listener.incoming().take(2).enumerate() {
                let mut s = stream.unwrap();
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                loop {
                    let n = s.read(&mut buf).unwrap();
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got).to_string();
                    if let Some(h) = text.find("\r\n\r\n") {
                        let len: usize = text
                            .lines()
                            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                            .unwrap_or(0);
                        if got.len() >= h + 4 + len {
                            bodies.push(text[h + 4..].to_string());
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                let status = if i == 0 { "500 Internal Server Error" } else { "200 OK" };
                write!(s, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
            }
            bodies
        });
        let cfg = WebhookConfig { url, attempts: 3, timeout_secs: 5, queue: 4 };
        let mut sink = WebhookSink::start(&cfg).unwrap();
        let alert = alert();
        sink.send(&alert).unwrap();
        let stats = sink.close();
        assert_eq!(stats, WebhookStats { delivered: 1, failed: 0, dropped: 0 });
        let bodies = server.join().unwrap();
        assert_eq!(bodies.len(), 2);
        let back: Alert = serde_json::from_str(&bodies[1]).unwrap();
        assert_eq!(back, alert);
    }
}
