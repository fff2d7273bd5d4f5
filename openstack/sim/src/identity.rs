//! Keystone's HTTP handlers: the version documents and `/v3/auth/tokens` (issue, validate,
//! revoke) and `/v3/auth/catalog`. What they answer is decided in `keystone`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

use super::http::{json_response, keystone_bad, query_pairs, respond, wrapped};
use super::keystone;
use super::shared::{Ctx, Shared};

/// Keystone's routes, at the root of the server.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(identity_versions))
        .route("/v3", get(identity_version))
        .route("/v3/", get(identity_version))
        .route(
            "/v3/auth/tokens",
            get(token_validate).post(token_issue).delete(token_revoke),
        )
        .route("/v3/auth/catalog", get(token_catalog))
}

async fn identity_versions(State(s): State<Arc<Shared>>) -> Response {
    let mut resp = json_response(300, &keystone::versions(&s.base));
    if let Ok(v) = HeaderValue::from_str(&format!("{}/v3/", s.base)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

async fn identity_version(State(s): State<Arc<Shared>>) -> Response {
    json_response(200, &keystone::version(&s.base))
}

async fn token_issue(State(s): State<Arc<Shared>>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let nocatalog = query_pairs(q.as_deref())
        .iter()
        .any(|(k, _)| k == "nocatalog");
    let result = s.with(|w| {
        let auth = wrapped(&body, "auth", keystone_bad)?;
        w.issue_token(&auth, &s.base, nocatalog)
    });
    match result {
        Ok((id, body)) => {
            let mut resp = json_response(201, &body);
            if let Ok(v) = HeaderValue::from_str(&id) {
                resp.headers_mut().insert("x-subject-token", v);
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}

fn header_str(h: &HeaderMap, k: &str) -> String {
    h.get(k)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

async fn token_validate(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let (caller, subject) = (
        header_str(&headers, "x-auth-token"),
        header_str(&headers, "x-subject-token"),
    );
    match s.with(|w| w.validate_token(&caller, &subject)) {
        Ok(body) => {
            let mut resp = json_response(200, &body);
            if let Ok(v) = HeaderValue::from_str(&subject) {
                resp.headers_mut().insert("x-subject-token", v);
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}

async fn token_revoke(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let (caller, subject) = (
        header_str(&headers, "x-auth-token"),
        header_str(&headers, "x-subject-token"),
    );
    respond(s.with(|w| w.revoke_token(&caller, &subject).map(|_| (204, None))))
}

async fn token_catalog(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    _ext: Option<Extension<Ctx>>,
) -> Response {
    let caller = header_str(&headers, "x-auth-token");
    respond(s.with(|w| {
        w.authorize(Some(&caller))?;
        let catalog = keystone::catalog(w, &s.base);
        Ok((200, Some(serde_json::json!({"catalog": catalog, "links": {"self": format!("{}/v3/auth/catalog", s.base)}}))))
    }))
}
