//! Resolved cloud credentials: what to authenticate with, which scope, where, and how to trust
//! TLS. Every secret is a [`SecretString`]; `Debug` prints `<redacted>` in its place.

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;

/// A Keystone domain, by id or by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainRef {
    /// Domain id (e.g. `default`).
    Id(String),
    /// Domain name (e.g. `Default`).
    Name(String),
}

/// A Keystone user, by id or by name within a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    /// User id.
    Id(String),
    /// User name and the user's domain.
    Name {
        /// User name.
        name: String,
        /// The user's domain.
        domain: DomainRef,
    },
}

/// A Keystone project, by id or by name within a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProjectRef {
    /// Project id.
    Id(String),
    /// Project name and the project's domain.
    Name {
        /// Project name.
        name: String,
        /// The project's domain.
        domain: DomainRef,
    },
}

/// How to authenticate to Keystone.
#[derive(Clone)]
pub enum Auth {
    /// Password of a user.
    Password {
        /// The user.
        user: UserRef,
        /// The password.
        password: SecretString,
    },
    /// Application credential by id.
    ApplicationCredentialId {
        /// Application credential id.
        id: String,
        /// Its secret.
        secret: SecretString,
    },
    /// Application credential by name, which needs its user.
    ApplicationCredentialName {
        /// Application credential name.
        name: String,
        /// The user owning it.
        user: UserRef,
        /// Its secret.
        secret: SecretString,
    },
    /// An existing token.
    Token {
        /// The token.
        token: SecretString,
    },
}

const REDACTED: &str = "<redacted>";

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Password { user, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &REDACTED)
                .finish(),
            Auth::ApplicationCredentialId { id, .. } => f
                .debug_struct("ApplicationCredentialId")
                .field("id", id)
                .field("secret", &REDACTED)
                .finish(),
            Auth::ApplicationCredentialName { name, user, .. } => f
                .debug_struct("ApplicationCredentialName")
                .field("name", name)
                .field("user", user)
                .field("secret", &REDACTED)
                .finish(),
            Auth::Token { .. } => f.debug_struct("Token").field("token", &REDACTED).finish(),
        }
    }
}

impl Auth {
    /// A short description for messages: "password of user `admin`", never the secret.
    pub fn describe(&self) -> String {
        fn user(u: &UserRef) -> String {
            match u {
                UserRef::Id(id) => format!("user id `{id}`"),
                UserRef::Name { name, .. } => format!("user `{name}`"),
            }
        }
        match self {
            Auth::Password { user: u, .. } => format!("password of {}", user(u)),
            Auth::ApplicationCredentialId { id, .. } => format!("application credential `{id}`"),
            Auth::ApplicationCredentialName { name, user: u, .. } => {
                format!("application credential `{name}` of {}", user(u))
            }
            Auth::Token { .. } => "an existing token".to_string(),
        }
    }
}

/// What the token is scoped to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A project (what load balancers need).
    Project(ProjectRef),
    /// A domain.
    Domain(DomainRef),
    /// No explicit scope: application credentials carry their own project.
    Implicit,
}

/// Which catalog endpoint interface to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Interface {
    /// `public` (the default).
    #[default]
    Public,
    /// `internal`.
    Internal,
    /// `admin`.
    Admin,
}

impl Interface {
    /// Parses `public`, `internal`, `admin` (and the legacy `publicURL` forms when `legacy`).
    pub fn parse(text: &str, legacy: bool) -> Option<Interface> {
        match text {
            "public" => Some(Interface::Public),
            "internal" => Some(Interface::Internal),
            "admin" => Some(Interface::Admin),
            "publicURL" if legacy => Some(Interface::Public),
            "internalURL" if legacy => Some(Interface::Internal),
            "adminURL" if legacy => Some(Interface::Admin),
            _ => None,
        }
    }

    /// The catalog spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
}

/// Extra CA certificates (PEM) to trust in addition to the system roots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaBundle {
    /// A PEM file, read when the session is built.
    File(PathBuf),
    /// PEM text carried by the credentials themselves (Juju credentials).
    Pem {
        /// Where it came from, for messages.
        origin: String,
        /// The PEM text (one or more certificates).
        pem: String,
    },
}

/// Everything needed to reach the cloud: resolved from exactly one credential source.
#[derive(Clone, Debug)]
pub struct CloudSettings {
    /// Keystone URL (as given: with or without `/v3`).
    pub auth_url: String,
    /// How to authenticate.
    pub auth: Auth,
    /// What to scope the token to.
    pub scope: Scope,
    /// Region (`None`: the catalog's only region).
    pub region: Option<String>,
    /// Endpoint interface.
    pub interface: Interface,
    /// Extra CA certificates.
    pub ca: Option<CaBundle>,
    /// Skip TLS verification (only by explicit choice).
    pub insecure: bool,
    /// Where the credentials came from, for messages ("clouds.yaml /x (cloud `c`)").
    pub source: String,
}
