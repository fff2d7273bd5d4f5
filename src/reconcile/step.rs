//! One planned change ([`Step`]): plain data made by the planner, carried out by the executor.

use crate::spec::{DesiredFloatingIp, DesiredListener, DesiredMember, DesiredMonitor, DesiredPool};

/// One change to make. Octavia changes are made one at a time, each followed by a wait for
/// the load balancer to be ACTIVE again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create the load balancer: the whole graph in one POST (or serially when the provider
    /// cannot).
    CreateLoadBalancer,
    /// Change the load balancer's name, description or tags.
    UpdateLoadBalancer {
        /// New name, if it differs.
        name: Option<String>,
        /// New description, if it differs.
        description: Option<String>,
        /// New tags, if they differ.
        tags: Option<Vec<String>>,
    },
    /// Create a listener with its pool, members and monitor.
    CreateListener(DesiredListener),
    /// Change a listener's name or allowed CIDRs.
    UpdateListener {
        /// Listener id.
        id: String,
        /// New name, if it differs.
        name: Option<String>,
        /// New allowed CIDRs (empty = everyone), if they differ.
        allowed_cidrs: Option<Vec<String>>,
    },
    /// Delete a listener and its default pool.
    DeleteListener {
        /// Listener id.
        id: String,
        /// Its default pool, deleted first.
        pool_id: Option<String>,
    },
    /// Create the default pool of an existing listener, with members and monitor.
    CreatePool {
        /// Listener id.
        listener_id: String,
        /// The pool.
        pool: DesiredPool,
    },
    /// Delete a pool (with its members and monitor).
    DeletePool {
        /// Pool id.
        id: String,
    },
    /// Change a pool's name, algorithm or session persistence.
    UpdatePool {
        /// Pool id.
        id: String,
        /// The desired pool (name, algorithm and persistence are sent).
        pool: DesiredPool,
    },
    /// Replace a pool's member set with one batch call.
    SetMembers {
        /// Pool id.
        pool_id: String,
        /// The complete desired set (never empty).
        members: Vec<DesiredMember>,
    },
    /// Create a pool's health monitor.
    CreateMonitor {
        /// Pool id.
        pool_id: String,
        /// The monitor.
        monitor: DesiredMonitor,
    },
    /// Change a health monitor's settings.
    UpdateMonitor {
        /// Monitor id.
        id: String,
        /// The desired monitor.
        monitor: DesiredMonitor,
    },
    /// Delete a health monitor.
    DeleteMonitor {
        /// Monitor id.
        id: String,
    },
    /// Create a floating IP bound to the VIP port.
    CreateFloatingIp(DesiredFloatingIp),
    /// Bind an existing floating IP of ours (left unbound, e.g. after a rebuild) to the VIP
    /// port: the public address survives a rebuild.
    BindFloatingIp {
        /// Floating IP id.
        id: String,
    },
    /// Put our tags on a floating IP bound to our VIP port (a create whose tagging was cut
    /// short).
    TagFloatingIp {
        /// Floating IP id.
        id: String,
        /// Tags.
        tags: Vec<String>,
    },
    /// Delete a floating IP of ours.
    DeleteFloatingIp {
        /// Floating IP id.
        id: String,
    },
    /// Cascade-delete the load balancer and build it again (its VIP subnet, requested VIP
    /// address or provider changed: those cannot be updated in place).
    Rebuild {
        /// Why.
        reason: String,
    },
}

impl Step {
    /// Whether the step changes Octavia (and so needs the load balancer ACTIVE before and is
    /// followed by a wait).
    pub fn is_octavia(&self) -> bool {
        !matches!(
            self,
            Step::CreateFloatingIp(_)
                | Step::BindFloatingIp { .. }
                | Step::TagFloatingIp { .. }
                | Step::DeleteFloatingIp { .. }
        )
    }
}
