//! Simulated Keystone v3: version documents, token issue (password, application credential,
//! token; project or domain scope), validation, revocation, and the service catalog.

use serde_json::{json, Value};
use tokio::time::Instant;

use super::http::{keystone_bad, keystone_err, unauthorized, ApiError};
use super::state::{Obj, Token, World};

/// Where one service is mounted for one region and interface.
pub(crate) fn mount_prefix(
    region_index: usize,
    region: &str,
    internal: bool,
    service: &str,
) -> String {
    let region_part = if region_index == 0 {
        String::new()
    } else {
        format!("/{region}")
    };
    let iface = if internal { "/internal" } else { "" };
    format!("{region_part}{iface}/{service}")
}

/// The version object for v3.
fn version_obj(base: &str) -> Value {
    json!({
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": format!("{base}/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
    })
}

/// `GET /` → 300 with the list of versions.
pub(crate) fn versions(base: &str) -> Value {
    json!({ "versions": { "values": [version_obj(base)] } })
}

/// `GET /v3` → 200 with the v3 version.
pub(crate) fn version(base: &str) -> Value {
    json!({ "version": version_obj(base) })
}

/// The catalog: identity, load-balancer and network, public and internal, in every region.
pub(crate) fn catalog(world: &mut World, base: &str) -> Value {
    let regions = world.config.regions.clone();
    let mut services = Vec::new();
    for (stype, name, mount) in [
        ("identity", "keystone", None),
        ("load-balancer", "octavia", Some("load-balancer")),
        ("network", "neutron", Some("networking")),
    ] {
        let mut endpoints = Vec::new();
        for (i, region) in regions.iter().enumerate() {
            for internal in [false, true] {
                let url = match mount {
                    Some(m) => format!("{base}{}", mount_prefix(i, region, internal, m)),
                    None => format!("{base}/v3"),
                };
                // Endpoint ids are derived from their position so the catalog is the same in
                // every token.
                let id = format!(
                    "{:032x}",
                    (services.len() * 1000 + i * 10 + internal as usize) as u128 + 0xe0
                );
                endpoints.push(json!({
                    "id": id,
                    "interface": if internal { "internal" } else { "public" },
                    "region": region,
                    "region_id": region,
                    "url": url,
                }));
            }
        }
        services.push(json!({
            "id": format!("{:032x}", services.len() as u128 + 0x5e),
            "type": stype,
            "name": name,
            "endpoints": endpoints,
        }));
    }
    Value::Array(services)
}

fn user_obj(world: &World) -> Value {
    let id = &world.config.identity;
    json!({
        "id": world.user_id,
        "name": id.username,
        "domain": {"id": id.domain_id, "name": id.domain_name},
        "password_expires_at": null,
    })
}

fn project_obj(world: &World) -> Value {
    let id = &world.config.identity;
    json!({
        "id": world.project_id,
        "name": id.project_name,
        "domain": {"id": id.domain_id, "name": id.domain_name},
    })
}

/// The scope a token ends up with.
enum Scope {
    Project,
    Domain,
    Unscoped,
}

/// What one authentication method decided.
struct Authenticated {
    scope: Scope,
    /// A rescoped token keeps its parent's expiry (instant and rendered).
    expiry: Option<(Instant, String)>,
    /// An application credential's summary for the token body.
    app_cred: Option<Value>,
    /// The parent token's audit id (a rescoped token carries it second).
    parent_audit_id: Option<Value>,
}

impl Authenticated {
    fn scoped(scope: Scope) -> Self {
        Authenticated {
            scope,
            expiry: None,
            app_cred: None,
            parent_audit_id: None,
        }
    }
}

fn obj(v: Option<&Value>) -> Option<&Obj> {
    v.and_then(Value::as_object)
}

fn s<'a>(o: &'a Obj, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Value::as_str)
}

fn expecting(attr: &str, target: &str) -> ApiError {
    keystone_bad(format!(
        "Expecting to find {attr} in {target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
    ))
}

impl World {
    /// Whether a `{"id"}` or `{"name", "domain"}` user reference names our user.
    fn is_our_user(&self, user: &Obj) -> Result<bool, ApiError> {
        if let Some(id) = s(user, "id") {
            return Ok(id == self.user_id);
        }
        let name = s(user, "name").ok_or_else(|| expecting("id or name", "user"))?;
        let domain = obj(user.get("domain")).ok_or_else(|| expecting("domain", "user"))?;
        Ok(name == self.config.identity.username && self.is_our_domain(domain))
    }

    fn is_our_domain(&self, domain: &Obj) -> bool {
        let d = &self.config.identity;
        s(domain, "id") == Some(d.domain_id.as_str())
            || (s(domain, "id").is_none() && s(domain, "name") == Some(d.domain_name.as_str()))
    }

    /// Resolve `auth.scope`.
    fn scope(&self, scope: Option<&Value>) -> Result<Scope, ApiError> {
        let scope = match scope {
            None => return Ok(Scope::Project), // the user's default project
            Some(Value::String(s)) if s == "unscoped" => return Ok(Scope::Unscoped),
            Some(Value::Object(o)) if o.contains_key("unscoped") => return Ok(Scope::Unscoped),
            Some(Value::Object(o)) => o,
            Some(_) => return Err(keystone_bad("Invalid input for field 'scope'.".into())),
        };
        if let Some(p) = obj(scope.get("project")) {
            let ok = match (s(p, "id"), s(p, "name")) {
                (Some(id), _) => id == self.project_id,
                (None, Some(name)) => {
                    let d = obj(p.get("domain")).ok_or_else(|| expecting("domain", "project"))?;
                    name == self.config.identity.project_name && self.is_our_domain(d)
                }
                (None, None) => return Err(expecting("id or name", "project")),
            };
            return if ok {
                Ok(Scope::Project)
            } else {
                Err(unauthorized())
            };
        }
        if let Some(d) = obj(scope.get("domain")) {
            return if self.is_our_domain(d) {
                Ok(Scope::Domain)
            } else {
                Err(unauthorized())
            };
        }
        // System scope and anything else: this user has no such role assignment.
        Err(unauthorized())
    }

    /// `POST /v3/auth/tokens`: the new token id and the body.
    pub(crate) fn issue_token(
        &mut self,
        body: &Obj,
        base: &str,
        nocatalog: bool,
    ) -> Result<(String, Value), ApiError> {
        let identity = obj(body.get("identity")).ok_or_else(|| expecting("identity", "auth"))?;
        let methods: Vec<String> = identity
            .get("methods")
            .and_then(Value::as_array)
            .ok_or_else(|| expecting("methods", "identity"))?
            .iter()
            .filter_map(|m| m.as_str().map(str::to_string))
            .collect();
        let fresh_expiry = Instant::now() + self.config.token_lifetime;
        let mut audit_ids = vec![Value::String(self.token_ids.hex32()[..22].to_string())];
        let auth = match methods.first().map(String::as_str) {
            Some("password") => self.by_password(body, identity)?,
            Some("application_credential") => self.by_app_cred(body, identity)?,
            Some("token") => self.by_token(body, identity)?,
            _ => {
                return Err(keystone_err(
                    401,
                    "The request you have made requires authentication.",
                ))
            }
        };
        audit_ids.extend(auth.parent_audit_id);
        let (expires, expires_at) = auth.expiry.unwrap_or_else(|| {
            let lifetime = chrono::Duration::from_std(self.config.token_lifetime)
                .unwrap_or(chrono::Duration::hours(1));
            (fresh_expiry, super::state::stamp::keystone(lifetime))
        });
        let mut token = json!({
            "methods": methods,
            "user": user_obj(self),
            "audit_ids": audit_ids,
            "expires_at": expires_at,
            "issued_at": super::state::stamp::keystone(chrono::Duration::zero()),
        });
        let project_id = self.scope_token(&mut token, auth.scope, base, nocatalog);
        if let Some(ac) = auth.app_cred {
            token["application_credential"] = ac;
        }
        let id = self.token_ids.token();
        let body = json!({ "token": token });
        self.tokens.insert(
            id.clone(),
            Token {
                project_id,
                expires,
                expires_at,
                body: body.clone(),
                revoked: false,
            },
        );
        Ok((id, body))
    }

    /// `password` method: our user and password, and the scope asked for.
    fn by_password(&self, body: &Obj, identity: &Obj) -> Result<Authenticated, ApiError> {
        let pw = obj(identity.get("password")).ok_or_else(|| expecting("password", "identity"))?;
        let user = obj(pw.get("user")).ok_or_else(|| expecting("user", "password"))?;
        let ok = self.is_our_user(user)?
            && s(user, "password") == Some(self.config.identity.password.as_str());
        if !ok {
            return Err(unauthorized());
        }
        Ok(Authenticated::scoped(self.scope(body.get("scope"))?))
    }

    /// `application_credential` method: our credential by id, or by name and user, with its
    /// secret; it is project-scoped and may not ask for a scope.
    fn by_app_cred(&self, body: &Obj, identity: &Obj) -> Result<Authenticated, ApiError> {
        let ac = obj(identity.get("application_credential"))
            .ok_or_else(|| expecting("application_credential", "identity"))?;
        let found = match (s(ac, "id"), s(ac, "name")) {
            (Some(id), _) => id == self.app_cred_id,
            (None, Some(name)) => {
                let user = obj(ac.get("user"))
                    .ok_or_else(|| expecting("user", "application_credential"))?;
                name == self.config.identity.app_cred_name && self.is_our_user(user)?
            }
            (None, None) => return Err(expecting("id or name", "application_credential")),
        };
        if !found || s(ac, "secret") != Some(self.config.identity.app_cred_secret.as_str()) {
            return Err(unauthorized());
        }
        if body.get("scope").is_some() {
            return Err(keystone_err(
                401,
                "Error authenticating with application credential: Application credentials cannot request a scope.",
            ));
        }
        Ok(Authenticated {
            app_cred: Some(json!({
                "id": self.app_cred_id,
                "name": self.config.identity.app_cred_name,
                "restricted": true,
            })),
            ..Authenticated::scoped(Scope::Project)
        })
    }

    /// `token` method: a valid token, rescoped; the new token keeps its expiry and carries
    /// its audit id second.
    fn by_token(&self, body: &Obj, identity: &Obj) -> Result<Authenticated, ApiError> {
        let t = obj(identity.get("token")).ok_or_else(|| expecting("token", "identity"))?;
        let id = s(t, "id").ok_or_else(|| expecting("id", "token"))?;
        let old = self.valid_token(id).ok_or_else(unauthorized)?.clone();
        Ok(Authenticated {
            expiry: Some((old.expires, old.expires_at.clone())),
            parent_audit_id: old.body["token"]["audit_ids"].get(0).cloned(),
            ..Authenticated::scoped(self.scope(body.get("scope"))?)
        })
    }

    /// Adds what the scope gives a token (project or domain, roles, catalog unless
    /// `nocatalog`); the token's project id, if project-scoped.
    fn scope_token(
        &mut self,
        token: &mut Value,
        scope: Scope,
        base: &str,
        nocatalog: bool,
    ) -> Option<String> {
        let project_id = match scope {
            Scope::Project => {
                token["project"] = project_obj(self);
                token["is_domain"] = json!(false);
                Some(self.project_id.clone())
            }
            Scope::Domain => {
                token["domain"] = json!({"id": self.config.identity.domain_id, "name": self.config.identity.domain_name});
                None
            }
            Scope::Unscoped => None,
        };
        if !matches!(scope, Scope::Unscoped) {
            token["roles"] = json!([
                {"id": "9fe2ff9ee4384b1894a90878d3e92bab", "name": "member"},
                {"id": "4b9c7b0bd4e34a7a8f8a6c1f0d1e2a3b", "name": "reader"},
                {"id": "0c2d5e7f1a2b4c6d8e9f0a1b2c3d4e5f", "name": "load-balancer_member"},
            ]);
            if !nocatalog {
                token["catalog"] = catalog(self, base);
            }
        }
        project_id
    }

    /// A token that is known, not revoked and not expired.
    pub(crate) fn valid_token(&self, id: &str) -> Option<&Token> {
        self.tokens
            .get(id)
            .filter(|t| !t.revoked && Instant::now() < t.expires)
    }

    /// Revoke every token issued so far (clients must re-authenticate).
    pub(crate) fn revoke_all_tokens(&mut self) {
        for t in self.tokens.values_mut() {
            t.revoked = true;
        }
    }

    /// `GET /v3/auth/tokens`: validate `subject` on behalf of `caller`.
    pub(crate) fn validate_token(&self, caller: &str, subject: &str) -> Result<Value, ApiError> {
        self.valid_token(caller).ok_or_else(unauthorized)?;
        self.valid_token(subject)
            .map(|t| t.body.clone())
            .ok_or_else(|| keystone_err(404, format!("Could not find token: {subject}.")))
    }

    /// `DELETE /v3/auth/tokens`.
    pub(crate) fn revoke_token(&mut self, caller: &str, subject: &str) -> Result<(), ApiError> {
        self.valid_token(caller).ok_or_else(unauthorized)?;
        self.valid_token(subject)
            .ok_or_else(|| keystone_err(404, format!("Could not find token: {subject}.")))?;
        if let Some(t) = self.tokens.get_mut(subject) {
            t.revoked = true;
        }
        Ok(())
    }

    /// The user and project behind a service call's `X-Auth-Token`.
    pub(crate) fn authorize(&self, token: Option<&str>) -> Result<String, ApiError> {
        let t = token
            .and_then(|id| self.valid_token(id))
            .ok_or_else(unauthorized)?;
        t.project_id.clone().ok_or_else(|| {
            keystone_err(403, "You are not authorized to perform the requested action: a project-scoped token is required.")
        })
    }
}
