//! Secrets never show: a full flow logged at TRACE, and every `Debug`/`Display` a user can see.

mod session_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use openstack::{AppCredRef, Call, Credentials, ServiceType, Session, UserRef};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use session_support::*;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN_1: &str = "gAAAAABtoken-one-must-never-be-logged";
const TOKEN_2: &str = "gAAAAABtoken-two-must-never-be-logged";
const APP_SECRET: &str = "app-cred-secret-never-logged";
const GIVEN_TOKEN: &str = "given-token-never-logged";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

fn assert_clean(what: &str, text: &str) {
    for secret in [PASSWORD, TOKEN_1, TOKEN_2, APP_SECRET, GIVEN_TOKEN] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
}

#[tokio::test]
async fn trace_logs_and_debug_output_never_show_secrets() {
    let capture = Capture::default();
    // Global, so log records from every thread and the `log` crate are captured too.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .try_init()
        .expect("first subscriber of this test binary");

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .and(body_partial_json(
            json!({"auth": {"identity": {"methods": ["password"]}}}),
        ))
        .respond_with(token_reply(&server, TOKEN_1, 3600))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(token_reply(&server, TOKEN_2, 3600))
        .with_priority(2)
        .mount(&server)
        .await;
    // First token is refused (re-auth + replay), then a retried 503, then a final 409.
    Mock::given(method("GET"))
        .and(path("/load-balancer/v2/lbaas/loadbalancers"))
        .and(header("x-auth-token", TOKEN_1))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {"code": 401,
            "title": "Unauthorized", "message": "The request you have made requires authentication."}})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/load-balancer/v2/lbaas/loadbalancers"))
        .and(header("x-auth-token", TOKEN_2))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/load-balancer/v2/lbaas/loadbalancers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"loadbalancers": []})))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/network/v2.0/floatingips/f1"))
        .respond_with(
            ResponseTemplate::new(409).set_body_json(json!({"NeutronError": {
            "type": "FloatingIPPortAlreadyAssociated", "message": "in use", "detail": ""}})),
        )
        .mount(&server)
        .await;

    let session = session(&server);
    session
        .send(Call::new(
            ServiceType::LoadBalancer,
            Method::GET,
            "lbaas/loadbalancers",
            &[200],
        ))
        .await
        .unwrap();
    let err = session
        .send(Call::new(
            ServiceType::Network,
            Method::DELETE,
            "floatingips/f1",
            &[204],
        ))
        .await
        .unwrap_err();

    // Application credential and token flows against the same Keystone.
    for credentials in [
        Credentials::ApplicationCredential {
            credential: AppCredRef::Name {
                name: "integrator".into(),
                user: UserRef::Id("u".into()),
            },
            secret: SecretString::from(APP_SECRET),
        },
        Credentials::Token {
            token: SecretString::from(GIVEN_TOKEN),
        },
    ] {
        let s = Session::new(config(&server, credentials.clone())).unwrap();
        s.project_id().await.unwrap();
        assert_clean("credentials Debug", &format!("{credentials:?}"));
        assert_clean("session Debug", &format!("{s:?}"));
    }

    // The flow really ran and really was logged at TRACE/DEBUG.
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("obtained a Keystone token"), "{logs}");
    assert!(logs.contains("retrying openstack call"), "{logs}");
    assert!(logs.contains("re-authenticating"), "{logs}");
    assert_clean("TRACE log", &logs);

    // Everything a user can print.
    let cfg = config(&server, password());
    let cfg_debug = format!("{cfg:?}");
    assert!(cfg_debug.contains("[REDACTED]"), "{cfg_debug}");
    assert_clean("config Debug", &cfg_debug);
    assert_clean("session Debug", &format!("{session:?}"));
    assert_clean("error Display", &err.to_string());
    assert_clean("error Debug", &format!("{err:?}"));
    // The Keystone requests did carry the secrets (the test would pass vacuously otherwise).
    let bodies: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v3/auth/tokens")
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(bodies.iter().any(|b| b.contains(PASSWORD)));
    assert!(bodies.iter().any(|b| b.contains(APP_SECRET)));
    assert!(bodies.iter().any(|b| b.contains(GIVEN_TOKEN)));
}
