//! Octavia version discovery: `GET /` on the Octavia endpoint, no token, once per session.

mod session_support;

use futures::future::join_all;
use openstack::{ApiVersion, Error, ServiceType, Session};
use serde_json::json;
use session_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn versions(base: &str) -> serde_json::Value {
    json!({"versions": [
        {"id": "v2.0", "status": "SUPPORTED", "updated": "2016-12-11T00:00:00Z",
         "links": [{"href": format!("{base}/load-balancer/v2"), "rel": "self"}]},
        {"id": "v2.29", "status": "SUPPORTED", "updated": "2024-01-01T00:00:00Z",
         "links": [{"href": format!("{base}/load-balancer/v2"), "rel": "self"}]},
        {"id": "v2.30", "status": "CURRENT", "updated": "2025-01-01T00:00:00Z",
         "links": [{"href": format!("{base}/load-balancer/v2"), "rel": "self"}]}
    ]})
}

#[tokio::test]
async fn version_is_discovered_once_without_a_token() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    Mock::given(method("GET"))
        .and(path("/load-balancer/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(versions(&server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    let rec = recorder();
    let session = session(&server).with_observer(rec.clone());
    let all = join_all((0..10).map(|_| {
        let s = session.clone();
        async move { s.octavia_version().await }
    }))
    .await;
    for v in all {
        assert_eq!(
            v.unwrap(),
            ApiVersion {
                major: 2,
                minor: 30
            }
        );
    }
    assert_eq!(
        session.octavia_version().await.unwrap().to_string(),
        "v2.30"
    );
    server.verify().await;
    let requests = server.received_requests().await.unwrap();
    let root = requests
        .iter()
        .find(|r| r.url.path() == "/load-balancer/")
        .unwrap();
    assert!(
        root.headers.get("x-auth-token").is_none(),
        "the version document needs no token"
    );
    let versions: Vec<_> = rec
        .records()
        .into_iter()
        .filter(|r| r.service == "load-balancer")
        .map(|r| (r.method, r.route, r.status))
        .collect();
    assert_eq!(
        versions,
        vec![("GET".to_string(), "/".to_string(), Some(200))]
    );
}

#[tokio::test]
async fn version_root_strips_a_versioned_override() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    Mock::given(method("GET"))
        .and(path("/octavia/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(versions(&server.uri())))
        .expect(1)
        .mount(&server)
        .await;
    let mut cfg = config(&server, password());
    cfg.endpoint_overrides.insert(
        ServiceType::LoadBalancer,
        format!("{}/octavia/v2.0", server.uri()),
    );
    let session = Session::new(cfg).unwrap();
    assert_eq!(session.octavia_version().await.unwrap().minor, 30);
    assert_eq!(
        session
            .endpoint(ServiceType::LoadBalancer)
            .await
            .unwrap()
            .as_str(),
        format!("{}/octavia/v2/", server.uri())
    );
    server.verify().await;
}

#[tokio::test]
async fn a_failed_discovery_is_not_cached() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok").await;
    Mock::given(method("GET"))
        .and(path("/load-balancer/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"versions": []})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/load-balancer/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(versions(&server.uri())))
        .with_priority(2)
        .mount(&server)
        .await;
    let session = session(&server);
    let err = session.octavia_version().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert!(err.to_string().contains("no v2.x version"), "{err}");
    assert_eq!(session.octavia_version().await.unwrap().minor, 30);
}
