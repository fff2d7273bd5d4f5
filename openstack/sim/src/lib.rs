//! A simulated OpenStack cloud (Keystone v3, Octavia v2, Neutron v2.0) on loopback.
//!
//! It speaks the real services' JSON shapes over real HTTP and shares no type with the
//! `openstack` client (it does not depend on it; its objects are plain JSON shaped like the
//! upstream examples), so a mistake in one side cannot be mirrored by the other.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use openstack_sim::{Provider, Sim};
//! let sim = Sim::builder().provider(Provider::Ovn).delay_scale(0.001).seed(7).build().start().await?;
//! let creds = sim.credentials();
//! println!("{} {}", sim.auth_url(), creds.username);
//! let ids = sim.seed_ids();
//! println!("VIP subnet {}", ids.vip_subnet_id);
//! assert_eq!(sim.calls().auths(), 0);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Layout, one way down: `server` (the router, the middleware that authenticates, counts and
//! injects faults, the accept loop) wires the handlers (`identity`, `octavia/`, `neutron/`,
//! `admin` for `/_sim/...`), which import the state they share from `shared` (never `server`);
//! below them `keystone`, `listing` (filters and pagination), `faults`, `accounting`, `state`
//! (the world), `ids`, `config`.
#![deny(missing_docs)]

mod accounting;
mod admin;
mod config;
mod control;
mod faults;
mod http;
mod identity;
mod ids;
mod keystone;
mod listing;
mod neutron;
mod octavia;
mod seed;
mod server;
mod shared;
mod snapshot;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use accounting::{CallRecord, Calls};
pub use config::{Delays, Provider};
pub use faults::{
    CutOff, CutOffMode, DropRule, ErrorRule, FaultPlan, LatencyRule, LbErrorRule, RouteMatch,
};

pub use control::Faults;
pub use seed::SeedIds;
pub use snapshot::Snapshot;

use config::SimConfig;
use shared::Shared;
use state::World;

/// Entry point: `Sim::builder()`.
#[derive(Debug)]
pub struct Sim {
    config: SimConfig,
    faults: FaultPlan,
    listen: SocketAddr,
}

/// Configures a [`Sim`].
#[derive(Debug)]
pub struct SimBuilder {
    config: SimConfig,
    faults: FaultPlan,
    listen: SocketAddr,
}

impl Sim {
    /// A builder with defaults: amphora, delay scale 1.0, seed 0, 1 h tokens, `RegionOne`,
    /// listening on `127.0.0.1:0`.
    pub fn builder() -> SimBuilder {
        SimBuilder {
            config: SimConfig::new(0),
            faults: FaultPlan::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// Bind, seed the cloud and serve in the background.
    pub async fn start(self) -> std::io::Result<SimHandle> {
        if !self.listen.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "the simulator only listens on loopback, not {}",
                    self.listen
                ),
            ));
        }
        let listener = TcpListener::bind(self.listen).await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let mounts = server::mounts(&self.config.regions);
        let mut world = World::new(self.config, self.faults);
        let seed_ids = seed::seed(&mut world);
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            calls: Mutex::new(Calls::default()),
            base,
            mounts,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let app = server::app(shared.clone());
        let task = tokio::spawn(server::serve(listener, app, stop_rx));
        Ok(SimHandle {
            shared,
            addr,
            seed_ids,
            stop: stop_tx,
            task: Some(task),
        })
    }
}

impl SimBuilder {
    /// Octavia's page cap when a list call sends no `limit` (its `pagination_max_limit`,
    /// default 1000); a small cap makes every Octavia list span several pages. Values below
    /// 1 are taken as 1.
    pub fn page_max(mut self, items: usize) -> Self {
        self.config.page_max = items.max(1);
        self
    }

    /// The provider used when a create names none.
    pub fn provider(mut self, p: Provider) -> Self {
        self.config.default_provider = p;
        self
    }

    /// Real seconds per simulated second (e.g. 0.001 in tests).
    pub fn delay_scale(mut self, scale: f64) -> Self {
        self.config.delay_scale = if scale.is_finite() && scale >= 0.0 {
            scale
        } else {
            1.0
        };
        self
    }

    /// Seed for ids and fault draws (same seed + same calls = same answers).
    pub fn seed(mut self, seed: u64) -> Self {
        let keep = self.config.clone();
        self.config = SimConfig::new(seed);
        self.config.default_provider = keep.default_provider;
        self.config.delay_scale = keep.delay_scale;
        self.config.token_lifetime = keep.token_lifetime;
        self.config.regions = keep.regions;
        self.config.octavia_quota = keep.octavia_quota;
        self.config.neutron_quota = keep.neutron_quota;
        self
    }

    /// Token lifetime (real time).
    pub fn token_lifetime(mut self, d: Duration) -> Self {
        self.config.token_lifetime = d;
        self
    }

    /// Regions in the catalog (the first one is served at the plain prefixes).
    pub fn regions<I: IntoIterator<Item = S>, S: Into<String>>(mut self, regions: I) -> Self {
        let r: Vec<String> = regions
            .into_iter()
            .map(Into::into)
            .filter(|r: &String| !r.is_empty())
            .collect();
        if !r.is_empty() {
            self.config.regions = r;
        }
        self
    }

    /// Octavia quota for `loadbalancer`, `listener`, `pool`, `member` or `healthmonitor` (-1 = unlimited).
    pub fn octavia_quota(mut self, resource: &str, limit: i64) -> Self {
        self.config
            .octavia_quota
            .insert(resource.to_string(), limit);
        self
    }

    /// Neutron quota for `floatingip`, `port`, `security_group` or `security_group_rule`.
    pub fn neutron_quota(mut self, resource: &str, limit: i64) -> Self {
        self.config
            .neutron_quota
            .insert(resource.to_string(), limit);
        self
    }

    /// Provisioning delays for one provider (simulated seconds; default: amphora 90 s create,
    /// OVN 3 s). Same as a `delays` entry in the fault plan.
    pub fn delays(mut self, provider: Provider, delays: Delays) -> Self {
        self.faults.delays.insert(provider, delays);
        self
    }

    /// Faults in force from the start (replaces delays set before).
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = plan;
        self
    }

    /// Listen address (must be loopback; default `127.0.0.1:0`).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Finish configuring.
    pub fn build(self) -> Sim {
        Sim {
            config: self.config,
            faults: self.faults,
            listen: self.listen,
        }
    }
}

/// Login material for the seeded user (plain strings: this is a test cloud).
#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    /// Keystone URL including `/v3`.
    pub auth_url: String,
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// User id.
    pub user_id: String,
    /// Domain name of user and project (`Default`).
    pub domain_name: String,
    /// Domain id (`default`).
    pub domain_id: String,
    /// Project name.
    pub project_name: String,
    /// Project id.
    pub project_id: String,
    /// Application credential id.
    pub application_credential_id: String,
    /// Application credential name.
    pub application_credential_name: String,
    /// Application credential secret.
    pub application_credential_secret: String,
    /// First region.
    pub region: String,
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    seed_ids: SeedIds,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.shared.base.clone()
    }

    /// Keystone URL (`http://127.0.0.1:PORT/v3`).
    pub fn auth_url(&self) -> String {
        format!("{}/v3", self.shared.base)
    }

    /// Octavia public endpoint.
    pub fn load_balancer_url(&self) -> String {
        format!("{}/load-balancer", self.shared.base)
    }

    /// Neutron public endpoint.
    pub fn network_url(&self) -> String {
        format!("{}/networking", self.shared.base)
    }

    /// Login material.
    pub fn credentials(&self) -> Credentials {
        self.shared.with(|w| {
            let i = &w.config.identity;
            Credentials {
                auth_url: format!("{}/v3", self.shared.base),
                username: i.username.clone(),
                password: i.password.clone(),
                user_id: w.user_id.clone(),
                domain_name: i.domain_name.clone(),
                domain_id: i.domain_id.clone(),
                project_name: i.project_name.clone(),
                project_id: w.project_id.clone(),
                application_credential_id: w.app_cred_id.clone(),
                application_credential_name: i.app_cred_name.clone(),
                application_credential_secret: i.app_cred_secret.clone(),
                region: w.config.regions.first().cloned().unwrap_or_default(),
            }
        })
    }

    /// Ids of the seeded resources.
    pub fn seed_ids(&self) -> SeedIds {
        self.seed_ids.clone()
    }

    /// Change faults at run time.
    pub fn faults(&self) -> Faults {
        Faults {
            shared: self.shared.clone(),
        }
    }

    /// Calls so far.
    pub fn calls(&self) -> Calls {
        self.shared
            .calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Forget the calls so far.
    pub fn reset_calls(&self) {
        self.shared
            .calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .records
            .clear();
    }

    /// Every resource now (pending transitions that are due are applied first).
    pub fn snapshot(&self) -> Snapshot {
        self.shared.with(|w| Snapshot::of(w))
    }

    /// Complete every change in flight now (as if its provisioning delay had passed), so tests
    /// can move the status machine forward without waiting.
    pub fn settle(&self) {
        self.shared.with(|w| {
            let now = tokio::time::Instant::now();
            for op in w.ops.values_mut() {
                op.due = now;
            }
            w.tick();
        });
    }

    /// Stop serving and wait for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
