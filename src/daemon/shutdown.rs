//! Shutdown as a value: one [`Shutdown`] is triggered once and fanned out to every listener,
//! worker and background task of the daemon.

use std::future::Future;

use tokio::sync::watch;

/// A one-way "stop now" signal shared by every part of the daemon. Cloning is cheap; triggering
/// any clone stops them all.
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A shutdown that has not been triggered yet.
    pub fn new() -> Self {
        let (tx, _) = watch::channel(false);
        Shutdown { tx }
    }

    /// Triggers the shutdown (idempotent).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether the shutdown has been triggered.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once the shutdown is triggered (at once if it already was).
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.tx.subscribe();
        async move {
            // An error means every sender is gone: nobody can trigger any more, so treat it as
            // a shutdown rather than waiting forever.
            let _ = rx.wait_for(|stopped| *stopped).await;
        }
    }

    /// Triggers this shutdown when `signal` resolves (e.g. the caller's own shutdown future).
    pub fn trigger_on<F>(&self, signal: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let this = self.clone();
        let done = self.wait();
        tokio::spawn(async move {
            tokio::select! {
                () = signal => this.trigger(),
                () = done => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_resolves_after_trigger_for_every_clone() {
        let shutdown = Shutdown::new();
        let a = shutdown.wait();
        let other = shutdown.clone();
        assert!(!other.is_triggered());
        shutdown.trigger();
        a.await;
        other.wait().await;
        assert!(other.is_triggered());
    }

    #[tokio::test]
    async fn trigger_on_forwards_an_external_future() {
        let shutdown = Shutdown::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        shutdown.trigger_on(async move {
            let _ = rx.await;
        });
        assert!(!shutdown.is_triggered());
        tx.send(()).unwrap();
        shutdown.wait().await;
        assert!(shutdown.is_triggered());
    }
}
