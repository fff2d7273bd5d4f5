//! The in-memory token cache and Keystone authentication (single-flight).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use tokio::time::Instant;
use url::Url;

use super::catalog::CatalogService;
use super::keystone;
use super::transport::{Exchange, Raw};
use super::{CallClass, Session};
use crate::error::ServiceFailure;
use crate::Error;

/// Renew a token when less than this much of its life is left (keystoneauth's
/// `MIN_TOKEN_LIFE_SECONDS`).
pub(crate) const MIN_TOKEN_LIFE: Duration = Duration::from_secs(120);

/// When a proactive renewal fails while the token is still alive, try again after this long
/// (meanwhile callers keep using the old token instead of each waiting on a failing Keystone).
pub(crate) const RENEW_RETRY: Duration = Duration::from_secs(10);

/// A token we hold, with what came with it.
#[derive(Clone)]
pub(crate) struct Token {
    pub secret: SecretString,
    /// Increases with every token issued to this session; tells a 401 on an old token from
    /// one on the current token.
    pub generation: u64,
    /// Local time at which the token expires (receive time + Keystone's lifetime).
    pub expires: Instant,
    /// When renewal is due: `expires − min(120 s, lifetime/2)`.
    pub renew_at: Instant,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub project_id: Option<String>,
    pub catalog: Vec<CatalogService>,
}

/// The current token plus the lock that makes re-authentication single-flight.
#[derive(Default)]
pub(crate) struct TokenCache {
    current: Mutex<Option<Arc<Token>>>,
    auth: tokio::sync::Mutex<()>,
    generation: AtomicU64,
}

impl TokenCache {
    pub fn current(&self) -> Option<Arc<Token>> {
        match self.current.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn fresh(&self) -> Option<Arc<Token>> {
        self.current().filter(|t| Instant::now() < t.renew_at)
    }

    fn store(&self, token: Option<Arc<Token>>) {
        match self.current.lock() {
            Ok(mut g) => *g = token,
            Err(p) => *p.into_inner() = token,
        }
    }

    pub fn clear(&self) {
        self.store(None);
    }
}

impl Session {
    /// A token with more than the renewal margin of life left; authenticates (once, for all
    /// concurrent callers) when there is none.
    pub(crate) async fn token(&self) -> Result<Arc<Token>, Error> {
        let cache = &self.inner.tokens;
        if let Some(t) = cache.fresh() {
            return Ok(t);
        }
        let _flight = cache.auth.lock().await;
        // Another caller may have authenticated while we waited for the lock.
        if let Some(t) = cache.fresh() {
            return Ok(t);
        }
        match self.authenticate().await {
            Ok(t) => Ok(t),
            Err(e) => {
                let now = Instant::now();
                let Some(old) = cache.current().filter(|t| now < t.expires) else {
                    return Err(e);
                };
                tracing::warn!(
                    error = %e,
                    left_s = (old.expires - now).as_secs(),
                    "could not renew the Keystone token; using the current one while it lasts"
                );
                let kept = Arc::new(Token {
                    renew_at: (now + RENEW_RETRY).min(old.expires),
                    ..(*old).clone()
                });
                cache.store(Some(kept.clone()));
                Ok(kept)
            }
        }
    }

    /// After a 401 on the token of generation `stale`: re-authenticate, unless another caller
    /// already replaced that token.
    pub(crate) async fn reauthenticate(&self, stale: u64) -> Result<Arc<Token>, Error> {
        let cache = &self.inner.tokens;
        let _flight = cache.auth.lock().await;
        if let Some(t) = cache.current() {
            if t.generation != stale && Instant::now() < t.renew_at {
                return Ok(t);
            }
        }
        self.authenticate().await
    }

    /// One `POST /v3/auth/tokens`. Caller holds the single-flight lock.
    async fn authenticate(&self) -> Result<Arc<Token>, Error> {
        let cache = &self.inner.tokens;
        let base = self.identity_base().await?;
        let url = base
            .join("auth/tokens")
            .map_err(|e| Error::Config(format!("cannot build the Keystone token URL: {e}")))?;
        let config = &self.inner.config;
        let body = keystone::auth_body(&config.credentials, config.scope.as_ref());
        tracing::debug!(url = %url.path(), "authenticating with Keystone");
        let raw = self
            .inner
            .transport
            .exchange(Exchange {
                service: "identity",
                method: Method::POST,
                url: url.clone(),
                route: "auth/tokens".into(),
                token: None,
                body: Some(&body),
                if_match: None,
                timeout: self.timeout_for(CallClass::Write),
                // A 401 is read here: who sent it tells a wrong password from a wrong URL.
                ok: &[200, 201, 401],
            })
            .await
            .map_err(explain_auth_failure)?;
        drop(body);
        if raw.status == 401 {
            return Err(self.refused(&base, &url, &raw).await);
        }
        let received = Instant::now();
        let subject = raw
            .headers
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok());
        let issued = keystone::parse_token(subject, &raw.body, chrono::Utc::now())?;
        let margin = MIN_TOKEN_LIFE.min(issued.lifetime / 2);
        let expires = received + issued.lifetime;
        let token = Arc::new(Token {
            secret: issued.token,
            generation: cache.generation.fetch_add(1, Ordering::SeqCst) + 1,
            expires,
            renew_at: expires - margin,
            expires_at: issued.expires_at,
            project_id: issued.project_id,
            catalog: issued.catalog,
        });
        tracing::info!(
            expires_at = ?token.expires_at,
            lifetime_s = issued.lifetime.as_secs(),
            project_id = token.project_id.as_deref().unwrap_or(""),
            "obtained a Keystone token"
        );
        cache.store(Some(token.clone()));
        Ok(token)
    }

    /// The Keystone v3 base URL: the auth URL itself if it ends in `/v3`, else what version
    /// discovery (`GET auth_url`) names, else `<auth_url>/v3/`. Discovered once per session.
    async fn identity_base(&self) -> Result<Url, Error> {
        self.inner
            .identity_base
            .get_or_try_init(|| async {
                let auth = Url::parse(self.inner.config.auth_url.trim())
                    .map_err(|e| Error::Config(format!("auth URL is not a URL: {e}")))?;
                if let Some(base) = keystone::direct_v3(&auth) {
                    return Ok(base);
                }
                match self.version_document(auth.clone(), &[200, 300]).await {
                    Ok(raw) => Ok(keystone::v3_from_discovery(&raw.body)
                        .unwrap_or_else(|| keystone::appended_v3(&auth))),
                    // Not a discovery document (404, 401 on a proxied path…): try `/v3`.
                    Err(e) if e.status().is_some() => Ok(keystone::appended_v3(&auth)),
                    Err(e) => Err(e),
                }
            })
            .await
            .cloned()
    }
}

impl Session {
    /// The error for a 401 to `POST <base>auth/tokens`. A service behind Keystone (Octavia,
    /// Neutron…) also answers 401, naming its Keystone in `WWW-Authenticate: Keystone
    /// uri="…"`. Keystone itself names its *public* URL there, which may differ from an
    /// internal auth URL that is right: so a challenge naming another place counts only when
    /// the URL we called does not answer Keystone's version discovery. Then the auth URL is
    /// wrong, not the password.
    async fn refused(&self, base: &Url, url: &Url, raw: &Raw) -> Error {
        let elsewhere = raw
            .headers
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(keystone::challenge_uri)
            .filter(|keystone| keystone.origin() != url.origin());
        if let Some(keystone) = elsewhere {
            if self.is_not_keystone(base).await {
                let v3 = keystone::direct_v3(&keystone)
                    .unwrap_or_else(|| keystone::appended_v3(&keystone));
                return Error::Config(format!(
                    "auth_url points at {}, which is not Keystone: that service sends clients \
                     to Keystone at {}; set auth_url to it (e.g. {})",
                    url.origin().ascii_serialization(),
                    keystone.as_str().trim_end_matches('/'),
                    v3.as_str().trim_end_matches('/'),
                ));
            }
        }
        Error::from_failure(ServiceFailure::from_response(
            "identity",
            "POST",
            &raw.path,
            raw.status,
            raw.request_id.clone(),
            &raw.body,
        ))
    }

    /// `GET url` without a token: a version document (Keystone's discovery, or whatever
    /// answers there), any status in `ok` accepted.
    async fn version_document(&self, url: Url, ok: &'static [u16]) -> Result<Raw, Error> {
        self.inner
            .transport
            .exchange(Exchange {
                service: "identity",
                method: Method::GET,
                url,
                route: "/".into(),
                token: None,
                body: None,
                if_match: None,
                timeout: self.timeout_for(CallClass::Read),
                ok,
            })
            .await
    }

    /// Whether what answers at the identity `base` (`…/v3/`) is surely not Keystone: its
    /// version document (`GET base`, then the folder above it) answers but names no identity
    /// API. Anything that cannot be asked counts as "maybe Keystone".
    async fn is_not_keystone(&self, base: &Url) -> bool {
        let parent = base.join("..").ok();
        let mut answered = false;
        for probe in std::iter::once(base.clone()).chain(parent) {
            match self.version_document(probe, &[200, 300, 401, 404]).await {
                Ok(raw) if keystone::names_identity(&raw.body) => return false,
                Ok(raw) if raw.status == 200 || raw.status == 300 => answered = true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        answered
    }
}

/// Adds the "what to do" for Keystone refusals.
fn explain_auth_failure(e: Error) -> Error {
    match e {
        Error::NotFound(f) => Error::Auth(format!(
            "{f}; the token URL was not found: check auth_url (it should point at Keystone, e.g. https://keystone.example:5000/v3)"
        )),
        Error::BadRequest(f) => Error::Auth(format!(
            "{f}; Keystone rejected the auth request: check that a user name comes with its domain and a project name with its domain"
        )),
        other => other,
    }
}
