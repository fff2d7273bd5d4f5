//! Chaos suite (issue 7): request lifecycles — create, add a member, drop a member, and for
//! two in three a removal — run concurrently through one reconciler while the simulated cloud
//! misbehaves about 20 % of the time:
//!
//! - constant: 500/502/503 (5 % each) and dropped connections (4 %) on every route, 409
//!   conflicts on Octavia creates (3 %);
//! - events from a seeded driver: short windows of latency past the client's timeouts (calls
//!   time out on our side, creates included), token revocation, a load balancer going ERROR,
//!   and out-of-band updates that leave a load balancer PENDING_UPDATE (real "immutable" 409s).
//!
//! Every step is retried until it converges (as the daemon's queue does); at the end, with the
//! faults cleared, every surviving request is answered and the resources carrying our tags
//! are exactly the expected ones: one ACTIVE load balancer per surviving request with its
//! members and floating IP, nothing for removed ones (no leaks, no duplicates).
//!
//! Size: 50 lifecycles on amphora and 20 on OVN (no failover: ERROR means rebuild);
//! `OI_LONG=1`: 200 and 80. Seed: `OI_SEED` (default fixed).

mod common;
mod crash_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use crash_support::*;
use octavia_integrator::reconcile::{Options, Outcome, Reconciler, RepairPolicy};
use octavia_integrator::relation::v1::{HealthCheck, Protocol, Request};
use octavia_integrator::spec::LbIdentity;
use openstack::load_balancer::load_balancers::{self, UpdateLoadBalancer};
use openstack::session::Timeouts;
use openstack::wait::WaitPolicy;
use openstack::Session;
use openstack_sim::{DropRule, ErrorRule, FaultPlan, LatencyRule, Provider, RouteMatch, SimHandle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SCALE: f64 = 0.0005;
const APP: &str = "chaos";

fn seed() -> u64 {
    std::env::var("OI_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_126)
}

fn lifecycles() -> usize {
    if std::env::var_os("OI_LONG").is_some() {
        200
    } else {
        50
    }
}

/// A session with short timeouts (so latency windows make calls time out) and the
/// production retry shape, scaled.
fn session(sim: &SimHandle) -> Session {
    common::session_with_timeouts(
        sim,
        Timeouts {
            read: Some(Duration::from_millis(400)),
            write: Some(Duration::from_millis(400)),
            long_write: Some(Duration::from_millis(800)),
            connect: Some(Duration::from_millis(400)),
            idle: Some(Duration::from_secs(5)),
        },
    )
}

fn options() -> Options {
    Options {
        wait: WaitPolicy {
            initial: Duration::from_millis(2),
            factor: 1.5,
            cap: Duration::from_millis(10),
            jitter: 0.0,
            budget: Duration::from_secs(5),
        },
        repair: RepairPolicy {
            max_attempts: 6,
            backoff: Duration::ZERO,
            cap: Duration::from_millis(50),
        },
        concurrency: 8,
    }
}

/// The constant 20 % background: 5xx and dropped connections everywhere, 409 on creates.
fn background() -> FaultPlan {
    let mut plan = FaultPlan::default();
    for status in [500, 502, 503] {
        plan.errors.push(ErrorRule {
            on: RouteMatch::any(),
            status,
            rate: 0.05,
            times: None,
        });
    }
    plan.errors.push(ErrorRule {
        on: RouteMatch::new("POST", "/load-balancer/*"),
        status: 409,
        rate: 0.03,
        times: None,
    });
    plan.drops.push(DropRule {
        on: RouteMatch::any(),
        rate: 0.04,
        times: None,
    });
    plan
}

/// Applies until the request is answered with an address (bounded).
async fn converge(rec: &Reconciler, key: &LbIdentity, req: &Request) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..400 {
        match rec.apply(key, req).await {
            Outcome::Ready(r) => return Ok(r.address),
            other => last = format!("{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err(format!("{key} never converged; last outcome {last}"))
}

/// Removes until it succeeds (bounded).
async fn remove(rec: &Reconciler, key: &LbIdentity) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..400 {
        match rec.remove(key).await {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err(format!("{key} never removed; last error {last}"))
}

/// The request of lifecycle `name`: the kubernetes-control-plane shape; on OVN (TCP monitors
/// only) with a TCP health check.
fn ask(provider: Provider, name: &str, members: &[String], public: bool) -> Request {
    let mut r = request(name, 443, members, public);
    if provider == Provider::Ovn {
        r.health_checks = vec![HealthCheck::new(Protocol::Tcp, 6443)];
        r.sent_hash = None;
        r = r.sealed();
    }
    r
}

/// One lifecycle; returns what should remain (members) or `None` when removed.
async fn lifecycle(
    rec: Arc<Reconciler>,
    provider: Provider,
    i: usize,
) -> Result<Option<BTreeSet<String>>, String> {
    let name = format!("lb-{i:03}");
    let key = LbIdentity::new(APP, &name);
    let base: Vec<String> = (0..3).map(|m| member(i % 7 + m)).collect();
    let public = i.is_multiple_of(2);
    converge(&rec, &key, &ask(provider, &name, &base, public)).await?;
    let mut more = base.clone();
    more.push(member(i % 7 + 3));
    converge(&rec, &key, &ask(provider, &name, &more, public)).await?;
    let fewer: Vec<String> = more[1..].to_vec();
    converge(&rec, &key, &ask(provider, &name, &fewer, public)).await?;
    if i.is_multiple_of(3) {
        Ok(Some(fewer.into_iter().collect()))
    } else {
        remove(&rec, &key).await?;
        Ok(None)
    }
}

/// The seeded chaos driver: every few milliseconds, one event.
async fn driver(sim: Arc<SimHandle>, seed: u64, stop: tokio::sync::watch::Receiver<bool>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let session = session(&sim);
    let mut events = BTreeMap::<&str, usize>::new();
    while !*stop.borrow() {
        tokio::time::sleep(Duration::from_millis(rng.random_range(5..25))).await;
        let live: Vec<String> = live_lbs(&sim)
            .iter()
            .filter(|lb| lb["provisioning_status"].as_str() == Some("ACTIVE"))
            .filter_map(|lb| lb["id"].as_str().map(str::to_string))
            .collect();
        match rng.random_range(0..10) {
            0 | 1 => {
                // Latency past the client's timeouts on one service, for a short window.
                let route = if rng.random_bool(0.5) {
                    "/load-balancer/*"
                } else {
                    "/networking/*"
                };
                let mut plan = sim.faults().plan();
                plan.latency.push(LatencyRule {
                    on: RouteMatch {
                        method: None,
                        route: route.into(),
                    },
                    // 1000 simulated seconds = 500 ms real: past every timeout above.
                    seconds: 1000.0,
                });
                sim.faults().set(plan);
                tokio::time::sleep(Duration::from_millis(rng.random_range(20..120))).await;
                let mut plan = sim.faults().plan();
                plan.latency.clear();
                sim.faults().set(plan);
                *events.entry("timeout window").or_default() += 1;
            }
            2 => {
                sim.faults().revoke_tokens();
                *events.entry("token revocation").or_default() += 1;
            }
            3 | 4 if !live.is_empty() => {
                let id = &live[rng.random_range(0..live.len())];
                sim.faults().load_balancer_error(id, false);
                *events.entry("load balancer ERROR").or_default() += 1;
            }
            5 | 6 if !live.is_empty() => {
                // Someone else touches the load balancer (same description): PENDING_UPDATE
                // for a while, so our next change meets a real "immutable" 409.
                let id = &live[rng.random_range(0..live.len())];
                if let Ok(lb) = load_balancers::get(&session, id).await {
                    let _ = load_balancers::update(
                        &session,
                        id,
                        &UpdateLoadBalancer {
                            description: Some(lb.description.clone()),
                            ..UpdateLoadBalancer::default()
                        },
                    )
                    .await;
                    *events.entry("out-of-band update").or_default() += 1;
                }
            }
            _ => {}
        }
    }
    eprintln!("chaos events: {events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amphora_lifecycles_converge_under_faults_without_leaks_or_duplicates() {
    chaos(Provider::Amphora, lifecycles()).await;
}

/// OVN has no failover: a load balancer in ERROR is rebuilt (cascade delete + create).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ovn_lifecycles_converge_under_faults_without_leaks_or_duplicates() {
    chaos(Provider::Ovn, lifecycles() * 2 / 5).await;
}

async fn chaos(provider: Provider, n: usize) {
    let seed = seed();
    let sim = Arc::new(start_sim(provider, SCALE, seed).await);
    sim.faults().set(background());
    let rec = Arc::new(Reconciler::from_site(
        session(&sim),
        common::sim_setup::site(&sim, CLUSTER, provider),
        "ROUND_ROBIN",
        true,
        options(),
    ));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let chaos = tokio::spawn(driver(sim.clone(), seed ^ 0xc4a0_5eed, stop_rx));

    // Lifecycles, 8 at a time, started in a seeded order.
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let gate = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = Vec::new();
    for i in order {
        let (rec, gate) = (rec.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore");
            (i, lifecycle(rec, provider, i).await)
        }));
    }
    let mut expected = Expected::new();
    let mut failures = Vec::new();
    for t in tasks {
        let (i, result) = t.await.expect("lifecycle task");
        match result {
            Ok(Some(members)) => {
                expected.insert(
                    (APP.into(), format!("lb-{i:03}")),
                    (members, i.is_multiple_of(2)),
                );
            }
            Ok(None) => {}
            Err(e) => failures.push(e),
        }
    }
    let _ = stop_tx.send(true);
    chaos.await.expect("driver");
    assert!(failures.is_empty(), "under faults: {failures:#?}");
    let faults_hit = sim
        .calls()
        .records
        .iter()
        .filter(|r| r.status >= 500 || r.status == 0 || r.status == 409)
        .count();
    let total = sim.calls().total();

    // Calm: clear the faults (an ERROR may still be due on an idle load balancer), converge
    // every surviving request once more, then compare the cloud with what is expected.
    sim.faults().clear();
    for (app, name) in expected.keys() {
        let key = LbIdentity::new(app, name);
        let i: usize = name[3..].parse().expect("index");
        let members: Vec<String> = expected[&(app.clone(), name.clone())]
            .0
            .iter()
            .cloned()
            .collect();
        converge(
            &rec,
            &key,
            &ask(provider, name, &members, i.is_multiple_of(2)),
        )
        .await
        .expect("converges once calm");
    }
    let problems = cloud_differences(&sim, &expected);
    assert!(
        problems.is_empty(),
        "after {n} lifecycles ({faults_hit} of {total} calls faulted): {problems:#?}"
    );
    assert!(
        faults_hit * 10 >= total,
        "the faults must actually bite: {faults_hit} of {total} calls"
    );
    eprintln!("{provider}: {n} lifecycles, {total} calls, {faults_hit} faulted");
}
