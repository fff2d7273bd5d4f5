//! `octavia-integrator demo` (README's first command) exits 0 and shows two distinct
//! addresses: the external request's floating IP and the internal request's VIP.

use std::process::Command;

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
fn demo_refuses_a_bad_delay_scale() {
    let out = Command::new(env!("CARGO_BIN_EXE_octavia-integrator"))
        .args(["demo", "--delay-scale", "0"])
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--delay-scale"));
}
