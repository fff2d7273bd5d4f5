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

/// A parser's message with the offending value left out: serde quotes it in "invalid type:
/// string \"…\", expected …" and "invalid value: …", and it may be a password. What is left
/// says the kind of value, what was expected and where.
pub(crate) fn without_values(message: &str) -> String {
    let mut out = message.to_string();
    for marker in ["invalid type: ", "invalid value: "] {
        let Some(start) = out.find(marker).map(|i| i + marker.len()) else {
            continue;
        };
        let Some(end) = out[start..].rfind(", expected").map(|i| start + i) else {
            continue;
        };
        let quoted = out[start..end].find(['"', '`', '\'']).map(|i| start + i);
        if let Some(q) = quoted {
            out.replace_range(q..end, "(value not shown)");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_left_out_of_parser_messages() {
        assert_eq!(
            without_values(
                r#"auth.password: invalid value: string "S3CRET, expected x", expected an integer at line 4 column 17"#
            ),
            "auth.password: invalid value: string (value not shown), expected an integer at line 4 column 17"
        );
        assert_eq!(
            without_values("invalid type: integer `918273645`, expected a string"),
            "invalid type: integer (value not shown), expected a string"
        );
        assert_eq!(
            without_values("invalid type: map, expected a string"),
            "invalid type: map, expected a string"
        );
        assert_eq!(
            without_values("did not find expected key at line 2 column 3"),
            "did not find expected key at line 2 column 3"
        );
    }
}
