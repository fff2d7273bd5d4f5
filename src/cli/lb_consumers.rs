//! `octavia-integrator [--config PATH] lb-consumers [--wait SECS]`: the `lb-consumers` hook.
//!
//! Reads the relation data on stdin and writes the databag changes on stdout, in the envelope
//! documented in [`crate::relation::databag`]. Standard output always holds the complete,
//! valid writes — also when the exit code is not 0 (then some requests could not be answered
//! and standard error says why): hooks apply it either way.
//!
//! The envelope must carry ALL relations of the endpoint with ALL their requests: a request
//! missing from stdin counts as removed, its response is unset and its load balancer deleted.
//!
//! Exit codes: 0 every request answered or still converging; 1 some request could not be
//! answered; 2 the input is not a valid envelope (nothing written); 3 no cloud is configured
//! (only requests that do not load were answered).

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::exit;
use crate::cli::hooks::HookSettings;
use crate::hook::{self, HookResult};
use crate::relation::{HookInput, Interface};

/// Arguments of `lb-consumers`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Without a daemon, wait up to SECS in-process for load balancers to converge before
    /// answering (requests not ready by then are answered by a later hook).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub wait: u64,
}

/// Runs `lb-consumers`: settings first, then the envelope, then the answerer (the daemon or
/// this process, see [`HookSettings::answerer`]) inside the hook's runtime.
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    let settings = HookSettings::load(config);
    let input = match read_input() {
        Ok(input) => input,
        Err(code) => return code,
    };
    let wait = Duration::from_secs(args.wait);
    let flow = async {
        let answerer = settings.answerer(Interface::LoadBalancer, wait).await;
        hook::lb_consumers(&input, &answerer).await
    };
    match block_on(flow) {
        Ok(result) => emit(&result, &mut std::io::stdout()),
        Err(code) => code,
    }
}

/// Reads and parses the envelope on stdin (errors are reported; exit code 2).
pub(crate) fn read_input() -> Result<HookInput, ExitCode> {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("error: cannot read the relation data from standard input: {e}");
        return Err(ExitCode::from(exit::USAGE));
    }
    parse_input(&text).map_err(|message| {
        eprintln!("error: {message}");
        ExitCode::from(exit::USAGE)
    })
}

/// Parses the hook envelope; the message names what is wrong.
pub fn parse_input(text: &str) -> Result<HookInput, String> {
    serde_json::from_str(text).map_err(|e| {
        format!(
            "the relation data on standard input is not a valid envelope \
             ({{\"relations\": [{{\"id\", \"app\", \"app_data\", \"units\", \"local_app_data\"}}]}}): {e}"
        )
    })
}

/// Runs a hook flow on a small runtime of its own.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, ExitCode> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Ok(rt.block_on(future)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            Err(ExitCode::from(exit::FAILURE))
        }
    }
}

/// Writes the output envelope to `out`, the problems and notes to stderr / the log, and picks
/// the exit code.
pub(crate) fn emit(result: &HookResult, out: &mut impl Write) -> ExitCode {
    for note in &result.notes {
        tracing::info!("{note}");
    }
    for problem in &result.problems {
        eprintln!("error: {problem}");
    }
    let text = match serde_json::to_string(&result.output) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot encode the output: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        eprintln!("error: cannot write the output to standard output: {e}");
        return ExitCode::from(exit::FAILURE);
    }
    ExitCode::from(exit_code(result))
}

fn exit_code(result: &HookResult) -> u8 {
    if result.problems.is_empty() {
        exit::OK
    } else if result.no_cloud {
        exit::CONFIG
    } else {
        exit::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_errors_name_the_problem() {
        let err = parse_input(r#"{"relations": [{"id": "x", "app": "a"}]}"#).unwrap_err();
        assert!(err.contains("invalid type"), "{err}");
        assert!(parse_input("").is_err());
        assert!(parse_input(r#"{"relations": []}"#).is_ok());
    }

    #[test]
    fn the_exit_code_says_whether_to_fix_settings_or_the_cloud() {
        let mut r = HookResult {
            output: Default::default(),
            problems: vec![],
            notes: vec![],
            no_cloud: false,
        };
        assert_eq!(exit_code(&r), exit::OK);
        r.problems.push("x".into());
        assert_eq!(exit_code(&r), exit::FAILURE);
        r.no_cloud = true;
        assert_eq!(exit_code(&r), exit::CONFIG);
        let mut out = Vec::new();
        let _ = emit(&r, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "{\"relations\":[]}\n");
    }
}
