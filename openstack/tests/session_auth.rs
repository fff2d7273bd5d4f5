//! Keystone authentication bodies, version discovery, endpoint choice and request headers.

mod session_support;
mod shared_tier;

use openstack::{
    AppCredRef, Call, Credentials, DomainRef, Error, Interface, Scope, ServiceType, Session,
    UserRef,
};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use session_support::*;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The Keystone v3 auth request bodies of the API reference (re-typed here, under the upstream
/// example's file name); `our_auth_bodies_are_the_upstream_examples` compares them with the
/// upstream files when `../shared` is present.
fn keystone_body(name: &str) -> Value {
    let user = json!({"id": "ee4dfb6e5540447cb3741905149d9b6e", "password": "devstacker"});
    let password = json!({"methods": ["password"], "password": {"user": user}});
    let token = json!({"methods": ["token"], "token": {"id": "'$OS_TOKEN'"}});
    let project_id = json!({"project": {"id": "a6944d763bf64ee6a275f1263fae0352"}});
    let project_name = json!({"project": {"domain": {"id": "default"}, "name": "admin"}});
    match name {
        "auth-password-unscoped-request.json" => json!({"auth": {"identity": {
            "methods": ["password"],
            "password": {"user": {"id": "423f19a4ac1e4f48bbb4180756e6eb6c", "password": "devstacker"}}}}}),
        "auth-password-unscoped-request-with-domain.json" => json!({"auth": {"identity": {
            "methods": ["password"],
            "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "devstacker"}}}}}),
        "project-id-password.json" => json!({"auth": {"identity": password, "scope": project_id}}),
        "project-name-password.json" => {
            json!({"auth": {"identity": password, "scope": project_name}})
        }
        "domain-id-password.json" => {
            json!({"auth": {"identity": password, "scope": {"domain": {"id": "default"}}}})
        }
        "domain-name-password.json" => {
            json!({"auth": {"identity": password, "scope": {"domain": {"name": "Default"}}}})
        }
        "auth-application-credential-id-request.json" => json!({"auth": {"identity": {
            "methods": ["application_credential"],
            "application_credential": {"id": "423f19a4ac1e4f48bbb4180756e6eb6c", "secret": "rEaqvJka48mpv"}}}}),
        "auth-application-credential-name-request.json" => json!({"auth": {"identity": {
            "methods": ["application_credential"],
            "application_credential": {"name": "monitoring", "secret": "rEaqvJka48mpv",
                "user": {"id": "423f19a4ac1e4f48bbb4180756e6eb6c"}}}}}),
        "project-id-token.json" => json!({"auth": {"identity": token, "scope": project_id}}),
        "project-name-token.json" => json!({"auth": {"identity": token, "scope": project_name}}),
        other => panic!("no Keystone body named {other}"),
    }
}

const KEYSTONE_BODIES: [&str; 10] = [
    "auth-password-unscoped-request.json",
    "auth-password-unscoped-request-with-domain.json",
    "project-id-password.json",
    "project-name-password.json",
    "domain-id-password.json",
    "domain-name-password.json",
    "auth-application-credential-id-request.json",
    "auth-application-credential-name-request.json",
    "project-id-token.json",
    "project-name-token.json",
];

/// Fidelity tier: the bodies above are the upstream API reference's examples, as they are.
#[test]
fn our_auth_bodies_are_the_upstream_examples() {
    let Some(dir) = shared_tier::upstream_dir("our_auth_bodies_are_the_upstream_examples") else {
        return;
    };
    for name in KEYSTONE_BODIES {
        let text = std::fs::read_to_string(dir.join("keystone").join(name))
            .unwrap_or_else(|e| panic!("upstream example keystone/{name}: {e}"));
        let upstream: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(keystone_body(name), upstream, "{name}");
    }
}

const USER_ID: &str = "ee4dfb6e5540447cb3741905149d9b6e";

/// Authenticates once with `credentials`/`scope` and checks Keystone received exactly
/// `expected` (compared as JSON).
async fn assert_auth_body(credentials: Credentials, scope: Option<Scope>, expected: Value) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .and(body_json(&expected))
        .and(header("content-type", "application/json"))
        .respond_with(token_reply(&server, "tok-1", 3600))
        .expect(1)
        .mount(&server)
        .await;
    let mut cfg = config(&server, credentials);
    cfg.scope = scope;
    let session = Session::new(cfg).unwrap();
    assert_eq!(session.project_id().await.unwrap(), PROJECT);
    server.verify().await;
}

fn devstacker(user: UserRef) -> Credentials {
    Credentials::Password {
        user,
        password: SecretString::from("devstacker"),
    }
}

#[tokio::test]
async fn password_by_user_id_unscoped() {
    assert_auth_body(
        devstacker(UserRef::Id("423f19a4ac1e4f48bbb4180756e6eb6c".into())),
        None,
        keystone_body("auth-password-unscoped-request.json"),
    )
    .await;
}

#[tokio::test]
async fn password_by_name_and_domain_name() {
    assert_auth_body(
        devstacker(UserRef::Name {
            name: "admin".into(),
            domain: DomainRef::Name("Default".into()),
        }),
        None,
        keystone_body("auth-password-unscoped-request-with-domain.json"),
    )
    .await;
}

#[tokio::test]
async fn password_by_name_and_domain_id_project_name_scope() {
    assert_auth_body(
        devstacker(UserRef::Name {
            name: "admin".into(),
            domain: DomainRef::Id("default".into()),
        }),
        Some(Scope::ProjectName {
            name: "demo".into(),
            domain: DomainRef::Name("Default".into()),
        }),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": "devstacker"}}},
            "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}}),
    )
    .await;
}

#[tokio::test]
async fn password_project_id_scope() {
    assert_auth_body(
        devstacker(UserRef::Id(USER_ID.into())),
        Some(Scope::ProjectId("a6944d763bf64ee6a275f1263fae0352".into())),
        keystone_body("project-id-password.json"),
    )
    .await;
}

#[tokio::test]
async fn password_project_name_scope() {
    assert_auth_body(
        devstacker(UserRef::Id(USER_ID.into())),
        Some(Scope::ProjectName {
            name: "admin".into(),
            domain: DomainRef::Id("default".into()),
        }),
        keystone_body("project-name-password.json"),
    )
    .await;
}

#[tokio::test]
async fn password_domain_scopes() {
    assert_auth_body(
        devstacker(UserRef::Id(USER_ID.into())),
        Some(Scope::DomainId("default".into())),
        keystone_body("domain-id-password.json"),
    )
    .await;
    assert_auth_body(
        devstacker(UserRef::Id(USER_ID.into())),
        Some(Scope::DomainName("Default".into())),
        keystone_body("domain-name-password.json"),
    )
    .await;
}

#[tokio::test]
async fn application_credential_by_id_never_sends_scope() {
    assert_auth_body(
        Credentials::ApplicationCredential {
            credential: AppCredRef::Id("423f19a4ac1e4f48bbb4180756e6eb6c".into()),
            secret: SecretString::from("rEaqvJka48mpv"),
        },
        // A configured scope must be dropped: Keystone answers 401 to scoped app creds.
        Some(Scope::ProjectId(PROJECT.into())),
        keystone_body("auth-application-credential-id-request.json"),
    )
    .await;
}

#[tokio::test]
async fn application_credential_by_name_and_user() {
    assert_auth_body(
        Credentials::ApplicationCredential {
            credential: AppCredRef::Name {
                name: "monitoring".into(),
                user: UserRef::Id("423f19a4ac1e4f48bbb4180756e6eb6c".into()),
            },
            secret: SecretString::from("rEaqvJka48mpv"),
        },
        None,
        keystone_body("auth-application-credential-name-request.json"),
    )
    .await;
}

#[tokio::test]
async fn token_with_project_scopes() {
    // The upstream samples carry the shell artefact "'$OS_TOKEN'" as the token (SOURCES.md);
    // we send exactly that string so the bodies compare equal.
    let token = Credentials::Token {
        token: SecretString::from("'$OS_TOKEN'"),
    };
    assert_auth_body(
        token.clone(),
        Some(Scope::ProjectId("a6944d763bf64ee6a275f1263fae0352".into())),
        keystone_body("project-id-token.json"),
    )
    .await;
    assert_auth_body(
        token,
        Some(Scope::ProjectName {
            name: "admin".into(),
            domain: DomainRef::Id("default".into()),
        }),
        keystone_body("project-name-token.json"),
    )
    .await;
}

#[tokio::test]
async fn unversioned_auth_url_is_discovered_once() {
    let server = MockServer::start().await;
    let versions = json!({"versions": {"values": [
        {"id": "v2.0", "status": "deprecated", "links": [{"rel": "self", "href": format!("{}/identity/v2.0/", server.uri())}]},
        {"id": "v3.14", "status": "stable", "links": [{"rel": "self", "href": format!("{}/identity/v3/", server.uri())}]}
    ]}});
    Mock::given(method("GET"))
        .and(path("/identity"))
        .respond_with(ResponseTemplate::new(300).set_body_json(versions))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/v3/auth/tokens"))
        .respond_with(token_reply(&server, "tok-1", 3600))
        .expect(2)
        .mount(&server)
        .await;
    let mut cfg = config(&server, password());
    cfg.auth_url = format!("{}/identity", server.uri());
    let session = Session::new(cfg).unwrap();
    session.project_id().await.unwrap();
    session.invalidate_token();
    session.project_id().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn auth_url_without_discovery_falls_back_to_v3() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/keystone/"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/keystone/v3/auth/tokens"))
        .respond_with(token_reply(&server, "tok-1", 3600))
        .expect(1)
        .mount(&server)
        .await;
    let mut cfg = config(&server, password());
    cfg.auth_url = format!("{}/keystone/", server.uri());
    Session::new(cfg).unwrap().project_id().await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn bad_auth_url_is_a_config_error() {
    let server = MockServer::start().await;
    for url in ["not a url", "ftp://keystone/v3", "/v3"] {
        let mut cfg = config(&server, password());
        cfg.auth_url = url.into();
        let err = Session::new(cfg).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{url}: {err}");
        assert!(err.to_string().contains("Keystone's URL"), "{err}");
    }
}

#[tokio::test]
async fn keystone_refusal_is_unauthorized_with_keystone_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("x-openstack-request-id", "req-k401")
                .set_body_json(json!({"error": {"code": 401, "title": "Unauthorized",
                    "message": "The request you have made requires authentication."}})),
        )
        .mount(&server)
        .await;
    let err = session(&server).project_id().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert_eq!(err.request_id(), Some("req-k401"));
    let text = err.to_string();
    assert!(
        text.contains("identity POST /v3/auth/tokens answered 401"),
        "{text}"
    );
    assert!(text.contains("requires authentication"), "{text}");
}

#[tokio::test]
async fn missing_subject_token_is_an_auth_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(ResponseTemplate::new(201).set_body_json(token_body(&server.uri(), 3600)))
        .mount(&server)
        .await;
    let err = session(&server).project_id().await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err}");
    assert!(err.to_string().contains("X-Subject-Token"), "{err}");
}

/// Sends a GET to `service` with the given interface/region and returns the path that was hit.
async fn endpoint_of(
    server: &MockServer,
    service: ServiceType,
    interface: Interface,
    region: Option<&str>,
) -> Result<String, Error> {
    let mut cfg = config(server, password());
    cfg.interface = interface;
    cfg.region = region.map(Into::into);
    let session = Session::new(cfg)?;
    Ok(session.endpoint(service).await?.to_string())
}

#[tokio::test]
async fn catalog_endpoint_choice_and_joining() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok-1").await;
    let base = server.uri();
    let cases = [
        (
            ServiceType::LoadBalancer,
            Interface::Public,
            None,
            "/load-balancer/v2/",
        ),
        (
            ServiceType::LoadBalancer,
            Interface::Public,
            Some("RegionOne"),
            "/load-balancer/v2/",
        ),
        (
            ServiceType::LoadBalancer,
            Interface::Internal,
            None,
            "/lb-internal/v2/",
        ),
        (
            ServiceType::LoadBalancer,
            Interface::Public,
            Some("RegionTwo"),
            "/lb-two/v2/",
        ),
        (
            ServiceType::Network,
            Interface::Public,
            None,
            "/network/v2.0/",
        ),
        // `region_id` is null here: the deprecated `region` field decides.
        (
            ServiceType::Network,
            Interface::Public,
            Some("RegionTwo"),
            "/network-two/v2.0/",
        ),
    ];
    for (service, interface, region, want) in cases {
        let got = endpoint_of(&server, service, interface, region)
            .await
            .unwrap();
        assert_eq!(
            got,
            format!("{base}{want}"),
            "{service:?} {interface:?} {region:?}"
        );
    }
    let err = endpoint_of(
        &server,
        ServiceType::Network,
        Interface::Admin,
        Some("RegionOne"),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::NoEndpoint { .. }), "{text}");
    assert!(
        text.contains("no admin endpoint for `network` in region `RegionOne`"),
        "{text}"
    );
    assert!(text.contains("public in region RegionOne"), "{text}");
    assert!(text.contains("endpoint override"), "{text}");
}

#[tokio::test]
async fn calls_carry_headers_token_path_and_query() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok-123").await;
    let ua = format!("octavia-integrator/{}", env!("CARGO_PKG_VERSION"));
    Mock::given(method("POST"))
        .and(path("/load-balancer/v2/lbaas/loadbalancers"))
        .and(query_param("name", "a b"))
        .and(header("x-auth-token", "tok-123"))
        .and(header("user-agent", ua.as_str()))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .and(body_json(json!({"loadbalancer": {"name": "lb"}})))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("x-openstack-request-id", "req-9")
                .set_body_json(json!({"loadbalancer": {"id": "x"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let reply = session(&server)
        .send(
            Call::new(
                ServiceType::LoadBalancer,
                Method::POST,
                "lbaas/loadbalancers",
                &[201],
            )
            .query("name", "a b")
            .json(json!({"loadbalancer": {"name": "lb"}})),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 201);
    assert_eq!(reply.request_id.as_deref(), Some("req-9"));
    let v: Value = reply.json().unwrap();
    assert_eq!(v["loadbalancer"]["id"], "x");
    server.verify().await;
    // The Keystone POST carries no X-Auth-Token, and the GET has no Content-Type.
    let requests = server.received_requests().await.unwrap();
    let auth = requests
        .iter()
        .find(|r| r.url.path() == "/v3/auth/tokens")
        .unwrap();
    assert!(auth.headers.get("x-auth-token").is_none());
    assert_eq!(
        auth.headers.get("user-agent").unwrap().to_str().unwrap(),
        ua
    );
}

#[tokio::test]
async fn endpoint_override_replaces_the_catalog() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok-1").await;
    Mock::given(method("GET"))
        .and(path("/custom-net/v2.0/networks"))
        .and(header("x-auth-token", "tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"networks": []})))
        .expect(1)
        .mount(&server)
        .await;
    let mut cfg = config(&server, password());
    cfg.endpoint_overrides.insert(
        ServiceType::Network,
        format!("{}/custom-net/v2.0", server.uri()),
    );
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
    server.verify().await;
}

#[tokio::test]
async fn next_links_are_followed_as_given() {
    let server = MockServer::start().await;
    mount_keystone(&server, "tok-1").await;
    Mock::given(method("GET"))
        .and(path("/load-balancer/v2/lbaas/pools"))
        .and(query_param("marker", "m1"))
        .and(query_param("limit", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"pools": []})))
        .expect(1)
        .mount(&server)
        .await;
    let mut call = Call::new(ServiceType::LoadBalancer, Method::GET, "unused", &[200]);
    call.target = openstack::Target::Url(format!(
        "{}/load-balancer/v2/lbaas/pools?limit=2&marker=m1",
        server.uri()
    ));
    session(&server).send(call).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn an_unscoped_token_explains_the_missing_catalog() {
    let server = MockServer::start().await;
    let mut body = token_body(&server.uri(), 3600);
    let token = body["token"].as_object_mut().unwrap();
    token.remove("catalog");
    token.remove("project");
    Mock::given(method("POST"))
        .and(path("/v3/auth/tokens"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Subject-Token", "tok")
                .set_body_json(body),
        )
        .mount(&server)
        .await;
    let mut cfg = config(&server, password());
    cfg.scope = None;
    let session = Session::new(cfg).unwrap();
    let err = session
        .endpoint(ServiceType::LoadBalancer)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("configure a project scope"),
        "{err}"
    );
    let err = session.project_id().await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err}");
    assert!(err.to_string().contains("not scoped to a project"), "{err}");
}
