//! The long-running service: local API on a unix socket, work queue, resync, metrics.
//!
//! # Layout
//! - [`shutdown`]: one "stop now" signal fanned out to every task.
//! - [`queue`]: the work queue (deduplicated, never two leases for one key, bounded workers).
//! - [`metrics`]: Prometheus counters and histograms, rendered by hand.
//! - [`notify`]: runs the notify command once per changed answer.
//! - [`client`]: the CLI side of the local API (HTTP/1.1 + JSON over the unix socket).

pub mod client;
pub mod metrics;
pub mod notify;
pub mod queue;
pub mod shutdown;

pub use client::{ClientError, DaemonClient};
pub use metrics::Metrics;
pub use queue::{Lease, WorkQueue};
pub use shutdown::Shutdown;
