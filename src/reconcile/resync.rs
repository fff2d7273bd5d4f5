//! Checking many requests at once (the daemon's periodic resync): one [`ClusterView`] for the
//! whole cluster, each request compared with its desired graph by the pure planner, and only
//! the requests that differ sent down the per-request path ([`Reconciler::apply_deep`]).
//!
//! Members: a pool list shows member ids only. The member set (ids and addresses) seen at the
//! last full check of a pool is remembered (by a bulk check, or by a per-request apply that
//! found nothing to change); while the listed ids equal the remembered ones the members need
//! no call. Otherwise the pool's member digest tag ([`super::digest`], written after every
//! reconcile that changed something) may vouch for them: when its id hash is that of the listed
//! ids, its member hash says whether the members are the desired ones (then they are
//! remembered) or not (then the request takes the per-request path), again with no call. Only
//! without either (a new leader over an old deployment, a member added or removed out of band)
//! one status-tree read fetches them, and they are remembered once they are as desired. A
//! remembered set that no longer matches the request is read afresh before the request is
//! declared different.

use std::collections::{BTreeSet, HashMap};

use futures::StreamExt;
use openstack::Error;

use super::bulk::{ClusterView, GroupsWanted, RequestView};
use super::cloud;
use super::digest::{self, MemberDigest};
use super::flow::{current_fip, ready_with};
use super::observed::{Observed, ObservedLb, ObservedMember, TreePool};
use super::outcome::Ready;
use super::plan::plan;
use super::security::plan_security_group;
use super::Reconciler;
use crate::relation::v1::Request;
use crate::spec::{cluster_tag, DesiredLb, LbIdentity, Owner, MANAGED_TAG};

/// A pool's members as last seen complete and as desired.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct PoolMembers {
    ids: BTreeSet<String>,
    members: Vec<ObservedMember>,
}

/// Remembered members per request, per pool id.
pub(super) type MemberMemory = HashMap<LbIdentity, HashMap<String, PoolMembers>>;

/// What is persisted of a reconciler's learning (see [`Reconciler::learned`]).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Learned {
    #[serde(default)]
    paces: std::collections::BTreeMap<String, Vec<u64>>,
    #[serde(default)]
    members: std::collections::BTreeMap<String, HashMap<String, PoolMembers>>,
}

/// What the bulk check concluded for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// As desired: the answer, with no action taken and no further call needed.
    Unchanged(Ready),
    /// Needs the per-request path (why, for the logs).
    Apply(String),
}

/// The result of [`Reconciler::check_many`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkCheck {
    /// One verdict per request, in the order given.
    pub verdicts: Vec<Verdict>,
    /// The provisioning status of each request's load balancer found (for the status gauge).
    pub statuses: Vec<String>,
}

impl Reconciler {
    /// Checks every request against one listing of the cluster (one tag-filtered, paginated
    /// list per kind) and the remembered members; reads a status tree only for pools whose
    /// members are not remembered. Never changes anything: requests that differ (or cannot be
    /// vouched for: not ACTIVE/ONLINE, missing, ambiguous, refused) get [`Verdict::Apply`], and
    /// the caller runs [`Reconciler::apply_deep`] for them.
    ///
    /// # Errors
    /// A list call's error (the caller falls back to the per-request path for everything).
    pub async fn check_many(&self, requests: &[(LbIdentity, Request)]) -> Result<BulkCheck, Error> {
        let tags = vec![MANAGED_TAG.to_string(), cluster_tag(&self.site.cluster_id)];
        let groups = self.site.manage_security_groups.then(|| GroupsWanted {
            member_network_id: self.site.member_network_id.clone(),
        });
        let view = ClusterView::list(&self.session, &tags, groups.as_ref()).await?;
        let mut out = BulkCheck {
            verdicts: Vec::with_capacity(requests.len()),
            statuses: Vec::new(),
        };
        for (key, _) in requests {
            let owner = Owner::new(self.site.cluster_id.clone(), key.clone());
            if let Some(status) = view.lb_status(&owner.request_tag()) {
                out.statuses.push(status.to_string());
            }
        }
        // Most requests need no call at all; those whose members are not remembered read one
        // status tree each, a few at a time.
        let checks: Vec<_> = requests
            .iter()
            .map(|(key, request)| self.check_logged(&view, key, request))
            .collect();
        out.verdicts = futures::stream::iter(checks)
            .buffered(self.options.concurrency.max(1))
            .collect()
            .await;
        Ok(out)
    }

    async fn check_logged(
        &self,
        view: &ClusterView,
        key: &LbIdentity,
        request: &Request,
    ) -> Verdict {
        let owner = Owner::new(self.site.cluster_id.clone(), key.clone());
        let verdict = self.check_one(view, &owner, request).await;
        if let Verdict::Apply(why) = &verdict {
            tracing::info!(request = %key, why = %why, "resync: checking this request on its own");
        } else {
            self.repairs_mut(|m| {
                m.remove(key);
            });
        }
        verdict
    }

    async fn check_one(&self, view: &ClusterView, owner: &Owner, request: &Request) -> Verdict {
        let key = owner.key();
        let desired = match self.desired(owner, request) {
            Ok(d) => d,
            Err(_) => return Verdict::Apply("the request is answered with an error".into()),
        };
        let RequestView {
            mut observed,
            member_ids,
            digests,
        } = match view.request(&owner.request_tag()) {
            Ok(v) => v,
            Err(why) => return Verdict::Apply(why),
        };
        let lb = observed.load_balancers[0].clone();
        let remembered = self.members_of(key);
        let mut from_memory = true;
        let mut from_digest = false;
        let mut complete = true;
        if let Some(tree) = observed.tree.as_mut() {
            for pool in &mut tree.pools {
                let ids = member_ids.get(&pool.id);
                match (remembered.get(&pool.id), ids) {
                    (Some(memo), Some(ids)) if &memo.ids == ids => {
                        pool.members = memo.members.clone();
                        continue;
                    }
                    _ => {}
                }
                match members_by_digest(&desired, pool, ids, digests.get(&pool.id), &lb) {
                    ByDigest::Same(members) => {
                        pool.members = members;
                        from_digest = true;
                    }
                    ByDigest::Differ => {
                        return Verdict::Apply(format!(
                            "the members of pool {} differ from the request (by its member digest)",
                            pool.id
                        ))
                    }
                    ByDigest::Unknown => complete = false,
                }
            }
        }
        if !complete {
            if let Err(why) = self.fill_members(&mut observed, &lb).await {
                return Verdict::Apply(why);
            }
            from_memory = false;
        }
        let mut verdict = verdict_of(&desired, &lb, &observed);
        if matches!(verdict, Verdict::Apply(_)) && from_memory {
            // Maybe only the memory is stale (a member renamed in place): read the members.
            if let Err(why) = self.fill_members(&mut observed, &lb).await {
                return Verdict::Apply(why);
            }
            from_memory = false;
            verdict = verdict_of(&desired, &lb, &observed);
        }
        if matches!(verdict, Verdict::Unchanged(_)) && (!from_memory || from_digest) {
            self.remember_members(key, &observed, &member_ids);
        }
        verdict
    }

    /// Reads the load balancer's status tree (one call) and puts each pool's members in place.
    async fn fill_members(&self, observed: &mut Observed, lb: &ObservedLb) -> Result<(), String> {
        let (read, _) = cloud::tree_with_member_ids(&self.session, &lb.id)
            .await
            .map_err(|e: Error| format!("its status tree could not be read: {e}"))?;
        if let Some(tree) = observed.tree.as_mut() {
            for pool in &mut tree.pools {
                pool.members = read
                    .pools
                    .iter()
                    .find(|p| p.id == pool.id)
                    .map(|p| p.members.clone())
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    /// Remembers the members of every pool whose reading is complete (one member per id).
    pub(super) fn remember_members(
        &self,
        key: &LbIdentity,
        observed: &Observed,
        member_ids: &HashMap<String, BTreeSet<String>>,
    ) {
        let Some(tree) = &observed.tree else {
            return;
        };
        let pools: HashMap<String, PoolMembers> = tree
            .pools
            .iter()
            .filter_map(|p| {
                let ids = member_ids.get(&p.id)?;
                // Only a complete reading is remembered (one member per listed id).
                (ids.len() == p.members.len()).then(|| {
                    (
                        p.id.clone(),
                        PoolMembers {
                            ids: ids.clone(),
                            members: p.members.clone(),
                        },
                    )
                })
            })
            .collect();
        self.member_memory_mut(|m| {
            m.insert(key.clone(), pools);
        });
    }

    fn members_of(&self, key: &LbIdentity) -> HashMap<String, PoolMembers> {
        self.member_memory_mut(|m| m.get(key).cloned().unwrap_or_default())
    }

    /// Forgets what was remembered of the request's members (its next bulk check reads them).
    pub(super) fn forget_members(&self, key: &LbIdentity) {
        self.member_memory_mut(|m| {
            m.remove(key);
        });
    }

    /// What this reconciler learned of the cloud, as JSON text for the store: the recent
    /// times per kind of change, and the members last seen complete per request and pool.
    pub fn learned(&self) -> String {
        let members = self.member_memory_mut(|m| {
            m.iter()
                .map(|(k, pools)| (format!("{}/{}", k.app, k.name), pools.clone()))
                .collect::<std::collections::BTreeMap<_, _>>()
        });
        let learned = Learned {
            paces: self.paces.samples(),
            members,
        };
        serde_json::to_string(&learned).expect("plain data always serializes")
    }

    /// Takes back what [`Reconciler::learned`] wrote (e.g. after a restart). Text that does
    /// not read is ignored (logged): it only costs reads.
    pub fn restore_learned(&self, text: &str) {
        let learned: Learned = match serde_json::from_str(text) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "what was learned of the cloud does not read; starting afresh");
                return;
            }
        };
        for (kind, samples) in &learned.paces {
            self.paces.restore(kind, samples);
        }
        self.member_memory_mut(|m| {
            for (key, pools) in learned.members {
                if let Some((app, name)) = key.split_once('/') {
                    m.insert(LbIdentity::new(app, name), pools);
                }
            }
        });
    }

    fn member_memory_mut<T>(&self, f: impl FnOnce(&mut MemberMemory) -> T) -> T {
        let mut map = self.members.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut map)
    }
}

/// What a pool's member digest tag says of its members.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ByDigest {
    /// The listed ids are those the digest was written for, and its members are the desired
    /// ones: these (as the planner reads them).
    Same(Vec<ObservedMember>),
    /// The listed ids are those the digest was written for, and its members are not the
    /// desired ones: a member change is due.
    Differ,
    /// No digest, one written for other ids (a member added or removed since, e.g. out of
    /// band), or no desired pool of that name: the members must be read.
    Unknown,
}

/// Compares a pool's member digest with its listed ids and the desired members. Pure.
fn members_by_digest(
    desired: &DesiredLb,
    pool: &TreePool,
    ids: Option<&BTreeSet<String>>,
    digest: Option<&MemberDigest>,
    lb: &ObservedLb,
) -> ByDigest {
    let (Some(ids), Some(digest)) = (ids, digest) else {
        return ByDigest::Unknown;
    };
    if digest.ids != digest::ids_hash(ids) {
        return ByDigest::Unknown;
    }
    let Some(want) = desired
        .listeners
        .iter()
        .map(|l| &l.pool)
        .find(|p| p.name == pool.name)
    else {
        return ByDigest::Unknown;
    };
    if digest.members == digest::desired_hash(&want.members) && want.members.len() == ids.len() {
        ByDigest::Same(digest::members_of_desired(&want.members, &lb.operating))
    } else {
        ByDigest::Differ
    }
}

/// Whether the observation is the desired graph (no step, nothing about our security group
/// to change, the answer at hand). Pure.
fn verdict_of(desired: &DesiredLb, lb: &ObservedLb, observed: &Observed) -> Verdict {
    let steps = plan(desired, lb, observed);
    if let Some(first) = steps.first() {
        return Verdict::Apply(format!(
            "{} change(s) needed, the first: {}",
            steps.len(),
            step_kind(first)
        ));
    }
    if let Some(want) = &desired.security_group {
        let groups = observed.security_groups.as_deref().unwrap_or(&[]);
        if !plan_security_group(want, groups, &observed.ports).is_empty() {
            return Verdict::Apply("its security group differs".into());
        }
    }
    let fip = current_fip(desired, lb, &observed.floating_ips);
    match ready_with(desired, lb, fip, Vec::new()) {
        Ok(ready) => Verdict::Unchanged(ready),
        Err(outcome) => Verdict::Apply(format!("not answerable yet: {outcome:?}")),
    }
}

/// A step's kind, for logs (the step itself may carry a whole member list).
fn step_kind(step: &super::Step) -> String {
    let text = format!("{step:?}");
    text.split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{build, Intent, ListenerIntent, Site};
    use openstack::load_balancer::enums::{LbAlgorithm, Protocol, ProvisioningStatus};

    fn desired(backends: &[&str]) -> DesiredLb {
        let site = Site {
            cluster_id: "demo".into(),
            vip_subnet_id: "vip-subnet".into(),
            vip_network_id: None,
            member_subnet_id: "member-subnet".into(),
            member_network_id: None,
            member_subnet_cidr: None,
            floating_network_id: None,
            provider: Some("amphora".into()),
            flavor_id: None,
            availability_zone: None,
            manage_security_groups: false,
            preserves_client_ip: false,
            closest_health_check: false,
        };
        let intent = Intent {
            public: false,
            vip_address: None,
            listeners: vec![ListenerIntent {
                protocol: Protocol::Tcp,
                pool_protocol: Protocol::Tcp,
                port: 443,
                backend_port: 6443,
                allowed_cidrs: None,
            }],
            algorithm: LbAlgorithm::RoundRobin,
            persistence: None,
            monitor: None,
            backends: backends.iter().map(|b| b.parse().unwrap()).collect(),
        };
        build(
            &Owner::new("demo", LbIdentity::new("k8s", "api")),
            &intent,
            &site,
        )
        .unwrap()
    }

    fn lb() -> ObservedLb {
        ObservedLb {
            id: "lb".into(),
            name: "lb".into(),
            description: String::new(),
            tags: Vec::new(),
            provisioning: ProvisioningStatus::Active,
            operating: "ONLINE".into(),
            vip_address: None,
            vip_port_id: None,
            vip_subnet_id: None,
            provider: None,
        }
    }

    fn pool(d: &DesiredLb) -> TreePool {
        TreePool {
            id: "p".into(),
            name: d.listeners[0].pool.name.clone(),
            provisioning: ProvisioningStatus::Active,
            members: Vec::new(),
            monitor: None,
        }
    }

    #[test]
    fn a_digest_vouches_only_for_the_ids_it_was_written_for() {
        let built = desired(&["10.0.0.1", "10.0.0.2"]);
        let ids = BTreeSet::from(["m1".to_string(), "m2".to_string()]);
        let written = MemberDigest {
            ids: digest::ids_hash(&ids),
            members: digest::desired_hash(&built.listeners[0].pool.members),
        };
        let p = pool(&built);
        // Same ids, same members: the desired members, with no read.
        match members_by_digest(&built, &p, Some(&ids), Some(&written), &lb()) {
            ByDigest::Same(members) => {
                assert!(!super::super::plan::members_differ(
                    &built.listeners[0].pool.members,
                    &members
                ))
            }
            other => panic!("{other:?}"),
        }
        // Same ids, another member set wanted: a change is due, with no read.
        let more = desired(&["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        assert_eq!(
            members_by_digest(&more, &p, Some(&ids), Some(&written), &lb()),
            ByDigest::Differ
        );
        // Other ids (a member added or removed since), no digest, no listed ids, another
        // pool name: read.
        let other = BTreeSet::from(["m1".to_string(), "m3".to_string()]);
        assert_eq!(
            members_by_digest(&built, &p, Some(&other), Some(&written), &lb()),
            ByDigest::Unknown
        );
        assert_eq!(
            members_by_digest(&built, &p, Some(&ids), None, &lb()),
            ByDigest::Unknown
        );
        assert_eq!(
            members_by_digest(&built, &p, None, Some(&written), &lb()),
            ByDigest::Unknown
        );
        let mut renamed = p.clone();
        renamed.name = "another".into();
        assert_eq!(
            members_by_digest(&built, &renamed, Some(&ids), Some(&written), &lb()),
            ByDigest::Unknown
        );
    }
}
