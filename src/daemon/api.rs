//! The local API's wire types (JSON over the unix socket), shared by the daemon and the CLI.
//!
//! Routes (all JSON; errors are `{"error": "..."}` with a 4xx/5xx status):
//! - `GET  /v1/health` → [`Health`]
//! - `GET  /v1/status` → [`StatusReport`]
//! - `POST /v1/leader` [`LeaderChange`] → [`Health`]
//! - `POST /v1/reload` → [`Health`] (re-read settings, as SIGHUP does)
//! - `POST /v1/resync` → [`Health`] (re-check every request now, as the resync timer does)
//! - `POST /v1/lb-consumers`, `POST /v1/public-address`: the hook commands' requests (see
//!   [`super::answerer`]).

use serde::{Deserialize, Serialize};

/// Route of [`Health`].
pub const HEALTH: &str = "/v1/health";
/// Route of [`StatusReport`].
pub const STATUS: &str = "/v1/status";
/// Route of [`LeaderChange`].
pub const LEADER: &str = "/v1/leader";
/// Route of the settings reload.
pub const RELOAD: &str = "/v1/reload";
/// Route of an immediate resync (what the periodic timer does: every request re-checked
/// deeply, garbage collected).
pub const RESYNC: &str = "/v1/resync";

/// Whether the daemon is up and what it is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The daemon's version (the binary's).
    pub version: String,
    /// Whether it acts on the cloud (Juju leader).
    pub leader: bool,
    /// Whether it is connected to the cloud (credentials accepted, settings resolved).
    #[serde(default)]
    pub connected: bool,
    /// Requests waiting for a reconcile.
    pub queued: usize,
    /// Reconciles running now.
    pub running: usize,
}

/// Tells the daemon whether this unit is the Juju leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderChange {
    /// `true`: act on the cloud; `false`: stop creating, deleting and resyncing.
    pub leader: bool,
}

/// What a status row stands for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RowKind {
    /// A current request (answered, converging or refused).
    #[default]
    Request,
    /// A removed request whose load balancer is still being deleted.
    Removing,
    /// A load balancer of this cluster no stored request owns (built by `apply`, or left over).
    Unrequested,
}

/// One line of `octavia-integrator status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRow {
    /// `app/name` of the request.
    pub request: String,
    /// What the row stands for (only current requests count as what is asked for).
    #[serde(default)]
    pub kind: RowKind,
    /// The Juju relation it came over, if any.
    #[serde(default)]
    pub relation_id: Option<u64>,
    /// The load balancer's name.
    #[serde(default)]
    pub load_balancer: Option<String>,
    /// The load balancer's id.
    #[serde(default)]
    pub load_balancer_id: Option<String>,
    /// The VIP address.
    #[serde(default)]
    pub vip: Option<String>,
    /// The floating IP, for public requests.
    #[serde(default)]
    pub floating_ip: Option<String>,
    /// Octavia provisioning status (ACTIVE, PENDING_CREATE, ERROR…).
    #[serde(default)]
    pub provisioning_status: Option<String>,
    /// Octavia operating status (ONLINE, DEGRADED, OFFLINE…).
    #[serde(default)]
    pub operating_status: Option<String>,
    /// Members whose operating status is ONLINE.
    #[serde(default)]
    pub members_up: Option<u32>,
    /// Members no health monitor checks (NO_MONITOR): not counted as up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_unmonitored: Option<u32>,
    /// All members.
    #[serde(default)]
    pub members_total: Option<u32>,
    /// What the relation was last answered: the address, `error: <kind>`, or none yet.
    #[serde(default)]
    pub answer: Option<String>,
    /// Why it is not ready, or what was last done.
    #[serde(default)]
    pub note: Option<String>,
}

/// The whole `status` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Whether the daemon acts on the cloud.
    pub leader: bool,
    /// One row per known request, in request order.
    pub requests: Vec<StatusRow>,
    /// Why the daemon is not connected to the cloud: the last connection error (bad
    /// credentials, a VIP subnet that does not exist…); `None` when connected or not tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_error: Option<String>,
}

/// Route of [`AnswerCall`].
pub const ANSWER: &str = "/v1/answer";
/// Route of [`ForgetCall`].
pub const FORGET: &str = "/v1/forget";
/// Route of [`RetainCall`].
pub const RETAIN: &str = "/v1/retain";
/// Route of [`RefusedCall`].
pub const REFUSED: &str = "/v1/refused";

/// "Here is a current request; what is its answer?"
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerCall {
    /// The interface it came over.
    pub interface: crate::relation::answer::Interface,
    /// Which request.
    pub key: crate::relation::answer::RequestKey,
    /// The request's canonical JSON (backends filled).
    pub request: String,
}

/// The answer to an [`AnswerCall`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerReply {
    /// The response's canonical JSON, or `None` while still converging.
    pub answer: Option<String>,
}

/// "This request is refused (the hook answered it); remember the refusal."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedCall {
    /// The interface it came over.
    pub interface: crate::relation::answer::Interface,
    /// Which request.
    pub key: crate::relation::answer::RequestKey,
    /// The refusal answer's canonical JSON.
    pub refusal: String,
}

/// "This request is gone."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetCall {
    /// Which request.
    pub key: crate::relation::answer::RequestKey,
}

/// "These are all the requests of this interface now."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetainCall {
    /// The interface.
    pub interface: crate::relation::answer::Interface,
    /// Every current request of it.
    pub keys: Vec<crate::relation::answer::RequestKey>,
    /// Relations present but not ready (no usable `version`): what is stored for them is kept.
    #[serde(default)]
    pub held_relations: Vec<u64>,
}

/// What a [`ForgetCall`] or [`RetainCall`] dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forgotten {
    /// Requests that were known and are now being removed.
    pub removed: Vec<crate::relation::answer::RequestKey>,
}
