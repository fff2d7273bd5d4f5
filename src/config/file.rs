//! Reading files that may hold secrets, with the permission checks that go with them.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::ConfigError;

/// Group and other read bits.
const READABLE_BY_OTHERS: u32 = 0o044;
/// Group and other write bits.
const WRITABLE_BY_OTHERS: u32 = 0o022;

/// A file's text and its permission bits, read through one open file (no check-then-open race).
pub(crate) struct FileText {
    pub text: String,
    pub mode: u32,
}

/// Reads a UTF-8 text file; `what` names it in errors ("settings file", "clouds.yaml").
pub(crate) fn read_text(
    what: &'static str,
    path: &Path,
    hint: &str,
) -> Result<FileText, ConfigError> {
    let read_err = |source: std::io::Error| ConfigError::Read {
        what,
        path: path.to_path_buf(),
        source,
        hint: hint.to_string(),
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let mode = file.metadata().map_err(read_err)?.permissions().mode() & 0o7777;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read_err)?;
    let text = String::from_utf8(bytes).map_err(|_| ConfigError::Syntax {
        origin: format!("{what} {}", path.display()),
        format: "UTF-8 text",
        message: "the file holds bytes that are not UTF-8".into(),
    })?;
    Ok(FileText { text, mode })
}

/// Refuses a file that holds secrets and is readable by group or others.
pub(crate) fn require_private(
    what: &'static str,
    path: &Path,
    mode: u32,
) -> Result<(), ConfigError> {
    if mode & READABLE_BY_OTHERS != 0 {
        return Err(ConfigError::Permissions {
            what,
            path: path.to_path_buf(),
            mode,
            problem: "readable by group or others and holds secrets",
        });
    }
    Ok(())
}

/// Refuses a file that group or others could change (a settings file names a command we run).
pub(crate) fn require_not_writable_by_others(
    what: &'static str,
    path: &Path,
    mode: u32,
) -> Result<(), ConfigError> {
    if mode & WRITABLE_BY_OTHERS != 0 {
        return Err(ConfigError::Permissions {
            what,
            path: path.to_path_buf(),
            mode,
            problem: "writable by group or others",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_modes() {
        let p = Path::new("/x/settings.toml");
        assert!(require_private("settings file", p, 0o600).is_ok());
        assert!(require_private("settings file", p, 0o400).is_ok());
        let err = require_private("settings file", p, 0o640)
            .unwrap_err()
            .to_string();
        assert!(err.contains("/x/settings.toml"), "{err}");
        assert!(err.contains("chmod 600 /x/settings.toml"), "{err}");
        assert!(err.contains("0640"), "{err}");
        assert!(require_private("settings file", p, 0o604).is_err());
    }

    #[test]
    fn writable_by_others() {
        let p = Path::new("/x/s.toml");
        assert!(require_not_writable_by_others("settings file", p, 0o644).is_ok());
        assert!(require_not_writable_by_others("settings file", p, 0o664).is_err());
        assert!(require_not_writable_by_others("settings file", p, 0o646).is_err());
    }
}
