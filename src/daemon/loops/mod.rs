//! The daemon's long-running tasks, one file each; every one runs on the shared
//! [`Daemon`](super::state::Daemon) until it stops.
//!
//! - [`worker`]: one queue worker, reconciling keys until the queue closes;
//! - [`connect`]: connects to the cloud (retrying) and again after each settings reload;
//! - [`resync`]: every resync period, re-checks every request and collects garbage;
//! - [`sighup`]: reloads the settings on SIGHUP.

pub(crate) mod connect;
pub(crate) mod resync;
pub(crate) mod sighup;
pub(crate) mod worker;
