//! Durable file replacement: temp file in the same folder, fsync, rename, fsync the folder.
//! A failure at any step leaves the previous file untouched.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::StoreError;

/// Mode of the store and its lock file.
pub(crate) const FILE_MODE: u32 = 0o600;
/// Mode of a folder we create for the store.
pub(crate) const DIR_MODE: u32 = 0o700;

/// Creates the missing folders above `path` with mode 0700 (existing ones are left alone).
pub(crate) fn ensure_parent(path: &Path) -> Result<(), StoreError> {
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    if parent.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(parent)
        .map_err(|e| StoreError::io("create the store folder", parent, e))
}

/// Puts an existing store file back to mode 0600 if someone loosened it.
pub(crate) fn tighten_mode(path: &Path) -> Result<(), StoreError> {
    let mode = std::fs::metadata(path)
        .map_err(|e| StoreError::io("read the mode of", path, e))?
        .permissions()
        .mode()
        & 0o777;
    if mode != FILE_MODE {
        tracing::warn!(path = %path.display(), mode = format!("{mode:04o}"), "store file mode set back to 0600");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE))
            .map_err(|e| StoreError::io("set the mode of", path, e))?;
    }
    Ok(())
}

/// The temporary file `path` is written through first.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    path.with_file_name(format!(".{name}.tmp"))
}

/// Replaces `path` with `bytes`, durably, mode 0600.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic_with(path, bytes, |file, bytes| file.write_all(bytes))
}

/// [`write_atomic`] with the step that writes the bytes given (tests inject failures there).
pub(crate) fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    write: impl FnOnce(&mut File, &[u8]) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    let temp = temp_path(path);
    // A temp file left by a crash is ours (we hold the lock): start afresh.
    match std::fs::remove_file(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(StoreError::io("remove the stale temporary file", &temp, e)),
    }
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&temp)
            .map_err(|e| StoreError::io("create the temporary file", &temp, e))?;
        // The umask may have narrowed the mode; never widened it. Make it exact.
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
            .map_err(|e| StoreError::io("set the mode of", &temp, e))?;
        write(&mut file, bytes).map_err(|e| StoreError::io("write", &temp, e))?;
        file.sync_all()
            .map_err(|e| StoreError::io("flush to disk", &temp, e))?;
        std::fs::rename(&temp, path).map_err(|e| StoreError::io("replace", path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
        return result;
    }
    sync_dir(path)
}

/// Flushes the folder entry of `path` (so the rename survives a power cut).
fn sync_dir(path: &Path) -> Result<(), StoreError> {
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(d) => d,
        None => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("flush the folder of", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn replaces_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!temp_path(&path).exists());
    }

    #[test]
    fn a_write_failing_midway_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomic(&path, b"old contents").unwrap();
        let err = write_atomic_with(&path, b"new contents that will not fit", |file, bytes| {
            file.write_all(&bytes[..5])?;
            Err(Error::new(ErrorKind::StorageFull, "simulated: disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old contents");
        assert!(!temp_path(&path).exists(), "temp file cleaned up");
    }

    #[test]
    fn stale_temp_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(temp_path(&path), b"junk from a crash").unwrap();
        write_atomic(&path, b"fresh").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"fresh");
    }

    #[test]
    fn creates_missing_folders_0700() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/state.json");
        ensure_parent(&path).unwrap();
        for d in [dir.path().join("a"), dir.path().join("a/b")] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & !0o700, 0, "{} has mode {mode:o}", d.display());
        }
    }
}
