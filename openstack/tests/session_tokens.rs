//! Token cache: proactive refresh, single-flight re-auth, 401 → re-auth + replay once.

mod session_support;

use std::time::Duration;

use futures::future::join_all;
use openstack::{Call, ServiceType, Session, Timeouts};
use reqwest::Method;
use serde_json::json;
use session_support::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Keystone answers `tok-1` (living `first_lifetime` s) to the first auth request and `tok-2`
/// (one hour) to every later one.
async fn mount_two_tokens(server: &MockServer, first_lifetime: i64) {
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(token_reply(server, "tok-1", first_lifetime))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(token_reply(server, "tok-2", 3600))
        .with_priority(2)
        .mount(server)
        .await;
}

async fn mount_networks(server: &MockServer, token: &str, status: u16) {
    let body = if status == 401 {
        json!({"error": {"code": 401, "title": "Unauthorized",
            "message": "The request you have made requires authentication."}})
    } else {
        json!({"networks": []})
    };
    Mock::given(method("GET"))
        .and(path("/network/v2.0/networks"))
        .and(header("x-auth-token", token))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

fn networks() -> Call {
    Call::new(ServiceType::Network, Method::GET, "networks", &[200])
}

async fn requests_with_token(server: &MockServer, token: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/network/v2.0/networks")
        .filter(|r| r.headers.get("x-auth-token").map(|v| v.to_str().unwrap()) == Some(token))
        .count()
}

/// A session with no timers at all, so paused time only moves when the test says.
fn paused_session(server: &MockServer) -> Session {
    let mut cfg = config(server, password());
    cfg.timeouts = Timeouts::disabled();
    Session::new(cfg).unwrap()
}

#[tokio::test(start_paused = true)]
async fn twenty_concurrent_calls_across_expiry_make_one_auth_request() {
    let server = MockServer::start().await;
    mount_two_tokens(&server, 3600).await;
    mount_networks(&server, "tok-1", 200).await;
    mount_networks(&server, "tok-2", 200).await;
    let session = paused_session(&server);
    session.send(networks()).await.unwrap();
    assert_eq!(auth_requests(&server).await, 1);

    // 100 s of life left: under the 120 s margin, every caller wants a new token.
    tokio::time::advance(Duration::from_secs(3500)).await;
    let results = join_all((0..20).map(|_| {
        let s = session.clone();
        async move { s.send(networks()).await }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        auth_requests(&server).await,
        2,
        "exactly one re-auth for 20 callers"
    );
    assert_eq!(requests_with_token(&server, "tok-1").await, 1);
    assert_eq!(requests_with_token(&server, "tok-2").await, 20);
}

#[tokio::test(start_paused = true)]
async fn refresh_happens_before_expiry() {
    let server = MockServer::start().await;
    mount_two_tokens(&server, 3600).await;
    mount_networks(&server, "tok-1", 200).await;
    mount_networks(&server, "tok-2", 200).await;
    let session = paused_session(&server);
    session.send(networks()).await.unwrap();
    let first_expiry = session.token_expiry().expect("a token is held");

    tokio::time::advance(Duration::from_secs(3479)).await; // 121 s left: keep it
    session.send(networks()).await.unwrap();
    assert_eq!(auth_requests(&server).await, 1);
    assert_eq!(requests_with_token(&server, "tok-1").await, 2);

    tokio::time::advance(Duration::from_secs(2)).await; // 119 s left: renew now
    session.send(networks()).await.unwrap();
    assert_eq!(auth_requests(&server).await, 2);
    assert_eq!(requests_with_token(&server, "tok-2").await, 1);
    assert!(session.token_expiry().unwrap() >= first_expiry);
}

#[tokio::test]
async fn service_401_reauthenticates_once_and_replays_once() {
    let server = MockServer::start().await;
    mount_two_tokens(&server, 3600).await;
    mount_networks(&server, "tok-1", 401).await;
    mount_networks(&server, "tok-2", 200).await;
    let session = session(&server);
    let reply = session.send(networks()).await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(auth_requests(&server).await, 2);
    assert_eq!(requests_with_token(&server, "tok-1").await, 1);
    assert_eq!(requests_with_token(&server, "tok-2").await, 1);
}

#[tokio::test]
async fn second_401_surfaces_as_unauthorized() {
    let server = MockServer::start().await;
    mount_two_tokens(&server, 3600).await;
    mount_networks(&server, "tok-1", 401).await;
    mount_networks(&server, "tok-2", 401).await;
    let err = session(&server).send(networks()).await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert_eq!(err.status(), Some(401));
    assert!(err.to_string().contains("requires authentication"), "{err}");
    assert_eq!(auth_requests(&server).await, 2, "one re-auth, no loop");
    assert_eq!(requests_with_token(&server, "tok-1").await, 1);
    assert_eq!(requests_with_token(&server, "tok-2").await, 1);
}

#[tokio::test]
async fn concurrent_401s_share_one_reauthentication() {
    let server = MockServer::start().await;
    mount_two_tokens(&server, 3600).await;
    mount_networks(&server, "tok-1", 401).await;
    mount_networks(&server, "tok-2", 200).await;
    let session = session(&server);
    session.project_id().await.unwrap(); // holds tok-1
    let results = join_all((0..10).map(|_| {
        let s = session.clone();
        async move { s.send(networks()).await }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(auth_requests(&server).await, 2, "ten 401s, one re-auth");
    assert_eq!(requests_with_token(&server, "tok-2").await, 10);
}

#[tokio::test]
async fn invalidate_token_forces_a_new_one() {
    let server = MockServer::start().await;
    mount_two_tokens(&server, 3600).await;
    mount_networks(&server, "tok-1", 200).await;
    mount_networks(&server, "tok-2", 200).await;
    let session = session(&server);
    assert!(session.token_expiry().is_none());
    session.send(networks()).await.unwrap();
    assert!(session.token_expiry().is_some());
    session.invalidate_token();
    assert!(session.token_expiry().is_none());
    session.send(networks()).await.unwrap();
    assert_eq!(requests_with_token(&server, "tok-2").await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_renewal_keeps_the_live_token_until_it_expires() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(token_reply(&server, "tok-1", 3600))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(ResponseTemplate::new(500))
        .with_priority(2)
        .mount(&server)
        .await;
    mount_networks(&server, "tok-1", 200).await;
    let session = paused_session(&server);
    session.send(networks()).await.unwrap();

    tokio::time::advance(Duration::from_secs(3500)).await; // renewal due, Keystone broken
    session.send(networks()).await.unwrap();
    assert_eq!(
        auth_requests(&server).await,
        2,
        "one failed renewal (500 is final)"
    );
    session.send(networks()).await.unwrap();
    assert_eq!(
        auth_requests(&server).await,
        2,
        "no new attempt within 10 s"
    );

    tokio::time::advance(Duration::from_secs(11)).await;
    session.send(networks()).await.unwrap();
    assert_eq!(auth_requests(&server).await, 3, "tried again after 10 s");
    assert_eq!(requests_with_token(&server, "tok-1").await, 4);

    tokio::time::advance(Duration::from_secs(100)).await; // past expiry: no token left
    let err = session.send(networks()).await.unwrap_err();
    assert_eq!(err.status(), Some(500), "{err}");
    assert!(
        err.to_string().contains("identity POST /v3/auth/tokens"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn short_lived_tokens_are_renewed_at_half_life() {
    // A 100 s token would be "due" at once with a plain 120 s margin; half its life is used.
    let server = MockServer::start().await;
    mount_two_tokens(&server, 100).await;
    mount_networks(&server, "tok-1", 200).await;
    mount_networks(&server, "tok-2", 200).await;
    let session = paused_session(&server);
    session.send(networks()).await.unwrap();
    tokio::time::advance(Duration::from_secs(49)).await;
    session.send(networks()).await.unwrap();
    assert_eq!(auth_requests(&server).await, 1);
    tokio::time::advance(Duration::from_secs(2)).await;
    session.send(networks()).await.unwrap();
    assert_eq!(auth_requests(&server).await, 2);
    assert_eq!(requests_with_token(&server, "tok-2").await, 1);
}
