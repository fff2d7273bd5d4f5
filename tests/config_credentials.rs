//! Credential sources: clouds.yaml (lookup order, secure.yaml, OS_CLOUD), OS_* variables, Juju
//! credential files (both shapes), and their permission checks. Fixtures: fixtures/config/.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use octavia_integrator::config::{
    AppCredRef, CaBundle, ConfigError, Credentials, DomainRef, Environment, Interface, Scope,
    Settings, UserRef,
};
use secrecy::ExposeSecret;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/config")
        .join(name)
}

/// Copies a fixture to `dest` with `mode` (git does not keep 0600).
fn install(name: &str, dest: &Path, mode: u32) -> PathBuf {
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(fixture(name), dest).unwrap();
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(mode)).unwrap();
    dest.to_path_buf()
}

/// Settings text with `cloud_lines` as the `[cloud]` section.
fn settings(cloud_lines: &str) -> String {
    format!("cluster_id = \"c\"\n[cloud]\n{cloud_lines}\n[load_balancer]\nvip_subnet = \"s\"\n")
}

/// Writes settings into `dir` (0600) and loads them against `env`.
fn load_in(dir: &Path, cloud_lines: &str, env: &Environment) -> Result<Settings, ConfigError> {
    let path = dir.join("settings.toml");
    std::fs::write(&path, settings(cloud_lines)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    Settings::load_with_env(&path, env)
}

/// An environment whose system-wide folder (normally `/etc/openstack`) is an empty folder
/// under `cwd`, so a clouds.yaml installed on the host never changes a test's outcome.
fn env(vars: &[(&str, &str)], cwd: &Path) -> Environment {
    Environment::new(vars.iter().copied(), cwd).with_system_config_dir(cwd.join("etc-openstack"))
}

fn password(auth: &Credentials) -> &str {
    match auth {
        Credentials::Password { password, .. } => password.expose_secret(),
        other => panic!("not a password: {other:?}"),
    }
}

// ---------- clouds.yaml ----------

#[test]
fn clouds_yaml_entry_by_name() {
    let dir = tempfile::tempdir().unwrap();
    install("clouds.yaml", &dir.path().join("clouds.yaml"), 0o600);
    let e = env(&[], dir.path());
    let s = load_in(dir.path(), "cloud = \"password-cloud\"", &e).unwrap();
    let c = &s.cloud;
    assert_eq!(c.auth_url, "https://keystone.example.test:5000/v3");
    assert_eq!(password(&c.auth), "fixture-password-1");
    match &c.auth {
        Credentials::Password { user, .. } => assert_eq!(
            user,
            &UserRef::Name {
                name: "admin".into(),
                domain: DomainRef::Name("Default".into())
            }
        ),
        _ => unreachable!(),
    }
    assert_eq!(
        c.scope,
        Some(Scope::ProjectName {
            name: "k8s".into(),
            domain: DomainRef::Id("default".into())
        })
    );
    assert_eq!(c.region.as_deref(), Some("RegionOne"));
    assert_eq!(c.interface, Interface::Internal);
    assert!(c.source.contains("clouds.yaml"), "{}", c.source);
    assert!(c.source.contains("password-cloud"), "{}", c.source);
}

#[test]
fn clouds_yaml_application_credential_and_token() {
    let dir = tempfile::tempdir().unwrap();
    install("clouds.yaml", &dir.path().join("clouds.yaml"), 0o600);
    let e = env(&[], dir.path());
    let s = load_in(dir.path(), "cloud = \"appcred-cloud\"", &e).unwrap();
    match &s.cloud.auth {
        Credentials::ApplicationCredential {
            credential: AppCredRef::Id(id),
            secret,
        } => {
            assert_eq!(id, "0123456789abcdef");
            assert_eq!(secret.expose_secret(), "fixture-appcred-secret");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.cloud.scope, None);
    assert_eq!(s.cloud.region.as_deref(), Some("RegionTwo"));
    assert!(s.cloud.insecure, "verify: false");

    let s = load_in(dir.path(), "cloud = \"token-cloud\"", &e).unwrap();
    assert!(matches!(s.cloud.auth, Credentials::Token { .. }));
    assert_eq!(s.cloud.scope, Some(Scope::ProjectId("9f8e7d6c5b4a".into())));
}

#[test]
fn inline_overrides_apply_on_top_of_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    install("clouds.yaml", &dir.path().join("clouds.yaml"), 0o600);
    let e = env(&[], dir.path());
    let s = load_in(
        dir.path(),
        "cloud = \"password-cloud\"\nregion = \"RegionNine\"\ninterface = \"public\"\nca_file = \"ca.pem\"",
        &e,
    )
    .unwrap();
    assert_eq!(s.cloud.region.as_deref(), Some("RegionNine"));
    assert_eq!(s.cloud.interface, Interface::Public);
    assert_eq!(s.cloud.ca, Some(CaBundle::File(dir.path().join("ca.pem"))));

    // auth_url beside another source overrides its URL (it is not a second source).
    let s = load_in(
        dir.path(),
        "cloud = \"password-cloud\"\nauth_url = \"https://other.example.test/v3\"",
        &e,
    )
    .unwrap();
    assert_eq!(s.cloud.auth_url, "https://other.example.test/v3");
    assert_eq!(password(&s.cloud.auth), "fixture-password-1");
}

#[test]
fn clouds_yaml_lookup_order() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().join("work");
    let xdg = dir.path().join("xdg");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&cwd).unwrap();
    let vars = |with_xdg: bool| {
        let mut v = vec![("HOME", home.to_str().unwrap().to_string())];
        if with_xdg {
            v.push(("XDG_CONFIG_HOME", xdg.to_str().unwrap().to_string()));
        }
        Environment::new(v, &cwd).with_system_config_dir(dir.path().join("etc-openstack"))
    };
    let region = |e: &Environment| {
        load_in(dir.path(), "cloud = \"split-cloud\"", e).map(|s| s.cloud.region.unwrap())
    };
    // Each location holds a different region for the same cloud.
    let put = |path: PathBuf, region: &str| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            format!(
                "clouds:\n  split-cloud:\n    auth: {{auth_url: 'https://k/v3', username: u, project_name: p, application_credential_id: x}}\n    auth_type: v3applicationcredential\n    region_name: {region}\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    };
    // No secret in these files: readable is fine. The secret comes from secure.yaml in cwd.
    let secure = cwd.join("secure.yaml");
    std::fs::write(
        &secure,
        "clouds:\n  split-cloud:\n    auth:\n      application_credential_secret: s\n",
    )
    .unwrap();
    std::fs::set_permissions(&secure, std::fs::Permissions::from_mode(0o600)).unwrap();

    put(dir.path().join("etc-openstack/clouds.yaml"), "FromSystem");
    assert_eq!(region(&vars(false)).unwrap(), "FromSystem");
    put(home.join(".config/openstack/clouds.yaml"), "FromHome");
    assert_eq!(region(&vars(false)).unwrap(), "FromHome");
    put(xdg.join("openstack/clouds.yaml"), "FromXdg");
    assert_eq!(
        region(&vars(true)).unwrap(),
        "FromXdg",
        "XDG_CONFIG_HOME wins over HOME"
    );
    assert_eq!(region(&vars(false)).unwrap(), "FromHome");
    put(cwd.join("clouds.yml"), "FromCwdYml");
    assert_eq!(
        region(&vars(true)).unwrap(),
        "FromCwdYml",
        "./ wins over the user folder"
    );
    put(cwd.join("clouds.yaml"), "FromCwd");
    assert_eq!(region(&vars(true)).unwrap(), "FromCwd", ".yaml before .yml");

    // OS_CLIENT_CONFIG_FILE replaces the search; clouds_file replaces both.
    let other = dir.path().join("elsewhere/clouds.yaml");
    put(other.clone(), "FromEnvFile");
    let mut v = vec![("OS_CLIENT_CONFIG_FILE", other.to_str().unwrap())];
    v.push(("HOME", home.to_str().unwrap()));
    let e = env(&v, &cwd);
    assert_eq!(region(&e).unwrap(), "FromEnvFile");
    let explicit = dir.path().join("explicit.yaml");
    put(explicit.clone(), "FromSetting");
    let s = load_in(
        dir.path(),
        "cloud = \"split-cloud\"\nclouds_file = \"explicit.yaml\"",
        &e,
    )
    .unwrap();
    assert_eq!(s.cloud.region.as_deref(), Some("FromSetting"));
}

#[test]
fn no_clouds_yaml_anywhere_lists_where_we_looked() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(&[("XDG_CONFIG_HOME", "/nonexistent-xdg")], dir.path());
    let err = load_in(dir.path(), "cloud = \"x\"", &e).unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.setting(), Some("`[cloud] cloud`"));
    assert!(
        msg.contains("/nonexistent-xdg/openstack/clouds.yaml"),
        "{msg}"
    );
    assert!(
        msg.contains(&dir.path().join("clouds.yaml").display().to_string()),
        "{msg}"
    );
    assert!(
        msg.contains(
            &dir.path()
                .join("etc-openstack/clouds.yaml")
                .display()
                .to_string()
        ),
        "{msg}"
    );
}

#[test]
fn unknown_cloud_name_lists_the_clouds_there() {
    let dir = tempfile::tempdir().unwrap();
    install("clouds.yaml", &dir.path().join("clouds.yaml"), 0o600);
    let err = load_in(dir.path(), "cloud = \"nope\"", &env(&[], dir.path())).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`nope`"), "{msg}");
    assert!(msg.contains("password-cloud, appcred-cloud"), "{msg}");
}

#[test]
fn secure_yaml_is_merged() {
    let dir = tempfile::tempdir().unwrap();
    install("clouds.yaml", &dir.path().join("clouds.yaml"), 0o644);
    install("secure.yaml", &dir.path().join("secure.yaml"), 0o600);
    let s = load_in(dir.path(), "cloud = \"split-cloud\"", &env(&[], dir.path())).unwrap();
    assert_eq!(password(&s.cloud.auth), "fixture-secure-password");
    assert!(s.cloud.source.contains("secure.yaml"), "{}", s.cloud.source);
}

#[test]
fn readable_files_holding_secrets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clouds = install("clouds.yaml", &dir.path().join("clouds.yaml"), 0o644);
    let err = load_in(
        dir.path(),
        "cloud = \"password-cloud\"",
        &env(&[], dir.path()),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::Permissions { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("chmod 600 {}", clouds.display())),
        "{err}"
    );

    install("clouds.yaml", &clouds, 0o644);
    let secure = install("secure.yaml", &dir.path().join("secure.yaml"), 0o640);
    let err = load_in(dir.path(), "cloud = \"split-cloud\"", &env(&[], dir.path())).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("chmod 600 {}", secure.display())),
        "{err}"
    );

    let juju = install(
        "juju-credentials.json",
        &dir.path().join("juju.json"),
        0o644,
    );
    let err = load_in(
        dir.path(),
        "juju_credentials_file = \"juju.json\"",
        &env(&[], dir.path()),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("chmod 600 {}", juju.display())),
        "{err}"
    );
}

#[test]
fn os_cloud_names_the_entry_when_no_source_is_set() {
    let dir = tempfile::tempdir().unwrap();
    install("clouds.yaml", &dir.path().join("clouds.yaml"), 0o600);
    let e = env(&[("OS_CLOUD", "token-cloud")], dir.path());
    let s = load_in(dir.path(), "", &e).unwrap();
    assert!(matches!(s.cloud.auth, Credentials::Token { .. }));
    let e = env(&[("OS_CLOUD", "missing-cloud")], dir.path());
    let err = load_in(dir.path(), "", &e).unwrap_err();
    assert_eq!(err.setting(), Some("OS_CLOUD"));
}

// ---------- OS_* environment ----------

#[test]
fn from_env_reads_os_variables() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(
        &[
            ("OS_AUTH_URL", "https://k.example.test:5000/v3"),
            ("OS_USERNAME", "envuser"),
            ("OS_PASSWORD", "env-password"),
            ("OS_USER_DOMAIN_ID", "ud"),
            ("OS_PROJECT_ID", "pid"),
            ("OS_REGION_NAME", "EnvRegion"),
            ("OS_INTERFACE", "admin"),
            ("OS_CACERT", "/etc/ssl/env-ca.pem"),
        ],
        dir.path(),
    );
    let s = load_in(dir.path(), "from_env = true", &e).unwrap();
    assert_eq!(password(&s.cloud.auth), "env-password");
    assert_eq!(s.cloud.scope, Some(Scope::ProjectId("pid".into())));
    assert_eq!(s.cloud.region.as_deref(), Some("EnvRegion"));
    assert_eq!(s.cloud.interface, Interface::Admin);
    assert_eq!(
        s.cloud.ca,
        Some(CaBundle::File("/etc/ssl/env-ca.pem".into()))
    );

    let e = env(&[("OS_USERNAME", "u")], dir.path());
    let err = load_in(dir.path(), "from_env = true", &e).unwrap_err();
    assert_eq!(err.setting(), Some("OS_AUTH_URL"));
}

#[test]
fn from_env_with_os_cloud_overlays_variables_on_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    install("clouds.yaml", &dir.path().join("clouds.yaml"), 0o600);
    let e = env(
        &[
            ("OS_CLOUD", "password-cloud"),
            ("OS_PASSWORD", "overridden"),
            ("OS_REGION_NAME", "EnvRegion"),
        ],
        dir.path(),
    );
    let s = load_in(dir.path(), "from_env = true", &e).unwrap();
    assert_eq!(password(&s.cloud.auth), "overridden");
    assert_eq!(s.cloud.region.as_deref(), Some("EnvRegion"));
    assert_eq!(s.cloud.interface, Interface::Internal, "from the entry");
}

// ---------- Juju ----------

fn juju(fixture_name: &str) -> Settings {
    let dir = tempfile::tempdir().unwrap();
    install(fixture_name, &dir.path().join("creds"), 0o600);
    load_in(
        dir.path(),
        "juju_credentials_file = \"creds\"",
        &env(&[], dir.path()),
    )
    .unwrap()
}

#[test]
fn juju_charm_config_json_and_base64() {
    for name in ["juju-credentials.json", "juju-credentials.b64"] {
        let s = juju(name);
        let c = &s.cloud;
        assert_eq!(
            c.auth_url, "https://keystone.example.test:5000/v3",
            "{name}"
        );
        assert_eq!(password(&c.auth), "fixture-juju-password");
        assert_eq!(c.region.as_deref(), Some("RegionOne"));
        assert_eq!(
            c.scope,
            Some(Scope::ProjectName {
                name: "admin".into(),
                domain: DomainRef::Name("admin_domain".into())
            })
        );
        match &c.ca {
            Some(CaBundle::Pem { pem, .. }) => assert!(pem.contains("MIIBfixture")),
            other => panic!("{other:?}"),
        }
        // The embedded CA goes into the session as is.
        let session = s.session_config().unwrap();
        assert!(String::from_utf8(session.ca_bundle_pem.unwrap())
            .unwrap()
            .contains("MIIBfixture"));
    }
}

#[test]
fn juju_trust_yaml_and_json() {
    let s = juju("juju-trust.yaml");
    let c = &s.cloud;
    assert_eq!(c.auth_url, "https://keystone.example.test:5000/v3");
    assert_eq!(password(&c.auth), "fixture-trust-password");
    match &c.auth {
        Credentials::Password { user, .. } => assert_eq!(
            user,
            &UserRef::Name {
                name: "trusted-user".into(),
                domain: DomainRef::Name("users".into())
            }
        ),
        _ => unreachable!(),
    }
    assert_eq!(
        c.scope,
        Some(Scope::ProjectName {
            name: "k8s".into(),
            domain: DomainRef::Name("projects".into())
        })
    );
    assert!(matches!(&c.ca, Some(CaBundle::Pem { pem, .. }) if pem.contains("MIIBfixturetrust")));

    let s = juju("juju-trust.json");
    assert_eq!(s.cloud.scope, Some(Scope::ProjectId("0a1b2c3d".into())));
    assert_eq!(s.cloud.ca, None);
}

#[test]
fn juju_errors_name_the_file_and_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds");
    std::fs::write(
        &path,
        "credential:\n  auth-type: userpass\n  attributes: {password: p}\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = load_in(
        dir.path(),
        "juju_credentials_file = \"creds\"",
        &env(&[], dir.path()),
    )
    .unwrap_err();
    assert_eq!(err.setting(), Some("`endpoint`"));
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );

    std::fs::write(&path, "bm90IGpzb24=").unwrap(); // base64 of "not json"
    let err = load_in(
        dir.path(),
        "juju_credentials_file = \"creds\"",
        &env(&[], dir.path()),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );

    let err = load_in(
        dir.path(),
        "juju_credentials_file = \"absent\"",
        &env(&[], dir.path()),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains(&dir.path().join("absent").display().to_string()),
        "{err}"
    );
}

#[test]
fn credential_secrets_never_in_debug() {
    for (name, secret) in [
        ("juju-credentials.b64", "fixture-juju-password"),
        ("juju-trust.yaml", "fixture-trust-password"),
    ] {
        let s = juju(name);
        let debug = format!("{s:?}");
        assert!(!debug.contains(secret), "{debug}");
    }
    let dir = tempfile::tempdir().unwrap();
    install("clouds.yaml", &dir.path().join("clouds.yaml"), 0o600);
    for (cloud, secret) in [
        ("password-cloud", "fixture-password-1"),
        ("appcred-cloud", "fixture-appcred-secret"),
        ("token-cloud", "fixture-token-value"),
    ] {
        let s = load_in(
            dir.path(),
            &format!("cloud = \"{cloud}\""),
            &env(&[], dir.path()),
        )
        .unwrap();
        assert!(!format!("{s:?}").contains(secret));
        assert!(!format!("{:?}", s.session_config().unwrap()).contains(secret));
    }
}
