//! An auth URL that points at the wrong place says so: another OpenStack service (which answers
//! 401 naming its Keystone, and whose version document is not Keystone's) is not "check the
//! password", and `https://` to a plain-HTTP port is not rustls's "InvalidContentType".

mod session_support;

use openstack::{Error, Session};
use serde_json::{json, Value};
use session_support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Answers every token request with a 401 whose challenge names the Keystone at `keystone`.
async fn refuses_naming(server: &MockServer, keystone: &str) {
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header(
                    "www-authenticate",
                    format!(r#"Keystone uri="{keystone}""#).as_str(),
                )
                .set_body_json(json!({"error": {"code": 401, "title": "Unauthorized",
                    "message": "The request you have made requires authentication."}})),
        )
        .mount(server)
        .await;
}

/// Answers `GET at` with `document`.
async fn versions(server: &MockServer, at: &str, document: Value) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_json(document))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_service_behind_keystone_is_named_as_the_wrong_auth_url() {
    // What octavia-api (keystonemiddleware) answers: 401 naming the Keystone it trusts, and a
    // version document of the load-balancer API.
    let octavia = MockServer::start().await;
    refuses_naming(&octavia, "http://keystone.test:5000").await;
    versions(
        &octavia,
        "/",
        json!({"versions": [{"id": "v2.0", "status": "SUPPORTED",
                             "links": [{"href": "http://x/v2", "rel": "self"}]}]}),
    )
    .await;
    let err = session(&octavia).project_id().await.unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("not Keystone"), "{text}");
    assert!(
        text.contains("e.g. http://keystone.test:5000/v3)"),
        "{text}"
    );
    assert!(
        !text.contains("check the user"),
        "not a password problem: {text}"
    );
}

#[tokio::test]
async fn keystone_naming_its_public_url_is_still_keystone() {
    // An internal auth URL that is right: Keystone's challenge names its public endpoint,
    // elsewhere, but the URL called answers Keystone's version discovery.
    let keystone = MockServer::start().await;
    refuses_naming(&keystone, "https://keystone.public.example:5000/v3").await;
    versions(
        &keystone,
        "/v3/",
        json!({"version": {"id": "v3.14", "status": "stable", "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
        ]}}),
    )
    .await;
    let err = session(&keystone).project_id().await.unwrap_err();
    assert!(
        err.is_unauthorized(),
        "a wrong password, not a wrong URL: {err}"
    );
    assert!(
        err.to_string().contains("credentials were refused"),
        "{err}"
    );
}

#[tokio::test]
async fn keystone_refusing_the_password_still_says_check_the_credentials() {
    // Keystone's own 401 names Keystone itself: the credentials are wrong.
    let keystone = MockServer::start().await;
    refuses_naming(&keystone, &format!("{}/v3", keystone.uri())).await;
    let err = session(&keystone).project_id().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert!(
        err.to_string().contains("credentials were refused"),
        "{err}"
    );
}

#[tokio::test]
async fn https_to_a_plain_http_port_says_to_use_http() {
    let plain = MockServer::start().await;
    let mut cfg = config(&plain, password());
    cfg.auth_url = plain.uri().replace("http://", "https://") + "/v3";
    let err = Session::new(cfg).unwrap().project_id().await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("plain HTTP, not TLS"), "{text}");
    assert!(text.contains("use http://"), "{text}");
}
