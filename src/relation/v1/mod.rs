//! Schema version 1 of the `loadbalancer` interface: [`Request`], [`HealthCheck`], [`Response`].
//!
//! Field names, defaults, validation, canonical JSON and hashes are those of the Python library
//! `loadbalancer-interface` 1.2.1 (research juju-interfaces.md §1.4–§1.7):
//! - [`Request::parse`] accepts and rejects what the library's `Request.loads` accepts and
//!   rejects (unknown keys, `null` where not allowed, lower-case protocols, integer
//!   `port_mapping` keys and values, marshmallow's lenient booleans and integers);
//! - [`Request::canonical_json`] / [`Request::hash`] are byte-identical to `Request.dumps()` /
//!   `Request.hash`;
//! - a [`Response`] can only be built valid (see [`response`]).

mod canonical;
pub(crate) mod load;
pub mod response;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};

pub use load::InvalidRequest;
pub use response::{Address, AddressError, EmptyMessage, ErrorKind, Failure, Response};

/// The schema version we speak, as written in the `version` databag key.
pub const VERSION: &str = "1";

/// A protocol, written lower-case on the wire (`tcp`, `udp`, `http`, `https`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// `tcp`
    Tcp,
    /// `udp`
    Udp,
    /// `http`
    Http,
    /// `https`
    Https,
}

impl Protocol {
    /// Every protocol, in the library's order.
    pub const ALL: [Protocol; 4] = [
        Protocol::Tcp,
        Protocol::Udp,
        Protocol::Http,
        Protocol::Https,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Http => "http",
            Protocol::Https => "https",
        }
    }

    /// The protocol for an exact wire spelling (`"TCP"` is not one, as in the library).
    pub fn from_wire(s: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The top-level field names of a request: the only keys allowed in a response's
/// `error_fields`. Ordered by wire name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestField {
    /// `algorithm`
    Algorithm,
    /// `backends`
    Backends,
    /// `health_checks`
    HealthChecks,
    /// `id`
    Id,
    /// `ingress_address`
    IngressAddress,
    /// `name`
    Name,
    /// `port_mapping`
    PortMapping,
    /// `protocol`
    Protocol,
    /// `public`
    Public,
    /// `sent_hash`
    SentHash,
    /// `sticky`
    Sticky,
    /// `tls_cert`
    TlsCert,
    /// `tls_key`
    TlsKey,
    /// `tls_termination`
    TlsTermination,
}

impl RequestField {
    /// Every field, sorted by wire name (the canonical JSON order).
    pub const ALL: [RequestField; 14] = [
        RequestField::Algorithm,
        RequestField::Backends,
        RequestField::HealthChecks,
        RequestField::Id,
        RequestField::IngressAddress,
        RequestField::Name,
        RequestField::PortMapping,
        RequestField::Protocol,
        RequestField::Public,
        RequestField::SentHash,
        RequestField::Sticky,
        RequestField::TlsCert,
        RequestField::TlsKey,
        RequestField::TlsTermination,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestField::Id => "id",
            RequestField::Name => "name",
            RequestField::Protocol => "protocol",
            RequestField::Backends => "backends",
            RequestField::PortMapping => "port_mapping",
            RequestField::Algorithm => "algorithm",
            RequestField::Sticky => "sticky",
            RequestField::HealthChecks => "health_checks",
            RequestField::Public => "public",
            RequestField::TlsTermination => "tls_termination",
            RequestField::TlsCert => "tls_cert",
            RequestField::TlsKey => "tls_key",
            RequestField::IngressAddress => "ingress_address",
            RequestField::SentHash => "sent_hash",
        }
    }
}

impl FromStr for RequestField {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        RequestField::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or(())
    }
}

impl fmt::Display for RequestField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The TLS private key of a request: a secret (never shown by `Debug`).
#[derive(Clone)]
pub struct TlsKey(SecretString);

impl TlsKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        TlsKey(SecretString::from(key.into()))
    }

    /// The key text.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for TlsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsKey([redacted])")
    }
}

impl PartialEq for TlsKey {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for TlsKey {}

/// One requested health check (library `HealthCheck`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// `protocol` (required).
    pub protocol: Protocol,
    /// `port` (required). Any integer the library accepts; range is checked by
    /// [`crate::spec::spec()`].
    pub port: i64,
    /// `path` (default `null`).
    pub path: Option<String>,
    /// `interval`: seconds between checks (default 30).
    pub interval: i64,
    /// `retries`: failures before a backend is down (default 3).
    pub retries: i64,
}

impl HealthCheck {
    /// A check with the library's defaults for `path`, `interval` and `retries`.
    pub fn new(protocol: Protocol, port: i64) -> Self {
        HealthCheck {
            protocol,
            port,
            path: None,
            interval: 30,
            retries: 3,
        }
    }
}

/// One load-balancer request (library `Request`, schema v1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `id` (required): the requirer's stable identity of this request.
    pub id: String,
    /// `name` (required): also the suffix of the `request_<name>` / `response_<name>` keys.
    pub name: String,
    /// `protocol` (required).
    pub protocol: Protocol,
    /// `backends` (default `[]`): empty means "the remote units' ingress addresses".
    pub backends: Vec<String>,
    /// `port_mapping` (required, may be empty): frontend port → backend port, ordered
    /// numerically like the library's canonical JSON.
    pub port_mapping: BTreeMap<i64, i64>,
    /// `algorithm` (default `[]`): preferred algorithms, most preferred first.
    pub algorithm: Vec<String>,
    /// `sticky` (default `false`).
    pub sticky: bool,
    /// `health_checks` (default `[]`).
    pub health_checks: Vec<HealthCheck>,
    /// `public` (default `true`).
    pub public: bool,
    /// `tls_termination` (default `false`).
    pub tls_termination: bool,
    /// `tls_cert` (default `null`).
    pub tls_cert: Option<String>,
    /// `tls_key` (default `null`).
    pub tls_key: Option<TlsKey>,
    /// `ingress_address` (default `null`): a requested frontend address.
    pub ingress_address: Option<String>,
    /// `sent_hash` (default `null`): set by the requirer; echoed as the response's
    /// `received_hash`.
    pub sent_hash: Option<String>,
}

impl Request {
    /// A request with the library's defaults for every optional field.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        protocol: Protocol,
        port_mapping: BTreeMap<i64, i64>,
    ) -> Self {
        Request {
            id: id.into(),
            name: name.into(),
            protocol,
            backends: Vec::new(),
            port_mapping,
            algorithm: Vec::new(),
            sticky: false,
            health_checks: Vec::new(),
            public: true,
            tls_termination: false,
            tls_cert: None,
            tls_key: None,
            ingress_address: None,
            sent_hash: None,
        }
    }

    /// Parses the JSON text of a `request_<name>` value exactly as the library's `Request.loads`
    /// accepts or rejects it. The error names every offending top-level field.
    pub fn parse(text: &str) -> Result<Request, InvalidRequest> {
        load::parse_request(text)
    }

    /// Loads a request from an already parsed JSON value.
    pub fn from_json(value: &crate::relation::json::Json) -> Result<Request, InvalidRequest> {
        load::load_request(value)
    }

    /// The library's `Request.dumps()`: sorted keys, `", "` / `": "`, ASCII escapes,
    /// `port_mapping` keys in numeric order.
    pub fn canonical_json(&self) -> String {
        canonical::request(self)
    }

    /// The library's `Request.hash`: lower-case hex MD5 of [`Self::canonical_json`].
    pub fn hash(&self) -> String {
        md5_hex(self.canonical_json().as_bytes())
    }

    /// What the requirer's `send_request` stores in `sent_hash`: the hash computed with
    /// `sent_hash` null.
    pub fn compute_sent_hash(&self) -> String {
        let mut unsent = self.clone();
        unsent.sent_hash = None;
        unsent.hash()
    }

    /// This request as the requirer sends it (`sent_hash` filled in).
    pub fn sealed(mut self) -> Request {
        self.sent_hash = Some(self.compute_sent_hash());
        self
    }
}

impl HealthCheck {
    /// The library's `HealthCheck.dumps()`.
    pub fn canonical_json(&self) -> String {
        canonical::health_check(self)
    }
}

/// Lower-case hex MD5 of `bytes`.
pub(crate) fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    let digest = Md5::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl serde::Serialize for Request {
    /// Serialises every field, keys in the canonical order (`port_mapping` keys numerically),
    /// for stores and APIs that embed requests. Byte-identical text comes only from
    /// [`Request::canonical_json`] (separators differ).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = serializer.serialize_map(Some(RequestField::ALL.len()))?;
        m.serialize_entry("algorithm", &self.algorithm)?;
        m.serialize_entry("backends", &self.backends)?;
        m.serialize_entry("health_checks", &self.health_checks)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("ingress_address", &self.ingress_address)?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("port_mapping", &NumericKeys(&self.port_mapping))?;
        m.serialize_entry("protocol", self.protocol.as_str())?;
        m.serialize_entry("public", &self.public)?;
        m.serialize_entry("sent_hash", &self.sent_hash)?;
        m.serialize_entry("sticky", &self.sticky)?;
        m.serialize_entry("tls_cert", &self.tls_cert)?;
        m.serialize_entry("tls_key", &self.tls_key.as_ref().map(TlsKey::expose))?;
        m.serialize_entry("tls_termination", &self.tls_termination)?;
        m.end()
    }
}

/// A port mapping serialised with string keys in numeric order.
struct NumericKeys<'a>(&'a BTreeMap<i64, i64>);

impl serde::Serialize for NumericKeys<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k.to_string(), v)))
    }
}

impl serde::Serialize for HealthCheck {
    /// Serialises every field, keys sorted.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = serializer.serialize_map(Some(5))?;
        m.serialize_entry("interval", &self.interval)?;
        m.serialize_entry("path", &self.path)?;
        m.serialize_entry("port", &self.port)?;
        m.serialize_entry("protocol", self.protocol.as_str())?;
        m.serialize_entry("retries", &self.retries)?;
        m.end()
    }
}

impl<'de> serde::Deserialize<'de> for Request {
    /// Deserialises with exactly the library's validation ([`Request::from_json`]).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = crate::relation::json::Json::deserialize(deserializer)?;
        Request::from_json(&value).map_err(|e| serde::de::Error::custom(e.describe()))
    }
}

#[cfg(test)]
mod tests;
