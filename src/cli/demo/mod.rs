//! `octavia-integrator demo`: the whole product on a simulated cloud, no cloud needed.
//!
//! Starts the simulated OpenStack cloud and the daemon in this process (socket and store in a
//! private temporary folder), submits the two requests kubernetes-control-plane sends as
//! relation databags, shows the load balancers provisioning, prints the provider databag (the
//! external request answered with a floating IP, the internal one with its VIP), prints
//! `status`, removes one request and shows the cleanup.

pub mod scenario;
mod tempdir;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use openstack_sim::{Provider, Sim, SimHandle};

use super::context::{self, Failure};
use super::exit;
use super::status;
use crate::config::Settings;
use crate::daemon::api::{self, Health, StatusReport};
use crate::daemon::{self, bind_socket, DaemonAnswerer, DaemonClient};
use crate::hook;
use crate::reconcile;
use crate::relation::answer::Interface;
use crate::relation::databag::HookOutput;
use crate::relation::v1::Response;

/// Arguments of `demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Real seconds per simulated second (an amphora load balancer takes 90 simulated
    /// seconds to build; the default shows it in a few real seconds).
    #[arg(long, default_value_t = 0.05, value_name = "X", value_parser = parse_delay_scale)]
    pub delay_scale: f64,
    /// Octavia provider of the simulated cloud: amphora or ovn (ovn cannot do the http health
    /// check kubernetes-control-plane asks for: the demo's settings take the closest check it
    /// can do, a TCP check of the same port).
    #[arg(long, default_value_t = Provider::Amphora, value_name = "NAME")]
    pub provider: Provider,
}

/// What the demo ended with (for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The address answered to `api-server-external` (a floating IP).
    pub external: String,
    /// The address answered to `api-server-internal` (the VIP).
    pub internal: String,
}

/// Runs the demo, printing to standard output.
pub fn run(args: &Args) -> ExitCode {
    context::finish((|| {
        let rt = context::multi_thread()?;
        let mut out = std::io::stdout();
        match rt.block_on(demo(args, &mut out)) {
            Ok(_) => Ok(()),
            // The reader went away (`demo | head`): everything is cleaned up; end quietly, as
            // every data command does.
            Err(e) if reader_gone(&e) => Ok(()),
            Err(e) if e.is::<Interrupted>() => Err(Failure::new(exit::INTERRUPTED, e)),
            Err(e) => Err(Failure::new(exit::FAILURE, e)),
        }
    })())
}

/// `--delay-scale`: a number in (0, 1] (bad input, exit 2, like every other bad argument).
fn parse_delay_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x > 0.0 && x <= 1.0 => Ok(x),
        _ => Err(format!("must be a number in (0, 1], got {text}")),
    }
}

/// Whether `e` is a write to a standard output whose reader has gone away.
fn reader_gone(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The demo was stopped by Ctrl-C (everything it started is stopped and removed).
#[derive(Debug, thiserror::Error)]
#[error("interrupted (Ctrl-C); cleaned up")]
struct Interrupted;

/// How long any one phase may take before the demo gives up (real time).
const PHASE_LIMIT: Duration = Duration::from_secs(90);
/// How often progress is sampled.
const TICK: Duration = Duration::from_millis(200);

/// The demo, writing its story to `out`.
///
/// # Errors
/// Anything that stops the story: the simulator or daemon cannot start, a phase does not
/// finish within its limit, the two addresses are not distinct.
pub async fn demo(args: &Args, out: &mut impl Write) -> anyhow::Result<Summary> {
    if !(args.delay_scale > 0.0 && args.delay_scale <= 1.0) {
        return Err(anyhow!(
            "--delay-scale must be in (0, 1], got {}",
            args.delay_scale
        ));
    }
    let started = Instant::now();
    let sim = start_sim(args, out).await?;
    let dir = tempdir::TempDir::new("octavia-integrator-demo")?;
    let settings = demo_settings(&sim, args.provider, dir.path())?;
    let daemon = spawn_daemon(&settings, args.delay_scale)?;
    let client = DaemonClient::new(&settings.daemon.socket);
    let played = async {
        let health: Health = client.get(api::HEALTH).await?;
        writeln!(
            out,
            "▶ daemon {} listening on {} (store {})",
            health.version,
            settings.daemon.socket.display(),
            settings.daemon.state_file.display()
        )?;
        story(&sim, &client, out, started).await
    };
    // Whatever ends the story (done, an error, a closed standard output, Ctrl-C), the daemon is
    // stopped and awaited before the folder it writes in is removed.
    let result = tokio::select! {
        r = played => r,
        _ = tokio::signal::ctrl_c() => Err(Interrupted.into()),
    };
    let stopped = daemon.stop().await;
    sim.shutdown().await;
    drop(dir);
    match stopped {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(anyhow!("the daemon failed: {e}")),
        Err(e) => return Err(anyhow!("the daemon task failed: {e}")),
    }
    let summary = result?;
    writeln!(
        out,
        "\n✔ demo finished in {:.1} s: external {} (floating IP), internal {} (VIP)",
        started.elapsed().as_secs_f64(),
        summary.external,
        summary.internal
    )?;
    Ok(summary)
}

/// Starts the simulated cloud and says what it is.
async fn start_sim(args: &Args, out: &mut impl Write) -> anyhow::Result<SimHandle> {
    let sim = Sim::builder()
        .provider(args.provider)
        .delay_scale(args.delay_scale)
        .seed(2024)
        .build()
        .start()
        .await
        .context("the simulated cloud could not start on 127.0.0.1")?;
    let delays = args.provider.default_delays();
    writeln!(
        out,
        "▶ simulated OpenStack cloud (Keystone, Octavia, Neutron) on {}\n  provider {}: a load balancer takes {:.0} simulated seconds to build; time runs ×{}",
        sim.base_url(),
        args.provider,
        delays.create,
        args.delay_scale
    )?;
    Ok(sim)
}

/// The demo's daemon, on a task of its own.
struct DemoDaemon {
    task: tokio::task::JoinHandle<Result<(), daemon::DaemonError>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl DemoDaemon {
    /// Stops it and waits for it to end.
    async fn stop(self) -> Result<Result<(), daemon::DaemonError>, tokio::task::JoinError> {
        let _ = self.stop.send(());
        self.task.await
    }
}

/// Starts the daemon on its own task (it stops when told, or when the [`DemoDaemon`] is
/// dropped).
fn spawn_daemon(settings: &Settings, delay_scale: f64) -> anyhow::Result<DemoDaemon> {
    let listener = bind_socket(&settings.daemon.socket)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let options = daemon::Options {
        workers: 4,
        shutdown_grace: Duration::from_secs(5),
        reconciler: Some(reconcile::Options {
            wait: reconcile::act::scaled_policy(delay_scale, Duration::from_secs(300)),
            ..reconcile::Options::default()
        }),
        ..daemon::Options::default()
    };
    let task = tokio::spawn(daemon::run_with(
        listener,
        settings.clone(),
        options,
        async {
            let _ = stop_rx.await;
        },
    ));
    Ok(DemoDaemon {
        task,
        stop: stop_tx,
    })
}

/// Settings for the simulated cloud, with the daemon's socket and store in `dir`.
fn demo_settings(
    sim: &SimHandle,
    provider: Provider,
    dir: &std::path::Path,
) -> anyhow::Result<Settings> {
    let mut text = super::sim::settings_toml(&sim.credentials(), &sim.seed_ids(), provider);
    text.push_str(&format!(
        "\n[daemon]\nsocket = {:?}\nstate_file = {:?}\nmetrics_address = \"off\"\n",
        dir.join("daemon.sock").display().to_string(),
        dir.join("state.json").display().to_string(),
    ));
    let path = dir.join("settings.toml");
    tempdir::write_private(&path, &text)?;
    Settings::load(&path).map_err(|e| anyhow!("the demo's settings do not load: {e}"))
}

/// Our databags, by relation id, as the hooks left them.
type Databags = BTreeMap<u64, BTreeMap<String, String>>;

/// The part of the demo that talks to the daemon like a charm's hooks would.
async fn story(
    sim: &SimHandle,
    client: &DaemonClient,
    out: &mut impl Write,
    started: Instant,
) -> anyhow::Result<Summary> {
    let answerer = DaemonAnswerer::new(client.clone(), Interface::LoadBalancer);
    let mut local = Databags::new();

    show_requests(out)?;
    let first = hook::lb_consumers(&scenario::both(&local), &answerer).await;
    problems(&first.problems)?;
    apply(&mut local, &first.output);
    writeln!(
        out,
        "\n▶ hook → daemon: returned at once; nothing is ready yet, so only `version` is published:\n  {}",
        serde_json::to_string(&first.output)?
    )?;

    wait_until_built(client, out, started).await?;

    let second = hook::lb_consumers(&scenario::both(&local), &answerer).await;
    problems(&second.problems)?;
    apply(&mut local, &second.output);
    let summary = show_published(&local, out)?;
    show_status(client, out).await?;

    remove_internal(sim, client, &answerer, &mut local, out).await?;
    show_status(client, out).await?;
    Ok(summary)
}

/// The two requests kubernetes-control-plane sends, and its units.
fn show_requests(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n▶ kubernetes-control-plane asks for two load balancers (relation databags, lb-consumers):"
    )?;
    for r in [scenario::external_request(), scenario::internal_request()] {
        writeln!(out, "  request_{} = {}", r.name, r.canonical_json())?;
    }
    writeln!(
        out,
        "  units: {}",
        scenario::UNITS
            .iter()
            .map(|(u, a)| format!("{u} ({a})"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    Ok(())
}

/// Shows the daemon building both load balancers until both are answered and ACTIVE.
///
/// # Errors
/// A request is answered with an error, or the phase takes longer than [`PHASE_LIMIT`].
async fn wait_until_built(
    client: &DaemonClient,
    out: &mut impl Write,
    started: Instant,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n▶ the daemon builds both load balancers in the background:"
    )?;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let phase = Instant::now();
    loop {
        let report: StatusReport = client.get(api::STATUS).await?;
        progress(&report, &mut seen, out, started)?;
        let ready = report.requests.len() == 2
            && report
                .requests
                .iter()
                .all(|r| r.answer.is_some() && r.provisioning_status.as_deref() == Some("ACTIVE"));
        if ready {
            return Ok(());
        }
        let refused: Vec<String> = report
            .requests
            .iter()
            .filter(|r| r.answer.as_deref().is_some_and(|a| a.starts_with("error")))
            .map(|r| format!("{}: {}", r.request, r.note.as_deref().unwrap_or("refused")))
            .collect();
        if report.requests.len() == 2 && !refused.is_empty() {
            return Err(anyhow!(
                "the cloud cannot serve these requests as asked, so they were answered with an \
                 error (this is what kubernetes-control-plane would see):\n  {}",
                refused.join("\n  ")
            ));
        }
        if phase.elapsed() > PHASE_LIMIT {
            return Err(anyhow!(
                "the load balancers were not ready within {} s:\n{}",
                PHASE_LIMIT.as_secs(),
                status::render(&report)
            ));
        }
        tokio::time::sleep(TICK).await;
    }
}

/// Shows the provider databag the second hook published; the two addresses it answered.
///
/// # Errors
/// An answer is missing, or both requests got the same address.
fn show_published(local: &Databags, out: &mut impl Write) -> anyhow::Result<Summary> {
    writeln!(
        out,
        "\n▶ both answers changed (a deployed daemon now runs its notify command, which re-runs the\n  charm's hook); the next hook publishes the provider databag:"
    )?;
    let external = published_address(local, scenario::EXTERNAL_RELATION, "api-server-external")?;
    let internal = published_address(local, scenario::INTERNAL_RELATION, "api-server-internal")?;
    for (id, data) in local {
        writeln!(out, "  relation lb-consumers:{id}")?;
        for (k, v) in data {
            writeln!(out, "    {k} = {v}")?;
        }
    }
    writeln!(
        out,
        "  → external address {external} (floating IP), internal address {internal} (VIP)"
    )?;
    if external == internal {
        return Err(anyhow!(
            "both requests were answered with {external}; expected a floating IP and a VIP"
        ));
    }
    Ok(Summary { external, internal })
}

/// Prints `status` as the daemon reports it.
async fn show_status(client: &DaemonClient, out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "\n▶ octavia-integrator status")?;
    let report: StatusReport = client.get(api::STATUS).await?;
    write!(out, "{}", indent(&status::render(&report)))?;
    Ok(())
}

/// kubernetes-control-plane drops the internal request; the hook passes that on and the
/// daemon removes its load balancer.
///
/// # Errors
/// The hook reports a problem, or the removal takes longer than [`PHASE_LIMIT`].
async fn remove_internal(
    sim: &SimHandle,
    client: &DaemonClient,
    answerer: &DaemonAnswerer,
    local: &mut Databags,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n▶ kubernetes-control-plane removes api-server-internal; the hook passes that on:"
    )?;
    let third = hook::lb_consumers(&scenario::internal_removed(local), answerer).await;
    problems(&third.problems)?;
    apply(local, &third.output);
    writeln!(out, "  {}", serde_json::to_string(&third.output)?)?;
    let phase = Instant::now();
    loop {
        let report: StatusReport = client.get(api::STATUS).await?;
        let lbs = live_load_balancers(sim);
        if report.requests.len() == 1 && lbs == 1 {
            break;
        }
        if phase.elapsed() > PHASE_LIMIT {
            return Err(anyhow!(
                "the internal load balancer was not removed within {} s",
                PHASE_LIMIT.as_secs()
            ));
        }
        tokio::time::sleep(TICK).await;
    }
    let snapshot = sim.snapshot();
    writeln!(
        out,
        "  cleaned up: the cloud now holds {} load balancer and {} floating IP",
        live_load_balancers(sim),
        snapshot.floating_ips.len()
    )?;
    Ok(())
}

/// Prints a line for every change of a request's state.
fn progress(
    report: &StatusReport,
    seen: &mut BTreeMap<String, String>,
    out: &mut impl Write,
    started: Instant,
) -> anyhow::Result<()> {
    for row in &report.requests {
        let state = match (&row.provisioning_status, &row.answer) {
            (None, _) => "creating…".to_string(),
            (Some(p), None) => format!(
                "{p}{}",
                row.operating_status
                    .as_deref()
                    .map(|o| format!("/{o}"))
                    .unwrap_or_default()
            ),
            (Some(p), Some(a)) => format!(
                "{p}/{} members {}/{} → answered {a}",
                row.operating_status.as_deref().unwrap_or("-"),
                row.members_up.unwrap_or(0),
                row.members_total.unwrap_or(0)
            ),
        };
        if seen.get(&row.request) != Some(&state) {
            writeln!(
                out,
                "  [{:5.1}s] {:<44} {state}",
                started.elapsed().as_secs_f64(),
                row.request
            )?;
            seen.insert(row.request.clone(), state);
        }
    }
    Ok(())
}

/// Applies a hook's writes to our databags (as `relation-set` would).
fn apply(local: &mut Databags, output: &HookOutput) {
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

fn published_address(local: &Databags, relation: u64, name: &str) -> anyhow::Result<String> {
    let text = local
        .get(&relation)
        .and_then(|d| d.get(&format!("response_{name}")))
        .ok_or_else(|| anyhow!("no response_{name} was published"))?;
    let response =
        Response::parse(text).map_err(|e| anyhow!("response_{name} does not load: {e}"))?;
    response
        .address()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("response_{name} carries no address: {text}"))
}

fn problems(problems: &[String]) -> anyhow::Result<()> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(anyhow!("the hook reported: {}", problems.join("; ")))
    }
}

fn live_load_balancers(sim: &SimHandle) -> usize {
    sim.snapshot()
        .load_balancers
        .iter()
        .filter(|lb| lb.get("provisioning_status").and_then(|s| s.as_str()) != Some("DELETED"))
        .count()
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}
