//! The settings file as written (TOML), before validation. Unknown keys are refused by name,
//! with the section they were found in.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::ConfigError;

/// `[cloud]` keys (kept in step with `RawCloud`; a test checks).
pub const CLOUD_KEYS: &[&str] = &[
    "auth_url",
    "region",
    "interface",
    "ca_file",
    "insecure",
    "username",
    "user_id",
    "user_domain_name",
    "user_domain_id",
    "password",
    "project_name",
    "project_id",
    "project_domain_name",
    "project_domain_id",
    "domain_name",
    "domain_id",
    "application_credential_id",
    "application_credential_name",
    "application_credential_secret",
    "token",
    "cloud",
    "clouds_file",
    "juju_credentials_file",
    "from_env",
];

/// `[load_balancer]` keys.
pub const LOAD_BALANCER_KEYS: &[&str] = &[
    "vip_subnet",
    "member_subnet",
    "floating_network",
    "provider",
    "flavor",
    "availability_zone",
    "default_algorithm",
    "manage_security_groups",
    "fully_populated_create",
    "closest_health_check",
    "wait_seconds",
];

/// `[daemon]` keys.
pub const DAEMON_KEYS: &[&str] = &[
    "socket",
    "state_file",
    "resync_seconds",
    "notify_command",
    "metrics_address",
    "leader",
];

/// `[cloud]` keys whose values are secrets: never quoted in an error.
pub const SECRET_KEYS: &[&str] = &["password", "application_credential_secret", "token"];

/// `[cloud]` as written. No `Debug`: it holds secrets.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCloud {
    pub auth_url: Option<String>,
    pub region: Option<String>,
    pub interface: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub username: Option<String>,
    pub user_id: Option<String>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub password: Option<SecretString>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub domain_name: Option<String>,
    pub domain_id: Option<String>,
    pub application_credential_id: Option<String>,
    pub application_credential_name: Option<String>,
    pub application_credential_secret: Option<SecretString>,
    pub token: Option<SecretString>,
    pub cloud: Option<String>,
    pub clouds_file: Option<PathBuf>,
    pub juju_credentials_file: Option<PathBuf>,
    pub from_env: Option<bool>,
}

/// `[load_balancer]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoadBalancer {
    pub vip_subnet: Option<String>,
    pub member_subnet: Option<String>,
    pub floating_network: Option<String>,
    pub provider: Option<String>,
    pub flavor: Option<String>,
    pub availability_zone: Option<String>,
    pub default_algorithm: Option<String>,
    pub manage_security_groups: Option<bool>,
    pub fully_populated_create: Option<bool>,
    pub closest_health_check: Option<bool>,
    pub wait_seconds: Option<u64>,
}

/// `[daemon]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDaemon {
    pub socket: Option<PathBuf>,
    pub state_file: Option<PathBuf>,
    pub resync_seconds: Option<u64>,
    pub notify_command: Option<Vec<String>>,
    pub metrics_address: Option<String>,
    pub leader: Option<bool>,
}

/// The whole file as written.
#[derive(Default)]
pub(crate) struct RawSettings {
    pub cluster_id: Option<String>,
    pub cloud: RawCloud,
    pub load_balancer: RawLoadBalancer,
    pub daemon: RawDaemon,
}

/// Parses TOML text; `origin` names the file in errors.
pub(crate) fn parse(text: &str, origin: &str) -> Result<RawSettings, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
        origin: origin.to_string(),
        format: "TOML",
        message: syntax_message(&e, text),
    })?;
    let mut raw = RawSettings::default();
    for (key, value) in table {
        match key.as_str() {
            "cluster_id" => match value {
                toml::Value::String(s) => raw.cluster_id = Some(s),
                other => {
                    return Err(ConfigError::invalid(
                        origin,
                        "`cluster_id`",
                        format!("must be a string, not {}", other.type_str()),
                    ))
                }
            },
            "cloud" => raw.cloud = section(value, "cloud", CLOUD_KEYS, origin)?,
            "load_balancer" => {
                raw.load_balancer = section(value, "load_balancer", LOAD_BALANCER_KEYS, origin)?
            }
            "daemon" => raw.daemon = section(value, "daemon", DAEMON_KEYS, origin)?,
            other => {
                return Err(ConfigError::invalid(
                    origin,
                    format!("`{other}`"),
                    format!(
                        "unknown setting at the top level{}; the top level holds cluster_id and the sections [cloud], [load_balancer], [daemon]",
                        belongs_elsewhere(other)
                    ),
                ))
            }
        }
    }
    Ok(raw)
}

/// The parser's own message with the line and column it points at. Never the parser's
/// `Display`: that quotes the source line, which may hold a password.
fn syntax_message(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("{message} (line {line}, column {column})")
        }
        None => message.to_string(),
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// " (it belongs in [section])" when another section knows the key.
fn belongs_elsewhere(key: &str) -> String {
    [
        ("cloud", CLOUD_KEYS),
        ("load_balancer", LOAD_BALANCER_KEYS),
        ("daemon", DAEMON_KEYS),
    ]
    .iter()
    .find(|(_, keys)| keys.contains(&key))
    .map(|(s, _)| format!(" (it belongs in [{s}])"))
    .unwrap_or_default()
}

/// One section: unknown keys named first, then typed with serde.
fn section<T: serde::de::DeserializeOwned>(
    value: toml::Value,
    name: &str,
    keys: &[&str],
    origin: &str,
) -> Result<T, ConfigError> {
    let toml::Value::Table(table) = value else {
        return Err(ConfigError::invalid(
            origin,
            format!("`{name}`"),
            format!("must be a section `[{name}]`, not {}", value.type_str()),
        ));
    };
    if let Some(unknown) = table.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(ConfigError::invalid(
            origin,
            format!("`[{name}] {unknown}`"),
            format!(
                "unknown setting in [{name}]{}; known there: {}",
                belongs_elsewhere(unknown),
                keys.join(", ")
            ),
        ));
    }
    T::deserialize(toml::Value::Table(table)).map_err(|e| {
        let text = e.to_string();
        // toml appends "\nin `key`" to type errors.
        let (message, key) = match text.trim_end().rsplit_once("\nin `") {
            Some((m, k)) => (m.to_string(), k.trim_end_matches('`').to_string()),
            None => (text.trim_end().to_string(), String::new()),
        };
        // A value of the wrong type is quoted by serde ("invalid type: integer `123`"): never
        // for a secret.
        let message = if SECRET_KEYS.contains(&key.as_str()) {
            "must be a string (the value is not shown: it is a secret)".to_string()
        } else {
            message
        };
        let setting = if key.is_empty() {
            format!("`[{name}]`")
        } else {
            format!("`[{name}] {key}`")
        };
        ConfigError::invalid(origin, setting, friendly(&message))
    })
}

/// serde's type names in words an operator reads.
fn friendly(message: &str) -> String {
    message
        .replace("expected u64", "expected a whole number of zero or more")
        .replace("expected a sequence", "expected a list")
        .replace("a borrowed string", "a string")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ConfigError {
        match parse(text, "settings file /s.toml") {
            Err(e) => e,
            Ok(_) => panic!("accepted: {text}"),
        }
    }

    #[test]
    fn key_lists_match_the_structs() {
        // Every listed key is known to serde (a wrong value type names the key, an unknown
        // one would say "unknown field").
        for (section, keys) in [
            ("cloud", CLOUD_KEYS),
            ("load_balancer", LOAD_BALANCER_KEYS),
            ("daemon", DAEMON_KEYS),
        ] {
            for key in keys {
                let e = err(&format!("[{section}]\n{key} = {{ x = 1 }}\n"));
                assert_eq!(
                    e.setting(),
                    Some(format!("`[{section}] {key}`").as_str()),
                    "{e}"
                );
                assert!(!e.to_string().contains("unknown"), "{e}");
            }
        }
    }

    #[test]
    fn unknown_key_named_with_section() {
        let e = err("cluster_id = 'c'\n[load_balancer]\nvip_subnet = 's'\nvip_subent = 'x'\n");
        assert_eq!(e.setting(), Some("`[load_balancer] vip_subent`"));
        assert!(
            e.to_string().contains("unknown setting in [load_balancer]"),
            "{e}"
        );
    }

    #[test]
    fn key_in_the_wrong_section_gets_a_hint() {
        let e = err("[cloud]\nvip_subnet = 'x'\n");
        assert!(
            e.to_string().contains("it belongs in [load_balancer]"),
            "{e}"
        );
        let e = err("vip_subnet = 'x'\n");
        assert_eq!(e.setting(), Some("`vip_subnet`"));
        assert!(
            e.to_string().contains("it belongs in [load_balancer]"),
            "{e}"
        );
    }

    #[test]
    fn type_errors_name_the_key() {
        let e = err("[load_balancer]\nwait_seconds = 'long'\n");
        assert_eq!(e.setting(), Some("`[load_balancer] wait_seconds`"));
        assert!(e.to_string().contains("whole number"), "{e}");
        let e = err("[daemon]\nnotify_command = 'x'\n");
        assert_eq!(e.setting(), Some("`[daemon] notify_command`"));
        let e = err("cloud = 3\n");
        assert_eq!(e.setting(), Some("`cloud`"));
        let e = err("cluster_id = 3\n");
        assert_eq!(e.setting(), Some("`cluster_id`"));
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let e = err("cluster_id = 'c'\n[cloud\n");
        assert!(matches!(e, ConfigError::Syntax { .. }));
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn a_syntax_error_on_a_secret_line_does_not_quote_it() {
        let e = err("[cloud]\npassword = \"hunter2-S3CRET\n");
        let shown = e.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!format!("{e:?}").contains("hunter2"), "{e:?}");
        assert!(shown.contains("line 2, column"), "{shown}");
        let e = err("[cloud]\npassword = { v = \"hunter2-S3CRET\"\n");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_not_quoted() {
        let e = err("[cloud]\npassword = 918273645\n");
        assert_eq!(e.setting(), Some("`[cloud] password`"));
        assert!(!e.to_string().contains("918273645"), "{e}");
        assert!(e.to_string().contains("must be a string"), "{e}");
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("ab\ncé\nx", 0), (1, 1));
        assert_eq!(line_column("ab\ncé\nx", 3), (2, 1));
        assert_eq!(line_column("ab\ncé\nx", 7), (3, 1));
        assert_eq!(line_column("ab\ncé\nx", 99), (3, 2));
        // Inside a multi-byte character: the character's own column.
        assert_eq!(line_column("é", 1), (1, 1));
    }
}
