//! Deleting what was built for a request, garbage-collecting what no request owns, and the
//! status of a request's load balancer.

use std::collections::BTreeSet;

use openstack::load_balancer::load_balancers::{self, ListLoadBalancers};
use openstack::network::floating_ips::{self, ListFloatingIps};
use openstack::network::ports::{self, ListPorts};
use openstack::network::security_groups::{self, ListSecurityGroups};
use openstack::Error;
use tokio::time::Instant;
use tracing::Instrument;

use super::act::Exec;
use super::cloud;
use super::security;
use super::Reconciler;
use crate::spec::{cluster_tag, request_tag, LbIdentity, Owner, MANAGED_TAG, REQUEST_TAG_PREFIX};

/// What a removal did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removal {
    /// What was deleted (empty when nothing was there).
    pub deleted: Vec<String>,
}

/// A resource tagged with our cluster that no current request owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    /// `load balancer`, `floating IP` or `security group`.
    pub kind: &'static str,
    /// Id.
    pub id: String,
    /// Name or address, for humans.
    pub label: String,
    /// Whether it was deleted (false in a dry run).
    pub deleted: bool,
}

/// One request's load balancer as it stands (for `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbStatus {
    /// Load balancer id.
    pub load_balancer_id: String,
    /// Its name.
    pub name: String,
    /// VIP address.
    pub vip_address: Option<String>,
    /// Floating IP address.
    pub floating_ip: Option<String>,
    /// Provisioning status.
    pub provisioning_status: String,
    /// Operating status.
    pub operating_status: String,
    /// Members reported ONLINE (a health monitor saw them answer), over all pools.
    pub members_up: usize,
    /// Members no monitor checks (NO_MONITOR): not known to be up.
    pub members_unmonitored: usize,
    /// Members, over all pools.
    pub members_total: usize,
    /// Repair attempts made on it by this process since it was last ready (0 normally).
    pub repair_attempts: u32,
}

impl Reconciler {
    /// Deletes everything built for `key`: our floating IPs first, then the load balancer
    /// (cascade; 404 = done, ERROR deletable, PENDING waited for), then our security groups.
    /// Idempotent: removing what is already gone does nothing.
    ///
    /// # Errors
    /// The first cloud error (the removal can simply be run again), or a wait timing out.
    pub async fn remove(&self, key: &LbIdentity) -> Result<Removal, Error> {
        let _guard = self.locks.acquire(key).await;
        let span = tracing::info_span!("remove", app = %key.app, request = %key.name);
        self.remove_locked(key).instrument(span).await
    }

    async fn remove_locked(&self, key: &LbIdentity) -> Result<Removal, Error> {
        let owner = Owner::new(self.site.cluster_id.clone(), key.clone());
        let mut exec = Exec {
            session: &self.session,
            policy: self.options.wait.clone(),
            deadline: Instant::now() + self.options.wait.budget,
            actions: Vec::new(),
            paces: Some(&self.paces),
        };
        let (lbs, deleting) = cloud::load_balancers(&self.session, &owner).await?;
        for f in cloud::floating_ips(&self.session, &owner).await? {
            match floating_ips::delete(&self.session, &f.id).await {
                Err(e) if !e.is_not_found() => return Err(e),
                _ => exec
                    .actions
                    .push(format!("deleted floating IP {}", f.address)),
            }
        }
        // A floating IP whose tagging was cut short is bound to our VIP with our description.
        let ours = owner.floating_ip_description();
        for port in lbs.iter().filter_map(|lb| lb.vip_port_id.as_deref()) {
            for f in cloud::floating_ips_on_port(&self.session, port).await? {
                if f.description == ours && f.tags.is_empty() {
                    match floating_ips::delete(&self.session, &f.id).await {
                        Err(e) if !e.is_not_found() => return Err(e),
                        _ => exec
                            .actions
                            .push(format!("deleted floating IP {}", f.address)),
                    }
                }
            }
        }
        for lb in &lbs {
            self.delete_lb(&mut exec, &lb.id).await?;
            exec.actions
                .push(format!("deleted load balancer {} ({})", lb.id, lb.name));
        }
        for id in &deleting {
            exec.wait_gone(id).await?;
        }
        let mut groups = cloud::security_groups(&self.session, &owner).await?;
        groups.extend(
            cloud::untagged_security_groups(
                &self.session,
                &owner.security_group_name(),
                &owner.security_group_description(),
            )
            .await?,
        );
        for g in groups {
            self.delete_security_group(&g.id).await?;
            exec.actions
                .push(format!("deleted security group {}", g.id));
        }
        self.repairs_forget(key);
        for a in &exec.actions {
            tracing::info!(action = %a, "changed the cloud");
        }
        Ok(Removal {
            deleted: exec.actions,
        })
    }

    fn repairs_forget(&self, key: &LbIdentity) {
        self.forget_members(key);
        self.repairs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// Deletes one of our security groups, first taking it off any port that still carries it.
    async fn delete_security_group(&self, id: &str) -> Result<(), Error> {
        match security_groups::delete(&self.session, id).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) if e.is_conflict() => {}
            Err(e) => return Err(e),
        }
        // In use: detach it from the member ports, then delete.
        let ports = ports::list(
            &self.session,
            &ListPorts {
                network_id: self.site.member_network_id.clone(),
                ..Default::default()
            },
        )
        .await?;
        for p in ports
            .iter()
            .filter(|p| p.security_groups.iter().any(|g| g == id))
        {
            let seen = cloud::port_view(p.clone());
            security::edit_port_groups(
                &self.session,
                &self.port_locks,
                &p.id,
                Some(&seen),
                |groups| groups.retain(|g| g != id),
            )
            .await?;
        }
        match security_groups::delete(&self.session, id).await {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }

    /// Finds resources tagged with our cluster that no request in `live` owns, and deletes
    /// them unless `dry_run`. For a fixed list of requests (the CLI); a daemon whose requests
    /// change while it runs uses [`Reconciler::gc_with`].
    ///
    /// # Errors
    /// The first cloud error.
    pub async fn gc(&self, live: &[LbIdentity], dry_run: bool) -> Result<Vec<Orphan>, Error> {
        self.gc_with(|| std::future::ready(live.to_vec()), dry_run)
            .await
    }

    /// Finds resources tagged with our cluster that no current request owns, and deletes them
    /// unless `dry_run`. Three list calls, then one delete per orphan.
    ///
    /// `live` gives the requests wanted *now*. It is asked after the listing, not before, and
    /// again under the orphan's request lock right before each delete: a request registered
    /// while the cloud was being listed keeps the load balancer its apply is building. (The
    /// request is found from the description we wrote, confirmed by its tag; a resource whose
    /// description does not name it is only re-checked.)
    ///
    /// # Errors
    /// The first cloud error.
    pub async fn gc_with<F, Fut>(&self, live: F, dry_run: bool) -> Result<Vec<Orphan>, Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Vec<LbIdentity>>,
    {
        let cluster = &self.site.cluster_id;
        let ours = vec![MANAGED_TAG.to_string(), cluster_tag(cluster)];
        let mut found = Vec::new();
        let fips = floating_ips::list(
            &self.session,
            &ListFloatingIps {
                tags: ours.clone(),
                ..Default::default()
            },
        )
        .await?;
        found.extend(fips.into_iter().map(|f| Found {
            kind: "floating IP",
            id: f.id,
            label: f.floating_ip_address,
            description: f.description,
            tags: f.tags,
        }));
        let lbs = load_balancers::list(
            &self.session,
            &ListLoadBalancers {
                tags: ours.clone(),
                ..Default::default()
            },
        )
        .await?;
        found.extend(lbs.into_iter().map(|lb| Found {
            kind: "load balancer",
            id: lb.id,
            label: lb.name,
            description: lb.description,
            tags: lb.tags,
        }));
        let groups = security_groups::list(
            &self.session,
            &ListSecurityGroups {
                tags: ours,
                ..Default::default()
            },
        )
        .await?;
        found.extend(groups.into_iter().map(|g| Found {
            kind: "security group",
            id: g.id,
            label: g.name,
            description: g.description,
            tags: g.tags,
        }));

        let owned = |keys: Vec<LbIdentity>| -> BTreeSet<String> {
            keys.iter().map(|k| request_tag(cluster, k)).collect()
        };
        let now = owned(live().await);
        found.retain(|f| orphaned(&f.tags, &now));
        let mut exec = Exec {
            session: &self.session,
            policy: self.options.wait.clone(),
            deadline: Instant::now() + self.options.wait.budget,
            actions: Vec::new(),
            paces: Some(&self.paces),
        };
        let mut out = Vec::new();
        for f in found {
            if !dry_run {
                let key = Owner::key_from_marks(cluster, &f.description, &f.tags);
                let _guard = match &key {
                    Some(k) => Some(self.locks.acquire(k).await),
                    None => None,
                };
                if !orphaned(&f.tags, &owned(live().await)) {
                    tracing::info!(kind = f.kind, id = %f.id, "wanted again since the listing; kept");
                    continue;
                }
                match f.kind {
                    "floating IP" => match floating_ips::delete(&self.session, &f.id).await {
                        Err(e) if !e.is_not_found() => return Err(e),
                        _ => {}
                    },
                    "load balancer" => self.delete_lb(&mut exec, &f.id).await?,
                    _ => self.delete_security_group(&f.id).await?,
                }
            }
            out.push(Orphan {
                kind: f.kind,
                id: f.id,
                label: f.label,
                deleted: !dry_run,
            });
        }
        for o in &out {
            tracing::info!(kind = o.kind, id = %o.id, label = %o.label, deleted = o.deleted, "orphan");
        }
        Ok(out)
    }

    /// The applications that have a load balancer of this cluster for a request called
    /// `name` (one list call): the owner is read back from the description we wrote and
    /// confirmed by its request tag.
    ///
    /// # Errors
    /// The cloud error.
    pub async fn apps_with_request(&self, name: &str) -> Result<BTreeSet<String>, Error> {
        Ok(self
            .built_requests()
            .await?
            .into_iter()
            .filter(|key| key.name == name)
            .map(|key| key.app)
            .collect())
    }

    /// Every request this cluster has a load balancer for (one list call), read back from the
    /// descriptions we wrote and confirmed by their request tags.
    ///
    /// # Errors
    /// The cloud error.
    pub async fn built_requests(&self) -> Result<BTreeSet<LbIdentity>, Error> {
        let cluster = &self.site.cluster_id;
        let lbs = load_balancers::list(
            &self.session,
            &ListLoadBalancers {
                tags: vec![MANAGED_TAG.to_string(), cluster_tag(cluster)],
                ..Default::default()
            },
        )
        .await?;
        Ok(lbs
            .iter()
            .filter_map(|lb| Owner::key_from_marks(cluster, &lb.description, &lb.tags))
            .collect())
    }

    /// The request's load balancer as it stands (2–3 read calls), or `None` when there is
    /// none.
    ///
    /// # Errors
    /// The first cloud error.
    pub async fn status(&self, key: &LbIdentity) -> Result<Option<LbStatus>, Error> {
        let owner = Owner::new(self.site.cluster_id.clone(), key.clone());
        let (lbs, _) = cloud::load_balancers(&self.session, &owner).await?;
        let Some(lb) = lbs.into_iter().next() else {
            return Ok(None);
        };
        let (up, unmonitored, total) = match cloud::tree(&self.session, &lb.id).await {
            Ok(t) => {
                let members: Vec<_> = t.pools.iter().flat_map(|p| p.members.iter()).collect();
                let count = |status: &str| members.iter().filter(|m| m.operating == status).count();
                (count("ONLINE"), count("NO_MONITOR"), members.len())
            }
            Err(e) if e.is_not_found() => (0, 0, 0),
            Err(e) => return Err(e),
        };
        let fip = cloud::floating_ips(&self.session, &owner)
            .await?
            .into_iter()
            .find(|f| f.port_id.is_some() && f.port_id == lb.vip_port_id)
            .map(|f| f.address);
        Ok(Some(LbStatus {
            load_balancer_id: lb.id,
            name: lb.name,
            vip_address: lb.vip_address,
            floating_ip: fip,
            provisioning_status: lb.provisioning.as_str().to_string(),
            operating_status: lb.operating,
            members_up: up,
            members_unmonitored: unmonitored,
            members_total: total,
            repair_attempts: self
                .repairs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(key)
                .map(|m| m.attempts)
                .unwrap_or(0),
        }))
    }
}

/// A resource with our cluster's tags, as listed by garbage collection.
struct Found {
    kind: &'static str,
    id: String,
    label: String,
    description: String,
    tags: Vec<String>,
}

/// Whether no request tag on `tags` is in `owned`.
fn orphaned(tags: &[String], owned: &BTreeSet<String>) -> bool {
    !tags
        .iter()
        .any(|t| t.starts_with(REQUEST_TAG_PREFIX) && owned.contains(t))
}
