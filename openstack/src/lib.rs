//! The small async OpenStack client octavia-integrator needs, and nothing it does not.
//!
//! # Layout
//! - [`error`]: the one error type every call returns, with questions the caller can ask
//!   (`is_not_found`, `is_immutable_conflict`, `is_quota`, `is_retryable`, `status`).
//! - [`session`]: Keystone v3 authentication, token cache and single-flight re-auth, the service
//!   catalog, endpoint choice, retry policy, timeouts and TLS. Every HTTP call goes through
//!   [`session::Session::send`].
//! - [`load_balancer`]: Octavia v2, one module per resource.
//! - [`network`]: Neutron v2.0, one module per resource.
//! - [`wait`]: polling until a load balancer is ACTIVE, gone or in ERROR.
//!
//! The simulated cloud the tests run against is the crate `openstack-sim` beside this one; it
//! shares no type with this client, so a mistake in one cannot be mirrored by the other.
#![deny(missing_docs)]

mod calls;
pub mod error;
pub mod load_balancer;
pub mod network;
mod pagination;
pub mod session;
pub mod wait;

pub use error::{Error, ServiceFailure};
pub use session::{
    ApiVersion, AppCredRef, Call, CallClass, CallObserver, CallRecord, Credentials, DomainRef,
    Interface, Method, Reply, RetryBudget, RetryPolicy, Scope, ServiceType, Session, SessionConfig,
    Target, Timeouts, UserRef,
};
