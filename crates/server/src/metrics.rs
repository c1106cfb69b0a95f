//! What an operator's Prometheus scrapes from `GET /metrics`: requests by route and status,
//! their latency, pushes in flight (the write queue as handlers see it: waiting for the group
//! commit or the cluster's writer lock), mutations by outcome, pulled changes, refused sign-ins.
//!
//! Routes are the matched templates (`/api/v1/blobs/{sha256}`), never the raw path, so no id,
//! hash or phone number becomes a label. Written by hand: a few counters and one histogram per
//! route need no framework, and each server (each test's too) keeps its own.

use gridmate_protocol::{PushResult, PushStatus};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Latency {
    /// Requests at or under each bound (not yet cumulative).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_s: f64,
}

#[derive(Default)]
pub struct Metrics {
    /// (route, status) → requests.
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Latency>>,
    in_flight: AtomicU64,
    pushes_in_flight: AtomicU64,
    mutations: [AtomicU64; 4],
    pulled_changes: AtomicU64,
    pull_pages: AtomicU64,
    login_failures: AtomicU64,
}

fn status_index(s: PushStatus) -> usize {
    match s {
        PushStatus::Applied => 0,
        PushStatus::Duplicate => 1,
        PushStatus::Merged => 2,
        PushStatus::Rejected => 3,
    }
}

const STATUS_NAMES: [&str; 4] = ["applied", "duplicate", "merged", "rejected"];

/// Decrements its gauge when dropped: an aborted request still leaves.
pub struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn request_started(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    pub fn push_started(&self) -> InFlight<'_> {
        self.pushes_in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.pushes_in_flight)
    }

    pub fn request_done(&self, route: &str, status: u16, took: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((route.to_string(), status))
            .or_default() += 1;
        let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let l = latency.entry(route.to_string()).or_default();
        let s = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| s <= *b) {
            l.buckets[i] += 1;
        }
        l.count += 1;
        l.sum_s += s;
    }

    pub fn pushed(&self, results: &[PushResult]) {
        for r in results {
            self.mutations[status_index(r.status)].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn pulled(&self, changes: usize) {
        self.pull_pages.fetch_add(1, Ordering::Relaxed);
        self.pulled_changes
            .fetch_add(changes as u64, Ordering::Relaxed);
    }

    pub fn login_failed(&self) {
        self.login_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        let _ = writeln!(
            out,
            "# HELP gridmate_http_requests_total Requests answered, by route template and status.\n# TYPE gridmate_http_requests_total counter"
        );
        for ((route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "gridmate_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP gridmate_http_request_duration_seconds Time to answer, by route template.\n# TYPE gridmate_http_request_duration_seconds histogram"
        );
        for (route, l) in self
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(l.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "gridmate_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "gridmate_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\ngridmate_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\ngridmate_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                l.count, l.sum_s, l.count
            );
        }
        let gauge = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "gridmate_http_requests_in_flight",
            "Requests being answered.",
            self.in_flight.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "gridmate_pushes_in_flight",
            "Pushes waiting for or holding the writer (the write queue).",
            self.pushes_in_flight.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP gridmate_push_mutations_total Pushed mutations, by outcome.\n# TYPE gridmate_push_mutations_total counter"
        );
        for (name, n) in STATUS_NAMES.iter().zip(&self.mutations) {
            let _ = writeln!(
                out,
                "gridmate_push_mutations_total{{status=\"{name}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        counter(
            &mut out,
            "gridmate_pull_pages_total",
            "Pull pages served.",
            self.pull_pages.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "gridmate_pull_changes_total",
            "Changes served in pull pages.",
            self.pulled_changes.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "gridmate_login_failures_total",
            "Refused sign-ins (wrong phone or password).",
            self.login_failures.load(Ordering::Relaxed),
        );
        out
    }
}
