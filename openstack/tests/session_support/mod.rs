//! Helpers shared by the `session_*` and `wait_*` tests: a fake Keystone on wiremock and
//! session configs with fast, deterministic retries.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use openstack::{
    CallObserver, CallRecord, Credentials, RetryPolicy, Session, SessionConfig, Timeouts, UserRef,
};
use secrecy::SecretString;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const PROJECT: &str = "a6944d763bf64ee6a275f1263fae0352";
pub const PASSWORD: &str = "pa55-w0rd-never-logged";

/// Password credentials for user `u1`.
pub fn password() -> Credentials {
    Credentials::Password {
        user: UserRef::Id("ee4dfb6e5540447cb3741905149d9b6e".into()),
        password: SecretString::from(PASSWORD),
    }
}

/// Retries without real waiting: 1 ms base, no jitter.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        conflict_base_delay: Duration::from_millis(1),
        max_retry_after: Duration::from_secs(60),
        jitter: false,
    }
}

/// A config against `server` (auth URL `<server>/v3`) with fast retries.
pub fn config(server: &MockServer, credentials: Credentials) -> SessionConfig {
    let mut c = SessionConfig::new(format!("{}/v3", server.uri()), credentials);
    c.scope = Some(openstack::Scope::ProjectId(PROJECT.into()));
    c.retry = fast_retry();
    c.timeouts = Timeouts {
        read: Some(Duration::from_secs(20)),
        write: Some(Duration::from_secs(20)),
        long_write: Some(Duration::from_secs(20)),
        connect: Some(Duration::from_secs(5)),
        idle: Some(Duration::from_secs(90)),
    };
    c
}

pub fn session(server: &MockServer) -> Session {
    Session::new(config(server, password())).unwrap()
}

/// A catalog whose Octavia and Neutron endpoints point at `base` (public, RegionOne).
pub fn catalog(base: &str) -> Value {
    json!([
        {"type": "identity", "name": "keystone", "id": "k", "endpoints": [
            {"id": "1", "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": format!("{base}/identity")}]},
        {"type": "load-balancer", "name": "octavia", "id": "o", "endpoints": [
            {"id": "2", "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": format!("{base}/load-balancer")},
            {"id": "3", "interface": "internal", "region": "RegionOne", "region_id": "RegionOne", "url": format!("{base}/lb-internal/v2.0")},
            {"id": "4", "interface": "public", "region": null, "region_id": "RegionTwo", "url": format!("{base}/lb-two/")}]},
        {"type": "network", "name": "neutron", "id": "n", "endpoints": [
            {"id": "5", "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": format!("{base}/network")},
            {"id": "6", "interface": "public", "region": "RegionTwo", "region_id": null, "url": format!("{base}/network-two/v2.0/")}]}
    ])
}

/// A Keystone token answer body living `lifetime` seconds.
pub fn token_body(base: &str, lifetime: i64) -> Value {
    let issued = chrono::Utc::now();
    let expires = issued + chrono::Duration::seconds(lifetime);
    json!({"token": {
        "methods": ["password"],
        "user": {"id": "ee4dfb6e5540447cb3741905149d9b6e", "name": "admin", "domain": {"id": "default", "name": "Default"}},
        "audit_ids": ["3T2dc1CGQxyJsHdDu1xkcw"],
        "issued_at": issued.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "project": {"id": PROJECT, "name": "admin", "domain": {"id": "default", "name": "Default"}},
        "is_domain": false,
        "roles": [{"id": "r", "name": "member"}],
        "catalog": catalog(base),
    }})
}

/// A 201 token answer with `X-Subject-Token: token`.
pub fn token_reply(server: &MockServer, token: &str, lifetime: i64) -> ResponseTemplate {
    ResponseTemplate::new(201)
        .insert_header("X-Subject-Token", token)
        .insert_header("x-openstack-request-id", "req-keystone")
        .set_body_json(token_body(&server.uri(), lifetime))
}

/// Keystone that hands out `token` (one hour) to every auth request.
pub async fn mount_keystone(server: &MockServer, token: &str) {
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(token_reply(server, token, 3600))
        .mount(server)
        .await;
}

/// How many auth requests the server received.
pub async fn auth_requests(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/v3/auth/tokens")
        .count()
}

/// Records every call the session reports.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<CallRecord>>);

impl CallObserver for Recorder {
    fn on_call(&self, record: &CallRecord) {
        self.0.lock().unwrap().push(record.clone());
    }
}

impl Recorder {
    pub fn records(&self) -> Vec<CallRecord> {
        self.0.lock().unwrap().clone()
    }
}

pub fn recorder() -> Arc<Recorder> {
    Arc::new(Recorder::default())
}
