//! Neutron security groups and rules: `/v2.0/security-groups`, `/v2.0/security-group-rules`.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::calls;
use crate::error::Error;
use crate::load_balancer::wire::{null_default, segment, wire_enum, with_raw_body};
use crate::pagination::{list as list_pages, page, Query};
use crate::session::{Call, ServiceType, Session};

wire_enum! {
    /// Traffic direction of a rule.
    Direction {
        /// Towards the port.
        Ingress = "ingress",
        /// From the port.
        Egress = "egress",
    }
}

wire_enum! {
    /// Address family of a rule (must match `remote_ip_prefix`).
    EtherType {
        /// IPv4.
        IPv4 = "IPv4",
        /// IPv6.
        IPv6 = "IPv6",
    }
}

/// A security group as Neutron reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SecurityGroup {
    /// Neutron id.
    pub id: String,
    /// Name (not unique: prefer tags).
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Description.
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Stateful (default) or stateless.
    #[serde(default)]
    pub stateful: Option<bool>,
    /// Its rules (including the two default egress rules).
    #[serde(default, deserialize_with = "null_default")]
    pub security_group_rules: Vec<SecurityGroupRule>,
    /// Owning project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Revision.
    #[serde(default)]
    pub revision_number: Option<u64>,
}

/// A security group rule as Neutron reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SecurityGroupRule {
    /// Neutron id.
    pub id: String,
    /// The group it belongs to.
    pub security_group_id: String,
    /// Direction.
    pub direction: Direction,
    /// Address family.
    #[serde(default)]
    pub ethertype: Option<EtherType>,
    /// Protocol name or number; `None` = any.
    #[serde(default)]
    pub protocol: Option<String>,
    /// First port.
    #[serde(default)]
    pub port_range_min: Option<u16>,
    /// Last port.
    #[serde(default)]
    pub port_range_max: Option<u16>,
    /// Source/destination CIDR.
    #[serde(default)]
    pub remote_ip_prefix: Option<String>,
    /// Source/destination group.
    #[serde(default)]
    pub remote_group_id: Option<String>,
    /// Source/destination address group.
    #[serde(default)]
    pub remote_address_group_id: Option<String>,
    /// Description.
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Owning project.
    #[serde(default)]
    pub project_id: Option<String>,
}

/// `POST /v2.0/security-groups` (the name `default` is refused).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateSecurityGroup {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Stateful (server default `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stateful: Option<bool>,
}

/// `POST /v2.0/security-group-rules`. Rules are immutable: change = delete + create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateSecurityGroupRule {
    /// The group (required).
    pub security_group_id: String,
    /// Direction (required).
    pub direction: Direction,
    /// Address family (server default IPv4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethertype: Option<EtherType>,
    /// `tcp`, `udp`, ... (required when a port range is given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// First port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_range_min: Option<u16>,
    /// Last port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_range_max: Option<u16>,
    /// CIDR (exclusive with the remote groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ip_prefix: Option<String>,
    /// Remote group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_group_id: Option<String>,
    /// Remote address group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_address_group_id: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl CreateSecurityGroupRule {
    /// Ingress `protocol` traffic to `port` from `cidr`, with the family taken from the CIDR.
    pub fn ingress(security_group_id: &str, protocol: &str, port: u16, cidr: &str) -> Self {
        let ethertype = if cidr.contains(':') {
            EtherType::IPv6
        } else {
            EtherType::IPv4
        };
        CreateSecurityGroupRule {
            security_group_id: security_group_id.to_string(),
            direction: Direction::Ingress,
            ethertype: Some(ethertype),
            protocol: Some(protocol.to_string()),
            port_range_min: Some(port),
            port_range_max: Some(port),
            remote_ip_prefix: Some(cidr.to_string()),
            remote_group_id: None,
            remote_address_group_id: None,
            description: None,
        }
    }
}

/// Filters for listing security groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSecurityGroups {
    /// Exact name.
    pub name: Option<String>,
    /// Has all these tags (`tags=a,b`).
    pub tags: Vec<String>,
}

impl ListSecurityGroups {
    /// The query parameters, in a stable order.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        Query::default()
            .opt("name", &self.name)
            .joined("tags", &self.tags)
            .pairs()
    }
}

/// Filters for listing security-group rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSecurityGroupRules {
    /// Rules of this group.
    pub security_group_id: Option<String>,
}

impl ListSecurityGroupRules {
    /// The query parameters, in a stable order.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        Query::default()
            .opt("security_group_id", &self.security_group_id)
            .pairs()
    }
}

page!(
    GroupPage,
    SecurityGroup,
    "security_groups",
    "security_groups_links"
);
page!(
    RulePage,
    SecurityGroupRule,
    "security_group_rules",
    "security_group_rules_links"
);

fn groups() -> &'static str {
    "security-groups"
}

fn group(id: &str) -> Result<String, Error> {
    Ok(format!(
        "security-groups/{}",
        segment("security group", id)?
    ))
}

fn rules_path() -> &'static str {
    "security-group-rules"
}

fn rule(id: &str) -> Result<String, Error> {
    Ok(format!(
        "security-group-rules/{}",
        segment("security group rule", id)?
    ))
}

/// `GET /v2.0/security-groups` with filters (every page) → 200.
///
/// # Errors
/// Any page's error.
pub async fn list(
    session: &Session,
    filter: &ListSecurityGroups,
) -> Result<Vec<SecurityGroup>, Error> {
    list_pages::<GroupPage>(session, ServiceType::Network, groups(), filter.query()).await
}

/// `GET /v2.0/security-groups/{id}` → 200 (with its rules).
///
/// # Errors
/// 404 when missing.
pub async fn get(session: &Session, id: &str) -> Result<SecurityGroup, Error> {
    calls::get_one(session, ServiceType::Network, group(id)?, "security_group").await
}

/// `POST /v2.0/security-groups` → 201.
///
/// # Errors
/// 400 for the name `default`; 409 `OverQuota`.
pub async fn create(session: &Session, sg: &CreateSecurityGroup) -> Result<SecurityGroup, Error> {
    calls::post_one(
        session,
        ServiceType::Network,
        groups(),
        &[201],
        "security_group",
        sg,
    )
    .await
}

/// `DELETE /v2.0/security-groups/{id}` → 204.
///
/// # Errors
/// 409 `SecurityGroupInUse` while a port still uses it; 404 when already gone.
pub async fn delete(session: &Session, id: &str) -> Result<(), Error> {
    calls::delete(session, ServiceType::Network, group(id)?).await
}

/// `GET /v2.0/security-group-rules` with filters (every page) → 200.
///
/// # Errors
/// Any page's error.
pub async fn list_rules(
    session: &Session,
    filter: &ListSecurityGroupRules,
) -> Result<Vec<SecurityGroupRule>, Error> {
    list_pages::<RulePage>(session, ServiceType::Network, rules_path(), filter.query()).await
}

/// `POST /v2.0/security-group-rules` → 201.
///
/// # Errors
/// 409 `SecurityGroupRuleExists` for an identical rule (the message names its id; callers
/// treat it as success); 400 for inconsistent fields.
pub async fn create_rule(
    session: &Session,
    r: &CreateSecurityGroupRule,
) -> Result<SecurityGroupRule, Error> {
    calls::post_one(
        session,
        ServiceType::Network,
        rules_path(),
        &[201],
        "security_group_rule",
        r,
    )
    .await
}

#[derive(Serialize)]
struct RulesBody<'a> {
    security_group_rules: &'a [CreateSecurityGroupRule],
}

#[derive(Deserialize)]
struct RulesReply {
    #[serde(default, deserialize_with = "null_default")]
    security_group_rules: Vec<SecurityGroupRule>,
}

/// `POST /v2.0/security-group-rules` with `{"security_group_rules": [...]}` → 201: every rule
/// in one call. Atomic: when one fails, none is created.
///
/// # Errors
/// 409 `SecurityGroupRuleExists` when any rule already exists (nothing is created then: fall
/// back to [`create_rule`] per rule); 409 `DuplicateSecurityGroupRuleInPost` when two rules
/// of the body are the same; 400 as [`create_rule`].
pub async fn create_rules(
    session: &Session,
    rules: &[CreateSecurityGroupRule],
) -> Result<Vec<SecurityGroupRule>, Error> {
    let call = Call::new(ServiceType::Network, Method::POST, rules_path(), &[201]);
    let reply = session
        .send(with_raw_body(
            call,
            "security group rules",
            &RulesBody {
                security_group_rules: rules,
            },
        )?)
        .await?;
    Ok(reply.json::<RulesReply>()?.security_group_rules)
}

/// `DELETE /v2.0/security-group-rules/{id}` → 204.
///
/// # Errors
/// 404 when already gone.
pub async fn delete_rule(session: &Session, id: &str) -> Result<(), Error> {
    calls::delete(session, ServiceType::Network, rule(id)?).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(groups(), "security-groups");
        assert_eq!(group("g").unwrap(), "security-groups/g");
        assert_eq!(rules_path(), "security-group-rules");
        assert_eq!(rule("r").unwrap(), "security-group-rules/r");
    }

    #[test]
    fn ingress_rule_takes_family_from_the_cidr() {
        let v4 = CreateSecurityGroupRule::ingress("g", "tcp", 6443, "10.0.0.0/24");
        assert_eq!(
            serde_json::to_value(&v4).unwrap(),
            json!({"security_group_id": "g", "direction": "ingress", "ethertype": "IPv4",
                   "protocol": "tcp", "port_range_min": 6443, "port_range_max": 6443,
                   "remote_ip_prefix": "10.0.0.0/24"})
        );
        let v6 = CreateSecurityGroupRule::ingress("g", "tcp", 6443, "2001:db8::/64");
        assert_eq!(v6.ethertype, Some(EtherType::IPv6));
    }

    #[test]
    fn create_group_body() {
        let sg = CreateSecurityGroup {
            name: "n".into(),
            description: None,
            stateful: Some(true),
        };
        assert_eq!(
            serde_json::to_value(sg).unwrap(),
            json!({"name": "n", "stateful": true})
        );
    }
}
