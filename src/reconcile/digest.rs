//! The member digest tag on a pool: `oi-members=<ids>.<members>`, two 16-hex-digit hashes (44
//! characters of `[a-z0-9.=-]`, within the tag rules of `spec::naming`), written after a
//! reconcile that changed something, once the load balancer is ACTIVE and the answer is given
//! ([`Reconciler::after_answer`]).
//!
//! Octavia has no bulk member list: a pool list shows each pool's tags and member ids, never
//! the members' addresses. A member's `address` and `protocol_port` are immutable (a member
//! PUT refuses them), so a member id always means the same address and port. When the
//! digest's id hash equals the hash of the ids a pool list shows now, the members are those the
//! digest describes, and its member hash (addresses, ports and names, as the planner compares
//! members) can be compared with the desired members' hash without reading a status tree. A
//! member added or removed out of band changes the ids, so the digest no longer vouches and the
//! load balancer is read as before. A member renamed in place keeps its id: like the members
//! remembered in the store, the digest trusts names not to be edited by hand.
//!
//! Cost: one status tree plus one pool PUT per pool after each reconcile that changed
//! something, never before its answer. Octavia takes a tags-only pool PUT as any update (the
//! pool and its load balancer go `PENDING_UPDATE` for about half a second on the real
//! harness), so a change sent right after meets a 409 "immutable", which the executor absorbs
//! by waiting for ACTIVE.

use std::collections::{BTreeSet, HashMap};

use md5::{Digest, Md5};
use openstack::load_balancer::enums::ProvisioningStatus;
use openstack::load_balancer::pools::{self, UpdatePool};

use super::cloud;
use super::observed::{Observed, ObservedMember};
use super::outcome::Outcome;
use super::Reconciler;
use crate::relation::v1::Request;
use crate::spec::{DesiredMember, LbIdentity, Owner};

/// What every member digest tag starts with.
pub const MEMBERS_TAG_PREFIX: &str = "oi-members=";

/// A pool's member digest, as its tag carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDigest {
    /// Hash of the sorted member ids.
    pub ids: String,
    /// Hash of the sorted (address, port, name) of the members.
    pub members: String,
}

impl MemberDigest {
    /// The digest of members as observed (ids and members from one status tree).
    pub fn of(ids: &BTreeSet<String>, members: &[ObservedMember]) -> MemberDigest {
        MemberDigest {
            ids: ids_hash(ids),
            members: members_hash(
                members
                    .iter()
                    .map(|m| (m.address.as_str(), m.port, m.name.as_str())),
            ),
        }
    }

    /// The tag text.
    pub fn tag(&self) -> String {
        format!("{MEMBERS_TAG_PREFIX}{}.{}", self.ids, self.members)
    }

    /// The digest among a pool's tags (`None`: none, or one that does not read).
    pub fn from_tags(tags: &[String]) -> Option<MemberDigest> {
        let text = tags
            .iter()
            .find_map(|t| t.strip_prefix(MEMBERS_TAG_PREFIX))?;
        let (ids, members) = text.split_once('.')?;
        let hex = |s: &str| s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit());
        (hex(ids) && hex(members)).then(|| MemberDigest {
            ids: ids.to_string(),
            members: members.to_string(),
        })
    }
}

/// The first 8 bytes of an MD5 over length-prefixed parts, in hex (as the fingerprint tag).
fn hash<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Md5::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Hash of a set of member ids (a `BTreeSet` iterates sorted).
pub fn ids_hash(ids: &BTreeSet<String>) -> String {
    hash(ids.iter().map(String::as_str))
}

/// Hash of members as (address, port, name), in any order.
pub fn members_hash<'a>(members: impl Iterator<Item = (&'a str, u16, &'a str)>) -> String {
    let mut rows: Vec<String> = members
        .map(|(address, port, name)| format!("{address}|{port}|{name}"))
        .collect();
    rows.sort();
    hash(rows.iter().map(String::as_str))
}

/// Hash of desired members (compares with [`MemberDigest::members`]).
pub fn desired_hash(members: &[DesiredMember]) -> String {
    members_hash(
        members
            .iter()
            .map(|m| (m.address.as_str(), m.port, m.name.as_str())),
    )
}

/// The members a matching digest stands for: the desired ones, as the planner reads members
/// (ACTIVE; the operating status is the load balancer's, which the bulk view only vouches for
/// when it is healthy).
pub fn members_of_desired(members: &[DesiredMember], operating: &str) -> Vec<ObservedMember> {
    members
        .iter()
        .map(|m| ObservedMember {
            address: m.address.clone(),
            port: m.port,
            name: m.name.clone(),
            provisioning: ProvisioningStatus::Active,
            operating: operating.to_string(),
        })
        .collect()
}

impl Reconciler {
    /// After a reconcile's answer is given: when it changed something and ended ready, reads
    /// the load balancer's status tree (one call), remembers its members, and writes each
    /// pool's member digest tag (one pool PUT per pool whose members are all ACTIVE), with the
    /// pool's own tags. Best effort: a failure is logged and only costs a read later (the
    /// digest is then missing or stale, and a new leader reads that load balancer).
    pub async fn after_answer(&self, key: &LbIdentity, request: &Request, outcome: &Outcome) {
        let Outcome::Ready(ready) = outcome else {
            return;
        };
        if ready.actions.is_empty() {
            return;
        }
        let _guard = self.locks.acquire(key).await;
        let owner = Owner::new(self.site.cluster_id.clone(), key.clone());
        let Ok(desired) = self.desired(&owner, request) else {
            return;
        };
        let lb_id = ready.load_balancer_id.as_str();
        let (tree, member_ids) = match cloud::tree_with_member_ids(&self.session, lb_id).await {
            Ok(read) => read,
            Err(e) => {
                tracing::info!(lb = lb_id, error = %e, "member digest not written: the status tree did not read");
                return;
            }
        };
        let mut written = HashMap::new();
        for pool in &tree.pools {
            let Some(want) = desired
                .listeners
                .iter()
                .map(|l| &l.pool)
                .find(|p| p.name == pool.name)
            else {
                continue;
            };
            let Some(ids) = member_ids.get(&pool.id) else {
                continue;
            };
            let settled = ids.len() == pool.members.len()
                && pool
                    .members
                    .iter()
                    .all(|m| m.provisioning == ProvisioningStatus::Active);
            if !settled {
                continue;
            }
            let digest = MemberDigest::of(ids, &pool.members);
            let mut tags = want.tags.clone();
            tags.push(digest.tag());
            let update = UpdatePool {
                tags: Some(tags),
                ..Default::default()
            };
            match pools::update(&self.session, &pool.id, &update).await {
                Ok(_) => {
                    written.insert(pool.id.clone(), ids.clone());
                }
                Err(e) => {
                    tracing::info!(lb = lb_id, pool = %pool.id, error = %e, "member digest not written");
                }
            }
        }
        tracing::debug!(lb = lb_id, pools = written.len(), "member digests written");
        // The members just read are those of the answer: the next bulk check needs no read.
        let observed = Observed {
            tree: Some(tree),
            ..Default::default()
        };
        self.remember_members(key, &observed, &member_ids);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(address: &str, port: u16, name: &str) -> ObservedMember {
        ObservedMember {
            address: address.into(),
            port,
            name: name.into(),
            provisioning: ProvisioningStatus::Active,
            operating: "ONLINE".into(),
        }
    }

    fn desired(address: &str, port: u16, name: &str) -> DesiredMember {
        DesiredMember {
            address: address.into(),
            port,
            name: name.into(),
            subnet_id: None,
            monitor_port: None,
        }
    }

    #[test]
    fn the_tag_reads_back_and_rejects_what_is_not_a_digest() {
        let ids = BTreeSet::from(["b".to_string(), "a".to_string()]);
        let d = MemberDigest::of(&ids, &[member("10.0.0.1", 6443, "m1")]);
        let tag = d.tag();
        assert!(
            tag.starts_with(MEMBERS_TAG_PREFIX) && tag.len() <= 60,
            "{tag}"
        );
        let tags = vec!["octavia-integrator".to_string(), tag];
        assert_eq!(MemberDigest::from_tags(&tags), Some(d));
        for bad in [
            "oi-members=",
            "oi-members=abc.def",
            "oi-members=0123456789abcdef",
        ] {
            assert_eq!(MemberDigest::from_tags(&[bad.to_string()]), None, "{bad}");
        }
        assert_eq!(MemberDigest::from_tags(&[]), None);
    }

    #[test]
    fn order_does_not_matter_but_every_field_does() {
        let a = [
            member("10.0.0.1", 6443, "m1"),
            member("10.0.0.2", 6443, "m2"),
        ];
        let b = [
            member("10.0.0.2", 6443, "m2"),
            member("10.0.0.1", 6443, "m1"),
        ];
        let ids = BTreeSet::from(["x".to_string()]);
        assert_eq!(MemberDigest::of(&ids, &a), MemberDigest::of(&ids, &b));
        assert_eq!(
            MemberDigest::of(&ids, &a).members,
            desired_hash(&[
                desired("10.0.0.2", 6443, "m2"),
                desired("10.0.0.1", 6443, "m1")
            ])
        );
        for other in [
            [
                member("10.0.0.1", 6443, "m1"),
                member("10.0.0.3", 6443, "m2"),
            ],
            [
                member("10.0.0.1", 6443, "m1"),
                member("10.0.0.2", 6444, "m2"),
            ],
            [
                member("10.0.0.1", 6443, "m1"),
                member("10.0.0.2", 6443, "mX"),
            ],
        ] {
            assert_ne!(MemberDigest::of(&ids, &a), MemberDigest::of(&ids, &other));
        }
        let more = BTreeSet::from(["x".to_string(), "y".to_string()]);
        assert_ne!(ids_hash(&ids), ids_hash(&more));
        // Length prefixes: ("ab", "c") and ("a", "bc") differ.
        let split1 = BTreeSet::from(["ab".to_string(), "c".to_string()]);
        let split2 = BTreeSet::from(["a".to_string(), "bc".to_string()]);
        assert_ne!(ids_hash(&split1), ids_hash(&split2));
    }

    #[test]
    fn a_matching_digest_stands_for_the_desired_members() {
        let want = [desired("10.0.0.1", 6443, "m1")];
        let members = members_of_desired(&want, "ONLINE");
        assert_eq!(members, vec![member("10.0.0.1", 6443, "m1")]);
        assert!(!super::super::plan::members_differ(&want, &members));
    }
}
