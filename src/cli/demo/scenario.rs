//! The requests kubernetes-control-plane sends, as relation databags (research
//! juju-interfaces.md §5): used by `demo` and by the daemon and hook tests.

use std::collections::BTreeMap;

use crate::relation::databag::{HookInput, RelationInput};
use crate::relation::v1::{HealthCheck, Protocol, Request};

/// The requiring application.
pub const APP: &str = "kubernetes-control-plane";
/// Relation id of `loadbalancer-external` ↔ `lb-consumers`.
pub const EXTERNAL_RELATION: u64 = 1;
/// Relation id of `loadbalancer-internal` ↔ `lb-consumers`.
pub const INTERNAL_RELATION: u64 = 2;
/// The control-plane units and their ingress addresses (the simulated cloud's member ports).
pub const UNITS: [(&str, &str); 3] = [
    ("kubernetes-control-plane/0", "10.5.0.10"),
    ("kubernetes-control-plane/1", "10.5.0.11"),
    ("kubernetes-control-plane/2", "10.5.0.12"),
];

fn livez() -> HealthCheck {
    let mut check = HealthCheck::new(Protocol::Http, 6443);
    check.path = Some("/livez".to_string());
    check
}

/// `api-server-external`: tcp, `{443: 6443}`, public, http `/livez` on 6443; backends left
/// empty (the provider fills them from the units' ingress addresses).
pub fn external_request() -> Request {
    let mut r = Request::new(
        "5b0fdb1c-6a36-4f0e-9a4e-0c7d1b6b9e01",
        "api-server-external",
        Protocol::Tcp,
        BTreeMap::from([(443, 6443)]),
    );
    r.health_checks = vec![livez()];
    r.sealed()
}

/// `api-server-internal`: tcp, `{6443: 6443}`, not public, same health check.
pub fn internal_request() -> Request {
    let mut r = Request::new(
        "9c2d7e4a-1f83-4b65-8d2e-3a9f0b7c6d02",
        "api-server-internal",
        Protocol::Tcp,
        BTreeMap::from([(6443, 6443)]),
    );
    r.public = false;
    r.health_checks = vec![livez()];
    r.sealed()
}

/// One `lb-consumers` relation from kubernetes-control-plane carrying `requests`, with the
/// three units, and our own app databag as it stands (`local`).
pub fn relation(
    id: u64,
    requests: &[Request],
    local: Option<BTreeMap<String, String>>,
) -> RelationInput {
    let mut app_data = BTreeMap::from([("version".to_string(), "1".to_string())]);
    for r in requests {
        app_data.insert(format!("request_{}", r.name), r.canonical_json());
    }
    let units = UNITS
        .iter()
        .map(|(unit, address)| {
            (
                unit.to_string(),
                BTreeMap::from([("ingress-address".to_string(), address.to_string())]),
            )
        })
        .collect();
    RelationInput {
        id,
        app: APP.to_string(),
        app_data,
        units,
        local_app_data: local,
    }
}

/// Both relations, as a hook on the integrator's leader sees them.
pub fn both(local: &BTreeMap<u64, BTreeMap<String, String>>) -> HookInput {
    HookInput {
        relations: vec![
            relation(
                EXTERNAL_RELATION,
                &[external_request()],
                local.get(&EXTERNAL_RELATION).cloned(),
            ),
            relation(
                INTERNAL_RELATION,
                &[internal_request()],
                local.get(&INTERNAL_RELATION).cloned(),
            ),
        ],
    }
}

/// The internal relation after kubernetes-control-plane removed its request.
pub fn internal_removed(local: &BTreeMap<u64, BTreeMap<String, String>>) -> HookInput {
    HookInput {
        relations: vec![
            relation(
                EXTERNAL_RELATION,
                &[external_request()],
                local.get(&EXTERNAL_RELATION).cloned(),
            ),
            relation(
                INTERNAL_RELATION,
                &[],
                local.get(&INTERNAL_RELATION).cloned(),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_what_the_control_plane_sends() {
        let ext = external_request();
        assert!(ext.public);
        assert_eq!(ext.port_mapping, BTreeMap::from([(443, 6443)]));
        assert_eq!(ext.health_checks[0].path.as_deref(), Some("/livez"));
        let int = internal_request();
        assert!(!int.public);
        assert_eq!(int.port_mapping, BTreeMap::from([(6443, 6443)]));
        // Sealed: the hash the requirer will compare against.
        assert_eq!(ext.sent_hash, Some(ext.compute_sent_hash()));
        // What goes into the databag loads back as the same request.
        let rel = relation(1, std::slice::from_ref(&ext), None);
        let text = &rel.app_data["request_api-server-external"];
        assert_eq!(Request::parse(text).unwrap(), ext);
    }
}
