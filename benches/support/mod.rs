//! Shared pieces of the benchmarks: the simulated cloud with amphora-like delays, a session and
//! a reconciler on it, a watcher that records when the simulated load balancer really went
//! ACTIVE, call accounting, and the output (a table for people, one JSON line for tools).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use octavia_integrator::reconcile::{Options, Reconciler, RepairPolicy};
use octavia_integrator::relation::v1::{HealthCheck, Protocol, Request};
use openstack::session::{RetryPolicy, Timeouts};
use openstack::wait::WaitPolicy;
use openstack::Session;
use openstack_sim::{Calls, Delays, Provider, Sim, SimHandle};
use tokio::time::Instant;

/// Setup shared with the integration tests: the simulator's login, settings text and site
/// (security groups off, as in OCCM's default anchor).
#[path = "../../tests/common/sim_setup.rs"]
pub mod sim_setup;

/// Amphora-like provisioning delays in simulated seconds (anchors-peers.md §6.2: ≈60 s boot,
/// ≈5 s per change).
pub const AMPHORA: Delays = Delays {
    create: 60.0,
    update: 5.0,
    delete: 10.0,
    failover: 60.0,
};

/// Real seconds per simulated second (`OI_BENCH_SCALE`, default 0.05: a 60 s boot takes 3 s; the
/// larger the scale, the less local call latency weighs in simulated seconds).
pub fn scale() -> f64 {
    env_f64("OI_BENCH_SCALE", 0.05)
}

/// A float from the environment, or `default`.
pub fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v: &f64| v.is_finite() && *v > 0.0)
        .unwrap_or(default)
}

/// A list of sizes from the environment (`"3,10,50"`), or `default`.
pub fn env_sizes(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

/// A fresh simulated cloud (amphora, [`AMPHORA`] delays, `scale`), seeded.
pub async fn start_sim(scale: f64, seed: u64) -> SimHandle {
    let sim = Sim::builder()
        .provider(Provider::Amphora)
        .delay_scale(scale)
        .seed(seed)
        .build()
        .start()
        .await
        .expect("the simulator starts on loopback");
    sim.faults().delays(Provider::Amphora, AMPHORA);
    sim
}

/// A session to the simulator with the production retry policy and timeouts.
pub fn session(sim: &SimHandle) -> Session {
    let mut config = sim_setup::session_config(sim);
    // Production retry shape, delays scaled down like the cloud's.
    config.retry = RetryPolicy {
        jitter: false,
        ..RetryPolicy::default()
    };
    config.timeouts = Timeouts::default();
    Session::new(config).expect("a session to the simulator")
}

/// The production poll schedule (1 s × 1.5, capped at 10 s) scaled like the cloud, without
/// jitter so runs repeat.
pub fn poll_policy(scale: f64) -> WaitPolicy {
    let base = WaitPolicy::default();
    WaitPolicy {
        initial: base.initial.mul_f64(scale),
        cap: base.cap.mul_f64(scale),
        jitter: 0.0,
        budget: Duration::from_secs(3600),
        ..base
    }
}

/// OCCM's poll schedule (1 s × 1.2, uncapped: `WaitActiveAndGetLoadBalancer`), scaled.
pub fn occm_poll_policy(scale: f64) -> WaitPolicy {
    WaitPolicy {
        initial: Duration::from_secs(1).mul_f64(scale),
        factor: 1.2,
        cap: Duration::from_secs(3600).mul_f64(scale),
        jitter: 0.0,
        budget: Duration::from_secs(3600),
    }
}

/// Reconciler options: the scaled production poll schedule, `concurrency` reconciles at once.
pub fn options(scale: f64, concurrency: usize) -> Options {
    Options {
        wait: poll_policy(scale),
        repair: RepairPolicy::default(),
        concurrency,
    }
}

/// A reconciler on the seeded cloud.
pub fn reconciler(sim: &SimHandle, scale: f64, concurrency: usize) -> Reconciler {
    Reconciler::from_site(
        session(sim),
        sim_setup::site(sim, "bench", Provider::Amphora),
        "ROUND_ROBIN",
        true,
        options(scale, concurrency),
    )
}

/// Backend address `i` (10.5.0.20 upwards, outside the VIP allocation pool).
pub fn member(i: usize) -> String {
    let n = 20 + i;
    format!("10.5.{}.{}", n / 250, n % 250)
}

/// The kubernetes-control-plane external request with `n` backends.
pub fn request(name: &str, n: usize, public: bool) -> Request {
    let mut r = Request::new(
        format!("{name}-0123456789abcdef"),
        name,
        Protocol::Tcp,
        BTreeMap::from([(443, 6443)]),
    );
    r.backends = (0..n).map(member).collect();
    r.public = public;
    let mut hc = HealthCheck::new(Protocol::Http, 6443);
    hc.path = Some("/livez".into());
    r.health_checks = vec![hc];
    r.sealed()
}

/// Status changes of the cloud's load balancers as the simulator holds them, sampled every
/// millisecond from its in-process snapshot (no API calls, so the counts are not touched).
pub struct Watcher {
    changes: Arc<Mutex<Vec<(Instant, String, String)>>>,
    /// (when, how many calls the simulator had answered by then), on every change.
    counts: Arc<Mutex<Vec<(Instant, usize)>>>,
    sim: Arc<SimHandle>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    /// Starts watching `sim`.
    pub fn start(sim: Arc<SimHandle>) -> Watcher {
        let changes = Arc::new(Mutex::new(Vec::new()));
        let counts = Arc::new(Mutex::new(Vec::new()));
        let (out, out_counts, probe_sim) = (changes.clone(), counts.clone(), sim.clone());
        let task = tokio::spawn(async move {
            let mut last: BTreeMap<String, String> = BTreeMap::new();
            let mut last_count = usize::MAX;
            loop {
                let now = Instant::now();
                for (id, status) in lb_statuses(&probe_sim) {
                    if last.get(&id) != Some(&status) {
                        out.lock().unwrap_or_else(|p| p.into_inner()).push((
                            now,
                            id.clone(),
                            status.clone(),
                        ));
                        last.insert(id, status);
                    }
                }
                let count = probe_sim.calls().total();
                if count != last_count {
                    out_counts
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((now, count));
                    last_count = count;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        Watcher {
            changes,
            counts,
            sim,
            task,
        }
    }

    /// When the client noticed `active`: the moment its first call other than a status poll
    /// after `active` reached the simulator (the poll that saw ACTIVE came just before it).
    pub fn noticed(&self, active: Instant) -> Option<Instant> {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let seen_by_then = counts
            .iter()
            .filter(|(t, _)| *t <= active)
            .map(|(_, c)| *c)
            .max()
            .unwrap_or(0);
        let records = self.sim.calls().records;
        let first = records
            .iter()
            .enumerate()
            .skip(seen_by_then)
            .find(|(_, r)| {
                !(r.method == "GET" && r.route == "/load-balancer/v2/lbaas/loadbalancers/{id}")
            })
            .map(|(i, _)| i)?;
        counts.iter().find(|(_, c)| *c > first).map(|(t, _)| *t)
    }

    /// The last moment (≤ `until`) a load balancer became ACTIVE.
    pub fn last_active(&self, until: Instant) -> Option<Instant> {
        self.changes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(t, _, s)| *t <= until && s == "ACTIVE")
            .map(|(t, _, _)| *t)
            .max()
    }

    /// The last moment (≤ `until`) load balancer `id` became ACTIVE.
    pub fn last_active_of(&self, id: &str, until: Instant) -> Option<Instant> {
        self.changes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(t, lb, s)| *t <= until && lb == id && s == "ACTIVE")
            .map(|(t, _, _)| *t)
            .max()
    }

    /// Stops watching.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Every load balancer's provisioning status, read from the simulator's in-process snapshot.
fn lb_statuses(sim: &SimHandle) -> Vec<(String, String)> {
    sim.snapshot()
        .load_balancers
        .iter()
        .map(|lb| {
            (
                lb["id"].as_str().unwrap_or_default().to_string(),
                lb["provisioning_status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// Calls summarised: total, polls of one load balancer, other reads, mutations, auths, and
/// every route.
#[derive(Debug, Clone, Default)]
pub struct CallSummary {
    /// Every call.
    pub total: usize,
    /// `GET /loadbalancers/{id}` (status polls).
    pub polls: usize,
    /// Other GETs.
    pub reads: usize,
    /// POST/PUT/DELETE to Octavia and Neutron.
    pub mutations: usize,
    /// Keystone token requests.
    pub auths: usize,
    /// `"METHOD route"` → count.
    pub by_route: BTreeMap<String, usize>,
}

impl CallSummary {
    /// Summarises `calls`.
    pub fn of(calls: &Calls) -> CallSummary {
        let polls = calls.count("GET", "/load-balancer/v2/lbaas/loadbalancers/{id}");
        let gets = calls.polls();
        CallSummary {
            total: calls.total(),
            polls,
            reads: gets - polls,
            mutations: calls.cloud_mutations(),
            auths: calls.auths(),
            by_route: calls.by_route(),
        }
    }

    /// As JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "total": self.total,
            "polls": self.polls,
            "reads": self.reads,
            "mutations": self.mutations,
            "auths": self.auths,
            "by_route": self.by_route,
        })
    }
}

/// Prints a table: a header row and rows, columns padded.
pub fn print_table(title: &str, header: &[&str], rows: &[Vec<String>]) {
    println!("\n{title}");
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.len());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:<w$}", c, w = widths.get(i).copied().unwrap_or(0)))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(header.to_vec());
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// Prints the machine-readable result: one line `BENCH_JSON {...}`.
pub fn print_json(value: &serde_json::Value) {
    println!("BENCH_JSON {value}");
}

/// Simulated seconds of a real duration.
pub fn sim_secs(real: Duration, scale: f64) -> f64 {
    real.as_secs_f64() / scale
}

/// Rounds to one decimal for tables.
pub fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// This process's peak resident set (VmHWM) in KiB, from /proc.
pub fn peak_rss_kib(pid: Option<u32>) -> Option<u64> {
    proc_status_kib(pid, "VmHWM:")
}

/// This process's current resident set (VmRSS) in KiB, from /proc.
pub fn rss_kib(pid: Option<u32>) -> Option<u64> {
    proc_status_kib(pid, "VmRSS:")
}

fn proc_status_kib(pid: Option<u32>, key: &str) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time (user + system) a process used, from /proc/<pid>/stat (clock ticks → seconds).
pub fn cpu_secs(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let ticks = clock_ticks();
    Some((utime + stime) / ticks)
}

/// `getconf CLK_TCK` (100 on Linux almost everywhere).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `nproc`, `uname -m` and the kernel, for the record.
pub fn machine() -> serde_json::Value {
    let run = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    serde_json::json!({
        "nproc": run("nproc", &[]),
        "arch": run("uname", &["-m"]),
        "kernel": run("uname", &["-r"]),
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    })
}

/// A running `octavia-integrator serve` (the real binary) with its own settings, socket and
/// store in a temporary folder.
pub struct DaemonProcess {
    child: std::process::Child,
    /// The temporary folder (settings, socket, store, log).
    pub dir: tempfile::TempDir,
    /// The settings file.
    pub settings: std::path::PathBuf,
    /// The unix socket.
    pub socket: std::path::PathBuf,
}

impl DaemonProcess {
    /// Writes settings for `sim` (password credentials, security groups as `manage_sg`) and
    /// starts `serve --workers workers`, logging at `warn`; waits until its socket answers.
    pub async fn start(sim: &SimHandle, workers: usize, manage_sg: bool) -> DaemonProcess {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("d.sock");
        let state = dir.path().join("state.json");
        let mut text = sim_setup::settings_toml(
            sim,
            "bench",
            &format!("manage_security_groups = {manage_sg}"),
        );
        text.push_str(&format!(
            "\n[daemon]\nsocket = {socket:?}\nstate_file = {state:?}\nmetrics_address = \"off\"\n",
            socket = socket.display().to_string(),
            state = state.display().to_string(),
        ));
        let settings = dir.path().join("settings.toml");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&settings)
            .expect("settings file");
        std::io::Write::write_all(&mut f, text.as_bytes()).expect("write settings");
        DaemonProcess::spawn_with(dir, settings, socket, workers).await
    }

    /// Starts `serve --workers 4` with an existing settings file whose socket is `socket`
    /// (the log beside the settings).
    pub async fn start_with(
        settings: &std::path::Path,
        socket: std::path::PathBuf,
    ) -> DaemonProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let own = dir.path().join("settings.toml");
        std::fs::copy(settings, &own).expect("copy the settings");
        DaemonProcess::spawn_with(dir, own, socket, 4).await
    }

    async fn spawn_with(
        dir: tempfile::TempDir,
        settings: std::path::PathBuf,
        socket: std::path::PathBuf,
        workers: usize,
    ) -> DaemonProcess {
        let log = std::fs::File::create(dir.path().join("daemon.log")).expect("log file");
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_octavia-integrator"));
        cmd.arg("--config")
            .arg(&settings)
            .arg("serve")
            .arg("--workers")
            .arg(workers.to_string());
        let child = cmd
            .env(
                "OCTAVIA_INTEGRATOR_LOG",
                std::env::var("OI_BENCH_DAEMON_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .env_remove("OCTAVIA_INTEGRATOR_CONFIG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::from(log))
            .spawn()
            .expect("spawn octavia-integrator serve");
        let d = DaemonProcess {
            child,
            dir,
            settings,
            socket,
        };
        for _ in 0..3000 {
            if d.health().await.is_some() {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the daemon never answered; its log:\n{}",
            std::fs::read_to_string(d.dir.path().join("daemon.log")).unwrap_or_default()
        );
    }

    /// Stops it (SIGTERM: it saves its store) and starts it again on the same settings,
    /// store and socket.
    pub async fn restart(mut self, workers: usize) -> DaemonProcess {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        // `self` is dropped only once its folder has moved to the new process.
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        let (settings, socket) = (self.settings.clone(), self.socket.clone());
        let _ = std::fs::remove_file(&socket);
        DaemonProcess::spawn_with(dir, settings, socket, workers).await
    }

    /// Starts a second daemon on the same cloud and cluster as this one, with its own store
    /// and socket, as a non-leader (`leader = false`).
    pub async fn follower(&self, workers: usize) -> DaemonProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("d.sock");
        let state = dir.path().join("state.json");
        let text = std::fs::read_to_string(&self.settings).expect("settings");
        let mut out = String::new();
        for line in text.lines() {
            if line.starts_with("socket = ") {
                out.push_str(&format!("socket = {:?}\n", socket.display().to_string()));
            } else if line.starts_with("state_file = ") {
                out.push_str(&format!(
                    "state_file = {:?}\nleader = false\n",
                    state.display().to_string()
                ));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        let settings = dir.path().join("settings.toml");
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&settings)
                .expect("settings file");
            std::io::Write::write_all(&mut f, out.as_bytes()).expect("write settings");
        }
        DaemonProcess::spawn_with(dir, settings, socket, workers).await
    }

    /// Where its log is.
    pub fn log(&self) -> String {
        self.dir.path().join("daemon.log").display().to_string()
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A client for its socket.
    pub fn client(&self) -> octavia_integrator::daemon::DaemonClient {
        octavia_integrator::daemon::DaemonClient::new(&self.socket)
            .with_timeout(Duration::from_secs(60))
    }

    /// `/v1/health`, or `None` when it does not answer.
    pub async fn health(&self) -> Option<octavia_integrator::daemon::api::Health> {
        self.client()
            .get(octavia_integrator::daemon::api::HEALTH)
            .await
            .ok()
    }

    /// Waits until nothing is queued or running (polled every 20 ms).
    pub async fn idle(&self) {
        loop {
            if let Some(h) = self.health().await {
                if h.queued == 0 && h.running == 0 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops it with SIGTERM and waits.
    pub fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One `lb-consumers` relation (id 1, app `app`) carrying `requests`.
pub fn hook_input(
    app: &str,
    requests: &[Request],
    local: Option<BTreeMap<String, String>>,
) -> octavia_integrator::relation::HookInput {
    let mut app_data = BTreeMap::from([("version".to_string(), "1".to_string())]);
    for r in requests {
        app_data.insert(format!("request_{}", r.name), r.canonical_json());
    }
    octavia_integrator::relation::HookInput {
        relations: vec![octavia_integrator::relation::databag::RelationInput {
            id: 1,
            app: app.to_string(),
            app_data,
            units: BTreeMap::new(),
            local_app_data: local,
        }],
    }
}

/// Runs the `lb-consumers` hook against the daemon (the library path the CLI takes); returns
/// how many of its responses carry an address.
pub async fn hook_answered(
    client: octavia_integrator::daemon::DaemonClient,
    input: &octavia_integrator::relation::HookInput,
) -> usize {
    let answerer = octavia_integrator::daemon::DaemonAnswerer::new(
        client,
        octavia_integrator::relation::Interface::LoadBalancer,
    );
    let result = octavia_integrator::hook::lb_consumers(input, &answerer).await;
    result
        .output
        .relations
        .iter()
        .flat_map(|r| r.set.iter())
        .filter(|(k, _)| k.starts_with("response_"))
        .filter(|(_, v)| {
            octavia_integrator::relation::Response::parse(v)
                .ok()
                .is_some_and(|r| r.address().is_some())
        })
        .count()
}

/// Free addresses left in the VIP subnet's allocation pool (how many load balancers fit).
pub fn vip_capacity(sim: &SimHandle) -> usize {
    let snap = sim.snapshot();
    let subnet_id = sim.seed_ids().vip_subnet_id;
    let Some(subnet) = snap
        .subnets
        .iter()
        .find(|s| s["id"].as_str() == Some(&subnet_id))
    else {
        return 0;
    };
    let to_u32 = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| s.parse::<std::net::Ipv4Addr>().ok())
            .map(u32::from)
    };
    let mut size = 0usize;
    for pool in subnet["allocation_pools"].as_array().into_iter().flatten() {
        if let (Some(a), Some(b)) = (to_u32(&pool["start"]), to_u32(&pool["end"])) {
            size += (b.saturating_sub(a) + 1) as usize;
        }
    }
    let used = snap
        .ports
        .iter()
        .filter(|p| {
            p["fixed_ips"].as_array().is_some_and(|ips| {
                ips.iter()
                    .any(|ip| ip["subnet_id"].as_str() == Some(&subnet_id))
            })
        })
        .count();
    size.saturating_sub(used)
}
