//! The one error type of settings and credentials. Every variant names the file or source, the
//! setting, and says what to do.

use std::path::PathBuf;

/// Why settings or credentials could not be loaded. The text never holds a secret value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file (settings, clouds.yaml, Juju credentials, CA bundle) could not be read.
    #[error("cannot read {what} {path}: {source}; {hint}")]
    Read {
        /// What the file is for ("settings file", "CA bundle", ...).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
        /// What to do about it.
        hint: String,
    },
    /// A file holding secrets is readable by group or others, or a settings file is writable by
    /// them.
    #[error(
        "{what} {path} is {problem} (mode {mode:04o}); refusing to use it: run `chmod 600 {path}`"
    )]
    Permissions {
        /// What the file is for.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The permission bits found.
        mode: u32,
        /// "readable by group or others and holds secrets", or similar.
        problem: &'static str,
    },
    /// The file is not valid TOML / YAML / JSON at all.
    #[error("{origin} is not valid {format}: {message}")]
    Syntax {
        /// The file (or other source) that failed to parse.
        origin: String,
        /// "TOML", "YAML", "JSON" or "base64".
        format: &'static str,
        /// The parser's message (with line and column where the parser gives them).
        message: String,
    },
    /// A setting is unknown, missing, of the wrong type or has a bad value.
    #[error("{origin}: {setting}: {reason}")]
    Invalid {
        /// The file (or other source) holding the setting.
        origin: String,
        /// The setting, with its section: "`[cloud] password`", "`OS_AUTH_URL`".
        setting: String,
        /// Why it is wrong and what to do.
        reason: String,
    },
}

impl ConfigError {
    /// A bad or missing setting.
    pub(crate) fn invalid(
        origin: impl Into<String>,
        setting: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            origin: origin.into(),
            setting: setting.into(),
            reason: reason.into(),
        }
    }

    /// The setting an [`Invalid`](ConfigError::Invalid) error is about, for tests and tools.
    pub fn setting(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { setting, .. } => Some(setting),
            _ => None,
        }
    }
}
