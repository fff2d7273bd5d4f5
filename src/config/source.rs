//! `[cloud]`: picks exactly one credential source (inline, clouds.yaml, `OS_*`, Juju file),
//! resolves it, then applies the inline region / interface / CA / insecure overrides.
//! `auth_url` is both: part of inline credentials, and an override of any other source's URL.

use std::path::{Path, PathBuf};

use super::credentials::{parse_interface, CaBundle, CloudSettings, Interface};
use super::fields::AuthFields;
use super::raw::RawCloud;
use super::{clouds_yaml, env_vars, juju, ConfigError, Environment};

/// Resolves `[cloud]`. `base_dir` is the settings file's folder (relative paths start there).
pub(crate) fn resolve(
    raw: RawCloud,
    base_dir: &Path,
    env: &Environment,
    origin: &str,
) -> Result<CloudSettings, ConfigError> {
    let section = Section { base_dir, origin };
    let overrides = Overrides::read(&raw, &section)?;
    let inline = inline_fields(&raw);
    let none_chosen = one_source_at_most(&raw, &inline, origin)?;
    let clouds_file = clouds_file(&raw, env, none_chosen, &section)?;
    let resolved = credentials(&raw, inline, clouds_file.as_deref(), env, &section)?;
    Ok(overrides.apply(resolved))
}

/// The `[cloud]` section being resolved: where it came from and where its relative paths
/// start.
struct Section<'a> {
    base_dir: &'a Path,
    origin: &'a str,
}

impl Section<'_> {
    /// How a message names setting `k`.
    fn setting(&self, k: &str) -> String {
        format!("`[cloud] {k}`")
    }

    /// Setting `k` is invalid for `reason`.
    fn bad(&self, k: &str, reason: String) -> ConfigError {
        ConfigError::invalid(self.origin, self.setting(k), reason)
    }

    /// `p`, relative to the settings file's folder unless absolute.
    fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }
}

/// Overrides that apply to every source, applied after resolving it.
struct Overrides {
    interface: Option<Interface>,
    region: Option<String>,
    ca: Option<CaBundle>,
    insecure: Option<bool>,
}

impl Overrides {
    /// Reads them; checked strictly here.
    fn read(raw: &RawCloud, section: &Section<'_>) -> Result<Overrides, ConfigError> {
        let interface = match &raw.interface {
            None => None,
            Some(t) => Some(parse_interface(t, false).ok_or_else(|| {
                section.bad(
                    "interface",
                    format!("`{t}` is not an endpoint interface: use public, internal or admin"),
                )
            })?),
        };
        Ok(Overrides {
            interface,
            region: non_empty(raw.region.clone()),
            ca: raw
                .ca_file
                .as_deref()
                .map(|p| CaBundle::File(section.path(p))),
            insecure: raw.insecure,
        })
    }

    /// `resolved` with every override that is set.
    fn apply(self, mut resolved: CloudSettings) -> CloudSettings {
        if let Some(i) = self.interface {
            resolved.interface = i;
        }
        if self.region.is_some() {
            resolved.region = self.region;
        }
        if self.ca.is_some() {
            resolved.ca = self.ca;
        }
        if let Some(i) = self.insecure {
            resolved.insecure = i;
        }
        resolved
    }
}

/// Refuses more than one credential source; `true` when none is set.
fn one_source_at_most(
    raw: &RawCloud,
    inline: &AuthFields,
    origin: &str,
) -> Result<bool, ConfigError> {
    let mut chosen: Vec<&str> = Vec::new();
    if inline.has_identity() {
        chosen.push("inline credentials (username, password, ...)");
    }
    if raw.cloud.is_some() {
        chosen.push("cloud");
    }
    if raw.juju_credentials_file.is_some() {
        chosen.push("juju_credentials_file");
    }
    if raw.from_env == Some(true) {
        chosen.push("from_env");
    }
    if chosen.len() > 1 {
        return Err(ConfigError::invalid(
            origin,
            "`[cloud]`",
            format!(
                "more than one credential source is set ({}): keep exactly one",
                chosen.join(", ")
            ),
        ));
    }
    Ok(chosen.is_empty())
}

/// `clouds_file`, refused unless a clouds.yaml entry is read (`cloud`, or `OS_CLOUD`).
fn clouds_file(
    raw: &RawCloud,
    env: &Environment,
    none_chosen: bool,
    section: &Section<'_>,
) -> Result<Option<PathBuf>, ConfigError> {
    let uses_clouds_yaml = raw.cloud.is_some()
        || (none_chosen && env.get("OS_CLOUD").is_some())
        || (raw.from_env == Some(true) && env.get("OS_CLOUD").is_some());
    if raw.clouds_file.is_some() && !uses_clouds_yaml {
        return Err(section.bad(
            "clouds_file",
            "is only used with `cloud = \"name\"` (or OS_CLOUD): set cloud, or remove clouds_file"
                .into(),
        ));
    }
    Ok(raw.clouds_file.as_deref().map(|p| section.path(p)))
}

/// The credentials from the one source that is set, with `[cloud] auth_url` over them.
fn credentials(
    raw: &RawCloud,
    inline: AuthFields,
    clouds_file: Option<&Path>,
    env: &Environment,
    section: &Section<'_>,
) -> Result<CloudSettings, ConfigError> {
    let origin = section.origin;
    let url_override = AuthFields {
        auth_url: non_empty(raw.auth_url.clone()),
        ..Default::default()
    };
    if let Some(name) = &raw.cloud {
        let name = non_empty(Some(name.clone())).ok_or_else(|| {
            section.bad("cloud", "is empty: give the clouds.yaml entry name".into())
        })?;
        let (fields, source) =
            clouds_yaml::read(env, &name, clouds_file, &section.setting("cloud"), origin)?;
        fields
            .overlay(url_override)
            .resolve(&source, &clouds_yaml::key_name, true)
    } else if let Some(file) = &raw.juju_credentials_file {
        let (fields, shape, source) = juju::read(&section.path(file))?;
        fields
            .overlay(url_override)
            .resolve(&source, &|k| juju::key_name(shape, k), false)
    } else if raw.from_env == Some(true) {
        from_env(env, url_override, clouds_file, origin)
    } else if inline.has_identity() {
        inline
            .overlay(url_override)
            .resolve(origin, &|k| section.setting(k), false)
    } else if let Some(name) = env.get("OS_CLOUD") {
        let (fields, source) = clouds_yaml::read(env, name, clouds_file, "OS_CLOUD", origin)?;
        fields
            .overlay(url_override)
            .resolve(&source, &clouds_yaml::key_name, true)
    } else {
        Err(ConfigError::invalid(
            origin,
            "`[cloud]`",
            "no credentials: set inline credentials (auth_url, username, password, project_name), \
             or cloud = \"<clouds.yaml entry>\" (or OS_CLOUD), or juju_credentials_file, \
             or from_env = true",
        ))
    }
}

/// `from_env = true`: the `OS_*` variables, over the `OS_CLOUD` entry when one is named (as
/// the openstack CLI reads them).
fn from_env(
    env: &Environment,
    url_override: AuthFields,
    clouds_file: Option<&Path>,
    origin: &str,
) -> Result<CloudSettings, ConfigError> {
    let from_env = env_vars::read(env)?;
    match env.get("OS_CLOUD") {
        Some(name) => {
            let (fields, source) = clouds_yaml::read(env, name, clouds_file, "OS_CLOUD", origin)?;
            let source = format!("{source}, OS_* environment variables over it");
            let namer = |k: &str| {
                format!(
                    "{} (or {} in clouds.yaml)",
                    env_vars::var_name(k),
                    clouds_yaml::key_name(k)
                )
            };
            fields
                .overlay(from_env)
                .overlay(url_override)
                .resolve(&source, &namer, true)
        }
        None => from_env.overlay(url_override).resolve(
            "OS_* environment variables ([cloud] from_env = true)",
            &|k| env_vars::var_name(k),
            true,
        ),
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// The inline credential attributes, without `auth_url` (it may override another source) and
/// the overrides applied after resolving.
fn inline_fields(raw: &RawCloud) -> AuthFields {
    AuthFields {
        username: non_empty(raw.username.clone()),
        user_id: non_empty(raw.user_id.clone()),
        user_domain_name: non_empty(raw.user_domain_name.clone()),
        user_domain_id: non_empty(raw.user_domain_id.clone()),
        password: raw.password.clone(),
        project_name: non_empty(raw.project_name.clone()),
        project_id: non_empty(raw.project_id.clone()),
        project_domain_name: non_empty(raw.project_domain_name.clone()),
        project_domain_id: non_empty(raw.project_domain_id.clone()),
        domain_name: non_empty(raw.domain_name.clone()),
        domain_id: non_empty(raw.domain_id.clone()),
        application_credential_id: non_empty(raw.application_credential_id.clone()),
        application_credential_name: non_empty(raw.application_credential_name.clone()),
        application_credential_secret: raw.application_credential_secret.clone(),
        token: raw.token.clone(),
        ..Default::default()
    }
}

/// Whether the `[cloud]` section itself holds a secret (then the file must be private).
pub(crate) fn holds_secret(raw: &RawCloud) -> bool {
    raw.password.is_some() || raw.application_credential_secret.is_some() || raw.token.is_some()
}
