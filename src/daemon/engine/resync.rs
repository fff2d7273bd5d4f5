//! The periodic resync's first pass: every stored request checked against one listing of the
//! cluster.

use tokio::time::Instant;

use super::{lock, stored, Engine};
use crate::reconcile::{Outcome, Verdict};
use crate::relation::answer::RequestKey;
use crate::relation::v1::Request;
use crate::spec;

impl Engine {
    /// The periodic resync's first pass: every stored request checked at once against one
    /// listing of the cluster
    /// ([`Reconciler::check_many`](crate::reconcile::Reconciler::check_many): a few
    /// paginated list calls, not calls per request). Unchanged requests are answered here (no further call); returns
    /// the keys that need a pass of their own (`reconcile(key, true)`): those that differ,
    /// cannot be read, or everything when the listing failed or there is no cloud yet.
    ///
    /// Refused requests are left alone (nothing is built or changed for them). Removals not
    /// yet carried out are not included: see [`Engine::pending_removals`].
    pub async fn resync(&self) -> Vec<RequestKey> {
        let entries: Vec<(RequestKey, String)> = {
            let store = self.store.lock().await;
            store
                .entries()
                .filter(|(_, e)| e.refusal.is_none())
                .map(|(k, e)| (k.clone(), e.request.clone()))
                .collect()
        };
        let Some(cloud) = self.cloud().await else {
            return entries.into_iter().map(|(k, _)| k).collect();
        };
        let mut again = Vec::new();
        let mut batch = Vec::new();
        for (key, text) in entries {
            match stored::decode(&text) {
                Ok((_, request)) => batch.push((key, text, request)),
                // The per-request pass says why, once, in the logs and the status.
                Err(_) => again.push(key),
            }
        }
        if batch.is_empty() {
            // Nothing to check: no listing at all.
            self.metrics.set_load_balancers(std::iter::empty());
            return again;
        }
        let input: Vec<(spec::LbIdentity, Request)> = batch
            .iter()
            .map(|(key, _, request)| (stored::cloud_key(key), request.clone()))
            .collect();
        let started = Instant::now();
        let check = match cloud.check_many(&input).await {
            Ok(check) => check,
            Err(e) => {
                tracing::warn!(error = %e, "the resync could not list the cluster; checking each request on its own");
                again.extend(batch.into_iter().map(|(key, _, _)| key));
                return again;
            }
        };
        self.metrics
            .set_load_balancers(check.statuses.iter().map(String::as_str));
        let each = started.elapsed().as_secs_f64() / batch.len().max(1) as f64;
        for ((key, text, request), verdict) in batch.into_iter().zip(check.verdicts) {
            let ready = match verdict {
                Verdict::Unchanged(ready) => ready,
                Verdict::Apply(_) => {
                    again.push(key);
                    continue;
                }
            };
            // Changed while we looked: its own pass answers the new one.
            let current = {
                let store = self.store.lock().await;
                store.get(&key.clone()).is_some_and(|e| e.request == text)
            };
            if !current {
                again.push(key);
                continue;
            }
            if let Some(since) = lock(&self.first_seen).remove(&key) {
                self.metrics
                    .observe_provisioning(since.elapsed().as_secs_f64());
            }
            self.note(&key, "up to date");
            if let Some(response) = Outcome::Ready(ready).response(&request) {
                self.answered(&key, &response).await;
            }
            self.metrics.observe_reconcile("resync", "ready", each);
        }
        again
    }
}
