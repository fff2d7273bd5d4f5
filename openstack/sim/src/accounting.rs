//! Per-route call counters: every service call the simulator answered (or dropped).

use std::collections::BTreeMap;

use serde::Serialize;

/// One call the simulator saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecord {
    /// HTTP method.
    pub method: String,
    /// Route template with ids as `{id}` (e.g. `/load-balancer/v2/lbaas/loadbalancers/{id}`);
    /// internal-interface and other-region mounts are folded onto the public one, and Octavia's
    /// `/v2.0` alias onto `/v2`.
    pub route: String,
    /// Status answered (0 when the connection was dropped or stalled).
    pub status: u16,
}

/// A snapshot of the calls so far.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Calls {
    /// Every call in arrival order.
    pub records: Vec<CallRecord>,
}

impl Calls {
    /// Calls to one method + route template.
    pub fn count(&self, method: &str, route: &str) -> usize {
        self.records
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.route == route)
            .count()
    }

    /// All calls.
    pub fn total(&self) -> usize {
        self.records.len()
    }

    /// Polls: GET (and HEAD) calls.
    pub fn polls(&self) -> usize {
        self.records.iter().filter(|r| is_poll(&r.method)).count()
    }

    /// Mutations: every call that is not a poll (token requests included).
    pub fn mutations(&self) -> usize {
        self.total() - self.polls()
    }

    /// Mutations excluding Keystone token requests.
    pub fn cloud_mutations(&self) -> usize {
        self.records
            .iter()
            .filter(|r| !is_poll(&r.method) && r.route != "/v3/auth/tokens")
            .count()
    }

    /// Token requests (`POST /v3/auth/tokens`).
    pub fn auths(&self) -> usize {
        self.count("POST", "/v3/auth/tokens")
    }

    /// Counts per `"METHOD route"`.
    pub fn by_route(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in &self.records {
            *out.entry(format!("{} {}", r.method, r.route)).or_insert(0) += 1;
        }
        out
    }

    /// Calls after the first `n` (to count what one step of a test did).
    pub fn since(&self, n: usize) -> Calls {
        Calls {
            records: self.records.iter().skip(n).cloned().collect(),
        }
    }
}

fn is_poll(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

/// Turn a matched route (`/load-balancer/v2/lbaas/loadbalancers/{id}` with any param name,
/// possibly under `/internal` or `/<Region>`) into the accounting template.
pub(crate) fn template(matched: &str, actual: &str, mounts: &[(String, String)]) -> String {
    let actual: Vec<&str> = actual.split('/').collect();
    let mut path = matched
        .split('/')
        .enumerate()
        .map(|(i, seg)| {
            if seg == "{coll}" {
                actual.get(i).copied().unwrap_or(seg)
            } else if seg.starts_with('{') && seg.ends_with('}') {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    for (alias, public) in mounts {
        if alias != public {
            if let Some(rest) = path.strip_prefix(alias.as_str()) {
                if rest.is_empty() || rest.starts_with('/') {
                    path = format!("{public}{rest}");
                    break;
                }
            }
        }
    }
    // `/v2.0` is a permanent alias of `/v2` in Octavia: count both as `/v2`.
    if let Some(rest) = path.strip_prefix("/load-balancer/v2.0/") {
        path = format!("/load-balancer/v2/{rest}");
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fold_aliases_and_ids() {
        let mounts = vec![
            ("/load-balancer".to_string(), "/load-balancer".to_string()),
            (
                "/internal/load-balancer".to_string(),
                "/load-balancer".to_string(),
            ),
        ];
        assert_eq!(
            template(
                "/internal/load-balancer/v2/lbaas/pools/{id}/members/{member_id}",
                "/internal/load-balancer/v2/lbaas/pools/a/members/b",
                &mounts
            ),
            "/load-balancer/v2/lbaas/pools/{id}/members/{id}"
        );
        assert_eq!(
            template(
                "/networking/v2.0/{coll}/{id}",
                "/networking/v2.0/floatingips/x",
                &mounts
            ),
            "/networking/v2.0/floatingips/{id}"
        );
    }

    #[test]
    fn counts_polls_and_mutations() {
        let rec = |m: &str, r: &str| CallRecord {
            method: m.into(),
            route: r.into(),
            status: 200,
        };
        let calls = Calls {
            records: vec![
                rec("POST", "/v3/auth/tokens"),
                rec("GET", "/a"),
                rec("PUT", "/a"),
                rec("GET", "/a"),
            ],
        };
        assert_eq!(calls.polls(), 2);
        assert_eq!(calls.mutations(), 2);
        assert_eq!(calls.cloud_mutations(), 1);
        assert_eq!(calls.auths(), 1);
        assert_eq!(calls.count("get", "/a"), 2);
        assert_eq!(calls.since(2).total(), 2);
    }
}
