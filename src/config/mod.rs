//! Settings (TOML) and cloud credentials (clouds.yaml, `OS_*` variables, Juju credentials).
//!
//! [`Settings::load`] reads the file named by `--config` / `OCTAVIA_INTEGRATOR_CONFIG`,
//! refuses unknown keys by name, fills defaults, resolves the credentials from exactly one
//! source and checks that files holding secrets are private. The environment is injected
//! ([`Environment`]) so the parsers never read `std::env` themselves.
//! `deploy/settings.example.toml` documents every setting.

mod clouds_yaml;
mod credentials;
mod env_vars;
mod environment;
mod error;
mod fields;
mod file;
mod juju;
mod raw;
mod session;
mod site;
mod source;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use credentials::{
    parse_interface, AppCredRef, CaBundle, CloudSettings, Credentials, DomainRef, Interface, Scope,
    UserRef,
};
pub use environment::Environment;
pub use error::ConfigError;
/// The setting names the parser knows, per section, and which hold secrets: one list for the
/// parser, its error hints and the tests.
#[doc(hidden)]
pub use raw::{CLOUD_KEYS, DAEMON_KEYS, LOAD_BALANCER_KEYS, SECRET_KEYS};
pub use site::{
    Algorithm, DaemonSettings, LoadBalancerSettings, NameOrId, DEFAULT_METRICS_ADDRESS,
    DEFAULT_SOCKET, DEFAULT_STATE_FILE,
};

/// Longest accepted `cluster_id` (it goes into names and tags; Neutron tags are ≤ 60 chars).
pub const CLUSTER_ID_MAX: usize = 32;

/// Everything the service is configured with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The file these settings came from (`None` when built from text).
    pub path: Option<PathBuf>,
    /// Identifies this cluster's resources in names and tags.
    pub cluster_id: String,
    /// Credentials, region, interface and TLS.
    pub cloud: CloudSettings,
    /// Where and how load balancers are built.
    pub load_balancer: LoadBalancerSettings,
    /// The daemon.
    pub daemon: DaemonSettings,
}

impl Settings {
    /// Loads the settings file with this process's environment.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        Settings::load_with_env(path, &Environment::from_process())
    }

    /// Loads the settings file, resolving credentials against `env`. A file that holds a secret
    /// and is readable by group or others, or that group or others may write, is refused.
    pub fn load_with_env(path: &Path, env: &Environment) -> Result<Settings, ConfigError> {
        let path = env.absolute(path);
        let (raw, base, origin) = read_file(&path)?;
        let mut settings = build(raw, &base, env, &origin)?;
        settings.path = Some(path);
        Ok(settings)
    }

    /// Loads only the `[daemon]` section of the settings file (same file checks as
    /// [`Settings::load`], credentials not resolved): what a hook needs to talk to a running
    /// daemon, whose own settings hold the cloud.
    pub fn load_daemon(path: &Path) -> Result<DaemonSettings, ConfigError> {
        let env = Environment::from_process();
        let path = env.absolute(path);
        let (raw, base, origin) = read_file(&path)?;
        daemon(raw.daemon, &base, &origin)
    }

    /// Parses settings from TOML text (no file permission checks); relative paths in it start
    /// at `base_dir`. For tests and tools that generate settings.
    pub fn from_toml_str(
        text: &str,
        base_dir: &Path,
        env: &Environment,
    ) -> Result<Settings, ConfigError> {
        let origin = "settings";
        build(raw::parse(text, origin)?, base_dir, env, origin)
    }
}

/// Reads and parses the settings file at `path` (absolute) with the file checks: not writable by
/// others, and private when it holds a secret. Returns the raw settings, the folder relative
/// paths start at, and how errors name the file.
fn read_file(path: &Path) -> Result<(raw::RawSettings, PathBuf, String), ConfigError> {
    let what = "settings file";
    let file = file::read_text(
        what,
        path,
        "give the right path with --config or OCTAVIA_INTEGRATOR_CONFIG",
    )?;
    file::require_not_writable_by_others(what, path, file.mode)?;
    let origin = format!("settings file {}", path.display());
    let raw = raw::parse(&file.text, &origin)?;
    if source::holds_secret(&raw.cloud) {
        file::require_private(what, path, file.mode)?;
    }
    let base = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    Ok((raw, base, origin))
}

fn build(
    raw: raw::RawSettings,
    base: &Path,
    env: &Environment,
    origin: &str,
) -> Result<Settings, ConfigError> {
    let cluster_id = cluster_id(raw.cluster_id, origin)?;
    let load_balancer = load_balancer(raw.load_balancer, origin)?;
    let daemon = daemon(raw.daemon, base, origin)?;
    let cloud = source::resolve(raw.cloud, base, env, origin)?;
    Ok(Settings {
        path: None,
        cluster_id,
        cloud,
        load_balancer,
        daemon,
    })
}

fn cluster_id(value: Option<String>, origin: &str) -> Result<String, ConfigError> {
    let bad = |reason: String| ConfigError::invalid(origin, "`cluster_id`", reason);
    let id = value.ok_or_else(|| {
        bad("missing: set a short name for this cluster, e.g. cluster_id = \"prod-k8s\"; it marks every cloud resource we create".into())
    })?;
    if id.is_empty() || id.len() > CLUSTER_ID_MAX {
        return Err(bad(format!(
            "`{id}` must be 1 to {CLUSTER_ID_MAX} characters"
        )));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(bad(format!(
            "`{id}` holds `{c}`: use letters, digits, `-`, `_` and `.` only (it goes into resource names and tags)"
        )));
    }
    Ok(id)
}

/// `Some(non-empty)`, `None` for absent or "".
fn opt(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn load_balancer(
    raw: raw::RawLoadBalancer,
    origin: &str,
) -> Result<LoadBalancerSettings, ConfigError> {
    let bad = |k: &str, reason: String| {
        ConfigError::invalid(origin, format!("`[load_balancer] {k}`"), reason)
    };
    let vip_subnet = opt(raw.vip_subnet).map(NameOrId::new).ok_or_else(|| {
        bad(
            "vip_subnet",
            "missing: name or id of the subnet load-balancer addresses come from (see `openstack subnet list`)".into(),
        )
    })?;
    let member_subnet = opt(raw.member_subnet)
        .map(NameOrId::new)
        .unwrap_or_else(|| vip_subnet.clone());
    let provider = match raw.provider {
        None => "amphora".to_string(),
        Some(p) => opt(Some(p)).ok_or_else(|| {
            bad(
                "provider",
                "is empty: name an Octavia provider (amphora, ovn, ...) or remove the line".into(),
            )
        })?,
    };
    let default_algorithm = match raw.default_algorithm {
        None => Algorithm::RoundRobin,
        Some(a) => Algorithm::parse(a.trim()).ok_or_else(|| {
            bad(
                "default_algorithm",
                format!(
                    "`{a}` is not an Octavia algorithm: use one of {}",
                    Algorithm::ALL.map(Algorithm::as_str).join(", ")
                ),
            )
        })?,
    };
    let wait_seconds = raw.wait_seconds.unwrap_or(600);
    if !(1..=86_400).contains(&wait_seconds) {
        return Err(bad(
            "wait_seconds",
            format!("{wait_seconds} is out of range: use 1 to 86400 (Octavia may need 10 minutes; 600 is the default)"),
        ));
    }
    Ok(LoadBalancerSettings {
        vip_subnet,
        member_subnet,
        floating_network: opt(raw.floating_network).map(NameOrId::new),
        provider,
        flavor: opt(raw.flavor).map(NameOrId::new),
        availability_zone: opt(raw.availability_zone),
        default_algorithm,
        manage_security_groups: raw.manage_security_groups.unwrap_or(true),
        fully_populated_create: raw.fully_populated_create.unwrap_or(true),
        closest_health_check: raw.closest_health_check.unwrap_or(false),
        wait: Duration::from_secs(wait_seconds),
    })
}

fn daemon(raw: raw::RawDaemon, base: &Path, origin: &str) -> Result<DaemonSettings, ConfigError> {
    let bad =
        |k: &str, reason: String| ConfigError::invalid(origin, format!("`[daemon] {k}`"), reason);
    let path = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
    let resync_seconds = raw.resync_seconds.unwrap_or(300);
    if !(10..=86_400).contains(&resync_seconds) {
        return Err(bad(
            "resync_seconds",
            format!("{resync_seconds} is out of range: use 10 to 86400 (default 300)"),
        ));
    }
    let notify_command = match raw.notify_command {
        None => None,
        Some(argv) if argv.is_empty() => None,
        Some(argv) if argv[0].trim().is_empty() => return Err(bad(
            "notify_command",
            "the first element must be the program to run, e.g. [\"/usr/local/bin/rerun-hook\"]"
                .into(),
        )),
        Some(argv) => Some(argv),
    };
    let metrics_address = match raw.metrics_address.as_deref().map(str::trim) {
        None => Some(
            DEFAULT_METRICS_ADDRESS
                .parse::<SocketAddr>()
                .expect("valid default"),
        ),
        Some("" | "off") => None,
        Some(text) => {
            let address = text.parse::<SocketAddr>().map_err(|_| {
                bad(
                    "metrics_address",
                    format!("`{text}` is not an IP address with a port, e.g. \"127.0.0.1:9180\"; use \"off\" to serve no metrics"),
                )
            })?;
            if !address.ip().is_loopback() {
                return Err(bad(
                    "metrics_address",
                    format!("`{text}` is not a loopback address: /metrics and /healthz are served on 127.0.0.1 or ::1 only (put a reverse proxy in front to expose them)"),
                ));
            }
            Some(address)
        }
    };
    for (key, value) in [("socket", &raw.socket), ("state_file", &raw.state_file)] {
        if value.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return Err(bad(key, "is empty: give a path or remove the line".into()));
        }
    }
    Ok(DaemonSettings {
        socket: path(raw.socket.unwrap_or_else(|| DEFAULT_SOCKET.into())),
        state_file: path(raw.state_file.unwrap_or_else(|| DEFAULT_STATE_FILE.into())),
        resync: Duration::from_secs(resync_seconds),
        notify_command,
        metrics_address,
        leader: raw.leader.unwrap_or(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
cluster_id = "demo"
[cloud]
auth_url = "http://127.0.0.1:5000/v3"
username = "admin"
password = "pw"
project_name = "demo"
[load_balancer]
vip_subnet = "lb-subnet"
"#;

    fn env() -> Environment {
        Environment::new::<[(&str, &str); 0], _, _>([], "/w")
    }

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml_str(text, Path::new("/etc/oi"), &env())
    }

    #[test]
    fn defaults() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.cluster_id, "demo");
        let lb = &s.load_balancer;
        assert_eq!(lb.member_subnet, lb.vip_subnet);
        assert_eq!(lb.provider, "amphora");
        assert_eq!(lb.default_algorithm, Algorithm::RoundRobin);
        assert!(lb.manage_security_groups && lb.fully_populated_create);
        assert_eq!(lb.wait, Duration::from_secs(600));
        assert_eq!(lb.floating_network, None);
        let d = &s.daemon;
        assert_eq!(d.socket, PathBuf::from(DEFAULT_SOCKET));
        assert_eq!(d.state_file, PathBuf::from(DEFAULT_STATE_FILE));
        assert_eq!(d.resync, Duration::from_secs(300));
        assert_eq!(d.metrics_address, Some("127.0.0.1:9180".parse().unwrap()));
        assert!(d.leader);
        assert_eq!(d.notify_command, None);
    }

    #[test]
    fn relative_daemon_paths_start_at_the_settings_folder() {
        let s = parse(&format!(
            "{MINIMAL}[daemon]\nstate_file = \"state.json\"\nmetrics_address = \"off\"\n"
        ))
        .unwrap();
        assert_eq!(s.daemon.state_file, PathBuf::from("/etc/oi/state.json"));
        assert_eq!(s.daemon.metrics_address, None);
    }

    #[test]
    fn cluster_id_rules() {
        let e = parse(&MINIMAL.replace("cluster_id = \"demo\"", "")).unwrap_err();
        assert_eq!(e.setting(), Some("`cluster_id`"));
        assert!(e.to_string().contains("missing"), "{e}");
        let e = parse(&MINIMAL.replace("\"demo\"\n[cloud]", "\"a,b\"\n[cloud]")).unwrap_err();
        assert!(e.to_string().contains("`,`"), "{e}");
        let long = "x".repeat(CLUSTER_ID_MAX + 1);
        let e = parse(&MINIMAL.replace("= \"demo\"\n[cloud]", &format!("= \"{long}\"\n[cloud]")))
            .unwrap_err();
        assert_eq!(e.setting(), Some("`cluster_id`"));
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            (
                "[load_balancer]\nvip_subnet = \"lb-subnet\"",
                "[load_balancer]\nvip_subnet = \"\"",
                "`[load_balancer] vip_subnet`",
            ),
            (
                "vip_subnet = \"lb-subnet\"",
                "vip_subnet = \"s\"\ndefault_algorithm = \"RANDOM\"",
                "`[load_balancer] default_algorithm`",
            ),
            (
                "vip_subnet = \"lb-subnet\"",
                "vip_subnet = \"s\"\nwait_seconds = 0",
                "`[load_balancer] wait_seconds`",
            ),
            (
                "vip_subnet = \"lb-subnet\"",
                "vip_subnet = \"s\"\nprovider = \"\"",
                "`[load_balancer] provider`",
            ),
            (
                "username = \"admin\"",
                "username = \"admin\"\ninterface = \"private\"",
                "`[cloud] interface`",
            ),
        ];
        for (from, to, setting) in cases {
            let e = parse(&MINIMAL.replace(from, to)).unwrap_err();
            assert_eq!(e.setting(), Some(setting), "{e}");
        }
        for (daemon, setting) in [
            ("resync_seconds = 1", "`[daemon] resync_seconds`"),
            (
                "metrics_address = \"localhost\"",
                "`[daemon] metrics_address`",
            ),
            (
                "metrics_address = \"0.0.0.0:9180\"",
                "`[daemon] metrics_address`",
            ),
            ("notify_command = [\"\"]", "`[daemon] notify_command`"),
            ("socket = \"\"", "`[daemon] socket`"),
        ] {
            let e = parse(&format!("{MINIMAL}[daemon]\n{daemon}\n")).unwrap_err();
            assert_eq!(e.setting(), Some(setting), "{e}");
        }
    }
}
