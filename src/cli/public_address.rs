//! `octavia-integrator [--config PATH] public-address [--port PORT] [--wait SECS]`: the legacy
//! `loadbalancer` (interface `public-address`) hook.
//!
//! Same envelope as `lb-consumers` (stdin: relations with their units' data; stdout: keys to
//! set and unset, for **our unit** databag on each relation), same exit codes; see
//! [`crate::relation::public_address`].

use std::process::ExitCode;

use crate::cli::lb_consumers::{block_on, emit, read_input};
use crate::relation::hook;
use crate::relation::public_address::DEFAULT_FRONTEND_PORT;
use crate::relation::Answerer;

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

/// Runs the command with a given answerer (see [`crate::cli::lb_consumers::run_with`]).
pub fn run_with<A: Answerer>(answerer: &A, frontend_port: u16) -> ExitCode {
    let input = match read_input() {
        Ok(input) => input,
        Err(code) => return code,
    };
    match block_on(hook::public_address(&input, answerer, frontend_port)) {
        Ok(result) => emit(&result, &mut std::io::stdout()),
        Err(code) => code,
    }
}
