//! What a [`super::Session`] needs to know: where Keystone is, who we are, which endpoints to use,
//! TLS, retries and timeouts. Secrets are [`SecretString`]s and every `Debug` here redacts them.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use super::call::ServiceType;
use super::retry::{RetryBudget, RetryPolicy};

/// A Keystone domain, by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRef {
    /// Domain id (e.g. `default`).
    Id(String),
    /// Domain name (e.g. `Default`).
    Name(String),
}

/// A Keystone user, by id or by name within a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// User id.
    Id(String),
    /// User name; Keystone requires the domain with a name.
    Name {
        /// User name.
        name: String,
        /// The user's domain.
        domain: DomainRef,
    },
}

/// How we prove who we are to Keystone.
#[derive(Clone)]
pub enum Credentials {
    /// User + password (`methods: ["password"]`).
    Password {
        /// The user.
        user: UserRef,
        /// The password.
        password: SecretString,
    },
    /// Application credential (`methods: ["application_credential"]`). It is pre-scoped to its
    /// project: the session never sends a scope with it (Keystone answers 401 if we do).
    ApplicationCredential {
        /// Which credential (by id, or by name + owning user).
        credential: AppCredRef,
        /// Its secret.
        secret: SecretString,
    },
    /// An existing token, exchanged for a (scoped) token (`methods: ["token"]`). It cannot be
    /// renewed once it expires.
    Token {
        /// The token.
        token: SecretString,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Password { user, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"[REDACTED]")
                .finish(),
            Credentials::ApplicationCredential { credential, .. } => f
                .debug_struct("ApplicationCredential")
                .field("credential", credential)
                .field("secret", &"[REDACTED]")
                .finish(),
            Credentials::Token { .. } => f
                .debug_struct("Token")
                .field("token", &"[REDACTED]")
                .finish(),
        }
    }
}

/// An application credential, by id or by name plus its owning user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppCredRef {
    /// Application credential id.
    Id(String),
    /// Application credential name and the user owning it.
    Name {
        /// Credential name.
        name: String,
        /// Owning user.
        user: UserRef,
    },
}

/// What the token is scoped to. Octavia and Neutron need a project-scoped token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Project by id.
    ProjectId(String),
    /// Project by name within a domain.
    ProjectName {
        /// Project name.
        name: String,
        /// The project's domain.
        domain: DomainRef,
    },
    /// Domain by id.
    DomainId(String),
    /// Domain by name.
    DomainName(String),
}

/// Which catalog interface to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
    /// The catalog spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
}

/// Per-call timeouts by [`super::CallClass`].
///
/// A timeout covers sending the request and reading the whole answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// GET/list and other quick calls (default 30 s).
    pub read: Option<Duration>,
    /// Ordinary create/update/delete (default 60 s).
    pub write: Option<Duration>,
    /// Fully populated create and batch member update (default 180 s; at least 120 s).
    pub long_write: Option<Duration>,
    /// TCP/TLS connection establishment (default 10 s).
    pub connect: Option<Duration>,
    /// How long an idle pooled connection is kept (default 90 s).
    pub idle: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            read: Some(Duration::from_secs(30)),
            write: Some(Duration::from_secs(60)),
            long_write: Some(Duration::from_secs(180)),
            connect: Some(Duration::from_secs(10)),
            idle: Some(Duration::from_secs(90)),
        }
    }
}

impl Timeouts {
    /// No timeouts and no timers at all (idle connections kept). Only for tests running on
    /// paused Tokio time, where any pending timer fires as soon as the runtime waits on a
    /// socket and moves the clock.
    pub fn disabled() -> Self {
        Timeouts {
            read: None,
            write: None,
            long_write: None,
            connect: None,
            idle: None,
        }
    }
}

/// Everything a [`super::Session`] needs.
#[derive(Clone)]
pub struct SessionConfig {
    /// Keystone URL. If its path ends in `/v3` it is used directly; otherwise it is discovered
    /// (`GET auth_url`), falling back to `<auth_url>/v3`.
    pub auth_url: String,
    /// Who we are.
    pub credentials: Credentials,
    /// What to scope the token to (ignored for application credentials).
    pub scope: Option<Scope>,
    /// Region of the endpoints (matched against `region_id`, then `region`); `None` = first.
    pub region: Option<String>,
    /// Catalog interface.
    pub interface: Interface,
    /// Per-service base URL that replaces the catalog's (same joining rules apply).
    pub endpoint_overrides: HashMap<ServiceType, String>,
    /// Extra CA certificates (PEM, one or several) *added* to the system roots.
    pub ca_bundle_pem: Option<Vec<u8>>,
    /// Accept any TLS certificate. Dangerous; only by explicit option.
    pub insecure: bool,
    /// Appended to `octavia-integrator/<version>` in `User-Agent`.
    pub user_agent_suffix: Option<String>,
    /// Retry policy for every call.
    pub retry: RetryPolicy,
    /// Retries shared by every call of the session (see [`RetryBudget`]).
    pub retry_budget: RetryBudget,
    /// Per-call timeouts.
    pub timeouts: Timeouts,
}

impl SessionConfig {
    /// A config with defaults for everything but the auth URL and the credentials.
    pub fn new(auth_url: impl Into<String>, credentials: Credentials) -> Self {
        SessionConfig {
            auth_url: auth_url.into(),
            credentials,
            scope: None,
            region: None,
            interface: Interface::default(),
            endpoint_overrides: HashMap::new(),
            ca_bundle_pem: None,
            insecure: false,
            user_agent_suffix: None,
            retry: RetryPolicy::default(),
            retry_budget: RetryBudget::default(),
            timeouts: Timeouts::default(),
        }
    }
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("auth_url", &self.auth_url)
            .field("credentials", &self.credentials)
            .field("scope", &self.scope)
            .field("region", &self.region)
            .field("interface", &self.interface)
            .field("endpoint_overrides", &self.endpoint_overrides)
            .field(
                "ca_bundle_pem",
                &self
                    .ca_bundle_pem
                    .as_ref()
                    .map(|b| format!("{} bytes", b.len())),
            )
            .field("insecure", &self.insecure)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}
