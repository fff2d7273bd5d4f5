//! Connecting the reconciler: names in the settings resolved to ids once (VIP subnet, member
//! subnet, floating network), and the provider's capabilities.

use openstack::network::{networks, subnets};
use openstack::{Error, Session};

use crate::config::{LoadBalancerSettings, NameOrId};
use crate::spec::ProviderKind;
use crate::spec::Site;

/// Why the reconciler could not start: every message names the setting and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A setting names something the cloud does not have (or has twice).
    #[error("setting `[load_balancer] {setting}` = `{value}`: {problem}")]
    Setting {
        /// The setting.
        setting: &'static str,
        /// Its value.
        value: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The cloud lacks something we depend on.
    #[error("{0}")]
    Unsupported(String),
    /// The cloud could not be asked.
    #[error("{}", cloud_message(setting, source))]
    Cloud {
        /// The setting being resolved.
        setting: &'static str,
        /// The cloud error.
        #[source]
        source: Error,
    },
}

/// A failed look-up names the setting being resolved, unless the failure has nothing to do
/// with that setting: refused credentials, no endpoint, an unusable URL or a cloud that cannot
/// be reached would fail any first call, and naming the setting only sends the operator the
/// wrong way.
fn cloud_message(setting: &str, source: &Error) -> String {
    match source {
        Error::Unauthorized(_)
        | Error::Auth(_)
        | Error::Config(_)
        | Error::NoEndpoint { .. }
        | Error::Transport { .. }
        | Error::Timeout { .. } => source.to_string(),
        _ => format!("could not read `[load_balancer] {setting}` from the cloud: {source}"),
    }
}

impl ConnectError {
    /// Whether the operator must fix the settings or credentials (rather than wait for the
    /// cloud): a setting naming something the cloud does not have, or a cloud error that
    /// [`is_settings_problem`].
    pub fn is_settings_problem(&self) -> bool {
        match self {
            ConnectError::Setting { .. } => true,
            ConnectError::Cloud { source, .. } => is_settings_problem(source),
            ConnectError::Unsupported(_) => false,
        }
    }
}

/// Whether a cloud error is the operator's to fix in the settings: credentials refused or not
/// usable (a token URL that is not found, a token with no project scope), a configuration the
/// client cannot use (bad URL, CA bundle), or no endpoint for the region and interface.
/// Everything else (down, slow, 5xx) is the cloud's and is worth retrying.
pub fn is_settings_problem(e: &Error) -> bool {
    matches!(
        e,
        Error::Unauthorized(_) | Error::Auth(_) | Error::Config(_) | Error::NoEndpoint { .. }
    )
}

/// Octavia API version that introduced tags, which mark everything we own.
pub const TAGS_SINCE: (u32, u32) = (2, 5);

/// Refuses clouds whose Octavia cannot tag (before API 2.5): without tags we could not find
/// our own load balancers after a crash, nor prove which ones are ours (one unauthenticated
/// call, cached by the session).
async fn require_tags(session: &Session) -> Result<(), ConnectError> {
    let version = session
        .octavia_version()
        .await
        .map_err(|source| ConnectError::Cloud {
            setting: "provider",
            source,
        })?;
    if version.at_least(TAGS_SINCE.0, TAGS_SINCE.1) {
        Ok(())
    } else {
        Err(ConnectError::Unsupported(format!(
            "Octavia API {version} has no tags (they came in v{}.{}); octavia-integrator marks \
             and finds its load balancers by tags, so it needs a newer Octavia",
            TAGS_SINCE.0, TAGS_SINCE.1
        )))
    }
}

/// A resolved subnet.
#[derive(Debug, Clone)]
pub struct SubnetFacts {
    /// Id.
    pub id: String,
    /// Network id.
    pub network_id: String,
    /// CIDR.
    pub cidr: String,
}

/// Resolves a subnet setting (name or id) to its facts (1–2 calls).
///
/// # Errors
/// [`ConnectError`] naming `setting` when it does not resolve.
pub async fn subnet(
    session: &Session,
    setting: &'static str,
    value: &NameOrId,
) -> Result<SubnetFacts, ConnectError> {
    let cloud = |source| ConnectError::Cloud { setting, source };
    if value.looks_like_id() {
        match subnets::get(session, value.as_str()).await {
            Ok(s) => {
                return Ok(SubnetFacts {
                    id: s.id,
                    network_id: s.network_id,
                    cidr: s.cidr,
                })
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(cloud(e)),
        }
    }
    let found = subnets::list(
        session,
        &subnets::ListSubnets {
            name: Some(value.as_str().to_string()),
            ..Default::default()
        },
    )
    .await
    .map_err(cloud)?;
    match found.as_slice() {
        [s] => Ok(SubnetFacts {
            id: s.id.clone(),
            network_id: s.network_id.clone(),
            cidr: s.cidr.clone(),
        }),
        [] => Err(ConnectError::Setting {
            setting,
            value: value.to_string(),
            problem:
                "no such subnet in this project; `openstack subnet list` shows the names and ids"
                    .into(),
        }),
        many => Err(ConnectError::Setting {
            setting,
            value: value.to_string(),
            problem: format!(
                "{} subnets have this name; give the id instead ({})",
                many.len(),
                many.iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Resolves `floating_network` (name or id) to an external network's id (1–2 calls).
///
/// # Errors
/// [`ConnectError`] when it does not resolve or is not external.
pub async fn external_network(session: &Session, value: &NameOrId) -> Result<String, ConnectError> {
    let setting = "floating_network";
    let cloud = |source| ConnectError::Cloud { setting, source };
    let candidates = if value.looks_like_id() {
        match networks::get(session, value.as_str()).await {
            Ok(n) => vec![n],
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(cloud(e)),
        }
    } else {
        Vec::new()
    };
    let candidates = if candidates.is_empty() {
        networks::list(
            session,
            &networks::ListNetworks {
                name: Some(value.as_str().to_string()),
                ..Default::default()
            },
        )
        .await
        .map_err(cloud)?
    } else {
        candidates
    };
    match candidates.as_slice() {
        [n] if n.router_external => Ok(n.id.clone()),
        [n] => Err(ConnectError::Setting {
            setting,
            value: value.to_string(),
            problem: format!(
                "network {} is not external (router:external is false); floating IPs come from an external network — `openstack network list --external`",
                n.id
            ),
        }),
        [] => Err(ConnectError::Setting {
            setting,
            value: value.to_string(),
            problem: "no such network; `openstack network list --external` shows the candidates".into(),
        }),
        many => Err(ConnectError::Setting {
            setting,
            value: value.to_string(),
            problem: format!("{} networks have this name; give the id instead", many.len()),
        }),
    }
}

/// The flavor to create load balancers with (no call): an id, or none (none asked, or the OVN
/// provider, which has no flavors).
///
/// # Errors
/// [`ConnectError::Setting`] when the flavor is given by name (flavors are not looked up).
pub fn flavor_id(lb: &LoadBalancerSettings) -> Result<Option<String>, ConnectError> {
    match (&lb.flavor, ProviderKind::of(Some(lb.provider.as_str()))) {
        (None, _) => Ok(None),
        (Some(f), ProviderKind::Ovn) => {
            tracing::warn!(flavor = %f, "the ovn provider has no flavors; ignoring `[load_balancer] flavor`");
            Ok(None)
        }
        (Some(f), _) if f.looks_like_id() => Ok(Some(f.as_str().to_string())),
        (Some(f), _) => Err(ConnectError::Setting {
            setting: "flavor",
            value: f.to_string(),
            problem: "give the flavor's id (`openstack loadbalancer flavor list`); flavors are not looked up by name".into(),
        }),
    }
}

/// Resolves the site settings against the cloud (2–4 calls).
///
/// # Errors
/// [`ConnectError`] naming the setting that does not resolve.
pub async fn resolve_site(
    session: &Session,
    cluster_id: &str,
    lb: &LoadBalancerSettings,
) -> Result<Site, ConnectError> {
    require_tags(session).await?;
    let vip = subnet(session, "vip_subnet", &lb.vip_subnet).await?;
    let member = if lb.member_subnet == lb.vip_subnet {
        vip.clone()
    } else {
        subnet(session, "member_subnet", &lb.member_subnet).await?
    };
    let floating_network_id = match &lb.floating_network {
        Some(n) => Some(external_network(session, n).await?),
        None => None,
    };
    let kind = ProviderKind::of(Some(lb.provider.as_str()));
    let flavor_id = flavor_id(lb)?;
    let availability_zone = match kind {
        ProviderKind::Ovn => None,
        ProviderKind::Amphora => lb.availability_zone.clone(),
    };
    Ok(Site {
        cluster_id: cluster_id.to_string(),
        vip_subnet_id: vip.id,
        vip_network_id: Some(vip.network_id),
        member_subnet_id: member.id,
        member_network_id: Some(member.network_id),
        member_subnet_cidr: Some(member.cidr),
        floating_network_id,
        provider: Some(lb.provider.clone()),
        flavor_id,
        availability_zone,
        manage_security_groups: lb.manage_security_groups,
        preserves_client_ip: kind == ProviderKind::Ovn,
        closest_health_check: lb.closest_health_check,
    })
}
