//! The flat credential attributes every source produces (settings, clouds.yaml, `OS_*`, Juju),
//! and the one set of rules that turns them into [`CloudSettings`].

use secrecy::SecretString;

use super::credentials::{
    parse_interface, AppCredRef, CaBundle, CloudSettings, Credentials, DomainRef, Interface, Scope,
    UserRef,
};
use super::ConfigError;

/// Credential attributes with their canonical (clouds.yaml `auth`) names. Unset is `None`.
/// `Debug` is derived: `SecretString` prints itself redacted.
#[derive(Clone, Debug, Default)]
pub(crate) struct AuthFields {
    pub auth_url: Option<String>,
    pub auth_type: Option<String>,
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
    pub default_domain: Option<String>,
    pub application_credential_id: Option<String>,
    pub application_credential_name: Option<String>,
    pub application_credential_secret: Option<SecretString>,
    pub token: Option<SecretString>,
    pub region: Option<String>,
    pub interface: Option<String>,
    pub ca: Option<CaBundle>,
    pub insecure: Option<bool>,
}

/// How one source spells a canonical attribute name in its messages.
pub(crate) type Namer<'a> = &'a dyn Fn(&str) -> String;

macro_rules! overlay_fields {
    ($base:ident, $top:ident; $($f:ident),*) => {
        $( if $top.$f.is_some() { $base.$f = $top.$f; } )*
    };
}

impl AuthFields {
    /// Whether any secret (password, application-credential secret, token) is present.
    pub fn has_secret(&self) -> bool {
        self.password.is_some()
            || self.application_credential_secret.is_some()
            || self.token.is_some()
    }

    /// Whether any attribute that identifies credentials (not region/interface/TLS) is present.
    pub fn has_identity(&self) -> bool {
        self.auth_url.is_some()
            || self.auth_type.is_some()
            || self.username.is_some()
            || self.user_id.is_some()
            || self.user_domain_name.is_some()
            || self.user_domain_id.is_some()
            || self.project_name.is_some()
            || self.project_id.is_some()
            || self.project_domain_name.is_some()
            || self.project_domain_id.is_some()
            || self.domain_name.is_some()
            || self.domain_id.is_some()
            || self.application_credential_id.is_some()
            || self.application_credential_name.is_some()
            || self.has_secret()
    }

    /// `self` with every attribute set in `top` replaced by `top`'s value.
    pub fn overlay(mut self, top: AuthFields) -> AuthFields {
        overlay_fields!(self, top; auth_url, auth_type, username, user_id, user_domain_name,
            user_domain_id, password, project_name, project_id, project_domain_name,
            project_domain_id, domain_name, domain_id, default_domain, application_credential_id,
            application_credential_name, application_credential_secret, token, region,
            interface, ca, insecure);
        self
    }

    /// Applies the rules: exactly one kind of secret, a user and a project where needed.
    /// `legacy_interface` accepts `publicURL` etc. (environment and clouds.yaml spellings).
    pub fn resolve(
        self,
        origin: &str,
        name: Namer<'_>,
        legacy_interface: bool,
    ) -> Result<CloudSettings, ConfigError> {
        let blame = Blame { origin, name };
        let auth_url = self.auth_url(&blame)?;
        let kind = self.kind(origin, name)?;
        let domains = self.domains();
        let auth = self.credentials(kind, self.user(&domains), &blame)?;
        let scope = self.scope(kind, domains, &blame)?;
        let interface = self.interface(legacy_interface, &blame)?;
        Ok(CloudSettings {
            auth_url,
            auth,
            scope,
            region: self.region,
            interface,
            ca: self.ca,
            insecure: self.insecure.unwrap_or(false),
            source: origin.to_string(),
        })
    }

    /// The Keystone URL: present and well-formed.
    fn auth_url(&self, blame: &Blame<'_>) -> Result<String, ConfigError> {
        let auth_url = self.auth_url.clone().ok_or_else(|| {
            blame.bad(
                "auth_url",
                "missing: set the Keystone URL (e.g. https://keystone.example:5000/v3)".into(),
            )
        })?;
        check_auth_url(&auth_url).map_err(|reason| blame.bad("auth_url", reason))?;
        Ok(auth_url)
    }

    /// The domain defaults. A domain given beside a project is the default for user and
    /// project domains (as the openstack CLI reads it); alone it is a domain scope.
    fn domains(&self) -> Domains {
        let shared = match (&self.domain_id, &self.domain_name) {
            (Some(id), _) => Some(DomainRef::Id(id.clone())),
            (None, Some(n)) => Some(DomainRef::Name(n.clone())),
            _ => None,
        };
        let default = DomainRef::Id(
            self.default_domain
                .clone()
                .unwrap_or_else(|| "default".to_string()),
        );
        let has_project = self.project_id.is_some() || self.project_name.is_some();
        let fallback = match (&shared, has_project) {
            (Some(shared), true) => shared.clone(),
            _ => default,
        };
        Domains {
            shared,
            fallback,
            has_project,
        }
    }

    /// The user, by id or by name in its domain, when one is given.
    fn user(&self, domains: &Domains) -> Option<UserRef> {
        let user_domain = match (&self.user_domain_id, &self.user_domain_name) {
            (Some(id), _) => DomainRef::Id(id.clone()),
            (None, Some(n)) => DomainRef::Name(n.clone()),
            _ => domains.fallback.clone(),
        };
        match (&self.user_id, &self.username) {
            (Some(id), _) => Some(UserRef::Id(id.clone())),
            (None, Some(n)) => Some(UserRef::Name {
                name: n.clone(),
                domain: user_domain,
            }),
            _ => None,
        }
    }

    /// The credentials of `kind`, with what that kind needs.
    fn credentials(
        &self,
        kind: Kind,
        user: Option<UserRef>,
        blame: &Blame<'_>,
    ) -> Result<Credentials, ConfigError> {
        let (bad, name) = (|f: &str, r: String| blame.bad(f, r), blame.name);
        Ok(match kind {
            Kind::Password => Credentials::Password {
                user: user.ok_or_else(|| {
                    bad(
                        "username",
                        format!(
                            "missing: password authentication needs {} or {}",
                            name("username"),
                            name("user_id")
                        ),
                    )
                })?,
                password: self.password.clone().ok_or_else(|| {
                    bad(
                        "password",
                        "missing: password authentication needs it".into(),
                    )
                })?,
            },
            Kind::ApplicationCredential => self.application_credential(user, blame)?,
            Kind::Token => Credentials::Token {
                token: self
                    .token
                    .clone()
                    .ok_or_else(|| bad("token", "missing: token authentication needs it".into()))?,
            },
        })
    }

    /// An application credential by id, or by name with its user; its secret.
    fn application_credential(
        &self,
        user: Option<UserRef>,
        blame: &Blame<'_>,
    ) -> Result<Credentials, ConfigError> {
        let (bad, name) = (|f: &str, r: String| blame.bad(f, r), blame.name);
        let secret = self.application_credential_secret.clone().ok_or_else(|| {
            bad(
                "application_credential_secret",
                "missing: application credential authentication needs it".into(),
            )
        })?;
        let credential = match (&self.application_credential_id, &self.application_credential_name) {
            (Some(id), _) => AppCredRef::Id(id.clone()),
            (None, Some(n)) => AppCredRef::Name {
                name: n.clone(),
                user: user.ok_or_else(|| {
                    bad(
                        "username",
                        format!(
                            "missing: an application credential given by name needs its user ({} or {}); or give {} instead",
                            name("username"),
                            name("user_id"),
                            name("application_credential_id")
                        ),
                    )
                })?,
            },
            (None, None) => {
                return Err(bad(
                    "application_credential_id",
                    format!("missing: set it, or {}", name("application_credential_name")),
                ))
            }
        };
        Ok(Credentials::ApplicationCredential { credential, secret })
    }

    /// What the token is scoped to: none for an application credential (it carries its own
    /// project), else the project, else a domain given alone.
    fn scope(
        &self,
        kind: Kind,
        domains: Domains,
        blame: &Blame<'_>,
    ) -> Result<Option<Scope>, ConfigError> {
        if kind == Kind::ApplicationCredential {
            if domains.has_project {
                tracing::warn!(
                    origin = blame.origin,
                    "project settings are ignored: an application credential carries its own project"
                );
            }
            Ok(None)
        } else if let Some(id) = &self.project_id {
            Ok(Some(Scope::ProjectId(id.clone())))
        } else if let Some(project) = &self.project_name {
            let domain = match (&self.project_domain_id, &self.project_domain_name) {
                (Some(id), _) => DomainRef::Id(id.clone()),
                (None, Some(n)) => DomainRef::Name(n.clone()),
                _ => domains.fallback,
            };
            Ok(Some(Scope::ProjectName {
                name: project.clone(),
                domain,
            }))
        } else if let Some(domain) = domains.shared {
            Ok(Some(match domain {
                DomainRef::Id(id) => Scope::DomainId(id),
                DomainRef::Name(n) => Scope::DomainName(n),
            }))
        } else {
            let name = blame.name;
            Err(blame.bad(
                "project_name",
                format!(
                    "missing: load balancers live in a project; set {} or {}",
                    name("project_name"),
                    name("project_id")
                ),
            ))
        }
    }

    /// The endpoint interface (public unless given).
    fn interface(
        &self,
        legacy_interface: bool,
        blame: &Blame<'_>,
    ) -> Result<Interface, ConfigError> {
        match &self.interface {
            None => Ok(Interface::Public),
            Some(text) => parse_interface(text, legacy_interface).ok_or_else(|| {
                blame.bad(
                    "interface",
                    format!("`{text}` is not an endpoint interface: use public, internal or admin"),
                )
            }),
        }
    }

    /// Which kind of authentication: from `auth_type`, else from the one kind of secret given.
    fn kind(&self, origin: &str, name: Namer<'_>) -> Result<Kind, ConfigError> {
        if let Some(t) = &self.auth_type {
            return match t.as_str() {
                "password" | "v3password" | "userpass" => Ok(Kind::Password),
                "v3applicationcredential" | "applicationcredential" => {
                    Ok(Kind::ApplicationCredential)
                }
                "token" | "v3token" => Ok(Kind::Token),
                other => Err(ConfigError::invalid(
                    origin,
                    name("auth_type"),
                    format!(
                        "`{other}` is not supported: use password, v3applicationcredential or token"
                    ),
                )),
            };
        }
        let mut kinds = Vec::new();
        if self.password.is_some() {
            kinds.push(Kind::Password);
        }
        if self.application_credential_secret.is_some()
            || self.application_credential_id.is_some()
            || self.application_credential_name.is_some()
        {
            kinds.push(Kind::ApplicationCredential);
        }
        if self.token.is_some() {
            kinds.push(Kind::Token);
        }
        match kinds.as_slice() {
            [one] => Ok(*one),
            [] => Err(ConfigError::invalid(
                origin,
                name("password"),
                format!(
                    "no secret given: set {}, or {} with {}, or {}",
                    name("password"),
                    name("application_credential_id"),
                    name("application_credential_secret"),
                    name("token")
                ),
            )),
            _ => {
                Err(ConfigError::invalid(
                    origin,
                    name("auth_type"),
                    format!(
                    "more than one kind of credential is given ({}): keep one, or set {} to choose",
                    kinds.iter().map(|k| k.label()).collect::<Vec<_>>().join(", "),
                    name("auth_type")
                ),
                ))
            }
        }
    }
}

/// Where the attributes being resolved came from, to name a bad one in its own spelling.
struct Blame<'a> {
    origin: &'a str,
    name: Namer<'a>,
}

impl Blame<'_> {
    /// `field` (canonical name) is invalid for `reason`.
    fn bad(&self, field: &str, reason: String) -> ConfigError {
        ConfigError::invalid(self.origin, (self.name)(field), reason)
    }
}

/// The domain defaults of one set of attributes.
struct Domains {
    /// `domain_id` / `domain_name`.
    shared: Option<DomainRef>,
    /// The domain of a user or project that names none.
    fallback: DomainRef,
    /// Whether a project is given.
    has_project: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Password,
    ApplicationCredential,
    Token,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Password => "password",
            Kind::ApplicationCredential => "application credential",
            Kind::Token => "token",
        }
    }
}

/// Keystone URL sanity: http(s), a host, and not the retired v2.0 API.
fn check_auth_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("`{url}` is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("`{url}` has no host"));
    }
    let path = rest.trim_end_matches('/');
    if path.ends_with("/v2.0") {
        return Err(format!(
            "`{url}` is a Keystone v2 URL; only Keystone v3 is supported: use the /v3 URL"
        ));
    }
    // Keystone never had a plain /v2: that is another service's version (Octavia's
    // `/load-balancer/v2`, Nova's `/v2.1`…), taken from the wrong line of the catalog.
    if path.ends_with("/v2") || path.ends_with("/v2.1") {
        return Err(format!(
            "`{url}` is not Keystone's URL but another service's (Keystone's ends in /v3, \
             e.g. https://keystone.example:5000/v3): take auth_url from the `identity` entry \
             of `openstack catalog list`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> String {
        format!("`{s}`")
    }

    fn base() -> AuthFields {
        AuthFields {
            auth_url: Some("https://keystone.example:5000/v3".into()),
            username: Some("admin".into()),
            password: Some(SecretString::from("pw")),
            project_name: Some("demo".into()),
            ..Default::default()
        }
    }

    #[test]
    fn password_defaults_domains_to_default_id() {
        let c = base().resolve("test", &plain, false).unwrap();
        match &c.auth {
            Credentials::Password { user, .. } => assert_eq!(
                user,
                &UserRef::Name {
                    name: "admin".into(),
                    domain: DomainRef::Id("default".into())
                }
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            c.scope,
            Some(Scope::ProjectName {
                name: "demo".into(),
                domain: DomainRef::Id("default".into())
            })
        );
        assert_eq!(c.interface, Interface::Public);
        assert!(!c.insecure);
    }

    #[test]
    fn domain_beside_project_is_the_default_for_both() {
        let c = AuthFields {
            domain_name: Some("admin_domain".into()),
            ..base()
        }
        .resolve("test", &plain, false)
        .unwrap();
        assert_eq!(
            c.scope,
            Some(Scope::ProjectName {
                name: "demo".into(),
                domain: DomainRef::Name("admin_domain".into())
            })
        );
    }

    #[test]
    fn domain_alone_is_a_domain_scope() {
        let c = AuthFields {
            project_name: None,
            domain_id: Some("d1".into()),
            ..base()
        }
        .resolve("test", &plain, false)
        .unwrap();
        assert_eq!(c.scope, Some(Scope::DomainId("d1".into())));
    }

    #[test]
    fn missing_project_is_named() {
        let err = AuthFields {
            project_name: None,
            ..base()
        }
        .resolve("test", &plain, false)
        .unwrap_err();
        assert_eq!(err.setting(), Some("`project_name`"));
        assert!(err.to_string().contains("`project_id`"));
    }

    #[test]
    fn two_kinds_of_secret_are_refused() {
        let err = AuthFields {
            token: Some(SecretString::from("t")),
            ..base()
        }
        .resolve("test", &plain, false)
        .unwrap_err();
        assert_eq!(err.setting(), Some("`auth_type`"));
        let ok = AuthFields {
            token: Some(SecretString::from("t")),
            auth_type: Some("v3token".into()),
            ..base()
        }
        .resolve("test", &plain, false)
        .unwrap();
        assert!(matches!(ok.auth, Credentials::Token { .. }));
    }

    #[test]
    fn application_credential_by_name_needs_a_user() {
        let err = AuthFields {
            auth_url: Some("http://k/v3".into()),
            application_credential_name: Some("ac".into()),
            application_credential_secret: Some(SecretString::from("s")),
            ..Default::default()
        }
        .resolve("test", &plain, false)
        .unwrap_err();
        assert_eq!(err.setting(), Some("`username`"));
    }

    #[test]
    fn application_credential_scope_is_implicit() {
        let c = AuthFields {
            auth_url: Some("http://k/v3".into()),
            application_credential_id: Some("id1".into()),
            application_credential_secret: Some(SecretString::from("s")),
            project_name: Some("ignored".into()),
            ..Default::default()
        }
        .resolve("test", &plain, false)
        .unwrap();
        assert_eq!(c.scope, None);
        assert!(
            matches!(c.auth, Credentials::ApplicationCredential { credential: AppCredRef::Id(ref id), .. } if id == "id1")
        );
    }

    #[test]
    fn unsupported_auth_type_named() {
        let err = AuthFields {
            auth_type: Some("v3oidcpassword".into()),
            ..base()
        }
        .resolve("test", &plain, false)
        .unwrap_err();
        assert!(err.to_string().contains("v3oidcpassword"));
    }

    #[test]
    fn auth_url_checks() {
        assert!(check_auth_url("https://k:5000/v3").is_ok());
        assert!(check_auth_url("http://k").is_ok());
        assert!(check_auth_url("k:5000")
            .unwrap_err()
            .contains("not an http"));
        assert!(check_auth_url("https:///v3")
            .unwrap_err()
            .contains("no host"));
        assert!(check_auth_url("https://k/v2.0/")
            .unwrap_err()
            .contains("Keystone v2"));
        // Octavia's endpoint is not "a Keystone v2 URL": say whose it is and where to look.
        let other = check_auth_url("https://k:9876/load-balancer/v2").unwrap_err();
        assert!(!other.contains("Keystone v2"), "{other}");
        assert!(other.contains("another service's"), "{other}");
        assert!(other.contains("identity"), "{other}");
    }

    #[test]
    fn legacy_interfaces_only_where_allowed() {
        let c = AuthFields {
            interface: Some("internalURL".into()),
            ..base()
        };
        assert_eq!(
            c.clone().resolve("t", &plain, true).unwrap().interface,
            Interface::Internal
        );
        assert!(c.resolve("t", &plain, false).is_err());
    }

    #[test]
    fn overlay_replaces_only_set_fields() {
        let top = AuthFields {
            region: Some("R2".into()),
            ..Default::default()
        };
        let merged = base().overlay(top);
        assert_eq!(merged.region.as_deref(), Some("R2"));
        assert_eq!(merged.username.as_deref(), Some("admin"));
    }
}
