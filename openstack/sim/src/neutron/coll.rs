//! The Neutron collections the simulator serves, and what each one's name, key, fields,
//! table and "not found" answer are.

use super::{floatingips, net, ports, security_groups};
use crate::http::{neutron_err, ApiError};
use crate::state::{Obj, Table, World};

/// A Neutron collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coll {
    Networks,
    Subnets,
    Ports,
    FloatingIps,
    SecurityGroups,
    Rules,
}

impl Coll {
    pub(crate) fn from_path(s: &str) -> Option<Coll> {
        Some(match s {
            "networks" => Coll::Networks,
            "subnets" => Coll::Subnets,
            "ports" => Coll::Ports,
            "floatingips" => Coll::FloatingIps,
            "security-groups" => Coll::SecurityGroups,
            "security-group-rules" => Coll::Rules,
            _ => return None,
        })
    }

    /// Collection key in bodies.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Coll::Networks => "networks",
            Coll::Subnets => "subnets",
            Coll::Ports => "ports",
            Coll::FloatingIps => "floatingips",
            Coll::SecurityGroups => "security_groups",
            Coll::Rules => "security_group_rules",
        }
    }

    pub(crate) fn singular(self) -> &'static str {
        match self {
            Coll::Networks => "network",
            Coll::Subnets => "subnet",
            Coll::Ports => "port",
            Coll::FloatingIps => "floatingip",
            Coll::SecurityGroups => "security_group",
            Coll::Rules => "security_group_rule",
        }
    }

    pub(crate) fn fields(self) -> &'static [&'static str] {
        match self {
            Coll::Networks => net::NETWORK_FIELDS,
            Coll::Subnets => net::SUBNET_FIELDS,
            Coll::Ports => ports::PORT_FIELDS,
            Coll::FloatingIps => floatingips::FIP_FIELDS,
            Coll::SecurityGroups => security_groups::SG_FIELDS,
            Coll::Rules => security_groups::RULE_FIELDS,
        }
    }

    pub(crate) fn not_found(self, id: &str) -> ApiError {
        match self {
            Coll::Networks => neutron_err(
                404,
                "NetworkNotFound",
                format!("Network {id} could not be found."),
            ),
            Coll::Subnets => neutron_err(
                404,
                "SubnetNotFound",
                format!("Subnet {id} could not be found."),
            ),
            Coll::Ports => neutron_err(
                404,
                "PortNotFound",
                format!("Port {id} could not be found."),
            ),
            Coll::FloatingIps => neutron_err(
                404,
                "FloatingIPNotFound",
                format!("Floating IP {id} could not be found"),
            ),
            Coll::SecurityGroups => neutron_err(
                404,
                "SecurityGroupNotFound",
                format!("Security group {id} does not exist"),
            ),
            Coll::Rules => neutron_err(
                404,
                "SecurityGroupRuleNotFound",
                format!("Security group rule {id} does not exist"),
            ),
        }
    }

    pub(crate) fn table(self, w: &World) -> &Table {
        match self {
            Coll::Networks => &w.networks,
            Coll::Subnets => &w.subnets,
            Coll::Ports => &w.ports,
            Coll::FloatingIps => &w.floatingips,
            Coll::SecurityGroups => &w.security_groups,
            Coll::Rules => &w.security_group_rules,
        }
    }

    pub(crate) fn table_mut(self, w: &mut World) -> &mut Table {
        match self {
            Coll::Networks => &mut w.networks,
            Coll::Subnets => &mut w.subnets,
            Coll::Ports => &mut w.ports,
            Coll::FloatingIps => &mut w.floatingips,
            Coll::SecurityGroups => &mut w.security_groups,
            Coll::Rules => &mut w.security_group_rules,
        }
    }

    /// Every object, rendered.
    pub(crate) fn render_all(self, w: &World) -> Vec<Obj> {
        self.table(w).iter().map(|o| render(w, self, o)).collect()
    }
}

pub(crate) fn render(w: &World, coll: Coll, o: &Obj) -> Obj {
    match coll {
        Coll::SecurityGroups => w.render_sg(o),
        Coll::Rules => security_groups::render_rule(o),
        _ => o.clone(),
    }
}

/// The collection a path names, or Neutron's 404 for an unknown resource.
pub(crate) fn coll_of(name: &str) -> Result<Coll, ApiError> {
    Coll::from_path(name).ok_or_else(|| {
        neutron_err(
            404,
            "HTTPNotFound",
            format!("The resource could not be found: {name}"),
        )
    })
}
