//! Every credential source, end to end: settings → `SessionConfig` → a session that
//! authenticates against the simulated cloud and gets the seeded project.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine;
use octavia_integrator::config::{Environment, Settings};
use openstack::Session;
use openstack_sim::{Provider, Sim, SimHandle};

async fn start() -> SimHandle {
    Sim::builder()
        .provider(Provider::Amphora)
        .delay_scale(0.0005)
        .seed(3)
        .build()
        .start()
        .await
        .expect("the simulator starts on loopback")
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Loads settings whose `[cloud]` section is `cloud`, then authenticates; returns the project.
async fn project_of(dir: &Path, cloud: &str, env: &Environment) -> String {
    let path = dir.join("settings.toml");
    write_private(
        &path,
        &format!("cluster_id = \"t\"\n[cloud]\n{cloud}\n[load_balancer]\nvip_subnet = \"s\"\n"),
    );
    let settings = Settings::load_with_env(&path, env).expect("settings load");
    let session = Session::new(settings.session_config().expect("session config")).unwrap();
    session.project_id().await.expect("authenticates")
}

#[tokio::test]
async fn every_credential_source_authenticates() {
    let sim = start().await;
    let c = sim.credentials();
    let dir = tempfile::tempdir().unwrap();
    // The host's /etc/openstack (clouds.yaml, secure.yaml) must not change the outcome.
    let no_env = Environment::new(Vec::<(String, String)>::new(), dir.path())
        .with_system_config_dir(dir.path().join("etc-openstack"));

    // Inline password, names.
    let inline = format!(
        "auth_url = \"{}\"\nusername = \"{}\"\nuser_domain_name = \"{}\"\npassword = \"{}\"\nproject_name = \"{}\"\nproject_domain_name = \"{}\"",
        c.auth_url, c.username, c.domain_name, c.password, c.project_name, c.domain_name
    );
    assert_eq!(project_of(dir.path(), &inline, &no_env).await, c.project_id);

    // Inline password by ids (default domain id for nothing: ids need no domain).
    let ids = format!(
        "auth_url = \"{}\"\nuser_id = \"{}\"\npassword = \"{}\"\nproject_id = \"{}\"",
        c.auth_url, c.user_id, c.password, c.project_id
    );
    assert_eq!(project_of(dir.path(), &ids, &no_env).await, c.project_id);

    // Inline application credential (id, then name + user).
    let ac = format!(
        "auth_url = \"{}\"\napplication_credential_id = \"{}\"\napplication_credential_secret = \"{}\"",
        c.auth_url, c.application_credential_id, c.application_credential_secret
    );
    assert_eq!(project_of(dir.path(), &ac, &no_env).await, c.project_id);
    let ac_name = format!(
        "auth_url = \"{}\"\napplication_credential_name = \"{}\"\nusername = \"{}\"\nuser_domain_name = \"{}\"\napplication_credential_secret = \"{}\"",
        c.auth_url,
        c.application_credential_name,
        c.username,
        c.domain_name,
        c.application_credential_secret
    );
    assert_eq!(
        project_of(dir.path(), &ac_name, &no_env).await,
        c.project_id
    );

    // clouds.yaml in the working directory.
    write_private(
        &dir.path().join("clouds.yaml"),
        &format!(
            "clouds:\n  sim:\n    auth:\n      auth_url: {}\n      username: {}\n      password: {}\n      project_name: {}\n      user_domain_name: {}\n      project_domain_name: {}\n    region_name: {}\n",
            c.auth_url, c.username, c.password, c.project_name, c.domain_name, c.domain_name, c.region
        ),
    );
    assert_eq!(
        project_of(dir.path(), "cloud = \"sim\"", &no_env).await,
        c.project_id
    );

    // OS_* variables.
    let env = Environment::new(
        [
            ("OS_AUTH_URL", c.auth_url.as_str()),
            ("OS_USERNAME", c.username.as_str()),
            ("OS_PASSWORD", c.password.as_str()),
            ("OS_USER_DOMAIN_NAME", c.domain_name.as_str()),
            ("OS_PROJECT_NAME", c.project_name.as_str()),
            ("OS_PROJECT_DOMAIN_NAME", c.domain_name.as_str()),
            ("OS_REGION_NAME", c.region.as_str()),
        ],
        dir.path(),
    );
    assert_eq!(
        project_of(dir.path(), "from_env = true", &env).await,
        c.project_id
    );

    // Juju charm config (base64 JSON) and the juju trust shape.
    let flat = serde_json::json!({
        "auth-url": c.auth_url, "region": c.region, "username": c.username,
        "password": c.password, "user-domain-name": c.domain_name,
        "project-domain-name": c.domain_name, "project-name": c.project_name,
    });
    write_private(
        &dir.path().join("juju.b64"),
        &base64::engine::general_purpose::STANDARD.encode(flat.to_string()),
    );
    assert_eq!(
        project_of(dir.path(), "juju_credentials_file = \"juju.b64\"", &no_env).await,
        c.project_id
    );
    write_private(
        &dir.path().join("trust.yaml"),
        &format!(
            "type: openstack\nregion: {}\nendpoint: {}\ncredential:\n  auth-type: userpass\n  attributes:\n    username: {}\n    password: {}\n    tenant-name: {}\n    domain-name: {}\n",
            c.region, c.auth_url, c.username, c.password, c.project_name, c.domain_name
        ),
    );
    assert_eq!(
        project_of(
            dir.path(),
            "juju_credentials_file = \"trust.yaml\"",
            &no_env
        )
        .await,
        c.project_id
    );

    sim.shutdown().await;
}
