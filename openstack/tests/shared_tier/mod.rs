//! The optional fidelity tier: tests that compare us with the upstream OpenStack API examples in
//! `../shared/fixtures-upstream` (beside the checkout). The project's own fixtures cover every
//! decoding path without it; when the folder is absent these tests say so in one line and pass.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The upstream examples folder, or `None` after printing one `skipped: no ../shared` line for
/// `test` (written to the real standard error, so it shows even when the test harness captures
/// output).
pub fn upstream_dir(test: &str) -> Option<PathBuf> {
    let dir = checkout().join("../shared/fixtures-upstream");
    if dir.is_dir() {
        return Some(dir);
    }
    let _ = writeln!(
        std::io::stderr(),
        "skipped: no ../shared ({test}: the fidelity tier needs {})",
        dir.display()
    );
    None
}

/// The checkout's root: the nearest folder above this crate that holds the workspace's
/// `Cargo.lock` (the client and the simulator crates stand at different depths under it).
fn checkout() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .unwrap_or(manifest)
        .to_path_buf()
}
