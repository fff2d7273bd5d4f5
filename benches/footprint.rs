//! Footprint benchmark (issue 7): the real `serve` binary holding the two kubernetes-control-
//! plane load balancers, then left idle.
//!
//! - Idle: resident set (VmRSS) and peak (VmHWM), and CPU time used over an idle period of
//!   `OI_BENCH_IDLE_SECS` seconds (default 60; no resync falls in it: the default resync
//!   period is 300 s).
//! - Hook round trip: `octavia-integrator lb-consumers` run as the charm's hook runs it (a new
//!   process, relation data on stdin, the daemon answering over its socket), timed from spawn
//!   to exit, `OI_BENCH_HOOK_RUNS` times (default 20); and the same call without the process
//!   start (the library client in this process), to show what the socket round trip costs.
//!
//! Run: `cargo bench --bench footprint` (prints a table and one `BENCH_JSON` line).

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use octavia_integrator::relation::databag::HookOutput;
use serde_json::json;
use support::*;
use tokio::time::Instant;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn stats(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    json!({
        "runs": v.len(),
        "p50_ms": percentile(&v, 0.5),
        "p95_ms": percentile(&v, 0.95),
        "max_ms": v.last().copied().unwrap_or(f64::NAN),
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let idle_secs = env_f64("OI_BENCH_IDLE_SECS", 60.0);
    let runs = env_sizes("OI_BENCH_HOOK_RUNS", &[20])[0].max(1);
    let sim = start_sim(0.001, 5).await;
    let d = DaemonProcess::start(&sim, 8, true).await;
    let rss_start = rss_kib(Some(d.pid())).unwrap_or_default();

    // The two requests kubernetes-control-plane sends.
    let external = request("api-server-external", 3, true);
    let mut internal = request("api-server-internal", 3, false);
    internal.port_mapping = [(6443, 6443)].into_iter().collect();
    internal.sent_hash = None;
    let internal = internal.sealed();
    let input = hook_input(
        "kubernetes-control-plane",
        &[external, internal],
        Some(Default::default()),
    );
    while hook_answered(d.client(), &input).await < 2 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d.idle().await;

    // Idle period.
    let cpu0 = cpu_secs(Some(d.pid())).unwrap_or_default();
    let calls0 = sim.calls().total();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(idle_secs / 2.0)).await;
    let first_half_calls = sim.calls().total() - calls0;
    tokio::time::sleep(Duration::from_secs_f64(idle_secs / 2.0)).await;
    let idle_real = t0.elapsed().as_secs_f64();
    let idle_cpu = cpu_secs(Some(d.pid())).unwrap_or_default() - cpu0;
    let idle_calls = sim.calls().total() - calls0;
    let idle_routes = sim.calls().since(calls0).by_route();
    let report: octavia_integrator::daemon::api::StatusReport = d
        .client()
        .get(octavia_integrator::daemon::api::STATUS)
        .await
        .expect("status");
    let notes: Vec<String> = report
        .requests
        .iter()
        .map(|r| {
            format!(
                "{}: {} ({})",
                r.request,
                r.answer.as_deref().unwrap_or("no answer"),
                r.note.as_deref().unwrap_or("")
            )
        })
        .collect();
    let rss_idle = rss_kib(Some(d.pid())).unwrap_or_default();
    let hwm = peak_rss_kib(Some(d.pid())).unwrap_or_default();

    // Hook round trips through the CLI binary (new process each time, as a hook does).
    let text = serde_json::to_string(&input).expect("hook input");
    let mut cli_ms = Vec::new();
    let mut cli_ok = 0;
    let mut last_err = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_octavia-integrator"))
            .arg("--config")
            .arg(&d.settings)
            .arg("lb-consumers")
            .env_remove("OCTAVIA_INTEGRATOR_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn lb-consumers");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("lb-consumers output");
        cli_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let answered = serde_json::from_slice::<HookOutput>(&out.stdout)
            .map(|o| {
                o.relations
                    .iter()
                    .flat_map(|r| r.set.keys())
                    .filter(|k| k.starts_with("response_"))
                    .count()
            })
            .unwrap_or(0);
        if out.status.success() && answered == 2 {
            cli_ok += 1;
        } else {
            last_err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        }
    }
    // The same through the library client (no process start).
    let mut lib_ms = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let answered = hook_answered(d.client(), &input).await;
        lib_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(answered, 2);
    }
    d.stop();
    if cli_ok < runs {
        eprintln!(
            "note: {} of {runs} CLI hook runs did not answer both requests through the daemon; \
             last stderr: {last_err}",
            runs - cli_ok
        );
    }

    let cli = stats(cli_ms);
    let lib = stats(lib_ms);
    print_table(
        &format!("Footprint: daemon holding 2 load balancers, idle {idle_secs:.0} s"),
        &["measure", "value"],
        &[
            vec![
                "RSS at start (MiB)".into(),
                format!("{:.1}", rss_start as f64 / 1024.0),
            ],
            vec![
                "RSS idle (MiB)".into(),
                format!("{:.1}", rss_idle as f64 / 1024.0),
            ],
            vec![
                "peak RSS (MiB)".into(),
                format!("{:.1}", hwm as f64 / 1024.0),
            ],
            vec![
                format!("CPU over {idle_real:.0} s idle (s)"),
                format!("{idle_cpu:.3}"),
            ],
            vec![
                "API calls while idle (first half / second half)".into(),
                format!("{first_half_calls} / {}", idle_calls - first_half_calls),
            ],
            vec![
                "hook via CLI process p50 / p95 / max (ms)".into(),
                format!(
                    "{:.1} / {:.1} / {:.1} ({cli_ok}/{runs} answered)",
                    cli["p50_ms"].as_f64().unwrap_or(f64::NAN),
                    cli["p95_ms"].as_f64().unwrap_or(f64::NAN),
                    cli["max_ms"].as_f64().unwrap_or(f64::NAN)
                ),
            ],
            vec![
                "hook via library client p50 / p95 / max (ms)".into(),
                format!(
                    "{:.2} / {:.2} / {:.2}",
                    lib["p50_ms"].as_f64().unwrap_or(f64::NAN),
                    lib["p95_ms"].as_f64().unwrap_or(f64::NAN),
                    lib["max_ms"].as_f64().unwrap_or(f64::NAN)
                ),
            ],
        ],
    );
    print_json(&json!({
        "bench": "footprint",
        "idle_seconds": idle_real,
        "rss_start_kib": rss_start,
        "rss_idle_kib": rss_idle,
        "peak_rss_kib": hwm,
        "idle_cpu_seconds": idle_cpu,
        "idle_api_calls": idle_calls,
        "idle_api_calls_first_half": first_half_calls,
        "idle_api_calls_by_route": idle_routes,
        "status_after_idle": notes,
        "hook_cli": cli,
        "hook_cli_answered_runs": cli_ok,
        "hook_library": lib,
        "machine": machine(),
    }));
    sim.shutdown().await;
}
