//! The retry policy through a real session: what is retried, what is final, Retry-After,
//! timeouts, connection errors; and how each error body shape is decoded.

mod session_support;

use std::time::Duration;

use openstack::{Call, CallClass, Error, ServiceType, Session, Timeouts};
use reqwest::Method;
use serde_json::json;
use session_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LB_PATH: &str = "/load-balancer/v2/lbaas/loadbalancers";
const LISTENER: &str = "/load-balancer/v2/lbaas/listeners/8b0c6e2a-5a3c-4d7e-9d3a-3c0f6f4a0b1e";

fn octavia_fault(text: &str) -> serde_json::Value {
    json!({"faultcode": "Client", "faultstring": text, "debuginfo": null})
}

/// `first` once, then `then` for every later request to `p`.
async fn mount_sequence(
    server: &MockServer,
    verb: &str,
    p: &str,
    first: ResponseTemplate,
    then: ResponseTemplate,
) {
    Mock::given(method(verb))
        .and(path(p))
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method(verb))
        .and(path(p))
        .respond_with(then)
        .with_priority(2)
        .mount(server)
        .await;
}

async fn hits(server: &MockServer, p: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == p)
        .count()
}

fn list() -> Call {
    Call::new(
        ServiceType::LoadBalancer,
        Method::GET,
        "lbaas/loadbalancers",
        &[200],
    )
}

fn create() -> Call {
    Call::new(
        ServiceType::LoadBalancer,
        Method::POST,
        "lbaas/loadbalancers",
        &[201],
    )
    .json(json!({"loadbalancer": {"name": "x"}}))
}

fn update_listener() -> Call {
    Call::new(
        ServiceType::LoadBalancer,
        Method::PUT,
        "lbaas/listeners/8b0c6e2a-5a3c-4d7e-9d3a-3c0f6f4a0b1e",
        &[200, 202],
    )
    .json(json!({"listener": {"connection_limit": 5}}))
}

#[tokio::test]
async fn get_503_then_200_succeeds_and_attempts_are_observed() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    mount_sequence(
        &server,
        "GET",
        LB_PATH,
        ResponseTemplate::new(503),
        ResponseTemplate::new(200).set_body_json(json!({"loadbalancers": []})),
    )
    .await;
    let rec = recorder();
    let session = session(&server).with_observer(rec.clone());
    assert_eq!(session.send(list()).await.unwrap().status, 200);
    assert_eq!(hits(&server, LB_PATH).await, 2);
    let records = rec.records();
    let lb: Vec<_> = records
        .iter()
        .filter(|r| r.service == "load-balancer")
        .collect();
    assert_eq!(lb.len(), 2);
    assert_eq!((lb[0].status, lb[0].attempt), (Some(503), 1));
    assert_eq!((lb[1].status, lb[1].attempt), (Some(200), 2));
    assert!(lb
        .iter()
        .all(|r| r.route == "lbaas/loadbalancers" && r.method == "GET"));
    // Keystone calls are counted too.
    let identity: Vec<_> = records.iter().filter(|r| r.service == "identity").collect();
    assert_eq!(identity.len(), 1);
    assert_eq!(
        (identity[0].route.as_str(), identity[0].status),
        ("auth/tokens", Some(201))
    );
}

#[tokio::test]
async fn post_is_retried_on_503_where_the_server_did_nothing() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    mount_sequence(
        &server,
        "POST",
        LB_PATH,
        ResponseTemplate::new(503).set_body_json(octavia_fault(
            "Project busy.  Unable to lock the project.  Please try again.",
        )),
        ResponseTemplate::new(201).set_body_json(json!({"loadbalancer": {"id": "1"}})),
    )
    .await;
    session(&server).send(create()).await.unwrap();
    assert_eq!(hits(&server, LB_PATH).await, 2);
}

#[tokio::test]
async fn post_is_not_retried_on_502_or_504() {
    for status in [502, 504] {
        let server = MockServer::start().await;
        mount_keystone(&server, "tok").await;
        Mock::given(method("POST"))
            .and(path(LB_PATH))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
        let err = session(&server).send(create()).await.unwrap_err();
        assert!(matches!(err, Error::Server(_)), "{err}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(
            hits(&server, LB_PATH).await,
            1,
            "POST must not be re-sent after {status}"
        );
    }
}

#[tokio::test]
async fn retries_are_bounded() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    Mock::given(method("GET"))
        .and(path(LB_PATH))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let err = session(&server).send(list()).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.is_retryable());
    assert_eq!(hits(&server, LB_PATH).await, 4, "max_attempts = 4");
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_on_429_and_503() {
    for (status, wait) in [(429u16, 30u64), (503, 7)] {
        let server = MockServer::start().await;
        mount_keystone(&server, "tok").await;
        mount_sequence(
            &server,
            "GET",
            LB_PATH,
            ResponseTemplate::new(status).insert_header("Retry-After", wait.to_string().as_str()),
            ResponseTemplate::new(200).set_body_json(json!({"loadbalancers": []})),
        )
        .await;
        let mut cfg = config(&server, password());
        cfg.timeouts = Timeouts::disabled(); // no timers but the retry's own sleep
        let session = Session::new(cfg).unwrap();
        session.project_id().await.unwrap();
        let started = tokio::time::Instant::now();
        session.send(list()).await.unwrap();
        let waited = started.elapsed();
        // The policy's own backoff is 1 ms: only Retry-After explains the wait.
        assert!(
            waited >= Duration::from_secs(wait),
            "{status}: waited {waited:?}"
        );
        assert!(
            waited < Duration::from_secs(wait + 1),
            "{status}: waited {waited:?}"
        );
        assert_eq!(hits(&server, LB_PATH).await, 2);
    }
}

#[tokio::test]
async fn immutable_409_is_retried() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    mount_sequence(
        &server,
        "PUT",
        LISTENER,
        ResponseTemplate::new(409).set_body_json(octavia_fault(
            "Load Balancer 0a1b is immutable and cannot be updated.",
        )),
        ResponseTemplate::new(200).set_body_json(json!({"listener": {"id": "l"}})),
    )
    .await;
    let rec = recorder();
    let session = session(&server).with_observer(rec.clone());
    session.send(update_listener()).await.unwrap();
    assert_eq!(hits(&server, LISTENER).await, 2);
    let routes: Vec<_> = rec
        .records()
        .into_iter()
        .filter(|r| r.service == "load-balancer")
        .map(|r| r.route)
        .collect();
    assert_eq!(routes, vec!["lbaas/listeners/{id}"; 2]);
}

#[tokio::test]
async fn duplicate_409_and_quota_are_final() {
    let cases = [
        (
            409,
            octavia_fault("Another Listener on this Load Balancer is already using protocol TCP and protocol_port 443"),
            "conflict",
        ),
        (403, octavia_fault("Quota has been met for resources: Listener"), "quota"),
        (
            409,
            json!({"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['listener'].", "detail": ""}}),
            "quota",
        ),
    ];
    for (status, body, kind) in cases {
        let server = MockServer::start().await;
        mount_keystone(&server, "tok").await;
        Mock::given(method("PUT"))
            .and(path(LISTENER))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
        let err = session(&server).send(update_listener()).await.unwrap_err();
        match kind {
            "conflict" => assert!(err.is_conflict() && !err.is_immutable_conflict(), "{err}"),
            _ => assert!(err.is_quota(), "{err}"),
        }
        assert!(!err.is_retryable());
        assert_eq!(
            hits(&server, LISTENER).await,
            1,
            "{kind} must not be retried"
        );
    }
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    // A port nothing listens on: bind, note it, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut cfg = config(&server, password());
    cfg.endpoint_overrides.insert(
        ServiceType::LoadBalancer,
        format!("http://127.0.0.1:{port}/"),
    );
    let rec = recorder();
    let session = Session::new(cfg).unwrap().with_observer(rec.clone());
    let err = session.send(create()).await.unwrap_err();
    match &err {
        Error::Transport { connect, path, .. } => {
            assert!(*connect, "{err}");
            assert_eq!(path, "/v2/lbaas/loadbalancers");
        }
        other => panic!("expected a transport error, got {other}"),
    }
    assert!(err.is_retryable());
    let text = err.to_string().to_lowercase();
    assert!(text.contains("connect"), "the cause is spelled out: {text}");
    assert!(
        !text.contains("127.0.0.1"),
        "no URL in transport errors: {text}"
    );
    let attempts: Vec<_> = rec
        .records()
        .into_iter()
        .filter(|r| r.service == "load-balancer")
        .map(|r| (r.attempt, r.status))
        .collect();
    assert_eq!(attempts, vec![(1, None), (2, None), (3, None), (4, None)]);
}

/// With paused time, a pending timeout fires as soon as the runtime waits on the socket, so
/// these tests never wait for real.
fn timeout_session(server: &MockServer) -> (Session, std::sync::Arc<Recorder>) {
    let mut cfg = config(server, password());
    cfg.timeouts = Timeouts {
        read: Some(Duration::from_secs(30)),
        write: None, // Keystone's POST
        long_write: Some(Duration::from_secs(180)),
        connect: None,
        idle: None,
    };
    let rec = recorder();
    (Session::new(cfg).unwrap().with_observer(rec.clone()), rec)
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_create_is_not_sent_again() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    Mock::given(method("POST"))
        .and(path(LB_PATH))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let (session, rec) = timeout_session(&server);
    session.project_id().await.unwrap();
    let err = session
        .send(create().class(CallClass::LongWrite))
        .await
        .unwrap_err();
    match &err {
        Error::Timeout { after, method, .. } => {
            assert_eq!(*after, Duration::from_secs(180));
            assert_eq!(method, "POST");
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(err.is_timeout());
    let lb = rec
        .records()
        .into_iter()
        .filter(|r| r.service == "load-balancer")
        .count();
    assert_eq!(lb, 1, "a create that timed out is never re-sent blindly");
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_read_is_retried() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    Mock::given(method("GET"))
        .and(path(LB_PATH))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let (session, rec) = timeout_session(&server);
    let err = session.send(list()).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let lb: Vec<_> = rec
        .records()
        .into_iter()
        .filter(|r| r.service == "load-balancer")
        .map(|r| r.attempt)
        .collect();
    assert_eq!(lb, vec![1, 2, 3, 4]);
}

#[tokio::test]
async fn every_error_shape_is_decoded() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    let id = "8b0c6e2a-5a3c-4d7e-9d3a-3c0f6f4a0b1e";
    /// service, relative path, status, answer, expected message, expected kind
    type Case = (
        ServiceType,
        String,
        u16,
        ResponseTemplate,
        &'static str,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            ServiceType::LoadBalancer,
            format!("lbaas/loadbalancers/{id}"),
            404,
            ResponseTemplate::new(404).set_body_json(octavia_fault(&format!("Load Balancer {id} not found."))),
            "Load Balancer 8b0c6e2a-5a3c-4d7e-9d3a-3c0f6f4a0b1e not found.",
            Some("Client"),
        ),
        (
            ServiceType::Network,
            format!("ports/{id}"),
            404,
            ResponseTemplate::new(404).set_body_json(json!({"NeutronError": {
                "type": "PortNotFound", "message": format!("Port {id} could not be found."), "detail": ""}})),
            "Port 8b0c6e2a-5a3c-4d7e-9d3a-3c0f6f4a0b1e could not be found.",
            Some("PortNotFound"),
        ),
        (
            ServiceType::LoadBalancer,
            "lbaas/pools".into(),
            400,
            ResponseTemplate::new(400).set_body_json(json!({"error": {"code": 400, "title": "Bad Request",
                "message": "Expecting to find name in pool."}})),
            "Expecting to find name in pool.",
            Some("Bad Request"),
        ),
        (
            ServiceType::Network,
            "floatingips".into(),
            502,
            ResponseTemplate::new(502).set_body_string("<html><body>\n  502 Bad Gateway\n</body></html>"),
            "<html><body> 502 Bad Gateway </body></html>",
            None,
        ),
        (
            ServiceType::LoadBalancer,
            "lbaas/listeners".into(),
            501,
            ResponseTemplate::new(501).set_body_json(json!({"faultcode": "Server",
                "faultstring": "Provider 'ovn' does not support a requested option: HTTP protocol", "debuginfo": null})),
            "Provider 'ovn' does not support a requested option: HTTP protocol",
            Some("Server"),
        ),
    ];
    for (service, rel, status, reply, message, kind) in cases {
        let full = match service {
            ServiceType::LoadBalancer => format!("/load-balancer/v2/{rel}"),
            ServiceType::Network => format!("/network/v2.0/{rel}"),
        };
        Mock::given(method("GET"))
            .and(path(full.as_str()))
            .respond_with(reply.insert_header("x-openstack-request-id", "req-abc"))
            .mount(&server)
            .await;
        let mut s = session(&server);
        if status == 502 {
            // keep the case about decoding, not retrying
            let mut cfg = config(&server, password());
            cfg.retry = openstack::RetryPolicy::never();
            s = Session::new(cfg).unwrap();
        }
        let err = s
            .send(Call::new(service, Method::GET, rel.clone(), &[200]).query("secret-ish", "q"))
            .await
            .unwrap_err();
        let f = err
            .failure()
            .unwrap_or_else(|| panic!("{rel}: not a status error: {err}"));
        assert_eq!(f.status, status);
        assert_eq!(f.message, message, "{rel}");
        assert_eq!(f.kind.as_deref(), kind, "{rel}");
        assert_eq!(f.path, full);
        assert_eq!(f.method, "GET");
        assert_eq!(err.request_id(), Some("req-abc"));
        let text = err.to_string();
        assert!(!text.contains("secret-ish"), "query leaked into {text}");
        assert!(text.contains(&full) && text.contains("req-abc"), "{text}");
        match status {
            404 => assert!(err.is_not_found()),
            400 => assert!(matches!(err, Error::BadRequest(_))),
            501 => assert!(matches!(err, Error::NotImplemented(_))),
            _ => assert!(matches!(err, Error::Server(_))),
        }
    }
}

#[tokio::test]
async fn redirects_never_carry_the_token_to_another_host() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    mount_keystone(&server, "tok-secret").await;
    Mock::given(method("GET"))
        .and(path("/network/v2.0/networks"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/steal", elsewhere.uri()).as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/network/v2.0/ports"))
        .respond_with(ResponseTemplate::new(307).insert_header("Location", "/network/v2.0/subnets"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/network/v2.0/subnets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"subnets": []})))
        .mount(&server)
        .await;
    let session = session(&server);
    let err = session
        .send(Call::new(
            ServiceType::Network,
            Method::GET,
            "networks",
            &[200],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(302));
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    // Same-origin redirects are followed.
    let reply = session
        .send(Call::new(
            ServiceType::Network,
            Method::GET,
            "ports",
            &[200],
        ))
        .await
        .unwrap();
    assert_eq!(
        reply.json::<serde_json::Value>().unwrap(),
        json!({"subnets": []})
    );
}

#[tokio::test]
async fn a_sick_cloud_gets_fewer_calls_once_the_shared_retry_budget_is_spent() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    Mock::given(method("GET"))
        .and(path(LB_PATH))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let mut c = config(&server, password());
    c.retry_budget = openstack::RetryBudget {
        capacity: 5.0,
        earn: 0.25,
    };
    let session = Session::new(c).unwrap();
    // 40 calls, every answer 503: without a budget 4 attempts each (160); with it, the burst
    // of 5 retries plus a quarter of a retry per call.
    let calls = 40;
    for _ in 0..calls {
        let e = session.send(list()).await.unwrap_err();
        assert_eq!(e.status(), Some(503), "{e}");
    }
    let sent = hits(&server, LB_PATH).await;
    assert!(
        sent <= calls + 5 + calls / 4,
        "{sent} requests for {calls} calls"
    );
    assert!(sent > calls, "the burst was used: {sent}");

    // A clone shares the budget: it is still spent.
    let other = session.clone();
    let before = hits(&server, LB_PATH).await;
    let _ = other.send(list()).await;
    assert!(hits(&server, LB_PATH).await - before <= 2);
}
