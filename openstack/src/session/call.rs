//! One HTTP call as data: what the resource modules hand to [`super::Session::send`].

use reqwest::Method;

/// Which catalog service a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceType {
    /// Octavia (`load-balancer` in the catalog); paths are relative to `<endpoint>/v2/`.
    LoadBalancer,
    /// Neutron (`network` in the catalog); paths are relative to `<endpoint>/v2.0/`.
    Network,
}

impl ServiceType {
    /// The catalog `type` of this service.
    pub fn catalog_type(self) -> &'static str {
        match self {
            ServiceType::LoadBalancer => "load-balancer",
            ServiceType::Network => "network",
        }
    }
}

/// How long a call may take: decides the per-call timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallClass {
    /// GET/list and small changes: short timeout.
    Read,
    /// Ordinary create/update/delete.
    Write,
    /// Fully populated create and batch member update: long timeout (at least 120 s).
    LongWrite,
}

/// Where a call goes: a path relative to the service's versioned base, or an absolute URL
/// (pagination `next` links).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// e.g. `lbaas/loadbalancers/<id>` for Octavia, `floatingips` for Neutron.
    Path(String),
    /// An absolute URL the service handed us (a `next` link).
    Url(String),
}

/// One HTTP call, fully described; [`super::Session::send`] adds the token, headers, retries
/// and timeout.
#[derive(Debug, Clone)]
pub struct Call {
    /// Which service.
    pub service: ServiceType,
    /// HTTP method.
    pub method: Method,
    /// Path or absolute URL.
    pub target: Target,
    /// Query parameters, in order; repeated keys allowed.
    pub query: Vec<(String, String)>,
    /// JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// Status codes that mean success; anything else becomes an [`crate::Error`].
    pub ok: &'static [u16],
    /// Timeout class.
    pub class: CallClass,
}

impl Call {
    /// A call with no query and no body.
    pub fn new(
        service: ServiceType,
        method: Method,
        path: impl Into<String>,
        ok: &'static [u16],
    ) -> Self {
        let class = if method == Method::GET {
            CallClass::Read
        } else {
            CallClass::Write
        };
        Call {
            service,
            method,
            target: Target::Path(path.into()),
            query: Vec::new(),
            body: None,
            ok,
            class,
        }
    }

    /// Adds a JSON body.
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Adds one query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Sets the timeout class.
    pub fn class(mut self, class: CallClass) -> Self {
        self.class = class;
        self
    }
}

/// A successful answer: status and body (headers the caller may need are kept too).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status (one of the call's `ok` codes).
    pub status: u16,
    /// `x-openstack-request-id` (or `x-compute-request-id`), when present.
    pub request_id: Option<String>,
    /// The raw body (may be empty, e.g. 204).
    pub body: Vec<u8>,
}
