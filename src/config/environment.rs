//! The process environment, injected: variables and the working directory. The parsers read
//! only this, never `std::env`, so tests are pure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Environment variables and working directory the settings are resolved against.
#[derive(Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    cwd: PathBuf,
    system_config_dir: PathBuf,
}

/// Where the system-wide `openstack/clouds.yaml` lives unless
/// [`Environment::with_system_config_dir`] says otherwise.
pub const SYSTEM_CONFIG_DIR: &str = "/etc/openstack";

impl std::fmt::Debug for Environment {
    // Variables may hold OS_PASSWORD or OS_TOKEN: list only the names.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("cwd", &self.cwd)
            .field("system_config_dir", &self.system_config_dir)
            .finish()
    }
}

impl Environment {
    /// An environment from the given variables and working directory.
    pub fn new<I, K, V>(vars: I, cwd: impl Into<PathBuf>) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Environment {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            cwd: cwd.into(),
            system_config_dir: PathBuf::from(SYSTEM_CONFIG_DIR),
        }
    }

    /// The same environment with the system-wide OpenStack config folder at `dir` (default
    /// `/etc/openstack`): tests point it at an empty folder, so what the host has installed
    /// never changes their outcome.
    #[must_use]
    pub fn with_system_config_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.system_config_dir = dir.into();
        self
    }

    /// The system-wide OpenStack config folder (`clouds.yaml`, `secure.yaml`).
    pub fn system_config_dir(&self) -> &Path {
        &self.system_config_dir
    }

    /// The environment of this process (the only place that reads `std::env`).
    pub fn from_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Environment::new(vars, cwd)
    }

    /// A variable's value; unset and empty are the same (as `export OS_X=` means "none").
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The working directory (`./clouds.yaml` is looked up here).
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// `path` made absolute against the working directory.
    pub fn absolute(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cwd.join(path)
        }
    }

    /// The user configuration directory: `$XDG_CONFIG_HOME`, else `$HOME/.config`.
    pub fn user_config_dir(&self) -> Option<PathBuf> {
        if let Some(xdg) = self.get("XDG_CONFIG_HOME") {
            return Some(PathBuf::from(xdg));
        }
        self.get("HOME").map(|home| Path::new(home).join(".config"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset() {
        let env = Environment::new([("OS_REGION_NAME", ""), ("HOME", "/h")], "/w");
        assert_eq!(env.get("OS_REGION_NAME"), None);
        assert_eq!(env.get("HOME"), Some("/h"));
    }

    #[test]
    fn user_config_dir_prefers_xdg() {
        let env = Environment::new([("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")], "/w");
        assert_eq!(env.user_config_dir(), Some(PathBuf::from("/x")));
        let env = Environment::new([("HOME", "/h")], "/w");
        assert_eq!(env.user_config_dir(), Some(PathBuf::from("/h/.config")));
        assert_eq!(
            Environment::new::<[(&str, &str); 0], _, _>([], "/w").user_config_dir(),
            None
        );
    }

    #[test]
    fn system_config_dir_defaults_to_etc_openstack_and_can_be_moved() {
        let env = Environment::new([("HOME", "/h")], "/w");
        assert_eq!(env.system_config_dir(), Path::new("/etc/openstack"));
        let env = env.with_system_config_dir("/empty");
        assert_eq!(env.system_config_dir(), Path::new("/empty"));
    }

    #[test]
    fn debug_lists_names_only() {
        let env = Environment::new([("OS_PASSWORD", "hunter2")], "/w");
        let text = format!("{env:?}");
        assert!(text.contains("OS_PASSWORD"));
        assert!(!text.contains("hunter2"));
    }
}
