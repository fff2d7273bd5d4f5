//! The status report: one row per stored request, with its load balancer as it stands.

use futures::StreamExt;

use std::collections::BTreeSet;

use super::{lock, stored, Engine};
use crate::daemon::api::{RowKind, StatusReport, StatusRow};
use crate::relation::answer::RequestKey;
use crate::relation::v1::Response;
use crate::spec;
use crate::store::StoredEntry;

/// Load balancers read at once by [`Engine::status`].
const STATUS_READS_AT_ONCE: usize = 8;

/// What a status row stands for.
#[derive(Debug, Clone)]
enum Source {
    /// A stored request (maybe refused).
    Stored(StoredEntry),
    /// A removed request whose cloud side is still being deleted.
    Removing,
    /// A load balancer of this cluster that no stored request owns (built by `apply`, or left
    /// over): the cloud knows it, the store does not.
    Unrequested,
}

impl Engine {
    /// One row per stored request (refused ones with their refusal), one per removal not yet
    /// carried out, and one per load balancer of the cluster that no stored request owns, with
    /// the load balancer as it stands (read calls only).
    pub async fn status(&self, leader: bool) -> StatusReport {
        let mut entries: Vec<(RequestKey, Source)> = {
            let store = self.store.lock().await;
            let removing = store.removals().map(|(k, _)| (k.clone(), Source::Removing));
            store
                .entries()
                .map(|(k, e)| (k.clone(), Source::Stored(e.clone())))
                .chain(removing)
                .collect()
        };
        let cloud = self.cloud().await;
        if let Some(cloud) = &cloud {
            let known: BTreeSet<spec::LbIdentity> =
                entries.iter().map(|(k, _)| stored::cloud_key(k)).collect();
            match cloud.built_requests().await {
                Ok(built) => entries.extend(
                    built
                        .into_iter()
                        .filter(|k| !known.contains(k))
                        .map(|k| (RequestKey::new(0, k.app, k.name), Source::Unrequested)),
                ),
                Err(e) => tracing::warn!(error = %e, "cannot list the cluster's load balancers"),
            }
        }
        let connect_error = if cloud.is_none() {
            lock(&self.connect_error).clone()
        } else {
            None
        };
        let unconnected = match &connect_error {
            Some(e) => format!("not connected to the cloud: {e}"),
            None => "not connected to the cloud yet".to_string(),
        };
        // A few load balancers are read at a time (2–3 read calls each), in request order.
        let rows: Vec<(StatusRow, Option<String>)> = futures::stream::iter(entries)
            .map(|(key, entry)| {
                let cloud = cloud.clone();
                let unconnected = unconnected.clone();
                async move {
                    let stored = match &entry {
                        Source::Stored(e) => Some(e),
                        _ => None,
                    };
                    let answer = stored.and_then(|e| {
                        e.refusal
                            .as_deref()
                            .or(e.answer.as_deref())
                            .map(answer_summary)
                    });
                    let note = match &entry {
                        Source::Removing => {
                            Some("removed: what was built for it is being deleted".to_string())
                        }
                        Source::Unrequested => Some(
                            "not requested over a relation (built by `apply`, or left over): \
                             `gc` lists it, and a daemon's garbage collection deletes it"
                                .to_string(),
                        ),
                        Source::Stored(e) if e.refusal.is_some() => Some(refusal_note(e)),
                        Source::Stored(_) => lock(&self.notes).get(&key).cloned(),
                    };
                    let kind = match &entry {
                        Source::Stored(_) => RowKind::Request,
                        Source::Removing => RowKind::Removing,
                        Source::Unrequested => RowKind::Unrequested,
                    };
                    let mut row = StatusRow {
                        request: format!("{}/{}", key.app, key.name),
                        kind,
                        // Unrequested load balancers were found in the cloud alone: no relation.
                        relation_id: (!matches!(entry, Source::Unrequested))
                            .then_some(key.relation_id),
                        answer,
                        note,
                        ..StatusRow::default()
                    };
                    let Some(cloud) = cloud else {
                        row.note = Some(unconnected);
                        return (row, None);
                    };
                    match cloud.status(&stored::cloud_key(&key)).await {
                        Ok(Some(lb)) => {
                            let status = lb.provisioning_status.clone();
                            row.load_balancer = Some(lb.name);
                            row.load_balancer_id = Some(lb.load_balancer_id);
                            row.vip = lb.vip_address;
                            row.floating_ip = lb.floating_ip;
                            row.provisioning_status = Some(lb.provisioning_status);
                            row.operating_status = Some(lb.operating_status);
                            row.members_up = u32::try_from(lb.members_up).ok();
                            row.members_unmonitored = u32::try_from(lb.members_unmonitored)
                                .ok()
                                .filter(|n| *n > 0);
                            row.members_total = u32::try_from(lb.members_total).ok();
                            if status == "ACTIVE"
                                && stored.is_some_and(|e| e.refusal.is_none() && e.answer.is_none())
                            {
                                row.note = Some(
                                    "ready: the answer is published on the next hook".to_string(),
                                );
                            }
                            (row, Some(status))
                        }
                        Ok(None) => (row, None),
                        Err(e) => {
                            row.note = Some(format!("cannot read the load balancer: {e}"));
                            (row, None)
                        }
                    }
                }
            })
            .buffered(STATUS_READS_AT_ONCE)
            .collect()
            .await;
        if cloud.is_some() {
            self.metrics
                .set_load_balancers(rows.iter().filter_map(|(_, s)| s.as_deref()));
        }
        StatusReport {
            leader,
            requests: rows.into_iter().map(|(row, _)| row).collect(),
            connect_error,
        }
    }
}

/// Why a refused request gets no load balancer, from its stored refusal.
fn refusal_note(entry: &StoredEntry) -> String {
    match entry.refusal.as_deref().map(Response::parse) {
        Some(Ok(refusal)) => format!("refused: {}", refusal.why()),
        _ => "refused".to_string(),
    }
}

/// `address` or `error: kind` from a stored answer's JSON.
fn answer_summary(text: &str) -> String {
    match Response::parse(text) {
        Ok(r) => match (r.address(), r.error()) {
            (_, Some(kind)) => format!("error: {}", kind.as_str()),
            (Some(address), None) => address.to_string(),
            (None, None) => "-".to_string(),
        },
        Err(_) => "unreadable".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relation::v1::{Address, Failure, Protocol, Request, RequestField};
    use std::collections::BTreeMap;

    fn request() -> Request {
        Request::new("id", "api", Protocol::Tcp, BTreeMap::from([(443, 6443)])).sealed()
    }

    #[test]
    fn answers_are_summarised_for_status() {
        let r = request();
        let ok = Response::success(&r, Address::parse("192.0.2.7").unwrap());
        assert_eq!(answer_summary(&ok.canonical_json()), "192.0.2.7");
        let refused = Response::unsupported(&r, Failure::field(RequestField::Protocol, "no"));
        assert_eq!(
            answer_summary(&refused.canonical_json()),
            "error: unsupported"
        );
        assert_eq!(answer_summary("{"), "unreadable");
    }

    /// Juju's relation ids start at 0: a request on relation 0 is shown with it.
    #[tokio::test]
    async fn a_request_on_relation_0_shows_its_relation() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path().join("s.json")).unwrap();
        let engine = Engine::new(
            store,
            None,
            std::sync::Arc::new(crate::daemon::metrics::Metrics::new()),
        );
        let key = RequestKey::new(0, "kcp", "api");
        engine
            .record(crate::relation::Interface::LoadBalancer, &key, &request())
            .await
            .unwrap();
        let report = engine.status(true).await;
        assert_eq!(report.requests.len(), 1, "{report:?}");
        assert_eq!(report.requests[0].relation_id, Some(0));
    }
}
