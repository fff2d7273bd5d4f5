//! The one error type of the crate.
//!
//! Every call returns [`Error`]. Callers branch on its questions ([`Error::is_not_found`],
//! [`Error::is_immutable_conflict`], [`Error::is_quota`], [`Error::is_retryable`],
//! [`Error::status`]) rather than on message text. An error never carries a token, password or
//! application-credential secret: status errors keep only the method, the URL *path* (no query,
//! no host), the request id and the message the service decoded into one of its three error
//! shapes (see [`ServiceFailure::from_response`]).

use std::fmt;
use std::time::Duration;

/// How much of an unrecognised error body is kept in the message.
const SNIPPET_CHARS: usize = 300;

/// A non-success HTTP answer from an OpenStack service, with everything needed to report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFailure {
    /// Catalog type of the service that answered (`identity`, `load-balancer`, `network`).
    pub service: &'static str,
    /// HTTP method of the call.
    pub method: String,
    /// URL path of the call (never the query string, never the host).
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// `x-openstack-request-id` (or `x-compute-request-id`) of the answer, for the operator to
    /// quote when asking the cloud's administrators.
    pub request_id: Option<String>,
    /// The service's own kind for the fault, when it says one: Neutron's `NeutronError.type`
    /// (e.g. `OverQuota`, `PortNotFound`), Keystone's `error.title`, Octavia's `faultcode`.
    pub kind: Option<String>,
    /// The human message decoded from the body (Octavia `faultstring`, Neutron
    /// `NeutronError.message`, Keystone `error.message`), else a trimmed snippet of the body.
    pub message: String,
}

impl ServiceFailure {
    /// Builds a failure from the parts of an HTTP answer, decoding whichever error shape the
    /// body has: Octavia `{"faultcode","faultstring","debuginfo"}`, Neutron
    /// `{"NeutronError":{"type","message","detail"}}` (or any `{"<Kind>":{"message"}}` such as
    /// `NotImplementedError`), Keystone/keystonemiddleware `{"error":{"code","title","message"}}`,
    /// API-WG `{"errors":[{"title","detail"}]}`; anything else is kept as a trimmed snippet.
    pub fn from_response(
        service: &'static str,
        method: &str,
        path: &str,
        status: u16,
        request_id: Option<String>,
        body: &[u8],
    ) -> Self {
        let (kind, message) = decode_fault(body);
        ServiceFailure {
            service,
            method: method.to_string(),
            path: path.to_string(),
            status,
            request_id,
            kind,
            message,
        }
    }

    fn mentions(&self, needle: &str) -> bool {
        self.message.to_ascii_lowercase().contains(needle)
    }
}

impl fmt::Display for ServiceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} answered {}",
            self.service, self.method, self.path, self.status
        )?;
        match &self.kind {
            Some(kind) => write!(f, " ({kind}): {}", self.message)?,
            None => write!(f, ": {}", self.message)?,
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

/// Decodes the three OpenStack error shapes (and API-WG `errors`), else a body snippet.
fn decode_fault(body: &[u8]) -> (Option<String>, String) {
    let text = String::from_utf8_lossy(body);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) {
        let s = |v: Option<&serde_json::Value>| -> Option<String> {
            match v? {
                serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        // Octavia (wsme): {"faultcode": "Client", "faultstring": "...", "debuginfo": null}
        if let Some(message) = s(map.get("faultstring")) {
            return (s(map.get("faultcode")), message);
        }
        // Keystone and keystonemiddleware: {"error": {"code", "title", "message"}}
        if let Some(serde_json::Value::Object(err)) = map.get("error") {
            if let Some(message) = s(err.get("message")) {
                return (s(err.get("title")), message);
            }
        }
        // Neutron: {"NeutronError": {"type", "message", "detail"}}
        if let Some(serde_json::Value::Object(err)) = map.get("NeutronError") {
            let kind = s(err.get("type"));
            let mut message = s(err.get("message")).unwrap_or_default();
            if let Some(detail) = s(err.get("detail")) {
                if message.is_empty() {
                    message = detail;
                } else {
                    message = format!("{message} ({detail})");
                }
            }
            if !message.is_empty() || kind.is_some() {
                return (kind, message);
            }
        }
        // API-WG (Octavia 406): {"errors": [{"status", "title", "detail"}]}
        if let Some(serde_json::Value::Array(errors)) = map.get("errors") {
            if let Some(serde_json::Value::Object(first)) = errors.first() {
                if let Some(message) = s(first.get("detail")).or_else(|| s(first.get("title"))) {
                    return (s(first.get("title")), message);
                }
            }
        }
        // Neutron wraps some faults by class name: {"NotImplementedError": {"message": ...}}
        if map.len() == 1 {
            if let Some((name, serde_json::Value::Object(inner))) = map.iter().next() {
                if let Some(message) = s(inner.get("message")) {
                    return (Some(name.clone()), message);
                }
            }
        }
    }
    (None, snippet(&text))
}

/// An error and all its sources, joined with `: ` (reqwest's top-level message alone says
/// little, e.g. "error sending request").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = e.source();
    }
    text
}

/// What to do about a transport failure, from what the client said: a TLS handshake answered
/// in plain HTTP (an `https://` URL for a port that serves `http://`) gets its own advice,
/// since rustls only calls it "InvalidContentType".
fn transport_advice(said: &str) -> &'static str {
    if said.contains("InvalidContentType") || said.contains("corrupt message") {
        "the server answered in plain HTTP, not TLS: use http:// in this URL, or the port that serves https://"
    } else {
        "check the endpoint URL, network/proxy settings and the CA bundle"
    }
}

/// A single-line, bounded excerpt of a body we could not decode.
fn snippet(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "(empty body)".to_string();
    }
    let mut out: String = one_line.chars().take(SNIPPET_CHARS).collect();
    if one_line.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// Everything that can go wrong talking to OpenStack.
///
/// Status variants box a [`ServiceFailure`] so the error stays small; the questions
/// (`is_*`, [`Error::status`], [`Error::request_id`]) work across variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 401: the token or the credentials were refused (after one re-authentication).
    #[error("{0}; the credentials were refused: check the user/application credential, its secret, the project/domain scope and the auth URL")]
    Unauthorized(Box<ServiceFailure>),
    /// 403 (not quota): policy forbids the call.
    #[error("{0}; the user lacks the role for this call: give it the `member` (or `load-balancer_member`) role on the project")]
    Forbidden(Box<ServiceFailure>),
    /// 404: the object does not exist (or belongs to another project).
    #[error("{0}; it does not exist or belongs to another project")]
    NotFound(Box<ServiceFailure>),
    /// 409: a conflict. `immutable` means Octavia refused because the object (or its parent) is
    /// in a PENDING state or ERROR; waiting for ACTIVE and retrying can help. Otherwise the
    /// request clashes with an existing object (duplicate port, member, health monitor…).
    #[error("{failure}{}", if *immutable { "; the object is busy (PENDING_*), retry after it is ACTIVE" } else { "" })]
    Conflict {
        /// Octavia said the object is immutable right now (a retryable state conflict).
        immutable: bool,
        /// What the service said.
        failure: Box<ServiceFailure>,
    },
    /// Quota exhausted: Octavia 403 "Quota has been met…", Neutron 409 `OverQuota`.
    #[error("{0}; the project quota is exhausted: free resources or ask the cloud administrators to raise the quota")]
    QuotaExceeded(Box<ServiceFailure>),
    /// 501: the provider does not support a requested option (e.g. OVN and HTTP).
    #[error("{0}; the load-balancer provider does not support this option: choose another provider or option")]
    NotImplemented(Box<ServiceFailure>),
    /// 400: the service rejected the request as invalid.
    #[error("{0}; the cloud rejected the request as invalid: check the settings and values the message names")]
    BadRequest(Box<ServiceFailure>),
    /// 5xx: the service failed.
    #[error("{0}; the service failed, it will be retried later")]
    Server(Box<ServiceFailure>),
    /// Any other unexpected status (e.g. 429 after retries, 406, 412, 3xx).
    #[error("{0}; this status was not expected for this call")]
    Status(Box<ServiceFailure>),
    /// The request could not be sent or the answer not read (DNS, TCP, TLS, reset).
    #[error("{service} {method} {path}: could not reach the service: {}; {}", chain(source), transport_advice(&chain(source)))]
    Transport {
        /// Catalog type of the service.
        service: &'static str,
        /// HTTP method.
        method: String,
        /// URL path (no query).
        path: String,
        /// `true` when the connection was never established (the server surely did nothing).
        connect: bool,
        /// The underlying client error, stripped of its URL.
        #[source]
        source: reqwest::Error,
    },
    /// No answer within the call's timeout. The server may still have acted: a create that
    /// timed out must be looked up by name before it is sent again.
    #[error("{service} {method} {path}: no answer within {}s; the service may still complete the request", after.as_secs())]
    Timeout {
        /// Catalog type of the service.
        service: &'static str,
        /// HTTP method.
        method: String,
        /// URL path (no query).
        path: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// A success answer whose body did not have the expected shape.
    #[error("{service} {method} {path}: could not decode the answer: {detail}; the cloud may run an incompatible API version")]
    Decode {
        /// Catalog type of the service.
        service: &'static str,
        /// HTTP method.
        method: String,
        /// URL path (no query).
        path: String,
        /// What did not fit.
        detail: String,
    },
    /// Our own configuration is unusable (bad auth URL, unreadable CA bundle, bad override).
    #[error("invalid OpenStack configuration: {0}")]
    Config(String),
    /// Keystone answered but the token answer is unusable (no `X-Subject-Token`, no catalog…).
    #[error("Keystone authentication failed: {0}")]
    Auth(String),
    /// The catalog has no endpoint for the service with the configured interface and region.
    #[error("the service catalog has no {interface} endpoint for `{service}`{}; available: {available}. Set the region/interface to one of these, or configure an endpoint override for `{service}`", region.as_deref().map(|r| format!(" in region `{r}`")).unwrap_or_default())]
    NoEndpoint {
        /// Catalog service type asked for.
        service: &'static str,
        /// Interface asked for (`public`, `internal`, `admin`).
        interface: &'static str,
        /// Region asked for, if any.
        region: Option<String>,
        /// What the catalog offers for that service (interface/region pairs), or `none`.
        available: String,
    },
    /// A load balancer (or other object) went to provisioning status ERROR while we waited.
    #[error("{what} went to provisioning status {status}; it cannot be changed any more: delete and recreate it")]
    ProvisioningFailed {
        /// What was waited for (e.g. `load balancer 0a1b…`).
        what: String,
        /// The terminal status seen (`ERROR`).
        status: String,
    },
    /// The wait budget ran out before the goal was reached.
    #[error("{what} did not become {goal} within {}s (last provisioning status: {last}); it will be checked again later", waited.as_secs())]
    WaitTimedOut {
        /// What was waited for.
        what: String,
        /// The goal (`ACTIVE` or `deleted`).
        goal: &'static str,
        /// How long we waited.
        waited: Duration,
        /// The last provisioning status seen, or `unknown`.
        last: String,
    },
    /// The wait was cancelled (shutdown).
    #[error("waiting for {what} was cancelled")]
    Cancelled {
        /// What was waited for.
        what: String,
    },
}

impl Error {
    /// Classifies a non-success status answer into the right variant.
    pub fn from_failure(failure: ServiceFailure) -> Self {
        let f = Box::new(failure);
        let neutron_kind = f.kind.as_deref().unwrap_or("");
        match f.status {
            401 => Error::Unauthorized(f),
            403 if f.mentions("quota") => Error::QuotaExceeded(f),
            403 => Error::Forbidden(f),
            404 => Error::NotFound(f),
            409 if neutron_kind == "OverQuota" || f.mentions("quota exceeded") => {
                Error::QuotaExceeded(f)
            }
            409 => Error::Conflict {
                immutable: f.mentions("immutable") || f.mentions("invalid state pending"),
                failure: f,
            },
            400 => Error::BadRequest(f),
            501 => Error::NotImplemented(f),
            500..=599 => Error::Server(f),
            _ => Error::Status(f),
        }
    }

    /// The service failure behind a status error, if this is one.
    pub fn failure(&self) -> Option<&ServiceFailure> {
        match self {
            Error::Unauthorized(f)
            | Error::Forbidden(f)
            | Error::NotFound(f)
            | Error::QuotaExceeded(f)
            | Error::NotImplemented(f)
            | Error::BadRequest(f)
            | Error::Server(f)
            | Error::Status(f) => Some(f),
            Error::Conflict { failure, .. } => Some(failure),
            _ => None,
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        self.failure().map(|f| f.status)
    }

    /// The `x-openstack-request-id` of the failed answer, when the service sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.failure().and_then(|f| f.request_id.as_deref())
    }

    /// The object does not exist (404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// Octavia refused because the object or its parent is PENDING_* (or ERROR): wait for
    /// ACTIVE and try again.
    pub fn is_immutable_conflict(&self) -> bool {
        matches!(
            self,
            Error::Conflict {
                immutable: true,
                ..
            }
        )
    }

    /// 412: an `If-Match` precondition failed (Neutron `RevisionNumberConstraintFailed`: the
    /// object changed since its revision was read; read it again and retry).
    pub fn is_stale_revision(&self) -> bool {
        self.status() == Some(412)
    }

    /// Any 409 (immutable or a real clash).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }

    /// The project quota is exhausted.
    pub fn is_quota(&self) -> bool {
        matches!(self, Error::QuotaExceeded(_))
    }

    /// The credentials or token were refused.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Unauthorized(_))
    }

    /// The provider does not support what was asked (501).
    pub fn is_not_implemented(&self) -> bool {
        matches!(self, Error::NotImplemented(_))
    }

    /// The call timed out on our side (the server may still have acted).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// Trying the same thing again later may succeed: transport errors, timeouts, 5xx,
    /// 429, immutable conflicts, and an exhausted wait budget. Everything else needs a change
    /// (of request, configuration or quota) first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } | Error::WaitTimedOut { .. } => true,
            Error::Server(_) => true,
            Error::Status(f) => f.status == 429,
            Error::Conflict { immutable, .. } => *immutable,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: u16, body: &str) -> Error {
        Error::from_failure(ServiceFailure::from_response(
            "load-balancer",
            "PUT",
            "/v2/lbaas/listeners/1",
            status,
            Some("req-1".into()),
            body.as_bytes(),
        ))
    }

    #[test]
    fn octavia_immutable_conflict() {
        let e = failure(
            409,
            r#"{"faultcode":"Client","faultstring":"Load Balancer 12 is immutable and cannot be updated.","debuginfo":null}"#,
        );
        assert!(e.is_immutable_conflict());
        assert!(e.is_retryable());
        assert_eq!(e.status(), Some(409));
        assert_eq!(e.request_id(), Some("req-1"));
        let text = e.to_string();
        assert!(text.contains("Load Balancer 12 is immutable"), "{text}");
        assert!(text.contains("PUT /v2/lbaas/listeners/1"), "{text}");
    }

    #[test]
    fn octavia_invalid_state_pending_is_immutable() {
        let e = failure(
            409,
            r#"{"faultcode":"Client","faultstring":"Invalid state PENDING_UPDATE of loadbalancer resource 7","debuginfo":null}"#,
        );
        assert!(e.is_immutable_conflict());
    }

    #[test]
    fn duplicate_conflict_is_final() {
        let e = failure(
            409,
            r#"{"faultcode":"Client","faultstring":"Another Listener on this Load Balancer is already using protocol TCP and protocol_port 443","debuginfo":null}"#,
        );
        assert!(e.is_conflict());
        assert!(!e.is_immutable_conflict());
        assert!(!e.is_retryable());
    }

    #[test]
    fn octavia_quota_and_neutron_over_quota() {
        let e = failure(
            403,
            r#"{"faultcode":"Client","faultstring":"Quota has been met for resources: Load Balancer","debuginfo":null}"#,
        );
        assert!(e.is_quota());
        assert!(!e.is_retryable());
        let e = failure(
            409,
            r#"{"NeutronError":{"type":"OverQuota","message":"Quota exceeded for resources: ['floatingip'].","detail":""}}"#,
        );
        assert!(e.is_quota());
        assert_eq!(e.failure().unwrap().kind.as_deref(), Some("OverQuota"));
    }

    #[test]
    fn keystone_shape_and_snippet() {
        let e = failure(
            401,
            r#"{"error":{"code":401,"title":"Unauthorized","message":"The request you have made requires authentication."}}"#,
        );
        assert!(e.is_unauthorized());
        assert_eq!(
            e.failure().unwrap().message,
            "The request you have made requires authentication."
        );
        let e = failure(502, "<html>\n  <body>Bad   gateway</body>\n</html>");
        assert_eq!(
            e.failure().unwrap().message,
            "<html> <body>Bad gateway</body> </html>"
        );
        assert!(e.is_retryable());
        let e = failure(500, "");
        assert_eq!(e.failure().unwrap().message, "(empty body)");
    }

    #[test]
    fn not_implemented_and_forbidden() {
        let e = failure(
            501,
            r#"{"faultcode":"Server","faultstring":"Provider 'ovn' does not support a requested option: HTTP","debuginfo":null}"#,
        );
        assert!(e.is_not_implemented());
        assert!(!e.is_retryable());
        let e = failure(
            403,
            r#"{"faultcode":"Client","faultstring":"Policy does not allow this request to be performed.","debuginfo":null}"#,
        );
        assert!(matches!(e, Error::Forbidden(_)));
        let e = failure(
            501,
            r#"{"NotImplementedError":{"type":"NotImplementedError","message":"not here","detail":""}}"#,
        );
        assert_eq!(e.failure().unwrap().message, "not here");
    }

    #[test]
    fn long_snippet_is_bounded() {
        let body = "x".repeat(5000);
        let e = failure(500, &body);
        assert!(e.failure().unwrap().message.chars().count() <= SNIPPET_CHARS + 1);
    }

    #[test]
    fn error_is_send_sync_and_small() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert!(std::mem::size_of::<Error>() <= 128);
    }
}

#[cfg(test)]
mod transport_advice_tests {
    use super::transport_advice;

    #[test]
    fn tls_to_a_plain_http_port_says_so() {
        let said = "error sending request: client error (Connect): received corrupt message of type InvalidContentType";
        assert!(transport_advice(said).contains("use http://"));
        assert!(transport_advice("connection refused").contains("endpoint URL"));
    }
}
