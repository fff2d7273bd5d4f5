//! Helpers for the crash and secrets suites: the simulated cloud in the test process, the real
//! `octavia-integrator serve` binary as a child process (killed with SIGKILL or stopped with
//! SIGTERM by its own pid), hooks driven the way the charm drives them, and "converged" checks
//! against the simulator's snapshot.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use octavia_integrator::daemon::api::{self, Health, StatusReport};
use octavia_integrator::daemon::{DaemonAnswerer, DaemonClient};
use octavia_integrator::hook::{self, HookResult};
use octavia_integrator::relation::databag::{HookInput, HookOutput, RelationInput};
use octavia_integrator::relation::v1::{HealthCheck, Protocol, Request, Response};
use octavia_integrator::relation::Interface;
use octavia_integrator::spec::{cluster_tag, request_tag, LbIdentity};
use openstack_sim::{Provider, Sim, SimHandle};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_octavia-integrator");

/// The cluster id the suites use.
pub const CLUSTER: &str = "hard";

/// Starts the simulator (amphora by default) with `scale` real seconds per simulated second.
pub async fn start_sim(provider: Provider, scale: f64, seed: u64) -> SimHandle {
    Sim::builder()
        .provider(provider)
        .delay_scale(scale)
        .seed(seed)
        .build()
        .start()
        .await
        .expect("the simulator starts on loopback")
}

/// A free loopback TCP port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Where one daemon keeps its files.
pub struct Paths {
    /// The settings file (0600).
    pub settings: PathBuf,
    /// The unix socket.
    pub socket: PathBuf,
    /// The store.
    pub state: PathBuf,
    /// `127.0.0.1:PORT` of /metrics.
    pub metrics: String,
}

/// Writes a settings file for a daemon in `dir` talking to `sim` with password credentials.
/// `cloud_extra` replaces the credentials lines when given.
pub fn write_settings(sim: &SimHandle, dir: &Path, cloud_extra: Option<&str>) -> Paths {
    let c = sim.credentials();
    let creds = cloud_extra.map(str::to_string).unwrap_or_else(|| {
        format!(
            "username = \"{}\"\nuser_domain_name = \"{}\"\npassword = \"{}\"\n\
             project_name = \"{}\"\nproject_domain_name = \"{}\"\n",
            c.username, c.domain_name, c.password, c.project_name, c.domain_name
        )
    });
    let socket = dir.join("d.sock");
    let state = dir.join("state.json");
    let metrics = format!("127.0.0.1:{}", free_port());
    let text = format!(
        "cluster_id = \"{CLUSTER}\"\n\n[cloud]\nauth_url = \"{auth}\"\n{creds}\n\
         [load_balancer]\nvip_subnet = \"{vip}\"\nfloating_network = \"public\"\n\
         wait_seconds = 600\n\n\
         [daemon]\nsocket = {socket:?}\nstate_file = {state:?}\nmetrics_address = \"{metrics}\"\n",
        auth = c.auth_url,
        vip = sim.seed_ids().vip_subnet_id,
        socket = socket.display().to_string(),
        state = state.display().to_string(),
    );
    let settings = dir.join("settings.toml");
    write_private(&settings, &text);
    Paths {
        settings,
        socket,
        state,
        metrics,
    }
}

/// Writes a file with mode 0600.
pub fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .expect("write a private file");
    f.write_all(text.as_bytes()).expect("write");
}

/// A running `octavia-integrator serve` child process.
pub struct DaemonProcess {
    child: Option<Child>,
    /// Its standard error (logs), appended across restarts.
    pub log: PathBuf,
    socket: PathBuf,
}

impl DaemonProcess {
    /// Spawns `serve` with `settings`, logs at `log_filter` (OCTAVIA_INTEGRATOR_LOG) appended
    /// to `log`, and waits until its socket answers.
    pub async fn start(paths: &Paths, log: &Path, log_filter: &str) -> DaemonProcess {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("open the daemon log");
        let child = Command::new(BIN)
            .arg("--config")
            .arg(&paths.settings)
            .arg("serve")
            .arg("--workers")
            .arg("4")
            .env("OCTAVIA_INTEGRATOR_LOG", log_filter)
            .env_remove("OCTAVIA_INTEGRATOR_CONFIG")
            .env_remove("OS_CLOUD")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(err))
            .spawn()
            .expect("spawn octavia-integrator serve");
        let mut d = DaemonProcess {
            child: Some(child),
            log: log.to_path_buf(),
            socket: paths.socket.clone(),
        };
        d.wait_ready().await;
        d
    }

    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        for _ in 0..3000 {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "the daemon exited at start ({status}); its log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if self.client().get::<Health>(api::HEALTH).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the daemon never answered on {}", self.socket.display());
    }

    /// A client for its socket.
    pub fn client(&self) -> DaemonClient {
        DaemonClient::new(&self.socket).with_timeout(Duration::from_secs(10))
    }

    /// SIGKILL (kill -9) and reap.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait for the exit; returns whether it exited 0.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        if !sent {
            let _ = child.kill();
        }
        child.wait().is_ok_and(|s| s.success())
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Our app databags per relation, as the hooks have written them.
pub type Local = BTreeMap<u64, BTreeMap<String, String>>;

/// Applies a hook's writes (as relation-set does).
pub fn apply_writes(local: &mut Local, output: &HookOutput) {
    for rel in &output.relations {
        let data = local.entry(rel.id).or_default();
        for (k, v) in &rel.set {
            data.insert(k.clone(), v.clone());
        }
        for k in &rel.unset {
            data.remove(k);
        }
    }
}

/// Runs the `lb-consumers` hook flow against the daemon behind `client` (in this process,
/// the same library path the CLI takes).
pub async fn hook_via(client: DaemonClient, input: &HookInput) -> HookResult {
    let answerer = DaemonAnswerer::new(client, Interface::LoadBalancer);
    hook::lb_consumers(input, &answerer).await
}

/// The member addresses the simulator seeds (its member ports) plus more on the same subnet.
pub fn member(i: usize) -> String {
    format!("10.5.0.{}", 10 + i)
}

/// A TCP request named `name` with `members` backends (the kubernetes-control-plane shape).
pub fn request(name: &str, port: i64, members: &[String], public: bool) -> Request {
    let mut r = Request::new(
        format!("{name}-id"),
        name,
        Protocol::Tcp,
        BTreeMap::from([(port, 6443)]),
    );
    r.backends = members.to_vec();
    r.public = public;
    let mut hc = HealthCheck::new(Protocol::Http, 6443);
    hc.path = Some("/livez".into());
    r.health_checks = vec![hc];
    r.sealed()
}

/// One relation (id `id`, app `app`) carrying `requests`, with our databag `local`.
pub fn relation(id: u64, app: &str, requests: &[Request], local: &Local) -> RelationInput {
    let mut app_data = BTreeMap::from([("version".to_string(), "1".to_string())]);
    for r in requests {
        app_data.insert(format!("request_{}", r.name), r.canonical_json());
    }
    RelationInput {
        id,
        app: app.to_string(),
        app_data,
        units: BTreeMap::new(),
        local_app_data: Some(local.get(&id).cloned().unwrap_or_default()),
    }
}

/// Whether every request in `wanted` (relation id → requests) is answered in `local` with an
/// address echoing its current `sent_hash`.
pub fn all_answered(local: &Local, wanted: &BTreeMap<u64, Vec<Request>>) -> bool {
    wanted.iter().all(|(id, reqs)| {
        reqs.iter().all(|r| {
            local
                .get(id)
                .and_then(|d| d.get(&format!("response_{}", r.name)))
                .and_then(|t| Response::parse(t).ok())
                .is_some_and(|resp| {
                    resp.address().is_some() && resp.received_hash() == r.sent_hash.as_deref()
                })
        })
    })
}

/// What the cloud should hold: per request (app, name), the member addresses and whether it is
/// public.
pub type Expected = BTreeMap<(String, String), (BTreeSet<String>, bool)>;

/// Live (not deleting) load balancers in the simulator.
pub fn live_lbs(sim: &SimHandle) -> Vec<serde_json::Value> {
    sim.snapshot()
        .load_balancers
        .into_iter()
        .filter(|lb| {
            !matches!(
                lb["provisioning_status"].as_str(),
                Some("DELETED") | Some("PENDING_DELETE")
            )
        })
        .collect()
}

fn tags_of(o: &serde_json::Value) -> BTreeSet<String> {
    o["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the cloud against the expected requests, by our tags: one ACTIVE load balancer per
/// request (no duplicates) with exactly the expected members, one floating IP per public
/// request and none otherwise, at most one security group per request, and nothing else
/// carrying our cluster's tag (no leaks). Returns every difference found.
pub fn cloud_differences(sim: &SimHandle, expected: &Expected) -> Vec<String> {
    let snap = sim.snapshot();
    let mut problems = Vec::new();
    let cluster = cluster_tag(CLUSTER);
    let wanted: BTreeMap<String, &(String, String)> = expected
        .keys()
        .map(|k| (request_tag(CLUSTER, &LbIdentity::new(&k.0, &k.1)), k))
        .collect();
    let kinds: [(&str, &Vec<serde_json::Value>); 5] = [
        ("load balancer", &snap.load_balancers),
        ("listener", &snap.listeners),
        ("pool", &snap.pools),
        ("floating IP", &snap.floating_ips),
        ("security group", &snap.security_groups),
    ];
    for (kind, items) in kinds {
        for o in items {
            if o["provisioning_status"].as_str() == Some("DELETED") {
                continue;
            }
            let tags = tags_of(o);
            if tags.contains(&cluster) && !tags.iter().any(|t| wanted.contains_key(t)) {
                problems.push(format!(
                    "leaked {kind} {} {} ({})",
                    o["id"], o["name"], o["provisioning_status"]
                ));
            }
        }
    }
    for (tag, key) in &wanted {
        let (members, public) = &expected[*key];
        let name = format!("{}/{}", key.0, key.1);
        let lbs: Vec<&serde_json::Value> = snap
            .load_balancers
            .iter()
            .filter(|lb| lb["provisioning_status"].as_str() != Some("DELETED"))
            .filter(|lb| tags_of(lb).contains(tag))
            .collect();
        if lbs.len() != 1 {
            problems.push(format!("{name}: {} load balancers", lbs.len()));
            continue;
        }
        let lb = lbs[0];
        let id = lb["id"].as_str().unwrap_or_default();
        if lb["provisioning_status"].as_str() != Some("ACTIVE") {
            problems.push(format!("{name}: {}", lb["provisioning_status"]));
        }
        let pools: BTreeSet<&str> = snap
            .pools
            .iter()
            .filter(|p| {
                p["loadbalancers"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x["id"].as_str() == Some(id)))
            })
            .filter_map(|p| p["id"].as_str())
            .collect();
        let got: BTreeSet<String> = snap
            .members
            .iter()
            .filter(|m| m["pool_id"].as_str().is_some_and(|p| pools.contains(p)))
            .filter_map(|m| m["address"].as_str().map(str::to_string))
            .collect();
        if &got != members {
            problems.push(format!("{name}: members {got:?}, want {members:?}"));
        }
        let fips = snap
            .floating_ips
            .iter()
            .filter(|f| tags_of(f).contains(tag))
            .count();
        if fips != usize::from(*public) {
            problems.push(format!("{name}: {fips} floating IPs (public = {public})"));
        }
        let sgs = snap
            .security_groups
            .iter()
            .filter(|g| tags_of(g).contains(tag))
            .count();
        if sgs > 1 {
            problems.push(format!("{name}: {sgs} security groups"));
        }
    }
    problems
}

/// `GET /metrics` over plain HTTP/1.0 on loopback.
pub fn get_metrics(addr: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to /metrics");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read /metrics");
    out
}

/// The daemon's status report.
pub async fn status(client: &DaemonClient) -> StatusReport {
    client.get(api::STATUS).await.expect("status")
}
