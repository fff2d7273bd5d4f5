//! Observe → diff → act → wait → answer, for one request; delete; garbage-collect.
//!
//! [`Reconciler`] is the whole API: [`Reconciler::connect`] once (names resolved to ids),
//! then [`Reconciler::apply`] / [`Reconciler::remove`] / [`Reconciler::plan`] /
//! [`Reconciler::gc`] / [`Reconciler::status`] for as many requests as needed, concurrently.
//!
//! # Guarantees (the idempotency contract)
//! - The cloud is the only truth: every run starts by listing what carries the request's tags
//!   ([`cloud::observe`]), so any step may be re-run after a crash at any point and converges
//!   to one load balancer per request. A create that timed out on our side is looked up
//!   before it is ever sent again.
//! - What to do is decided by pure functions ([`plan::decide`], [`plan::plan`],
//!   [`repair::repair_action`], [`outcome::outcome_of_error`]), unit-tested on their own;
//!   when to look again, by one policy ([`requeue::error_policy`]) that holds every retry
//!   delay.
//! - Only resources carrying our tags are modified or deleted; a floating IP someone else
//!   bound to our VIP is used for the answer but never deleted.
//! - Octavia changes are serial per load balancer: ACTIVE before each change, a 409
//!   "immutable" is absorbed by waiting, and ACTIVE is awaited after each change.
//! - Members change through one batch call, only when the set differs; a request with no
//!   backends is answered with an error and its pools are left untouched.
//! - Never two reconciles of one request at once; at most `concurrency` at once overall.
//! - A member port's security groups are changed under that port's lock, re-read first, and
//!   only our own request's group is added or removed: requests sharing member ports (the
//!   external and internal API load balancers) never write over each other's groups.
//! - An unchanged request costs read calls only (3 on the quick path), never a mutation.
//! - Many requests are checked at once with one tag-filtered, paginated list per kind
//!   ([`Reconciler::check_many`], the daemon's resync): unchanged requests cost no call of
//!   their own once their members are remembered or their pools' member digest tags
//!   ([`digest`]) vouch for them; only those that differ take the per-request path.
//!
//! # Assumptions
//! - Nobody else edits resources carrying our tags in place (the quick path trusts the
//!   fingerprint tag for listener/pool/monitor settings; [`Reconciler::apply_deep`] reads
//!   them all).

pub mod act;
mod bodies;
pub mod bulk;
pub mod cloud;
pub mod connect;
pub mod digest;
mod flow;
pub mod locks;
pub mod observed;
pub mod outcome;
pub mod plan;
mod remove;
pub mod repair;
pub mod requeue;
mod resync;
pub mod security;
pub mod step;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::Duration;

use openstack::wait::WaitPolicy;
use openstack::Session;

pub use connect::{is_settings_problem, ConnectError};
pub use flow::Plan;
pub use outcome::{outcome_of_error, Outcome, Ready};
pub use plan::{Decision, Step};
pub use remove::{LbStatus, Orphan, Removal};
pub use repair::RepairPolicy;
pub use requeue::{error_policy, Action, Setback};
pub use resync::{BulkCheck, Verdict};

use crate::config::Settings;
use crate::spec::{LbIdentity, Provider, Site};

/// Tunables of a [`Reconciler`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Poll timing while waiting for Octavia; its `budget` is how long one reconcile waits
    /// before answering "still converging".
    pub wait: WaitPolicy,
    /// Pacing of repairs of load balancers in ERROR.
    pub repair: RepairPolicy,
    /// Most reconciles at once.
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            wait: WaitPolicy::default(),
            repair: RepairPolicy::default(),
            concurrency: 8,
        }
    }
}

/// Repair bookkeeping for one request (in memory: after a restart repairs start afresh).
#[derive(Debug, Clone, Copy, Default)]
struct RepairMemo {
    attempts: u32,
    last: Option<tokio::time::Instant>,
}

/// Builds, keeps right and removes the load balancers of requests. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Reconciler {
    session: Session,
    site: Site,
    provider: Provider,
    fully_populated: AtomicBool,
    options: Options,
    locks: locks::KeyLocks,
    port_locks: locks::PortLocks,
    repairs: Mutex<HashMap<LbIdentity, RepairMemo>>,
    members: Mutex<resync::MemberMemory>,
    paces: openstack::wait::PaceBook,
}

impl Reconciler {
    /// Resolves the settings' names to ids (VIP subnet, member subnet, floating network) and
    /// derives the provider's capabilities. The wait budget is `settings.load_balancer.wait`.
    ///
    /// # Errors
    /// [`ConnectError`] naming the setting that does not resolve, or the cloud error.
    pub async fn connect(
        session: Session,
        settings: &Settings,
    ) -> Result<Reconciler, ConnectError> {
        let lb = &settings.load_balancer;
        let site = connect::resolve_site(&session, &settings.cluster_id, lb).await?;
        let mut options = Options::default();
        options.wait.budget = lb.wait;
        Ok(Reconciler::from_site(
            session,
            site,
            lb.default_algorithm.as_str(),
            lb.fully_populated_create,
            options,
        ))
    }

    /// A reconciler for an already resolved site (no cloud calls).
    pub fn from_site(
        session: Session,
        site: Site,
        configured_default_algorithm: &str,
        fully_populated_create: bool,
        options: Options,
    ) -> Reconciler {
        let provider = Provider::of(site.provider.as_deref(), configured_default_algorithm);
        Reconciler {
            session,
            site,
            provider,
            fully_populated: AtomicBool::new(fully_populated_create),
            locks: locks::KeyLocks::new(options.concurrency),
            port_locks: locks::PortLocks::new(),
            options,
            repairs: Mutex::new(HashMap::new()),
            members: Mutex::new(HashMap::new()),
            paces: openstack::wait::PaceBook::new(),
        }
    }

    /// Replaces the tunables (tests scale the poll timing to the simulated cloud).
    pub fn with_options(mut self, options: Options) -> Reconciler {
        self.locks = locks::KeyLocks::new(options.concurrency);
        self.options = options;
        self
    }

    /// The session (for callers that report call counts or token state).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The resolved site settings.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// The provider requests are built for (what it can do, its default algorithm).
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The cloud's recent times per kind of change (waits poll densely around them); the
    /// daemon persists and restores them through the store.
    pub fn paces(&self) -> &openstack::wait::PaceBook {
        &self.paces
    }

    /// The wait budget of one reconcile.
    pub fn wait_budget(&self) -> Duration {
        self.options.wait.budget
    }
}
