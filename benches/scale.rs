//! Scale benchmark (issue 7): many requests through one daemon — the real `serve` binary — on
//! the simulated cloud (amphora-like delays, scaled by `OI_BENCH_SCALE_SIM`, default 0.001:
//! a 60 s boot takes 60 ms; the daemon polls on its production schedule, 1 s × 1.5 capped at
//! 10 s, in real time).
//!
//! Two phases, each: submit the requests in one hook, then (polling the daemon's health, and
//! running the hook again when it is idle or every 10 s) wait until every one is answered (time to converge, API calls by kind, the daemon's peak RSS and CPU time); then a
//! resync of everything, unchanged (API calls, mutations — must be 0 —, CPU time). The second
//! phase doubles the number of load balancers, so the resync's growth per load balancer shows.
//! The converge calls include what the daemon does after each answer: one status tree and one
//! pool PUT per load balancer (the pool's member digest tag), shown apart.
//!
//! Then a hand-over: a second daemon, whose store has learned nothing, becomes the leader and
//! adopts every load balancer; the member digests let it vouch for the members from the pool
//! list, so it costs list calls per page, not a status tree per load balancer.
//!
//! `OI_BENCH_SCALE_N` (default 1000) asks for a size; the run is capped by the simulator's VIP
//! subnet (every load balancer takes one VIP address) and says so.
//!
//! Run: `cargo bench --bench scale` (prints a table and one `BENCH_JSON` line).

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;
use tokio::time::Instant;

/// Internal requests (no floating IP: the simulator's external pool is small), two members
/// each, like an internal API address.
fn requests(from: usize, to: usize) -> Vec<octavia_integrator::relation::Request> {
    (from..to)
        .map(|i| {
            let mut r = request(&format!("lb-{i:04}"), 2, false);
            r.sent_hash = None;
            r.sealed()
        })
        .collect()
}

struct Phase {
    n: usize,
    converge: Duration,
    converge_calls: CallSummary,
    converge_cpu: f64,
    peak_rss_kib: u64,
    resync: Duration,
    resync_calls: CallSummary,
    resync_cpu: f64,
}

async fn converge(
    d: &DaemonProcess,
    sim: &openstack_sim::SimHandle,
    all: &[octavia_integrator::relation::Request],
) -> (Duration, CallSummary, f64) {
    let input = hook_input("scale", all, None);
    let before = sim.calls().total();
    let cpu0 = cpu_secs(Some(d.pid())).unwrap_or_default();
    let t0 = Instant::now();
    // One hook hands every request over; then the daemon's health is polled (one cheap call)
    // and a hook (one answer call per request) runs only when it looks idle, or every 10 s.
    let mut answered = hook_answered(d.client(), &input).await;
    let mut last_hook = Instant::now();
    while answered < all.len() {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = d
            .health()
            .await
            .is_some_and(|h| h.queued == 0 && h.running == 0);
        if idle || last_hook.elapsed() >= Duration::from_secs(10) {
            answered = hook_answered(d.client(), &input).await;
            last_hook = Instant::now();
        }
    }
    let elapsed = t0.elapsed();
    d.idle().await;
    let cpu = cpu_secs(Some(d.pid())).unwrap_or_default() - cpu0;
    (elapsed, CallSummary::of(&sim.calls().since(before)), cpu)
}

async fn resync(d: &DaemonProcess, sim: &openstack_sim::SimHandle) -> (Duration, CallSummary, f64) {
    d.idle().await;
    let before = sim.calls().total();
    let cpu0 = cpu_secs(Some(d.pid())).unwrap_or_default();
    let t0 = Instant::now();
    let _: octavia_integrator::daemon::api::Health = d
        .client()
        .post(octavia_integrator::daemon::api::RESYNC, &json!({}))
        .await
        .expect("resync accepted");
    d.idle().await;
    // Garbage collection runs in the background after the resync: let it finish.
    let mut last = sim.calls().total();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = sim.calls().total();
        if now == last {
            break;
        }
        last = now;
    }
    let elapsed = t0.elapsed();
    let cpu = cpu_secs(Some(d.pid())).unwrap_or_default() - cpu0;
    (elapsed, CallSummary::of(&sim.calls().since(before)), cpu)
}

/// The calls made after the answers for the member digest tags: (status trees, pool PUTs).
fn digest_calls(c: &CallSummary) -> (usize, usize) {
    let get = |route: &str| c.by_route.get(route).copied().unwrap_or(0);
    (
        get("GET /load-balancer/v2/lbaas/loadbalancers/{id}/status"),
        get("PUT /load-balancer/v2/lbaas/pools/{id}"),
    )
}

/// Waits until the simulator has seen no call for 300 ms (background work finished).
async fn settle(sim: &openstack_sim::SimHandle) {
    let mut last = sim.calls().total();
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = sim.calls().total();
        if now == last {
            return;
        }
        last = now;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let scale = env_f64("OI_BENCH_SCALE_SIM", 0.001);
    let wanted = env_sizes("OI_BENCH_SCALE_N", &[1000])[0];
    let sim = start_sim(scale, 7).await;
    let capacity = vip_capacity(&sim);
    let n = wanted.min(capacity.saturating_sub(1)).max(2);
    if n < wanted {
        eprintln!(
            "note: {wanted} load balancers asked, the simulator's VIP subnet holds {capacity}: \
             running {n}"
        );
    }
    let half = n / 2;
    let bench_cpu0 = cpu_secs(None).unwrap_or_default();
    let d = DaemonProcess::start(&sim, 16, false).await;
    let mut phases = Vec::new();
    for size in [half, n] {
        let all = requests(0, size);
        let (converge_t, converge_calls, converge_cpu) = converge(&d, &sim, &all).await;
        let peak = peak_rss_kib(Some(d.pid())).unwrap_or_default();
        let (resync_t, resync_calls, resync_cpu) = resync(&d, &sim).await;
        eprintln!(
            "{size} LBs: converge calls {:?}\nresync calls {:?}",
            converge_calls.by_route, resync_calls.by_route
        );
        phases.push(Phase {
            n: size,
            converge: converge_t,
            converge_calls,
            converge_cpu,
            peak_rss_kib: peak,
            resync: resync_t,
            resync_calls,
            resync_cpu,
        });
    }

    // Hand-over and cold start, with every load balancer in place and unchanged.
    let all = requests(0, n);
    let input = hook_input("scale", &all, None);
    // A second daemon, not the leader, is handed the same requests; it must not call the
    // cloud. Then it becomes the leader (the first steps down) and adopts them all.
    let follower = d.follower(16).await;
    hook_answered(follower.client(), &input).await;
    follower.idle().await;
    let _: octavia_integrator::daemon::api::Health = d
        .client()
        .post(
            octavia_integrator::daemon::api::LEADER,
            &json!({"leader": false}),
        )
        .await
        .expect("step down");
    let before = sim.calls().total();
    let t0 = Instant::now();
    let _: octavia_integrator::daemon::api::Health = follower
        .client()
        .post(
            octavia_integrator::daemon::api::LEADER,
            &json!({"leader": true}),
        )
        .await
        .expect("take over");
    let mut answered = hook_answered(follower.client(), &input).await;
    follower.idle().await;
    while answered < n {
        tokio::time::sleep(Duration::from_millis(200)).await;
        follower.idle().await;
        answered = hook_answered(follower.client(), &input).await;
    }
    settle(&sim).await;
    let handover_t = t0.elapsed();
    let handover = CallSummary::of(&sim.calls().since(before));
    follower.stop();
    let _: octavia_integrator::daemon::api::Health = d
        .client()
        .post(
            octavia_integrator::daemon::api::LEADER,
            &json!({"leader": true}),
        )
        .await
        .expect("lead again");
    hook_answered(d.client(), &input).await;
    d.idle().await;
    settle(&sim).await;

    // Cold start: the leader restarts on its store (which keeps what it learned), then a
    // resync of everything.
    let before = sim.calls().total();
    let t0 = Instant::now();
    let d = d.restart(16).await;
    d.idle().await;
    settle(&sim).await;
    let restart_t = t0.elapsed();
    let restart = CallSummary::of(&sim.calls().since(before));
    let (cold_resync_t, cold_resync, _) = resync(&d, &sim).await;
    let idle_rss = rss_kib(Some(d.pid())).unwrap_or_default();
    eprintln!(
        "hand-over calls {:?}\nrestart calls {:?}\ncold resync calls {:?}",
        handover.by_route, restart.by_route, cold_resync.by_route
    );
    d.stop();
    let pages = n.div_ceil(1000);
    print_table(
        &format!("Hand-over and cold start with {n} unchanged load balancers (Octavia pages of 1000: {pages})"),
        &["what", "s", "calls", "status trees", "mutations", "calls per LB"],
        &[
            ("new leader adopts all (its store learned nothing; member digests on the pools)", handover_t, &handover),
            ("restart of the leader (learned kept), until idle", restart_t, &restart),
            ("resync right after the restart", cold_resync_t, &cold_resync),
        ]
        .iter()
        .map(|(what, t, c)| {
            vec![
                what.to_string(),
                format!("{:.1}", t.as_secs_f64()),
                c.total.to_string(),
                c.by_route
                    .get("GET /load-balancer/v2/lbaas/loadbalancers/{id}/status")
                    .copied()
                    .unwrap_or(0)
                    .to_string(),
                c.mutations.to_string(),
                format!("{:.3}", c.total as f64 / n as f64),
            ]
        })
        .collect::<Vec<_>>(),
    );
    // The simulator runs in this process: its CPU time shows what bounds the wall time here.
    let bench_cpu = cpu_secs(None).unwrap_or_default() - bench_cpu0;
    eprintln!("this process (the simulated cloud and the driver) used {bench_cpu:.1} s of CPU");

    let rows: Vec<Vec<String>> = phases
        .iter()
        .map(|p| {
            let (trees, puts) = digest_calls(&p.converge_calls);
            vec![
                p.n.to_string(),
                format!("{:.1}", p.converge.as_secs_f64()),
                format!(
                    "{} ({} polls, {} mut, {} auth; after the answers {} trees + {} pool PUTs)",
                    p.converge_calls.total,
                    p.converge_calls.polls,
                    p.converge_calls.mutations,
                    p.converge_calls.auths,
                    trees,
                    puts
                ),
                format!("{:.2}", p.converge_cpu),
                format!("{:.1}", p.peak_rss_kib as f64 / 1024.0),
                format!("{:.1}", p.resync.as_secs_f64()),
                format!(
                    "{} ({:.2}/LB)",
                    p.resync_calls.total,
                    p.resync_calls.total as f64 / p.n as f64
                ),
                p.resync_calls.mutations.to_string(),
                format!("{:.2}", p.resync_cpu),
            ]
        })
        .collect();
    print_table(
        &format!(
            "Scale: load balancers through one daemon (real binary, production polling; \
             simulated delays × {scale})"
        ),
        &[
            "LBs (total)",
            "converge s",
            "converge calls",
            "converge CPU s",
            "peak RSS MiB",
            "resync s",
            "resync calls",
            "resync mutations",
            "resync CPU s",
        ],
        &rows,
    );
    print_json(&json!({
        "bench": "scale",
        "sim_scale": scale,
        "asked": wanted,
        "vip_capacity": capacity,
        "simulator_process_cpu_seconds": bench_cpu,
        "machine": machine(),
        "phases": phases.iter().map(|p| json!({
            "load_balancers": p.n,
            "converge_seconds": p.converge.as_secs_f64(),
            "converge_calls": p.converge_calls.json(),
            "converge_digest_status_trees": digest_calls(&p.converge_calls).0,
            "converge_digest_pool_puts": digest_calls(&p.converge_calls).1,
            "converge_cpu_seconds": p.converge_cpu,
            "peak_rss_kib": p.peak_rss_kib,
            "resync_seconds": p.resync.as_secs_f64(),
            "resync_calls": p.resync_calls.json(),
            "resync_mutations": p.resync_calls.mutations,
            "resync_cpu_seconds": p.resync_cpu,
        })).collect::<Vec<_>>(),
        "handover": {"seconds": handover_t.as_secs_f64(), "calls": handover.json()},
        "restart": {"seconds": restart_t.as_secs_f64(), "calls": restart.json()},
        "cold_resync": {"seconds": cold_resync_t.as_secs_f64(), "calls": cold_resync.json()},
        "idle_rss_kib_after_restart": idle_rss,
    }));
    sim.shutdown().await;
}
