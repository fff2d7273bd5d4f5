//! `octavia-integrator demo` (README's first command) exits 0 and shows two distinct
//! addresses: the external request's floating IP and the internal request's VIP.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn demo_exits_zero_and_prints_two_distinct_addresses() {
    let out = Command::new(env!("CARGO_BIN_EXE_octavia-integrator"))
        // Faster than the default, so the test stays quick; same story.
        .args(["demo", "--delay-scale", "0.002"])
        .env_remove("OCTAVIA_INTEGRATOR_CONFIG")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");

    let line = stdout
        .lines()
        .find(|l| l.contains("→ external address"))
        .unwrap_or_else(|| panic!("no address line in:\n{stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |w: &str| {
        let i = words.iter().position(|x| *x == w).unwrap();
        words[i + 2].to_string()
    };
    let external = after("external");
    let internal = after("internal");
    for a in [&external, &internal] {
        assert!(
            a.parse::<std::net::IpAddr>().is_ok(),
            "not an address: {a:?} in {line:?}"
        );
    }
    assert_ne!(external, internal, "{line}");
    assert!(stdout.contains(&format!(
        "response_api-server-external = {{\"address\": \"{external}\""
    )));
    assert!(stdout.contains(&format!(
        "response_api-server-internal = {{\"address\": \"{internal}\""
    )));
    assert!(
        stdout.contains("PROVISIONING/OPERATING"),
        "status table shown"
    );
    assert!(
        stdout.contains("\"unset\":[\"response_api-server-internal\"]"),
        "removal shown:\n{stdout}"
    );
    assert!(stdout.contains("the cloud now holds 1 load balancer and 1 floating IP"));
}

#[test]
fn the_ovn_demo_takes_the_closest_check_and_answers_both_addresses() {
    let out = Command::new(env!("CARGO_BIN_EXE_octavia-integrator"))
        .args(["demo", "--provider", "ovn", "--delay-scale", "0.002"])
        .env_remove("OCTAVIA_INTEGRATOR_CONFIG")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("✔ demo finished"), "{stdout}");
    assert!(!stdout.contains("unsupported"), "{stdout}");
}

#[test]
fn demo_refuses_a_bad_delay_scale() {
    let out = Command::new(env!("CARGO_BIN_EXE_octavia-integrator"))
        .args(["demo", "--delay-scale", "0"])
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2), "bad input is 2");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--delay-scale"));
}

/// Starts the demo with its temporary folder under `tmp`; returns it once the folder exists
/// (the daemon's line is printed), with its standard output.
fn demo_in(tmp: &std::path::Path) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_octavia-integrator"))
        .args(["demo", "--delay-scale", "0.05"])
        .env("TMPDIR", tmp)
        .env_remove("OCTAVIA_INTEGRATOR_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("daemon") {
        line.clear();
        assert!(
            lines.read_line(&mut line).unwrap() > 0,
            "the demo ended early"
        );
    }
    assert_eq!(
        std::fs::read_dir(tmp).unwrap().count(),
        1,
        "its folder exists"
    );
    (child, lines)
}

#[test]
fn a_closed_standard_output_ends_the_demo_quietly_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut child, lines) = demo_in(tmp.path());
    drop(lines);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "folder removed"
    );
}

#[test]
fn ctrl_c_stops_the_demo_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut child, _lines) = demo_in(tmp.path());
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(130),
        "interrupted: 128 + SIGINT, the shell's convention"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "folder removed"
    );
}
