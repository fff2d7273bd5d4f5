//! Credentials from a `clouds.yaml` entry, found on the openstack CLI's search path, with the
//! matching `secure.yaml` entry merged over it.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde_norway::{Mapping, Value};

use super::credentials::CaBundle;
use super::fields::AuthFields;
use super::file::{read_text, require_private};
use super::{ConfigError, Environment};

const SUFFIXES: [&str; 2] = [".yaml", ".yml"];

/// The candidate files in lookup order: `./`, the user config dir (`$XDG_CONFIG_HOME/openstack`
/// or `~/.config/openstack`), the system folder (`/etc/openstack`); `.yaml` before `.yml` in each. `stem` is
/// `clouds` or `secure`.
pub(crate) fn search_path(env: &Environment, stem: &str) -> Vec<PathBuf> {
    let mut dirs = vec![env.cwd().to_path_buf()];
    if let Some(user) = env.user_config_dir() {
        dirs.push(user.join("openstack"));
    }
    dirs.push(env.system_config_dir().to_path_buf());
    dirs.iter()
        .flat_map(|d| SUFFIXES.iter().map(move |s| d.join(format!("{stem}{s}"))))
        .collect()
}

/// The clouds.yaml to use: `explicit` (the `clouds_file` setting), else `OS_CLIENT_CONFIG_FILE`,
/// else the first file on the search path that exists.
fn find_clouds_file(env: &Environment, explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = env.get("OS_CLIENT_CONFIG_FILE") {
        return Ok(env.absolute(Path::new(p)));
    }
    let candidates = search_path(env, "clouds");
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "no clouds.yaml found (looked in {}); create one there or set [cloud] clouds_file",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// The secure.yaml to merge: `OS_CLIENT_SECURE_FILE`, else the first on the search path.
fn find_secure_file(env: &Environment) -> Option<PathBuf> {
    if let Some(p) = env.get("OS_CLIENT_SECURE_FILE") {
        return Some(env.absolute(Path::new(p)));
    }
    search_path(env, "secure").into_iter().find(|p| p.is_file())
}

/// Reads cloud `name`. `setting` names what chose it ("`[cloud] cloud`" or "OS_CLOUD").
/// Returns the attributes and a description of the source.
pub(crate) fn read(
    env: &Environment,
    name: &str,
    explicit: Option<&Path>,
    setting: &str,
    origin: &str,
) -> Result<(AuthFields, String), ConfigError> {
    let path = find_clouds_file(env, explicit)
        .map_err(|reason| ConfigError::invalid(origin, setting, reason))?;
    let (entry, mode) = load_entry(&path, name, true, setting, origin)?;
    let mut entry = entry.expect("required entries are present");
    if entry_has_secret(&entry) {
        require_private("clouds.yaml", &path, mode)?;
    }
    let mut source = format!("clouds.yaml {} (cloud `{name}`)", path.display());
    if let Some(secure) = find_secure_file(env) {
        if let (Some(over), mode) = load_entry(&secure, name, false, setting, origin)? {
            if entry_has_secret(&over) {
                require_private("secure.yaml", &secure, mode)?;
            }
            merge(&mut entry, over);
            source = format!("{source} with {}", secure.display());
        }
    }
    let fields = to_fields(&entry, env, &source)?;
    Ok((fields, source))
}

/// The `clouds.<name>` mapping of a file (or `None` when absent and not `required`).
fn load_entry(
    path: &Path,
    name: &str,
    required: bool,
    setting: &str,
    origin: &str,
) -> Result<(Option<Mapping>, u32), ConfigError> {
    let file = read_text(
        "clouds file",
        path,
        "check the file, or choose another with [cloud] clouds_file",
    )?;
    let doc = parse_yaml(&file.text, path)?;
    let clouds = doc.get("clouds").and_then(Value::as_mapping);
    let entry = clouds.and_then(|c| c.get(name));
    match entry {
        Some(Value::Mapping(m)) => Ok((Some(m.clone()), file.mode)),
        Some(_) => Err(ConfigError::invalid(
            format!("clouds file {}", path.display()),
            format!("`clouds.{name}`"),
            "is not a mapping of settings",
        )),
        None if !required => Ok((None, file.mode)),
        None => {
            let known: Vec<String> = clouds
                .map(|c| {
                    c.keys()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Err(ConfigError::invalid(
                origin,
                setting,
                format!(
                    "cloud `{name}` is not in {} (clouds there: {}); fix the name or the file",
                    path.display(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ))
        }
    }
}

const SECRET_KEYS: [&str; 3] = ["password", "application_credential_secret", "token"];

fn entry_has_secret(entry: &Mapping) -> bool {
    entry
        .get("auth")
        .and_then(Value::as_mapping)
        .is_some_and(|auth| SECRET_KEYS.iter().any(|k| auth.contains_key(*k)))
}

/// Deep merge: mappings merge key by key, anything else is replaced.
fn merge(base: &mut Mapping, over: Mapping) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Mapping(b)), Value::Mapping(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The YAML document; a syntax error says where, without the offending value (a password
/// written `password: !!int hunter2` would otherwise be quoted).
fn parse_yaml(text: &str, path: &Path) -> Result<Value, ConfigError> {
    serde_norway::from_str(text).map_err(|e| ConfigError::Syntax {
        origin: format!("clouds file {}", path.display()),
        format: "YAML",
        message: super::error::without_values(&e.to_string()),
    })
}

/// A scalar as text (YAML may write a project id or a password as a number).
fn scalar(v: &Value, key: &str, origin: &str) -> Result<Option<String>, ConfigError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        _ => Err(ConfigError::invalid(
            origin,
            format!("`{key}`"),
            "must be a single value, not a list or mapping",
        )),
    }
}

fn to_fields(entry: &Mapping, env: &Environment, origin: &str) -> Result<AuthFields, ConfigError> {
    let empty = Mapping::new();
    let auth = match entry.get("auth") {
        None | Some(Value::Null) => &empty,
        Some(Value::Mapping(m)) => m,
        Some(_) => {
            return Err(ConfigError::invalid(
                origin,
                "`auth`",
                "must be a mapping of credential attributes",
            ))
        }
    };
    let a = |k: &str| -> Result<Option<String>, ConfigError> {
        match auth.get(k) {
            None => Ok(None),
            Some(v) => scalar(v, &format!("auth.{k}"), origin),
        }
    };
    let top = |k: &str| -> Result<Option<String>, ConfigError> {
        match entry.get(k) {
            None => Ok(None),
            Some(v) => scalar(v, k, origin),
        }
    };
    let secret = |k: &str| a(k).map(|v| v.map(SecretString::from));

    if entry.contains_key("profile") && a("auth_url")?.is_none() {
        return Err(ConfigError::invalid(
            origin,
            "`profile`",
            "vendor profiles are not supported: put auth.auth_url in the entry",
        ));
    }
    let region = match top("region_name")? {
        Some(r) => Some(r),
        None => first_region(entry.get("regions"), origin)?,
    };
    let insecure = match (top("insecure")?, top("verify")?) {
        (Some(v), _) => Some(bool_value(&v, "insecure", origin)?),
        (None, Some(v)) => Some(!bool_value(&v, "verify", origin)?),
        (None, None) => None,
    };
    Ok(AuthFields {
        auth_url: a("auth_url")?,
        auth_type: top("auth_type")?,
        username: a("username")?,
        user_id: a("user_id")?,
        user_domain_name: a("user_domain_name")?,
        user_domain_id: a("user_domain_id")?,
        password: secret("password")?,
        project_name: a("project_name")?.or(a("tenant_name")?),
        project_id: a("project_id")?.or(a("tenant_id")?),
        project_domain_name: a("project_domain_name")?,
        project_domain_id: a("project_domain_id")?,
        domain_name: a("domain_name")?,
        domain_id: a("domain_id")?,
        default_domain: a("default_domain")?,
        application_credential_id: a("application_credential_id")?,
        application_credential_name: a("application_credential_name")?,
        application_credential_secret: secret("application_credential_secret")?,
        token: secret("token")?,
        region,
        interface: top("interface")?.or(top("endpoint_type")?),
        ca: top("cacert")?.map(|p| CaBundle::File(env.absolute(Path::new(&p)))),
        insecure,
    })
}

fn bool_value(v: &str, key: &str, origin: &str) -> Result<bool, ConfigError> {
    super::env_vars::parse_bool(v).ok_or_else(|| {
        ConfigError::invalid(
            origin,
            format!("`{key}`"),
            format!("`{v}` is not a boolean"),
        )
    })
}

/// `regions:` is a list of names or of `{name: ...}` mappings; a single one is used, several
/// need the region chosen in the settings.
fn first_region(regions: Option<&Value>, origin: &str) -> Result<Option<String>, ConfigError> {
    let Some(Value::Sequence(list)) = regions else {
        return Ok(None);
    };
    let names: Vec<String> = list
        .iter()
        .filter_map(|r| match r {
            Value::String(s) => Some(s.clone()),
            Value::Mapping(m) => m.get("name").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .collect();
    match names.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        many => Err(ConfigError::invalid(
            origin,
            "`regions`",
            format!(
                "lists several regions ({}): choose one with [cloud] region",
                many.join(", ")
            ),
        )),
    }
}

/// The attribute name as this file spells it, for messages.
pub(crate) fn key_name(field: &str) -> String {
    match field {
        "region" => "`region_name`".to_string(),
        "interface" | "auth_type" | "cacert" | "insecure" => format!("`{field}`"),
        other => format!("`auth.{other}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_order_is_cwd_user_system() {
        let env = Environment::new([("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")], "/w");
        let got: Vec<String> = search_path(&env, "clouds")
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            got,
            [
                "/w/clouds.yaml",
                "/w/clouds.yml",
                "/x/openstack/clouds.yaml",
                "/x/openstack/clouds.yml",
                "/etc/openstack/clouds.yaml",
                "/etc/openstack/clouds.yml"
            ]
        );
        let env = Environment::new([("HOME", "/h")], "/w").with_system_config_dir("/s");
        assert_eq!(
            search_path(&env, "clouds")[4],
            PathBuf::from("/s/clouds.yaml")
        );
        assert_eq!(
            search_path(&env, "secure")[2],
            PathBuf::from("/h/.config/openstack/secure.yaml")
        );
    }

    #[test]
    fn yaml_errors_do_not_quote_values() {
        for text in [
            "clouds:\n  c:\n    auth:\n      password: !!int S3CRETabc\n",
            "clouds:\n  c:\n    auth:\n      password: \"S3CRETabc\n",
            "clouds:\n  c:\n    auth:\n      password: [S3CRETabc\n",
            "clouds:\n  c:\n    auth:\n      password: S3CRETabc: x\n",
        ] {
            let e = parse_yaml(text, Path::new("/c.yaml")).unwrap_err();
            let shown = e.to_string();
            assert!(!shown.contains("S3CRET"), "{shown}");
            assert!(shown.contains("line 4"), "{shown}");
            assert!(shown.contains("/c.yaml"), "{shown}");
        }
    }

    #[test]
    fn merge_is_deep() {
        let mut base: Mapping =
            serde_norway::from_str("auth: {username: u, auth_url: x}\nregion_name: R").unwrap();
        let over: Mapping = serde_norway::from_str("auth: {password: p}").unwrap();
        merge(&mut base, over);
        let auth = base.get("auth").unwrap().as_mapping().unwrap();
        assert_eq!(auth.len(), 3);
        assert!(entry_has_secret(&base));
    }

    #[test]
    fn regions_list() {
        let one: Value = serde_norway::from_str("[RegionOne]").unwrap();
        assert_eq!(
            first_region(Some(&one), "o").unwrap().as_deref(),
            Some("RegionOne")
        );
        let named: Value = serde_norway::from_str("[{name: R2, values: {}}]").unwrap();
        assert_eq!(
            first_region(Some(&named), "o").unwrap().as_deref(),
            Some("R2")
        );
        let many: Value = serde_norway::from_str("[A, B]").unwrap();
        assert!(first_region(Some(&many), "o")
            .unwrap_err()
            .to_string()
            .contains("A, B"));
    }

    #[test]
    fn numbers_become_text_and_verify_false_is_insecure() {
        let entry: Mapping = serde_norway::from_str(
            "auth: {auth_url: 'https://k/v3', username: u, password: 1234, project_id: 42}\nverify: false",
        )
        .unwrap();
        let env = Environment::new::<[(&str, &str); 0], _, _>([], "/w");
        let f = to_fields(&entry, &env, "o").unwrap();
        assert_eq!(f.project_id.as_deref(), Some("42"));
        assert!(f.password.is_some());
        assert_eq!(f.insecure, Some(true));
    }
}
