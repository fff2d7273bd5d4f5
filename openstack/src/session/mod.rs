//! Keystone v3 session: credentials, token cache, catalog, endpoint choice, retries, TLS.
//!
//! Every HTTP call of the crate goes through [`Session::send`].

pub mod call;

pub use call::{Call, CallClass, Reply, ServiceType, Target};
