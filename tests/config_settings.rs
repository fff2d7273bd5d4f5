//! Settings files: unknown keys, missing and bad values, file permissions, the example file,
//! secrets kept out of Debug and errors.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use octavia_integrator::config::{
    Algorithm, ConfigError, Credentials, Environment, Interface, NameOrId, Settings, CLOUD_KEYS,
    DAEMON_KEYS, LOAD_BALANCER_KEYS,
};

const SECRET: &str = "s3cret-Pa55word-never-shown";

fn minimal() -> String {
    format!(
        r#"cluster_id = "demo"

[cloud]
auth_url = "http://127.0.0.1:5000/v3"
username = "admin"
password = "{SECRET}"
project_name = "demo"

[load_balancer]
vip_subnet = "lb-subnet"
"#
    )
}

fn no_env() -> Environment {
    Environment::new::<[(&str, &str); 0], _, _>([], "/nonexistent-cwd")
}

/// Writes `text` to `<dir>/settings.toml` with `mode`.
fn write(dir: &Path, text: &str, mode: u32) -> PathBuf {
    let path = dir.join("settings.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn load(text: &str, mode: u32) -> Result<Settings, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), text, mode);
    Settings::load_with_env(&path, &no_env())
}

#[test]
fn minimal_file_loads_with_defaults() {
    let s = load(&minimal(), 0o600).unwrap();
    assert_eq!(s.cluster_id, "demo");
    assert_eq!(s.cloud.auth_url, "http://127.0.0.1:5000/v3");
    assert_eq!(s.cloud.interface, Interface::Public);
    assert!(matches!(s.cloud.auth, Credentials::Password { .. }));
    assert_eq!(s.load_balancer.vip_subnet, NameOrId::new("lb-subnet"));
    assert_eq!(s.load_balancer.member_subnet, NameOrId::new("lb-subnet"));
    assert_eq!(s.load_balancer.default_algorithm, Algorithm::RoundRobin);
    assert_eq!(s.load_balancer.wait, Duration::from_secs(600));
    assert_eq!(s.daemon.resync, Duration::from_secs(300));
    assert!(s.path.is_some());
}

#[test]
fn unknown_key_is_named_with_its_section() {
    let text = minimal().replace(
        "vip_subnet = \"lb-subnet\"",
        "vip_subnet = \"lb-subnet\"\nfloating_netwrok = \"public\"",
    );
    let err = load(&text, 0o600).unwrap_err();
    assert_eq!(err.setting(), Some("`[load_balancer] floating_netwrok`"));
    let msg = err.to_string();
    assert!(msg.contains("settings.toml"), "{msg}");
    assert!(msg.contains("unknown setting in [load_balancer]"), "{msg}");
    assert!(msg.contains("floating_network"), "known keys listed: {msg}");

    let err = load(&format!("{}\n[deamon]\nleader = true\n", minimal()), 0o600).unwrap_err();
    assert_eq!(err.setting(), Some("`deamon`"));

    let err = load(
        &minimal().replace("[cloud]", "[cloud]\nregion_name = \"R\""),
        0o600,
    )
    .unwrap_err();
    assert_eq!(err.setting(), Some("`[cloud] region_name`"));
}

#[test]
fn missing_required_settings_are_named() {
    let err = load(&minimal().replace("cluster_id = \"demo\"", ""), 0o600).unwrap_err();
    assert_eq!(err.setting(), Some("`cluster_id`"));
    assert!(err.to_string().contains("missing"), "{err}");

    let err = load(&minimal().replace("vip_subnet = \"lb-subnet\"", ""), 0o600).unwrap_err();
    assert_eq!(err.setting(), Some("`[load_balancer] vip_subnet`"));

    let err = load(
        &minimal().replace("auth_url = \"http://127.0.0.1:5000/v3\"", ""),
        0o600,
    )
    .unwrap_err();
    assert_eq!(err.setting(), Some("`[cloud] auth_url`"));

    let err = load(&minimal().replace("project_name = \"demo\"", ""), 0o600).unwrap_err();
    assert_eq!(err.setting(), Some("`[cloud] project_name`"));

    // No credentials at all: the message lists the sources.
    let text = "cluster_id = \"c\"\n[load_balancer]\nvip_subnet = \"s\"\n";
    let err = load(text, 0o600).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no credentials"), "{msg}");
    for source in ["cloud =", "juju_credentials_file", "from_env"] {
        assert!(msg.contains(source), "{msg}");
    }
}

#[test]
fn bad_values_say_why() {
    let cases = [
        (
            "wait_seconds = \"ten\"",
            "`[load_balancer] wait_seconds`",
            "whole number",
        ),
        (
            "default_algorithm = \"FASTEST\"",
            "`[load_balancer] default_algorithm`",
            "ROUND_ROBIN",
        ),
        (
            "manage_security_groups = \"yes\"",
            "`[load_balancer] manage_security_groups`",
            "bool",
        ),
    ];
    for (line, setting, why) in cases {
        let text = minimal().replace(
            "vip_subnet = \"lb-subnet\"",
            &format!("vip_subnet = \"s\"\n{line}"),
        );
        let err = load(&text, 0o600).unwrap_err();
        assert_eq!(err.setting(), Some(setting), "{err}");
        assert!(err.to_string().contains(why), "{err}");
    }
    let text = minimal().replace("http://127.0.0.1:5000/v3", "keystone:5000");
    let err = load(&text, 0o600).unwrap_err();
    assert_eq!(err.setting(), Some("`[cloud] auth_url`"));
    assert!(err.to_string().contains("http"), "{err}");

    let err = load("cluster_id = \"c\"\n[cloud\n", 0o600).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn two_credential_sources_are_refused() {
    let text = minimal().replace("[cloud]", "[cloud]\nfrom_env = true");
    let err = load(&text, 0o600).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("more than one credential source"), "{msg}");
    assert!(msg.contains("from_env"), "{msg}");
}

#[test]
fn readable_settings_file_with_a_secret_is_refused_with_the_fix() {
    for mode in [0o644, 0o640, 0o604] {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &minimal(), mode);
        let err = Settings::load_with_env(&path, &no_env()).unwrap_err();
        assert!(matches!(err, ConfigError::Permissions { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("chmod 600 {}", path.display())),
            "{msg}"
        );
        assert!(msg.contains("readable by group or others"), "{msg}");
        assert!(!msg.contains(SECRET));
    }
    assert!(load(&minimal(), 0o600).is_ok());
    assert!(load(&minimal(), 0o400).is_ok());
}

#[test]
fn settings_without_secrets_may_be_readable_but_never_writable_by_others() {
    let text =
        "cluster_id = \"c\"\n[cloud]\nfrom_env = true\n[load_balancer]\nvip_subnet = \"s\"\n";
    let env = Environment::new(
        [
            ("OS_AUTH_URL", "https://k/v3"),
            ("OS_USERNAME", "u"),
            ("OS_PASSWORD", "p"),
            ("OS_PROJECT_NAME", "p"),
        ],
        "/nonexistent-cwd",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), text, 0o644);
    assert!(Settings::load_with_env(&path, &env).is_ok());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
    let err = Settings::load_with_env(&path, &env).unwrap_err();
    assert!(
        err.to_string().contains("writable by group or others"),
        "{err}"
    );
    assert!(err.to_string().contains("chmod 600"), "{err}");
}

#[test]
fn missing_file_is_named_with_the_fix() {
    let err = Settings::load_with_env(Path::new("/nonexistent/oi.toml"), &no_env()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent/oi.toml"), "{msg}");
    assert!(msg.contains("--config"), "{msg}");
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let s = load(&minimal(), 0o600).unwrap();
    let debug = format!("{s:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(debug.to_lowercase().contains("redacted"), "{debug}");
    let pretty = format!("{s:#?}");
    assert!(!pretty.contains(SECRET));
    let session = s.session_config().unwrap();
    assert!(!format!("{session:?}").contains(SECRET));

    for secret_line in [
        "application_credential_id = \"ac\"\napplication_credential_secret = \"{S}\"",
        "token = \"{S}\"",
    ] {
        let text = minimal().replace(
            &format!("password = \"{SECRET}\""),
            &secret_line.replace("{S}", SECRET),
        );
        let s = load(&text, 0o600).unwrap();
        assert!(!format!("{s:?}").contains(SECRET));
    }
}

#[test]
fn secrets_never_appear_in_errors() {
    // An error raised after the secret was read (bad interface) must not echo it.
    let text = minimal().replace("[cloud]", "[cloud]\ninterface = \"private\"");
    let err = load(&text, 0o600).unwrap_err();
    assert!(!err.to_string().contains(SECRET));
    assert!(!format!("{err:?}").contains(SECRET));
    // A wrongly typed password: the error names the key, not the value.
    let text = minimal().replace(&format!("password = \"{SECRET}\""), "password = 12345");
    let err = load(&text, 0o600).unwrap_err();
    assert_eq!(err.setting(), Some("`[cloud] password`"));
}

#[test]
fn full_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ca.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let text = format!(
        r#"cluster_id = "prod-k8s"

[cloud]
auth_url = "https://keystone.example.test:5000/v3"
region = "RegionTwo"
interface = "internal"
ca_file = "ca.pem"
insecure = false
user_id = "u-123"
password = "{SECRET}"
project_id = "p-456"

[load_balancer]
vip_subnet = "3b2f5c1e-8a4d-4e7b-9c0a-1d2e3f4a5b6c"
member_subnet = "nodes"
floating_network = "public"
provider = "ovn"
flavor = "small"
availability_zone = "az1"
default_algorithm = "SOURCE_IP_PORT"
manage_security_groups = false
fully_populated_create = false
wait_seconds = 900

[daemon]
socket = "run/oi.sock"
state_file = "/var/lib/oi/state.json"
resync_seconds = 60
notify_command = ["/usr/bin/juju-exec", "unit/0", "hooks/update-status"]
metrics_address = "127.0.0.1:9999"
leader = false
"#
    );
    let path = write(dir.path(), &text, 0o600);
    let s = Settings::load_with_env(&path, &no_env()).unwrap();
    assert_eq!(s.cloud.region.as_deref(), Some("RegionTwo"));
    assert_eq!(s.cloud.interface, Interface::Internal);
    let lb = &s.load_balancer;
    assert!(lb.vip_subnet.looks_like_id());
    assert_eq!(lb.member_subnet, NameOrId::new("nodes"));
    assert_eq!(lb.floating_network, Some(NameOrId::new("public")));
    assert_eq!(lb.provider, "ovn");
    assert_eq!(lb.flavor, Some(NameOrId::new("small")));
    assert_eq!(lb.availability_zone.as_deref(), Some("az1"));
    assert_eq!(lb.default_algorithm, Algorithm::SourceIpPort);
    assert!(!lb.manage_security_groups && !lb.fully_populated_create);
    assert_eq!(lb.wait, Duration::from_secs(900));
    let d = &s.daemon;
    assert_eq!(d.socket, dir.path().join("run/oi.sock"));
    assert_eq!(d.state_file, PathBuf::from("/var/lib/oi/state.json"));
    assert_eq!(d.resync, Duration::from_secs(60));
    assert_eq!(d.notify_command.as_ref().unwrap()[0], "/usr/bin/juju-exec");
    assert_eq!(d.metrics_address, Some("127.0.0.1:9999".parse().unwrap()));
    assert!(!d.leader);

    let session = s.session_config().unwrap();
    assert_eq!(session.region.as_deref(), Some("RegionTwo"));
    assert!(String::from_utf8(session.ca_bundle_pem.unwrap())
        .unwrap()
        .contains("MIIB"));
}

#[test]
fn missing_ca_file_is_named_when_the_session_is_built() {
    let text = minimal().replace("[cloud]", "[cloud]\nca_file = \"no-such-ca.pem\"");
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &text, 0o600);
    let s = Settings::load_with_env(&path, &no_env()).unwrap();
    let err = s.session_config().unwrap_err().to_string();
    assert!(
        err.contains(&dir.path().join("no-such-ca.pem").display().to_string()),
        "{err}"
    );
    assert!(err.contains("ca_file"), "{err}");
}

#[test]
fn the_example_settings_file_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/settings.example.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    let s = Settings::from_toml_str(&text, example.parent().unwrap(), &no_env()).unwrap();
    assert_eq!(s.load_balancer.provider, "amphora");
    // Every setting the parser knows is shown in the example (set or commented out).
    let every = [
        &["cluster_id"][..],
        CLOUD_KEYS,
        LOAD_BALANCER_KEYS,
        DAEMON_KEYS,
    ];
    for key in every.concat() {
        assert!(
            text.lines().any(|l| l
                .trim_start_matches(['#', ' '])
                .starts_with(&format!("{key} ="))),
            "{key} is not in the example"
        );
    }
}

#[test]
fn damaged_settings_never_panic() {
    // Every prefix of the example, and the example with each line replaced by junk, gives
    // settings or an error — never a panic.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/settings.example.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    let env = no_env();
    let base = Path::new("/etc/oi");
    for (i, _) in text.char_indices().step_by(7) {
        let _ = Settings::from_toml_str(&text[..i], base, &env);
    }
    let lines: Vec<&str> = text.lines().collect();
    for junk in [
        "= 1",
        "[cloud]",
        "[[x]]",
        "password = [1, {a = 2}]",
        "\"\\u0000\" = 1",
    ] {
        for i in 0..lines.len() {
            let mut copy = lines.clone();
            copy[i] = junk;
            let _ = Settings::from_toml_str(&copy.join("\n"), base, &env);
        }
    }
}
