//! `/metrics` (Prometheus text) and `/healthz` on a loopback TCP address.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use super::metrics::Metrics;
use super::shutdown::Shutdown;

/// Why the metrics listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsListenError {
    /// The address is not a loopback address.
    #[error("metrics_address {0} is not a loopback address; /metrics and /healthz are served on 127.0.0.1 or ::1 only (put a reverse proxy in front to expose them)")]
    NotLoopback(SocketAddr),
    /// Binding failed.
    #[error("cannot listen on metrics_address {address}: {source}; pick a free port in the metrics_address setting")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Binds the metrics listener, refusing anything but loopback.
///
/// # Errors
/// [`MetricsListenError`] when the address is not loopback or cannot be bound.
pub async fn bind_metrics(address: SocketAddr) -> Result<TcpListener, MetricsListenError> {
    if !address.ip().is_loopback() {
        return Err(MetricsListenError::NotLoopback(address));
    }
    TcpListener::bind(address)
        .await
        .map_err(|source| MetricsListenError::Bind { address, source })
}

#[derive(Clone)]
struct HttpState {
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
}

/// The router for `/metrics` and `/healthz`.
fn router(metrics: Arc<Metrics>, shutdown: Shutdown) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .with_state(HttpState { metrics, shutdown })
}

async fn metrics_handler(State(state): State<HttpState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

async fn healthz(State(state): State<HttpState>) -> impl IntoResponse {
    if state.shutdown.is_triggered() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
    } else {
        (StatusCode::OK, "ok\n")
    }
}

/// Serves `/metrics` and `/healthz` on `listener` until `shutdown` fires.
pub async fn serve_metrics(listener: TcpListener, metrics: Arc<Metrics>, shutdown: Shutdown) {
    let stop = shutdown.wait();
    let app = router(metrics, shutdown);
    if let Err(err) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::warn!(error = %err, "the metrics listener stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn non_loopback_is_refused() {
        let err = bind_metrics("0.0.0.0:0".parse().unwrap())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
    }

    #[tokio::test]
    async fn metrics_and_healthz_answer_over_tcp() {
        let listener = bind_metrics("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = Arc::new(Metrics::new());
        metrics.set_leader(true);
        let shutdown = Shutdown::new();
        let server = tokio::spawn(serve_metrics(listener, metrics, shutdown.clone()));
        let body = reqwest_get(addr, "/metrics").await;
        assert!(
            body.0 == 200 && body.1.contains("octavia_integrator_leader 1"),
            "{body:?}"
        );
        assert_eq!(
            reqwest_get(addr, "/healthz").await,
            (200, "ok\n".to_string())
        );
        shutdown.trigger();
        server.await.unwrap();
    }

    /// A minimal HTTP/1.1 GET over TCP (no client dependency needed for two lines).
    async fn reqwest_get(addr: SocketAddr, path: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
        (status, body)
    }
}
