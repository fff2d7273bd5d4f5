//! The two [`Answerer`]s behind the hook commands (`lb-consumers`, `public-address`):
//! - [`DaemonAnswerer`]: the daemon runs; hand it the requests over its socket and return at
//!   once with every answer that is ready;
//! - [`LocalAnswerer`]: no daemon; open the store and the cloud in this process and converge
//!   requests until `--wait` (one budget for the whole hook) runs out, then answer what is
//!   ready.
//!
//! The command line picks one (`cli::hooks`), from where its work runs (`cli::context::Runner`).

use std::sync::Arc;
use std::time::Duration;

use super::api::{self, AnswerCall, AnswerReply, ForgetCall, Forgotten, RefusedCall, RetainCall};
use super::client::{ClientError, DaemonClient};
use super::cloud;
use super::engine::Engine;
use super::metrics::Metrics;
use crate::config::Settings;
use crate::relation::answer::{AnswerError, Answerer, Current, Interface, RequestKey};
use crate::relation::v1::{Request, Response};
use crate::store::Store;

/// Answers through a running daemon.
#[derive(Debug, Clone)]
pub struct DaemonAnswerer {
    client: DaemonClient,
    interface: Interface,
    /// The daemon's version when it differs from this command's: it may not know what this
    /// command sends (held relations, refusals), so nothing is removed through it.
    other_version: Option<String>,
}

impl DaemonAnswerer {
    /// Answers `interface`'s requests through the daemon behind `client`.
    pub fn new(client: DaemonClient, interface: Interface) -> Self {
        DaemonAnswerer {
            client,
            interface,
            other_version: None,
        }
    }

    /// The same, for a daemon that said it runs `version` (its health answer).
    pub fn for_version(client: DaemonClient, interface: Interface, version: &str) -> Self {
        DaemonAnswerer {
            other_version: (version != env!("CARGO_PKG_VERSION")).then(|| version.to_string()),
            ..DaemonAnswerer::new(client, interface)
        }
    }

    /// Refuses a removal through a daemon of another version: an older one would not keep a
    /// held relation's requests, and would delete their load balancers.
    fn may_remove(&self) -> Result<(), AnswerError> {
        match &self.other_version {
            None => Ok(()),
            Some(theirs) => Err(AnswerError::Failed(format!(
                "the daemon runs version {theirs} and this command {}: nothing is removed \
                 through a daemon of another version; restart it (`systemctl restart \
                 octavia-integrator`) after an upgrade",
                env!("CARGO_PKG_VERSION")
            ))),
        }
    }
}

fn failed(e: ClientError) -> AnswerError {
    AnswerError::Failed(e.to_string())
}

impl Answerer for DaemonAnswerer {
    async fn answer(
        &self,
        key: &RequestKey,
        request: &Request,
    ) -> Result<Option<Response>, AnswerError> {
        let call = AnswerCall {
            interface: self.interface,
            key: key.clone(),
            request: request.canonical_json(),
        };
        let reply: AnswerReply = self.client.post(api::ANSWER, &call).await.map_err(failed)?;
        reply
            .answer
            .map(|text| {
                Response::parse(&text).map_err(|e| {
                    AnswerError::Failed(format!(
                        "the daemon's answer for {key} does not load ({e}); restart the daemon after an upgrade"
                    ))
                })
            })
            .transpose()
    }

    async fn refused(&self, key: &RequestKey, refusal: &Response) -> Result<(), AnswerError> {
        let call = RefusedCall {
            interface: self.interface,
            key: key.clone(),
            refusal: refusal.canonical_json(),
        };
        let _: Forgotten = self
            .client
            .post(api::REFUSED, &call)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn forget(&self, key: &RequestKey) -> Result<(), AnswerError> {
        self.may_remove()?;
        let _: Forgotten = self
            .client
            .post(api::FORGET, &ForgetCall { key: key.clone() })
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn retain(&self, interface: Interface, current: &Current) -> Result<(), AnswerError> {
        self.may_remove()?;
        let call = RetainCall {
            interface,
            keys: current.keys.iter().cloned().collect(),
            held_relations: current.held_relations.iter().copied().collect(),
        };
        let _: Forgotten = self.client.post(api::RETAIN, &call).await.map_err(failed)?;
        Ok(())
    }
}

/// Answers in this process: store and cloud opened here; requests are converged until one
/// deadline, `wait` after opening, so a hook never takes much longer than `--wait`.
///
/// Honours the leader flag exactly like the daemon (the stored flag, else the settings'
/// `daemon.leader`): a non-leader never connects to the cloud, never creates, changes or
/// deletes anything; it records the requests and answers only what the store already has.
#[derive(Debug, Clone)]
pub struct LocalAnswerer {
    engine: Arc<Engine>,
    interface: Interface,
    deadline: tokio::time::Instant,
    leader: bool,
}

impl LocalAnswerer {
    /// Opens the store and connects to the cloud, all within `wait` (at least 1 s for the
    /// connection).
    ///
    /// # Errors
    /// The store is held by a daemon or unreadable; the cloud cannot be reached or the
    /// settings do not resolve.
    pub async fn open(
        settings: &Settings,
        interface: Interface,
        wait: Duration,
    ) -> Result<LocalAnswerer, AnswerError> {
        let deadline = tokio::time::Instant::now() + wait;
        let store = Store::open(&settings.daemon.state_file)
            .map_err(|e| AnswerError::Failed(e.to_string()))?;
        let metrics = Arc::new(Metrics::new());
        let leader = store.leader().unwrap_or(settings.daemon.leader);
        metrics.set_leader(leader);
        if !leader {
            tracing::info!(
                "not the leader: answering from the store only; only the leader acts on the cloud"
            );
            return Ok(LocalAnswerer {
                engine: Arc::new(Engine::new(store, None, metrics)),
                interface,
                deadline,
                leader,
            });
        }
        let budget = wait.max(Duration::from_secs(1));
        let reconciler = tokio::time::timeout(budget, cloud::connect(settings, &metrics, None))
            .await
            .map_err(|_| {
                AnswerError::Failed(format!(
                    "the cloud did not answer within {}s; check auth_url and the network, or raise --wait",
                    budget.as_secs()
                ))
            })?
            .map_err(|e| {
                if e.is_settings_problem() {
                    AnswerError::Settings(e.to_string())
                } else {
                    AnswerError::Failed(e.to_string())
                }
            })?;
        Ok(LocalAnswerer {
            engine: Arc::new(Engine::new(store, Some(reconciler), metrics)),
            interface,
            deadline,
            leader,
        })
    }

    /// One pass for `key`, abandoned safely at the deadline (the next pass starts from what
    /// the cloud has).
    async fn pass(&self, key: &RequestKey) {
        if !self.leader {
            return;
        }
        if tokio::time::timeout_at(self.deadline, self.engine.reconcile(key, false))
            .await
            .is_err()
        {
            tracing::info!(request = %key,
                "not converged within --wait; a later hook (or the daemon) continues");
        }
    }
}

impl Answerer for LocalAnswerer {
    async fn answer(
        &self,
        key: &RequestKey,
        request: &Request,
    ) -> Result<Option<Response>, AnswerError> {
        let store_err = |e: crate::store::StoreError| AnswerError::Failed(e.to_string());
        self.engine
            .record(self.interface, key, request)
            .await
            .map_err(store_err)?;
        self.pass(key).await;
        let (answer, _) = self
            .engine
            .record(self.interface, key, request)
            .await
            .map_err(store_err)?;
        Ok(answer)
    }

    async fn refused(&self, key: &RequestKey, refusal: &Response) -> Result<(), AnswerError> {
        self.engine
            .refuse(self.interface, key, refusal)
            .await
            .map_err(|e| AnswerError::Failed(e.to_string()))
    }

    async fn forget(&self, key: &RequestKey) -> Result<(), AnswerError> {
        self.engine
            .forget(key)
            .await
            .map_err(|e| AnswerError::Failed(e.to_string()))?;
        self.pass(key).await;
        Ok(())
    }

    async fn retain(&self, interface: Interface, current: &Current) -> Result<(), AnswerError> {
        self.engine
            .retain(interface, current)
            .await
            .map_err(|e| AnswerError::Failed(e.to_string()))?;
        // Every removal of this interface not yet carried out, this hook's and any an earlier
        // hook or process left behind: the store remembers each until its cloud resources are
        // gone. (This hook has just said which requests of the interface are current, so none
        // of them is among these.)
        for key in self.engine.pending_removals(&[interface]).await {
            self.pass(&key).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_is_removed_through_a_daemon_of_another_version() {
        // No daemon listens on this socket: a refusal that asked it anything would say
        // "not running" instead.
        let dir = tempfile::tempdir().unwrap();
        let client = DaemonClient::new(dir.path().join("d.sock"));
        let older = DaemonAnswerer::for_version(client.clone(), Interface::LoadBalancer, "0.0.1");
        let key = RequestKey::new(1, "kcp", "api");
        for refusal in [
            older.forget(&key).await.unwrap_err(),
            older
                .retain(Interface::LoadBalancer, &Current::default())
                .await
                .unwrap_err(),
        ] {
            let text = refusal.to_string();
            assert!(text.contains("version 0.0.1"), "{text}");
            assert!(text.contains("restart"), "{text}");
        }
        let same =
            DaemonAnswerer::for_version(client, Interface::LoadBalancer, env!("CARGO_PKG_VERSION"));
        let asked = same.forget(&key).await.unwrap_err().to_string();
        assert!(
            asked.contains("not running"),
            "it asked the daemon: {asked}"
        );
    }
}
