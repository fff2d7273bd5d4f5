//! One HTTP exchange with retries, timeouts and metrics: the only place that touches reqwest.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, RETRY_AFTER};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;
use url::Url;

use super::config::SessionConfig;
use super::observer::{CallObserver, CallRecord};
use super::retry::{parse_retry_after, Attempt, BudgetTokens, RetryPolicy};
use crate::error::{Error, ServiceFailure};

/// The `User-Agent` product token.
pub(crate) const USER_AGENT: &str = concat!("octavia-integrator/", env!("CARGO_PKG_VERSION"));

/// The HTTP client, retry policy and metrics hook of a session.
pub(crate) struct Transport {
    client: reqwest::Client,
    retry: RetryPolicy,
    budget: BudgetTokens,
    observer: RwLock<Option<Arc<dyn CallObserver>>>,
}

/// One exchange to perform (possibly several attempts).
pub(crate) struct Exchange<'a> {
    pub service: &'static str,
    pub method: Method,
    pub url: Url,
    /// Metric route (path template).
    pub route: String,
    /// Sent as `X-Auth-Token`, marked sensitive.
    pub token: Option<&'a SecretString>,
    pub body: Option<&'a serde_json::Value>,
    /// Sent as `If-Match` (Neutron's `revision_number=N` precondition).
    pub if_match: Option<&'a str>,
    pub timeout: Option<Duration>,
    pub ok: &'a [u16],
}

/// A successful answer.
pub(crate) struct Raw {
    pub status: u16,
    pub request_id: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// URL path of the call (no query).
    pub path: String,
}

enum AttemptError {
    TimedOut,
    Transport(reqwest::Error),
}

impl Transport {
    /// Builds the reqwest client: rustls with the system roots plus the configured CA bundle,
    /// proxies from the environment (reqwest's default), JSON `Accept`, our `User-Agent`.
    pub fn new(config: &SessionConfig) -> Result<Self, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let user_agent = match &config.user_agent_suffix {
            Some(suffix) if !suffix.trim().is_empty() => format!("{USER_AGENT} {}", suffix.trim()),
            _ => USER_AGENT.to_string(),
        };
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(same_origin_redirects())
            .user_agent(user_agent)
            .default_headers(headers);
        builder = builder.pool_idle_timeout(config.timeouts.idle);
        if let Some(connect) = config.timeouts.connect {
            builder = builder.connect_timeout(connect);
        }
        if let Some(pem) = &config.ca_bundle_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                Error::Config(format!(
                    "the CA bundle is not valid PEM ({e}); give a file with one or more `BEGIN CERTIFICATE` blocks"
                ))
            })?;
            if certs.is_empty() {
                return Err(Error::Config(
                    "the CA bundle holds no certificate; give a PEM file with one or more `BEGIN CERTIFICATE` blocks".into(),
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        if config.insecure {
            tracing::warn!("TLS certificate verification is disabled (insecure = true)");
            builder = builder.danger_accept_invalid_certs(true);
        }
        let client = builder.build().map_err(|e| {
            Error::Config(format!(
                "cannot build the HTTP client ({e}); check the CA bundle and the user agent suffix"
            ))
        })?;
        Ok(Transport {
            client,
            retry: config.retry.clone(),
            budget: BudgetTokens::new(config.retry_budget),
            observer: RwLock::new(None),
        })
    }

    pub fn set_observer(&self, observer: Arc<dyn CallObserver>) {
        match self.observer.write() {
            Ok(mut g) => *g = Some(observer),
            Err(p) => *p.into_inner() = Some(observer),
        }
    }

    fn observe(&self, record: CallRecord) {
        let observer = match self.observer.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        if let Some(o) = observer {
            o.on_call(&record);
        }
    }

    /// Performs the exchange, retrying as the policy says. Returns the answer if its status is
    /// one of `ok`, else the classified error.
    pub async fn exchange(&self, ex: Exchange<'_>) -> Result<Raw, Error> {
        let path = ex.url.path().to_string();
        let method = ex.method.to_string();
        let mut attempt: u32 = 0;
        self.budget.deposit();
        loop {
            attempt += 1;
            let started = Instant::now();
            let outcome = self.attempt(&ex).await?;
            let elapsed = started.elapsed();
            let status = outcome.as_ref().ok().map(|(s, _, _)| *s);
            self.observe(CallRecord {
                service: ex.service,
                method: method.clone(),
                route: ex.route.clone(),
                status,
                elapsed,
                attempt,
            });
            tracing::debug!(
                service = ex.service,
                method = %method,
                route = %ex.route,
                status = status.unwrap_or(0),
                elapsed_ms = elapsed.as_millis() as u64,
                attempt,
                "openstack call"
            );
            let (what, error) = match outcome {
                Ok((status, headers, body)) => {
                    let request_id = request_id(&headers);
                    if ex.ok.contains(&status) {
                        return Ok(Raw {
                            status,
                            request_id,
                            headers,
                            body,
                            path,
                        });
                    }
                    let error = Error::from_failure(ServiceFailure::from_response(
                        ex.service, &method, &path, status, request_id, &body,
                    ));
                    let retry_after = if status == 429 || status == 503 {
                        headers
                            .get(RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| parse_retry_after(v, chrono::Utc::now()))
                    } else {
                        None
                    };
                    let what = Attempt::Status {
                        status,
                        immutable: error.is_immutable_conflict(),
                        retry_after,
                    };
                    (what, error)
                }
                Err(AttemptError::TimedOut) => (
                    Attempt::TimedOut,
                    Error::Timeout {
                        service: ex.service,
                        method: method.clone(),
                        path: path.clone(),
                        after: ex.timeout.unwrap_or_default(),
                    },
                ),
                Err(AttemptError::Transport(e)) => {
                    let connect = e.is_connect();
                    let what = if connect {
                        Attempt::ConnectFailed
                    } else {
                        Attempt::ConnectionLost
                    };
                    let error = Error::Transport {
                        service: ex.service,
                        method: method.clone(),
                        path: path.clone(),
                        connect,
                        source: e.without_url(),
                    };
                    (what, error)
                }
            };
            let busy = matches!(
                what,
                Attempt::Status {
                    status: 409,
                    immutable: true,
                    ..
                }
            );
            match self.retry.decide(&ex.method, what, attempt) {
                Some(_) if !busy && !self.budget.spend() => {
                    tracing::warn!(
                        service = ex.service,
                        method = %method,
                        route = %ex.route,
                        attempt,
                        error = %error,
                        "not retrying: the session's retry budget is spent (the cloud is failing many calls)"
                    );
                    return Err(error);
                }
                Some(delay) => {
                    tracing::warn!(
                        service = ex.service,
                        method = %method,
                        route = %ex.route,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %error,
                        "retrying openstack call"
                    );
                    tokio::time::sleep(delay).await;
                }
                None => return Err(error),
            }
        }
    }

    /// One attempt. The outer `Result` is for errors that no retry can fix (a token that is
    /// not a valid header value).
    async fn attempt(
        &self,
        ex: &Exchange<'_>,
    ) -> Result<Result<(u16, HeaderMap, Vec<u8>), AttemptError>, Error> {
        let mut request = self.client.request(ex.method.clone(), ex.url.clone());
        if let Some(token) = ex.token {
            request = request.header("X-Auth-Token", token_header(token)?);
        }
        if let Some(body) = ex.body {
            request = request.json(body);
        }
        if let Some(tag) = ex.if_match {
            request = request.header(reqwest::header::IF_MATCH, tag);
        }
        let exchange = async {
            let response = request.send().await.map_err(AttemptError::Transport)?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(AttemptError::Transport)?;
            Ok((status, headers, body.to_vec()))
        };
        Ok(match ex.timeout {
            Some(limit) => match tokio::time::timeout(limit, exchange).await {
                Ok(result) => result,
                Err(_) => Err(AttemptError::TimedOut),
            },
            None => exchange.await,
        })
    }
}

/// Redirects are followed only within the origin of the first request (at most 5): reqwest
/// would otherwise carry our custom `X-Auth-Token` header to whatever host a redirect names.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if same_origin {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// The `X-Auth-Token` value, marked sensitive so that `Debug` of the request hides it.
fn token_header(token: &SecretString) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| {
        Error::Auth(
            "the token holds characters not allowed in an HTTP header; check the configured token"
                .into(),
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-openstack-request-id", "x-compute-request-id"]
        .iter()
        .find_map(|h| headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_header_is_sensitive_and_validated() {
        let value = token_header(&SecretString::from("gAAAA-secret")).unwrap();
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("gAAAA-secret"));
        let err = token_header(&SecretString::from("bad\ntoken-secret")).unwrap_err();
        assert!(matches!(err, Error::Auth(_)));
        assert!(!err.to_string().contains("token-secret"));
    }

    #[test]
    fn user_agent_names_the_product_and_version() {
        assert_eq!(
            USER_AGENT,
            format!("octavia-integrator/{}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn a_ca_bundle_without_certificates_is_refused() {
        let mut cfg = SessionConfig::new(
            "https://keystone.example/v3",
            crate::Credentials::Token {
                token: SecretString::from("t"),
            },
        );
        cfg.ca_bundle_pem = Some(b"not a certificate".to_vec());
        assert!(matches!(Transport::new(&cfg), Err(Error::Config(_))));
    }
}
