//! How the daemon keeps a request in the store: which interface it came over and the request
//! itself (canonical JSON, secrets removed), and the reconciler's key of a request.

use serde::{Deserialize, Serialize};

use crate::relation::answer::{Interface, RequestKey};
use crate::relation::v1::{Request, Response};
use crate::spec;
use crate::store::StoredEntry;

/// The JSON text the daemon stores as a request (opaque to the store), as written.
#[derive(Debug, Serialize)]
struct Envelope<'a> {
    /// `loadbalancer` or `public-address` (the interface's serde spelling).
    interface: Interface,
    /// The request's canonical JSON (backends filled, `tls_key` removed); empty for a
    /// placeholder.
    request: &'a str,
}

/// The same text, as read back: the interface stays a string until it is checked, so that a
/// hand-edited store names the interface it does not know.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredEnvelope {
    interface: String,
    request: String,
}

/// The store text for `request` received over `interface`: the one place a request is
/// encoded on its way to the reconciler. A TLS key never reaches the store (TLS termination
/// is refused anyway; the key is not needed to say so).
pub fn encode(interface: Interface, request: &Request) -> String {
    let mut request = request.clone();
    request.tls_key = None;
    let text = request.canonical_json();
    serde_json::to_string(&Envelope {
        interface,
        request: &text,
    })
    .expect("plain strings always serialize")
}

/// The store text for a request refused before any version of it loaded: its interface and
/// no request (see [`crate::store::StoredEntry::refusal`]).
pub fn placeholder(interface: Interface) -> String {
    serde_json::to_string(&Envelope {
        interface,
        request: "",
    })
    .expect("plain strings always serialize")
}

/// The interface and request of a stored entry.
///
/// # Errors
/// A message naming what is wrong (the store was edited by hand, or by another program).
pub fn decode(text: &str) -> Result<(Interface, Request), String> {
    let envelope = envelope(text)?;
    let interface = interface_named(&envelope.interface)?;
    let request = Request::parse(&envelope.request).map_err(|e| e.describe())?;
    Ok((interface, request))
}

fn envelope(text: &str) -> Result<StoredEnvelope, String> {
    serde_json::from_str(text).map_err(|e| format!("not a stored request: {e}"))
}

fn interface_named(name: &str) -> Result<Interface, String> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| format!("unknown interface {name:?}"))
}

/// The interface a stored entry came over, if it can be read (also for a refused request
/// that never loaded).
pub fn interface_of(entry: &StoredEntry) -> Option<Interface> {
    envelope(&entry.request)
        .and_then(|e| interface_named(&e.interface))
        .ok()
}

/// The reconciler's key: what the cloud resources are named and tagged after.
pub fn cloud_key(key: &RequestKey) -> spec::LbIdentity {
    spec::LbIdentity::from(key)
}

/// The stored answer, if it answers the request as it is now: made after the request was
/// last changed, and echoing its `sent_hash`.
pub fn current_answer(entry: &StoredEntry, request: &Request) -> Option<Response> {
    let answered_at = entry.answered_at?;
    if answered_at < entry.request_at {
        return None;
    }
    let response = Response::parse(entry.answer.as_deref()?).ok()?;
    (response.received_hash() == request.sent_hash.as_deref()).then_some(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relation::v1::{Address, Protocol};
    use std::collections::BTreeMap;

    fn request() -> Request {
        let mut r = Request::new(
            "id-1",
            "api-server-external",
            Protocol::Tcp,
            BTreeMap::from([(443, 6443)]),
        );
        r.backends = vec!["10.0.0.1".into()];
        r.sealed()
    }

    #[test]
    fn round_trip_keeps_the_request_and_interface() {
        let r = request();
        let text = encode(Interface::PublicAddress, &r);
        let (interface, back) = decode(&text).unwrap();
        assert_eq!(interface, Interface::PublicAddress);
        assert_eq!(back, r);
    }

    #[test]
    fn a_tls_key_never_reaches_the_store() {
        let mut r = request();
        r.tls_key = Some(crate::relation::v1::TlsKey::new(
            "-----BEGIN PRIVATE KEY----- s3cret",
        ));
        let text = encode(Interface::LoadBalancer, &r);
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn the_store_text_and_the_socket_spell_interfaces_as_before() {
        assert_eq!(
            placeholder(Interface::LoadBalancer),
            r#"{"interface":"loadbalancer","request":""}"#
        );
        assert_eq!(
            placeholder(Interface::PublicAddress),
            r#"{"interface":"public-address","request":""}"#
        );
        let r = request();
        let text = encode(Interface::LoadBalancer, &r);
        let written: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            written,
            serde_json::json!({"interface": "loadbalancer", "request": r.canonical_json()})
        );
        // The daemon's socket uses the same serde spelling.
        assert_eq!(
            serde_json::to_string(&Interface::PublicAddress).unwrap(),
            r#""public-address""#
        );
        assert_eq!(
            serde_json::from_str::<Interface>(r#""loadbalancer""#).unwrap(),
            Interface::LoadBalancer
        );
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(decode("{}").unwrap_err().contains("not a stored request"));
        let odd = r#"{"interface": "x", "request": "{}"}"#;
        assert!(decode(odd).unwrap_err().contains("unknown interface"));
    }

    #[test]
    fn an_answer_counts_only_for_the_request_it_answered() {
        let r = request();
        let answer = Response::success(&r, Address::parse("192.0.2.1").unwrap());
        let t0 = "2026-01-01T00:00:00Z".parse().unwrap();
        let t1 = "2026-01-01T00:01:00Z".parse().unwrap();
        let mut entry = StoredEntry {
            request: encode(Interface::LoadBalancer, &r),
            request_at: t0,
            answer: Some(answer.canonical_json()),
            answered_at: Some(t1),
            refusal: None,
        };
        assert_eq!(current_answer(&entry, &r), Some(answer.clone()));
        // The request changed after the answer.
        entry.request_at = "2026-01-01T00:02:00Z".parse().unwrap();
        assert_eq!(current_answer(&entry, &r), None);
        entry.request_at = t0;
        // A different sent_hash (the requirer re-sent another request).
        let mut other = r.clone();
        other.sent_hash = Some("0".repeat(32));
        assert_eq!(current_answer(&entry, &other), None);
    }

    #[test]
    fn a_placeholder_keeps_its_interface_and_has_no_request() {
        let text = placeholder(Interface::PublicAddress);
        assert!(decode(&text).is_err(), "no request to read");
        let entry = StoredEntry {
            request: text,
            request_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            answer: None,
            answered_at: None,
            refusal: Some("{}".into()),
        };
        assert_eq!(interface_of(&entry), Some(Interface::PublicAddress));
    }

    #[test]
    fn a_request_key_maps_to_its_load_balancer() {
        let k = RequestKey::new(7, "kcp", "api");
        assert_eq!(cloud_key(&k), spec::LbIdentity::new("kcp", "api"));
    }
}
