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
/// Interrupted by Ctrl-C (SIGINT) and cleaned up: 128 + 2, the shell's convention.
pub const INTERRUPTED: u8 = 130;

/// The exit code of a failed connection to the cloud: settings or credentials to fix (3), or
/// a cloud that could not be asked or lacks what we need (1). Every command maps connection
/// failures here, so one 401 is one exit code everywhere.
pub fn of_connect(failure: &crate::daemon::cloud::ConnectFailure) -> u8 {
    if failure.is_settings_problem() {
        CONFIG
    } else {
        FAILURE
    }
}

/// The text appended to `--help` of the program and of every subcommand.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  success
  1  the operation failed (cloud error, failed check, daemon refusal)
  2  bad arguments or input
  3  settings or credentials missing or invalid
  4  the daemon is needed but not running or not answering
  130  interrupted by Ctrl-C (`demo`; everything it started is stopped)";

/// Prints `error` (with its causes) to standard error and returns `code`.
pub fn report(error: &anyhow::Error, code: u8) -> ExitCode {
    eprintln!("error: {}", describe(error));
    ExitCode::from(code)
}

/// The error and its causes on one line, each cause once: many of our errors already say
/// their cause in their own message, and repeating it ("…: No such file…: No such file…")
/// only hides the advice in the middle.
fn describe(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = anyhow::Error::new(io).context("cannot read /x: no such file; fix the path");
        assert_eq!(
            describe(&error),
            "cannot read /x: no such file; fix the path"
        );
    }

    #[test]
    fn a_cause_not_in_the_message_is_appended() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = anyhow::Error::new(io).context("cannot read /x");
        assert_eq!(describe(&error), "cannot read /x: no such file");
    }
}
