//! The work shared by the daemon and the in-process hook path: record requests in the store,
//! reconcile one request, record its answer, remove what is no longer wanted.
//!
//! The daemon calls [`Engine::reconcile`] from its queue workers; the in-process answerer
//! calls it inline with a bounded wait. Either way every pass starts from the cloud (the
//! reconciler observes by tags), so a pass can be abandoned at any point and re-run.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::{Mutex, RwLock};
use tokio::time::Instant;
use tracing::Instrument;

use super::metrics::Metrics;
use super::notify::{Change, Notifier};
use super::stored;
use crate::reconcile::{error_policy, Action, Outcome, Reconciler, Setback};
use crate::relation::answer::{Current, Interface, RequestKey};
use crate::relation::v1::{Request, Response};
use crate::spec::MAX_REQUEST_NAME;

mod resync;
mod status;
use crate::spec;
use crate::store::{Store, StoreError};

/// Store, cloud connection, metrics and notifier, shared by every worker.
#[derive(Debug)]
pub struct Engine {
    store: Mutex<Store>,
    cloud: RwLock<Option<Arc<Reconciler>>>,
    metrics: Arc<Metrics>,
    notifier: StdMutex<Notifier>,
    first_seen: StdMutex<HashMap<RequestKey, Instant>>,
    notes: StdMutex<HashMap<RequestKey, String>>,
    /// Per request, the setback its last passes met and how many in a row (what the requeue
    /// policy backs off by).
    setbacks: StdMutex<HashMap<RequestKey, (Setback, u32)>>,
    connect_error: StdMutex<Option<String>>,
}

impl Engine {
    /// An engine over an open store; `cloud` may be set later ([`Engine::set_cloud`]).
    pub fn new(store: Store, cloud: Option<Reconciler>, metrics: Arc<Metrics>) -> Self {
        Engine {
            store: Mutex::new(store),
            cloud: RwLock::new(cloud.map(Arc::new)),
            metrics,
            notifier: StdMutex::new(Notifier::disabled()),
            first_seen: StdMutex::new(HashMap::new()),
            notes: StdMutex::new(HashMap::new()),
            setbacks: StdMutex::new(HashMap::new()),
            connect_error: StdMutex::new(None),
        }
    }

    /// Replaces the cloud connection (after connecting, or a settings reload).
    pub async fn set_cloud(&self, reconciler: Reconciler) {
        // What the last connection (or the last process) learned of the cloud: its pace and
        // the members last seen complete.
        let learned = match self.cloud().await {
            Some(old) => Some(old.learned()),
            None => self.store.lock().await.learned().map(str::to_string),
        };
        if let Some(text) = learned {
            reconciler.restore_learned(&text);
        }
        *self.cloud.write().await = Some(Arc::new(reconciler));
        *lock(&self.connect_error) = None;
    }

    /// Records why the last attempt to connect to the cloud failed (shown by `status`).
    pub fn set_connect_error(&self, error: String) {
        *lock(&self.connect_error) = Some(error);
    }

    /// The current cloud connection, if any.
    pub async fn cloud(&self) -> Option<Arc<Reconciler>> {
        self.cloud.read().await.clone()
    }

    /// Replaces the notifier (after a settings reload).
    pub fn set_notifier(&self, notifier: Notifier) {
        *lock(&self.notifier) = notifier;
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Records `request` as wanted. Returns the stored answer if it answers this very request
    /// (else `None`), and whether the request is new or changed (so it needs a reconcile).
    ///
    /// # Errors
    /// The store could not be written.
    pub async fn record(
        &self,
        interface: Interface,
        key: &RequestKey,
        request: &Request,
    ) -> Result<(Option<Response>, bool), StoreError> {
        let skey = key.clone();
        let mut store = self.store.lock().await;
        let new = store.get(&skey).is_none();
        let changed = store.set_request(skey.clone(), stored::encode(interface, request));
        if changed {
            store.save()?;
        }
        if new {
            // Provisioning time is measured for new requests only (not for updates).
            lock(&self.first_seen)
                .entry(key.clone())
                .or_insert_with(Instant::now);
        }
        let answer = store
            .get(&skey)
            .and_then(|entry| stored::current_answer(entry, request));
        Ok((answer, changed))
    }

    /// Records that the request `key` as last received is refused with `refusal` (it does not
    /// load, or no provider can serve it), so `status` shows it. Nothing is built or removed
    /// for a refused request: what was built for its last loadable version is kept.
    ///
    /// # Errors
    /// The store could not be written.
    pub async fn refuse(
        &self,
        interface: Interface,
        key: &RequestKey,
        refusal: &Response,
    ) -> Result<(), StoreError> {
        if key.name.chars().count() > MAX_REQUEST_NAME {
            // Refused for its length: remembering a name of any size would let one request
            // grow the store without bound.
            tracing::info!(
                length = key.name.chars().count(),
                "a request name over the limit is answered but not remembered"
            );
            return Ok(());
        }
        let mut store = self.store.lock().await;
        if store.set_refusal(
            key.clone(),
            stored::placeholder(interface),
            refusal.canonical_json(),
        ) {
            store.save()?;
        }
        Ok(())
    }

    /// Forgets `key` (the request was removed). Returns whether it was known; the cloud side
    /// is removed by the next [`Engine::reconcile`] of the key, and the store remembers the
    /// removal until then ([`Engine::pending_removals`]).
    ///
    /// # Errors
    /// The store could not be written.
    pub async fn forget(&self, key: &RequestKey) -> Result<bool, StoreError> {
        let mut store = self.store.lock().await;
        let known = store.remove(&key.clone()).is_some();
        if known {
            store.save()?;
        }
        Ok(known)
    }

    /// Forgets every request of `interface` that `current` does not keep; returns the keys
    /// forgotten. Requests of a held relation (not ready: no usable `version`) are kept as they
    /// are, whatever the hook saw of them.
    ///
    /// # Errors
    /// The store could not be written.
    pub async fn retain(
        &self,
        interface: Interface,
        current: &Current,
    ) -> Result<Vec<RequestKey>, StoreError> {
        let mut store = self.store.lock().await;
        let ours: Vec<_> = store
            .entries()
            .filter(|(_, entry)| stored::interface_of(entry) == Some(interface))
            .map(|(k, _)| k.clone())
            .collect();
        let held: BTreeSet<u64> = ours
            .iter()
            .filter(|k| !current.keys.contains(k) && current.keeps(k))
            .map(|k| k.relation_id)
            .collect();
        for relation in held {
            tracing::info!(
                relation,
                "relation not ready (its application has no usable `version`): \
                 its requests are kept as they are, neither changed nor removed"
            );
        }
        let gone: Vec<_> = ours.into_iter().filter(|k| !current.keeps(k)).collect();
        for key in &gone {
            store.remove(&key.clone());
        }
        if !gone.is_empty() {
            store.save()?;
        }
        Ok(gone)
    }

    /// Every request in the store.
    pub async fn keys(&self) -> Vec<RequestKey> {
        let store = self.store.lock().await;
        store.entries().map(|(k, _)| k.clone()).collect()
    }

    /// Requests of `interfaces` removed whose cloud resources may still exist (a removal not
    /// yet carried out: a hook's budget ran out, or the process stopped): each needs a pass.
    /// Only interfaces whose hooks have confirmed the store since leadership was gained are
    /// asked for: a removal recorded before may since have been asked for again.
    pub async fn pending_removals(&self, interfaces: &[Interface]) -> Vec<RequestKey> {
        let store = self.store.lock().await;
        store
            .removals()
            .filter(|(_, entry)| {
                stored::interface_of(entry).is_some_and(|i| interfaces.contains(&i))
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The leader flag last persisted (`None`: never told).
    pub async fn stored_leader(&self) -> Option<bool> {
        self.store.lock().await.leader()
    }

    /// Persists the leader flag.
    ///
    /// # Errors
    /// The store could not be written.
    pub async fn store_leader(&self, leader: bool) -> Result<(), StoreError> {
        let mut store = self.store.lock().await;
        if store.leader() != Some(leader) {
            store.set_leader(leader);
            store.save()?;
        }
        Ok(())
    }

    /// Writes the store (shutdown).
    ///
    /// # Errors
    /// The store could not be written.
    pub async fn persist(&self) -> Result<(), StoreError> {
        let learned = self.cloud().await.map(|c| c.learned());
        let mut store = self.store.lock().await;
        if let Some(text) = learned {
            store.set_learned(text);
        }
        store.save()
    }

    /// Saves what the reconciler learned of the cloud if it changed (after a resync, so a
    /// restart resumes with it; a crash loses at most what was learned since).
    pub async fn save_learned(&self) {
        let Some(cloud) = self.cloud().await else {
            return;
        };
        let text = cloud.learned();
        let mut store = self.store.lock().await;
        if store.set_learned(text) {
            if let Err(e) = store.save() {
                tracing::warn!(error = %e, "what was learned of the cloud could not be saved");
            }
        }
    }

    /// One pass for `key`: apply it if it is wanted, remove what was built for it if not.
    /// `deep` reads every listener/pool/monitor setting (periodic resync). Returns when to
    /// pass again ([`error_policy`] decides for a pass that did not finish).
    pub async fn reconcile(&self, key: &RequestKey, deep: bool) -> Action {
        let entry = {
            let store = self.store.lock().await;
            store.get(&key.clone()).cloned()
        };
        if entry.as_ref().is_some_and(|e| e.refusal.is_some()) {
            self.note(
                key,
                "refused: nothing is built or changed for it; what was built for its last \
                 valid version is kept until the request is fixed or removed",
            );
            return self.next_pass(key, None);
        }
        let Some(cloud) = self.cloud().await else {
            self.note(key, "waiting for a connection to the cloud");
            return self.next_pass(key, Some(Setback::Unconnected));
        };
        let span = tracing::info_span!(
            "work",
            request = %key,
            lb_id = tracing::field::Empty,
        );
        let started = Instant::now();
        let (operation, setback, result) = match entry {
            Some(entry) => {
                let operation = if deep { "resync" } else { "apply" };
                let (setback, result) = match stored::decode(&entry.request) {
                    Ok((_, request)) => {
                        self.apply(&cloud, key, &request, deep)
                            .instrument(span.clone())
                            .await
                    }
                    Err(why) => {
                        tracing::error!(parent: &span, %why, "the stored request cannot be read; it is left alone");
                        self.note(key, &format!("stored request unreadable: {why}"));
                        (None, "error")
                    }
                };
                (operation, setback, result)
            }
            None => {
                let setback = self.remove(&cloud, key).instrument(span.clone()).await;
                let result = if setback.is_none() {
                    "removed"
                } else {
                    "error"
                };
                ("remove", setback, result)
            }
        };
        self.metrics
            .observe_reconcile(operation, result, started.elapsed().as_secs_f64());
        self.next_pass(key, setback)
    }

    /// The action after a pass of `key` that finished (`None`) or met `setback`: counts the
    /// passes in a row that met the same setback, which the requeue policy backs off by.
    fn next_pass(&self, key: &RequestKey, setback: Option<Setback>) -> Action {
        let mut counts = lock(&self.setbacks);
        match setback {
            None => {
                counts.remove(key);
                Action::await_change()
            }
            Some(setback) => {
                // Passes in a row that met the same setback: a different one starts afresh, so
                // an earlier outage does not lengthen the first wait for a group in use.
                let attempts = match counts.get(key) {
                    Some((last, n)) if *last == setback => n.saturating_add(1),
                    _ => 1,
                };
                let action = error_policy(&setback, attempts);
                if action.requeue_after.is_some() {
                    counts.insert(key.clone(), (setback, attempts));
                } else {
                    // No pass follows until the request changes: nothing to count.
                    counts.remove(key);
                }
                action
            }
        }
    }

    /// Applies `request`; returns why it is not served yet (`None`: it is answered, address
    /// or error, and needs nothing until it changes) and its metric result (`ready`,
    /// `error`, `pending`).
    async fn apply(
        &self,
        cloud: &Reconciler,
        key: &RequestKey,
        request: &Request,
        deep: bool,
    ) -> (Option<Setback>, &'static str) {
        let cloud_key = stored::cloud_key(key);
        let outcome = if deep {
            cloud.apply_deep(&cloud_key, request).await
        } else {
            cloud.apply(&cloud_key, request).await
        };
        if let Outcome::Ready(ready) = &outcome {
            tracing::Span::current().record("lb_id", ready.load_balancer_id.as_str());
            if let Some(since) = lock(&self.first_seen).remove(key) {
                self.metrics
                    .observe_provisioning(since.elapsed().as_secs_f64());
            }
        }
        match &outcome {
            Outcome::Ready(ready) if ready.actions.is_empty() => self.note(key, "up to date"),
            Outcome::Ready(ready) => {
                self.note(key, &format!("changed: {}", ready.actions.join("; ")))
            }
            Outcome::Failed { failure, .. } => self.note(key, &failure.to_string()),
            Outcome::Converging { why, .. } => self.note(key, why),
        }
        if let Some(response) = outcome.response(request) {
            self.answered(key, &response).await;
        }
        // Only now, with the answer given: the pools' member digest tags (a new leader's
        // check then needs no read per load balancer).
        cloud.after_answer(&cloud_key, request, &outcome).await;
        let result = match &outcome {
            Outcome::Ready(_) => "ready",
            Outcome::Failed { .. } => "error",
            Outcome::Converging { .. } => "pending",
        };
        (outcome.setback(), result)
    }

    /// Stores an answer; runs the notify command if it changed.
    async fn answered(&self, key: &RequestKey, response: &Response) {
        let skey = key.clone();
        let changed = {
            let mut store = self.store.lock().await;
            // The request may have been removed while we worked: nothing to answer then.
            if store.get(&skey).is_none() {
                return;
            }
            match store.set_answer(&skey, response.canonical_json()) {
                Ok(true) => match store.save() {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!(error = %e, "the answer could not be saved; it is sent again on the next pass");
                        false
                    }
                },
                Ok(false) => false,
                Err(e) => {
                    tracing::error!(error = %e, "the answer could not be recorded");
                    false
                }
            }
        };
        if changed {
            tracing::info!(
                address = response.address().unwrap_or("-"),
                error = response.error().map(|e| e.as_str()).unwrap_or("-"),
                "answer changed"
            );
            lock(&self.notifier).changed(Change {
                request: key.to_string(),
                address: response.address().map(str::to_string),
                error: response.error().map(|e| e.as_str().to_string()),
            });
        }
    }

    /// Removes what was built for `key`; returns why not (`None`: done).
    async fn remove(&self, cloud: &Reconciler, key: &RequestKey) -> Option<Setback> {
        let cloud_key = stored::cloud_key(key);
        // Another relation from the same application may still want a request of this name.
        let shared = {
            let store = self.store.lock().await;
            let shared = store
                .entries()
                .any(|(k, _)| stored::cloud_key(&k.clone()) == cloud_key);
            shared
        };
        if shared {
            tracing::info!("still wanted over another relation; nothing removed");
            self.removal_done(key).await;
            return None;
        }
        match cloud.remove(&cloud_key).await {
            Ok(removal) => {
                if !removal.deleted.is_empty() {
                    tracing::info!(deleted = ?removal.deleted, "removed");
                }
                lock(&self.notes).remove(key);
                lock(&self.first_seen).remove(key);
                self.removal_done(key).await;
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "removal failed; retrying");
                self.note(key, &format!("removal failed: {e}"));
                Some(Setback::of_removal(&e))
            }
        }
    }

    /// Stops remembering a removal once its cloud resources are gone.
    async fn removal_done(&self, key: &RequestKey) {
        let mut store = self.store.lock().await;
        if store.removal_done(&key.clone()) {
            if let Err(e) = store.save() {
                // Harmless: the next pass finds nothing to delete and tries to forget it again.
                tracing::warn!(error = %e, "the finished removal could not be saved");
            }
        }
    }

    /// Deletes resources tagged with our cluster that no stored request owns.
    ///
    /// # Errors
    /// The cloud error, as text.
    pub async fn collect_garbage(&self) -> Result<usize, String> {
        let Some(cloud) = self.cloud().await else {
            return Err("not connected to the cloud yet".into());
        };
        // Asked after the listing and before each delete: a request stored meanwhile is kept.
        let live = || async {
            let keys = self.keys().await;
            keys.iter()
                .map(stored::cloud_key)
                .collect::<Vec<spec::LbIdentity>>()
        };
        match cloud.gc_with(live, false).await {
            Ok(orphans) => {
                for o in &orphans {
                    tracing::info!(kind = o.kind, id = %o.id, label = %o.label, "deleted an orphan");
                }
                Ok(orphans.len())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn note(&self, key: &RequestKey, text: &str) {
        lock(&self.notes).insert(key.clone(), text.to_string());
    }
}

fn lock<T>(m: &StdMutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Never held across an await; the data stays consistent if a holder panicked.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relation::v1::Protocol;
    use std::collections::BTreeMap;

    fn request() -> Request {
        Request::new("id", "api", Protocol::Tcp, BTreeMap::from([(443, 6443)])).sealed()
    }

    fn engine(dir: &std::path::Path) -> Engine {
        let store = Store::open(dir.join("s.json")).unwrap();
        Engine::new(store, None, Arc::new(Metrics::new()))
    }

    #[tokio::test]
    async fn recording_is_idempotent_and_retain_forgets_only_its_interface() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        let a = RequestKey::new(1, "kcp", "api");
        let b = RequestKey::new(2, "kcp", "public-address");
        assert_eq!(
            e.record(Interface::LoadBalancer, &a, &request())
                .await
                .unwrap(),
            (None, true)
        );
        assert_eq!(
            e.record(Interface::LoadBalancer, &a, &request())
                .await
                .unwrap(),
            (None, false),
            "the same request again is no change"
        );
        e.record(Interface::PublicAddress, &b, &request())
            .await
            .unwrap();
        let gone = e
            .retain(Interface::LoadBalancer, &Current::default())
            .await
            .unwrap();
        assert_eq!(gone, vec![a.clone()]);
        assert_eq!(
            e.keys().await,
            vec![b.clone()],
            "the other interface is kept"
        );
        assert!(e.forget(&b).await.unwrap());
        assert!(!e.forget(&b).await.unwrap());
        // Persisted: a fresh store on the same file sees the same (empty) set.
        drop(e);
        let again = engine(dir.path());
        assert!(again.keys().await.is_empty());
    }

    #[tokio::test]
    async fn without_a_cloud_a_resync_hands_every_request_back() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        assert!(e.resync().await.is_empty());
        let key = RequestKey::new(1, "kcp", "api");
        e.record(Interface::LoadBalancer, &key, &request())
            .await
            .unwrap();
        assert_eq!(e.resync().await, vec![key]);
    }

    #[tokio::test]
    async fn without_a_cloud_a_pass_waits_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        let key = RequestKey::new(1, "kcp", "api");
        e.record(Interface::LoadBalancer, &key, &request())
            .await
            .unwrap();
        assert_eq!(
            e.reconcile(&key, false).await,
            Action::requeue(crate::reconcile::requeue::RETRY_UNCONNECTED)
        );
        let report = e.status(true).await;
        assert_eq!(report.requests.len(), 1);
        assert_eq!(
            report.requests[0].note.as_deref(),
            Some("not connected to the cloud yet")
        );
        assert_eq!(report.connect_error, None);

        // A failed connection attempt is what status shows, until a connection succeeds.
        e.set_connect_error("VIP subnet nope not found: check vip_subnet".into());
        let report = e.status(true).await;
        assert_eq!(
            report.connect_error.as_deref(),
            Some("VIP subnet nope not found: check vip_subnet")
        );
        assert_eq!(
            report.requests[0].note.as_deref(),
            Some("not connected to the cloud: VIP subnet nope not found: check vip_subnet")
        );
    }
}
