//! Shared wiremock fixture for the Octavia and Neutron contract tests: one mock server plays
//! Keystone (token + catalog pointing back at itself), Octavia (under `/load-balancer`) and
//! Neutron (under `/network`), and a real [`Session`] talks to it over loopback.
//!
//! Every expectation built here checks the method, the exact path, the exact query (no extra
//! parameters), `X-Auth-Token`, `User-Agent` and `Accept`; [`Cloud::with_body`] adds
//! `Content-Type` and a JSON body comparison. Unmatched requests get wiremock's 404, so an
//! unexpected call fails the test; `.expect(n)` counts are verified when the server drops.
#![allow(dead_code)]

use openstack::session::{Credentials, RetryPolicy, Scope, Session, SessionConfig, UserRef};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

/// The token the mock Keystone hands out.
pub const TOKEN: &str = "gAAAAABtest-token-for-contracts";
/// The `User-Agent` every call must carry.
pub const USER_AGENT: &str = concat!("octavia-integrator/", env!("CARGO_PKG_VERSION"));

/// A mock cloud and a session pointed at it.
pub struct Cloud {
    /// The mock server (stops when dropped).
    pub server: MockServer,
    /// A session authenticated against it.
    pub session: Session,
}

/// Starts the mock server with Keystone mounted and builds a session for it.
pub async fn cloud() -> Cloud {
    let server = MockServer::start().await;
    let base = server.uri();
    let catalog = json!([
        {"type": "load-balancer", "name": "octavia", "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "region": "RegionOne",
             "url": format!("{base}/load-balancer")}]},
        {"type": "network", "name": "neutron", "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "region": "RegionOne",
             "url": format!("{base}/network")}]}
    ]);
    let token = json!({"token": {
        "methods": ["password"],
        "issued_at": "2026-01-01T00:00:00.000000Z",
        "expires_at": "2099-01-01T00:00:00.000000Z",
        "project": {"id": "p1", "name": "demo", "domain": {"id": "default"}},
        "catalog": catalog
    }});
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Subject-Token", TOKEN)
                .set_body_json(token),
        )
        .mount(&server)
        .await;
    let credentials = Credentials::Password {
        user: UserRef::Id("u1".into()),
        password: "not-a-real-password".to_string().into(),
    };
    let mut config = SessionConfig::new(format!("{base}/identity/v3"), credentials);
    config.scope = Some(Scope::ProjectId("p1".into()));
    config.retry = RetryPolicy::never();
    let session = Session::new(config).expect("session config is valid");
    Cloud { server, session }
}

impl Cloud {
    /// An Octavia expectation: `method` on `/load-balancer/v2/<rel>` with exactly `query`.
    pub fn octavia(&self, verb: &str, rel: &str, query: &[(&str, &str)]) -> MockBuilder {
        service(verb, &format!("/load-balancer/v2/{rel}"), query)
    }

    /// A Neutron expectation: `method` on `/network/v2.0/<rel>` with exactly `query`.
    pub fn neutron(&self, verb: &str, rel: &str, query: &[(&str, &str)]) -> MockBuilder {
        service(verb, &format!("/network/v2.0/{rel}"), query)
    }

    /// Adds the JSON body check (compared as JSON, not as text) and `Content-Type`.
    pub fn with_body(builder: MockBuilder, body: Value) -> MockBuilder {
        builder
            .and(header("Content-Type", "application/json"))
            .and(body_json(body))
    }

    /// Mounts `builder` answering `status` with `body` (or no body), expected exactly once.
    pub async fn once(&self, builder: MockBuilder, status: u16, body: Option<Value>) {
        let mut response = ResponseTemplate::new(status);
        if let Some(body) = body {
            response = response.set_body_json(body);
        }
        builder
            .respond_with(response)
            .expect(1)
            .mount(&self.server)
            .await;
    }
}

fn service(verb: &str, full_path: &str, query: &[(&str, &str)]) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(full_path.to_string()))
        .and(ExactQuery(
            query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
        .and(header("X-Auth-Token", TOKEN))
        .and(header("User-Agent", USER_AGENT))
        .and(header("Accept", "application/json"))
}

/// Matches when the decoded query pairs are exactly these, in any order.
struct ExactQuery(Vec<(String, String)>);

impl Match for ExactQuery {
    fn matches(&self, request: &Request) -> bool {
        let mut got: Vec<(String, String)> = request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut want = self.0.clone();
        got.sort();
        want.sort();
        got == want
    }
}

/// A minimal Octavia object body with statuses.
pub fn octavia_object(id: &str, extra: Value) -> Value {
    let mut v = json!({"id": id, "provisioning_status": "ACTIVE", "operating_status": "ONLINE"});
    if let (Some(map), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        map.extend(extra.clone());
    }
    v
}
