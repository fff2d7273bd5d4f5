//! Standard error as a log sink that never fails the program (see [`LossyStderr`]).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_subscriber::fmt::MakeWriter;

/// Log lines that could not be written (standard error closed or full), since start.
static DROPPED_LINES: AtomicU64 = AtomicU64::new(0);

/// How many log lines were dropped because standard error could not take them (shown in
/// `/metrics` as `octavia_integrator_log_lines_dropped_total`).
pub fn dropped_lines() -> u64 {
    DROPPED_LINES.load(Ordering::Relaxed)
}

/// Standard error as a log sink that never fails: a line it cannot write (journald restarted,
/// the pipe gone, the disk full) is dropped and counted, so a broken log never stops work or
/// signal handling. (The default writer's errors are reported with `eprintln!`, which panics
/// on a broken standard error.)
#[derive(Debug, Clone, Copy, Default)]
pub struct LossyStderr;

impl Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::io::stderr().write_all(buf).is_err() {
            DROPPED_LINES.fetch_add(1, Ordering::Relaxed);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LossyStderr {
    type Writer = LossyStderr;

    fn make_writer(&'a self) -> Self::Writer {
        LossyStderr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lossy_sink_never_fails() {
        let mut sink = LossyStderr;
        assert_eq!(sink.write(b"a line\n").unwrap(), 7);
        assert!(sink.flush().is_ok());
    }
}
