//! One hook run for each interface: read the databags, answer what can be answered, write the
//! databags. The only I/O is through the [`Answerer`].
//!
//! Order of answers for one request: does not load → `unsupported` (here); refused by
//! [`spec()`] without a cloud (nothing any provider can do) → `unsupported` (here); otherwise
//! the answerer (which reads it with [`spec()`] against its cloud)
//! decides (address, `unsupported` for what this provider lacks, `provider_error`, or not yet).
//! A request that stops loading stays a current request: what was built for it is kept until
//! the request is fixed or removed, so a bad edit never tears down a working load balancer.

use std::collections::BTreeMap;

use crate::relation::answer::{AnswerError, Answerer, Current, Interface, RequestKey};
use crate::relation::databag::{self, HookInput, HookOutput};
use crate::relation::public_address;
use crate::relation::v1::Response;
use crate::spec::spec;

/// What a hook run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookResult {
    /// The writes (always complete and valid, even when `problems` is not empty).
    pub output: HookOutput,
    /// What could not be done, one line each (what failed, on which request, what to do).
    pub problems: Vec<String>,
    /// Notes that need no action (skipped relations, requests still converging).
    pub notes: Vec<String>,
    /// Some problem was [`AnswerError::NoCloud`] or [`AnswerError::Settings`] (settings are
    /// missing or must be fixed, not the cloud failing).
    pub no_cloud: bool,
}

/// Problems of one run, remembering whether any was a missing cloud.
#[derive(Default)]
struct Problems {
    lines: Vec<String>,
    no_cloud: bool,
}

impl Problems {
    fn push(&mut self, line: String) {
        self.lines.push(line);
    }

    fn failed(&mut self, line: String, error: &AnswerError) {
        self.no_cloud |= matches!(error, AnswerError::NoCloud(_) | AnswerError::Settings(_));
        self.lines.push(line);
    }
}

/// `lb-consumers`: answers every request; requests that do not load are answered
/// `unsupported` here, the rest by `answerer`.
pub async fn lb_consumers<A: Answerer>(input: &HookInput, answerer: &A) -> HookResult {
    let reading = databag::read(input);
    let mut answers: BTreeMap<RequestKey, Response> = BTreeMap::new();
    let mut problems = Problems::default();
    let mut notes = Vec::new();
    for rel in &reading.relations {
        if let Some(why) = &rel.skipped {
            notes.push(format!("relation {}: {why}", rel.id));
        }
        for incoming in &rel.requests {
            match &incoming.request {
                Err(invalid) => {
                    notes.push(format!("{}: answered unsupported: {invalid}", incoming.key));
                    let answer = Response::rejected(invalid);
                    if let Err(e) = answerer.refused(&incoming.key, &answer).await {
                        problems.failed(format!("{}: cannot record: {e}", incoming.key), &e);
                    }
                    answers.insert(incoming.key.clone(), answer);
                }
                Ok(request) => match spec(request, None) {
                    Err(unsupported) => {
                        notes.push(format!(
                            "{}: answered unsupported: {unsupported}",
                            incoming.key
                        ));
                        let answer = Response::unsupported(request, unsupported.failure());
                        if let Err(e) = answerer.refused(&incoming.key, &answer).await {
                            problems.failed(format!("{}: cannot record: {e}", incoming.key), &e);
                        }
                        answers.insert(incoming.key.clone(), answer);
                    }
                    Ok(_) => match answerer.answer(&incoming.key, request).await {
                        Ok(Some(answer)) => {
                            answers.insert(incoming.key.clone(), answer);
                        }
                        Ok(None) => {
                            notes.push(format!("{}: still converging; no answer yet", incoming.key))
                        }
                        Err(e) => {
                            problems.failed(format!("{}: cannot answer: {e}", incoming.key), &e)
                        }
                    },
                },
            }
        }
        for key in &rel.gone {
            if let Err(e) = answerer.forget(key).await {
                problems.failed(
                    format!("{key}: request removed, but cannot remove what was built for it: {e}"),
                    &e,
                );
            }
        }
    }
    if let Err(e) = answerer
        .retain(Interface::LoadBalancer, &reading.current())
        .await
    {
        problems.failed(
            format!("cannot clean up requests that no longer exist: {e}"),
            &e,
        );
    }
    HookResult {
        output: databag::write(&reading, &answers),
        problems: problems.lines,
        notes,
        no_cloud: problems.no_cloud,
    }
}

/// `public-address` (legacy): one request per related application.
pub async fn public_address<A: Answerer>(
    input: &HookInput,
    answerer: &A,
    frontend_port: u16,
) -> HookResult {
    let (requests, gone) = public_address::read(input, frontend_port);
    let mut answers = BTreeMap::new();
    let mut problems = Problems::default();
    let mut notes = Vec::new();
    let mut current = std::collections::BTreeSet::new();
    for legacy in &requests {
        current.insert(legacy.key.clone());
        match &legacy.request {
            Err(why) => problems.push(format!("{}: {why}", legacy.key)),
            Ok(request) => match spec(request, None) {
                Err(unsupported) => {
                    problems.push(format!("{}: cannot be served: {unsupported}", legacy.key))
                }
                Ok(_) => match answerer.answer(&legacy.key, request).await {
                    Ok(Some(answer)) => {
                        if let Some(kind) = answer.error() {
                            // The legacy interface has no error field: say it here.
                            problems.push(format!(
                                "{}: {kind}: {}",
                                legacy.key,
                                answer.error_message().unwrap_or("see error fields")
                            ));
                        }
                        answers.insert(legacy.key.clone(), answer);
                    }
                    Ok(None) => {
                        notes.push(format!("{}: still converging; no address yet", legacy.key))
                    }
                    Err(e) => problems.failed(format!("{}: cannot answer: {e}", legacy.key), &e),
                },
            },
        }
    }
    for key in &gone {
        if let Err(e) = answerer.forget(key).await {
            problems.failed(
                format!("{key}: no units left, but cannot remove what was built: {e}"),
                &e,
            );
        }
    }
    if let Err(e) = answerer
        .retain(Interface::PublicAddress, &Current::of(current))
        .await
    {
        problems.failed(
            format!("cannot clean up relations that no longer exist: {e}"),
            &e,
        );
    }
    HookResult {
        output: public_address::write(input, &answers, &gone, frontend_port),
        problems: problems.lines,
        notes,
        no_cloud: problems.no_cloud,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    use super::*;
    use crate::relation::answer::{AnswerError, NoCloud};
    use crate::relation::databag::RelationInput;
    use crate::relation::v1::{Address, ErrorKind, Protocol, Request};
    use crate::spec::{self, Cloud, MonitorKind, Provider, ProviderCaps, ProviderKind, Site};

    /// A stand-in for the reconciler: reads requests with [`spec()`] against a cloud, answers
    /// converged requests with a fixed address, keeps `converging` ones pending, records calls.
    #[derive(Default)]
    struct StandIn {
        converging: BTreeSet<String>,
        forgotten: Mutex<Vec<RequestKey>>,
        retained: Mutex<Vec<(Interface, BTreeSet<RequestKey>)>>,
    }

    fn caps() -> ProviderCaps {
        ProviderCaps {
            protocols: [Protocol::Tcp, Protocol::Udp].into(),
            algorithms: vec!["ROUND_ROBIN".into()],
            source_ip_persistence: true,
            monitor_kinds: [MonitorKind::Tcp, MonitorKind::Http].into(),
            vip_address: true,
            monitor_port_override: true,
        }
    }

    /// A site with a floating network: public requests get a floating IP.
    fn site() -> Site {
        Site {
            cluster_id: "demo".into(),
            vip_subnet_id: "vip-subnet".into(),
            vip_network_id: None,
            member_subnet_id: "member-subnet".into(),
            member_network_id: None,
            member_subnet_cidr: None,
            floating_network_id: Some("ext-net".into()),
            provider: None,
            flavor_id: None,
            availability_zone: None,
            manage_security_groups: false,
            preserves_client_ip: false,
            closest_health_check: false,
        }
    }

    impl Answerer for StandIn {
        async fn answer(
            &self,
            key: &RequestKey,
            request: &Request,
        ) -> Result<Option<Response>, AnswerError> {
            if self.converging.contains(&key.name) {
                return Ok(None);
            }
            let provider = Provider::with_caps(ProviderKind::Amphora, caps(), "ROUND_ROBIN");
            let cloud = Cloud {
                key: &spec::LbIdentity::from(key),
                provider: &provider,
                site: &site(),
            };
            Ok(Some(match spec::spec(request, Some(cloud)) {
                Err(refusal) => Response::unsupported(request, refusal.failure()),
                Ok(built) => {
                    let public = built.is_some_and(|b| b.desired.floating_ip.is_some());
                    let last = if public { "10" } else { "20" };
                    Response::success(
                        request,
                        Address::parse(&format!("203.0.113.{last}"))
                            .map_err(|e| AnswerError::Failed(e.to_string()))?,
                    )
                }
            }))
        }
        async fn forget(&self, key: &RequestKey) -> Result<(), AnswerError> {
            self.forgotten.lock().unwrap().push(key.clone());
            Ok(())
        }
        async fn retain(&self, interface: Interface, current: &Current) -> Result<(), AnswerError> {
            self.retained
                .lock()
                .unwrap()
                .push((interface, current.keys.clone()));
            Ok(())
        }
    }

    fn request(name: &str, front: i64, public: bool) -> String {
        let mut r = Request::new(
            "id-".to_string() + name,
            name,
            Protocol::Tcp,
            [(front, 6443)].into(),
        );
        r.public = public;
        r.sealed().canonical_json()
    }

    fn input() -> HookInput {
        let app_data = [
            ("version", "1".to_string()),
            (
                "request_api-server-external",
                request("api-server-external", 443, true),
            ),
            (
                "request_api-server-internal",
                request("api-server-internal", 6443, false),
            ),
            ("request_https", {
                let mut r = Request::new("x", "https", Protocol::Https, [(443, 443)].into());
                r.sticky = true;
                r.sealed().canonical_json()
            }),
            ("request_slow", request("slow", 443, true)),
            ("request_tls", {
                let mut r = Request::new("t", "tls", Protocol::Tcp, [(443, 443)].into());
                r.tls_termination = true;
                r.sealed().canonical_json()
            }),
            ("request_bad", "[]".to_string()),
        ];
        HookInput {
            relations: vec![RelationInput {
                id: 7,
                app: "kubernetes-control-plane".into(),
                app_data: app_data
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
                units: [(
                    "kubernetes-control-plane/0".to_string(),
                    [("ingress-address".to_string(), "10.5.0.10".to_string())].into(),
                )]
                .into(),
                local_app_data: Some([("response_removed".to_string(), "{}".to_string())].into()),
            }],
        }
    }

    #[tokio::test]
    async fn every_request_is_answered_converging_ones_wait_and_removed_ones_are_forgotten() {
        let standin = StandIn {
            converging: ["slow".to_string()].into(),
            ..Default::default()
        };
        let result = lb_consumers(&input(), &standin).await;
        assert!(result.problems.is_empty(), "{:?}", result.problems);
        let rel = &result.output.relations[0];
        let get = |name: &str| Response::parse(&rel.set[&format!("response_{name}")]).unwrap();
        assert_eq!(get("api-server-external").address(), Some("203.0.113.10"));
        assert_eq!(get("api-server-internal").address(), Some("203.0.113.20"));
        let https = get("https");
        assert_eq!(https.error(), Some(ErrorKind::Unsupported));
        assert_eq!(
            https.error_fields().keys().collect::<Vec<_>>(),
            ["protocol"]
        );
        assert_eq!(get("bad").error(), Some(ErrorKind::Unsupported));
        assert!(!rel.set.contains_key("response_slow"));
        assert_eq!(rel.set["version"], "1");
        assert_eq!(rel.unset, ["response_removed"]);
        assert_eq!(
            *standin.forgotten.lock().unwrap(),
            [RequestKey::new(7, "kubernetes-control-plane", "removed")]
        );
        let retained = standin.retained.lock().unwrap();
        assert_eq!(retained[0].0, Interface::LoadBalancer);
        assert_eq!(retained[0].1.len(), 6); // bad requests are current requests too
    }

    #[tokio::test]
    async fn without_a_cloud_only_bad_requests_are_answered_and_the_rest_is_a_clear_problem() {
        let result = lb_consumers(&input(), &NoCloud::new("pass --config PATH")).await;
        let rel = &result.output.relations[0];
        assert_eq!(
            rel.set.keys().collect::<Vec<_>>(),
            ["response_bad", "response_tls", "version"]
        );
        let tls = Response::parse(&rel.set["response_tls"]).unwrap();
        assert_eq!(tls.error(), Some(ErrorKind::Unsupported));
        assert_eq!(
            tls.error_fields().keys().collect::<Vec<_>>(),
            ["tls_termination"]
        );
        assert_eq!(result.problems.len(), 5); // four requests + one forget
        assert!(result.no_cloud);
        assert!(result
            .problems
            .iter()
            .all(|p| p.contains("no cloud configured: pass --config PATH")));
    }

    #[tokio::test]
    async fn public_address_publishes_the_answer_and_removes_it_when_units_leave() {
        let mut i = input();
        i.relations[0].units.insert(
            "kubernetes-control-plane/1".into(),
            [
                ("private-address".to_string(), "10.5.0.11".to_string()),
                ("port".to_string(), "6443".to_string()),
            ]
            .into(),
        );
        let standin = StandIn::default();
        let result = public_address(&i, &standin, 443).await;
        assert!(result.problems.is_empty(), "{:?}", result.problems);
        assert_eq!(
            serde_json::to_value(&result.output).unwrap(),
            serde_json::json!({"relations": [{"id": 7, "set": {"public-address": "203.0.113.10", "port": "443"}, "unset": ["extended_data"]}]})
        );
        i.relations[0].units.clear();
        let result = public_address(&i, &standin, 443).await;
        assert_eq!(
            result.output.relations[0].unset,
            ["public-address", "port", "extended_data"]
        );
        assert_eq!(standin.forgotten.lock().unwrap().len(), 1);
        assert_eq!(
            standin.retained.lock().unwrap()[1].0,
            Interface::PublicAddress
        );
    }
}
