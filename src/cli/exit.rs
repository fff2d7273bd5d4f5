//! Exit codes shared by every subcommand (documented in `--help` and docs/cli.md).

use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// The operation failed (cloud error, a failed preflight check, a daemon refusal).
pub const FAILURE: u8 = 1;
/// Bad arguments or input (clap uses 2 for usage errors too).
pub const USAGE: u8 = 2;
/// Settings or credentials could not be read or are invalid.
pub const CONFIG: u8 = 3;
/// The daemon is needed but not running, or did not answer.
pub const UNAVAILABLE: u8 = 4;

/// The text appended to `--help` of the program and of every subcommand.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  success
  1  the operation failed (cloud error, failed check, daemon refusal)
  2  bad arguments or input
  3  settings or credentials missing or invalid
  4  the daemon is needed but not running or not answering";

/// Prints `error` (with its causes) to standard error and returns `code`.
pub fn report(error: &anyhow::Error, code: u8) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::from(code)
}
