//! The HTTP server: one loopback port for Keystone, Octavia and Neutron (each mounted under its
//! public, internal and per-region prefixes), a middleware that authenticates, counts and injects
//! faults, and an accept loop that can drop a connection on purpose.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::accounting::{template, CallRecord};
use super::faults::Action;
use super::http::{injected, no_route, Service};
use super::keystone::mount_prefix;
use super::shared::{Ctx, Shared};
use super::state::World;
use super::{admin, identity, neutron, octavia};

/// Marker: drop this connection instead of answering.
#[derive(Debug, Clone, Copy)]
struct DropConnection;

/// Build the whole application.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    let mut router = identity::router().nest("/_sim", admin::router());
    for (mount, public) in &shared.mounts {
        let routes = if public == "/load-balancer" {
            octavia::routes()
        } else {
            neutron::routes()
        };
        for (path, method_router) in routes {
            router = router.route(&format!("{mount}{path}"), method_router);
        }
    }
    router
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

/// Every mount: (mount prefix, public prefix).
pub(crate) fn mounts(regions: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for service in ["load-balancer", "networking"] {
        for (i, r) in regions.iter().enumerate() {
            for internal in [false, true] {
                out.push((mount_prefix(i, r, internal, service), format!("/{service}")));
            }
        }
    }
    out
}

fn service_of(shared: &Shared, path: &str) -> (Service, Option<String>) {
    if path.starts_with("/_sim") {
        return (Service::Admin, None);
    }
    for (mount, public) in &shared.mounts {
        if path == mount || path.starts_with(&format!("{mount}/")) {
            let svc = if public == "/load-balancer" {
                Service::LoadBalancer
            } else {
                Service::Network
            };
            return (svc, Some(mount.clone()));
        }
    }
    (Service::Identity, None)
}

/// Authentication, accounting and fault injection for every call.
async fn gate(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().as_str().to_string();
    let (service, mount) = service_of(&shared, &path);
    if service == Service::Admin {
        return next.run(req).await;
    }
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let route = template(&matched, &path, &shared.mounts);
    let (action, latency, scale) = shared.with(|w| {
        let (a, l) = w.faults.decide(&method, &route);
        (a, l, w.config.delay_scale)
    });
    let record = |status: u16| {
        let mut calls = shared.calls.lock().unwrap_or_else(|p| p.into_inner());
        calls.records.push(CallRecord {
            method: method.clone(),
            route: route.clone(),
            status,
        });
    };
    if latency > 0.0 {
        tokio::time::sleep(super::state::scaled(latency, scale)).await;
    }
    match action {
        Action::Stall => {
            record(0);
            std::future::pending::<()>().await;
        }
        Action::Drop => {
            record(0);
            return dropped();
        }
        Action::Fail(status) => {
            record(status);
            return injected(service, status).into_response();
        }
        Action::Serve | Action::DropAfter => {}
    }
    if let Some(mount) = &mount {
        let is_version_doc = path == *mount || path == format!("{mount}/");
        if !is_version_doc {
            let token = req
                .headers()
                .get("x-auth-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if let Err(e) = shared.with(|w| w.authorize(token.as_deref())) {
                record(e.status);
                return with_keystone_uri(e.into_response(), &shared.base);
            }
        }
        req.extensions_mut().insert(Ctx {
            path: path.clone(),
            mount: mount.clone(),
        });
    }
    let mut resp = with_keystone_uri(next.run(req).await, &shared.base);
    record(resp.status().as_u16());
    let rid = shared.with(|w| w.ids_for_requests());
    if let Ok(v) = HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-openstack-request-id", v);
    }
    if action == Action::DropAfter {
        return dropped();
    }
    resp
}

impl World {
    /// A request id for the `x-openstack-request-id` header.
    fn ids_for_requests(&mut self) -> String {
        format!("req-{}", self.request_ids.uuid())
    }
}

/// A 401 names where to authenticate: `WWW-Authenticate: Keystone uri="<base>/v3"`.
fn with_keystone_uri(mut resp: Response, base: &str) -> Response {
    if resp.status() == StatusCode::UNAUTHORIZED {
        if let Ok(v) = HeaderValue::from_str(&format!("Keystone uri=\"{base}/v3\"")) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    resp
}

fn dropped() -> Response {
    let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    resp.extensions_mut().insert(DropConnection);
    resp
}

async fn fallback(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (service, _) = service_of(&shared, req.uri().path());
    no_route(service, req.uri().path()).into_response()
}

/// Serve `app` on `listener` until `stop` flips to true; connections are dropped on stop.
pub(crate) async fn serve(listener: TcpListener, app: Router, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        let app = app.clone();
        let mut stop = stop.clone();
        conns.spawn(async move {
            let kill = Arc::new(Notify::new());
            let kill_in = kill.clone();
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let app = app.clone();
                    let kill = kill_in.clone();
                    async move {
                        let resp = match app.oneshot(req.map(Body::new)).await {
                            Ok(r) => r,
                            Err(never) => match never {},
                        };
                        if resp.extensions().get::<DropConnection>().is_some() {
                            kill.notify_one();
                            std::future::pending::<()>().await;
                        }
                        Ok::<_, Infallible>(resp)
                    }
                });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = kill.notified() => {}
                _ = stop.changed() => {}
            }
        });
        while conns.try_join_next().is_some() {}
    }
    conns.abort_all();
}
