//! `octavia-integrator [--config PATH] public-address [--port PORT] [--wait SECS]`: the legacy
//! `loadbalancer` (interface `public-address`) hook.
//!
//! Same envelope as `lb-consumers` (stdin: relations with their units' data; stdout: keys to
//! set and unset, for **our unit** databag on each relation), same exit codes; see
//! [`crate::relation::public_address`].

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::hooks::HookSettings;
use crate::cli::lb_consumers::{block_on, emit, read_input};
use crate::hook;
use crate::relation::public_address::DEFAULT_FRONTEND_PORT;
use crate::relation::Interface;

/// Arguments of `public-address`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The load balancer's frontend port published as `port` (the Python charm's `lb-port`).
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_FRONTEND_PORT,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,

    /// Without a daemon, wait up to SECS in-process for load balancers to converge.
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub wait: u64,
}

/// Runs `public-address` (see [`crate::cli::lb_consumers::run`]).
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    let settings = HookSettings::load(config);
    let input = match read_input() {
        Ok(input) => input,
        Err(code) => return code,
    };
    let wait = Duration::from_secs(args.wait);
    let flow = async {
        let answerer = settings.answerer(Interface::PublicAddress, wait).await;
        hook::public_address(&input, &answerer, args.port).await
    };
    match block_on(flow) {
        Ok(result) => emit(&result, &mut std::io::stdout()),
        Err(code) => code,
    }
}
