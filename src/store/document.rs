//! The store's JSON document: versioned, keyed by the relation's [`RequestKey`], with each
//! request and answer kept as the text it was given (the store reads neither).
//!
//! ```json
//! {
//!   "format": "octavia-integrator-store",
//!   "version": 2,
//!   "leader": true,
//!   "requests": [
//!     {"relation_id": 7, "app": "kubernetes-control-plane", "name": "api-server-external",
//!      "request": "<request JSON text as received>", "request_at": "2026-01-01T00:00:00Z",
//!      "answer": "<last answer JSON text>", "answered_at": "2026-01-01T00:01:00Z",
//!      "refusal": "<the refusal answer JSON text, while the request is refused>"}
//!   ],
//!   "removals": [{"relation_id": 7, "app": "kubernetes-control-plane", "name": "gone",
//!                 "request": "<the removed request>", "request_at": "…", "answer": null,
//!                 "answered_at": null}],
//!   "learned": "<what the reconciler learned of the cloud, JSON text it alone reads>"
//! }
//! ```
//!
//! Version 2 added `refusal` and `removals`; version 3 added `learned` (the cloud's recent
//! times per kind of change and the members last seen complete, so a restarted daemon polls at
//! the cloud's pace and resyncs without one read per load balancer). Older documents read as
//! ones without what came later, and a document is written with the lowest version that holds
//! it, so a rollback can read it back until something newer is recorded.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::relation::RequestKey;

/// The `format` marker every store document carries.
pub const FORMAT: &str = "octavia-integrator-store";
/// The newest document version this release writes and reads.
pub const VERSION: u32 = 3;

/// What is remembered for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEntry {
    /// The request JSON text as received.
    pub request: String,
    /// When this request text was first received.
    pub request_at: DateTime<Utc>,
    /// The last answer JSON text (`None`: not answered yet).
    pub answer: Option<String>,
    /// When the last answer was stored.
    pub answered_at: Option<DateTime<Utc>>,
    /// While the request as last received is refused (does not load, or no provider can
    /// serve it): the refusal answer's JSON text. `request` is then the last request that
    /// loaded, if any, and what was built for it is kept as it is.
    pub refusal: Option<String>,
}

/// The whole persisted state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    /// Whether this unit was last told it is the Juju leader (`None`: never told).
    pub leader: Option<bool>,
    /// The requests, by key.
    pub entries: BTreeMap<RequestKey, StoredEntry>,
    /// Requests that are gone but whose cloud resources may still exist, with what was stored
    /// for them: remembered until a removal pass (this process's, a later hook's or the
    /// daemon's) has deleted them.
    pub removals: BTreeMap<RequestKey, StoredEntry>,
    /// What the reconciler learned of the cloud (opaque JSON text it writes and reads back;
    /// losing it costs reads, never correctness).
    pub learned: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDocument {
    format: String,
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    leader: Option<bool>,
    #[serde(default)]
    requests: Vec<WireEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    removals: Vec<WireEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    learned: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEntry {
    /// Always written; `null` (hand-written documents) reads as relation 0.
    relation_id: Option<u64>,
    app: String,
    name: String,
    request: String,
    request_at: DateTime<Utc>,
    answer: Option<String>,
    answered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refusal: Option<String>,
}

/// Why a document could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// Not our document, or broken.
    Corrupt(String),
    /// A newer format version.
    Newer(u32),
}

impl Document {
    /// Pretty JSON with a trailing newline; entries in key order.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let version = if self.learned.is_some() {
            3
        } else if !self.removals.is_empty() || self.entries.values().any(|e| e.refusal.is_some()) {
            2
        } else {
            1
        };
        let wire = WireDocument {
            format: FORMAT.to_string(),
            version,
            leader: self.leader,
            requests: self.entries.iter().map(wire_entry).collect(),
            removals: self.removals.iter().map(wire_entry).collect(),
            learned: self.learned.clone(),
        };
        let mut bytes = serde_json::to_vec_pretty(&wire).expect("plain data always serializes");
        bytes.push(b'\n');
        bytes
    }

    /// Reads a document; refuses anything that is not exactly ours.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Document, DecodeError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(DecodeError::Corrupt("the file is empty".into()));
        }
        // Look at the header first, so a newer version is reported as such, not as "corrupt".
        #[derive(Deserialize)]
        struct Header {
            format: Option<String>,
            version: Option<u32>,
        }
        let header: Header = serde_json::from_slice(bytes)
            .map_err(|e| DecodeError::Corrupt(format!("not a JSON object: {e}")))?;
        if header.format.as_deref() != Some(FORMAT) {
            return Err(DecodeError::Corrupt(format!(
                "`format` is not \"{FORMAT}\""
            )));
        }
        match header.version {
            Some(v) if v > VERSION => return Err(DecodeError::Newer(v)),
            Some(v) if v >= 1 => {}
            _ => {
                return Err(DecodeError::Corrupt(
                    "`version` is missing or invalid".into(),
                ))
            }
        }
        let wire: WireDocument =
            serde_json::from_slice(bytes).map_err(|e| DecodeError::Corrupt(e.to_string()))?;
        let entries = entries_of(wire.requests, "request")?;
        let removals = entries_of(wire.removals, "removal")?;
        Ok(Document {
            leader: wire.leader,
            entries,
            removals,
            learned: wire.learned,
        })
    }
}

fn wire_entry((k, e): (&RequestKey, &StoredEntry)) -> WireEntry {
    WireEntry {
        relation_id: Some(k.relation_id),
        app: k.app.clone(),
        name: k.name.clone(),
        request: e.request.clone(),
        request_at: e.request_at,
        answer: e.answer.clone(),
        answered_at: e.answered_at,
        refusal: e.refusal.clone(),
    }
}

/// The entries of one list, keyed; a key twice is a broken document.
fn entries_of(
    wire: Vec<WireEntry>,
    what: &str,
) -> Result<BTreeMap<RequestKey, StoredEntry>, DecodeError> {
    let mut entries = BTreeMap::new();
    for e in wire {
        let key = RequestKey::new(e.relation_id.unwrap_or(0), e.app, e.name);
        let entry = StoredEntry {
            request: e.request,
            request_at: e.request_at,
            answer: e.answer,
            answered_at: e.answered_at,
            refusal: e.refusal,
        };
        if entries.insert(key.clone(), entry).is_some() {
            return Err(DecodeError::Corrupt(format!("{what} {key} appears twice")));
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn sample() -> Document {
        let mut d = Document {
            leader: Some(true),
            ..Default::default()
        };
        d.entries.insert(
            RequestKey::new(7, "kcp", "api-server-external"),
            StoredEntry {
                request: r#"{"name": "api-server-external", "port_mapping": {"443": 6443}}"#.into(),
                request_at: at("2026-01-01T00:00:00Z"),
                answer: Some(r#"{"address": "203.0.113.5"}"#.into()),
                answered_at: Some(at("2026-01-01T00:01:00Z")),
                refusal: None,
            },
        );
        d.entries.insert(
            RequestKey::new(0, "ops", "manual"),
            StoredEntry {
                request: "{}".into(),
                request_at: at("2026-01-02T00:00:00Z"),
                answer: None,
                answered_at: None,
                refusal: Some(r#"{"error": "unsupported"}"#.into()),
            },
        );
        d.removals.insert(
            RequestKey::new(8, "kcp", "api-server-internal"),
            StoredEntry {
                request: "{}".into(),
                request_at: at("2026-01-03T00:00:00Z"),
                answer: None,
                answered_at: None,
                refusal: None,
            },
        );
        d
    }

    #[test]
    fn round_trip() {
        let d = sample();
        let bytes = d.encode();
        assert_eq!(Document::decode(&bytes).unwrap(), d);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("\"format\": \"octavia-integrator-store\""));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn refuses_what_is_not_ours() {
        for (bytes, want) in [
            (&b""[..], "empty"),
            (b"[1, 2]", "not a JSON object"),
            (b"{\"format\": \"other\", \"version\": 1}", "format"),
            (b"{\"format\": \"octavia-integrator-store\"}", "version"),
            (
                b"{\"format\": \"octavia-integrator-store\", \"version\": 1, \"extra\": 1}",
                "extra",
            ),
            (b"{\"format\": \"octavia-integrator-store\", \"version\": 1, \"requests\": [{\"app\": 1}]}", "expected a string"),
        ] {
            match Document::decode(bytes) {
                Err(DecodeError::Corrupt(reason)) => assert!(reason.contains(want), "{reason}"),
                other => panic!("{other:?} for {}", String::from_utf8_lossy(bytes)),
            }
        }
    }

    #[test]
    fn duplicate_keys_are_corrupt() {
        let one = r#"{"relation_id": 1, "app": "a", "name": "n", "request": "{}", "request_at": "2026-01-01T00:00:00Z", "answer": null, "answered_at": null}"#;
        let doc = format!(
            r#"{{"format": "octavia-integrator-store", "version": 1, "requests": [{one}, {one}]}}"#
        );
        assert!(matches!(
            Document::decode(doc.as_bytes()),
            Err(DecodeError::Corrupt(r)) if r.contains("twice")
        ));
    }

    #[test]
    fn a_version_1_document_reads_with_no_refusal_and_no_removal() {
        let doc = br#"{"format": "octavia-integrator-store", "version": 1, "leader": true, "requests": [{"relation_id": 7, "app": "kcp", "name": "api", "request": "{}", "request_at": "2026-01-01T00:00:00Z", "answer": null, "answered_at": null}]}"#;
        let d = Document::decode(doc).unwrap();
        assert_eq!(d.entries.len(), 1);
        assert!(d.removals.is_empty());
        assert!(d.entries.values().all(|e| e.refusal.is_none()));
        let again = String::from_utf8(d.encode()).unwrap();
        assert!(
            again.contains("\"version\": 1"),
            "nothing newer in it: the release before can still read it: {again}"
        );
        assert!(
            !again.contains("removals"),
            "empty lists are not written: {again}"
        );
        let newer = String::from_utf8(sample().encode()).unwrap();
        assert!(newer.contains("\"version\": 2"), "{newer}");
    }

    #[test]
    fn a_version_2_document_reads_with_nothing_learned_and_learned_round_trips() {
        let doc = br#"{"format": "octavia-integrator-store", "version": 2, "requests": [], "removals": [{"relation_id": 8, "app": "kcp", "name": "gone", "request": "{}", "request_at": "2026-01-01T00:00:00Z", "answer": null, "answered_at": null}]}"#;
        let mut d = Document::decode(doc).unwrap();
        assert_eq!(d.learned, None);
        assert_eq!(d.removals.len(), 1);
        let again = String::from_utf8(d.encode()).unwrap();
        assert!(!again.contains("learned"), "{again}");
        assert!(again.contains("\"version\": 2"), "{again}");
        d.learned = Some(r#"{"paces": {"create": [1500]}}"#.into());
        assert!(String::from_utf8(d.encode())
            .unwrap()
            .contains("\"version\": 3"));
        assert_eq!(Document::decode(&d.encode()).unwrap(), d);
    }

    #[test]
    fn newer_version_is_named() {
        let doc = br#"{"format": "octavia-integrator-store", "version": 9, "whatever": []}"#;
        assert_eq!(Document::decode(doc), Err(DecodeError::Newer(9)));
    }

    #[test]
    fn a_null_relation_id_reads_as_relation_0_and_is_written_as_0() {
        let doc = br#"{"format": "octavia-integrator-store", "version": 1, "requests": [{"relation_id": null, "app": "ops", "name": "manual", "request": "{}", "request_at": "2026-01-01T00:00:00Z", "answer": null, "answered_at": null}]}"#;
        let d = Document::decode(doc).unwrap();
        let key = RequestKey::new(0, "ops", "manual");
        assert!(d.entries.contains_key(&key), "{:?}", d.entries);
        let again = String::from_utf8(d.encode()).unwrap();
        assert!(again.contains(r#""relation_id": 0"#), "{again}");
        assert_eq!(Document::decode(again.as_bytes()).unwrap(), d);
    }
}
