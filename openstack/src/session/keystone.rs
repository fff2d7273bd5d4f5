//! Keystone v3 wire details: the auth request body, the token answer, version discovery
//! (openstack-api.md §1.1–§1.4). Pure functions; the session does the I/O.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use super::catalog::CatalogService;
use super::config::{AppCredRef, Credentials, DomainRef, Scope, UserRef};
use crate::Error;

/// Lifetime assumed when Keystone sends no usable `expires_at` (it means "never" upstream;
/// we still re-authenticate hourly).
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

fn domain(d: &DomainRef) -> Value {
    match d {
        DomainRef::Id(id) => json!({ "id": id }),
        DomainRef::Name(name) => json!({ "name": name }),
    }
}

fn user(u: &UserRef) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    match u {
        UserRef::Id(id) => {
            m.insert("id".into(), json!(id));
        }
        UserRef::Name { name, domain: d } => {
            m.insert("name".into(), json!(name));
            m.insert("domain".into(), domain(d));
        }
    }
    m
}

/// The `POST /v3/auth/tokens` body. Holds the secret in clear: never log it. Application
/// credentials never carry a scope (Keystone answers 401 if they do).
pub(crate) fn auth_body(credentials: &Credentials, scope: Option<&Scope>) -> Value {
    let identity = match credentials {
        Credentials::Password { user: u, password } => {
            let mut u = user(u);
            u.insert("password".into(), json!(password.expose_secret()));
            json!({ "methods": ["password"], "password": { "user": u } })
        }
        Credentials::ApplicationCredential { credential, secret } => {
            let mut c = serde_json::Map::new();
            match credential {
                AppCredRef::Id(id) => {
                    c.insert("id".into(), json!(id));
                }
                AppCredRef::Name { name, user: u } => {
                    c.insert("name".into(), json!(name));
                    c.insert("user".into(), Value::Object(user(u)));
                }
            }
            c.insert("secret".into(), json!(secret.expose_secret()));
            json!({ "methods": ["application_credential"], "application_credential": c })
        }
        Credentials::Token { token } => {
            json!({ "methods": ["token"], "token": { "id": token.expose_secret() } })
        }
    };
    let mut auth = serde_json::Map::new();
    auth.insert("identity".into(), identity);
    let app_cred = matches!(credentials, Credentials::ApplicationCredential { .. });
    if let (Some(scope), false) = (scope, app_cred) {
        let scope = match scope {
            Scope::ProjectId(id) => json!({ "project": { "id": id } }),
            Scope::ProjectName { name, domain: d } => {
                json!({ "project": { "name": name, "domain": domain(d) } })
            }
            Scope::DomainId(id) => json!({ "domain": { "id": id } }),
            Scope::DomainName(name) => json!({ "domain": { "name": name } }),
        };
        auth.insert("scope".into(), scope);
    }
    json!({ "auth": auth })
}

#[derive(Deserialize)]
struct TokenEnvelope {
    token: TokenBody,
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    issued_at: Option<String>,
    #[serde(default)]
    project: Option<IdOnly>,
    #[serde(default)]
    catalog: Option<Vec<CatalogService>>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

/// What we keep from a token answer (the token itself comes from the header).
pub(crate) struct IssuedToken {
    pub token: SecretString,
    /// `expires_at` as Keystone wrote it, parsed.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// How long the token lives, from `expires_at − issued_at` (immune to clock skew).
    pub lifetime: Duration,
    pub project_id: Option<String>,
    pub catalog: Vec<CatalogService>,
}

fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Reads a token answer: `X-Subject-Token` header value plus the JSON body.
pub(crate) fn parse_token(
    subject_token: Option<&str>,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<IssuedToken, Error> {
    let token = subject_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::Auth(
                "Keystone answered without an X-Subject-Token header; check that auth_url points at Keystone v3 (not a proxy that strips headers)".into(),
            )
        })?;
    let envelope: TokenEnvelope = serde_json::from_slice(body).map_err(|e| Error::Decode {
        service: "identity",
        method: "POST".into(),
        path: "auth/tokens".into(),
        detail: e.to_string(),
    })?;
    let body = envelope.token;
    let expires_at = body.expires_at.as_deref().and_then(parse_time);
    let issued_at = body.issued_at.as_deref().and_then(parse_time);
    let lifetime = match (expires_at, issued_at) {
        (Some(exp), Some(iss)) => (exp - iss).to_std().unwrap_or(Duration::ZERO),
        (Some(exp), None) => (exp - now).to_std().unwrap_or(Duration::ZERO),
        (None, _) => DEFAULT_LIFETIME,
    };
    Ok(IssuedToken {
        token: SecretString::from(token.to_string()),
        expires_at,
        lifetime,
        project_id: body.project.map(|p| p.id),
        catalog: body.catalog.unwrap_or_default(),
    })
}

/// Whether a version document names Keystone's API (its media type
/// `application/vnd.openstack.identity-v3+json`, or a version id of the identity API).
pub(crate) fn names_identity(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("vnd.openstack.identity")
}

/// The Keystone URL in a `WWW-Authenticate: Keystone uri="…"` challenge.
pub(crate) fn challenge_uri(header: &str) -> Option<Url> {
    let rest = header.trim().strip_prefix("Keystone")?;
    let (_, value) = rest.split_once("uri=")?;
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    Url::parse(value).ok()
}

/// If the auth URL already names v3, its base (with a trailing slash).
pub(crate) fn direct_v3(auth_url: &Url) -> Option<Url> {
    let path = auth_url.path().trim_end_matches('/');
    if path.ends_with("/v3") {
        let mut u = auth_url.clone();
        u.set_path(&format!("{path}/"));
        u.set_query(None);
        u.set_fragment(None);
        Some(u)
    } else {
        None
    }
}

/// `<auth_url>/v3/`, the fallback when discovery says nothing usable.
pub(crate) fn appended_v3(auth_url: &Url) -> Url {
    let mut u = auth_url.clone();
    let path = auth_url.path().trim_end_matches('/');
    u.set_path(&format!("{path}/v3/"));
    u.set_query(None);
    u.set_fragment(None);
    u
}

#[derive(Deserialize)]
struct Discovery {
    #[serde(default)]
    versions: Option<VersionList>,
    #[serde(default)]
    version: Option<VersionEntry>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum VersionList {
    Values { values: Vec<VersionEntry> },
    Bare(Vec<VersionEntry>),
}

#[derive(Deserialize)]
struct VersionEntry {
    #[serde(default)]
    id: String,
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct Link {
    #[serde(default)]
    rel: String,
    #[serde(default)]
    href: String,
}

/// The v3 base named by a discovery document (`{"versions":{"values":[…]}}` or
/// `{"version":{…}}`), if any.
pub(crate) fn v3_from_discovery(body: &[u8]) -> Option<Url> {
    let doc: Discovery = serde_json::from_slice(body).ok()?;
    let entries = match (doc.versions, doc.version) {
        (Some(VersionList::Values { values }), _) => values,
        (Some(VersionList::Bare(list)), _) => list,
        (None, Some(one)) => vec![one],
        (None, None) => return None,
    };
    let entry = entries.into_iter().find(|e| e.id.starts_with("v3"))?;
    let href = entry.links.into_iter().find(|l| l.rel == "self")?.href;
    let mut url = Url::parse(&href).ok()?;
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_credential_never_scoped() {
        let c = Credentials::ApplicationCredential {
            credential: AppCredRef::Id("a".into()),
            secret: SecretString::from("s"),
        };
        let body = auth_body(&c, Some(&Scope::ProjectId("p".into())));
        assert!(body["auth"].get("scope").is_none());
    }

    #[test]
    fn discovery_shapes() {
        let v = br#"{"versions":{"values":[{"id":"v3.14","status":"stable","links":[{"rel":"self","href":"https://k.example/v3"}]}]}}"#;
        assert_eq!(
            v3_from_discovery(v).unwrap().as_str(),
            "https://k.example/v3/"
        );
        let v = br#"{"version":{"id":"v3.14","links":[{"rel":"self","href":"https://k.example/identity/v3/"}]}}"#;
        assert_eq!(
            v3_from_discovery(v).unwrap().as_str(),
            "https://k.example/identity/v3/"
        );
        let v = br#"{"versions":{"values":[{"id":"v2.0","links":[{"rel":"self","href":"https://k/v2.0/"}]}]}}"#;
        assert!(v3_from_discovery(v).is_none());
        assert!(v3_from_discovery(b"<html>").is_none());
    }

    #[test]
    fn keystone_challenges_name_their_keystone() {
        let u = challenge_uri(r#"Keystone uri="http://127.0.0.1:5000""#).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:5000/");
        let u = challenge_uri("Keystone uri='https://k.example/v3'").unwrap();
        assert_eq!(u.as_str(), "https://k.example/v3");
        assert!(challenge_uri("Basic realm=x").is_none());
    }

    #[test]
    fn auth_url_forms() {
        let u = Url::parse("https://k.example:5000/v3").unwrap();
        assert_eq!(
            direct_v3(&u).unwrap().as_str(),
            "https://k.example:5000/v3/"
        );
        let u = Url::parse("https://k.example/identity/").unwrap();
        assert!(direct_v3(&u).is_none());
        assert_eq!(appended_v3(&u).as_str(), "https://k.example/identity/v3/");
    }

    #[test]
    fn token_lifetime_from_issued_and_expires() {
        let now = parse_time("2030-01-01T00:00:00Z").unwrap();
        let body = br#"{"token":{"expires_at":"2015-11-07T03:58:43.578887Z","issued_at":"2015-11-07T02:58:43.578887Z","project":{"id":"p1","name":"x"},"catalog":[]}}"#;
        let t = parse_token(Some("tok"), body, now).unwrap();
        assert_eq!(t.lifetime, Duration::from_secs(3600));
        assert_eq!(t.project_id.as_deref(), Some("p1"));
        assert!(matches!(parse_token(None, body, now), Err(Error::Auth(_))));
        assert!(matches!(
            parse_token(Some("t"), b"{}", now),
            Err(Error::Decode { .. })
        ));
    }
}
