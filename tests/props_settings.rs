//! Property tests of the settings parser (issue 7, bad input): arbitrary text and arbitrary
//! TOML documents built from the real setting names with values of any type never panic; every
//! refusal says which setting (or the syntax) and why; secrets never appear in an error or in
//! `Debug` of what loaded.
//!
//! Sizes: 256 cases per property; `OI_LONG=1` runs 4096. Seeded (`OI_SEED=<u64>`).

use std::path::Path;

use octavia_integrator::config::{
    ConfigError, Environment, Settings, CLOUD_KEYS, DAEMON_KEYS, LOAD_BALANCER_KEYS, SECRET_KEYS,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let long = std::env::var_os("OI_LONG").is_some();
    let seed = std::env::var("OI_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5e77_1265);
    ProptestConfig {
        cases: if long { 4096 } else { 256 },
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        ..ProptestConfig::default()
    }
}

const CLOUD: &[&str] = CLOUD_KEYS;
const LOAD_BALANCER: &[&str] = LOAD_BALANCER_KEYS;
const DAEMON: &[&str] = DAEMON_KEYS;

/// The secret value planted in secret keys: must never show up in errors or Debug output.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{16,24}".prop_map(|s| format!("S3CRET{s}"))
}

/// TOML values of every kind, as TOML source text.
fn toml_value() -> impl Strategy<Value = String> {
    let string = prop_oneof![
        "[ -~&&[^\"\\\\]]{0,16}",
        Just(String::new()),
        Just("RegionOne".to_owned()),
        Just("http://127.0.0.1:5000/v3".to_owned()),
        Just("127.0.0.1:0".to_owned()),
        Just("off".to_owned()),
        Just("public".to_owned()),
        Just("internal".to_owned()),
        Just("ROUND_ROBIN".to_owned()),
        Just("SOURCE_IP_PORT".to_owned()),
        Just("ovn".to_owned()),
        Just("/nonexistent/x.yaml".to_owned()),
    ]
    .prop_map(|s| format!("{s:?}"));
    let leaf = prop_oneof![
        4 => string,
        2 => any::<i64>().prop_map(|i| i.to_string()),
        1 => (0u64..100_000).prop_map(|i| i.to_string()),
        1 => any::<bool>().prop_map(|b| b.to_string()),
        1 => Just("1.5".to_owned()),
        1 => Just("1979-05-27T07:32:00Z".to_owned()),
        1 => Just("nan".to_owned()),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(("[a-z_]{1,8}", inner), 0..3).prop_map(|kv| {
                let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", body.join(", "))
            }),
        ]
    })
}

/// One section's lines: known keys (and sometimes an unknown one) with values of any type;
/// secret keys get the planted secret as a string most of the time.
fn section_lines(
    keys: &'static [&'static str],
    secret: String,
) -> impl Strategy<Value = Vec<String>> {
    let key = prop_oneof![
        8 => prop::sample::select(keys.to_vec()).prop_map(str::to_owned),
        1 => "[a-z_]{1,12}",
    ];
    prop::collection::btree_map(key, (toml_value(), any::<bool>()), 0..8).prop_map(move |m| {
        m.into_iter()
            .map(|(k, (v, plant))| {
                if SECRET_KEYS.contains(&k.as_str()) && plant {
                    format!("{k} = {secret:?}")
                } else {
                    format!("{k} = {v}")
                }
            })
            .collect()
    })
}

/// A whole document: maybe a cluster id, then the sections in any order, some missing.
fn document() -> impl Strategy<Value = (String, String)> {
    secret().prop_flat_map(|secret| {
        (
            prop::option::of(prop_oneof![Just("\"prod-k8s\"".to_owned()), toml_value()]),
            section_lines(CLOUD, secret.clone()),
            section_lines(LOAD_BALANCER, secret.clone()),
            section_lines(DAEMON, secret.clone()),
            prop::collection::vec(any::<bool>(), 3),
            Just(secret),
        )
            .prop_map(|(cluster, cloud, lb, daemon, present, secret)| {
                let mut doc = String::new();
                if let Some(c) = cluster {
                    doc.push_str(&format!("cluster_id = {c}\n"));
                }
                for ((name, lines), present) in
                    [("cloud", cloud), ("load_balancer", lb), ("daemon", daemon)]
                        .into_iter()
                        .zip(present)
                {
                    if present {
                        doc.push_str(&format!("[{name}]\n{}\n", lines.join("\n")));
                    }
                }
                (doc, secret)
            })
    })
}

fn env() -> Environment {
    // No process variables, a cwd with nothing in it: nothing outside the text is read.
    Environment::new(Vec::<(String, String)>::new(), "/nonexistent-oi-props")
}

fn load(text: &str) -> Result<Settings, ConfigError> {
    Settings::from_toml_str(text, Path::new("/nonexistent-oi-props"), &env())
}

fn check_error(e: &ConfigError, secret: Option<&str>) -> Result<(), TestCaseError> {
    let shown = e.to_string();
    prop_assert!(!shown.trim().is_empty(), "empty error");
    if let Some(secret) = secret {
        prop_assert!(!shown.contains(secret), "secret in error: {shown}");
        let debug = format!("{e:?}");
        prop_assert!(!debug.contains(secret), "secret in error Debug: {debug}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Any text: settings or an error, never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Err(e) = load(&text) {
            check_error(&e, None)?;
        }
    }

    /// Documents made of the real setting names with values of any type.
    #[test]
    fn arbitrary_documents((text, secret) in document()) {
        match load(&text) {
            Ok(settings) => {
                let debug = format!("{settings:?}");
                prop_assert!(!debug.contains(&secret), "secret in Debug: {debug}");
                prop_assert!(!settings.cluster_id.is_empty());
            }
            Err(e) => check_error(&e, Some(&secret))?,
        }
    }

    /// The same documents with one line after the last secret broken: the syntax error names the
    /// line, and no secret.
    #[test]
    fn broken_documents_do_not_leak((text, secret) in document(), cut in any::<prop::sample::Index>()) {
        check_broken(&text, &secret, cut, false)?;
    }

    /// The same with the secret's own line or one before it broken: the TOML error names the
    /// line and column but never quotes it.
    #[test]
    fn broken_secret_line_does_not_leak((text, secret) in document().prop_filter("no secret planted", |(t, s)| t.contains(s.as_str())), cut in any::<prop::sample::Index>()) {
        check_broken(&text, &secret, cut, true)?;
    }
}

/// Breaks one line (drops its closing quote / bracket): a line at or before the secret's line
/// when `secret_line`, else one after the last (the TOML error quotes the failing line).
fn check_broken(
    text: &str,
    secret: &str,
    cut: prop::sample::Index,
    secret_line: bool,
) -> Result<(), TestCaseError> {
    let lines: Vec<&str> = text.lines().collect();
    let candidates: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            // A TOML error is reported at or after the broken line (an unclosed inline table
            // swallows the lines after it): lines after the last secret and lines at or before
            // one are broken by separate properties.
            let last_secret = lines.iter().rposition(|l| l.contains(secret));
            let safe = last_secret.is_none_or(|last| i > last);
            safe != secret_line
        })
        .collect();
    prop_assume!(!candidates.is_empty());
    let i = candidates[cut.index(candidates.len())];
    let mut broken: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    broken[i] = broken[i].trim_end_matches(['"', ']', '}']).to_owned();
    match load(&broken.join("\n")) {
        Ok(settings) => {
            let debug = format!("{settings:?}");
            prop_assert!(!debug.contains(secret), "secret in Debug: {debug}");
        }
        Err(e) => check_error(&e, Some(secret))?,
    }
    Ok(())
}

/// A minimal valid document loads (so the properties above exercise the success path too).
#[test]
fn minimal_document_loads() {
    let text = "cluster_id = \"prod-k8s\"\n[cloud]\nauth_url = \"http://127.0.0.1:5000/v3\"\n\
                username = \"u\"\npassword = \"S3CRETpw\"\nproject_name = \"p\"\n\
                [load_balancer]\nvip_subnet = \"k8s-subnet\"\n";
    let settings = load(text).expect("minimal settings load");
    assert_eq!(settings.cluster_id, "prod-k8s");
    assert!(!format!("{settings:?}").contains("S3CRETpw"));
}
