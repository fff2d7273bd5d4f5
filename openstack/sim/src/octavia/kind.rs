//! The four kinds of child under a load balancer (listener, pool, member, health monitor):
//! their labels, their tables, their 404, and how a change marks them.

use serde_json::json;

use crate::http::{octavia_err, ApiError};
use crate::state::{Obj, Table, World};

/// Which kind of child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Listener,
    Pool,
    Member,
    Monitor,
}

impl Kind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Listener => "Listener",
            Kind::Pool => "Pool",
            Kind::Member => "Member",
            Kind::Monitor => "Health Monitor",
        }
    }

    pub(crate) fn table(self, w: &World) -> &Table {
        match self {
            Kind::Listener => &w.listeners,
            Kind::Pool => &w.pools,
            Kind::Member => &w.members,
            Kind::Monitor => &w.healthmonitors,
        }
    }

    pub(crate) fn table_mut(self, w: &mut World) -> &mut Table {
        match self {
            Kind::Listener => &mut w.listeners,
            Kind::Pool => &mut w.pools,
            Kind::Member => &mut w.members,
            Kind::Monitor => &mut w.healthmonitors,
        }
    }
}

/// 404 for a child.
pub(crate) fn not_found(kind: Kind, id: &str) -> ApiError {
    octavia_err(404, format!("{} {id} not found.", kind.label()))
}

/// Set a child's `provisioning_status`.
pub(crate) fn mark(o: &mut Obj, status: &str) {
    o.insert("provisioning_status".into(), json!(status));
}
