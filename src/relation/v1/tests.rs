//! Vectors produced by the real library (research juju-interfaces.md §1.7, and
//! `fixtures/vectors/loadbalancer-v1.json`, made by `scripts/make-vectors` with the pinned
//! library and read at test time) and the library's own unit tests (research §1.11).

use std::collections::BTreeMap;

use super::*;
use crate::relation::json::Json;

fn kcp(name: &str, id: &str, front: i64, public: bool) -> Request {
    let mut r = Request::new(id, name, Protocol::Tcp, BTreeMap::from([(front, 6443)]));
    r.public = public;
    let mut hc = HealthCheck::new(Protocol::Http, 6443);
    hc.path = Some("/livez".into());
    r.health_checks.push(hc);
    r
}

// ---- research §1.7 (embedded: our own copy of the few published values) ----

#[test]
fn minimal_request_vector() {
    let r = Request::new("id", "foo", Protocol::Https, BTreeMap::from([(443, 443)]));
    assert_eq!(
        r.canonical_json(),
        r#"{"algorithm": [], "backends": [], "health_checks": [], "id": "id", "ingress_address": null, "name": "foo", "port_mapping": {"443": 443}, "protocol": "https", "public": true, "sent_hash": null, "sticky": false, "tls_cert": null, "tls_key": null, "tls_termination": false}"#
    );
    assert_eq!(r.hash(), "20462c46e7b91b4aac513503c7461307");
}

#[test]
fn kubernetes_control_plane_external_vector() {
    let r = kcp(
        "api-server-external",
        "0123456789abcdef0123456789abcdef",
        443,
        true,
    )
    .sealed();
    assert_eq!(
        r.sent_hash.as_deref(),
        Some("3f6d38e4dad3760c16b632677967a49d")
    );
    assert_eq!(
        r.canonical_json(),
        r#"{"algorithm": [], "backends": [], "health_checks": [{"interval": 30, "path": "/livez", "port": 6443, "protocol": "http", "retries": 3}], "id": "0123456789abcdef0123456789abcdef", "ingress_address": null, "name": "api-server-external", "port_mapping": {"443": 6443}, "protocol": "tcp", "public": true, "sent_hash": "3f6d38e4dad3760c16b632677967a49d", "sticky": false, "tls_cert": null, "tls_key": null, "tls_termination": false}"#
    );
    assert_eq!(r.hash(), "2d3a7df2873c6fdf19f8ac95a2dfe2bf");
    let mut filled = r.clone();
    filled.backends = vec!["10.5.0.10".into(), "10.5.0.11".into()];
    assert_eq!(filled.hash(), "181bd7ed919dd657d9299de7ae1d4a9e");
    // The text the requirer writes parses back to the same request.
    assert_eq!(Request::parse(&r.canonical_json()).unwrap(), r);
}

#[test]
fn kubernetes_control_plane_internal_vector() {
    let r = kcp(
        "api-server-internal",
        "0123456789abcdef0123456789abcdef",
        6443,
        false,
    )
    .sealed();
    assert_eq!(
        r.sent_hash.as_deref(),
        Some("68b94e69df43de5a5c3b3a02786c697b")
    );
}

#[test]
fn response_vectors_from_research() {
    let ext = kcp(
        "api-server-external",
        "0123456789abcdef0123456789abcdef",
        443,
        true,
    )
    .sealed();
    let int = kcp(
        "api-server-internal",
        "0123456789abcdef0123456789abcdef",
        6443,
        false,
    )
    .sealed();
    let ok = Response::success(&ext, Address::parse("203.0.113.10").unwrap());
    assert_eq!(
        ok.canonical_json(),
        r#"{"address": "203.0.113.10", "error": null, "error_fields": {}, "error_message": null, "received_hash": "3f6d38e4dad3760c16b632677967a49d"}"#
    );
    let rejected = Response::unsupported(
        &int,
        Failure::field(RequestField::Public, "Only support public loadbalancers"),
    );
    assert_eq!(
        rejected.canonical_json(),
        r#"{"address": null, "error": "unsupported", "error_fields": {"public": "Only support public loadbalancers"}, "error_message": null, "received_hash": "68b94e69df43de5a5c3b3a02786c697b"}"#
    );
    let failed = Response::provider_error(
        &ext,
        Failure::message("Error while creating load balancer; check credential and debug-log")
            .unwrap(),
    );
    assert_eq!(
        failed.canonical_json(),
        r#"{"address": null, "error": "provider_error", "error_fields": {}, "error_message": "Error while creating load balancer; check credential and debug-log", "received_hash": "3f6d38e4dad3760c16b632677967a49d"}"#
    );
    // The integrator's variant (error_message "") still loads.
    let integrator = r#"{"address": "203.0.113.10", "error": null, "error_fields": {}, "error_message": "", "received_hash": "3f6d38e4dad3760c16b632677967a49d"}"#;
    assert_eq!(
        Response::parse(integrator).unwrap().canonical_json(),
        integrator
    );
}

// ---- fixtures/vectors/loadbalancer-v1.json (made by scripts/make-vectors with the library) ----

fn vectors() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/vectors/loadbalancer-v1.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{path}: {e} (the vectors are part of the repository: scripts/make-vectors)")
    });
    serde_json::from_str(&text).expect("vectors file is JSON")
}

fn s(v: &serde_json::Value) -> &str {
    v.as_str().expect("string")
}

#[test]
fn every_request_vector_round_trips_byte_for_byte() {
    let v = vectors();
    let requests = v["requests"].as_array().unwrap();
    assert!(requests.len() >= 13);
    for case in requests {
        let name = s(&case["name"]);
        let unsent = Request::parse(s(&case["canonical_without_sent_hash"])).unwrap();
        assert_eq!(
            unsent.canonical_json(),
            s(&case["canonical_without_sent_hash"]),
            "{name}"
        );
        assert_eq!(unsent.hash(), s(&case["hash_without_sent_hash"]), "{name}");
        assert_eq!(unsent.compute_sent_hash(), s(&case["sent_hash"]), "{name}");
        let sent = unsent.sealed();
        assert_eq!(sent.canonical_json(), s(&case["canonical"]), "{name}");
        assert_eq!(sent.hash(), s(&case["hash"]), "{name}");
        let reparsed = Request::parse(s(&case["canonical"])).unwrap();
        assert_eq!(reparsed, sent, "{name}");
        assert_eq!(reparsed.name, name);
    }
}

#[test]
fn every_invalid_request_vector_is_accepted_or_rejected_like_the_library() {
    let v = vectors();
    for case in v["invalid_requests"].as_array().unwrap() {
        let input = case["input"].to_string();
        let name = s(&case["input"]["name"]);
        let parsed = Request::parse(&input);
        if case["accepted"].as_bool().unwrap() {
            let r = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(r.canonical_json(), s(&case["canonical"]), "{name}");
        } else {
            let err = parsed.expect_err(name);
            // The library's error keys are the offending top-level fields (or unknown keys).
            let mut ours: Vec<String> = err.fields.keys().map(|f| f.as_str().to_owned()).collect();
            ours.extend(err.unknown_keys.iter().cloned());
            ours.sort();
            let mut theirs: Vec<String> = case["errors"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            theirs.sort();
            assert_eq!(ours, theirs, "{name}: {err}");
            // And the answer to it is a response the library accepts.
            let answer = Response::rejected(&err);
            Response::parse(&answer.canonical_json()).unwrap();
        }
    }
}

#[test]
fn every_response_vector_is_judged_like_the_library() {
    let v = vectors();
    for case in v["responses"].as_array().unwrap() {
        let input = case["input"].to_string();
        let parsed = Response::parse(&input);
        if case["valid"].as_bool().unwrap() {
            let r = parsed.unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.canonical_json(), s(&case["canonical"]), "{input}");
            assert_eq!(r.hash(), s(&case["hash"]), "{input}");
        } else {
            assert!(parsed.is_err(), "{input} must be rejected");
        }
    }
}

// ---- lenient loading, checked against marshmallow 3.26.2 ----

fn base(extra: &str) -> String {
    format!(
        r#"{{"id": "a", "name": "n", "protocol": "tcp", "port_mapping": {{"443": 6443}}{extra}}}"#
    )
}

#[test]
fn booleans_load_as_leniently_as_marshmallow() {
    for (text, want) in [
        ("true", true),
        ("false", false),
        ("1", true),
        ("0", false),
        ("1.0", true),
        ("0.0", false),
        (r#""yes""#, true),
        (r#""Off""#, false),
        (r#""T""#, true),
        (r#""n""#, false),
        (r#""1""#, true),
        (r#""0""#, false),
    ] {
        let r = Request::parse(&base(&format!(r#", "sticky": {text}"#))).unwrap();
        assert_eq!(r.sticky, want, "{text}");
    }
    for bad in [
        "2",
        "0.5",
        r#""yEs""#,
        r#""""#,
        "[]",
        "{}",
        "null",
        r#"" true""#,
    ] {
        let err = Request::parse(&base(&format!(r#", "public": {bad}"#))).unwrap_err();
        assert!(err.fields.contains_key(&RequestField::Public), "{bad}");
    }
}

#[test]
fn integers_load_like_python_int() {
    let r = Request::parse(&base(
        r#", "port_mapping": {" 0443 ": "6_443", "+80": 8080.9, "-1": " -2 "}"#,
    ))
    .unwrap();
    assert_eq!(
        r.port_mapping,
        BTreeMap::from([(-1, -2), (80, 8080), (443, 6443)])
    );
    for bad in [
        r#"{"443": true}"#,
        r#"{"443": null}"#,
        r#"{"443": "1e3"}"#,
        r#"{"443": "_1"}"#,
        r#"{"443": "1__0"}"#,
        r#"{"4 43": 1}"#,
        r#"{"": 1}"#,
        r#"{"0x10": 1}"#,
        r#"{"443": [1]}"#,
        r#"[]"#,
        r#""443:6443""#,
        r#"{"443": 1e30}"#,
        r#"{"99999999999999999999": 1}"#,
    ] {
        let err = Request::parse(&base(&format!(r#", "port_mapping": {bad}"#))).unwrap_err();
        assert!(
            err.fields.contains_key(&RequestField::PortMapping),
            "{bad}: {err}"
        );
    }
}

#[test]
fn duplicate_port_keys_keep_the_last_like_python() {
    let r = Request::parse(&base(
        r#", "port_mapping": {"443": 1, "0443": 2, "80": 3, "80": 4}"#,
    ))
    .unwrap();
    assert_eq!(r.port_mapping, BTreeMap::from([(80, 4), (443, 2)]));
}

#[test]
fn nulls_are_allowed_only_where_the_default_is_null() {
    for field in ["tls_cert", "tls_key", "ingress_address", "sent_hash"] {
        assert!(
            Request::parse(&base(&format!(r#", "{field}": null"#))).is_ok(),
            "{field}"
        );
    }
    for (field, f) in [
        ("backends", RequestField::Backends),
        ("algorithm", RequestField::Algorithm),
        ("sticky", RequestField::Sticky),
        ("health_checks", RequestField::HealthChecks),
        ("public", RequestField::Public),
        ("tls_termination", RequestField::TlsTermination),
    ] {
        let err = Request::parse(&base(&format!(r#", "{field}": null"#))).unwrap_err();
        assert_eq!(err.fields.keys().collect::<Vec<_>>(), [&f], "{field}");
    }
    let err =
        Request::parse(r#"{"id": null, "name": null, "protocol": null, "port_mapping": null}"#)
            .unwrap_err();
    assert_eq!(err.fields.len(), 4);
}

#[test]
fn strings_and_lists_are_strict() {
    for (extra, field) in [
        (r#", "backends": ["10.0.0.1", 5]"#, RequestField::Backends),
        (r#", "backends": [null]"#, RequestField::Backends),
        (r#", "backends": "10.0.0.1""#, RequestField::Backends),
        (r#", "algorithm": {}"#, RequestField::Algorithm),
        (r#", "tls_cert": 1"#, RequestField::TlsCert),
        (r#", "sent_hash": false"#, RequestField::SentHash),
        (r#", "id": 7"#, RequestField::Id),
        (r#", "protocol": "TCP""#, RequestField::Protocol),
        (r#", "protocol": "sctp""#, RequestField::Protocol),
        (r#", "protocol": 1"#, RequestField::Protocol),
        (
            r#", "health_checks": [{"protocol": "http", "port": 1, "x": 1}]"#,
            RequestField::HealthChecks,
        ),
        (
            r#", "health_checks": [{"protocol": "http"}]"#,
            RequestField::HealthChecks,
        ),
        (
            r#", "health_checks": [{"protocol": "http", "port": 1, "interval": null}]"#,
            RequestField::HealthChecks,
        ),
        (r#", "health_checks": ["x"]"#, RequestField::HealthChecks),
        (r#", "health_checks": [null]"#, RequestField::HealthChecks),
    ] {
        let err = Request::parse(&base(extra)).unwrap_err();
        assert!(err.fields.contains_key(&field), "{extra}: {err}");
    }
    // Health check leniency and defaults.
    let r = Request::parse(&base(
        r#", "health_checks": [{"protocol": "https", "port": "443", "path": null, "retries": 5.0}]"#,
    ))
    .unwrap();
    assert_eq!(
        r.health_checks,
        [HealthCheck {
            protocol: Protocol::Https,
            port: 443,
            path: None,
            interval: 30,
            retries: 5
        }]
    );
}

#[test]
fn a_rejection_names_every_offending_field_and_keeps_the_sent_hash() {
    let err = Request::parse(
        r#"{"id": "a", "name": "n", "protocol": "TCP", "port_mapping": {"x": 1}, "public": null, "foo": 1, "bar": 2, "sent_hash": "abc"}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.fields.keys().copied().collect::<Vec<_>>(),
        [
            RequestField::PortMapping,
            RequestField::Protocol,
            RequestField::Public
        ]
    );
    assert_eq!(err.unknown_keys, ["bar", "foo"]);
    assert_eq!(err.sent_hash.as_deref(), Some("abc"));
    let answer = Response::rejected(&err);
    assert_eq!(answer.error(), Some(ErrorKind::Unsupported));
    assert_eq!(answer.received_hash(), Some("abc"));
    assert!(answer
        .error_message()
        .unwrap()
        .contains("unknown field \"foo\""));
    let reloaded = Response::parse(&answer.canonical_json()).unwrap();
    assert_eq!(reloaded, answer);
}

#[test]
fn text_that_is_not_a_request_object_is_rejected_not_a_panic() {
    for text in [
        "",
        "nope",
        "[]",
        "null",
        "1",
        "\"x\"",
        "{",
        "{\"id\": \"\\ud800\"}",
    ] {
        let err = Request::parse(text).unwrap_err();
        assert!(err.whole.is_some() || !err.fields.is_empty(), "{text}");
        Response::parse(&Response::rejected(&err).canonical_json()).unwrap();
    }
}

#[test]
fn tls_key_never_shows_in_debug() {
    let mut r = Request::new("i", "n", Protocol::Https, BTreeMap::new());
    r.tls_key = Some(TlsKey::new("-----BEGIN PRIVATE KEY----- s3cr3t"));
    assert!(!format!("{r:?}").contains("s3cr3t"));
    assert!(r.canonical_json().contains("s3cr3t"));
}

#[test]
fn serde_round_trip_uses_the_library_rules() {
    let r = kcp("api-server-external", "x", 443, true).sealed();
    let text = serde_json::to_string(&r).unwrap();
    let back: Request = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    // Same keys, order and values as the canonical text; only the separators differ.
    let mut numeric = Request::new(
        "i",
        "n",
        Protocol::Tcp,
        BTreeMap::from([(1000, 1), (9, 9), (80, 8080)]),
    );
    numeric
        .health_checks
        .push(HealthCheck::new(Protocol::Tcp, 1));
    numeric.tls_key = Some(TlsKey::new("k"));
    let compact = serde_json::to_string(&numeric).unwrap();
    assert_eq!(
        compact,
        numeric
            .canonical_json()
            .replace(", ", ",")
            .replace(": ", ":")
    );
    let resp = Response::unsupported(&numeric, Failure::field(RequestField::Sticky, "no"));
    assert_eq!(
        serde_json::to_string(&resp).unwrap(),
        resp.canonical_json().replace(", ", ",").replace(": ", ":")
    );
    assert!(serde_json::from_str::<Request>(r#"{"id": "a"}"#).is_err());
    let resp = Response::success(&r, Address::parse("lb.example.com").unwrap());
    let back: Response = serde_json::from_str(&serde_json::to_string(&resp).unwrap()).unwrap();
    assert_eq!(back, resp);
    assert!(serde_json::from_str::<Response>("{}").is_err());
}

// ---- the library's own unit tests (research §1.11) against our types ----

#[test]
fn library_test_request() {
    // 2. port_mapping {"none": "none"} is invalid.
    assert!(Request::parse(
        r#"{"name": "foo", "id": "foo", "protocol": "https", "port_mapping": {"none": "none"}}"#
    )
    .is_err());
    // 3. An extra key is invalid.
    assert!(Request::parse(
        r#"{"name": "foo", "id": "foo", "protocol": "https", "port_mapping": {"443": 443}, "foo": "bar"}"#
    )
    .is_err());
    // 4. Defaults.
    let mut r = Request::new("id", "name", Protocol::Https, BTreeMap::from([(443, 443)]));
    assert!(r.health_checks.is_empty());
    assert_eq!(VERSION, "1");
    // 5. Every schema field takes part in the hash.
    let h0 = r.hash();
    r.health_checks.push(HealthCheck::new(Protocol::Https, 443));
    let h1 = r.hash();
    assert_ne!(h0, h1);
    r.sent_hash = Some(h1.clone());
    let h2 = r.hash();
    assert_ne!(h1, h2);
    r.health_checks[0].port = 6443;
    assert_ne!(r.hash(), h2);
    // 7. Round trip with a two-key response.
    let sent = r.clone().sealed();
    let back = Request::parse(&sent.canonical_json()).unwrap();
    assert_eq!(back.hash(), sent.hash());
    let resp = Response::parse(&format!(
        r#"{{"address": "foo", "received_hash": "{}"}}"#,
        sent.sent_hash.as_deref().unwrap()
    ))
    .unwrap();
    assert!(resp.error().is_none());
    assert_eq!(resp.address(), Some("foo"));
    assert_eq!(resp.received_hash(), sent.sent_hash.as_deref());
}

#[test]
fn library_test_response() {
    assert!(Response::parse("{}").is_err());
    assert!(Response::parse(r#"{"address": "https://my-lb.aws.com/", "foo": "bar"}"#).is_err());
    assert!(Response::parse(r#"{"error": "unsupported"}"#).is_err());
    let r =
        Response::parse(r#"{"address": "https://my-lb.aws.com/", "received_hash": ""}"#).unwrap();
    let h0 = r.hash();
    let with_message = Response::parse(
        r#"{"address": "https://my-lb.aws.com/", "received_hash": "", "error": "unsupported", "error_message": "foo"}"#,
    )
    .unwrap();
    assert_ne!(with_message.hash(), h0);
    assert!(Response::parse(
        r#"{"address": "https://my-lb.aws.com/", "error": "unsupported", "error_fields": {"foo": "unknown"}}"#
    )
    .is_err());
    let with_field = Response::parse(
        r#"{"address": "https://my-lb.aws.com/", "received_hash": "", "error": "unsupported", "error_fields": {"public": "not supported"}}"#,
    )
    .unwrap();
    assert_ne!(with_field.hash(), with_message.hash());
    assert_eq!(
        Response::parse(&with_field.canonical_json())
            .unwrap()
            .hash(),
        with_field.hash()
    );
}

#[test]
fn library_test_health_check() {
    use crate::relation::v1::load::health_check;
    assert!(health_check(&Json::parse("{}").unwrap()).is_err());
    assert!(
        health_check(&Json::parse(r#"{"protocol": "https", "port": "none"}"#).unwrap()).is_err()
    );
    assert!(
        health_check(&Json::parse(r#"{"protocol": "https", "port": 1, "foo": 1}"#).unwrap())
            .is_err()
    );
    let hc = health_check(&Json::parse(r#"{"protocol": "https", "port": 443}"#).unwrap()).unwrap();
    assert_eq!(hc, HealthCheck::new(Protocol::Https, 443));
    assert_eq!((hc.path.as_deref(), hc.interval, hc.retries), (None, 30, 3));
    let full = HealthCheck {
        protocol: Protocol::Http,
        port: 80,
        path: Some("/foo".into()),
        interval: 60,
        retries: 5,
    };
    let back = health_check(&Json::parse(&full.canonical_json()).unwrap()).unwrap();
    assert_eq!(back, full);
    assert_eq!(back.canonical_json(), full.canonical_json());
}

// ---- responses that cannot be invalid ----

#[test]
fn constructors_only_build_valid_responses() {
    let r = Request::new("i", "n", Protocol::Tcp, BTreeMap::new()).sealed();
    assert_eq!(Failure::message(""), Err(EmptyMessage));
    assert!(Address::parse("").is_err());
    assert!(Address::parse("https://x/").is_err());
    assert!(Address::parse("10.0.0.1:443").is_err());
    assert!(Address::parse("a b").is_err());
    assert_eq!(Address::parse("fd00::1").unwrap().as_str(), "fd00::1");
    assert_eq!(
        Address::parse("lb-1.example.com.").unwrap().as_str(),
        "lb-1.example.com."
    );
    let empty_message_is_ignored = Failure::field(RequestField::Sticky, "no").and_message("");
    for resp in [
        Response::success(&r, Address::parse("10.0.0.1").unwrap()),
        Response::unsupported(&r, Failure::field(RequestField::TlsTermination, "not yet")),
        Response::unsupported(&r, empty_message_is_ignored),
        Response::provider_error(&r, Failure::message("quota").unwrap()),
        Response::provider_error(
            &r,
            Failure::message("x")
                .unwrap()
                .and_field(RequestField::Algorithm, "y"),
        ),
    ] {
        assert_eq!(resp.received_hash(), r.sent_hash.as_deref());
        let back = Response::parse(&resp.canonical_json()).expect("library-valid");
        assert_eq!(back, resp);
    }
}

#[test]
fn huge_rejections_stay_bounded() {
    let keys: Vec<String> = (0..5000).map(|i| format!("\"k{i}é\": 1")).collect();
    let text = format!(
        r#"{{"id": "a", "name": "n", "protocol": "tcp", "port_mapping": {{"x{}": 1}}, {}}}"#,
        "9".repeat(5000),
        keys.join(", ")
    );
    let err = Request::parse(&text).unwrap_err();
    let answer = Response::rejected(&err);
    assert!(answer.error_message().unwrap().len() <= response::MAX_TEXT);
    assert!(answer.error_message().unwrap().ends_with('…'));
    assert!(answer.error_fields()["port_mapping"].len() <= response::MAX_TEXT);
    Response::parse(&answer.canonical_json()).unwrap();
}

#[test]
fn failure_line_keeps_field_reasons_the_message_does_not_say() {
    let f = Failure::field(RequestField::Sticky, "no source-IP persistence")
        .and_message("the provider refused");
    assert_eq!(
        f.to_string(),
        "the provider refused; sticky: no source-IP persistence"
    );
    let f = Failure::field(RequestField::Sticky, "no source-IP persistence")
        .and_message("refused: no source-IP persistence");
    assert_eq!(f.to_string(), "refused: no source-IP persistence");
}
