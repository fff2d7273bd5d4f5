//! `octavia-integrator [--config PATH] remove NAME [--app APP]`: deletes everything built for
//! one request (floating IP, load balancer, security groups). Idempotent.
//!
//! Without `--app`, the application is the one that has a request of that name in the store or
//! a load balancer of it in the cloud; when several do, `remove` refuses and lists them.
//!
//! Refused while a daemon answers on the configured socket: the daemon would go on publishing
//! the deleted address (and rebuild it at its next resync). Remove the request from the
//! relation instead, or stop the daemon first.
//!
//! Exit codes: 0 removed (or nothing was there); 1 a cloud failure (run it again) or a daemon
//! runs; 2 several applications have a request of that name; 3 settings or credentials missing
//! or invalid.

use super::output::outln;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::context::{refuse_beside_daemon, with_reconciler};
use crate::cli::exit;
use crate::cli::request_app::{self, Owner};
use crate::spec::LbIdentity;

/// Arguments of `remove`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The request name.
    pub name: String,
    /// The consuming application the request belongs to (default: the one application that
    /// has a request of that name in the store or the cloud).
    #[arg(long, value_name = "APP")]
    pub app: Option<String>,
}

/// Runs `remove`.
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    with_reconciler(config, |rec, settings| async move {
        let refused = refuse_beside_daemon(&settings.daemon.socket, |socket| {
            format!(
                "a daemon answers on {}: it would go on publishing the address of what \
                 `remove` deletes, and rebuild it at its next resync. Remove the request from the \
                 relation (the daemon then deletes it), or stop the daemon to remove by hand",
                socket.display()
            )
        });
        if let Some(code) = refused.await {
            return code;
        }
        let app = match request_app::find(args.app.as_deref(), &args.name, &settings, &rec).await {
            Ok(Owner::One(app)) => app,
            Ok(Owner::None) => {
                outln!(
                    "nothing to remove: no application has a request named {} (in the store or the cloud)",
                    args.name
                );
                return ExitCode::from(exit::OK);
            }
            Ok(Owner::Several(apps)) => {
                eprintln!("error: {}", request_app::several(&args.name, &apps));
                return ExitCode::from(exit::USAGE);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(exit::FAILURE);
            }
        };
        let key = LbIdentity::new(app, args.name.clone());
        match rec.remove(&key).await {
            Ok(removal) if removal.deleted.is_empty() => {
                outln!("nothing to remove for request {key}");
                ExitCode::from(exit::OK)
            }
            Ok(removal) => {
                for d in &removal.deleted {
                    outln!("{d}");
                }
                ExitCode::from(exit::OK)
            }
            Err(e) => {
                eprintln!("error: removing request {key}: {e}; run `remove` again");
                ExitCode::from(exit::FAILURE)
            }
        }
    })
}
