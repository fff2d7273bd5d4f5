//! The local API handlers (see [`super::api`] for the routes and wire types).

use crate::relation::answer::Current;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::net::UnixListener;

use super::api::{
    self, AnswerCall, AnswerReply, ForgetCall, Forgotten, Health, LeaderChange, RefusedCall,
    RetainCall, StatusReport,
};
use super::client::ErrorBody;
use super::state::Daemon;
use crate::relation::v1::{Request, Response as Answer};

/// Serves the local API on `listener` until the daemon stops.
pub(crate) async fn serve(listener: UnixListener, daemon: Arc<Daemon>) {
    let stop = daemon.stop.wait();
    let app = Router::new()
        .route(api::HEALTH, get(health))
        .route(api::STATUS, get(status))
        .route(api::LEADER, post(leader))
        .route(api::RELOAD, post(reload))
        .route(api::RESYNC, post(resync))
        .route(api::ANSWER, post(answer))
        .route(api::FORGET, post(forget))
        .route(api::RETAIN, post(retain))
        .route(api::REFUSED, post(refused))
        .with_state(daemon);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!(error = %e, "the local API stopped");
    }
}

fn refuse(status: StatusCode, error: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            error: error.into(),
        }),
    )
        .into_response()
}

async fn health_of(daemon: &Daemon) -> Health {
    Health {
        version: env!("CARGO_PKG_VERSION").to_string(),
        leader: daemon.is_leader(),
        connected: daemon.engine.cloud().await.is_some(),
        queued: daemon.queue.waiting(),
        running: daemon.queue.running(),
    }
}

async fn health(State(daemon): State<Arc<Daemon>>) -> Json<Health> {
    Json(health_of(&daemon).await)
}

async fn status(State(daemon): State<Arc<Daemon>>) -> Json<StatusReport> {
    Json(daemon.engine.status(daemon.is_leader()).await)
}

async fn leader(State(daemon): State<Arc<Daemon>>, Json(change): Json<LeaderChange>) -> Response {
    match daemon.set_leader(change.leader).await {
        Ok(()) => Json(health_of(&daemon).await).into_response(),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn reload(State(daemon): State<Arc<Daemon>>) -> Response {
    match daemon.reload().await {
        Ok(()) => Json(health_of(&daemon).await).into_response(),
        Err(e) => refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("settings not reloaded (the old ones stay in force): {e}"),
        ),
    }
}

async fn resync(State(daemon): State<Arc<Daemon>>) -> Response {
    if !daemon.is_leader() {
        return refuse(
            StatusCode::CONFLICT,
            "not the leader: only the leader acts on the cloud",
        );
    }
    daemon.resync_now().await;
    Json(health_of(&daemon).await).into_response()
}

async fn answer(State(daemon): State<Arc<Daemon>>, Json(call): Json<AnswerCall>) -> Response {
    if daemon.stop.is_triggered() {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the daemon is shutting down; run the hook again once it is back",
        );
    }
    let request = match Request::parse(&call.request) {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("request {} does not load: {}", call.key, e.describe()),
            )
        }
    };
    match daemon
        .engine
        .record(call.interface, &call.key, &request)
        .await
    {
        Ok((answer, changed)) => {
            // A known request without an answer, right after gaining leadership: the check of
            // every request against one listing answers it (or queues it if it differs).
            if changed || answer.is_none() && !daemon.adopting() {
                daemon.enqueue(call.key.clone());
            }
            Json(AnswerReply {
                answer: answer.map(|a| a.canonical_json()),
            })
            .into_response()
        }
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn forget(State(daemon): State<Arc<Daemon>>, Json(call): Json<ForgetCall>) -> Response {
    match daemon.engine.forget(&call.key).await {
        Ok(known) => {
            // Queue even an unknown key: what was built for it may still exist.
            daemon.enqueue(call.key.clone());
            let removed = if known { vec![call.key] } else { Vec::new() };
            Json(Forgotten { removed }).into_response()
        }
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn retain(State(daemon): State<Arc<Daemon>>, Json(call): Json<RetainCall>) -> Response {
    let current = Current {
        keys: call.keys.into_iter().collect(),
        held_relations: call.held_relations.into_iter().collect(),
    };
    let interface = call.interface;
    match daemon.engine.retain(interface, &current).await {
        Ok(removed) => {
            for key in &removed {
                daemon.enqueue(key.clone());
            }
            daemon
                .retained(interface, current.held_relations.is_empty())
                .await;
            Json(Forgotten { removed }).into_response()
        }
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn refused(State(daemon): State<Arc<Daemon>>, Json(call): Json<RefusedCall>) -> Response {
    let refusal = match Answer::parse(&call.refusal) {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("the refusal of {} does not load: {e}", call.key),
            )
        }
    };
    match daemon
        .engine
        .refuse(call.interface, &call.key, &refusal)
        .await
    {
        Ok(()) => Json(Forgotten::default()).into_response(),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
