//! Pure: request meaning + site settings → the desired load-balancer graph. No I/O.
//!
//! - [`naming`]: ownership marks — deterministic names, tags and descriptions per request.
//! - [`graph`]: the desired graph ([`DesiredLb`] and its listeners, pools, members, monitors,
//!   floating IP and security group).
//! - [`build`](mod@build): [`Intent`] + [`Site`] → [`DesiredLb`].
//! - [`cidr`]: whether a backend lies in the member subnet.
//! - [`terms`]: the relation's [`crate::relation::meaning::LbIntent`] → [`Intent`], and what
//!   each provider can do.

pub mod build;
pub mod cidr;
pub mod graph;
pub mod naming;
pub mod terms;

pub use build::{build, Intent, ListenerIntent, MonitorIntent, Site, SpecError};
pub use graph::{
    DesiredFloatingIp, DesiredLb, DesiredListener, DesiredMember, DesiredMonitor, DesiredPool,
    DesiredRule, DesiredSecurityGroup,
};
pub use naming::{
    cluster_tag, request_tag, Owner, RequestKey, CLUSTER_TAG_PREFIX, MANAGED_TAG,
    REQUEST_TAG_PREFIX,
};

/// Prefix of the tag carrying [`DesiredLb::fingerprint`] on the load balancer: when it matches,
/// only members and the floating IP need to be looked at.
pub const FINGERPRINT_TAG_PREFIX: &str = "oi-spec=";
