//! What the hook commands `lb-consumers` and `public-address` answer with (their input/output
//! handling lives in [`super::lb_consumers`] / [`super::public_address`]): the daemon when one
//! answers on its socket, else this process within `--wait`, as [`Runner`] decides once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::context::Runner;
use crate::config::Settings;
use crate::daemon::{ClientError, DaemonAnswerer, LocalAnswerer};
use crate::relation::answer::Current;
use crate::relation::v1::{Request, Response};
use crate::relation::{AnswerError, Answerer, Interface, NoCloud, RequestKey};

/// What a hook knows from its settings, before it knows where the work runs.
#[derive(Debug)]
pub enum HookSettings {
    /// All of them: the daemon if it answers, else in-process.
    All(Box<Settings>),
    /// Only where the daemon listens (the credentials did not resolve here, e.g. `OS_*`
    /// variables the hook's environment lacks): the daemon, which holds its own, or `why`.
    DaemonOnly {
        /// The daemon's socket.
        socket: PathBuf,
        /// Why the full settings did not load.
        why: String,
    },
    /// None: requests that do not load are still answered (so the hook's output stays
    /// complete); the rest are refused saying what to fix.
    Missing(NoCloud),
}

impl HookSettings {
    /// Reads the settings named by `--config`; nothing is connected yet.
    pub fn load(config: Option<&Path>) -> HookSettings {
        let Some(path) = config else {
            return HookSettings::Missing(NoCloud::new(
                "pass --config PATH (or set OCTAVIA_INTEGRATOR_CONFIG) with the cloud credentials \
                 and the VIP subnet",
            ));
        };
        match Settings::load(path) {
            Ok(settings) => HookSettings::All(Box::new(settings)),
            // A hook only needs to reach the daemon, which holds the credentials itself: with
            // the `[daemon]` section readable, the daemon can still answer.
            Err(e) => match Settings::load_daemon(path) {
                Ok(daemon) => HookSettings::DaemonOnly {
                    socket: daemon.socket,
                    why: e.to_string(),
                },
                Err(_) => HookSettings::Missing(NoCloud::new(e.to_string())),
            },
        }
    }

    /// The answerer for `interface`, from where the work runs. Called inside the hook's own
    /// runtime, so every connection it opens lives in the runtime that uses it.
    pub async fn answerer(&self, interface: Interface, wait: Duration) -> HookAnswerer {
        match self {
            HookSettings::All(settings) => {
                HookAnswerer::for_settings(settings, interface, wait).await
            }
            HookSettings::DaemonOnly { socket, why } => {
                HookAnswerer::found(Runner::find(socket).await, interface, || async {
                    HookAnswerer::Unavailable(AnswerError::Settings(format!(
                        "{why} (no daemon answers on {}, so this hook would work in-process, \
                         which needs them)",
                        socket.display()
                    )))
                })
                .await
            }
            HookSettings::Missing(refusal) => HookAnswerer::NoCloud(refusal.clone()),
        }
    }
}

/// The answerer of one hook run.
#[derive(Debug)]
pub enum HookAnswerer {
    /// A daemon answers on its socket.
    Daemon(DaemonAnswerer),
    /// No daemon: the store and the cloud are opened in this process.
    InProcess(LocalAnswerer),
    /// No settings: nothing is built; requests that load are refused with the reason.
    NoCloud(NoCloud),
    /// Neither way can answer (the daemon's socket is unusable, or this process cannot open
    /// the store or reach the cloud): every call fails with the reason.
    Unavailable(AnswerError),
}

impl HookAnswerer {
    /// The daemon's answerer when one answers on the settings' socket; otherwise an
    /// in-process one (store + cloud opened here, converging within `wait`).
    pub async fn for_settings(
        settings: &Settings,
        interface: Interface,
        wait: Duration,
    ) -> HookAnswerer {
        let found = Runner::find(&settings.daemon.socket).await;
        HookAnswerer::found(found, interface, || async {
            match LocalAnswerer::open(settings, interface, wait).await {
                Ok(local) => HookAnswerer::InProcess(local),
                Err(e) => HookAnswerer::Unavailable(e),
            }
        })
        .await
    }

    /// The answerer for what [`Runner::find`] found; `in_process` says what answers when no
    /// daemon runs.
    async fn found<F>(
        found: Result<Runner, ClientError>,
        interface: Interface,
        in_process: impl FnOnce() -> F,
    ) -> HookAnswerer
    where
        F: std::future::Future<Output = HookAnswerer>,
    {
        match found {
            Ok(Runner::Daemon(daemon)) => HookAnswerer::Daemon(daemon.answerer(interface)),
            Ok(Runner::InProcess) => in_process().await,
            Err(e) => HookAnswerer::Unavailable(AnswerError::Failed(e.to_string())),
        }
    }
}

impl Answerer for HookAnswerer {
    async fn answer(
        &self,
        key: &RequestKey,
        request: &Request,
    ) -> Result<Option<Response>, AnswerError> {
        match self {
            HookAnswerer::Daemon(a) => a.answer(key, request).await,
            HookAnswerer::InProcess(a) => a.answer(key, request).await,
            HookAnswerer::NoCloud(a) => a.answer(key, request).await,
            HookAnswerer::Unavailable(why) => Err(why.clone()),
        }
    }

    async fn refused(&self, key: &RequestKey, refusal: &Response) -> Result<(), AnswerError> {
        match self {
            HookAnswerer::Daemon(a) => a.refused(key, refusal).await,
            HookAnswerer::InProcess(a) => a.refused(key, refusal).await,
            HookAnswerer::NoCloud(a) => a.refused(key, refusal).await,
            HookAnswerer::Unavailable(why) => Err(why.clone()),
        }
    }

    async fn forget(&self, key: &RequestKey) -> Result<(), AnswerError> {
        match self {
            HookAnswerer::Daemon(a) => a.forget(key).await,
            HookAnswerer::InProcess(a) => a.forget(key).await,
            HookAnswerer::NoCloud(a) => a.forget(key).await,
            HookAnswerer::Unavailable(why) => Err(why.clone()),
        }
    }

    async fn retain(&self, interface: Interface, current: &Current) -> Result<(), AnswerError> {
        match self {
            HookAnswerer::Daemon(a) => a.retain(interface, current).await,
            HookAnswerer::InProcess(a) => a.retain(interface, current).await,
            HookAnswerer::NoCloud(a) => a.retain(interface, current).await,
            HookAnswerer::Unavailable(why) => Err(why.clone()),
        }
    }
}
