//! Setup that the integration tests and the benchmarks share (`benches/support` includes this
//! file too): how to log in to the simulated cloud, its settings text, and its seeded cloud as
//! a resolved site.
#![allow(dead_code)]

use octavia_integrator::config::{Environment, Settings};
use octavia_integrator::spec::Site;
use openstack::session::{Credentials, DomainRef, Scope, SessionConfig, UserRef};
use openstack_sim::{Provider, SimHandle};

/// A session configuration for the simulator's seeded user, project-scoped by name; retry
/// policy and timeouts are the defaults (callers set their own).
pub fn session_config(sim: &SimHandle) -> SessionConfig {
    let c = sim.credentials();
    let mut config = SessionConfig::new(
        c.auth_url.clone(),
        Credentials::Password {
            user: UserRef::Name {
                name: c.username.clone(),
                domain: DomainRef::Name(c.domain_name.clone()),
            },
            password: c.password.clone().into(),
        },
    );
    config.scope = Some(Scope::ProjectName {
        name: c.project_name.clone(),
        domain: DomainRef::Name(c.domain_name.clone()),
    });
    config
}

/// Settings text for the simulator, with names (resolved by `Reconciler::connect`), password
/// credentials and the public floating network; `extra_lb` ends the `[load_balancer]` section
/// (a provider, security groups, ...), and a caller may append further sections.
pub fn settings_toml(sim: &SimHandle, cluster: &str, extra_lb: &str) -> String {
    let c = sim.credentials();
    format!(
        r#"cluster_id = "{cluster}"

[cloud]
auth_url = "{auth}"
username = "{user}"
user_domain_name = "{domain}"
password = "{password}"
project_name = "{project}"
project_domain_name = "{domain}"

[load_balancer]
vip_subnet = "{vip}"
floating_network = "public"
{extra_lb}
"#,
        auth = c.auth_url,
        user = c.username,
        domain = c.domain_name,
        password = c.password,
        project = c.project_name,
        vip = sim.seed_ids().vip_subnet_id,
    )
}

/// Parses settings text (no environment, no files).
pub fn settings(text: &str) -> Settings {
    let env = Environment::new(Vec::<(String, String)>::new(), "/");
    Settings::from_toml_str(text, std::path::Path::new("/"), &env).expect("valid test settings")
}

/// The simulator's seeded cloud as a resolved site (no cloud calls needed; security groups
/// off).
pub fn site(sim: &SimHandle, cluster: &str, provider: Provider) -> Site {
    let ids = sim.seed_ids();
    Site {
        cluster_id: cluster.into(),
        vip_subnet_id: ids.vip_subnet_id.clone(),
        vip_network_id: Some(ids.vip_network_id.clone()),
        member_subnet_id: ids.vip_subnet_id.clone(),
        member_network_id: Some(ids.vip_network_id.clone()),
        member_subnet_cidr: Some("10.5.0.0/24".into()),
        floating_network_id: Some(ids.external_network_id.clone()),
        provider: Some(provider.as_str().to_string()),
        flavor_id: None,
        availability_zone: None,
        manage_security_groups: false,
        preserves_client_ip: provider == Provider::Ovn,
        closest_health_check: false,
    }
}
