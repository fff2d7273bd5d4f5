//! Resolved cloud credentials: what to authenticate with, which scope, where, and how to trust
//! TLS. The credential model is the `openstack` crate's own ([`Credentials`], [`Scope`],
//! [`UserRef`], [`DomainRef`], [`Interface`]): settings resolve straight into what the session
//! uses. Every secret is a `SecretString`; `Debug` redacts it.

use std::path::PathBuf;

pub use openstack::session::{AppCredRef, Credentials, DomainRef, Interface, Scope, UserRef};

/// Parses an endpoint interface: `public`, `internal`, `admin` (and the legacy `publicURL`
/// forms when `legacy`, as clouds.yaml and `OS_INTERFACE` may write them).
pub fn parse_interface(text: &str, legacy: bool) -> Option<Interface> {
    match text {
        "public" => Some(Interface::Public),
        "internal" => Some(Interface::Internal),
        "admin" => Some(Interface::Admin),
        "publicURL" if legacy => Some(Interface::Public),
        "internalURL" if legacy => Some(Interface::Internal),
        "adminURL" if legacy => Some(Interface::Admin),
        _ => None,
    }
}

/// Extra CA certificates (PEM) to trust in addition to the system roots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaBundle {
    /// A PEM file, read when the session is built.
    File(PathBuf),
    /// PEM text carried by the credentials themselves (Juju credentials).
    Pem {
        /// Where it came from, for messages.
        origin: String,
        /// The PEM text (one or more certificates).
        pem: String,
    },
}

/// Everything needed to reach the cloud: resolved from exactly one credential source.
#[derive(Clone, Debug)]
pub struct CloudSettings {
    /// Keystone URL (as given: with or without `/v3`).
    pub auth_url: String,
    /// How to authenticate.
    pub auth: Credentials,
    /// What to scope the token to; `None` for application credentials, which carry their own
    /// project.
    pub scope: Option<Scope>,
    /// Region (`None`: the catalog's only region).
    pub region: Option<String>,
    /// Endpoint interface.
    pub interface: Interface,
    /// Extra CA certificates.
    pub ca: Option<CaBundle>,
    /// Skip TLS verification (only by explicit choice).
    pub insecure: bool,
    /// Where the credentials came from, for messages ("clouds.yaml /x (cloud `c`)").
    pub source: String,
}
