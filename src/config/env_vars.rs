//! Credentials from `OS_*` environment variables, read as the openstack CLI reads them.

use secrecy::SecretString;

use super::credentials::CaBundle;
use super::fields::AuthFields;
use super::{ConfigError, Environment};

/// Canonical attribute → environment variable. `project_*` also falls back to `OS_TENANT_*`.
const NAMES: &[(&str, &str)] = &[
    ("auth_url", "OS_AUTH_URL"),
    ("auth_type", "OS_AUTH_TYPE"),
    ("username", "OS_USERNAME"),
    ("user_id", "OS_USER_ID"),
    ("user_domain_name", "OS_USER_DOMAIN_NAME"),
    ("user_domain_id", "OS_USER_DOMAIN_ID"),
    ("password", "OS_PASSWORD"),
    ("project_name", "OS_PROJECT_NAME"),
    ("project_id", "OS_PROJECT_ID"),
    ("project_domain_name", "OS_PROJECT_DOMAIN_NAME"),
    ("project_domain_id", "OS_PROJECT_DOMAIN_ID"),
    ("domain_name", "OS_DOMAIN_NAME"),
    ("domain_id", "OS_DOMAIN_ID"),
    ("default_domain", "OS_DEFAULT_DOMAIN"),
    ("application_credential_id", "OS_APPLICATION_CREDENTIAL_ID"),
    (
        "application_credential_name",
        "OS_APPLICATION_CREDENTIAL_NAME",
    ),
    (
        "application_credential_secret",
        "OS_APPLICATION_CREDENTIAL_SECRET",
    ),
    ("token", "OS_TOKEN"),
    ("region", "OS_REGION_NAME"),
    ("interface", "OS_INTERFACE"),
    ("cacert", "OS_CACERT"),
    ("insecure", "OS_INSECURE"),
];

/// The environment variable for a canonical attribute name.
pub(crate) fn var_name(field: &str) -> String {
    NAMES
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| format!("OS_{}", field.to_uppercase()))
}

/// Reads the `OS_*` variables into credential attributes (nothing is required here).
pub(crate) fn read(env: &Environment) -> Result<AuthFields, ConfigError> {
    let s = |name: &str| env.get(name).map(str::to_string);
    let secret = |name: &str| env.get(name).map(|v| SecretString::from(v.to_string()));
    let insecure = match env.get("OS_INSECURE") {
        None => None,
        Some(v) => Some(parse_bool(v).ok_or_else(|| {
            ConfigError::invalid(
                "environment",
                "OS_INSECURE",
                format!("`{v}` is not a boolean: use true or false"),
            )
        })?),
    };
    Ok(AuthFields {
        auth_url: s("OS_AUTH_URL"),
        auth_type: s("OS_AUTH_TYPE"),
        username: s("OS_USERNAME"),
        user_id: s("OS_USER_ID"),
        user_domain_name: s("OS_USER_DOMAIN_NAME"),
        user_domain_id: s("OS_USER_DOMAIN_ID"),
        password: secret("OS_PASSWORD"),
        project_name: s("OS_PROJECT_NAME").or_else(|| s("OS_TENANT_NAME")),
        project_id: s("OS_PROJECT_ID").or_else(|| s("OS_TENANT_ID")),
        project_domain_name: s("OS_PROJECT_DOMAIN_NAME"),
        project_domain_id: s("OS_PROJECT_DOMAIN_ID"),
        domain_name: s("OS_DOMAIN_NAME"),
        domain_id: s("OS_DOMAIN_ID"),
        default_domain: s("OS_DEFAULT_DOMAIN"),
        application_credential_id: s("OS_APPLICATION_CREDENTIAL_ID"),
        application_credential_name: s("OS_APPLICATION_CREDENTIAL_NAME"),
        application_credential_secret: secret("OS_APPLICATION_CREDENTIAL_SECRET"),
        token: secret("OS_TOKEN"),
        region: s("OS_REGION_NAME"),
        interface: s("OS_INTERFACE").or_else(|| s("OS_ENDPOINT_TYPE")),
        ca: env
            .get("OS_CACERT")
            .map(|p| CaBundle::File(env.absolute(std::path::Path::new(p)))),
        insecure,
    })
}

/// Booleans as the openstack CLI and YAML spell them.
pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::credentials::{
        AppCredRef, Credentials, DomainRef, Interface, Scope, UserRef,
    };
    use secrecy::ExposeSecret;

    fn resolve(vars: &[(&str, &str)]) -> Result<crate::config::CloudSettings, ConfigError> {
        let env = Environment::new(vars.iter().copied(), "/work");
        read(&env)?.resolve("environment", &|f| var_name(f), true)
    }

    #[test]
    fn full_password_set() {
        let c = resolve(&[
            ("OS_AUTH_URL", "https://k:5000/v3"),
            ("OS_USERNAME", "u"),
            ("OS_PASSWORD", "pw"),
            ("OS_USER_DOMAIN_NAME", "UD"),
            ("OS_PROJECT_NAME", "p"),
            ("OS_PROJECT_DOMAIN_ID", "pd"),
            ("OS_REGION_NAME", "R1"),
            ("OS_INTERFACE", "internal"),
            ("OS_CACERT", "ca.pem"),
        ])
        .unwrap();
        match &c.auth {
            Credentials::Password { user, password } => {
                assert_eq!(
                    user,
                    &UserRef::Name {
                        name: "u".into(),
                        domain: DomainRef::Name("UD".into())
                    }
                );
                assert_eq!(password.expose_secret(), "pw");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            c.scope,
            Some(Scope::ProjectName {
                name: "p".into(),
                domain: DomainRef::Id("pd".into())
            })
        );
        assert_eq!(c.region.as_deref(), Some("R1"));
        assert_eq!(c.interface, Interface::Internal);
        assert_eq!(c.ca, Some(CaBundle::File("/work/ca.pem".into())));
    }

    #[test]
    fn tenant_name_and_user_id() {
        let c = resolve(&[
            ("OS_AUTH_URL", "https://k/v3"),
            ("OS_USER_ID", "uid"),
            ("OS_PASSWORD", "pw"),
            ("OS_TENANT_NAME", "t"),
        ])
        .unwrap();
        assert!(
            matches!(&c.auth, Credentials::Password { user: UserRef::Id(id), .. } if id == "uid")
        );
        assert!(matches!(&c.scope, Some(Scope::ProjectName { name, .. }) if name == "t"));
    }

    #[test]
    fn application_credential() {
        let c = resolve(&[
            ("OS_AUTH_URL", "https://k/v3"),
            ("OS_AUTH_TYPE", "v3applicationcredential"),
            ("OS_APPLICATION_CREDENTIAL_ID", "acid"),
            ("OS_APPLICATION_CREDENTIAL_SECRET", "acs"),
        ])
        .unwrap();
        match &c.auth {
            Credentials::ApplicationCredential {
                credential: AppCredRef::Id(id),
                secret,
            } => {
                assert_eq!(id, "acid");
                assert_eq!(secret.expose_secret(), "acs");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn token() {
        let c = resolve(&[
            ("OS_AUTH_URL", "https://k/v3"),
            ("OS_AUTH_TYPE", "v3token"),
            ("OS_TOKEN", "tok"),
            ("OS_PROJECT_ID", "pid"),
        ])
        .unwrap();
        assert!(matches!(c.auth, Credentials::Token { .. }));
        assert_eq!(c.scope, Some(Scope::ProjectId("pid".into())));
    }

    #[test]
    fn errors_name_the_variable() {
        let err = resolve(&[("OS_USERNAME", "u"), ("OS_PASSWORD", "pw")]).unwrap_err();
        assert_eq!(err.setting(), Some("OS_AUTH_URL"));
        let err = resolve(&[("OS_AUTH_URL", "https://k/v3"), ("OS_PASSWORD", "pw")]).unwrap_err();
        assert_eq!(err.setting(), Some("OS_USERNAME"));
        assert!(err.to_string().contains("OS_USER_ID"));
        let err = resolve(&[("OS_INSECURE", "maybe")]).unwrap_err();
        assert_eq!(err.setting(), Some("OS_INSECURE"));
        let err = resolve(&[
            ("OS_AUTH_URL", "https://k/v3"),
            ("OS_USERNAME", "u"),
            ("OS_PASSWORD", "pw"),
            ("OS_PROJECT_NAME", "p"),
            ("OS_INTERFACE", "private"),
        ])
        .unwrap_err();
        assert_eq!(err.setting(), Some("OS_INTERFACE"));
    }

    #[test]
    fn legacy_endpoint_type() {
        let c = resolve(&[
            ("OS_AUTH_URL", "https://k/v3"),
            ("OS_USERNAME", "u"),
            ("OS_PASSWORD", "pw"),
            ("OS_PROJECT_NAME", "p"),
            ("OS_ENDPOINT_TYPE", "adminURL"),
            ("OS_INSECURE", "true"),
        ])
        .unwrap();
        assert_eq!(c.interface, Interface::Admin);
        assert!(c.insecure);
    }
}
