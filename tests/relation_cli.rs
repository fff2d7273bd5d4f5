//! `lb-consumers` and `public-address` end to end: the binary, our fixtures
//! (`fixtures/relation/*.json`, request texts written by the real library — see
//! `tests/compat/make_fixtures.py`), stdin → stdout, exit codes.
//!
//! No cloud here: requests that need one get no answer and a clear error (exit 3); everything
//! that can be answered without one is, byte for byte.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use octavia_integrator::relation::{ErrorKind, Response};
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/relation")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_octavia-integrator"))
        .args(args)
        .env_remove("OCTAVIA_INTEGRATOR_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // The binary may exit before it reads its input (e.g. no settings): a closed pipe then
    // is its answer, not the test's failure; its exit code and output are what is checked.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn valid_requests_without_a_cloud_get_version_only_and_a_clear_error() {
    let r = run(&["lb-consumers"], &fixture("kcp-requests.json"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"relations\":[{\"id\":7,\"set\":{\"version\":\"1\"},\"unset\":[]}]}\n"
    );
    for name in ["api-server-external", "api-server-internal"] {
        assert!(
            r.stderr.contains(&format!("kubernetes-control-plane/{name} (relation 7): cannot answer: no cloud configured: pass --config PATH")),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn a_settings_file_without_a_wired_reconciler_is_refused_by_name() {
    let r = run(
        &[
            "--config",
            "/nonexistent/settings.toml",
            "lb-consumers",
            "--wait",
            "0",
        ],
        &fixture("kcp-requests.json"),
    );
    assert_eq!(r.code, 3);
    assert!(
        r.stderr.contains("/nonexistent/settings.toml"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_and_unservable_requests_are_answered_and_removed_ones_unset() {
    let r = run(&["lb-consumers"], &fixture("mixed-requests.json"));
    assert_eq!(r.code, 3, "{}", r.stderr); // api-server-external needs a cloud
    let out = json(&r.stdout);
    let rel = &out["relations"][0];
    assert_eq!(rel["id"], 7);
    assert_eq!(rel["unset"], json!(["response_removed"]));
    let set = rel["set"].as_object().unwrap();
    assert_eq!(
        set.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "response_garbage",
            "response_tls",
            "response_upper",
            "version"
        ]
    );
    let response = |name: &str| Response::parse(set[name].as_str().unwrap()).unwrap();

    let tls = response("response_tls");
    assert_eq!(tls.error(), Some(ErrorKind::Unsupported));
    assert_eq!(
        tls.error_fields().keys().collect::<Vec<_>>(),
        ["tls_termination"]
    );
    let sent: Value = json(
        json(&fixture("mixed-requests.json"))["relations"][0]["app_data"]["request_tls"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(tls.received_hash(), sent["sent_hash"].as_str());
    // Exactly the library's canonical text.
    assert_eq!(set["response_tls"].as_str().unwrap(), tls.canonical_json());

    let upper = response("response_upper");
    assert_eq!(
        upper.error_fields().keys().collect::<Vec<_>>(),
        ["protocol", "public"]
    );
    assert_eq!(
        upper.received_hash(),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert!(upper
        .error_message()
        .unwrap()
        .contains("unknown field \"foo\""));

    let garbage = response("response_garbage");
    assert_eq!(garbage.error(), Some(ErrorKind::Unsupported));
    assert_eq!(garbage.received_hash(), None);
    assert!(garbage.error_message().unwrap().contains("not valid JSON"));

    assert!(
        r.stderr
            .contains("kubernetes-control-plane/removed (relation 7): request removed"),
        "{}",
        r.stderr
    );
}

#[test]
fn relations_whose_requirer_has_not_published_version_are_not_read() {
    let r = run(&["lb-consumers"], &fixture("no-version.json"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "{\"relations\":[{\"id\":7,\"set\":{\"version\":\"1\"},\"unset\":[]}]}\n"
    );
}

#[test]
fn public_address_without_a_cloud() {
    let r = run(&["public-address"], &fixture("public-address.json"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(
        json(&r.stdout),
        json!({"relations": [
            {"id": 4, "set": {}, "unset": []},
            {"id": 5, "set": {}, "unset": ["public-address", "port", "extended_data"]}
        ]})
    );
    assert!(
        r.stderr
            .contains("kubernetes-master/public-address (relation 4)"),
        "{}",
        r.stderr
    );
    let r = run(
        &["public-address", "--port", "0"],
        &fixture("public-address.json"),
    );
    assert_eq!(r.code, 2);
}

#[test]
fn a_bad_envelope_writes_nothing_and_says_why() {
    for text in [
        "",
        "[]",
        "{\"relations\": [{\"id\": 7}]}",
        "{\"relations\": [], \"extra\": 1}",
    ] {
        for command in ["lb-consumers", "public-address"] {
            let r = run(&[command], text);
            assert_eq!(r.code, 2, "{command} {text}");
            assert_eq!(r.stdout, "");
            assert!(r.stderr.contains("not a valid envelope"), "{}", r.stderr);
        }
    }
}

#[test]
fn an_empty_envelope_is_fine() {
    let r = run(&["lb-consumers"], "{\"relations\": []}");
    assert_eq!((r.code, r.stdout.as_str()), (0, "{\"relations\":[]}\n"));
}
