//! HTTP glue shared by the simulated services: error bodies in each service's own shape,
//! JSON answers, body and query parsing.

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::state::Obj;

/// Which simulated service a route belongs to (decides the error shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// Keystone.
    Identity,
    /// Octavia.
    LoadBalancer,
    /// Neutron.
    Network,
    /// The simulator's own `/_sim` endpoints.
    Admin,
}

/// An error answer, already in its service's shape.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// A successful answer: status and optional JSON body.
pub(crate) type ApiResult = Result<(u16, Option<Value>), ApiError>;

/// Octavia's wsme fault body.
pub(crate) fn octavia_err(status: u16, msg: impl Into<String>) -> ApiError {
    let code = if status >= 500 { "Server" } else { "Client" };
    ApiError {
        status,
        body: json!({ "faultcode": code, "faultstring": msg.into(), "debuginfo": null }),
    }
}

/// Neutron's `NeutronError` body.
pub(crate) fn neutron_err(status: u16, kind: &str, msg: impl Into<String>) -> ApiError {
    ApiError {
        status,
        body: json!({ "NeutronError": { "type": kind, "message": msg.into(), "detail": "" } }),
    }
}

/// Keystone's (and keystonemiddleware's) error body.
pub(crate) fn keystone_err(status: u16, msg: impl Into<String>) -> ApiError {
    let title = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    ApiError {
        status,
        body: json!({ "error": { "code": status, "title": title, "message": msg.into() } }),
    }
}

/// The 401 every service answers for a missing, expired or revoked token.
pub(crate) fn unauthorized() -> ApiError {
    keystone_err(401, "The request you have made requires authentication.")
}

/// An error for an injected fault, in the service's shape.
pub(crate) fn injected(service: Service, status: u16) -> ApiError {
    let msg = format!("Simulated fault: injected HTTP {status}.");
    match service {
        Service::Identity | Service::Admin => keystone_err(status, msg),
        Service::LoadBalancer => octavia_err(status, msg),
        Service::Network => {
            let kind = match status {
                400 => "HTTPBadRequest",
                404 => "HTTPNotFound",
                409 => "HTTPConflict",
                503 => "ServiceUnavailable",
                _ => "HTTPInternalServerError",
            };
            neutron_err(status, kind, msg)
        }
    }
}

/// A 404 for an unknown path, in the service's shape.
pub(crate) fn no_route(service: Service, path: &str) -> ApiError {
    match service {
        Service::LoadBalancer => octavia_err(404, "The resource could not be found."),
        Service::Network => neutron_err(
            404,
            "HTTPNotFound",
            format!("The resource could not be found: {path}"),
        ),
        Service::Identity | Service::Admin => keystone_err(404, format!("Could not find: {path}.")),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = json_response(self.status, &self.body);
        if self.status == 401 {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Keystone uri=\"/v3\""),
            );
        }
        resp
    }
}

/// A JSON response.
pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Turn an [`ApiResult`] into a response.
pub(crate) fn respond(result: ApiResult) -> Response {
    match result {
        Ok((status, Some(body))) => json_response(status, &body),
        Ok((status, None)) => StatusCode::from_u16(status)
            .unwrap_or(StatusCode::NO_CONTENT)
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Parse a request body that must be a JSON object wrapping one object under `root`.
/// `err` builds the service's 400.
pub(crate) fn wrapped(
    body: &Bytes,
    root: &str,
    err: fn(String) -> ApiError,
) -> Result<Obj, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| err(format!("The request body is not valid JSON: {e}")))?;
    match value {
        Value::Object(mut top) => match top.remove(root) {
            Some(Value::Object(inner)) => Ok(inner),
            Some(_) => Err(err(format!("Invalid input: '{root}' must be an object."))),
            None => Err(err(format!(
                "Invalid input: the request body must contain '{root}'."
            ))),
        },
        _ => Err(err(
            "Invalid input: the request body must be a JSON object.".into(),
        )),
    }
}

/// Octavia 400 builder for [`wrapped`].
pub(crate) fn octavia_bad(msg: String) -> ApiError {
    octavia_err(400, msg)
}

/// Neutron 400 builder for [`wrapped`].
pub(crate) fn neutron_bad(msg: String) -> ApiError {
    neutron_err(400, "HTTPBadRequest", msg)
}

/// Keystone 400 builder for [`wrapped`].
pub(crate) fn keystone_bad(msg: String) -> ApiError {
    keystone_err(400, msg)
}

/// Query parameters in order, repeated keys kept.
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

/// Whether a query value means true (`true/True/1/yes`).
pub(crate) fn truthy(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on" | "y" | "t"
    )
}
