//! What a reconcile ends with ([`Outcome`]), and the one pure function that maps a cloud error
//! to it ([`outcome_of_error`]). When to look again is not decided here: an unfinished
//! outcome says why ([`Setback`]) and [`requeue::error_policy`](super::requeue::error_policy)
//! decides.

use super::requeue::Setback;
use crate::relation::v1::{Address, ErrorKind, Failure, Request, RequestField, Response};

/// How a reconcile of one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The load balancer is as desired and ACTIVE.
    Ready(Ready),
    /// The request cannot be served as asked, or the cloud refused: answer with this error.
    Failed {
        /// `unsupported` (fix the request) or `provider_error` (the cloud or its setup).
        kind: ErrorKind,
        /// Message and/or request fields at fault.
        failure: Failure,
        /// Why (what the requeue policy decides the next pass from).
        setback: Setback,
    },
    /// Not done yet (still provisioning, a repair is due later, the cloud is unreachable):
    /// no answer yet, look again later.
    Converging {
        /// Why, for logs and status.
        why: String,
        /// What the requeue policy decides the next pass from.
        setback: Setback,
    },
}

/// A served request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// The address to answer with: the floating IP of a public request, else the VIP.
    pub address: String,
    /// The load balancer.
    pub load_balancer_id: String,
    /// Its VIP.
    pub vip_address: String,
    /// Its floating IP, if any.
    pub floating_ip: Option<String>,
    /// What was changed in this reconcile (empty when nothing needed changing).
    pub actions: Vec<String>,
}

impl Outcome {
    /// The relation answer for `request`, or `None` while converging (the requirer waits).
    pub fn response(&self, request: &Request) -> Option<Response> {
        match self {
            Outcome::Ready(r) => match Address::parse(&r.address) {
                Ok(address) => Some(Response::success(request, address)),
                Err(e) => Some(Response::provider_error(
                    request,
                    Failure::message(format!(
                        "the cloud gave the load balancer an unusable address `{}`: {e:?}",
                        r.address
                    ))
                    .unwrap_or_else(|_| Failure::field(RequestField::Name, "bad address")),
                )),
            },
            Outcome::Failed { kind, failure, .. } => Some(match kind {
                ErrorKind::Unsupported => Response::unsupported(request, failure.clone()),
                ErrorKind::ProviderError => Response::provider_error(request, failure.clone()),
            }),
            Outcome::Converging { .. } => None,
        }
    }

    /// A provider error with a message.
    pub fn provider_error(message: impl Into<String>, setback: Setback) -> Outcome {
        Outcome::Failed {
            kind: ErrorKind::ProviderError,
            failure: message_failure(message.into()),
            setback,
        }
    }

    /// Why the request is not served yet (`None`: it is).
    pub fn setback(&self) -> Option<Setback> {
        match self {
            Outcome::Ready(_) => None,
            Outcome::Failed { setback, .. } | Outcome::Converging { setback, .. } => Some(*setback),
        }
    }
}

fn message_failure(message: String) -> Failure {
    Failure::message(message)
        .unwrap_or_else(|_| Failure::field(RequestField::Name, "the cloud refused this request"))
}

/// Maps a cloud error met while serving a request to an outcome. Pure.
///
/// - quota → `provider_error` naming the exhausted resource (the service's message says
///   which); someone must act;
/// - 501 provider refusal → `unsupported` with the request field at fault in `error_fields`
///   when the message names one, else `provider_error`;
/// - refused credentials / missing role → `provider_error` saying what to fix;
/// - still provisioning past the budget, 5xx, timeouts, unreachable, busy → keep converging;
/// - anything else → `provider_error` with the service's message.
///
/// An answer's words never include the request id of the call that failed (it differs on
/// every attempt: a changing answer would make the daemon notify the charm again each time);
/// the id stays in the logs and in `Converging::why`.
pub fn outcome_of_error(error: &openstack::Error) -> Outcome {
    use openstack::Error as E;
    let text = answer_text(error);
    match error {
        E::WaitTimedOut { .. } | E::Cancelled { .. } => Outcome::Converging {
            why: error.to_string(),
            setback: Setback::Busy,
        },
        e if e.is_retryable() => Outcome::Converging {
            why: error.to_string(),
            setback: Setback::Busy,
        },
        E::QuotaExceeded(_) => Outcome::Failed {
            kind: ErrorKind::ProviderError,
            failure: message_failure(format!("quota exceeded: {text}")),
            setback: Setback::NeedsOperator,
        },
        E::NotImplemented(f) => {
            let fields = fields_named_in(&f.message);
            let message = scrub(&f.message, error);
            if fields.is_empty() {
                Outcome::Failed {
                    kind: ErrorKind::ProviderError,
                    failure: message_failure(text),
                    setback: Setback::NeedsOperator,
                }
            } else {
                let mut failure = Failure::field(fields[0], message.clone());
                for extra in &fields[1..] {
                    failure = failure.and_field(*extra, message.clone());
                }
                Outcome::Failed {
                    kind: ErrorKind::Unsupported,
                    failure: failure.and_message(text),
                    setback: Setback::Unservable,
                }
            }
        }
        E::Unauthorized(_) | E::Forbidden(_) | E::Auth(_) | E::NoEndpoint { .. } | E::Config(_) => {
            Outcome::Failed {
                kind: ErrorKind::ProviderError,
                failure: message_failure(format!("the cloud refused our credentials: {text}")),
                setback: Setback::NeedsOperator,
            }
        }
        E::BadRequest(f) => {
            let fields = fields_named_in(&f.message);
            let message = scrub(&f.message, error);
            let mut failure = message_failure(text);
            for field in fields {
                failure = failure.and_field(field, message.clone());
            }
            Outcome::Failed {
                kind: ErrorKind::ProviderError,
                failure,
                setback: Setback::NeedsOperator,
            }
        }
        _ => Outcome::Failed {
            kind: ErrorKind::ProviderError,
            failure: message_failure(text),
            setback: Setback::NeedsOperator,
        },
    }
}

/// The error as said in a relation answer: its text without the request id, so the same
/// failure always reads the same.
fn answer_text(error: &openstack::Error) -> String {
    let text = error.to_string();
    match error.request_id().filter(|id| !id.is_empty()) {
        Some(id) => scrub(&text.replace(&format!(" [request id {id}]"), ""), error),
        None => text,
    }
}

/// `text` without the error's request id (a service may echo it in its message).
fn scrub(text: &str, error: &openstack::Error) -> String {
    match error.request_id().filter(|id| !id.is_empty()) {
        Some(id) => text.replace(id, "(request id in the logs)"),
        None => text.to_string(),
    }
}

/// The request fields a provider's refusal is about, from the words Octavia uses.
fn fields_named_in(message: &str) -> Vec<RequestField> {
    let m = message.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut add = |f: RequestField| {
        if !out.contains(&f) {
            out.push(f);
        }
    };
    if m.contains("algorithm")
        || m.contains("source_ip_port")
        || m.contains("round_robin")
        || m.contains("least_connections")
    {
        add(RequestField::Algorithm);
    }
    if m.contains("protocol") || m.contains("http") || m.contains("udp") || m.contains("sctp") {
        if m.contains("monitor") || m.contains("health") {
            add(RequestField::HealthChecks);
        } else {
            add(RequestField::Protocol);
        }
    } else if m.contains("monitor") || m.contains("health") {
        add(RequestField::HealthChecks);
    }
    if m.contains("persistence") {
        add(RequestField::Sticky);
    }
    if m.contains("vip_address") || m.contains("vip address") {
        add(RequestField::IngressAddress);
    }
    if m.contains("member") || m.contains("monitor_port") {
        add(RequestField::Backends);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::requeue::error_policy;
    use openstack::error::ServiceFailure;
    use std::time::Duration;

    fn err(status: u16, body: &str) -> openstack::Error {
        openstack::Error::from_failure(ServiceFailure::from_response(
            "load-balancer",
            "POST",
            "/v2/lbaas/loadbalancers",
            status,
            Some("req-1".into()),
            body.as_bytes(),
        ))
    }

    #[test]
    fn quota_is_a_provider_error_naming_the_resource() {
        let o = outcome_of_error(&err(
            403,
            r#"{"faultstring": "Quota has been met for resources: Load Balancer"}"#,
        ));
        match o {
            Outcome::Failed {
                kind,
                failure,
                setback,
            } => {
                assert_eq!(kind, ErrorKind::ProviderError);
                assert!(failure.message_text().unwrap().contains("Load Balancer"));
                assert!(error_policy(&setback, 1).requeue_after.is_some());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn provider_refusal_names_the_request_field() {
        let o = outcome_of_error(&err(
            501,
            r#"{"faultstring": "Provider 'ovn' does not support a requested option: OVN provider does not support HTTP protocol"}"#,
        ));
        match o {
            Outcome::Failed { kind, failure, .. } => {
                assert_eq!(kind, ErrorKind::Unsupported);
                assert!(failure.fields().contains_key(&RequestField::Protocol));
            }
            other => panic!("{other:?}"),
        }
        let o = outcome_of_error(&err(
            501,
            r#"{"faultstring": "Provider 'amphora' does not support a requested option: lb_algorithm SOURCE_IP_PORT"}"#,
        ));
        assert!(
            matches!(o, Outcome::Failed { failure, .. } if failure.fields().contains_key(&RequestField::Algorithm))
        );
    }

    #[test]
    fn credentials_and_busy_and_server_errors() {
        let o = outcome_of_error(&err(401, r#"{"error": {"message": "bad", "code": 401}}"#));
        assert!(
            matches!(o, Outcome::Failed { kind: ErrorKind::ProviderError, ref failure, .. } if failure.message_text().unwrap().contains("credentials"))
        );
        assert!(matches!(
            outcome_of_error(&err(503, "{}")),
            Outcome::Converging { .. }
        ));
        assert!(matches!(
            outcome_of_error(&err(
                409,
                r#"{"faultstring": "Load Balancer 1 is immutable and cannot be updated."}"#
            )),
            Outcome::Converging { .. }
        ));
        let timed_out = openstack::Error::WaitTimedOut {
            what: "load balancer x".into(),
            goal: "ACTIVE",
            waited: Duration::from_secs(600),
            last: "PENDING_CREATE".into(),
        };
        assert!(matches!(
            outcome_of_error(&timed_out),
            Outcome::Converging { .. }
        ));
    }

    #[test]
    fn converging_has_no_response_and_ready_answers_the_address() {
        let req = Request::new(
            "id",
            "api",
            crate::relation::v1::Protocol::Tcp,
            [(443, 6443)].into_iter().collect(),
        )
        .sealed();
        let converging = Outcome::Converging {
            why: "x".into(),
            setback: Setback::Busy,
        };
        assert!(converging.response(&req).is_none());
        let ready = Outcome::Ready(Ready {
            address: "203.0.113.7".into(),
            load_balancer_id: "lb".into(),
            vip_address: "10.0.0.5".into(),
            floating_ip: Some("203.0.113.7".into()),
            actions: vec![],
        });
        let r = ready.response(&req).unwrap();
        assert_eq!(r.address(), Some("203.0.113.7"));
        assert_eq!(r.received_hash(), req.sent_hash.as_deref());
    }

    #[test]
    fn the_same_failure_answers_the_same_bytes_whatever_its_request_id() {
        let req = Request::new(
            "id",
            "api",
            crate::relation::v1::Protocol::Tcp,
            [(443, 6443)].into_iter().collect(),
        )
        .sealed();
        let failing = |status: u16, body: &str, id: &str| {
            let e = openstack::Error::from_failure(ServiceFailure::from_response(
                "load-balancer",
                "POST",
                "/v2/lbaas/loadbalancers",
                status,
                Some(id.into()),
                body.as_bytes(),
            ));
            assert!(e.to_string().contains(id), "the error itself keeps its id");
            let response = outcome_of_error(&e).response(&req).expect("an answer");
            let json = serde_json::to_string(&response).unwrap();
            assert!(!json.contains(id), "{json}");
            json
        };
        let cases = [
            (
                403,
                r#"{"faultstring": "Quota has been met for resources: Load Balancer"}"#,
            ),
            (
                501,
                r#"{"faultstring": "Provider 'amphora' does not support a requested option: lb_algorithm SOURCE_IP_PORT"}"#,
            ),
            (501, r#"{"faultstring": "Provider 'x' is unavailable"}"#),
            (401, r#"{"error": {"message": "bad", "code": 401}}"#),
            (
                400,
                r#"{"faultstring": "Invalid input for field/attribute protocol"}"#,
            ),
            (404, r#"{"faultstring": "Not found: req-aaaa-1"}"#),
            (
                501,
                r#"{"faultstring": "monitor type HTTP is not supported (req-aaaa-1)"}"#,
            ),
            (400, r#"{"faultstring": "Invalid protocol (req-aaaa-1)"}"#),
        ];
        for (status, body) in cases {
            let body_b = body.replace("req-aaaa-1", "req-bbbb-2");
            assert_eq!(
                failing(status, body, "req-aaaa-1"),
                failing(status, &body_b, "req-bbbb-2"),
                "{status} {body}"
            );
        }
    }
}
