//! octavia-integrator: highly available API addresses on OpenStack Octavia for Juju-driven
//! clusters.
//!
//! # Layout
//! Data goes one way: relation → spec → reconcile → openstack → reconcile → relation.
//! - [`relation`]: the `loadbalancer` interface v1 (requests, responses, canonical JSON and
//!   hashes, databag processing) and the legacy `public-address` interface. Knows nothing of
//!   OpenStack.
//! - [`spec`]: pure functions from a request, site settings and provider capabilities to the
//!   desired load-balancer graph.
//! - [`reconcile`]: observe → diff → act → wait → answer for one request; delete; garbage-collect.
//! - [`store`]: the persisted desired requests and last answers.
//! - [`daemon`]: the long-running service behind the CLI.
//! - [`config`]: settings and credentials.
//! - [`log_sink`]: standard error as a log sink that never fails the program.
//! - [`cli`]: what each subcommand does (`src/main.rs` only parses and dispatches).

#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod daemon;
pub mod hook;
pub mod log_sink;
pub mod reconcile;
pub mod relation;
pub mod spec;
pub mod store;
