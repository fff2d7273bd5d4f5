//! The state every handler shares: the simulated world, the calls counted so far, and where
//! the server listens. Handlers import it from here; only `server` wires them together.

use std::sync::Mutex;

use super::accounting::Calls;
use super::state::World;

/// State shared by every handler.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) world: Mutex<World>,
    pub(crate) calls: Mutex<Calls>,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// (mount prefix, public prefix) for every service mount.
    pub(crate) mounts: Vec<(String, String)>,
}

impl Shared {
    /// Run `f` on the world after completing due state transitions.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut w = self.world.lock().unwrap_or_else(|p| p.into_inner());
        w.tick();
        f(&mut w)
    }
}

/// What the middleware learned about a service call.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The request path (for list links).
    pub(crate) path: String,
    /// The mount the call came through (e.g. `/internal/load-balancer`).
    pub(crate) mount: String,
}
