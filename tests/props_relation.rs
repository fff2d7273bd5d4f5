//! Property tests of the relation request parser and databag processing (issue 7, bad input).
//!
//! - No input panics: arbitrary text, arbitrary JSON, valid requests with fields mutated into
//!   arbitrary JSON, arbitrary databags.
//! - Every request that does not load is answered with a response that the crate's own
//!   validator ([`Response::parse`], the library's `Response.loads` rules) accepts, whose
//!   `error_fields` name only fields we actually broke, and that echoes the request's
//!   `sent_hash`.
//! - Every valid request survives canonical JSON → parse unchanged.
//!
//! Sizes: 256 cases per property; `OI_LONG=1` runs 4096. Seeded: `OI_SEED=<u64>` picks another
//! seed (the default is fixed, so CI runs are reproducible).

use std::collections::BTreeSet;

use octavia_integrator::hook;
use octavia_integrator::relation::databag::{self, HookInput, RelationInput};
use octavia_integrator::relation::v1::TlsKey;
use octavia_integrator::relation::{
    Address, AnswerError, Answerer, Failure, HealthCheck, Protocol, Request, RequestField,
    RequestKey, Response,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn cases() -> u32 {
    if std::env::var_os("OI_LONG").is_some() {
        4096
    } else {
        256
    }
}

/// Fixed seed (deterministic runs); `OI_SEED=<u64>` explores another part of the space.
fn seed() -> u64 {
    std::env::var("OI_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0c7a_71a0)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed()),
        ..ProptestConfig::default()
    }
}

/// Strings that exercise escaping: ASCII, controls, quotes, non-BMP characters, field names.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ -~]{0,12}",
        2 => any::<String>().prop_map(|s| s.chars().take(16).collect()),
        1 => Just("\"\\\u{0}\u{1f}\u{7f}\u{e9}\u{2028}\u{1F600}".to_owned()),
        1 => prop::sample::select(vec![
            "tcp", "udp", "http", "https", "TCP", "1", "0", "yes", "off", " 0443 ", "6_443",
            "-1", "1e3", "", "null", "true",
        ])
        .prop_map(str::to_owned),
        1 => prop::sample::select(RequestField::ALL.to_vec()).prop_map(|f| f.as_str().to_owned()),
    ]
}

/// Arbitrary JSON values, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-70_000i64..70_000).prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN/inf", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(1.0)),
        Just(json!(0.0)),
        Just(json!(1e300)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A valid request as the library's requirer writes it.
fn base_request() -> Value {
    json!({
        "id": "kubernetes-control-plane/api-server-external",
        "name": "api-server-external",
        "protocol": "tcp",
        "backends": ["10.5.0.10", "10.5.0.11"],
        "port_mapping": {"443": 6443},
        "algorithm": ["ROUND_ROBIN"],
        "sticky": false,
        "health_checks": [{"protocol": "http", "port": 6443, "path": "/livez",
                           "interval": 30, "retries": 3}],
        "public": true,
        "tls_termination": false,
        "tls_cert": null,
        "tls_key": null,
        "ingress_address": null,
        "sent_hash": "5f0d2f3e1c5a4a3b9b8f7e6d5c4b3a29",
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(RequestField, Value),
    Remove(RequestField),
    AddUnknown(String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let field = prop::sample::select(RequestField::ALL.to_vec());
    prop_oneof![
        4 => (field.clone(), json_value()).prop_map(|(f, v)| Mutation::Replace(f, v)),
        2 => field.prop_map(Mutation::Remove),
        1 => ("[a-z_]{1,10}", json_value()).prop_map(|(k, v)| Mutation::AddUnknown(k, v)),
    ]
}

/// Checks the answer to a request that did not load: valid by the crate's own validator,
/// `unsupported`, `received_hash` echoing the `sent_hash` string found in the text (if any),
/// and `error_fields` keys only from `touched` (when given).
fn check_rejection(
    response: &Response,
    sent_hash: Option<&str>,
    touched: Option<&BTreeSet<&str>>,
) -> Result<(), TestCaseError> {
    let text = response.canonical_json();
    let reparsed = Response::parse(&text)
        .map_err(|e| TestCaseError::fail(format!("invalid error response {text}: {e}")))?;
    prop_assert_eq!(&reparsed, response);
    prop_assert_eq!(response.error().map(|k| k.as_str()), Some("unsupported"));
    prop_assert!(response.address().is_none());
    prop_assert!(
        response.error_message().is_some_and(|m| !m.is_empty())
            || !response.error_fields().is_empty()
    );
    prop_assert_eq!(response.received_hash(), sent_hash);
    for key in response.error_fields().keys() {
        prop_assert!(key.parse::<RequestField>().is_ok(), "{key} is not a field");
        if let Some(touched) = touched {
            prop_assert!(
                touched.contains(key.as_str()),
                "untouched field {key} blamed in {text}"
            );
        }
    }
    Ok(())
}

/// Checks a request that loaded: its canonical JSON loads back to the same request.
fn check_accepted(request: &Request) -> Result<(), TestCaseError> {
    let text = request.canonical_json();
    prop_assert!(text.is_ascii(), "canonical JSON must be ASCII: {text}");
    let again = Request::parse(&text)
        .map_err(|e| TestCaseError::fail(format!("canonical JSON {text} does not load: {e}")))?;
    prop_assert_eq!(&again, request);
    prop_assert_eq!(again.hash(), request.hash());
    Ok(())
}

fn string_sent_hash(v: &Value) -> Option<&str> {
    v.get("sent_hash").and_then(Value::as_str)
}

fn valid_request() -> impl Strategy<Value = Request> {
    let protocol = prop::sample::select(vec![
        Protocol::Tcp,
        Protocol::Udp,
        Protocol::Http,
        Protocol::Https,
    ]);
    let check = (
        protocol.clone(),
        any::<i64>(),
        prop::option::of(text()),
        any::<i64>(),
        any::<i64>(),
    )
        .prop_map(|(p, port, path, interval, retries)| HealthCheck {
            path,
            interval,
            retries,
            ..HealthCheck::new(p, port)
        });
    (
        (text(), text(), protocol),
        prop::collection::btree_map(any::<i64>(), any::<i64>(), 0..4),
        prop::collection::vec(text(), 0..4),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(check, 0..3),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        (
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
        ),
        prop::option::of("[0-9a-f]{32}"),
    )
        .prop_map(
            |(
                (id, name, protocol),
                ports,
                backends,
                algorithm,
                checks,
                (sticky, public, tls),
                (cert, key, ingress),
                hash,
            )| {
                let mut r = Request::new(id, name, protocol, ports);
                r.backends = backends;
                r.algorithm = algorithm;
                r.health_checks = checks;
                r.sticky = sticky;
                r.public = public;
                r.tls_termination = tls;
                r.tls_cert = cert;
                r.tls_key = key.map(TlsKey::new);
                r.ingress_address = ingress;
                r.sent_hash = hash;
                r
            },
        )
}

proptest! {
    #![proptest_config(config())]

    /// Any text at all: a request or a rejection, never a panic.
    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        match Request::parse(&s) {
            Ok(r) => check_accepted(&r)?,
            Err(invalid) => {
                // Text that happens to be a JSON object may carry a sent_hash to echo.
                let v = serde_json::from_str::<Value>(&s).ok();
                let response = Response::rejected(&invalid);
                let hash = match response.received_hash() {
                    None => None,
                    Some(_) => v.as_ref().and_then(string_sent_hash),
                };
                check_rejection(&response, hash, None)?;
            }
        }
        // The response validator must not panic either.
        let _ = Response::parse(&s);
    }

    /// Any JSON value.
    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        let s = v.to_string();
        match Request::parse(&s) {
            Ok(r) => check_accepted(&r)?,
            Err(invalid) => {
                check_rejection(&Response::rejected(&invalid), string_sent_hash(&v), None)?
            }
        }
        let _ = Response::parse(&s);
    }

    /// A valid request with some fields replaced by arbitrary JSON, removed, or unknown keys
    /// added: accepted, or rejected naming only what was touched.
    #[test]
    fn mutated_requests_blame_only_mutated_fields(
        mutations in prop::collection::vec(mutation(), 1..5),
        pretty in any::<bool>(),
    ) {
        let mut v = base_request();
        let obj = v.as_object_mut().expect("object");
        let mut touched = BTreeSet::new();
        let mut unknown = Vec::new();
        for m in &mutations {
            match m {
                Mutation::Replace(f, value) => {
                    touched.insert(f.as_str());
                    obj.insert(f.as_str().to_owned(), value.clone());
                }
                Mutation::Remove(f) => {
                    touched.insert(f.as_str());
                    obj.remove(f.as_str());
                }
                Mutation::AddUnknown(k, value) => {
                    if let Ok(f) = k.parse::<RequestField>() {
                        touched.insert(f.as_str());
                    } else {
                        unknown.push(k.clone());
                    }
                    obj.insert(k.clone(), value.clone());
                }
            }
        }
        let s = if pretty {
            serde_json::to_string_pretty(&v).expect("json")
        } else {
            v.to_string()
        };
        match Request::parse(&s) {
            Ok(r) => {
                prop_assert!(unknown.is_empty(), "unknown keys {unknown:?} accepted");
                check_accepted(&r)?;
            }
            Err(invalid) => {
                let response = Response::rejected(&invalid);
                check_rejection(&response, string_sent_hash(&v), Some(&touched))?;
                let message = response.error_message().unwrap_or_default();
                for k in &unknown {
                    prop_assert!(
                        message.contains(&Value::from(k.as_str()).to_string()),
                        "unknown key {k} not named in {message}"
                    );
                }
            }
        }
    }

    /// Every valid request round-trips through its canonical JSON.
    #[test]
    fn valid_requests_round_trip(r in valid_request()) {
        check_accepted(&r)?;
    }

    /// Arbitrary databags through the whole `lb-consumers` hook: never a panic, `version`
    /// always published, every response written is valid and echoes its request's hash.
    #[test]
    fn arbitrary_databags(input in hook_input(), mode in 0u8..4) {
        let answerer = Scripted { mode };
        let result = futures::executor::block_on(hook::lb_consumers(&input, &answerer));
        prop_assert_eq!(result.output.relations.len(), input.relations.len());
        for (rel_in, rel_out) in input.relations.iter().zip(&result.output.relations) {
            prop_assert_eq!(rel_in.id, rel_out.id);
            prop_assert_eq!(rel_out.set.get("version").map(String::as_str), Some("1"));
            for (k, text) in &rel_out.set {
                if k == "version" {
                    continue;
                }
                let name = k.strip_prefix(databag::RESPONSE_PREFIX);
                prop_assert!(name.is_some(), "unexpected key {k}");
                let name = name.unwrap_or_default();
                let response = Response::parse(text).map_err(|e| {
                    TestCaseError::fail(format!("{k} = {text} is invalid: {e}"))
                })?;
                let request_text = rel_in.app_data.get(&format!("request_{name}"));
                prop_assert!(request_text.is_some(), "answer {k} without a request");
                let request_json = serde_json::from_str::<Value>(request_text.unwrap_or(&String::new())).ok();
                prop_assert_eq!(
                    response.received_hash(),
                    request_json.as_ref().and_then(string_sent_hash),
                    "{} does not echo the request's sent_hash", k
                );
            }
            for k in &rel_out.unset {
                prop_assert!(!rel_out.set.contains_key(k), "{k} both set and unset");
            }
        }
    }

    /// The legacy `public-address` hook with arbitrary unit databags (addresses, ports of any
    /// text): never a panic, one output per relation, only the legacy keys written, and
    /// `extended_data` (when written) is a JSON list.
    #[test]
    fn arbitrary_legacy_databags(input in hook_input(), mode in 0u8..4, port in any::<u16>()) {
        let answerer = Scripted { mode };
        let result = futures::executor::block_on(hook::public_address(&input, &answerer, port));
        prop_assert_eq!(result.output.relations.len(), input.relations.len());
        for rel in &result.output.relations {
            for (k, v) in &rel.set {
                prop_assert!(
                    matches!(k.as_str(), "public-address" | "port" | "extended_data"),
                    "unexpected key {k}"
                );
                if k == "extended_data" {
                    let parsed = serde_json::from_str::<Value>(v);
                    prop_assert!(
                        parsed.as_ref().is_ok_and(Value::is_array),
                        "extended_data {v} is not a JSON list"
                    );
                }
            }
        }
    }

    /// The hook's input envelope from arbitrary JSON: an error, never a panic.
    #[test]
    fn arbitrary_envelope(v in json_value()) {
        let _ = serde_json::from_value::<HookInput>(v);
    }
}

/// Databags: versions valid or not, request keys holding valid, mutated or garbage requests,
/// units with or without `ingress-address`, and our own previous responses.
fn hook_input() -> impl Strategy<Value = HookInput> {
    let request_text = prop_oneof![
        2 => Just(base_request().to_string()),
        2 => (prop::collection::vec(mutation(), 1..3)).prop_map(|ms| {
            let mut v = base_request();
            let obj = v.as_object_mut().expect("object");
            for m in ms {
                match m {
                    Mutation::Replace(f, value) => { obj.insert(f.as_str().to_owned(), value); }
                    Mutation::Remove(f) => { obj.remove(f.as_str()); }
                    Mutation::AddUnknown(k, value) => { obj.insert(k, value); }
                }
            }
            v.to_string()
        }),
        1 => json_value().prop_map(|v| v.to_string()),
        1 => text(),
    ];
    let name = prop_oneof![
        Just("api-server-external".to_owned()),
        Just("api-server-internal".to_owned()),
        "[a-z-]{0,8}",
    ];
    let key = prop_oneof![
        4 => name.clone().prop_map(|n| format!("request_{n}")),
        1 => text(),
    ];
    let version = prop_oneof![
        Just(Some("1".to_owned())),
        Just(Some("2".to_owned())),
        Just(None),
        text().prop_map(Some),
    ];
    let units = prop::collection::btree_map(
        "[a-z-]{1,6}/[0-9]{1,2}",
        prop::collection::btree_map(
            prop_oneof![
                Just("ingress-address".to_owned()),
                Just("private-address".to_owned()),
                Just("port".to_owned()),
                text()
            ],
            text(),
            0..3,
        ),
        0..4,
    );
    let local = prop::option::of(prop::collection::btree_map(
        prop_oneof![name.prop_map(|n| format!("response_{n}")), text()],
        text(),
        0..3,
    ));
    let relation = (
        any::<u64>(),
        "[a-z-]{1,10}",
        version,
        prop::collection::btree_map(key, request_text, 0..4),
        units,
        local,
    )
        .prop_map(|(id, app, version, mut app_data, units, local_app_data)| {
            if let Some(v) = version {
                app_data.insert("version".to_owned(), v);
            }
            RelationInput {
                id,
                app,
                app_data,
                units,
                local_app_data,
            }
        });
    prop::collection::vec(relation, 0..4).prop_map(|relations| HookInput { relations })
}

/// An answerer that answers by `mode`: success, still converging, provider error, failure.
struct Scripted {
    mode: u8,
}

impl Answerer for Scripted {
    async fn answer(
        &self,
        _key: &RequestKey,
        request: &Request,
    ) -> Result<Option<Response>, AnswerError> {
        match self.mode {
            0 => Ok(Some(Response::success(
                request,
                Address::parse("192.0.2.10").map_err(|e| AnswerError::Failed(e.to_string()))?,
            ))),
            1 => Ok(None),
            2 => Ok(Some(Response::provider_error(
                request,
                Failure::message("quota exceeded for load balancers")
                    .map_err(|e| AnswerError::Failed(e.to_string()))?,
            ))),
            _ => Err(AnswerError::Failed("daemon unreachable".into())),
        }
    }

    async fn forget(&self, _key: &RequestKey) -> Result<(), AnswerError> {
        Ok(())
    }
}

/// A fixed regression: the library's own example request with every optional field set to
/// `null` names exactly the fields that may not be null.
#[test]
fn nulls_where_not_allowed_are_named() {
    let mut v = base_request();
    for f in [
        "backends",
        "algorithm",
        "sticky",
        "health_checks",
        "public",
        "tls_termination",
    ] {
        v[f] = Value::Null;
    }
    let invalid = Request::parse(&v.to_string()).expect_err("nulls must be rejected");
    let response = Response::rejected(&invalid);
    let blamed: BTreeSet<&str> = response.error_fields().keys().map(String::as_str).collect();
    assert_eq!(
        blamed,
        BTreeSet::from([
            "algorithm",
            "backends",
            "health_checks",
            "public",
            "sticky",
            "tls_termination"
        ])
    );
    assert_eq!(
        response.received_hash(),
        Some("5f0d2f3e1c5a4a3b9b8f7e6d5c4b3a29")
    );
}
