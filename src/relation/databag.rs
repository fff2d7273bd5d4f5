//! Databag processing for the `lb-consumers` endpoint (pure): what the hook sees → the requests
//! to answer; the answers → what the hook writes.
//!
//! # Input (stdin of `lb-consumers`)
//! ```json
//! {"relations": [{"id": 7, "app": "kubernetes-control-plane",
//!   "app_data": {"version": "1", "request_api-server-external": "<json text>"},
//!   "units": {"kubernetes-control-plane/0": {"ingress-address": "10.5.0.10"}},
//!   "local_app_data": {"version": "1", "response_gone": "<json text>"}}]}
//! ```
//! - `app_data`: the remote application's databag; `units`: each remote unit's databag (only
//!   `ingress-address` is used).
//! - `local_app_data` (optional): **our** application databag on that relation as it is now
//!   (the leader can read it with `relation-get --app`). It is how we know what we published
//!   before: every `response_<name>` in it whose `request_<name>` is gone is unset, and the
//!   answerer is told to forget that request. Without it nothing is unset here; an answerer that
//!   remembers requests (the daemon's store) still learns of removals through
//!   [`crate::relation::answer::Answerer::retain`].
//!
//! # Output (stdout)
//! ```json
//! {"relations": [{"id": 7, "set": {"version": "1", "response_api-server-external": "<json text>"},
//!   "unset": ["response_gone"]}]}
//! ```
//! Every relation gets `version` = `"1"` (requirers send nothing until they see it). A request
//! still converging gets no `response_<name>` (an older response, if any, stays: its
//! `received_hash` no longer matches, so the requirer keeps waiting).
//!
//! Rules (research §1.8): only relations whose remote app published `version` are read;
//! request keys are read in sorted order; empty `backends` are filled from the remote units'
//! `ingress-address` in unit-name string order; a request that does not load is answered
//! `unsupported`, naming the offending fields (its name comes from the key suffix).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::answer::{Current, RequestKey};
use super::v1::{InvalidRequest, Request, RequestField, Response, VERSION};

/// Prefix of request keys in the requirer's app databag.
pub const REQUEST_PREFIX: &str = "request_";
/// Prefix of response keys in our app databag.
pub const RESPONSE_PREFIX: &str = "response_";

/// What a hook sees: every relation of the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HookInput {
    /// One entry per relation.
    pub relations: Vec<RelationInput>,
}

/// One relation as a hook sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationInput {
    /// Juju relation id (the number in `lb-consumers:7`).
    pub id: u64,
    /// The remote application's name.
    pub app: String,
    /// The remote application's databag.
    #[serde(default)]
    pub app_data: BTreeMap<String, String>,
    /// Each remote unit's databag, by unit name.
    #[serde(default)]
    pub units: BTreeMap<String, BTreeMap<String, String>>,
    /// Our own application databag on this relation, when the caller can read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_app_data: Option<BTreeMap<String, String>>,
}

/// What a hook writes: per relation, keys to set and keys to delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HookOutput {
    /// One entry per input relation, in input order.
    pub relations: Vec<RelationOutput>,
}

/// The writes for one relation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationOutput {
    /// Juju relation id.
    pub id: u64,
    /// Keys to set (value = the exact string to write).
    pub set: BTreeMap<String, String>,
    /// Keys to delete.
    pub unset: Vec<String>,
}

/// One current request, loaded or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Which request (relation, remote app, name from the key suffix).
    pub key: RequestKey,
    /// The request with `backends` filled, or why it did not load.
    pub request: Result<Request, InvalidRequest>,
}

/// What one relation holds for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationReading {
    /// Juju relation id.
    pub id: u64,
    /// Remote application.
    pub app: String,
    /// Why the relation's requests were not read (remote `version` missing or unusable): the
    /// relation is held, everything remembered for it is kept as it is.
    pub skipped: Option<String>,
    /// Current requests, in key order.
    pub requests: Vec<Incoming>,
    /// Requests we answered before (a `response_<name>` in `local_app_data`) that are gone.
    pub gone: Vec<RequestKey>,
}

/// Everything read from one hook's input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reading {
    /// One per input relation, in input order.
    pub relations: Vec<RelationReading>,
}

impl Reading {
    /// Every current request (loaded or not) on readable relations, and the relations held
    /// because their remote application has no usable `version` yet.
    pub fn current(&self) -> Current {
        Current {
            keys: self
                .relations
                .iter()
                .flat_map(|r| r.requests.iter().map(|i| i.key.clone()))
                .collect(),
            held_relations: self
                .relations
                .iter()
                .filter(|r| r.skipped.is_some())
                .map(|r| r.id)
                .collect(),
        }
    }
}

/// Reads every relation (pure).
pub fn read(input: &HookInput) -> Reading {
    Reading {
        relations: input.relations.iter().map(read_relation).collect(),
    }
}

fn read_relation(rel: &RelationInput) -> RelationReading {
    let mut reading = RelationReading {
        id: rel.id,
        app: rel.app.clone(),
        skipped: None,
        requests: Vec::new(),
        gone: Vec::new(),
    };
    match rel.app_data.get("version") {
        None => {
            reading.skipped = Some(format!(
                "{} has not published `version` yet: its requests are not read",
                rel.app
            ));
            return reading;
        }
        Some(v) => match super::v1::load::int_from_str(v) {
            Some(n) if n >= 1 => {} // min(ours = 1, theirs) = 1
            _ => {
                reading.skipped = Some(format!(
                    "{} published `version` = {v:?}, which is not a schema version (1 or more)",
                    rel.app
                ));
                return reading;
            }
        },
    }
    let key = |name: &str| RequestKey::new(rel.id, rel.app.clone(), name);
    let default_backends: Vec<String> = rel
        .units
        .values() // BTreeMap: unit names in string order, as the library sorts them
        .filter_map(|data| data.get("ingress-address"))
        .filter(|a| !a.is_empty())
        .cloned()
        .collect();
    let mut names = BTreeSet::new();
    for (k, text) in &rel.app_data {
        let Some(name) = k.strip_prefix(REQUEST_PREFIX) else {
            continue;
        };
        names.insert(name.to_owned());
        let request = Request::parse(text).and_then(|mut r| {
            if r.name != name {
                return Err(name_mismatch(&r, name));
            }
            if r.backends.is_empty() {
                r.backends = default_backends.clone();
            }
            Ok(r)
        });
        reading.requests.push(Incoming {
            key: key(name),
            request,
        });
    }
    if let Some(local) = &rel.local_app_data {
        for k in local.keys() {
            if let Some(name) = k.strip_prefix(RESPONSE_PREFIX) {
                if !names.contains(name) {
                    reading.gone.push(key(name));
                }
            }
        }
    }
    reading
}

fn name_mismatch(r: &Request, key_name: &str) -> InvalidRequest {
    InvalidRequest {
        fields: BTreeMap::from([(
            RequestField::Name,
            format!(
                "name {:?} does not match its databag key {REQUEST_PREFIX}{key_name}",
                r.name
            ),
        )]),
        unknown_keys: Vec::new(),
        whole: None,
        sent_hash: r.sent_hash.clone(),
    }
}

/// The answer for a request that did not load (the only answer that needs no cloud).
pub fn rejection(incoming: &Incoming) -> Option<Response> {
    incoming.request.as_ref().err().map(Response::rejected)
}

/// Builds the writes (pure): `version` everywhere, `response_<name>` for every answered
/// request, and the removal of every gone request's response.
pub fn write(reading: &Reading, answers: &BTreeMap<RequestKey, Response>) -> HookOutput {
    HookOutput {
        relations: reading
            .relations
            .iter()
            .map(|rel| {
                let mut set = BTreeMap::from([("version".to_owned(), VERSION.to_owned())]);
                for incoming in &rel.requests {
                    if let Some(answer) = answers.get(&incoming.key) {
                        set.insert(response_key(&incoming.key.name), answer.canonical_json());
                    }
                }
                let unset = rel.gone.iter().map(|k| response_key(&k.name)).collect();
                RelationOutput {
                    id: rel.id,
                    set,
                    unset,
                }
            })
            .collect(),
    }
}

/// `response_<name>`.
pub fn response_key(name: &str) -> String {
    format!("{RESPONSE_PREFIX}{name}")
}

#[cfg(test)]
mod tests;
