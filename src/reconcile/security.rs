//! Our security group on the backends' ports: the pure plan ([`plan_security_group`]) and its
//! execution. Only groups carrying the request's tags are ever changed or deleted; a port's
//! other groups are kept as they are.

use openstack::network::ports;
use openstack::network::security_groups::{self, CreateSecurityGroup, CreateSecurityGroupRule};
use openstack::network::tags::{self, TaggedResource};
use openstack::{Error, Session};

use super::locks::PortLocks;
use super::observed::{ObservedSg, PortView};
use crate::spec::{DesiredRule, DesiredSecurityGroup};

/// What to change about our security group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SgPlan {
    /// The group to keep (`None`: create one).
    pub group: Option<String>,
    /// The kept group lacks our tags (its create was cut short): tag it.
    pub tag_group: Option<String>,
    /// Extra groups of ours to delete (a crash left a duplicate).
    pub delete_groups: Vec<String>,
    /// Rules to add.
    pub add_rules: Vec<DesiredRule>,
    /// Rules (ids) to delete.
    pub delete_rules: Vec<String>,
    /// Member ports that need the group added, as observed (the write is conditioned on the
    /// observed revision, and re-reads the port if it changed since).
    pub attach: Vec<PortView>,
    /// Ports that carry the group but are no longer members, as observed.
    pub detach: Vec<PortView>,
}

impl SgPlan {
    /// Whether nothing needs changing.
    pub fn is_empty(&self) -> bool {
        self.group.is_some()
            && self.tag_group.is_none()
            && self.delete_groups.is_empty()
            && self.add_rules.is_empty()
            && self.delete_rules.is_empty()
            && self.attach.is_empty()
            && self.detach.is_empty()
    }
}

/// Plans our group: keep the first one found, create one if none, make its ingress rules
/// exactly the desired ones, put it on every member port (port security on) and take it off
/// ports that are no longer members. Pure.
pub fn plan_security_group(
    want: &DesiredSecurityGroup,
    groups: &[ObservedSg],
    ports: &[PortView],
) -> SgPlan {
    let mut plan = SgPlan::default();
    let keep = groups.first();
    plan.group = keep.map(|g| g.id.clone());
    plan.tag_group = keep.filter(|g| !g.tagged).map(|g| g.id.clone());
    plan.delete_groups = groups.iter().skip(1).map(|g| g.id.clone()).collect();
    let have: Vec<&DesiredRule> = keep
        .map(|g| g.rules.iter().map(|r| &r.rule).collect())
        .unwrap_or_default();
    plan.add_rules = want
        .rules
        .iter()
        .filter(|r| !have.contains(r))
        .cloned()
        .collect();
    if let Some(g) = keep {
        plan.delete_rules = g
            .rules
            .iter()
            .filter(|r| !want.rules.contains(&r.rule))
            .map(|r| r.id.clone())
            .collect();
    }
    let ours: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    for p in ports {
        let member = p
            .addresses
            .iter()
            .any(|a| want.member_addresses.contains(a));
        let carries_keep = keep.is_some_and(|g| p.security_groups.contains(&g.id));
        let carries_any = p.security_groups.iter().any(|g| ours.contains(&g.as_str()));
        if member && p.port_security && !carries_keep {
            plan.attach.push(p.clone());
        } else if !member && carries_any {
            plan.detach.push(p.clone());
        } else if member && carries_any && !plan.delete_groups.is_empty() {
            // Drop a duplicate group from the port before deleting it.
            let stale = p
                .security_groups
                .iter()
                .any(|g| plan.delete_groups.contains(g));
            if stale {
                plan.attach.push(p.clone());
            }
        }
    }
    plan
}

/// Backends that no observed port (with port security on) carries: our group cannot open them,
/// so their traffic depends on whatever groups they have. Pure.
pub fn backends_without_port(want: &DesiredSecurityGroup, ports: &[PortView]) -> Vec<String> {
    want.member_addresses
        .iter()
        .filter(|a| {
            !ports
                .iter()
                .any(|p| p.port_security && p.addresses.contains(a))
        })
        .cloned()
        .collect()
}

/// Carries out a plan; returns what was done. Ports are changed through
/// [`edit_port_groups`]: the plan's copy of a port is the starting point of a write
/// conditioned on its revision, never written blindly.
///
/// # Errors
/// The first Neutron error (a rule that already exists counts as done).
pub async fn apply_security_group(
    session: &Session,
    locks: &PortLocks,
    want: &DesiredSecurityGroup,
    plan: &SgPlan,
) -> Result<Vec<String>, Error> {
    let mut done = Vec::new();
    if let Some(id) = &plan.tag_group {
        tags::replace(session, TaggedResource::SecurityGroup, id, &want.tags).await?;
        done.push(format!("tagged security group {id}"));
    }
    let group = match &plan.group {
        Some(id) => id.clone(),
        None => {
            let created = security_groups::create(
                session,
                &CreateSecurityGroup {
                    name: want.name.clone(),
                    description: Some(want.description.clone()),
                    stateful: None,
                },
            )
            .await?;
            tags::replace(
                session,
                TaggedResource::SecurityGroup,
                &created.id,
                &want.tags,
            )
            .await?;
            done.push(format!("created security group {}", created.id));
            created.id
        }
    };
    let bodies: Vec<CreateSecurityGroupRule> = plan
        .add_rules
        .iter()
        .map(|r| {
            let mut body =
                CreateSecurityGroupRule::ingress(&group, &r.protocol, r.port, &r.remote_ip_prefix);
            body.description = Some(format!(
                "{} to {} port {}",
                r.remote_ip_prefix, r.protocol, r.port
            ));
            body
        })
        .collect();
    let opened = |r: &DesiredRule| {
        format!(
            "opened {} port {} from {}",
            r.protocol, r.port, r.remote_ip_prefix
        )
    };
    if !bodies.is_empty() {
        // One call for every rule. Neutron's bulk create is atomic: when one rule already
        // exists (a create cut short), nothing was created, so fall back to one call per
        // rule, where an existing rule counts as done.
        match security_groups::create_rules(session, &bodies).await {
            Ok(_) => done.extend(plan.add_rules.iter().map(opened)),
            Err(e) if e.is_conflict() => {
                for (r, body) in plan.add_rules.iter().zip(&bodies) {
                    match security_groups::create_rule(session, body).await {
                        Ok(_) => done.push(opened(r)),
                        Err(e) if e.is_conflict() => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    for id in &plan.delete_rules {
        match security_groups::delete_rule(session, id).await {
            Err(e) if !e.is_not_found() => return Err(e),
            _ => done.push(format!("deleted security group rule {id}")),
        }
    }
    let stale = |g: &String| plan.delete_groups.contains(g);
    for port in &plan.attach {
        let changed = edit_port_groups(session, locks, &port.id, Some(port), |groups| {
            groups.retain(|g| !stale(g));
            if !groups.contains(&group) {
                groups.push(group.clone());
            }
        })
        .await?;
        if changed {
            done.push(format!("put security group {group} on port {}", port.id));
        }
    }
    for port in &plan.detach {
        let changed = edit_port_groups(session, locks, &port.id, Some(port), |groups| {
            groups.retain(|g| *g != group && !stale(g));
        })
        .await?;
        if changed {
            done.push(format!("took security group {group} off port {}", port.id));
        }
    }
    for id in &plan.delete_groups {
        match security_groups::delete(session, id).await {
            Err(e) if !e.is_not_found() => return Err(e),
            _ => done.push(format!("deleted duplicate security group {id}")),
        }
    }
    Ok(done)
}

/// How often a port write that lost a race (412) is read and tried again.
const PORT_WRITE_ATTEMPTS: usize = 5;

/// Changes one port's security groups without losing anyone else's change, in this process
/// or any other: the write carries `If-Match: revision_number=N` of the state `edit` was
/// applied to, so Neutron refuses it (412) if anyone changed the port since; then the port is
/// read again and `edit` applied to what it holds now. `seen` is the port as a list just gave
/// it: when it carries its revision, the first write needs no read. Writes only if the list
/// changes; returns whether it wrote. A port that is gone needs nothing (`Ok(false)`).
///
/// `edit` must only add or remove groups of the caller's own request: the rest of the list is
/// written back exactly as Neutron has it.
///
/// # Errors
/// The Neutron error of a read or a write; a 412 after [`PORT_WRITE_ATTEMPTS`] tries.
pub async fn edit_port_groups(
    session: &Session,
    locks: &PortLocks,
    port: &str,
    seen: Option<&PortView>,
    edit: impl Fn(&mut Vec<String>),
) -> Result<bool, Error> {
    let _held = locks.lock(port).await;
    let mut state = seen
        .filter(|p| p.revision.is_some())
        .map(|p| (p.security_groups.clone(), p.revision));
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (now, revision) = match state.take() {
            Some(known) => known,
            None => match ports::get(session, port).await {
                Ok(p) => (p.security_groups, p.revision_number),
                Err(e) if e.is_not_found() => return Ok(false),
                Err(e) => return Err(e),
            },
        };
        let mut groups = now.clone();
        edit(&mut groups);
        if groups == now {
            return Ok(false);
        }
        let update = ports::UpdatePort {
            security_groups: Some(groups),
            ..Default::default()
        };
        let written = match revision {
            Some(n) => ports::update_at_revision(session, port, n, &update).await,
            // A cloud without revisions: the read just made is the best we can do.
            None => ports::update(session, port, &update).await,
        };
        match written {
            Ok(_) => return Ok(true),
            Err(e) if e.is_not_found() => return Ok(false),
            Err(e) if e.is_stale_revision() && attempt < PORT_WRITE_ATTEMPTS => {
                tracing::debug!(port, revision = ?revision, "port changed since it was read; reading it again");
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::observed::ObservedRule;

    fn want() -> DesiredSecurityGroup {
        DesiredSecurityGroup {
            name: "sg".into(),
            description: "d".into(),
            tags: vec!["t".into()],
            rules: vec![DesiredRule {
                protocol: "tcp".into(),
                port: 6443,
                remote_ip_prefix: "10.5.0.0/24".into(),
                ethertype: "IPv4".into(),
            }],
            member_addresses: vec!["10.5.0.10".into(), "10.5.0.11".into()],
            member_subnet_id: "s".into(),
            member_network_id: Some("n".into()),
        }
    }

    fn port(id: &str, ip: &str, groups: &[&str]) -> PortView {
        PortView {
            id: id.into(),
            addresses: vec![ip.into()],
            security_groups: groups.iter().map(|g| g.to_string()).collect(),
            port_security: true,
            revision: Some(1),
        }
    }

    #[test]
    fn backends_with_no_port_are_named() {
        let mut off = port("p2", "10.5.0.11", &[]);
        off.port_security = false;
        let ports = [port("p1", "10.5.0.10", &[]), off];
        assert_eq!(backends_without_port(&want(), &ports), ["10.5.0.11"]);
        assert_eq!(
            backends_without_port(&want(), &[]),
            ["10.5.0.10", "10.5.0.11"]
        );
    }

    #[test]
    fn nothing_there_creates_the_group_rules_and_attachments() {
        let ports = [
            port("p1", "10.5.0.10", &["default"]),
            port("p2", "10.5.0.11", &["default"]),
            port("p3", "10.5.0.99", &["default"]),
        ];
        let plan = plan_security_group(&want(), &[], &ports);
        assert_eq!(plan.group, None);
        assert_eq!(plan.add_rules.len(), 1);
        assert_eq!(plan.attach.len(), 2, "only member ports");
        assert!(plan.detach.is_empty());
        assert!(!plan.is_empty());
    }

    #[test]
    fn in_place_is_empty_and_a_gone_member_is_detached() {
        let g = ObservedSg {
            id: "ours".into(),
            tagged: true,
            rules: vec![ObservedRule {
                id: "r1".into(),
                rule: want().rules[0].clone(),
            }],
        };
        let ports = [
            port("p1", "10.5.0.10", &["default", "ours"]),
            port("p2", "10.5.0.11", &["default", "ours"]),
        ];
        assert!(plan_security_group(&want(), std::slice::from_ref(&g), &ports).is_empty());
        let mut fewer = want();
        fewer.member_addresses.pop();
        fewer.rules[0].port = 443;
        let plan = plan_security_group(&fewer, &[g], &ports);
        assert_eq!(plan.detach, vec![ports[1].clone()]);
        assert_eq!(plan.delete_rules, vec!["r1".to_string()]);
        assert_eq!(plan.add_rules[0].port, 443);
    }

    #[test]
    fn ports_without_port_security_are_left_alone() {
        let mut p = port("p1", "10.5.0.10", &[]);
        p.port_security = false;
        let plan = plan_security_group(&want(), &[], &[p]);
        assert!(plan.attach.is_empty());
    }
}
