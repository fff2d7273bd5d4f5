//! Plugs the real answerers into the hook commands `lb-consumers` and `public-address`
//! (their input/output handling lives in [`super::lb_consumers`] / [`super::public_address`]):
//! the daemon when it answers on its socket, else in-process within `--wait`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::Settings;
use crate::daemon::answerer::LazyAnswerer;
use crate::relation::{Interface, NoCloud};

/// `lb-consumers` with the daemon or in-process answerer.
pub fn lb_consumers(config: Option<&Path>, args: &super::lb_consumers::Args) -> ExitCode {
    let wait = Duration::from_secs(args.wait);
    match answerer(config, Interface::LoadBalancer, wait) {
        Ok(a) => super::lb_consumers::run_with(&a),
        Err(refusal) => super::lb_consumers::run_with(&refusal),
    }
}

/// `public-address` with the daemon or in-process answerer.
pub fn public_address(config: Option<&Path>, args: &super::public_address::Args) -> ExitCode {
    let wait = Duration::from_secs(args.wait);
    match answerer(config, Interface::PublicAddress, wait) {
        Ok(a) => super::public_address::run_with(&a, args.port),
        Err(refusal) => super::public_address::run_with(&refusal, args.port),
    }
}

/// The answerer for these settings, or a refusal saying what to fix (requests that do not
/// load are still answered, so the hook's output stays complete).
fn answerer(
    config: Option<&Path>,
    interface: Interface,
    wait: Duration,
) -> Result<LazyAnswerer, NoCloud> {
    let Some(path) = config else {
        return Err(NoCloud::new(
            "pass --config PATH (or set OCTAVIA_INTEGRATOR_CONFIG) with the cloud credentials \
             and the VIP subnet",
        ));
    };
    match Settings::load(path) {
        Ok(settings) => Ok(LazyAnswerer::new(settings, interface, wait)),
        // A hook only needs to reach the daemon, which holds the credentials itself: with the
        // `[daemon]` section readable, the daemon can still answer.
        Err(e) => match Settings::load_daemon(path) {
            Ok(daemon) => Ok(LazyAnswerer::daemon_only(
                daemon.socket,
                e.to_string(),
                interface,
            )),
            Err(_) => Err(NoCloud::new(e.to_string())),
        },
    }
}
