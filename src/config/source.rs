//! `[cloud]`: picks exactly one credential source (inline, clouds.yaml, `OS_*`, Juju file),
//! resolves it, then applies the inline region / interface / CA / insecure overrides.
//! `auth_url` is both: part of inline credentials, and an override of any other source's URL.

use std::path::Path;

use super::credentials::{parse_interface, CaBundle, CloudSettings};
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
    let setting = |k: &str| format!("`[cloud] {k}`");
    let bad = |k: &str, reason: String| ConfigError::invalid(origin, setting(k), reason);
    let path = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base_dir.join(p)
        }
    };

    // Overrides that apply to every source; checked strictly here.
    let interface = match &raw.interface {
        None => None,
        Some(t) => Some(parse_interface(t, false).ok_or_else(|| {
            bad(
                "interface",
                format!("`{t}` is not an endpoint interface: use public, internal or admin"),
            )
        })?),
    };
    let region = non_empty(raw.region.clone());
    let ca = raw.ca_file.as_deref().map(|p| CaBundle::File(path(p)));
    let insecure = raw.insecure;

    let inline = inline_fields(&raw);
    let url_override = AuthFields {
        auth_url: non_empty(raw.auth_url.clone()),
        ..Default::default()
    };
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
    let uses_clouds_yaml = raw.cloud.is_some()
        || (chosen.is_empty() && env.get("OS_CLOUD").is_some())
        || (raw.from_env == Some(true) && env.get("OS_CLOUD").is_some());
    if raw.clouds_file.is_some() && !uses_clouds_yaml {
        return Err(bad(
            "clouds_file",
            "is only used with `cloud = \"name\"` (or OS_CLOUD): set cloud, or remove clouds_file"
                .into(),
        ));
    }
    let clouds_file = raw.clouds_file.as_deref().map(path);

    let mut resolved = if let Some(name) = &raw.cloud {
        let name = non_empty(Some(name.clone()))
            .ok_or_else(|| bad("cloud", "is empty: give the clouds.yaml entry name".into()))?;
        let (fields, source) = clouds_yaml::read(
            env,
            &name,
            clouds_file.as_deref(),
            &setting("cloud"),
            origin,
        )?;
        fields
            .overlay(url_override)
            .resolve(&source, &clouds_yaml::key_name, true)?
    } else if let Some(file) = &raw.juju_credentials_file {
        let (fields, shape, source) = juju::read(&path(file))?;
        fields
            .overlay(url_override)
            .resolve(&source, &|k| juju::key_name(shape, k), false)?
    } else if raw.from_env == Some(true) {
        let from_env = env_vars::read(env)?;
        match env.get("OS_CLOUD") {
            // As the openstack CLI: the OS_CLOUD entry, with OS_* variables over it.
            Some(name) => {
                let (fields, source) =
                    clouds_yaml::read(env, name, clouds_file.as_deref(), "OS_CLOUD", origin)?;
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
                    .resolve(&source, &namer, true)?
            }
            None => from_env.overlay(url_override).resolve(
                "OS_* environment variables ([cloud] from_env = true)",
                &|k| env_vars::var_name(k),
                true,
            )?,
        }
    } else if inline.has_identity() {
        inline
            .overlay(url_override)
            .resolve(origin, &|k| setting(k), false)?
    } else if let Some(name) = env.get("OS_CLOUD") {
        let (fields, source) =
            clouds_yaml::read(env, name, clouds_file.as_deref(), "OS_CLOUD", origin)?;
        fields
            .overlay(url_override)
            .resolve(&source, &clouds_yaml::key_name, true)?
    } else {
        return Err(ConfigError::invalid(
            origin,
            "`[cloud]`",
            "no credentials: set inline credentials (auth_url, username, password, project_name), \
             or cloud = \"<clouds.yaml entry>\" (or OS_CLOUD), or juju_credentials_file, \
             or from_env = true",
        ));
    };

    if let Some(i) = interface {
        resolved.interface = i;
    }
    if region.is_some() {
        resolved.region = region;
    }
    if ca.is_some() {
        resolved.ca = ca;
    }
    if let Some(i) = insecure {
        resolved.insecure = i;
    }
    Ok(resolved)
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
