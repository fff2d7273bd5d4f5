//! TLS options: a CA bundle with several certificates is added to the system roots; bad
//! bundles are refused at start-up, not on the first call.

use openstack::{Credentials, Error, Session, SessionConfig};
use secrecy::SecretString;

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
