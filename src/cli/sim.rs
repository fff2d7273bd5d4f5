//! `octavia-integrator sim [--listen ADDR] [--provider amphora|ovn] [--delay-scale X]
//! [--seed N] [--write-config PATH]`: run the simulated cloud in the foreground.
//!
//! Prints `export OS_...` lines the `openstack` CLI can use (plus `#` comment lines with the
//! seeded ids), optionally writes a settings file (mode 0600) that `octavia-integrator --config
//! PATH ...` uses, and serves until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use openstack_sim::{Credentials, FaultPlan, Provider, SeedIds, Sim};

use crate::cli::exit;

/// Arguments of `sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Loopback address to listen on (port 0 = any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Default Octavia provider: amphora (slow, no SOURCE_IP_PORT) or ovn (fast, TCP/UDP/SCTP only).
    #[arg(long, value_name = "amphora|ovn", default_value = "amphora")]
    pub provider: Provider,
    /// Real seconds per simulated second (amphora takes 90 simulated seconds to go ACTIVE).
    #[arg(long, value_name = "X", default_value_t = 0.05)]
    pub delay_scale: f64,
    /// Seed for ids and fault draws.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Faults to inject from the start: a JSON fault plan (the body `PUT /_sim/faults` takes;
    /// change it at run time the same way).
    #[arg(long, value_name = "PATH")]
    pub faults: Option<PathBuf>,
    /// Write a settings file (mode 0600) pointing at the simulated cloud.
    #[arg(long, value_name = "PATH")]
    pub write_config: Option<PathBuf>,
}

/// Runs the simulator until SIGINT or SIGTERM.
pub fn run(args: &Args) -> ExitCode {
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "error: --listen {} is not a loopback address; the simulated cloud only listens on 127.0.0.1",
            args.listen
        );
        return ExitCode::from(exit::USAGE);
    }
    if !(args.delay_scale.is_finite() && args.delay_scale >= 0.0) {
        eprintln!(
            "error: --delay-scale must be a number ≥ 0 (e.g. 0.05), not {}",
            args.delay_scale
        );
        return ExitCode::from(exit::USAGE);
    }
    let plan = match args.faults.as_deref().map(read_plan).transpose() {
        Ok(plan) => plan.unwrap_or_default(),
        Err(e) => return exit::report(&e, exit::USAGE),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return exit::report(
                &anyhow::anyhow!("cannot start the async runtime: {e}"),
                exit::FAILURE,
            )
        }
    };
    match runtime.block_on(serve(args, plan)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e, exit::FAILURE),
    }
}

async fn serve(args: &Args, plan: FaultPlan) -> anyhow::Result<()> {
    let sim = Sim::builder()
        .provider(args.provider)
        .delay_scale(args.delay_scale)
        .seed(args.seed)
        .listen(args.listen)
        .faults(plan)
        .build()
        .start()
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: pick a free port or use 127.0.0.1:0",
                args.listen
            )
        })?;
    let creds = sim.credentials();
    let ids = sim.seed_ids();
    if let Some(path) = &args.write_config {
        write_settings(path, &written_settings(&creds, &ids, args.provider))?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "# octavia-integrator sim: listening on {} (provider {}, delay scale {}); Ctrl-C stops it",
        sim.base_url(),
        args.provider,
        args.delay_scale
    )?;
    out.write_all(exports(&creds).as_bytes())?;
    writeln!(out, "# vip_subnet_id={}", ids.vip_subnet_id)?;
    writeln!(out, "# external_network_id={}", ids.external_network_id)?;
    writeln!(out, "# member_addresses={}", ids.member_addresses.join(","))?;
    if let Some(path) = &args.write_config {
        writeln!(out, "# settings written to {}", path.display())?;
    }
    out.flush()?;
    drop(out);
    wait_for_signal().await?;
    sim.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot listen for SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}

/// Read a JSON fault plan.
fn read_plan(path: &Path) -> anyhow::Result<FaultPlan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the fault plan {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "the fault plan {} is not valid (keys: errors, drops, latency, lb_errors, delays, \
             no_fully_populated, cut_off)",
            path.display()
        )
    })
}

/// Shell-quote a value for `export`.
fn shell_quote(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
        && !v.is_empty()
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

/// The `export OS_...=...` lines for the `openstack` CLI.
pub fn exports(c: &Credentials) -> String {
    let vars = [
        ("OS_AUTH_URL", c.auth_url.as_str()),
        ("OS_USERNAME", &c.username),
        ("OS_PASSWORD", &c.password),
        ("OS_PROJECT_NAME", &c.project_name),
        ("OS_USER_DOMAIN_NAME", &c.domain_name),
        ("OS_PROJECT_DOMAIN_NAME", &c.domain_name),
        ("OS_REGION_NAME", &c.region),
        ("OS_INTERFACE", "public"),
        ("OS_IDENTITY_API_VERSION", "3"),
    ];
    vars.iter()
        .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
        .collect()
}

/// A TOML basic string.
fn toml_str(v: &str) -> String {
    let mut out = String::from("\"");
    for ch in v.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The settings file for the simulated cloud (shape of the settings sketch).
pub fn settings_toml(c: &Credentials, ids: &SeedIds, provider: Provider) -> String {
    // OVN runs TCP checks only: take the closest to the HTTP check Kubernetes asks for.
    let closest = match provider {
        Provider::Ovn => "closest_health_check = true\n",
        Provider::Amphora => "",
    };
    let text = format!(
        "# Written by `octavia-integrator sim`: settings for the simulated cloud.\n\
         cluster_id = \"sim\"\n\n\
         [cloud]\n\
         auth_url = {}\n\
         region = {}\n\
         interface = \"public\"\n\
         username = {}\n\
         user_domain_name = {}\n\
         password = {}\n\
         project_name = {}\n\
         project_domain_name = {}\n\n\
         [load_balancer]\n\
         vip_subnet = {}\n\
         floating_network = {}\n\
         provider = {}\n",
        toml_str(&c.auth_url),
        toml_str(&c.region),
        toml_str(&c.username),
        toml_str(&c.domain_name),
        toml_str(&c.password),
        toml_str(&c.project_name),
        toml_str(&c.domain_name),
        toml_str(&ids.vip_subnet_id),
        toml_str(&ids.external_network_id),
        toml_str(provider.as_str()),
    );
    text + closest
}

/// The `[daemon]` section `sim --write-config` adds: the socket and the store next to the
/// settings file (relative paths resolve against its folder), no metrics listener (no port
/// to collide with), so `serve`, the hook commands and `status` work without root.
pub const DAEMON_SECTION: &str = "\n[daemon]\n\
     socket = \"octavia-integrator.sock\"\n\
     state_file = \"octavia-integrator-state.json\"\n\
     metrics_address = \"off\"\n";

/// The whole file `sim --write-config` writes: [`settings_toml`] plus [`DAEMON_SECTION`].
pub fn written_settings(c: &Credentials, ids: &SeedIds, provider: Provider) -> String {
    let mut text = settings_toml(c, ids, provider);
    text.push_str(DAEMON_SECTION);
    text
}

/// Write `text` to `path` with mode 0600 (replacing any file there).
fn write_settings(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| {
            format!(
                "cannot write the settings file {}: check the directory exists and is writable",
                path.display()
            )
        })?;
    // An existing file keeps its old mode on open: tighten it explicitly.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot set mode 0600 on {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write the settings file {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[tokio::test]
    async fn written_settings_load_and_point_at_the_simulator() {
        let sim = Sim::builder().seed(3).build().start().await.expect("start");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sim.toml");
        write_settings(
            &path,
            &written_settings(&sim.credentials(), &sim.seed_ids(), Provider::Ovn),
        )
        .expect("write");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).expect("meta").permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let settings = Settings::load(&path).expect("settings load");
        assert_eq!(settings.cluster_id, "sim");
        // The daemon's socket and store sit next to the settings file; no metrics port.
        assert_eq!(
            settings.daemon.socket,
            dir.path().join("octavia-integrator.sock")
        );
        assert_eq!(
            settings.daemon.state_file,
            dir.path().join("octavia-integrator-state.json")
        );
        assert_eq!(settings.daemon.metrics_address, None);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(&sim.auth_url()));
        assert!(text.contains(&sim.seed_ids().vip_subnet_id));
        sim.shutdown().await;
    }

    #[test]
    fn exports_cover_what_the_openstack_cli_needs_and_quote_values() {
        let c = Credentials {
            auth_url: "http://127.0.0.1:1/v3".into(),
            username: "admin".into(),
            password: "it's secret".into(),
            user_id: "u".into(),
            domain_name: "Default".into(),
            domain_id: "default".into(),
            project_name: "demo".into(),
            project_id: "p".into(),
            application_credential_id: "a".into(),
            application_credential_name: "n".into(),
            application_credential_secret: "s".into(),
            region: "RegionOne".into(),
        };
        let text = exports(&c);
        for var in [
            "OS_AUTH_URL=http://127.0.0.1:1/v3",
            "OS_USERNAME=admin",
            "OS_PROJECT_NAME=demo",
            "OS_USER_DOMAIN_NAME=Default",
            "OS_PROJECT_DOMAIN_NAME=Default",
            "OS_REGION_NAME=RegionOne",
            "OS_INTERFACE=public",
            "OS_IDENTITY_API_VERSION=3",
            "OS_PASSWORD='it'\\''s secret'",
        ] {
            assert!(
                text.contains(&format!("export {var}\n")),
                "{var} missing in {text}"
            );
        }
    }

    #[test]
    fn fault_plans_are_read_and_bad_ones_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("good.json");
        std::fs::write(&good, r#"{"no_fully_populated": ["ovn"], "errors": [{"route": "*", "status": 503, "times": 1}]}"#).expect("write");
        let plan = read_plan(&good).expect("plan");
        assert_eq!(plan.no_fully_populated, vec![Provider::Ovn]);
        assert_eq!(plan.errors[0].status, 503);
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"nonsense": true}"#).expect("write");
        let err = format!("{:#}", read_plan(&bad).expect_err("rejected"));
        assert!(err.contains("bad.json"), "{err}");
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
