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
    /// `If-Match` header, if any (Neutron: `revision_number=N`, answered 412 when stale).
    pub if_match: Option<String>,
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
            if_match: None,
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

    /// Sends `If-Match: <value>`: the server refuses the call (412) unless the precondition
    /// holds.
    pub fn if_match(mut self, value: impl Into<String>) -> Self {
        self.if_match = Some(value.into());
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
    /// Catalog type of the service that answered (for error messages).
    pub service: &'static str,
    /// HTTP method of the call (for error messages).
    pub method: String,
    /// URL path of the call, without the query (for error messages).
    pub path: String,
}

impl Reply {
    /// A reply as [`super::Session::send`] builds it; public so that tests of resource modules
    /// can feed canned answers to their decoders.
    pub fn new(
        service: ServiceType,
        method: Method,
        path: impl Into<String>,
        status: u16,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        Reply {
            status,
            request_id: None,
            body: body.into(),
            service: service.catalog_type(),
            method: method.to_string(),
            path: path.into(),
        }
    }

    /// Decodes the body as JSON into `T`.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] naming the service, method and path when the body is not the
    /// expected JSON (an empty body included).
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
        serde_json::from_slice(&self.body).map_err(|e| crate::Error::Decode {
            service: self.service,
            method: self.method.clone(),
            path: self.path.clone(),
            detail: if self.body.is_empty() {
                format!("empty body with status {} ({e})", self.status)
            } else {
                e.to_string()
            },
        })
    }

    /// The body has no content (e.g. 204, 202 without body).
    pub fn is_empty(&self) -> bool {
        self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// The body as text (lossy UTF-8), e.g. for logging a snippet.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Thing {
        id: String,
    }

    #[test]
    fn json_decode_error_names_the_call() {
        let r = Reply::new(
            ServiceType::LoadBalancer,
            Method::GET,
            "/v2/lbaas/loadbalancers/x",
            200,
            br#"{"nope": 1}"#.to_vec(),
        );
        let err = r.json::<Thing>().unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("load-balancer GET /v2/lbaas/loadbalancers/x"),
            "{text}"
        );
        let ok = Reply::new(
            ServiceType::Network,
            Method::GET,
            "p",
            200,
            br#"{"id":"a"}"#.to_vec(),
        );
        assert_eq!(ok.json::<Thing>().unwrap().id, "a");
        assert!(!ok.is_empty());
        let empty = Reply::new(ServiceType::Network, Method::DELETE, "p", 204, Vec::new());
        assert!(empty.is_empty());
        assert!(empty
            .json::<Thing>()
            .unwrap_err()
            .to_string()
            .contains("empty body"));
    }
}
