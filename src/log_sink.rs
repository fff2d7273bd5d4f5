//! Standard error as a log sink that never holds up or fails the program: log lines go through
//! a bounded queue to one writer thread. A line the queue cannot take (standard error stalled:
//! a pipe nobody reads, journald restarted) or the writer cannot write (the pipe gone, the disk
//! full) is dropped and counted, so work and signal handling never wait on the log.
//! (tracing-subscriber's own writer blocks on a full pipe and reports a failed write with
//! `eprintln!`, which panics when standard error itself is what broke.)

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Lines the queue holds before new ones are dropped.
const QUEUED_LINES: usize = 1024;
/// How long the guard waits at exit for queued lines to be written.
const FLUSH_WAIT: Duration = Duration::from_secs(2);

/// Log lines dropped since start (queue full, or standard error refused them).
static DROPPED_LINES: AtomicU64 = AtomicU64::new(0);

/// How many log lines were dropped because standard error could not take them (shown in
/// `/metrics` as `octavia_integrator_log_lines_dropped_total`).
pub fn dropped_lines() -> u64 {
    DROPPED_LINES.load(Ordering::Relaxed)
}

fn dropped() {
    DROPPED_LINES.fetch_add(1, Ordering::Relaxed);
}

enum Msg {
    Line(Vec<u8>),
    /// Everything queued before is written: say so.
    Flushed(SyncSender<()>),
}

/// The writer `tracing` is given: queues each formatted event for the writer thread.
#[derive(Debug, Clone)]
pub struct LossyStderr {
    queue: SyncSender<Msg>,
}

/// Flushes what is queued (for a bounded time) when dropped: keep it until the program ends.
#[derive(Debug)]
pub struct FlushGuard {
    queue: SyncSender<Msg>,
}

impl LossyStderr {
    /// The sink and the guard that flushes it at exit. Starts the writer thread.
    pub fn start() -> (LossyStderr, FlushGuard) {
        Self::start_writing_to(std::io::stderr)
    }

    fn start_writing_to<W: Write + 'static>(open: fn() -> W) -> (LossyStderr, FlushGuard) {
        let (queue, lines) = mpsc::sync_channel(QUEUED_LINES);
        let spawned = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || write_lines(lines, open));
        if spawned.is_err() {
            // No thread: every line is dropped (and counted) rather than the program stopped.
            dropped();
        }
        (
            LossyStderr {
                queue: queue.clone(),
            },
            FlushGuard { queue },
        )
    }
}

fn write_lines<W: Write>(lines: Receiver<Msg>, open: fn() -> W) {
    let mut out = open();
    for msg in lines {
        match msg {
            Msg::Line(line) => {
                if out.write_all(&line).is_err() {
                    dropped();
                }
            }
            Msg::Flushed(done) => {
                let _ = out.flush();
                let _ = done.send(());
            }
        }
    }
}

impl Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.queue.try_send(Msg::Line(buf.to_vec())) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => dropped(),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LossyStderr {
    type Writer = LossyStderr;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        let (done, flushed) = mpsc::sync_channel(1);
        if self.queue.try_send(Msg::Flushed(done)).is_ok() {
            let _ = flushed.recv_timeout(FLUSH_WAIT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    static WRITTEN: Mutex<Vec<u8>> = Mutex::new(Vec::new());

    struct Capture;

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            WRITTEN.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A writer that never returns: a pipe nobody reads.
    struct Stalled;

    impl Write for Stalled {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            loop {
                std::thread::park();
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_in_order_and_flushed_at_exit() {
        let (mut sink, guard) = LossyStderr::start_writing_to(|| Capture);
        for i in 0..10 {
            sink.write_all(format!("line {i}\n").as_bytes()).unwrap();
        }
        drop(guard);
        let text = String::from_utf8(WRITTEN.lock().unwrap().clone()).unwrap();
        let expected: String = (0..10).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, expected);
    }

    #[test]
    fn a_stalled_standard_error_never_holds_up_the_caller() {
        let (mut sink, _guard) = LossyStderr::start_writing_to(|| Stalled);
        let before = dropped_lines();
        // Far more lines than the queue holds: each write returns at once; the rest are
        // dropped and counted.
        for _ in 0..QUEUED_LINES + 100 {
            assert_eq!(sink.write(b"x\n").unwrap(), 2);
        }
        assert!(dropped_lines() >= before + 99, "{}", dropped_lines());
    }
}
