//! The legacy `public-address` interface (our `loadbalancer` endpoint; research §2.1), pure.
//!
//! Same envelope as `lb-consumers` ([`HookInput`] / [`HookOutput`]), but the data lives in
//! **unit** databags and values are raw strings:
//! - in: each remote unit's `ingress-address` (else `private-address`) and `port` (backend
//!   port, default `"6443"`); `app_data` and `local_app_data` are not used;
//! - out (to our unit databag): `public-address` and `port` (our frontend port), and
//!   `extended_data` (JSON list of `{"public-address", "port"}` for the 2nd..nth address) only
//!   when there is more than one address.
//!
//! Each related application is one request, named [`REQUEST_NAME`], turned into an ordinary
//! v1 [`Request`] (tcp, `{frontend: backend}`, public, backends in unit-name order) so the
//! same answerer serves both interfaces.

use std::collections::BTreeMap;

use super::answer::RequestKey;
use super::databag::{HookInput, HookOutput, RelationOutput};
use super::v1::{Protocol, Request, Response};

/// The request name used for a legacy relation.
pub const REQUEST_NAME: &str = "public-address";
/// The backend port when a unit does not say (`"6443"`, as the Python integrator assumes).
pub const DEFAULT_BACKEND_PORT: u16 = 6443;
/// Our frontend port by default (the Python integrator's `lb-port` default).
pub const DEFAULT_FRONTEND_PORT: u16 = 443;

/// Keys we write.
const KEYS: [&str; 3] = ["public-address", "port", "extended_data"];

/// One related application's request, or why none can be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyRequest {
    /// Relation, app, [`REQUEST_NAME`].
    pub key: RequestKey,
    /// The request, or why the units' data cannot make one.
    pub request: Result<Request, String>,
}

/// Reads every relation with at least one unit that has an address. Relations without are
/// returned in `gone` (their load balancer, if any, is no longer needed).
pub fn read(input: &HookInput, frontend_port: u16) -> (Vec<LegacyRequest>, Vec<RequestKey>) {
    let mut requests = Vec::new();
    let mut gone = Vec::new();
    for rel in &input.relations {
        let key = RequestKey::new(rel.id, rel.app.clone(), REQUEST_NAME);
        let mut backends = Vec::new();
        let mut ports = BTreeMap::new();
        for (unit, data) in &rel.units {
            let address = [data.get("ingress-address"), data.get("private-address")]
                .into_iter()
                .flatten()
                .find(|a| !a.is_empty());
            let Some(address) = address else { continue };
            backends.push(address.clone());
            let port = match data.get("port").map(|p| p.trim()) {
                None | Some("") => Ok(DEFAULT_BACKEND_PORT),
                Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| {
                    format!("unit {unit} published port {p:?}, which is not a port number")
                }),
            };
            ports.insert(unit.clone(), port);
        }
        if backends.is_empty() {
            gone.push(key);
            continue;
        }
        let request = backend_port(&rel.app, &ports).map(|backend| {
            let mut r = Request::new(
                format!("{REQUEST_NAME}-{}", rel.id),
                REQUEST_NAME,
                Protocol::Tcp,
                BTreeMap::from([(i64::from(frontend_port), i64::from(backend))]),
            );
            r.backends = backends;
            r.sealed()
        });
        requests.push(LegacyRequest { key, request });
    }
    (requests, gone)
}

/// The one backend port all units agree on.
fn backend_port(app: &str, ports: &BTreeMap<String, Result<u16, String>>) -> Result<u16, String> {
    let mut distinct = std::collections::BTreeSet::new();
    for port in ports.values() {
        distinct.insert(port.clone()?);
    }
    match distinct.len() {
        1 => Ok(*distinct.iter().next().unwrap_or(&DEFAULT_BACKEND_PORT)),
        _ => {
            Err(format!(
            "the units of {app} publish different ports ({}); one load balancer pool needs one \
             backend port: set the same `port` on every unit",
            distinct.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
        ))
        }
    }
}

/// The writes: every relation with a successful answer gets `public-address` and `port`;
/// relations whose request is gone get those keys removed; others are left as they are
/// (a relation still converging keeps whatever it had).
pub fn write(
    input: &HookInput,
    answers: &BTreeMap<RequestKey, Response>,
    gone: &[RequestKey],
    frontend_port: u16,
) -> HookOutput {
    let relations = input
        .relations
        .iter()
        .map(|rel| {
            let key = RequestKey::new(rel.id, rel.app.clone(), REQUEST_NAME);
            let mut out = RelationOutput {
                id: rel.id,
                set: BTreeMap::new(),
                unset: Vec::new(),
            };
            if gone.contains(&key) {
                out.unset = KEYS.iter().map(|k| k.to_string()).collect();
            } else if let Some(address) = answers.get(&key).and_then(success_address) {
                let addresses = [(address.to_owned(), frontend_port.to_string())];
                publish(&mut out, &addresses);
            }
            out
        })
        .collect();
    HookOutput { relations }
}

fn success_address(r: &Response) -> Option<&str> {
    match r.error() {
        None => r.address(),
        Some(_) => None,
    }
}

/// `public-address` / `port` for the first address, `extended_data` for the rest.
fn publish(out: &mut RelationOutput, addresses: &[(String, String)]) {
    let Some((first, rest)) = addresses.split_first() else {
        return;
    };
    out.set.insert("public-address".into(), first.0.clone());
    out.set.insert("port".into(), first.1.clone());
    if rest.is_empty() {
        out.unset.push("extended_data".into());
    } else {
        let extended: Vec<serde_json::Value> = rest
            .iter()
            .map(|(a, p)| serde_json::json!({"public-address": a, "port": p}))
            .collect();
        out.set.insert(
            "extended_data".into(),
            serde_json::Value::from(extended).to_string(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relation::databag::RelationInput;
    use crate::relation::v1::Address;

    fn rel(id: u64, units: &[(&str, &[(&str, &str)])]) -> RelationInput {
        RelationInput {
            id,
            app: "kubernetes-master".into(),
            app_data: BTreeMap::new(),
            units: units
                .iter()
                .map(|(u, kv)| {
                    (
                        u.to_string(),
                        kv.iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                    )
                })
                .collect(),
            local_app_data: None,
        }
    }

    #[test]
    fn units_become_one_request_per_app() {
        let input = HookInput {
            relations: vec![
                rel(
                    3,
                    &[
                        ("kubernetes-master/10", &[("ingress-address", "10.0.0.10")]),
                        (
                            "kubernetes-master/2",
                            &[("private-address", "10.0.0.2"), ("port", "6443")],
                        ),
                        ("kubernetes-master/3", &[("egress-subnets", "x")]),
                    ],
                ),
                rel(4, &[]),
            ],
        };
        let (requests, gone) = read(&input, DEFAULT_FRONTEND_PORT);
        assert_eq!(
            gone,
            [RequestKey::new(4, "kubernetes-master", REQUEST_NAME)]
        );
        let r = requests[0].request.as_ref().unwrap();
        assert_eq!(r.backends, ["10.0.0.10", "10.0.0.2"]); // unit-name string order
        assert_eq!(r.port_mapping, BTreeMap::from([(443, 6443)]));
        assert_eq!(r.sent_hash.as_deref(), Some(r.compute_sent_hash().as_str()));

        let answer = Response::success(r, Address::parse("203.0.113.7").unwrap());
        let answers = BTreeMap::from([(requests[0].key.clone(), answer)]);
        let out = write(&input, &answers, &gone, DEFAULT_FRONTEND_PORT);
        assert_eq!(
            serde_json::to_value(&out).unwrap(),
            serde_json::json!({"relations": [
                {"id": 3, "set": {"public-address": "203.0.113.7", "port": "443"}, "unset": ["extended_data"]},
                {"id": 4, "set": {}, "unset": ["public-address", "port", "extended_data"]}
            ]})
        );
    }

    #[test]
    fn disagreeing_or_bad_ports_are_an_explained_error() {
        let input = HookInput {
            relations: vec![
                rel(
                    1,
                    &[
                        ("a/0", &[("ingress-address", "10.0.0.1"), ("port", "80")]),
                        ("a/1", &[("ingress-address", "10.0.0.2")]),
                    ],
                ),
                rel(
                    2,
                    &[("a/0", &[("ingress-address", "10.0.0.1"), ("port", "http")])],
                ),
            ],
        };
        let (requests, _) = read(&input, 8443);
        assert!(requests[0]
            .request
            .as_ref()
            .unwrap_err()
            .contains("80, 6443"));
        assert!(requests[1]
            .request
            .as_ref()
            .unwrap_err()
            .contains("\"http\""));
    }

    #[test]
    fn errors_and_converging_requests_publish_nothing_and_several_addresses_use_extended_data() {
        let input = HookInput {
            relations: vec![rel(1, &[("a/0", &[("ingress-address", "10.0.0.1")])])],
        };
        let (requests, gone) = read(&input, 443);
        let r = requests[0].request.as_ref().unwrap();
        let failed =
            Response::provider_error(r, crate::relation::Failure::message("quota").unwrap());
        let out = write(
            &input,
            &BTreeMap::from([(requests[0].key.clone(), failed)]),
            &gone,
            443,
        );
        assert!(out.relations[0].set.is_empty() && out.relations[0].unset.is_empty());
        let out = write(&input, &BTreeMap::new(), &gone, 443);
        assert!(out.relations[0].set.is_empty());

        let mut o = RelationOutput {
            id: 1,
            set: BTreeMap::new(),
            unset: Vec::new(),
        };
        publish(
            &mut o,
            &[
                ("a".into(), "443".into()),
                ("b".into(), "443".into()),
                ("c".into(), "6443".into()),
            ],
        );
        assert_eq!(
            o.set["extended_data"],
            r#"[{"port":"443","public-address":"b"},{"port":"6443","public-address":"c"}]"#
        );
    }
}
