//! `octavia-integrator [--config PATH] gc [--yes] [--keep APP/NAME ...] [--json]`: finds
//! resources tagged with this cluster that no current request owns. A dry run unless `--yes`.
//!
//! The current requests are those in the daemon's store (`[daemon] state_file`, read while
//! the daemon is stopped) plus every `--keep`; without a store, pass `--keep` for each request
//! to keep.
//!
//! Exit codes: 0 listed (or deleted with `--yes`); 1 a cloud failure; 3 settings invalid.

use super::output::outln;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::context::with_reconciler;
use crate::cli::exit;
use crate::config::Settings;
use crate::daemon::stored;
use crate::spec::LbIdentity;
use crate::store::Store;

/// Arguments of `gc`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Delete the orphans (without it, only list them).
    #[arg(long)]
    pub yes: bool,
    /// A request to keep, as APP/NAME (repeatable).
    #[arg(long, value_name = "APP/NAME")]
    pub keep: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Parses `APP/NAME`.
///
/// # Errors
/// A message when there is no `/`.
pub fn parse_key(text: &str) -> Result<LbIdentity, String> {
    match text.split_once('/') {
        Some((app, name)) if !app.is_empty() && !name.is_empty() => Ok(LbIdentity::new(app, name)),
        _ => Err(format!(
            "`{text}` is not APP/NAME (e.g. kubernetes-control-plane/api-server-external)"
        )),
    }
}

/// The requests in the daemon's store, or none when there is no store yet.
///
/// # Errors
/// A message when the store exists but cannot be read (e.g. the daemon holds it): nothing
/// may be deleted without knowing every live request.
pub fn stored_keys(settings: &Settings) -> Result<Vec<LbIdentity>, String> {
    let path = &settings.daemon.state_file;
    if !path.exists() {
        return Ok(Vec::new());
    }
    let store = Store::open(path).map_err(|e| {
        format!("{e}; gc needs the current requests: stop the daemon first (or run gc from the daemon's host when it is stopped)")
    })?;
    Ok(store
        .entries()
        .map(|(k, _)| stored::cloud_key(&k.clone()))
        .collect())
}

/// Runs `gc`.
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    let mut keep = Vec::new();
    for k in &args.keep {
        match parse_key(k) {
            Ok(key) => keep.push(key),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(exit::USAGE);
            }
        }
    }
    let (yes, json) = (args.yes, args.json);
    with_reconciler(config, |rec, settings| async move {
        match stored_keys(&settings) {
            Ok(stored) => keep.extend(stored),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(exit::FAILURE);
            }
        }
        match rec.gc(&keep, !yes).await {
            Ok(orphans) => {
                if json {
                    let list: Vec<serde_json::Value> = orphans
                        .iter()
                        .map(|o| serde_json::json!({"kind": o.kind, "id": o.id, "label": o.label, "deleted": o.deleted}))
                        .collect();
                    outln!("{}", serde_json::Value::Array(list));
                } else if orphans.is_empty() {
                    outln!("no orphans");
                } else {
                    for o in &orphans {
                        let verb = if o.deleted { "deleted" } else { "would delete" };
                        outln!("{verb} {} {} ({})", o.kind, o.id, o.label);
                    }
                    if !yes {
                        outln!("dry run: pass --yes to delete");
                    }
                }
                ExitCode::from(exit::OK)
            }
            Err(e) => {
                eprintln!("error: garbage collection failed: {e}");
                ExitCode::from(exit::FAILURE)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse() {
        assert_eq!(parse_key("k8s/api").unwrap(), LbIdentity::new("k8s", "api"));
        assert!(parse_key("api").is_err());
        assert!(parse_key("/api").is_err());
    }
}
