//! Keystone v3 session: credentials, token cache, catalog, endpoint choice, retries, TLS.
//!
//! Every HTTP call of the crate goes through [`Session::send`]. A [`Session`] is cheap to
//! clone (an `Arc` inside) and is meant to be shared by all tasks.
//!
//! Token life cycle (openstack-api.md §1.8): the token lives in memory only; it is renewed
//! when less than 120 s of its life is left (life measured from our receive time plus
//! `expires_at − issued_at`, so clock skew does not matter); renewal is single-flight (many
//! callers, one Keystone request, skipped if another caller already renewed); a 401 from a
//! service invalidates it, re-authenticates once and replays the call once.
//!
//! ```no_run
//! # async fn demo() -> Result<(), openstack::Error> {
//! use openstack::session::Method;
//! use openstack::{Call, Credentials, DomainRef, Scope, ServiceType, Session, SessionConfig, UserRef};
//! use secrecy::SecretString;
//!
//! let mut config = SessionConfig::new(
//!     "https://keystone.example:5000/v3",
//!     Credentials::Password {
//!         user: UserRef::Name { name: "integrator".into(), domain: DomainRef::Id("default".into()) },
//!         password: SecretString::from("from the settings file"),
//!     },
//! );
//! config.scope = Some(Scope::ProjectName { name: "k8s".into(), domain: DomainRef::Id("default".into()) });
//! let session = Session::new(config)?;
//! let reply = session
//!     .send(Call::new(ServiceType::LoadBalancer, Method::GET, "lbaas/loadbalancers", &[200]))
//!     .await?;
//! let body: serde_json::Value = reply.json()?;
//! # let _ = body;
//! # Ok(())
//! # }
//! ```

pub mod call;
mod catalog;
pub mod config;
mod keystone;
pub mod observer;
pub mod retry;
mod token;
mod transport;

use std::sync::Arc;

use url::Url;

pub use call::{Call, CallClass, Reply, ServiceType, Target};
pub use config::{
    AppCredRef, Credentials, DomainRef, Interface, Scope, SessionConfig, Timeouts, UserRef,
};
pub use observer::{CallObserver, CallRecord};
/// The HTTP method type [`Call`] uses (re-exported so callers need no `reqwest` dependency).
pub use reqwest::Method;
pub use retry::{RetryBudget, RetryPolicy};

use crate::Error;
use token::TokenCache;
use transport::{Exchange, Transport};

/// An Octavia API version (`v2.30`), as reported by its version document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    /// Major version (2).
    pub major: u32,
    /// Minor version (e.g. 30).
    pub minor: u32,
}

impl ApiVersion {
    /// Parses `v2.30` (or `2.30`); `None` if it is not of that form.
    pub fn parse(id: &str) -> Option<Self> {
        let id = id.trim().trim_start_matches(['v', 'V']);
        let (major, minor) = id.split_once('.').unwrap_or((id, "0"));
        Some(ApiVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }

    /// Whether this version is at least `major.minor` (e.g. `at_least(2, 12)` for
    /// `allowed_cidrs`).
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        self >= ApiVersion { major, minor }
    }
}

impl std::fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}", self.major, self.minor)
    }
}

/// An authenticated connection to one OpenStack cloud. Clone it freely.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    config: SessionConfig,
    transport: Transport,
    tokens: TokenCache,
    identity_base: tokio::sync::OnceCell<Url>,
    octavia_version: tokio::sync::OnceCell<ApiVersion>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.inner.config)
            .field("token_expiry", &self.token_expiry())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Builds the HTTP client (TLS roots, CA bundle, proxies from the environment,
    /// `User-Agent`). Does no network I/O: authentication happens on the first call.
    ///
    /// # Errors
    /// [`Error::Config`] when the auth URL is not an http(s) URL, the CA bundle holds no
    /// certificate, or the TLS client cannot be built.
    pub fn new(config: SessionConfig) -> Result<Session, Error> {
        let auth = Url::parse(config.auth_url.trim()).map_err(|e| {
            Error::Config(format!(
                "auth URL `{}` is not a URL ({e}); set it to Keystone's URL, e.g. https://keystone.example:5000/v3",
                config.auth_url
            ))
        })?;
        if !matches!(auth.scheme(), "http" | "https") || auth.host_str().is_none() {
            return Err(Error::Config(format!(
                "auth URL `{}` is not an http(s) URL with a host; set it to Keystone's URL, e.g. https://keystone.example:5000/v3",
                config.auth_url
            )));
        }
        let transport = Transport::new(&config)?;
        Ok(Session {
            inner: Arc::new(Inner {
                config,
                transport,
                tokens: TokenCache::default(),
                identity_base: tokio::sync::OnceCell::new(),
                octavia_version: tokio::sync::OnceCell::new(),
            }),
        })
    }

    /// Reports every HTTP attempt (Keystone included) to `observer`. Applies to all clones
    /// of this session.
    pub fn with_observer(self, observer: Arc<dyn CallObserver>) -> Session {
        self.inner.transport.set_observer(observer);
        self
    }

    /// Sends one call: adds the token and headers, applies the retry policy and the call's
    /// timeout, re-authenticates once on a 401 and replays the call once.
    ///
    /// A POST is re-sent only when the server surely did not act on it (connection refused,
    /// 503, 429, 409 "immutable"); after our own timeout it is **not** re-sent: the caller
    /// gets [`Error::Timeout`] and must look the object up by its name before creating it
    /// again (see [`retry`]).
    ///
    /// # Errors
    /// Any status outside `call.ok` as the matching [`Error`] variant; [`Error::Timeout`] and
    /// [`Error::Transport`] when no answer came; auth and catalog errors from Keystone.
    pub async fn send(&self, call: Call) -> Result<Reply, Error> {
        let mut token = self.token().await?;
        let mut replayed = false;
        loop {
            let url = self.call_url(&call, &token.catalog)?;
            let exchange = Exchange {
                service: call.service.catalog_type(),
                method: call.method.clone(),
                url,
                route: route_of(&call),
                token: Some(&token.secret),
                body: call.body.as_ref(),
                if_match: call.if_match.as_deref(),
                timeout: self.timeout_for(call.class),
                ok: call.ok,
            };
            match self.inner.transport.exchange(exchange).await {
                Err(e) if e.is_unauthorized() && !replayed => {
                    tracing::debug!(
                        service = call.service.catalog_type(),
                        "service answered 401; re-authenticating once and replaying"
                    );
                    replayed = true;
                    token = self.reauthenticate(token.generation).await?;
                }
                Err(e) => return Err(e),
                Ok(raw) => {
                    return Ok(Reply {
                        status: raw.status,
                        request_id: raw.request_id,
                        body: raw.body,
                        service: call.service.catalog_type(),
                        method: call.method.to_string(),
                        path: raw.path,
                    })
                }
            }
        }
    }

    /// The project the token is scoped to (authenticates if needed).
    ///
    /// # Errors
    /// Authentication errors; [`Error::Auth`] if the token is not project-scoped.
    pub async fn project_id(&self) -> Result<String, Error> {
        let token = self.token().await?;
        token.project_id.clone().ok_or_else(|| {
            Error::Auth("the token is not scoped to a project; configure a project scope (Octavia and Neutron need one)".into())
        })
    }

    /// The versioned base URL of a service (`…/v2/` for Octavia, `…/v2.0/` for Neutron),
    /// from the endpoint override or the catalog.
    ///
    /// # Errors
    /// [`Error::NoEndpoint`] when the catalog has no matching endpoint; auth errors.
    pub async fn endpoint(&self, service: ServiceType) -> Result<Url, Error> {
        let raw = self.raw_endpoint(service).await?;
        catalog::service_base(service, &raw)
    }

    /// The highest Octavia API version the cloud offers (the `CURRENT` one), from `GET /` on
    /// the Octavia endpoint (no token sent). Fetched once per session, then cached.
    ///
    /// # Errors
    /// Endpoint, transport and status errors; [`Error::Decode`] if the document lists no
    /// version.
    pub async fn octavia_version(&self) -> Result<ApiVersion, Error> {
        self.inner
            .octavia_version
            .get_or_try_init(|| async {
                let raw = self.raw_endpoint(ServiceType::LoadBalancer).await?;
                let root = catalog::service_root(ServiceType::LoadBalancer, &raw)?;
                let reply = self
                    .inner
                    .transport
                    .exchange(Exchange {
                        service: "load-balancer",
                        method: Method::GET,
                        url: root,
                        route: "/".into(),
                        token: None,
                        body: None,
                        if_match: None,
                        timeout: self.timeout_for(CallClass::Read),
                        ok: &[200, 300],
                    })
                    .await?;
                pick_version(&reply.body).ok_or_else(|| Error::Decode {
                    service: "load-balancer",
                    method: "GET".into(),
                    path: reply.path.clone(),
                    detail: "the version document lists no v2.x version".into(),
                })
            })
            .await
            .copied()
    }

    /// When the current token expires (Keystone's `expires_at`), if we hold one. For status
    /// output; never the token itself.
    pub fn token_expiry(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inner.tokens.current().and_then(|t| t.expires_at)
    }

    /// Forgets the current token; the next call authenticates again.
    pub fn invalidate_token(&self) {
        self.inner.tokens.clear();
    }

    fn timeout_for(&self, class: CallClass) -> Option<std::time::Duration> {
        let t = &self.inner.config.timeouts;
        match class {
            CallClass::Read => t.read,
            CallClass::Write => t.write,
            CallClass::LongWrite => t.long_write,
        }
    }

    async fn raw_endpoint(&self, service: ServiceType) -> Result<String, Error> {
        if let Some(url) = self.inner.config.endpoint_overrides.get(&service) {
            return Ok(url.clone());
        }
        let token = self.token().await?;
        catalog::select_endpoint(
            &token.catalog,
            service,
            self.inner.config.interface,
            self.inner.config.region.as_deref(),
        )
    }

    fn call_url(
        &self,
        call: &Call,
        catalog_entries: &[catalog::CatalogService],
    ) -> Result<Url, Error> {
        let raw = match self.inner.config.endpoint_overrides.get(&call.service) {
            Some(url) => url.clone(),
            None => catalog::select_endpoint(
                catalog_entries,
                call.service,
                self.inner.config.interface,
                self.inner.config.region.as_deref(),
            )?,
        };
        let base = catalog::service_base(call.service, &raw)?;
        let mut url = match &call.target {
            Target::Path(path) => catalog::join(&base, path)?,
            Target::Url(link) => rebase_link(call, &base, link)?,
        };
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter());
        }
        Ok(url)
    }
}

/// A `next` link is used as-is when it points at the endpoint we use. If it names another
/// origin (clouds behind proxies often return internal host names), its part after the version
/// segment is joined to our base instead, so the token never goes to a host we were not given.
fn rebase_link(call: &Call, base: &Url, link: &str) -> Result<Url, Error> {
    let bad = |detail: String| Error::Decode {
        service: call.service.catalog_type(),
        method: call.method.to_string(),
        path: base.path().to_string(),
        detail,
    };
    let url = Url::parse(link).map_err(|e| bad(format!("pagination link is not a URL ({e})")))?;
    if url.origin() == base.origin() {
        return Ok(url);
    }
    let marker = match call.service {
        ServiceType::LoadBalancer => ["/v2/", "/v2.0/"],
        ServiceType::Network => ["/v2.0/", "/v2.0/"],
    };
    let rest = marker
        .iter()
        .find_map(|m| url.path().find(m).map(|i| &url.path()[i + m.len()..]))
        .ok_or_else(|| {
            bad("pagination link points at another host and has no version segment".into())
        })?;
    let mut rebased = catalog::join(base, rest)?;
    rebased.set_query(url.query());
    Ok(rebased)
}

/// The metric route of a call: its path template (ids replaced by `{id}`).
fn route_of(call: &Call) -> String {
    match &call.target {
        Target::Path(p) => observer::route_template(p.trim_start_matches('/')),
        Target::Url(u) => {
            let path = Url::parse(u)
                .map(|u| u.path().to_string())
                .unwrap_or_default();
            let rel = ["/v2.0/", "/v2/"]
                .iter()
                .find_map(|m| path.find(m).map(|i| path[i + m.len()..].to_string()))
                .unwrap_or(path);
            observer::route_template(&rel)
        }
    }
}

/// The `CURRENT` version of an Octavia version document, else the highest v2.x listed.
fn pick_version(body: &[u8]) -> Option<ApiVersion> {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(default)]
        versions: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        id: String,
        #[serde(default)]
        status: String,
    }
    let doc: Doc = serde_json::from_slice(body).ok()?;
    let parsed = doc
        .versions
        .iter()
        .filter_map(|e| {
            ApiVersion::parse(&e.id).map(|v| (v, e.status.eq_ignore_ascii_case("CURRENT")))
        })
        .filter(|(v, _)| v.major == 2);
    let all: Vec<(ApiVersion, bool)> = parsed.collect();
    all.iter()
        .filter(|(_, current)| *current)
        .map(|(v, _)| *v)
        .max()
        .or_else(|| all.iter().map(|(v, _)| *v).max())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parsing_and_choice() {
        assert_eq!(
            ApiVersion::parse("v2.30"),
            Some(ApiVersion {
                major: 2,
                minor: 30
            })
        );
        assert_eq!(
            ApiVersion::parse("v2"),
            Some(ApiVersion { major: 2, minor: 0 })
        );
        assert_eq!(ApiVersion::parse("vx"), None);
        assert!(ApiVersion::parse("v2.12").unwrap().at_least(2, 5));
        assert!(!ApiVersion::parse("v2.4").unwrap().at_least(2, 5));
        let doc = br#"{"versions":[{"id":"v2.0","status":"SUPPORTED"},{"id":"v2.9","status":"SUPPORTED"},{"id":"v2.30","status":"CURRENT"},{"id":"v1","status":"DEPRECATED"}]}"#;
        assert_eq!(pick_version(doc).unwrap().to_string(), "v2.30");
        let doc = br#"{"versions":[{"id":"v2.0","status":"SUPPORTED"},{"id":"v2.11","status":"SUPPORTED"}]}"#;
        assert_eq!(pick_version(doc).unwrap().to_string(), "v2.11");
        assert!(pick_version(b"{}").is_none());
    }

    #[test]
    fn routes_are_templates() {
        let call = Call::new(
            ServiceType::LoadBalancer,
            Method::GET,
            "lbaas/loadbalancers/8b0c6e2a-5a3c-4d7e-9d3a-3c0f6f4a0b1e",
            &[200],
        );
        assert_eq!(route_of(&call), "lbaas/loadbalancers/{id}");
        let mut call = call;
        call.target = Target::Url("http://h:9876/v2/lbaas/loadbalancers?marker=x".into());
        assert_eq!(route_of(&call), "lbaas/loadbalancers");
    }

    #[test]
    fn foreign_next_links_are_rebased() {
        let base = Url::parse("https://lb.example/load-balancer/v2/").unwrap();
        let mut call = Call::new(ServiceType::LoadBalancer, Method::GET, "x", &[200]);
        call.target = Target::Url("http://10.0.0.5:9876/v2/lbaas/pools?marker=m&limit=2".into());
        let url = rebase_link(
            &call,
            &base,
            "http://10.0.0.5:9876/v2/lbaas/pools?marker=m&limit=2",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://lb.example/load-balancer/v2/lbaas/pools?marker=m&limit=2"
        );
        let same = "https://lb.example/load-balancer/v2/lbaas/pools?marker=z";
        assert_eq!(rebase_link(&call, &base, same).unwrap().as_str(), same);
        assert!(rebase_link(&call, &base, "http://evil/other").is_err());
    }
}
