//! Crash suite (issue 7): the real `octavia-integrator serve` binary is killed with SIGKILL at
//! seeded moments while it works, restarted, and must converge: no duplicate load balancer, no
//! leaked floating IP, security group or load balancer, no lost request.
//!
//! Each round changes what is asked (a new request, a member change, a public ↔ internal
//! switch, or a removal), hands it to the daemon through the hook (the daemon persists it
//! before it answers), then kills the daemon at a seeded point of its cloud work:
//! - after the k-th further cloud call, as soon as it is seen;
//! - with the k-th call stalled (never answered) — killed while waiting on the cloud;
//! - with every call from the k-th on executed but its answer dropped — killed after it
//!   created things whose ids it never learned.
//!
//! After the restart the hooks run until every current request is answered with its current
//! hash, then the cloud is compared with what is asked (by our tags).
//!
//! Size: 10 rounds; `OI_LONG=1`: 50. Seed: `OI_SEED` (default fixed). The simulated cloud
//! runs in this process; the daemon polls on its production schedule (real seconds), so a
//! round takes one to a few seconds.

mod crash_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use crash_support::*;
use octavia_integrator::daemon::DaemonClient;
use octavia_integrator::hook;
use octavia_integrator::relation::databag::HookInput;
use octavia_integrator::relation::v1::Request;
use octavia_integrator::relation::Interface;
use openstack_sim::{CutOffMode, Provider, SimHandle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const APP: &str = "crashy";
const RELATION: u64 = 3;

fn seed() -> u64 {
    std::env::var("OI_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(9_090_909)
}

fn rounds() -> usize {
    if std::env::var_os("OI_LONG").is_some() {
        50
    } else {
        10
    }
}

/// What is asked: request name → (members, public).
type Wanted = BTreeMap<String, (BTreeSet<String>, bool)>;

fn requests(wanted: &Wanted) -> Vec<Request> {
    wanted
        .iter()
        .map(|(name, (members, public))| {
            let members: Vec<String> = members.iter().cloned().collect();
            request(name, 443, &members, *public)
        })
        .collect()
}

fn input(wanted: &Wanted, local: &Local) -> HookInput {
    HookInput {
        relations: vec![relation(RELATION, APP, &requests(wanted), local)],
    }
}

/// One hook run of each endpoint, as the charm's hooks do (the legacy endpoint has no
/// relations; running it tells the daemon that interface holds no request, which lets it
/// collect garbage).
async fn hooks(client: &DaemonClient, wanted: &Wanted, local: &mut Local) {
    let result = hook_via(client.clone(), &input(wanted, local)).await;
    apply_writes(local, &result.output);
    let answerer =
        octavia_integrator::daemon::DaemonAnswerer::new(client.clone(), Interface::PublicAddress);
    let _ = hook::public_address(&HookInput::default(), &answerer, 6443).await;
}

/// Changes what is asked, seeded.
fn mutate(rng: &mut StdRng, wanted: &mut Wanted, next: &mut usize) -> String {
    let all: Vec<String> = (0..3).map(member).collect();
    // Weights: create 35 %, member change 25 %, public switch 20 %, removal 20 %; at most
    // four requests at once.
    let roll = rng.random_range(0..100);
    let choice = if wanted.is_empty() || (roll < 35 && wanted.len() < 4) {
        0
    } else if roll < 60 {
        1
    } else if roll < 80 {
        2
    } else {
        3
    };
    match choice {
        0 => {
            let name = format!("api-{next}");
            *next += 1;
            let public = rng.random_bool(0.5);
            wanted.insert(name.clone(), (all.iter().cloned().collect(), public));
            format!("create {name} (public {public})")
        }
        1 => {
            let names: Vec<String> = wanted.keys().cloned().collect();
            let name = names[rng.random_range(0..names.len())].clone();
            let entry = wanted.get_mut(&name).expect("present");
            if entry.0.len() == 3 {
                let drop = all[rng.random_range(0..3)].clone();
                entry.0.remove(&drop);
                format!("{name}: drop member {drop}")
            } else {
                entry.0 = all.iter().cloned().collect();
                format!("{name}: back to three members")
            }
        }
        2 => {
            let names: Vec<String> = wanted.keys().cloned().collect();
            let name = names[rng.random_range(0..names.len())].clone();
            let entry = wanted.get_mut(&name).expect("present");
            entry.1 = !entry.1;
            format!("{name}: public = {}", entry.1)
        }
        _ => {
            let names: Vec<String> = wanted.keys().cloned().collect();
            let name = names[rng.random_range(0..names.len())].clone();
            wanted.remove(&name);
            format!("remove {name}")
        }
    }
}

fn expected(wanted: &Wanted) -> Expected {
    wanted
        .iter()
        .map(|(name, (members, public))| {
            ((APP.to_string(), name.clone()), (members.clone(), *public))
        })
        .collect()
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Runs the hooks until every request is answered and the cloud matches; bounded.
async fn converge(
    sim: &SimHandle,
    d: &DaemonProcess,
    wanted: &Wanted,
    local: &mut Local,
    log: &Path,
    what: &str,
) {
    let want = BTreeMap::from([(RELATION, requests(wanted))]);
    let client = d.client();
    let mut problems = Vec::new();
    for _ in 0..1200 {
        hooks(&client, wanted, local).await;
        if all_answered(local, &want) {
            problems = cloud_differences(sim, &expected(wanted));
            if problems.is_empty() {
                // Removed requests: their old responses are unset too.
                let published: BTreeSet<String> = local
                    .get(&RELATION)
                    .map(|d| {
                        d.keys()
                            .filter_map(|k| k.strip_prefix("response_").map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let asked: BTreeSet<String> = wanted.keys().cloned().collect();
                if published == asked {
                    return;
                }
                problems = vec![format!("published {published:?}, asked {asked:?}")];
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{what}: never converged: {problems:#?}\nstatus: {:?}\ndaemon log tail:\n{}",
        status(&client).await,
        log_tail(log)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_seeded_moments_then_restart_converges_without_duplicates_or_leaks() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let sim = start_sim(Provider::Amphora, 0.001, seed).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = write_settings(&sim, dir.path(), None);
    let log = dir.path().join("daemon.log");
    let mut daemon = DaemonProcess::start(&paths, &log, "info").await;
    let mut wanted = Wanted::new();
    let mut local = Local::new();
    let mut next = 0;
    let mut history = Vec::new();
    for round in 0..rounds() {
        let change = mutate(&mut rng, &mut wanted, &mut next);
        let k = rng.random_range(1..12usize);
        let mode = rng.random_range(0..3);
        history.push(format!(
            "round {round}: {change}; kill mode {mode} after {k} calls"
        ));
        let before = sim.calls().total();
        match mode {
            1 => sim.faults().cut_off_after(k as u32, CutOffMode::Stall),
            2 => sim
                .faults()
                .cut_off_after(k as u32, CutOffMode::DropAfterExecute),
            _ => {}
        }
        // Hand the change to the daemon (it persists it, then works in the background).
        hooks(&daemon.client(), &wanted, &mut local).await;
        // Wait for the seeded moment: the k-th further call (the cut one, in modes 1 and 2),
        // or the daemon going idle if the change needs fewer calls.
        for _ in 0..2000 {
            if sim.calls().total() >= before + k + usize::from(mode != 0) {
                break;
            }
            if let Ok(h) = daemon
                .client()
                .get::<octavia_integrator::daemon::api::Health>(
                    octavia_integrator::daemon::api::HEALTH,
                )
                .await
            {
                if h.queued == 0 && h.running == 0 && sim.calls().total() > before {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        daemon.kill9();
        sim.faults().clear();
        daemon = DaemonProcess::start(&paths, &log, "info").await;
        converge(
            &sim,
            &daemon,
            &wanted,
            &mut local,
            &log,
            &format!("round {round} ({change}, mode {mode}, k {k}); history {history:#?}"),
        )
        .await;
    }
    assert!(daemon.terminate(), "serve exits 0 on SIGTERM at the end");
    let problems = cloud_differences(&sim, &expected(&wanted));
    assert!(problems.is_empty(), "{problems:#?}");
    eprintln!("{}", history.join("\n"));
    sim.shutdown().await;
}
