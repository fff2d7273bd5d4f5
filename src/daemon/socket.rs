//! The daemon's unix socket: created with mode 0600, never stolen from a running daemon.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

/// Why the local API socket could not be bound.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// Another process already answers on the socket.
    #[error("another daemon is already listening on {0}; stop it first (`systemctl stop octavia-integrator`) or give this one another `socket` setting")]
    InUse(PathBuf),
    /// A file that is not a socket sits at the path.
    #[error("{0} exists and is not a socket; remove it or change the `socket` setting")]
    NotASocket(PathBuf),
    /// Any other OS error, with the step that failed.
    #[error("cannot {step} {path}: {source}; check the `socket` setting and the directory's permissions")]
    Io {
        /// What was being done.
        step: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Binds `path` as a unix socket only its owner can use (0600). The parent directory is created
/// (0700) when missing; a stale socket file nobody listens on is replaced.
///
/// # Errors
/// [`SocketError`] when another daemon listens there, the path holds something else, or the OS
/// refuses.
pub fn bind_socket(path: &Path) -> Result<UnixListener, SocketError> {
    let io = |step, source| SocketError::Io {
        step,
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| io("create the directory of", e))?;
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            use std::os::unix::fs::FileTypeExt;
            if !meta.file_type().is_socket() {
                return Err(SocketError::NotASocket(path.to_path_buf()));
            }
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(SocketError::InUse(path.to_path_buf()));
            }
            std::fs::remove_file(path).map_err(|e| io("remove the stale socket", e))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("inspect", e)),
    }
    let listener = UnixListener::bind(path).map_err(|e| io("listen on", e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| io("restrict the mode of", e))?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn socket_is_private_and_not_stolen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/d.sock");
        let first = bind_socket(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        let err = bind_socket(&path).unwrap_err();
        assert!(matches!(err, SocketError::InUse(_)), "{err}");
        drop(first);
        // The file stays behind but nobody listens: it is replaced.
        assert!(path.exists());
        let _again = bind_socket(&path).unwrap();
    }

    #[tokio::test]
    async fn a_regular_file_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sock");
        std::fs::write(&path, "x").unwrap();
        let err = bind_socket(&path).unwrap_err();
        assert!(matches!(err, SocketError::NotASocket(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x");
    }
}
