//! Never two reconciles of one request at once; at most N at once overall; never two
//! read-modify-writes of one port's security groups at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use crate::spec::LbIdentity;

/// Per-request locks plus a bound on concurrent reconciles.
#[derive(Debug)]
pub struct KeyLocks {
    locks: Mutex<HashMap<LbIdentity, Arc<AsyncMutex<()>>>>,
    slots: Arc<Semaphore>,
}

/// Held while one request is reconciled: its lock and one concurrency slot.
#[derive(Debug)]
pub struct KeyGuard {
    _key: OwnedMutexGuard<()>,
    _slot: OwnedSemaphorePermit,
}

impl KeyLocks {
    /// At most `concurrency` (≥ 1) reconciles at once.
    pub fn new(concurrency: usize) -> Self {
        KeyLocks {
            locks: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Waits for `key`'s lock, then for a free slot (in that order, so a request queued
    /// behind itself never holds a slot).
    pub async fn acquire(&self, key: &LbIdentity) -> KeyGuard {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            // Forget locks nobody holds or waits for, so the map stays small.
            map.retain(|_, l| Arc::strong_count(l) > 1);
            map.entry(key.clone()).or_default().clone()
        };
        let key_guard = lock.lock_owned().await;
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        KeyGuard {
            _key: key_guard,
            _slot: slot,
        }
    }
}

/// One async lock per Neutron port, shared by every reconcile of one `Reconciler`.
///
/// A port's `security_groups` can only be replaced as a whole list, and several requests
/// (the external and internal API load balancers of one cluster) put their groups on the
/// same member ports. Whoever changes a port's groups holds its lock from the re-read to the
/// `PUT`, so one request's group is never written over by another's stale copy of the list.
#[derive(Debug, Default)]
pub struct PortLocks {
    locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

impl PortLocks {
    /// No port locked yet.
    pub fn new() -> Self {
        PortLocks::default()
    }

    /// Waits for `port`'s lock; it is held until the guard is dropped.
    pub async fn lock(&self, port: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            map.retain(|_, l| Arc::strong_count(l) > 1);
            map.entry(port.to_string()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn one_key_is_serialised_and_concurrency_is_bounded() {
        let locks = Arc::new(KeyLocks::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let same_key_running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..6 {
            let (locks, running, same, peak) = (
                locks.clone(),
                running.clone(),
                same_key_running.clone(),
                peak.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let key = if i % 2 == 0 {
                    LbIdentity::new("app", "same")
                } else {
                    LbIdentity::new("app", format!("other-{i}"))
                };
                let _g = locks.acquire(&key).await;
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                if i % 2 == 0 {
                    assert_eq!(
                        same.fetch_add(1, Ordering::SeqCst),
                        0,
                        "two reconciles of one key"
                    );
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                if i % 2 == 0 {
                    same.fetch_sub(1, Ordering::SeqCst);
                }
                running.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn one_port_is_serialised_and_other_ports_are_not() {
        let locks = Arc::new(PortLocks::new());
        let held = locks.lock("p1").await;
        let other = locks.lock("p2").await;
        let waiting = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _g = locks.lock("p1").await;
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(
            !waiting.is_finished(),
            "a second holder of p1 while it is held"
        );
        drop(other);
        drop(held);
        waiting.await.unwrap();
    }
}
