//! The CLI side of the local API: HTTP/1.1 with JSON bodies over the daemon's unix socket.
//!
//! hyper's connection-level client is used directly (one connection per call): it is already in
//! the dependency tree through reqwest and axum, and a unix socket needs no pool, TLS or proxy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::UnixStream;

/// How long one call to the daemon may take. Calls answer from memory; the daemon never makes
/// a caller wait for the cloud.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens on the socket (no file, or connection refused): the daemon is not
    /// running. Callers that can work without it fall back to working in-process.
    #[error("the daemon is not running (no one listens on {path}); start it with `octavia-integrator serve` or `systemctl start octavia-integrator`")]
    NotRunning {
        /// The socket path tried.
        path: PathBuf,
    },
    /// The socket exists but talking over it failed.
    #[error("talking to the daemon over {path} failed: {message}")]
    Transport {
        /// The socket path.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The daemon did not answer in time.
    #[error("the daemon on {path} did not answer within {}s; check `journalctl -u octavia-integrator`", .timeout.as_secs())]
    Timeout {
        /// The socket path.
        path: PathBuf,
        /// The limit that passed.
        timeout: Duration,
    },
    /// The daemon answered with an error.
    #[error("the daemon refused {what}: {message} (HTTP {status})")]
    Refused {
        /// Method and path of the call.
        what: String,
        /// HTTP status.
        status: u16,
        /// The daemon's explanation.
        message: String,
    },
    /// The daemon's answer could not be decoded (a different version of the binary?).
    #[error("the daemon's answer to {what} could not be read: {message}; is the daemon the same version as this command (restart it after an upgrade)?")]
    Decode {
        /// Method and path of the call.
        what: String,
        /// The decoding error.
        message: String,
    },
}

/// The JSON body of every error the daemon returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorBody {
    /// What went wrong and what to do.
    pub error: String,
}

/// A client for one daemon socket.
#[derive(Debug, Clone)]
pub struct DaemonClient {
    socket: PathBuf,
    timeout: Duration,
}

impl DaemonClient {
    /// A client for the daemon listening on `socket`.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        DaemonClient {
            socket: socket.into(),
            timeout: CALL_TIMEOUT,
        }
    }

    /// Changes the per-call timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The socket this client talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `GET path`, decoding a JSON answer.
    ///
    /// # Errors
    /// See [`ClientError`]; [`ClientError::NotRunning`] when no daemon listens.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body, decoding a JSON answer.
    ///
    /// # Errors
    /// See [`ClientError`]; [`ClientError::NotRunning`] when no daemon listens.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Decode {
            what: format!("POST {path}"),
            message: e.to_string(),
        })?;
        self.call(Method::POST, path, Some(bytes)).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ClientError> {
        let what = format!("{method} {path}");
        let fut = self.exchange(method, path, body);
        let (status, bytes) = match tokio::time::timeout(self.timeout, fut).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(ClientError::Timeout {
                    path: self.socket.clone(),
                    timeout: self.timeout,
                })
            }
        };
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|b| b.error)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
            return Err(ClientError::Refused {
                what,
                status: status.as_u16(),
                message,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            what,
            message: e.to_string(),
        })
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let stream = UnixStream::connect(&self.socket).await.map_err(|e| {
            use std::io::ErrorKind::{ConnectionRefused, NotFound};
            match e.kind() {
                NotFound | ConnectionRefused => ClientError::NotRunning {
                    path: self.socket.clone(),
                },
                _ => self.transport(format!("connect: {e}")),
            }
        })?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.transport(format!("handshake: {e}")))?;
        let driver = tokio::spawn(async move {
            // The connection ends with the call; its own error surfaces through the request.
            let _ = conn.await;
        });
        let has_body = body.is_some();
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "localhost")
            .header(hyper::header::ACCEPT, "application/json");
        let request = if has_body {
            request.header(hyper::header::CONTENT_TYPE, "application/json")
        } else {
            request
        };
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| self.transport(format!("request: {e}")))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| self.transport(format!("request: {e}")))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.transport(format!("reading the answer: {e}")))?
            .to_bytes();
        driver.abort();
        Ok((status, bytes))
    }

    fn transport(&self, message: String) -> ClientError {
        ClientError::Transport {
            path: self.socket.clone(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_socket_means_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let client = DaemonClient::new(dir.path().join("none.sock"));
        let err = client
            .get::<serde_json::Value>("/v1/status")
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::NotRunning { .. }), "{err}");
        assert!(err.to_string().contains("none.sock"));
    }

    #[tokio::test]
    async fn a_stale_socket_file_means_not_running() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let client = DaemonClient::new(&path);
        let err = client.get::<serde_json::Value>("/x").await.unwrap_err();
        assert!(matches!(err, ClientError::NotRunning { .. }), "{err}");
    }

    #[tokio::test]
    async fn round_trip_and_refusal_against_a_small_server() {
        use axum::routing::{get, post};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let app = axum::Router::new()
            .route(
                "/ok",
                get(|| async { axum::Json(serde_json::json!({"a": 1})) }),
            )
            .route(
                "/echo",
                post(|axum::Json(v): axum::Json<serde_json::Value>| async move { axum::Json(v) }),
            )
            .route(
                "/no",
                get(|| async {
                    (
                        axum::http::StatusCode::CONFLICT,
                        axum::Json(ErrorBody {
                            error: "not now".into(),
                        }),
                    )
                }),
            );
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let client = DaemonClient::new(&path);
        let v: serde_json::Value = client.get("/ok").await.unwrap();
        assert_eq!(v, serde_json::json!({"a": 1}));
        let v: serde_json::Value = client
            .post("/echo", &serde_json::json!([1, "x"]))
            .await
            .unwrap();
        assert_eq!(v, serde_json::json!([1, "x"]));
        let err = client.get::<serde_json::Value>("/no").await.unwrap_err();
        match err {
            ClientError::Refused {
                status, message, ..
            } => {
                assert_eq!(status, 409);
                assert_eq!(message, "not now");
            }
            other => panic!("unexpected {other}"),
        }
        server.abort();
    }
}
