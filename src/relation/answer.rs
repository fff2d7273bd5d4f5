//! Who answers requests: the [`Answerer`] seam between the relation commands and whatever
//! builds load balancers (the daemon, or the in-process reconciler).
//!
//! The relation commands answer by themselves only what needs no cloud (requests that do not
//! load → `unsupported`); everything else goes to an `Answerer`. Until one is configured,
//! [`NoCloud`] refuses clearly instead of pretending.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;

use super::v1::{Request, Response};

/// Identifies one request: the relation it came on, the remote application and the request
/// name (the key suffix). Two applications asking for the same name are two requests.
///
/// This is the identity of a *request as received* (which databag to answer). The identity
/// of a *load balancer* is [`crate::spec::LbIdentity`] (app + name, no relation id): a
/// relation re-created with a new id, or the same request over two relations, must reach
/// the same load balancer, never build a second one. Convert with `spec::LbIdentity::from`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct RequestKey {
    /// Juju relation id.
    pub relation_id: u64,
    /// The remote (requiring) application.
    pub app: String,
    /// The request name.
    pub name: String,
}

impl RequestKey {
    /// A key.
    pub fn new(relation_id: u64, app: impl Into<String>, name: impl Into<String>) -> Self {
        RequestKey {
            relation_id,
            app: app.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for RequestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} (relation {})",
            self.app, self.name, self.relation_id
        )
    }
}

/// Every request of one interface that exists now, as one hook saw it: what
/// [`Answerer::retain`] keeps.
///
/// A relation whose remote application has not published a usable `version` (install,
/// upgrade-charm, a databag being rewritten) is *held*: its requests were not read, so they
/// are neither new work nor removals. Everything remembered for a held relation is kept as it
/// is until the relation publishes a version again or is broken (then it is absent from the
/// hook's input altogether).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Current {
    /// Every current request (loaded or not) on relations that were read.
    pub keys: BTreeSet<RequestKey>,
    /// Relations present but not ready: whatever is remembered for them is kept.
    pub held_relations: BTreeSet<u64>,
}

impl Current {
    /// Current requests, no held relation.
    pub fn of(keys: BTreeSet<RequestKey>) -> Self {
        Current {
            keys,
            held_relations: BTreeSet::new(),
        }
    }

    /// Whether `key` is to be kept: a current request, or one on a held relation.
    pub fn keeps(&self, key: &RequestKey) -> bool {
        self.keys.contains(key) || self.held_relations.contains(&key.relation_id)
    }
}

/// Which interface a request came over (so [`Answerer::retain`] only prunes its own). Spelled
/// by serde as the interfaces are named, `loadbalancer` and `public-address`: the one spelling
/// of the daemon's socket and of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Interface {
    /// The `loadbalancer` interface (our `lb-consumers` endpoint).
    #[serde(rename = "loadbalancer")]
    LoadBalancer,
    /// The legacy `public-address` interface (our `loadbalancer` endpoint).
    #[serde(rename = "public-address")]
    PublicAddress,
}

/// Why an answerer could not handle a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// No cloud to build load balancers on.
    #[error("no cloud configured: {0}")]
    NoCloud(String),
    /// The settings or credentials must be fixed (the cloud refused them, or they name
    /// something it does not have); the text says which.
    #[error("{0}")]
    Settings(String),
    /// The answerer failed (daemon unreachable, store unreadable, …); the text says what to do.
    #[error("{0}")]
    Failed(String),
}

/// Answers requests (implemented by the daemon client and the in-process reconciler).
///
/// Called once per hook: [`answer`](Self::answer) for every current request that loaded,
/// [`forget`](Self::forget) for every request known to be gone, then
/// [`retain`](Self::retain) with the complete current set.
pub trait Answerer {
    /// The answer for one current request (`backends` already filled), or `Ok(None)` while it
    /// is still converging (the requirer waits; a later hook publishes the answer). Requests
    /// the provider cannot honour get `Ok(Some(unsupported))`
    /// (see [`crate::spec::spec()`]).
    fn answer(
        &self,
        key: &RequestKey,
        request: &Request,
    ) -> impl Future<Output = Result<Option<Response>, AnswerError>> + Send;

    /// The request as received is refused with `refusal` (it does not load, or no provider
    /// can serve it); the hook answers it by itself. An answerer that remembers requests
    /// records the refusal (so `status` shows it) and builds, changes and removes nothing for
    /// it. The default remembers nothing, so does nothing.
    fn refused(
        &self,
        key: &RequestKey,
        refusal: &Response,
    ) -> impl Future<Output = Result<(), AnswerError>> + Send {
        let _ = (key, refusal);
        async { Ok(()) }
    }

    /// The request is gone: remove what was built for it.
    fn forget(&self, key: &RequestKey) -> impl Future<Output = Result<(), AnswerError>> + Send;

    /// Every request of `interface` that exists now (loaded or not), and the relations that are
    /// held (see [`Current`]). An answerer that remembers requests forgets every other one it
    /// holds for that interface (e.g. a whole relation removed). The default remembers nothing,
    /// so does nothing.
    fn retain(
        &self,
        interface: Interface,
        current: &Current,
    ) -> impl Future<Output = Result<(), AnswerError>> + Send {
        let _ = (interface, current);
        async { Ok(()) }
    }
}

/// The answerer used when no cloud is configured: it answers nothing and says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoCloud {
    reason: String,
}

impl NoCloud {
    /// A refusal with the reason and the fix, e.g. "pass --config PATH".
    pub fn new(reason: impl Into<String>) -> Self {
        NoCloud {
            reason: reason.into(),
        }
    }
}

impl Answerer for NoCloud {
    async fn answer(&self, _: &RequestKey, _: &Request) -> Result<Option<Response>, AnswerError> {
        Err(AnswerError::NoCloud(self.reason.clone()))
    }

    async fn forget(&self, _: &RequestKey) -> Result<(), AnswerError> {
        Err(AnswerError::NoCloud(self.reason.clone()))
    }
}
