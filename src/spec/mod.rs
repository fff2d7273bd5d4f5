//! Pure: a request + the provider's capabilities + the site settings → the desired
//! load-balancer graph, or the precise refusal ([`spec()`]). No I/O.
//!
//! - [`read`]: what each request field means in Octavia's terms ([`Intent`]), every address
//!   and port parsed once, or [`Unsupported`] naming every field we cannot honour.
//! - [`provider`]: what each provider can do ([`ProviderCaps`], [`Provider`]).
//! - [`build`](mod@build): [`Intent`] + [`Site`] → [`DesiredLb`].
//! - [`graph`]: the desired graph ([`DesiredLb`] and its listeners, pools, members, monitors,
//!   floating IP and security group).
//! - [`naming`]: ownership marks — deterministic names, tags and descriptions per request.
//! - [`cidr`]: whether a backend lies in the member subnet.

pub mod build;
pub mod cidr;
pub mod graph;
pub mod naming;
pub mod provider;
pub mod read;

use std::fmt;

pub use build::{build, outside_member_subnet, Site, SpecError};
pub use graph::{
    DesiredFloatingIp, DesiredLb, DesiredListener, DesiredMember, DesiredMonitor, DesiredPool,
    DesiredRule, DesiredSecurityGroup,
};
pub use naming::{
    cluster_tag, request_tag, LbIdentity, Owner, CLUSTER_TAG_PREFIX, MANAGED_TAG,
    REQUEST_TAG_PREFIX,
};
pub use provider::{MonitorKind, Provider, ProviderCaps, ProviderKind};
pub use read::{Intent, ListenerIntent, MonitorIntent, Unsupported, MAX_REQUEST_NAME};

use crate::relation::v1::{Failure, Request, RequestField};

/// Prefix of the tag carrying [`DesiredLb::fingerprint`] on the load balancer: when it matches,
/// only members and the floating IP need to be looked at.
pub const FINGERPRINT_TAG_PREFIX: &str = "oi-spec=";

/// The cloud a request is built for: whose load balancer, on which provider, at which site.
#[derive(Debug, Clone, Copy)]
pub struct Cloud<'a> {
    /// The load balancer's identity (its names and tags derive from it and the site's
    /// cluster id).
    pub key: &'a LbIdentity,
    /// What the provider can do.
    pub provider: &'a Provider,
    /// The site's resolved settings and policy.
    pub site: &'a Site,
}

/// What [`spec()`] gives for a request it does not refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The desired graph.
    pub desired: DesiredLb,
    /// Backends of the member subnet's family outside it (see [`outside_member_subnet`]):
    /// built, and worth a warning.
    pub routed_backends: Vec<String>,
}

/// Why a request is refused: a field no provider (or not this one) can honour, or a graph
/// that cannot be built at this site. Either way the answer is `unsupported`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Fields this provider (or any) cannot honour.
    Unsupported(Unsupported),
    /// The graph cannot be built (no backends, no ports, backends the site cannot reach).
    Graph {
        /// Why.
        error: SpecError,
        /// As [`Spec::routed_backends`]: worth the same warning when the graph is refused.
        routed_backends: Vec<String>,
    },
}

impl Refusal {
    /// Backends of the member subnet's family outside it (see [`Spec::routed_backends`]);
    /// none when the request was not read that far.
    pub fn routed_backends(&self) -> &[String] {
        match self {
            Refusal::Unsupported(_) => &[],
            Refusal::Graph {
                routed_backends, ..
            } => routed_backends,
        }
    }

    /// The answer's failure (its `error` is `unsupported`).
    pub fn failure(&self) -> Failure {
        match self {
            Refusal::Unsupported(u) => u.failure(),
            Refusal::Graph { error: e, .. } => {
                let field = match e {
                    SpecError::NoBackends | SpecError::OtherFamily { .. } => RequestField::Backends,
                    SpecError::NoPorts => RequestField::PortMapping,
                };
                Failure::field(field, e.to_string())
            }
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Unsupported(u) => u.fmt(f),
            Refusal::Graph { error, .. } => error.fmt(f),
        }
    }
}

impl std::error::Error for Refusal {}

/// The one step from a request to its desired graph: reads `request` (every check and clamp
/// once, addresses parsed once) and builds the graph for `cloud`.
///
/// With `cloud` `None` (a hook, which has no cloud and needs only yes or no) every
/// capability check passes and nothing is built: the result is `Ok(None)` unless no provider
/// at all could serve the request. With a cloud it is `Ok(Some(_))` or the precise refusal.
///
/// # Errors
/// [`Refusal`] naming what cannot be honoured.
pub fn spec(request: &Request, cloud: Option<Cloud<'_>>) -> Result<Option<Spec>, Refusal> {
    let closest = cloud.is_some_and(|c| c.site.closest_health_check);
    let intent =
        read::read(request, cloud.map(|c| c.provider), closest).map_err(Refusal::Unsupported)?;
    let Some(cloud) = cloud else {
        return Ok(None);
    };
    let owner = Owner::new(cloud.site.cluster_id.clone(), cloud.key.clone());
    let routed_backends = outside_member_subnet(&intent, cloud.site);
    match build(&owner, &intent, cloud.site) {
        Ok(desired) => Ok(Some(Spec {
            desired,
            routed_backends,
        })),
        Err(error) => Err(Refusal::Graph {
            error,
            routed_backends,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relation::v1::{ErrorKind, HealthCheck, Protocol, Response};

    fn site() -> Site {
        Site {
            cluster_id: "demo".into(),
            vip_subnet_id: "vip-subnet".into(),
            vip_network_id: None,
            member_subnet_id: "member-subnet".into(),
            member_network_id: None,
            member_subnet_cidr: Some("10.5.0.0/24".into()),
            floating_network_id: Some("ext-net".into()),
            provider: Some("ovn".into()),
            flavor_id: None,
            availability_zone: None,
            manage_security_groups: false,
            preserves_client_ip: true,
            closest_health_check: false,
        }
    }

    fn request() -> Request {
        let mut r = Request::new("id", "api", Protocol::Tcp, [(443, 6443)].into());
        let mut hc = HealthCheck::new(Protocol::Http, 6443);
        hc.path = Some("/livez".into());
        r.health_checks.push(hc);
        r.backends = vec!["10.5.0.10".into(), "10.9.0.1".into()];
        r.sealed()
    }

    #[test]
    fn a_hook_refuses_only_what_no_provider_can_serve_and_the_cloud_the_rest() {
        let key = LbIdentity::new("k8s", "api");
        let provider = Provider::of(Some("ovn"), "ROUND_ROBIN");
        let mut site = site();
        let cloud = |site: &Site| -> Result<Option<Spec>, Refusal> {
            let cloud = Cloud {
                key: &key,
                provider: &provider,
                site,
            };
            spec(&request(), Some(cloud))
        };
        // No cloud: nothing this request asks is impossible everywhere.
        assert_eq!(spec(&request(), None), Ok(None));
        // OVN cannot run the HTTP check…
        let refused = cloud(&site).unwrap_err();
        assert!(
            refused.to_string().contains("http health checks"),
            "{refused}"
        );
        // …unless the site's policy takes the closest check.
        site.closest_health_check = true;
        let built = cloud(&site).unwrap().unwrap();
        let monitor = built.desired.listeners[0].pool.monitor.clone().unwrap();
        assert_eq!(
            monitor.kind,
            openstack::load_balancer::enums::MonitorType::Tcp
        );
        assert_eq!(built.routed_backends, ["10.9.0.1"]);
        assert_eq!(built.desired.owner.key(), &key);
        // Refused for a backend of the other family, the routed one is still named.
        let mut other = request();
        other.backends.push("fd00::1".into());
        let cloud = Cloud {
            key: &key,
            provider: &provider,
            site: &site,
        };
        let refused = spec(&other, Some(cloud)).unwrap_err();
        assert!(matches!(
            &refused,
            Refusal::Graph {
                error: SpecError::OtherFamily { .. },
                ..
            }
        ));
        assert_eq!(refused.routed_backends(), ["10.9.0.1"]);
    }

    #[test]
    fn no_backends_is_refused_naming_backends_before_any_cloud_call() {
        let key = LbIdentity::new("k8s", "api");
        let provider = Provider::of(Some("amphora"), "ROUND_ROBIN");
        let site = site();
        let mut r = request();
        r.backends.clear();
        // A hook lets it through: the units' addresses may fill it later.
        assert_eq!(spec(&r, None), Ok(None));
        let cloud = Cloud {
            key: &key,
            provider: &provider,
            site: &site,
        };
        let refused = spec(&r, Some(cloud)).unwrap_err();
        assert_eq!(
            refused,
            Refusal::Graph {
                error: SpecError::NoBackends,
                routed_backends: Vec::new()
            }
        );
        let failure = refused.failure();
        let text = failure.to_string();
        assert!(text.contains("backends"), "{text}");
        assert!(!text.contains("credentials"), "{text}");
        let answer = Response::unsupported(&r, failure);
        assert_eq!(answer.error(), Some(ErrorKind::Unsupported));
        assert!(answer.error_fields().contains_key("backends"));
    }
}
