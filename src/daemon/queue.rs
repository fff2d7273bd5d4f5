//! The work queue: keys (request identities) waiting to be reconciled.
//!
//! Guarantees, enforced here rather than hoped for in the reconciler:
//! - a key is never handed out twice at once: pushing a key that is being worked on marks it
//!   "again", and it comes back once the current lease is dropped;
//! - a key waiting in the queue is there once, however often it is pushed;
//! - total concurrency is bounded by the number of workers pulling from the queue;
//! - after [`WorkQueue::close`] nothing new is handed out (in-flight leases finish normally).

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// A deduplicating FIFO of keys with "at most one lease per key".
#[derive(Debug)]
pub struct WorkQueue<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for WorkQueue<K> {
    fn clone(&self) -> Self {
        WorkQueue {
            inner: self.inner.clone(),
        }
    }
}

#[derive(Debug)]
struct Inner<K> {
    state: Mutex<State<K>>,
    ready: Notify,
}

#[derive(Debug)]
struct State<K> {
    order: VecDeque<K>,
    queued: HashSet<K>,
    running: HashSet<K>,
    again: HashSet<K>,
    closed: bool,
}

/// The right to work on one key; dropping it releases the key (and re-queues it if it was
/// pushed meanwhile).
#[derive(Debug)]
pub struct Lease<K: Eq + Hash + Clone> {
    key: K,
    queue: WorkQueue<K>,
}

impl<K: Eq + Hash + Clone> Lease<K> {
    /// The key this lease is for.
    pub fn key(&self) -> &K {
        &self.key
    }
}

impl<K: Eq + Hash + Clone> Drop for Lease<K> {
    fn drop(&mut self) {
        let mut state = self.queue.lock();
        state.running.remove(&self.key);
        if state.again.remove(&self.key) && !state.closed && state.queued.insert(self.key.clone()) {
            state.order.push_back(self.key.clone());
            drop(state);
            self.queue.inner.ready.notify_one();
        }
    }
}

impl<K: Eq + Hash + Clone> Default for WorkQueue<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Eq + Hash + Clone> WorkQueue<K> {
    /// An empty, open queue.
    pub fn new() -> Self {
        WorkQueue {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    order: VecDeque::new(),
                    queued: HashSet::new(),
                    running: HashSet::new(),
                    again: HashSet::new(),
                    closed: false,
                }),
                ready: Notify::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<K>> {
        // The lock is never held across an await or a user callback, so a poisoned lock only
        // means another thread panicked between two field updates; the sets stay usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Asks for `key` to be worked on. A no-op if it is already waiting; if it is being worked
    /// on, it will be handed out again after the current lease ends. Ignored once closed.
    pub fn push(&self, key: K) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        if state.running.contains(&key) {
            state.again.insert(key);
            return;
        }
        if state.queued.insert(key.clone()) {
            state.order.push_back(key);
            drop(state);
            self.inner.ready.notify_one();
        }
    }

    /// Pushes `key` after `delay` (a background timer; dropped if the queue closes first).
    pub fn push_after(&self, key: K, delay: Duration)
    where
        K: Send + Sync + 'static,
    {
        let queue = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.push(key);
        });
    }

    /// Waits for the next key to work on; `None` once the queue is closed.
    pub async fn next(&self) -> Option<Lease<K>> {
        loop {
            let notified = self.inner.ready.notified();
            {
                let mut state = self.lock();
                if state.closed {
                    return None;
                }
                if let Some(key) = state.order.pop_front() {
                    state.queued.remove(&key);
                    state.running.insert(key.clone());
                    let more = !state.order.is_empty();
                    drop(state);
                    if more {
                        // Pass the baton: another worker may take the next key.
                        self.inner.ready.notify_one();
                    }
                    return Some(Lease {
                        key,
                        queue: self.clone(),
                    });
                }
            }
            notified.await;
        }
    }

    /// Stops handing out work: every waiting [`WorkQueue::next`] returns `None`, queued keys
    /// are dropped (they are in the store and come back on the next start).
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.order.clear();
        state.queued.clear();
        state.again.clear();
        drop(state);
        self.inner.ready.notify_waiters();
    }

    /// Keys waiting (not counting those being worked on).
    pub fn waiting(&self) -> usize {
        self.lock().order.len()
    }

    /// Keys being worked on right now.
    pub fn running(&self) -> usize {
        self.lock().running.len()
    }

    /// Whether `key` is waiting or being worked on.
    pub fn is_busy(&self, key: &K) -> bool {
        let state = self.lock();
        state.queued.contains(key) || state.running.contains(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn duplicates_collapse_while_waiting() {
        let q = WorkQueue::new();
        q.push("a");
        q.push("b");
        q.push("a");
        assert_eq!(q.waiting(), 2);
        let first = q.next().await.unwrap();
        let second = q.next().await.unwrap();
        assert_eq!((*first.key(), *second.key()), ("a", "b"));
        assert_eq!(q.waiting(), 0);
    }

    #[tokio::test]
    async fn a_running_key_is_not_handed_out_twice_but_comes_back() {
        let q = WorkQueue::new();
        q.push("a");
        let lease = q.next().await.unwrap();
        q.push("a");
        q.push("a");
        assert_eq!(
            q.waiting(),
            0,
            "a running key must not be queued beside itself"
        );
        assert!(q.is_busy(&"a"));
        drop(lease);
        assert_eq!(
            q.waiting(),
            1,
            "pushed while running: comes back exactly once"
        );
        let again = q.next().await.unwrap();
        assert_eq!(*again.key(), "a");
        drop(again);
        assert!(!q.is_busy(&"a"));
    }

    #[tokio::test]
    async fn close_wakes_waiting_workers_and_refuses_new_work() {
        let q: WorkQueue<u32> = WorkQueue::new();
        let waiter = {
            let q = q.clone();
            tokio::spawn(async move { q.next().await.map(|l| *l.key()) })
        };
        tokio::task::yield_now().await;
        q.close();
        assert_eq!(waiter.await.unwrap(), None);
        q.push(1);
        assert_eq!(q.waiting(), 0);
        assert!(q.next().await.is_none());
    }

    #[tokio::test]
    async fn a_lease_released_after_close_is_not_requeued() {
        let q = WorkQueue::new();
        q.push(7);
        let lease = q.next().await.unwrap();
        q.push(7);
        q.close();
        drop(lease);
        assert_eq!(q.waiting(), 0);
        assert_eq!(q.running(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn push_after_fires_once_the_delay_has_passed() {
        let q = WorkQueue::new();
        q.push_after("later", Duration::from_secs(30));
        tokio::time::sleep(Duration::from_secs(29)).await;
        assert_eq!(q.waiting(), 0);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(q.waiting(), 1);
    }

    #[tokio::test]
    async fn workers_never_overlap_on_one_key() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let q = WorkQueue::new();
        let inside = Arc::new(AtomicUsize::new(0));
        let max_inside = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..4 {
            let (q, inside, max_inside, done) =
                (q.clone(), inside.clone(), max_inside.clone(), done.clone());
            workers.push(tokio::spawn(async move {
                while let Some(lease) = q.next().await {
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    max_inside.fetch_max(now, Ordering::SeqCst);
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                    inside.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                    drop(lease);
                }
            }));
        }
        for _ in 0..20 {
            q.push("same");
            tokio::task::yield_now().await;
        }
        while q.is_busy(&"same") {
            tokio::task::yield_now().await;
        }
        q.close();
        for w in workers {
            w.await.unwrap();
        }
        assert_eq!(max_inside.load(Ordering::SeqCst), 1);
        assert!(done.load(Ordering::SeqCst) >= 2);
    }
}
