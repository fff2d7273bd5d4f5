//! Convergence benchmark (issue 7): one request → its answer, against the simulated cloud with
//! amphora-like delays (create 60 s, each change 5 s; scaled by `OI_BENCH_SCALE`, default
//! 0.05), for N members (`OI_BENCH_SIZES`, default 3,10,50):
//!
//! - **ours**: `Reconciler::apply` (one fully populated POST, one wait, the floating IP);
//! - **serial**: the one-call-at-a-time strategy, written here with the same client and the
//!   same poll schedule: LB → wait → listener → wait → pool → wait → each member → wait →
//!   monitor → wait → floating IP.
//!
//! Reported for both, and as ratios: time to the answer (simulated seconds), overshoot past
//! the moment the simulated load balancer really went ACTIVE for the last time (simulated
//! seconds; it includes the floating-IP calls made after it) with, in brackets, the poll lag
//! (ACTIVE → the client's first call after noticing it), excess over the provisioning floor (the sum of the provider's delays the strategy
//! incurs: every poll lag and call on the way), and API calls (total, status polls, other
//! reads, mutations, auths, by route).
//! Then member churn on the converged load balancers: add one member, remove one; and the
//! same create (3 members) polled on our schedule and on OCCM's (1 s × 1.2, uncapped) for boot
//! times `OI_BENCH_BOOTS` (default 30,60,90,120,300 simulated seconds): the detection lag.
//!
//! Run: `cargo bench --bench convergence` (prints a table and one `BENCH_JSON` line).

mod support;

use std::sync::Arc;
use std::time::Duration;

use octavia_integrator::reconcile::Outcome;
use octavia_integrator::spec::LbIdentity;
use openstack::load_balancer::enums::{LbAlgorithm, MonitorType, Protocol};
use openstack::load_balancer::health_monitors::{self, CreateHealthMonitor};
use openstack::load_balancer::listeners::{self, CreateListener};
use openstack::load_balancer::load_balancers::{self, CreateLoadBalancer};
use openstack::load_balancer::members::{self, CreateMember};
use openstack::load_balancer::pools::{self, CreatePool, PoolParent};
use openstack::network::floating_ips::{self, CreateFloatingIp};
use openstack::wait::{wait_until, Goal, WaitPolicy};
use openstack::{Error, Session};
use openstack_sim::SimHandle;
use serde_json::json;
use support::*;
use tokio::time::Instant;

/// One measured run.
struct Run {
    /// Request → answer, real time.
    elapsed: Duration,
    /// Answer − last ACTIVE transition, real time.
    overshoot: Duration,
    /// The client noticing that ACTIVE − the transition (poll lag), real time.
    lag: Duration,
    calls: CallSummary,
}

impl Run {
    fn json(&self, scale: f64) -> serde_json::Value {
        json!({
            "sim_seconds": sim_secs(self.elapsed, scale),
            "real_ms": self.elapsed.as_secs_f64() * 1000.0,
            "overshoot_sim_seconds": sim_secs(self.overshoot, scale),
            "poll_lag_sim_seconds": sim_secs(self.lag, scale),
            "calls": self.calls.json(),
        })
    }
}

/// Runs `work` against a fresh simulator, timing it and locating the ACTIVE moment.
async fn measure<F, Fut>(sim: Arc<SimHandle>, work: F) -> Run
where
    F: FnOnce(Arc<SimHandle>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let watcher = Watcher::start(sim.clone());
    let before = sim.calls().total();
    let t0 = Instant::now();
    work(sim.clone()).await;
    let t1 = Instant::now();
    // Let the watcher take one more sample so a transition right before t1 is seen.
    tokio::time::sleep(Duration::from_millis(3)).await;
    let active = watcher.last_active(t1).unwrap_or(t1);
    let noticed = watcher.noticed(active).unwrap_or(t1).min(t1);
    watcher.stop();
    Run {
        elapsed: t1 - t0,
        overshoot: t1.saturating_duration_since(active),
        lag: noticed.saturating_duration_since(active),
        calls: CallSummary::of(&sim.calls().since(before)),
    }
}

/// Waits for the load balancer to be ACTIVE with the shared poll schedule.
async fn wait_active(session: &Session, lb_id: &str, policy: &WaitPolicy) -> Result<(), Error> {
    wait_until(
        format!("load balancer {lb_id}"),
        || async {
            let lb = load_balancers::get(session, lb_id).await?;
            Ok::<_, Error>(lb.provisioning_status.as_str().to_string())
        },
        Goal::Active,
        policy,
        std::future::pending::<()>(),
    )
    .await
    .map(|_| ())
}

/// The serial strategy's state after a create: what the churn step needs.
struct SerialLb {
    lb_id: String,
    pool_id: String,
}

/// LB → wait → listener → wait → pool → wait → each member → wait → monitor → wait → FIP.
async fn serial_create(
    session: &Session,
    sim: &SimHandle,
    n: usize,
    policy: &WaitPolicy,
) -> Result<SerialLb, Error> {
    let ids = sim.seed_ids();
    let lb = load_balancers::create(
        session,
        &CreateLoadBalancer {
            name: Some("serial-api-server-external".into()),
            vip_subnet_id: Some(ids.vip_subnet_id.clone()),
            provider: Some("amphora".into()),
            ..CreateLoadBalancer::default()
        },
    )
    .await?;
    wait_active(session, &lb.id, policy).await?;
    let listener =
        listeners::create(session, &lb.id, &CreateListener::new(Protocol::Tcp, 443)).await?;
    wait_active(session, &lb.id, policy).await?;
    let pool = pools::create(
        session,
        &PoolParent::Listener(listener.id.clone()),
        &CreatePool::new(Protocol::Tcp, LbAlgorithm::RoundRobin),
    )
    .await?;
    wait_active(session, &lb.id, policy).await?;
    for i in 0..n {
        let mut m = CreateMember::new(member(i), 6443);
        m.subnet_id = Some(ids.vip_subnet_id.clone());
        members::create(session, &pool.id, &m).await?;
        wait_active(session, &lb.id, policy).await?;
    }
    let mut hm = CreateHealthMonitor::new(MonitorType::Http, 10, 5, 3);
    hm.url_path = Some("/livez".into());
    health_monitors::create(session, &pool.id, &hm).await?;
    wait_active(session, &lb.id, policy).await?;
    floating_ips::create(
        session,
        &CreateFloatingIp {
            floating_network_id: ids.external_network_id.clone(),
            port_id: lb.vip_port_id.clone(),
            ..CreateFloatingIp::default()
        },
    )
    .await?;
    Ok(SerialLb {
        lb_id: lb.id,
        pool_id: pool.id,
    })
}

/// Serial churn: add one member (POST + wait), then remove it (list to find it, DELETE + wait).
async fn serial_add(
    session: &Session,
    sim: &SimHandle,
    lb: &SerialLb,
    i: usize,
    policy: &WaitPolicy,
) -> Result<(), Error> {
    let mut m = CreateMember::new(member(i), 6443);
    m.subnet_id = Some(sim.seed_ids().vip_subnet_id);
    members::create(session, &lb.pool_id, &m).await?;
    wait_active(session, &lb.lb_id, policy).await
}

async fn serial_remove(
    session: &Session,
    lb: &SerialLb,
    i: usize,
    policy: &WaitPolicy,
) -> Result<(), Error> {
    let address = member(i);
    let found = members::list(session, &lb.pool_id).await?;
    if let Some(m) = found.iter().find(|m| m.address == address) {
        members::delete(session, &lb.pool_id, &m.id).await?;
        wait_active(session, &lb.lb_id, policy).await?;
    }
    Ok(())
}

fn ready(outcome: &Outcome) {
    assert!(
        matches!(outcome, Outcome::Ready(_)),
        "the benchmark expects a converged request, got {outcome:?}"
    );
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; any other argument filters nothing here.
    let scale = scale();
    let sizes = env_sizes("OI_BENCH_SIZES", &[3, 10, 50]);
    let policy = poll_policy(scale);
    let mut rows = Vec::new();
    let mut churn_rows = Vec::new();
    let mut results = Vec::new();
    for (round, &n) in sizes.iter().enumerate() {
        let seed = 100 + round as u64;
        let key = LbIdentity::new("kubernetes-control-plane", "api-server-external");
        let req = request("api-server-external", n, true);

        // Ours.
        let sim = Arc::new(start_sim(scale, seed).await);
        let rec = Arc::new(reconciler(&sim, scale, 8));
        let ours = {
            let (rec, key, req) = (rec.clone(), key.clone(), req.clone());
            measure(sim.clone(), |_| async move {
                ready(&rec.apply(&key, &req).await)
            })
            .await
        };
        let mut bigger = req.clone();
        bigger.backends.push(member(n));
        let bigger = bigger.sealed();
        let ours_add = {
            let (rec, key, bigger) = (rec.clone(), key.clone(), bigger.clone());
            measure(sim.clone(), |_| async move {
                ready(&rec.apply(&key, &bigger).await)
            })
            .await
        };
        let ours_remove = {
            let (rec, key, req) = (rec.clone(), key.clone(), req.clone());
            measure(sim.clone(), |_| async move {
                ready(&rec.apply(&key, &req).await)
            })
            .await
        };
        drop(rec);
        if let Ok(sim) = Arc::try_unwrap(sim) {
            sim.shutdown().await;
        }

        // Serial, same client, same poll schedule.
        let sim = Arc::new(start_sim(scale, seed).await);
        let session = Arc::new(session(&sim));
        let lb = Arc::new(tokio::sync::Mutex::new(None));
        let serial = {
            let (session, policy, lb) = (session.clone(), policy.clone(), lb.clone());
            measure(sim.clone(), |sim| async move {
                let made = serial_create(&session, &sim, n, &policy)
                    .await
                    .expect("serial create converges");
                *lb.lock().await = Some(made);
            })
            .await
        };
        let made = lb.lock().await.take().expect("serial load balancer");
        let made = Arc::new(made);
        let serial_add_run = {
            let (session, policy, made) = (session.clone(), policy.clone(), made.clone());
            measure(sim.clone(), |sim| async move {
                serial_add(&session, &sim, &made, n, &policy)
                    .await
                    .expect("serial member add");
            })
            .await
        };
        let serial_remove_run = {
            let (session, policy, made) = (session.clone(), policy.clone(), made.clone());
            measure(sim.clone(), |_| async move {
                serial_remove(&session, &made, n, &policy)
                    .await
                    .expect("serial member remove");
            })
            .await
        };
        drop(session);
        if let Ok(sim) = Arc::try_unwrap(sim) {
            sim.shutdown().await;
        }

        let t_ours = sim_secs(ours.elapsed, scale);
        let t_serial = sim_secs(serial.elapsed, scale);
        // The least any client could take: the provisioning itself (one create; serial adds a
        // change per listener, pool, member and monitor).
        let floor_ours = AMPHORA.create;
        let floor_serial = AMPHORA.create + (n as f64 + 3.0) * AMPHORA.update;
        rows.push(vec![
            n.to_string(),
            f1(t_ours),
            f1(t_serial),
            format!("{:.2}", ratio(t_serial, t_ours)),
            format!(
                "{} ({})",
                f1(sim_secs(ours.overshoot, scale)),
                f1(sim_secs(ours.lag, scale))
            ),
            format!(
                "{} ({})",
                f1(sim_secs(serial.overshoot, scale)),
                f1(sim_secs(serial.lag, scale))
            ),
            f1(t_ours - floor_ours),
            f1(t_serial - floor_serial),
            format!(
                "{} ({}p/{}m)",
                ours.calls.total, ours.calls.polls, ours.calls.mutations
            ),
            format!(
                "{} ({}p/{}m)",
                serial.calls.total, serial.calls.polls, serial.calls.mutations
            ),
            format!(
                "{:.2}",
                ratio(serial.calls.total as f64, ours.calls.total as f64)
            ),
        ]);
        for (what, o, s) in [
            ("add one", &ours_add, &serial_add_run),
            ("remove one", &ours_remove, &serial_remove_run),
        ] {
            churn_rows.push(vec![
                n.to_string(),
                what.to_string(),
                f1(sim_secs(o.elapsed, scale)),
                f1(sim_secs(s.elapsed, scale)),
                format!("{} ({}m)", o.calls.total, o.calls.mutations),
                format!("{} ({}m)", s.calls.total, s.calls.mutations),
            ]);
        }
        results.push(json!({
            "members": n,
            "ours": ours.json(scale),
            "serial": serial.json(scale),
            "ratio_time_serial_over_ours": ratio(t_serial, t_ours),
            "provisioning_floor_sim_seconds": {"ours": floor_ours, "serial": floor_serial},
            "excess_sim_seconds": {"ours": t_ours - floor_ours, "serial": t_serial - floor_serial},
            "ratio_calls_serial_over_ours": ratio(serial.calls.total as f64, ours.calls.total as f64),
            "churn": {
                "ours_add": ours_add.json(scale),
                "ours_remove": ours_remove.json(scale),
                "serial_add": serial_add_run.json(scale),
                "serial_remove": serial_remove_run.json(scale),
            },
        }));
        eprintln!(
            "N={n}: ours by route {:?}\nN={n}: serial by route {:?}",
            ours.calls.by_route, serial.calls.by_route
        );
    }
    print_table(
        &format!(
            "Convergence: request → answer, amphora-like delays (create 60 s, change 5 s), \
             simulated seconds (scale {scale})"
        ),
        &[
            "members",
            "ours s",
            "serial s",
            "time ×",
            "ours overshoot s (poll lag)",
            "serial overshoot s (poll lag)",
            "ours excess s",
            "serial excess s",
            "ours calls (polls/mutations)",
            "serial calls (polls/mutations)",
            "calls ×",
        ],
        &rows,
    );
    print_table(
        "Member churn on the converged load balancer (simulated seconds; calls incl. mutations)",
        &[
            "members",
            "change",
            "ours s",
            "serial s",
            "ours calls",
            "serial calls",
        ],
        &churn_rows,
    );
    // Detection: the same create (3 members) polled on our schedule and on OCCM's, for
    // several boot times: how long after ACTIVE each notices it.
    let boots = env_sizes("OI_BENCH_BOOTS", &[30, 60, 90, 120, 300]);
    let mut detect_rows = Vec::new();
    let mut detect = Vec::new();
    for (j, &boot) in boots.iter().enumerate() {
        let mut lags = Vec::new();
        for policy in [poll_policy(scale), occm_poll_policy(scale)] {
            let sim = Arc::new(start_sim(scale, 500 + j as u64).await);
            sim.faults().delays(
                openstack_sim::Provider::Amphora,
                openstack_sim::Delays {
                    create: boot as f64,
                    ..AMPHORA
                },
            );
            let rec = Arc::new(reconciler(&sim, scale, 8).with_options(
                octavia_integrator::reconcile::Options {
                    wait: policy,
                    ..options(scale, 8)
                },
            ));
            let key = LbIdentity::new("kubernetes-control-plane", "api-server-external");
            let req = request("api-server-external", 3, true);
            let run = {
                let rec = rec.clone();
                measure(sim.clone(), |_| async move {
                    ready(&rec.apply(&key, &req).await)
                })
                .await
            };
            drop(rec);
            if let Ok(sim) = Arc::try_unwrap(sim) {
                sim.shutdown().await;
            }
            lags.push(run);
        }
        let (ours, occm) = (&lags[0], &lags[1]);
        detect_rows.push(vec![
            boot.to_string(),
            format!(
                "{} / {} polls",
                f1(sim_secs(ours.lag, scale)),
                ours.calls.polls
            ),
            format!(
                "{} / {} polls",
                f1(sim_secs(occm.lag, scale)),
                occm.calls.polls
            ),
        ]);
        detect.push(json!({
            "boot_sim_seconds": boot,
            "ours": ours.json(scale),
            "occm_schedule": occm.json(scale),
        }));
    }
    print_table(
        "Detection: poll lag after ACTIVE (simulated s) / status polls; our schedule \
         (1 s × 1.5, cap 10 s) vs OCCM's (1 s × 1.2, uncapped), same client",
        &["boot s", "ours", "OCCM schedule"],
        &detect_rows,
    );
    print_json(&json!({
        "bench": "convergence",
        "scale": scale,
        "delays_sim_seconds": {"create": AMPHORA.create, "update": AMPHORA.update},
        "poll": {"initial_s": 1.0, "factor": 1.5, "cap_s": 10.0, "jitter": 0.0},
        "machine": machine(),
        "results": results,
        "detection": detect,
    }));
}
