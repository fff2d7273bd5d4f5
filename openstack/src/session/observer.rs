//! A hook for metrics: every HTTP attempt the session makes (Keystone included) is reported.

use std::fmt;
use std::time::Duration;

/// One HTTP attempt, as metrics see it. Holds no secret and no query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Catalog type of the service (`identity`, `load-balancer`, `network`).
    pub service: &'static str,
    /// HTTP method (`GET`, `POST`…).
    pub method: String,
    /// Path template with id-like segments (UUIDs, 32-hex ids) replaced by `{id}`, e.g.
    /// `lbaas/loadbalancers/{id}`: low-cardinality, fit for a metric label.
    pub route: String,
    /// HTTP status, or `None` when no answer came (transport error, timeout).
    pub status: Option<u16>,
    /// Time from sending to having read the whole answer (or failing).
    pub elapsed: Duration,
    /// 1 for the first attempt of a call, 2 for its first retry, and so on.
    pub attempt: u32,
}

/// Receives a [`CallRecord`] for every attempt. Must be quick and must not block.
pub trait CallObserver: Send + Sync {
    /// Called once per HTTP attempt, after it ended.
    fn on_call(&self, record: &CallRecord);
}

impl fmt::Debug for dyn CallObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallObserver")
    }
}

/// Replaces id-like path segments with `{id}`: dashed UUIDs and 32-hex Keystone ids.
pub fn route_template(path: &str) -> String {
    path.split('/')
        .map(|seg| if is_id_like(seg) { "{id}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

fn is_id_like(seg: &str) -> bool {
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if seg.len() == 32 && hex(seg) {
        return true;
    }
    let parts: Vec<&str> = seg.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && hex(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_placeholders() {
        assert_eq!(
            route_template("lbaas/pools/8b0c6e2a-5a3c-4d7e-9d3a-3c0f6f4a0b1e/members"),
            "lbaas/pools/{id}/members"
        );
        assert_eq!(
            route_template("/v3/projects/e3cd678b11784734bc366148aa37580e"),
            "/v3/projects/{id}"
        );
        assert_eq!(route_template("lbaas/loadbalancers"), "lbaas/loadbalancers");
        assert_eq!(
            route_template("floatingips/not-an-id"),
            "floatingips/not-an-id"
        );
        assert_eq!(route_template("ports/deadbeef"), "ports/deadbeef");
    }
}
