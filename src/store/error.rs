//! Why the store could not be opened or saved. Every message names the file and what to do.

use std::path::PathBuf;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the store's lock.
    #[error(
        "another octavia-integrator holds {path}: its lock file {lock} is locked by another \
         process; stop that daemon, or give this one its own [daemon] state_file"
    )]
    Locked {
        /// The store file.
        path: PathBuf,
        /// The lock file beside it.
        lock: PathBuf,
    },
    /// A file-system operation failed.
    #[error("cannot {action} {path}: {source}; check the path and its permissions")]
    Io {
        /// What we were doing ("read the store", "create the folder", ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The file is there but is not a store document we can read.
    #[error(
        "store {path} is corrupt ({reason}); it is never reset silently: move it aside \
         (`mv {path} {path}.bad`) to start with an empty store (load balancers are adopted \
         again from the cloud by their tags; requests come back with the next hook)"
    )]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file was written by a newer release with a format this one does not know.
    #[error(
        "store {path} has format version {found}; this octavia-integrator reads up to version \
         {supported}: upgrade octavia-integrator, or move the file aside to start empty"
    )]
    NewerVersion {
        /// The store file.
        path: PathBuf,
        /// Version found in the file.
        found: u32,
        /// Highest version this release reads.
        supported: u32,
    },
    /// An answer was given for a request the store does not hold.
    #[error("no stored request {key}: store the request before its answer")]
    UnknownRequest {
        /// The request key, as text.
        key: String,
    },
}

impl StoreError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        StoreError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
