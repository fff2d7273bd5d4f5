//! Prometheus metrics, kept in memory and rendered in the text exposition format (0.0.4).
//!
//! Written by hand: a handful of counters, gauges and histograms do not justify a metrics
//! framework, and the format is a few lines of text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Upper bounds (seconds) for OpenStack API call latency.
const API_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// Upper bounds (seconds) for one reconcile (it may include waiting for ACTIVE).
const RECONCILE_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];
/// Upper bounds (seconds) from "request seen" to "answer ready" for a new load balancer.
const PROVISIONING_BUCKETS: &[f64] = &[
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0,
];

/// Every metric the daemon exports. All methods take `&self` and are cheap.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    api_calls: BTreeMap<Vec<(&'static str, String)>, u64>,
    api_latency: BTreeMap<Vec<(&'static str, String)>, Histogram>,
    reconciles: BTreeMap<Vec<(&'static str, String)>, Histogram>,
    provisioning: Option<Histogram>,
    load_balancers: BTreeMap<String, u64>,
    leader: bool,
    queue_waiting: u64,
    queue_running: u64,
    notify_runs: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        let value = if value.is_finite() {
            value.max(0.0)
        } else {
            0.0
        };
        for (bound, count) in self.bounds.iter().zip(self.counts.iter_mut()) {
            if value <= *bound {
                *count += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &[(&'static str, String)]) {
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            let mut with_le = labels.to_vec();
            with_le.push(("le", format_float(*bound)));
            let _ = writeln!(out, "{name}_bucket{} {count}", render_labels(&with_le));
        }
        let mut with_inf = labels.to_vec();
        with_inf.push(("le", "+Inf".to_string()));
        let _ = writeln!(
            out,
            "{name}_bucket{} {}",
            render_labels(&with_inf),
            self.count
        );
        let rendered = render_labels(labels);
        let _ = writeln!(out, "{name}_sum{rendered} {}", format_float(self.sum));
        let _ = writeln!(out, "{name}_count{rendered} {}", self.count);
    }
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Never held across an await; a poisoned lock still holds consistent numbers.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One finished OpenStack API call. `route` is the templated path (ids replaced), `status`
    /// the HTTP status or a short error class (`timeout`, `transport`).
    pub fn observe_api_call(&self, service: &str, route: &str, status: &str, seconds: f64) {
        let mut inner = self.lock();
        let key = vec![
            ("service", service.to_string()),
            ("route", route.to_string()),
            ("status", status.to_string()),
        ];
        *inner.api_calls.entry(key).or_default() += 1;
        let key = vec![
            ("service", service.to_string()),
            ("route", route.to_string()),
        ];
        inner
            .api_latency
            .entry(key)
            .or_insert_with(|| Histogram::new(API_BUCKETS))
            .observe(seconds);
    }

    /// One finished reconcile: `operation` is `apply`, `resync` or `remove`; `result` is
    /// `ready`, `pending`, `error`, `removed` or `skipped` (not the leader).
    pub fn observe_reconcile(&self, operation: &str, result: &str, seconds: f64) {
        let key = vec![
            ("operation", operation.to_string()),
            ("result", result.to_string()),
        ];
        self.lock()
            .reconciles
            .entry(key)
            .or_insert_with(|| Histogram::new(RECONCILE_BUCKETS))
            .observe(seconds);
    }

    /// Time from first seeing a request to its first ready answer.
    pub fn observe_provisioning(&self, seconds: f64) {
        self.lock()
            .provisioning
            .get_or_insert_with(|| Histogram::new(PROVISIONING_BUCKETS))
            .observe(seconds);
    }

    /// Replaces the "load balancers by provisioning status" gauge with a fresh count.
    pub fn set_load_balancers<'a>(&self, statuses: impl IntoIterator<Item = &'a str>) {
        let mut counts = BTreeMap::new();
        for status in statuses {
            *counts.entry(status.to_string()).or_insert(0u64) += 1;
        }
        self.lock().load_balancers = counts;
    }

    /// Whether this daemon currently acts on the cloud.
    pub fn set_leader(&self, leader: bool) {
        self.lock().leader = leader;
    }

    /// Current queue depth (waiting) and keys in progress.
    pub fn set_queue(&self, waiting: usize, running: usize) {
        let mut inner = self.lock();
        inner.queue_waiting = waiting as u64;
        inner.queue_running = running as u64;
    }

    /// One run of the notify command, by result (`ok`, `failed`, `timeout`).
    pub fn observe_notify(&self, result: &str) {
        *self
            .lock()
            .notify_runs
            .entry(result.to_string())
            .or_default() += 1;
    }

    /// The whole registry in the Prometheus text format.
    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut out = String::new();

        header(
            &mut out,
            "octavia_integrator_api_calls_total",
            "counter",
            "OpenStack API calls by service, route and HTTP status.",
        );
        for (labels, count) in &inner.api_calls {
            let _ = writeln!(
                out,
                "octavia_integrator_api_calls_total{} {count}",
                render_labels(labels)
            );
        }

        header(
            &mut out,
            "octavia_integrator_api_call_duration_seconds",
            "histogram",
            "OpenStack API call latency by service and route (retries included).",
        );
        for (labels, histogram) in &inner.api_latency {
            histogram.render(
                &mut out,
                "octavia_integrator_api_call_duration_seconds",
                labels,
            );
        }

        header(
            &mut out,
            "octavia_integrator_reconcile_duration_seconds",
            "histogram",
            "Reconcile duration by operation and result.",
        );
        for (labels, histogram) in &inner.reconciles {
            histogram.render(
                &mut out,
                "octavia_integrator_reconcile_duration_seconds",
                labels,
            );
        }

        header(
            &mut out,
            "octavia_integrator_provisioning_seconds",
            "histogram",
            "Time from a new request to its first ready answer.",
        );
        let provisioning = inner
            .provisioning
            .clone()
            .unwrap_or_else(|| Histogram::new(PROVISIONING_BUCKETS));
        provisioning.render(&mut out, "octavia_integrator_provisioning_seconds", &[]);

        header(
            &mut out,
            "octavia_integrator_load_balancers",
            "gauge",
            "Load balancers we manage, by provisioning status.",
        );
        for (status, count) in &inner.load_balancers {
            let _ = writeln!(
                out,
                "octavia_integrator_load_balancers{} {count}",
                render_labels(&[("provisioning_status", status.clone())])
            );
        }

        header(
            &mut out,
            "octavia_integrator_leader",
            "gauge",
            "1 when this daemon acts on the cloud (Juju leader), else 0.",
        );
        let _ = writeln!(out, "octavia_integrator_leader {}", u8::from(inner.leader));

        header(
            &mut out,
            "octavia_integrator_queue_depth",
            "gauge",
            "Requests waiting for a reconcile.",
        );
        let _ = writeln!(
            out,
            "octavia_integrator_queue_depth {}",
            inner.queue_waiting
        );
        header(
            &mut out,
            "octavia_integrator_reconciles_in_progress",
            "gauge",
            "Reconciles running now.",
        );
        let _ = writeln!(
            out,
            "octavia_integrator_reconciles_in_progress {}",
            inner.queue_running
        );

        header(
            &mut out,
            "octavia_integrator_notify_runs_total",
            "counter",
            "Runs of the notify command by result.",
        );
        for (result, count) in &inner.notify_runs {
            let _ = writeln!(
                out,
                "octavia_integrator_notify_runs_total{} {count}",
                render_labels(&[("result", result.clone())])
            );
        }
        header(
            &mut out,
            "octavia_integrator_log_lines_dropped_total",
            "counter",
            "Log lines dropped because standard error could not take them.",
        );
        let _ = writeln!(
            out,
            "octavia_integrator_log_lines_dropped_total {}",
            crate::log_sink::dropped_lines()
        );
        out
    }
}

impl openstack::session::CallObserver for Metrics {
    fn on_call(&self, record: &openstack::session::CallRecord) {
        let route = format!("{} {}", record.method, record.route);
        let status = record
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "no_answer".to_string());
        self.observe_api_call(
            record.service,
            &route,
            &status,
            record.elapsed.as_secs_f64(),
        );
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn render_labels(labels: &[(&'static str, String)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let body: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn format_float(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_calls_are_counted_by_labels_and_timed() {
        let m = Metrics::new();
        m.observe_api_call("load-balancer", "GET lbaas/loadbalancers", "200", 0.02);
        m.observe_api_call("load-balancer", "GET lbaas/loadbalancers", "200", 0.2);
        m.observe_api_call("network", "POST floatingips", "409", 0.001);
        let text = m.render();
        assert!(text.contains(
            "octavia_integrator_api_calls_total{service=\"load-balancer\",route=\"GET lbaas/loadbalancers\",status=\"200\"} 2"
        ), "{text}");
        assert!(text.contains(
            "octavia_integrator_api_calls_total{service=\"network\",route=\"POST floatingips\",status=\"409\"} 1"
        ));
        assert!(text.contains(
            "octavia_integrator_api_call_duration_seconds_bucket{service=\"load-balancer\",route=\"GET lbaas/loadbalancers\",le=\"0.025\"} 1"
        ));
        assert!(text.contains(
            "octavia_integrator_api_call_duration_seconds_bucket{service=\"load-balancer\",route=\"GET lbaas/loadbalancers\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains(
            "octavia_integrator_api_call_duration_seconds_count{service=\"load-balancer\",route=\"GET lbaas/loadbalancers\"} 2"
        ));
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::new(&[1.0, 2.0]);
        h.observe(0.5);
        h.observe(1.5);
        h.observe(9.0);
        h.observe(f64::NAN);
        assert_eq!(h.counts, vec![2, 3]);
        assert_eq!(h.count, 4);
    }

    #[test]
    fn gauges_and_reconciles_render() {
        let m = Metrics::new();
        m.set_load_balancers(["ACTIVE", "ACTIVE", "PENDING_CREATE"]);
        m.set_leader(true);
        m.set_queue(3, 1);
        m.observe_reconcile("apply", "ready", 1.5);
        m.observe_provisioning(42.0);
        m.observe_notify("ok");
        let text = m.render();
        for line in [
            "octavia_integrator_load_balancers{provisioning_status=\"ACTIVE\"} 2",
            "octavia_integrator_load_balancers{provisioning_status=\"PENDING_CREATE\"} 1",
            "octavia_integrator_leader 1",
            "octavia_integrator_queue_depth 3",
            "octavia_integrator_reconciles_in_progress 1",
            "octavia_integrator_reconcile_duration_seconds_count{operation=\"apply\",result=\"ready\"} 1",
            "octavia_integrator_provisioning_seconds_bucket{le=\"60.0\"} 1",
            "octavia_integrator_provisioning_seconds_sum 42.0",
            "octavia_integrator_notify_runs_total{result=\"ok\"} 1",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn every_sample_line_is_well_formed() {
        let m = Metrics::new();
        m.observe_api_call("network", "GET ports", "200", 0.1);
        m.observe_reconcile("remove", "error", 0.3);
        for line in m.render().lines() {
            if line.starts_with('#') {
                assert!(line.starts_with("# HELP ") || line.starts_with("# TYPE "));
                continue;
            }
            let (_, value) = line.rsplit_once(' ').expect("name and value");
            assert!(value.parse::<f64>().is_ok(), "bad value in {line:?}");
            assert!(line.starts_with("octavia_integrator_"));
        }
    }
}
