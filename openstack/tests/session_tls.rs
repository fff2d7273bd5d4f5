//! TLS options: a CA bundle with several certificates is added to the system roots; bad
//! bundles are refused at start-up, not on the first call.

use std::sync::Arc;

use openstack::{Credentials, Error, RetryPolicy, ServiceType, Session, SessionConfig};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Two throw-away self-signed CA certificates (test-only; their keys were discarded).
const BUNDLE: &str = "Two test CAs follow.
-----BEGIN CERTIFICATE-----
MIIBgDCCASWgAwIBAgIUL9yGONMomppN7UpCwFHG9aZAIt8wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJdGVzdC1jYS0xMCAXDTI2MTEyNjAyMjc1MloYDzIxMjYxMTAy
MDIyNzUyWjAUMRIwEAYDVQQDDAl0ZXN0LWNhLTEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATMdua5c/QeUVkjM2RlZInMoS43LN0e6Qbi5rE8izG0F4yQxcHeahPy
iG1sY3UgvcIl9QCXkrgm76fZnFvtEByXo1MwUTAdBgNVHQ4EFgQUJzSxGdRunuHJ
hkudOwCVlL8d2BIwHwYDVR0jBBgwFoAUJzSxGdRunuHJhkudOwCVlL8d2BIwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEApKHEqsdmhpUnf50PfhtJ
xmS9o3Rka/Tc2tjamH+qgVsCIQClCZbRT48ETfG1l5sohze3sk2+fFJMnMI3PDXp
/oOUzA==
-----END CERTIFICATE-----
some text between certificates is allowed
-----BEGIN CERTIFICATE-----
MIIBgDCCASWgAwIBAgIUTdUr6QV0CwzgxvbxQlB01BM08aEwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJdGVzdC1jYS0yMCAXDTI2MTEyNjAyMjc1MloYDzIxMjYxMTAy
MDIyNzUyWjAUMRIwEAYDVQQDDAl0ZXN0LWNhLTIwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATrljU4gtifnmdyvGmsL+zD9xIjjYfO1TU2SApv9yOtzTULVjXJMD1E
ZMOuS3EmaXd0nuzAbPwyruzS2uqWateNo1MwUTAdBgNVHQ4EFgQUOaHJFC14Th3S
/QmdvGVsSE61xsowHwYDVR0jBBgwFoAUOaHJFC14Th3S/QmdvGVsSE61xsowDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA4bshcQPdn+ycM2oJK2lr
ITTunvBIp52oMkizWfR5lesCIQC8/65xn2QQUCVVon11pUFIlHiDVxyGLSO6XzcX
2jvEMg==
-----END CERTIFICATE-----
";

fn config() -> SessionConfig {
    SessionConfig::new(
        "https://keystone.example:5000/v3",
        Credentials::Token {
            token: SecretString::from("t"),
        },
    )
}

#[test]
fn a_bundle_with_several_certificates_is_accepted() {
    assert_eq!(BUNDLE.matches("BEGIN CERTIFICATE").count(), 2);
    let mut cfg = config();
    cfg.ca_bundle_pem = Some(BUNDLE.as_bytes().to_vec());
    Session::new(cfg).expect("bundle accepted");
}

#[test]
fn a_broken_bundle_is_a_config_error_at_start() {
    let mut cfg = config();
    let broken = BUNDLE.replacen("MII", "M!I", 1);
    cfg.ca_bundle_pem = Some(broken.into_bytes());
    match Session::new(cfg) {
        Err(Error::Config(msg)) => assert!(msg.contains("CA bundle"), "{msg}"),
        other => panic!("expected a config error, got {other:?}"),
    }
    let mut cfg = config();
    cfg.ca_bundle_pem = Some(b"no pem here".to_vec());
    assert!(matches!(Session::new(cfg), Err(Error::Config(_))));
}

#[test]
fn insecure_is_only_an_explicit_option() {
    let cfg = config();
    assert!(!cfg.insecure, "verification is on by default");
    let mut cfg = config();
    cfg.insecure = true;
    Session::new(cfg).expect("insecure builds when asked for");
}

/// A private test CA and a server certificate it signed for `IP:127.0.0.1` (test-only
/// material, valid for 100 years; never trusted anywhere else).
const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBsDCCAVegAwIBAgIUY/i3EvAD0FVYgo2C9QjlnpOaZNAwCgYIKoZIzj0EAwIw
JTEjMCEGA1UEAwwab2N0YXZpYS1pbnRlZ3JhdG9yIHRlc3QgQ0EwIBcNMjYxMTI2
MDI0MDUzWhgPMjEyNjExMDIwMjQwNTNaMCUxIzAhBgNVBAMMGm9jdGF2aWEtaW50
ZWdyYXRvciB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEnHKCWoBt
sOg6fwpF3273bV9UAdfhB3OqAkfCCuSyTNNgGz2hH7d9FoiCiN675zPo2thoTLJ5
3dsGAVwLa7NPOaNjMGEwHQYDVR0OBBYEFK+mlg1ulSE8//JSDBkYMaf+3aH4MB8G
A1UdIwQYMBaAFK+mlg1ulSE8//JSDBkYMaf+3aH4MA8GA1UdEwEB/wQFMAMBAf8w
DgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0cAMEQCIG9indXiCDYo+oja5UVO
+PDy9ojuxjnoVPVMPhpMvU1FAiBOxHgrdUB6BoWTuw3IZnGm4vjYqLjTkc+0KtTP
VSdx3A==
-----END CERTIFICATE-----
";
const SERVER_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBvjCCAWSgAwIBAgIUCWNnjv/nnHyn+0vKkBOTc7D57XwwCgYIKoZIzj0EAwIw
JTEjMCEGA1UEAwwab2N0YXZpYS1pbnRlZ3JhdG9yIHRlc3QgQ0EwIBcNMjYxMTI2
MDI0MDUzWhgPMjEyNjExMDIwMjQwNTNaMBQxEjAQBgNVBAMMCTEyNy4wLjAuMTBZ
MBMGByqGSM49AgEGCCqGSM49AwEHA0IABCzz9q0WET5qGQ9ZIvMYUtdq/6ToHq92
j/SEDct1bmDAT9ioDRB0OSa1laKuAVrGRHF7ymVf5l5Q/N+jxkb1fXijgYAwfjAP
BgNVHREECDAGhwR/AAABMAkGA1UdEwQCMAAwCwYDVR0PBAQDAgeAMBMGA1UdJQQM
MAoGCCsGAQUFBwMBMB0GA1UdDgQWBBRiXzzWG+Os6fB+HVfpBVYjF+d/cjAfBgNV
HSMEGDAWgBSvppYNbpUhPP/yUgwZGDGn/t2h+DAKBggqhkjOPQQDAgNIADBFAiAo
AEwaXJcksT59UzOuCOc4AWk1p3dDsDcDQjUyL9TxlQIhAM5gfZhGtEEAHsrs0xJN
oh4DFZdFcibLbNCU1gQ04Zhn
-----END CERTIFICATE-----
";
const SERVER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/Xbx6IJKwk/dnxn6
mEE5PxVOFaBrGKUDxQgU0FXhSz+hRANCAAQs8/atFhE+ahkPWSLzGFLXav+k6B6v
do/0hA3LdW5gwE/YqA0QdDkmtZWirgFaxkRxe8plX+ZeUPzfo8ZG9X14
-----END PRIVATE KEY-----
";

/// An HTTPS server on loopback answering every request with Octavia's version document.
/// Returns its base URL and the task, which the test aborts.
async fn octavia_over_tls() -> (String, tokio::task::JoinHandle<()>) {
    let certs = CertificateDer::pem_slice_iter(SERVER_CERT.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY.as_bytes()).unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "https://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // Handshakes the client refuses end here with an error: that is the point.
                let Ok(mut stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut seen = Vec::new();
                let mut buf = [0u8; 1024];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"versions":[{"id":"v2.27","status":"CURRENT","links":[]}]}"#;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (base, task)
}

fn tls_config(base: &str) -> SessionConfig {
    let mut cfg = config();
    cfg.endpoint_overrides
        .insert(ServiceType::LoadBalancer, base.to_string());
    cfg.retry = RetryPolicy::never();
    cfg
}

#[tokio::test]
async fn the_ca_bundle_is_trusted_for_https() {
    let (base, server) = octavia_over_tls().await;
    let mut cfg = tls_config(&base);
    // The bundle holds an unrelated CA too: several certificates are all added.
    cfg.ca_bundle_pem = Some(format!("{BUNDLE}\n{TEST_CA}").into_bytes());
    let version = Session::new(cfg).unwrap().octavia_version().await.unwrap();
    assert_eq!(version.to_string(), "v2.27");
    server.abort();
}

#[tokio::test]
async fn without_the_bundle_the_certificate_is_refused() {
    let (base, server) = octavia_over_tls().await;
    let err = Session::new(tls_config(&base))
        .unwrap()
        .octavia_version()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    server.abort();
}

#[tokio::test]
async fn insecure_accepts_an_unknown_certificate() {
    let (base, server) = octavia_over_tls().await;
    let mut cfg = tls_config(&base);
    cfg.insecure = true;
    let version = Session::new(cfg).unwrap().octavia_version().await.unwrap();
    assert_eq!(version.minor, 27);
    server.abort();
}
