//! Shared helpers for root-crate integration tests: start the simulated cloud, open a session
//! to it, build a reconciler, write requests. Each test binary uses a subset.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use octavia_integrator::config::{Environment, Settings};
use octavia_integrator::reconcile::{Options, Reconciler, RepairPolicy};
use octavia_integrator::relation::v1::{HealthCheck, Protocol, Request};
use octavia_integrator::spec::{request_tag, RequestKey, Site};
use openstack::session::{
    Credentials, DomainRef, RetryPolicy, Scope, SessionConfig, Timeouts, UserRef,
};
use openstack::sim::{Provider, Sim, SimHandle};
use openstack::wait::WaitPolicy;
use openstack::Session;

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
    let c = sim.credentials();
    let mut config = SessionConfig::new(
        c.auth_url.clone(),
        Credentials::Password {
            user: UserRef::Name {
                name: c.username.clone(),
                domain: DomainRef::Name(c.domain_name.clone()),
            },
            password: c.password.clone().into(),
        },
    );
    config.scope = Some(Scope::ProjectName {
        name: c.project_name.clone(),
        domain: DomainRef::Name(c.domain_name.clone()),
    });
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

/// Site settings of the simulator's seeded cloud (no cloud calls needed).
pub fn site(sim: &SimHandle, provider: Provider) -> Site {
    let ids = sim.seed_ids();
    Site {
        cluster_id: CLUSTER.into(),
        vip_subnet_id: ids.vip_subnet_id.clone(),
        vip_network_id: Some(ids.vip_network_id.clone()),
        member_subnet_id: ids.vip_subnet_id.clone(),
        member_network_id: Some(ids.vip_network_id.clone()),
        member_subnet_cidr: Some("10.5.0.0/24".into()),
        floating_network_id: Some(ids.external_network_id.clone()),
        provider: Some(provider.as_str().to_string()),
        flavor_id: None,
        availability_zone: None,
        manage_security_groups: false,
        preserves_client_ip: provider == Provider::Ovn,
        closest_health_check: false,
    }
}

/// A reconciler on a resolved site, with a fresh session.
pub fn reconciler(sim: &SimHandle, site: Site) -> Reconciler {
    Reconciler::from_site(session(sim), site, "ROUND_ROBIN", true, options())
}

/// Settings text for the simulator, with names (resolved by `Reconciler::connect`).
pub fn settings_toml(sim: &SimHandle, provider: Provider, extra_lb: &str) -> String {
    let c = sim.credentials();
    format!(
        r#"cluster_id = "{CLUSTER}"

[cloud]
auth_url = "{auth}"
username = "{user}"
user_domain_name = "{domain}"
password = "{password}"
project_name = "{project}"
project_domain_name = "{domain}"

[load_balancer]
vip_subnet = "{vip}"
floating_network = "public"
provider = "{provider}"
{extra_lb}
"#,
        auth = c.auth_url,
        user = c.username,
        domain = c.domain_name,
        password = c.password,
        project = c.project_name,
        vip = sim.seed_ids().vip_subnet_id,
        provider = provider.as_str(),
    )
}

/// Parses settings text (no environment, no files).
pub fn settings(text: &str) -> Settings {
    let env = Environment::new(Vec::<(String, String)>::new(), "/");
    Settings::from_toml_str(text, std::path::Path::new("/"), &env).expect("valid test settings")
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
pub fn key(app: &str, name: &str) -> RequestKey {
    RequestKey::new(app, name)
}

/// How many resources of `kind` carry the request's tag.
pub fn tagged(sim: &SimHandle, kind: &str, key: &RequestKey) -> usize {
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
