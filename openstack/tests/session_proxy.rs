//! `HTTP_PROXY` / `NO_PROXY` from the environment are honoured (reqwest's behaviour, kept on
//! purpose). One test only: the environment is process-wide. Everything stays on loopback: the
//! `.invalid` hosts are only ever named to the proxy, never resolved.

mod session_support;

use openstack::{Call, Method, ServiceType, Session};
use serde_json::json;
use session_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn proxies_from_the_environment_are_used_and_no_proxy_bypasses_them() {
    // 1. Everything goes through the proxy, which here is a wiremock server.
    let proxy = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Subject-Token", "tok")
                .set_body_json(token_body("http://cloud.invalid", 3600)),
        )
        .mount(&proxy)
        .await;
    Mock::given(method("GET"))
        .and(path("/network/v2.0/networks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"networks": []})))
        .mount(&proxy)
        .await;
    std::env::set_var("HTTP_PROXY", proxy.uri());
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    let mut cfg = config(&proxy, password());
    cfg.auth_url = "http://keystone.invalid/v3".into();
    let session = Session::new(cfg).unwrap();
    session
        .send(Call::new(
            ServiceType::Network,
            Method::GET,
            "networks",
            &[200],
        ))
        .await
        .unwrap();
    let hosts: Vec<String> = proxy
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.host_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(hosts, vec!["keystone.invalid", "cloud.invalid"]);

    // 2. NO_PROXY names the cloud: the (dead) proxy is bypassed.
    let cloud = MockServer::start().await;
    mount_keystone(&cloud, "tok").await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    std::env::set_var("HTTP_PROXY", format!("http://127.0.0.1:{dead_port}"));
    std::env::set_var("NO_PROXY", "127.0.0.1,localhost");
    let session = Session::new(config(&cloud, password())).unwrap();
    assert_eq!(session.project_id().await.unwrap(), PROJECT);
    std::env::remove_var("HTTP_PROXY");
    std::env::remove_var("NO_PROXY");
}
