//! The `octavia-integrator` command line: parses arguments and dispatches to the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use octavia_integrator::cli;
use octavia_integrator::cli::logging::LogFormat;

/// Highly available API addresses on OpenStack Octavia for Juju-driven clusters.
#[derive(Debug, Parser)]
#[command(name = "octavia-integrator", version, about, after_help = cli::exit::EXIT_CODES_HELP)]
struct Cli {
    /// Settings file (TOML). Also read from OCTAVIA_INTEGRATOR_CONFIG.
    #[arg(long, global = true, env = "OCTAVIA_INTEGRATOR_CONFIG")]
    config: Option<PathBuf>,

    /// Log format on standard error: human-readable text or one JSON object per line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "OCTAVIA_INTEGRATOR_LOG_FORMAT")]
    log_format: LogFormat,

    /// More log detail: -v info, -vv debug, -vvv trace (OCTAVIA_INTEGRATOR_LOG overrides).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The `lb-consumers` hook: relation data on stdin, databag changes on stdout.
    ///
    /// The envelope must carry ALL relations of the endpoint with ALL their requests: a request
    /// missing from stdin counts as removed, and its load balancer is deleted.
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    LbConsumers(cli::lb_consumers::Args),
    /// The legacy `loadbalancer` (public-address) hook: same envelope as lb-consumers.
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    PublicAddress(cli::public_address::Args),
    /// Run the simulated OpenStack cloud (Keystone, Octavia, Neutron) on loopback until Ctrl-C.
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    Sim(cli::sim::Args),
    /// Build or update the load balancer of one request in this process; print the Response JSON.
    ///
    /// For trials without a daemon: what `apply` builds is not in the daemon's store, so a
    /// daemon's garbage collection would delete it; `apply` refuses (exit 1) while a daemon
    /// answers on the configured socket.
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    Apply(cli::apply::Args),
    /// Delete everything built for one request (floating IP, load balancer, security groups).
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    Remove(cli::remove::Args),
    /// Show what `apply` would change for a request, without changing anything.
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    Plan(cli::plan::Args),
    /// List (or with --yes delete) resources of this cluster that no current request owns.
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    Gc(cli::gc::Args),
    /// Run the daemon: local API on a unix socket, work queue, resync, /metrics and /healthz.
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    Serve(cli::serve::Args),
    /// Show every request and its load balancer (VIP, floating IP, statuses, members).
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    Status(cli::status::Args),
    /// Ask the running daemon to re-check every request against the cloud now.
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    Resync(cli::resync::Args),
    /// Tell the daemon whether this unit is the Juju leader (only the leader acts on the cloud).
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    Leader(cli::leader::Args),
    /// Preflight the cloud: credentials, catalog, Octavia version and providers, subnets.
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    CheckCloud(cli::check_cloud::Args),
    /// Run the whole thing on a simulated cloud: two requests, their load balancers, cleanup.
    #[command(after_help = cli::exit::EXIT_CODES_HELP)]
    Demo(cli::demo::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let _ = &cli.config;
    // The daemon reports progress at info; commands run from hooks stay quiet unless asked.
    let base = match cli.command {
        Command::Serve(_) => tracing::Level::INFO,
        _ => tracing::Level::WARN,
    };
    // `apply` waits on the cloud in the foreground: show a person what it is waiting for.
    let progress = matches!(cli.command, Command::Apply(_)) && cli::progress::wanted(cli.verbose);
    // Held until main returns: dropping it writes out the log lines still queued.
    let _log = cli::logging::init(cli.log_format, cli.verbose, base, progress);
    match &cli.command {
        Command::LbConsumers(args) => cli::lb_consumers::run(cli.config.as_deref(), args),
        Command::PublicAddress(args) => cli::public_address::run(cli.config.as_deref(), args),
        Command::Sim(args) => cli::sim::run(args),
        Command::Apply(args) => cli::apply::run(cli.config.as_deref(), args),
        Command::Remove(args) => cli::remove::run(cli.config.as_deref(), args),
        Command::Plan(args) => cli::plan::run(cli.config.as_deref(), args),
        Command::Gc(args) => cli::gc::run(cli.config.as_deref(), args),
        Command::Serve(args) => cli::serve::run(cli.config.as_deref(), args),
        Command::Status(args) => cli::status::run(cli.config.as_deref(), args),
        Command::Leader(args) => cli::leader::run(cli.config.as_deref(), args),
        Command::Resync(args) => cli::resync::run(cli.config.as_deref(), args),
        Command::CheckCloud(args) => cli::check_cloud::run(cli.config.as_deref(), args),
        Command::Demo(args) => cli::demo::run(args),
    }
}
