//! `octavia-integrator [--config PATH] remove NAME [--app APP]`: deletes everything built for
//! one request (floating IP, load balancer, security groups). Idempotent.
//!
//! Exit codes: 0 removed (or nothing was there); 1 a cloud failure (run it again);
//! 3 settings or credentials missing or invalid.

use super::output::outln;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::apply::{with_reconciler, DEFAULT_APP};
use crate::cli::exit;
use crate::spec::RequestKey;

/// Arguments of `remove`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The request name.
    pub name: String,
    /// The consuming application the request belongs to.
    #[arg(long, value_name = "APP", default_value = DEFAULT_APP)]
    pub app: String,
}

/// Runs `remove`.
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    let key = RequestKey::new(args.app.clone(), args.name.clone());
    with_reconciler(config, |rec, _| async move {
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
