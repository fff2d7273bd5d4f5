//! The long-running service: local API on a unix socket, work queue, resync, metrics.
//!
//! # Layout
//! - [`service`]: [`run`] / [`run_with`]: start and stop (the store, the workers, the loops,
//!   the API; the shutdown drain).
//! - `state` (private): the state shared by the handlers, workers and loops, with
//!   leadership and when the store is trusted enough to remove and collect garbage.
//! - `loops` (private): the queue worker and the connect, resync and SIGHUP loops, a file each.
//! - [`cloud`]: reaching the cloud from the settings ([`cloud::connect`]).
//! - [`engine`]: one reconcile pass for one request, store bookkeeping, notify, status.
//! - `routes` (private) and [`api`]: the local API (HTTP/JSON over the unix socket) and its
//!   types; the handlers work on the shared state.
//! - [`answerer`]: the hook commands' answerers (through the daemon, or in-process).
//! - [`client`]: the CLI side of the local API (HTTP/1.1 + JSON over the unix socket).
//! - [`queue`]: the work queue (deduplicated, never two leases for one key, bounded workers).
//! - [`shutdown`]: one "stop now" signal fanned out to every task.
//! - [`metrics`]: Prometheus counters and histograms, rendered by hand; [`http`] serves them
//!   with `/healthz` on loopback TCP.
//! - [`notify`]: runs the notify command once per changed answer.
//! - [`socket`]: binding the unix socket (0600, never stolen from a running daemon).
//! - [`stored`]: how requests are kept in the store.

pub mod answerer;
pub mod api;
pub mod client;
pub mod cloud;
pub mod engine;
pub mod http;
mod loops;
pub mod metrics;
pub mod notify;
pub mod queue;
mod routes;
pub mod service;
pub mod shutdown;
pub mod socket;
mod state;
pub mod stored;

pub use answerer::{DaemonAnswerer, LocalAnswerer};
pub use client::{ClientError, DaemonClient};
pub use metrics::Metrics;
pub use queue::{Lease, WorkQueue};
pub use service::{run, run_with, DaemonError, Options};
pub use shutdown::Shutdown;
pub use socket::bind_socket;
