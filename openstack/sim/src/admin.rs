//! The simulator's own admin endpoints (not OpenStack, not counted):
//! `GET /_sim/calls`, `DELETE /_sim/calls`, `GET /_sim/snapshot`, `GET|PUT /_sim/faults`,
//! `POST /_sim/revoke-tokens`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use super::faults::FaultPlan;
use super::http::{keystone_err, respond};
use super::shared::Shared;

/// Admin routes, nested under `/_sim`.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/calls", get(calls).delete(reset_calls))
        .route("/snapshot", get(snapshot))
        .route("/faults", get(faults_get).put(faults_put))
        .route("/revoke-tokens", post(revoke))
}

async fn calls(State(s): State<Arc<Shared>>) -> Response {
    let calls = s.calls.lock().unwrap_or_else(|p| p.into_inner()).clone();
    respond(Ok((
        200,
        Some(
            json!({"by_route": calls.by_route(), "total": calls.total(), "polls": calls.polls(), "mutations": calls.mutations(), "records": calls.records}),
        ),
    )))
}

async fn reset_calls(State(s): State<Arc<Shared>>) -> Response {
    s.calls
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .records
        .clear();
    respond(Ok((204, None)))
}

async fn snapshot(State(s): State<Arc<Shared>>) -> Response {
    let snap = s.with(|w| super::snapshot::Snapshot::of(w));
    respond(Ok((
        200,
        Some(serde_json::to_value(snap).unwrap_or_default()),
    )))
}

async fn faults_get(State(s): State<Arc<Shared>>) -> Response {
    let plan = s.with(|w| w.faults.plan.clone());
    respond(Ok((
        200,
        Some(serde_json::to_value(plan).unwrap_or_default()),
    )))
}

async fn faults_put(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultPlan>(&body) {
        Ok(plan) => {
            s.with(|w| w.faults.plan = plan);
            respond(Ok((204, None)))
        }
        Err(e) => respond(Err(keystone_err(400, format!("Invalid fault plan: {e}")))),
    }
}

async fn revoke(State(s): State<Arc<Shared>>) -> Response {
    s.with(|w| w.revoke_all_tokens());
    respond(Ok((204, None)))
}
