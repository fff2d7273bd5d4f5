//! The `loadbalancer` relation interface v1 and the legacy `public-address` interface.
//!
//! Byte-compatible with the Python library `loadbalancer-interface` 1.2.1 (research
//! juju-interfaces.md §1): [`v1`] holds the request / response types, their validation,
//! canonical JSON and hashes. Knows nothing of OpenStack.

pub mod answer;
pub mod databag;
pub mod json;
pub mod public_address;
pub mod v1;

pub use answer::{AnswerError, Answerer, Interface, NoCloud, RequestKey};
pub use databag::{HookInput, HookOutput};
pub use v1::{
    Address, ErrorKind, Failure, HealthCheck, InvalidRequest, Protocol, Request, RequestField,
    Response,
};
