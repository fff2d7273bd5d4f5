//! Standard output for the data commands. `println!` panics when the reader has gone away
//! (`check-cloud --json | head -1`); these end the command quietly instead: nothing more can
//! be delivered, so the process exits with success.

use std::io::{ErrorKind, Write};

use super::exit;

/// Writes `text` to standard output and flushes it. A closed reader (broken pipe) ends the
/// process quietly with exit code 0; any other write error is reported on standard error
/// and ends it with exit code 1.
pub fn print(text: &str) {
    let result = {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
    if let Err(e) = result {
        std::process::exit(exit_code_for(&e));
    }
}

/// The exit code for a failed write to standard output (saying why on standard error
/// unless the reader simply went away).
fn exit_code_for(e: &std::io::Error) -> i32 {
    if e.kind() == ErrorKind::BrokenPipe {
        0
    } else {
        eprintln!("error: cannot write to standard output: {e}; check where the output goes");
        i32::from(exit::FAILURE)
    }
}

/// `print!` that never panics on a closed standard output (see [`print`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::print(&format!($($arg)*))
    };
}

/// `println!` that never panics on a closed standard output (see [`print`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        let mut text = format!($($arg)*);
        text.push('\n');
        $crate::cli::output::print(&text)
    }};
}

pub(crate) use {out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_reader_is_success_and_other_errors_are_failures() {
        let pipe = std::io::Error::from(ErrorKind::BrokenPipe);
        assert_eq!(exit_code_for(&pipe), 0);
        let full = std::io::Error::other("disk full");
        assert_eq!(exit_code_for(&full), i32::from(exit::FAILURE));
    }
}
