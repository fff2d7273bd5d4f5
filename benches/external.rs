//! The external path's call budget (issue 14): a fresh public request with three members and
//! managed security groups (floating IP on the VIP port, our group and its rule on the member
//! ports), counted call by call.
//!
//! Phases, each with its own counts:
//! - **connect**: what a process reads once (login, Octavia's version document, the VIP
//!   subnet, the floating network by name);
//! - **create**: a fresh process that holds those facts (login included, status polls
//!   counted apart) creates the public load balancer;
//! - **member digest, after the answer**: what the daemon does once the answer is stored (a
//!   status tree and one pool PUT: the pool's member digest tag, see
//!   `octavia_integrator::reconcile::digest`), counted apart from the create;
//! - **re-check**: the same request again (reads only);
//! - **remove**: the request goes (floating IP, load balancer, group).
//!
//! Against the simulated cloud by default. With `OI_BENCH_REAL=1` and `OS_*` set (the
//! real-Neutron harness of `../shared/real-openstack`: `source /tmp/realos/openrc`), the same
//! phases run against the real cloud: three member ports named `i14bench-<pid>-<n>` are made
//! on `OS_VIP_NET_ID` and deleted at the end, with everything the request built. Calls are
//! counted by the session's call observer, so both clouds are counted the same way.
//!
//! Run: `cargo bench --bench external` (prints a table and one `BENCH_JSON` line).

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use octavia_integrator::config::{Environment, Settings};
use octavia_integrator::reconcile::{Outcome, Reconciler};
use octavia_integrator::spec::{LbIdentity, Site};
use openstack::session::Method;
use openstack::session::{Call, CallObserver, CallRecord, ServiceType};
use openstack::Session;
use serde_json::json;
use support::*;

/// Counts every first attempt of a call by `METHOD route`.
#[derive(Default)]
struct Counter {
    calls: Mutex<Vec<(String, String)>>,
}

impl CallObserver for Counter {
    fn on_call(&self, r: &CallRecord) {
        if r.attempt == 1 {
            let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
            calls.push((r.method.clone(), r.route.clone()));
        }
    }
}

/// One phase's counts.
#[derive(Debug, Clone, Default)]
struct Phase {
    /// All calls but status polls.
    non_poll: usize,
    /// `GET loadbalancers/{id}`.
    polls: usize,
    /// Keystone token requests.
    logins: usize,
    by_route: BTreeMap<String, usize>,
}

impl Counter {
    fn take(&self) -> Phase {
        let calls = std::mem::take(&mut *self.calls.lock().unwrap_or_else(|p| p.into_inner()));
        let mut phase = Phase::default();
        for (method, route) in calls {
            let poll = method == "GET" && route.ends_with("lbaas/loadbalancers/{id}");
            if poll {
                phase.polls += 1;
            } else {
                phase.non_poll += 1;
            }
            if method == "POST" && route.ends_with("auth/tokens") {
                phase.logins += 1;
            }
            *phase
                .by_route
                .entry(format!("{method} {route}"))
                .or_default() += 1;
        }
        phase
    }
}

/// Where the run happens.
struct Cloud {
    label: &'static str,
    settings: Settings,
    members: Vec<String>,
    /// Member ports made for the run (real cloud only), deleted at the end.
    made_ports: Vec<String>,
    /// Keeps the simulator up (sim only).
    _sim: Option<openstack_sim::SimHandle>,
}

fn config_session(settings: &Settings, counter: &Arc<Counter>) -> Session {
    let config = settings
        .cloud
        .session_config()
        .expect("the settings name a usable cloud");
    Session::new(config)
        .expect("a session")
        .with_observer(counter.clone())
}

async fn sim_cloud() -> Cloud {
    let scale = scale();
    let sim = start_sim(scale, 7).await;
    let text = sim_setup::settings_toml(
        &sim,
        "bench",
        "provider = \"amphora\"\nmanage_security_groups = true",
    );
    let settings = sim_setup::settings(&text);
    Cloud {
        label: "simulated",
        settings,
        members: sim.seed_ids().member_addresses.clone(),
        made_ports: Vec::new(),
        _sim: Some(sim),
    }
}

async fn real_cloud() -> Cloud {
    let env = Environment::from_process();
    let need = |k: &str| {
        env.get(k)
            .unwrap_or_else(|| panic!("OI_BENCH_REAL=1 needs {k} (source /tmp/realos/openrc)"))
            .to_string()
    };
    let (subnet, ext, net) = (
        need("OS_VIP_SUBNET_ID"),
        need("OS_EXT_NET_ID"),
        need("OS_VIP_NET_ID"),
    );
    let text = format!(
        r#"cluster_id = "i14bench-{pid}"

[cloud]
from_env = true

[load_balancer]
vip_subnet = "{subnet}"
floating_network = "{ext}"
provider = "amphora"
manage_security_groups = true
"#,
        pid = std::process::id()
    );
    let settings = Settings::from_toml_str(&text, env.cwd(), &env).expect("valid settings");
    let session = Session::new(settings.cloud.session_config().expect("OS_* credentials"))
        .expect("a session");
    let mut members = Vec::new();
    let mut made_ports = Vec::new();
    for n in 0..3 {
        let call = Call::new(ServiceType::Network, Method::POST, "ports", &[201]).json(json!({
            "port": {"network_id": net, "name": format!("i14bench-{}-{n}", std::process::id())}
        }));
        let reply = session.send(call).await.expect("a member port");
        let port: serde_json::Value = reply.json().expect("a port");
        made_ports.push(port["port"]["id"].as_str().expect("port id").to_string());
        members.push(
            port["port"]["fixed_ips"][0]["ip_address"]
                .as_str()
                .expect("port address")
                .to_string(),
        );
    }
    Cloud {
        label: "real",
        settings,
        members,
        made_ports,
        _sim: None,
    }
}

fn row(name: &str, p: &Phase) -> Vec<String> {
    vec![
        name.to_string(),
        p.non_poll.to_string(),
        p.logins.to_string(),
        p.polls.to_string(),
        p.by_route
            .iter()
            .filter(|(r, _)| !r.ends_with("lbaas/loadbalancers/{id}"))
            .map(|(r, n)| format!("{r} ×{n}"))
            .collect::<Vec<_>>()
            .join(", "),
    ]
}

fn phase_json(p: &Phase) -> serde_json::Value {
    json!({"non_poll": p.non_poll, "logins": p.logins, "polls": p.polls, "by_route": p.by_route})
}

#[tokio::main]
async fn main() {
    let real = std::env::var("OI_BENCH_REAL").is_ok_and(|v| v == "1");
    let cloud = if real {
        real_cloud().await
    } else {
        sim_cloud().await
    };
    let scale = if real { 1.0 } else { scale() };
    let options = options(scale, 4);

    // Phase 1: what a process reads once.
    let counter = Arc::new(Counter::default());
    let connected = Reconciler::connect(config_session(&cloud.settings, &counter), &cloud.settings)
        .await
        .expect("connect resolves the settings");
    let connect = counter.take();
    let site: Site = connected.site().clone();

    // Phase 2: a fresh process holding those facts creates the public request.
    let counter = Arc::new(Counter::default());
    let rec = Reconciler::from_site(
        config_session(&cloud.settings, &counter),
        site,
        "ROUND_ROBIN",
        true,
        options,
    );
    let key = LbIdentity::new("kubernetes-control-plane", "api-server-external");
    let mut req = request("api-server-external", 0, true);
    req.backends = cloud.members.clone();
    let req = req.sealed();
    let created = rec.apply(&key, &req).await;
    let address = match &created {
        Outcome::Ready(r) => r.address.clone(),
        other => panic!("the public request did not converge: {other:?}"),
    };
    let create = counter.take();

    // Phase 2b: what the daemon does once the answer is stored (not before it): the pool's
    // member digest tag (a status tree and a pool PUT). The tags-only PUT leaves the load
    // balancer PENDING_UPDATE for a moment: waited for here, uncounted, so that the re-check
    // counts what it always did.
    rec.after_answer(&key, &req, &created).await;
    let digest = counter.take();
    let lb_id = match &created {
        Outcome::Ready(r) => r.load_balancer_id.clone(),
        _ => unreachable!(),
    };
    for _ in 0..600 {
        let lb = openstack::load_balancer::load_balancers::get(rec.session(), &lb_id)
            .await
            .expect("the load balancer reads");
        if lb.provisioning_status.as_str() == "ACTIVE" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    counter.take();

    // Phase 3: the same request again.
    match rec.apply(&key, &req).await {
        Outcome::Ready(r) => assert!(r.actions.is_empty(), "{:?}", r.actions),
        other => panic!("re-check: {other:?}"),
    }
    let recheck = counter.take();

    // Phase 4: the request goes.
    rec.remove(&key).await.expect("removal");
    let remove = counter.take();

    for port in &cloud.made_ports {
        let call = Call::new(
            ServiceType::Network,
            Method::DELETE,
            format!("ports/{port}"),
            &[204, 404],
        );
        rec.session().send(call).await.expect("member port deleted");
    }

    print_table(
        &format!(
            "External path on the {} cloud: public request, {} members, managed security groups (address {address})",
            cloud.label,
            cloud.members.len()
        ),
        &["phase", "calls (no polls)", "logins", "status polls", "by route"],
        &[
            row("connect (once per process)", &connect),
            row("fresh public create (until answered)", &create),
            row("member digest, after the answer", &digest),
            row("re-check", &recheck),
            row("remove", &remove),
        ],
    );
    println!(
        "\nfresh public create with managed security groups: {} API calls besides {} status polls (login included; budget 10)",
        create.non_poll, create.polls
    );
    println!(
        "after the answer (deferred, never before it): {} calls for the member digest",
        digest.non_poll + digest.polls
    );
    print_json(&json!({
        "bench": "external",
        "cloud": cloud.label,
        "members": cloud.members.len(),
        "connect": phase_json(&connect),
        "create": phase_json(&create),
        "digest_after_answer": phase_json(&digest),
        "recheck": phase_json(&recheck),
        "remove": phase_json(&remove),
    }));
}
