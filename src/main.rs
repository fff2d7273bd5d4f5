//! The `octavia-integrator` command line: parses arguments and dispatches to the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Highly available API addresses on OpenStack Octavia for Juju-driven clusters.
#[derive(Debug, Parser)]
#[command(name = "octavia-integrator", version, about)]
struct Cli {
    /// Settings file (TOML). Also read from OCTAVIA_INTEGRATOR_CONFIG.
    #[arg(long, global = true, env = "OCTAVIA_INTEGRATOR_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let _ = &cli.config;
    match cli.command {}
}
