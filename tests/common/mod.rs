//! Shared helpers for root-crate integration tests: start the simulated cloud, open a session
//! to it, build a reconciler, write requests. Each test binary uses a subset.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use octavia_integrator::reconcile::{Options, Reconciler, RepairPolicy};
use octavia_integrator::relation::v1::{HealthCheck, Protocol, Request};
use octavia_integrator::spec::{request_tag, LbIdentity, Site};
use openstack::session::{RetryPolicy, Timeouts};
use openstack::wait::WaitPolicy;
use openstack::Session;
use openstack_sim::{Provider, Sim, SimHandle};

pub mod sim_setup;
#[allow(unused_imports)] // each test binary uses a subset
pub use sim_setup::{session_config, settings};

/// Real seconds per simulated second: amphora's ~60 s boot takes ~30 ms.
pub const SCALE: f64 = 0.0005;

/// The cluster id tests use.
pub const CLUSTER: &str = "test";

/// Starts the simulator with `provider` as the default provider and scaled delays.
pub async fn start_sim(provider: Provider) -> SimHandle {
    Sim::builder()
        .provider(provider)
        .delay_scale(SCALE)
        .seed(7)
        .build()
        .start()
        .await
        .expect("the simulator starts on loopback")
}

/// A fresh session to the simulator: short timeouts and fast retries (the cloud is local).
pub fn session(sim: &SimHandle) -> Session {
    session_with_timeouts(
        sim,
        Timeouts {
            read: Some(Duration::from_secs(2)),
            write: Some(Duration::from_secs(2)),
            long_write: Some(Duration::from_secs(4)),
            connect: Some(Duration::from_secs(2)),
            idle: Some(Duration::from_secs(5)),
        },
    )
}

/// A session to the simulator with the given timeouts and fast, unjittered retries.
pub fn session_with_timeouts(sim: &SimHandle, timeouts: Timeouts) -> Session {
    let mut config = sim_setup::session_config(sim);
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        conflict_base_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(50),
        jitter: false,
    };
    config.timeouts = timeouts;
    Session::new(config).expect("a session to the simulator")
}

/// Poll timing scaled like the simulator; a generous budget (it is never reached unless a
/// test wants it).
pub fn options() -> Options {
    Options {
        wait: WaitPolicy {
            initial: Duration::from_millis(2),
            factor: 1.5,
            cap: Duration::from_millis(10),
            jitter: 0.0,
            budget: Duration::from_secs(20),
        },
        repair: RepairPolicy {
            max_attempts: 4,
            backoff: Duration::ZERO,
            cap: Duration::from_secs(1),
        },
        concurrency: 4,
    }
}

/// Site settings of the simulator's seeded cloud for [`CLUSTER`] (no cloud calls needed).
pub fn site(sim: &SimHandle, provider: Provider) -> Site {
    sim_setup::site(sim, CLUSTER, provider)
}

/// A reconciler on a resolved site, with a fresh session.
pub fn reconciler(sim: &SimHandle, site: Site) -> Reconciler {
    Reconciler::from_site(session(sim), site, "ROUND_ROBIN", true, options())
}

/// Settings text for the simulator for [`CLUSTER`], with names (resolved by
/// `Reconciler::connect`).
pub fn settings_toml(sim: &SimHandle, provider: Provider, extra_lb: &str) -> String {
    let extra = format!("provider = \"{}\"\n{extra_lb}", provider.as_str());
    sim_setup::settings_toml(sim, CLUSTER, &extra)
}

/// The kubernetes-control-plane external request: tcp 443→6443, public, HTTP /livez check.
pub fn external_request(backends: &[&str]) -> Request {
    let mut r = Request::new(
        "0123456789abcdef0123456789abcdef",
        "api-server-external",
        Protocol::Tcp,
        BTreeMap::from([(443, 6443)]),
    );
    r.backends = backends.iter().map(|b| b.to_string()).collect();
    let mut hc = HealthCheck::new(Protocol::Http, 6443);
    hc.path = Some("/livez".into());
    r.health_checks = vec![hc];
    r.sealed()
}

/// A plain TCP request (works on every provider).
pub fn tcp_request(name: &str, mapping: &[(i64, i64)], backends: &[&str], public: bool) -> Request {
    let mut r = Request::new(
        format!("{:0>32}", name.len()),
        name,
        Protocol::Tcp,
        mapping.iter().copied().collect(),
    );
    r.backends = backends.iter().map(|b| b.to_string()).collect();
    r.public = public;
    r.sealed()
}

/// The three seeded member addresses.
pub const MEMBERS: [&str; 3] = ["10.5.0.10", "10.5.0.11", "10.5.0.12"];

/// The key of `name` requested by `app`.
pub fn key(app: &str, name: &str) -> LbIdentity {
    LbIdentity::new(app, name)
}

/// How many resources of `kind` carry the request's tag.
pub fn tagged(sim: &SimHandle, kind: &str, key: &LbIdentity) -> usize {
    let tag = request_tag(CLUSTER, key);
    sim.snapshot()
        .tagged(&tag)
        .into_iter()
        .filter(|(k, _)| *k == kind)
        .count()
}

/// Every resource carrying any of our tags, as `(kind, id)`.
pub fn ours(sim: &SimHandle) -> Vec<(&'static str, String)> {
    sim.snapshot().tagged(octavia_integrator::spec::MANAGED_TAG)
}

/// Whether a provider value is the one meant (helper for parametrised tests).
pub fn provider_name(p: Provider) -> &'static str {
    p.as_str()
}

/// Counts of a step of a test: non-poll calls (everything except `GET` of one load balancer),
/// mutations without auth, auths.
pub struct Budget {
    /// All calls except polls of a load balancer's status.
    pub non_poll: usize,
    /// POST/PUT/DELETE calls to Octavia and Neutron.
    pub mutations: usize,
    /// Keystone token requests.
    pub auths: usize,
}

/// The budget counters of the calls after the first `since`.
pub fn budget(sim: &SimHandle, since: usize) -> Budget {
    let calls = sim.calls().since(since);
    let polls = calls.count("GET", "/load-balancer/v2/lbaas/loadbalancers/{id}");
    Budget {
        non_poll: calls.total() - polls,
        mutations: calls.cloud_mutations(),
        auths: calls.auths(),
    }
}
