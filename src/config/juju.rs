//! Credentials from a Juju credential file, in either shape the OpenStack integrator charm
//! receives (research juju-interfaces.md §4.2):
//! - the charm's `credentials` config: base64 of a flat JSON object with hyphenated keys
//!   (`auth-url`, `username`, `project-name`, ...), or that JSON already decoded;
//! - the `juju trust` shape (output of `credential-get`, YAML or JSON): top-level `endpoint`,
//!   `region`, `cacertificates`, and `credential: {auth-type, attributes: {...}}`.

use std::path::Path;

use base64::Engine;
use secrecy::SecretString;
use serde_norway::{Mapping, Value};

use super::credentials::CaBundle;
use super::fields::AuthFields;
use super::file::{read_text, require_private};
use super::ConfigError;

/// Which shape the file had; decides how attributes are named in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Flat hyphenated keys (charm `credentials` config).
    Flat,
    /// `juju trust` / `credential-get`.
    Trust,
}

/// Reads and decodes the file; the file must not be readable by group or others.
pub(crate) fn read(path: &Path) -> Result<(AuthFields, Shape, String), ConfigError> {
    let file = read_text(
        "Juju credential file",
        path,
        "check [cloud] juju_credentials_file",
    )?;
    require_private("Juju credential file", path, file.mode)?;
    let origin = format!("Juju credential file {}", path.display());
    let (fields, shape) = parse(&file.text, &origin)?;
    Ok((fields, shape, origin))
}

/// Decodes either shape from text.
pub(crate) fn parse(text: &str, origin: &str) -> Result<(AuthFields, Shape), ConfigError> {
    let doc = decode(text, origin)?;
    let shape = if doc.contains_key("credential") {
        Shape::Trust
    } else {
        Shape::Flat
    };
    let fields = match shape {
        Shape::Flat => flat(&doc, &doc, origin, "")?,
        Shape::Trust => trust(&doc, origin)?,
    };
    Ok((fields, shape))
}

/// A mapping from YAML/JSON text, or from base64 of JSON.
fn decode(text: &str, origin: &str) -> Result<Mapping, ConfigError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ConfigError::Syntax {
            origin: origin.to_string(),
            format: "Juju credentials",
            message: "the file is empty".into(),
        });
    }
    let parsed: Result<Value, _> = serde_norway::from_str(trimmed);
    if let Ok(Value::Mapping(m)) = parsed {
        return Ok(m);
    }
    // Not a mapping: the charm config form, base64 of JSON (line breaks allowed).
    let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| ConfigError::Syntax {
            origin: origin.to_string(),
            format: "Juju credentials (YAML, JSON, or base64 of JSON)",
            message: format!(
                "not a mapping, and not base64 either: {}",
                base64_problem(&e)
            ),
        })?;
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(obj)) => {
            // Through JSON text so numbers and nesting keep their types.
            serde_norway::to_value(serde_json::Value::Object(obj))
                .ok()
                .and_then(|v| v.as_mapping().cloned())
                .ok_or_else(|| ConfigError::Syntax {
                    origin: origin.to_string(),
                    format: "JSON",
                    message: "the decoded credentials could not be read".into(),
                })
        }
        Ok(_) => Err(ConfigError::Syntax {
            origin: origin.to_string(),
            format: "JSON",
            message: "the base64-decoded credentials are not a JSON object".into(),
        }),
        Err(e) => Err(ConfigError::Syntax {
            origin: origin.to_string(),
            format: "JSON",
            message: format!(
                "the base64-decoded credentials: {}",
                super::error::without_values(&e.to_string())
            ),
        }),
    }
}

/// What is wrong with base64 text, by position only: the decoder's own message quotes the
/// offending character, a piece of the credentials.
fn base64_problem(e: &base64::DecodeError) -> String {
    match e {
        base64::DecodeError::InvalidByte(offset, _) => {
            format!("a character that is not base64 at offset {offset}")
        }
        base64::DecodeError::InvalidLastSymbol(offset, _) => {
            format!("an impossible last character at offset {offset}")
        }
        base64::DecodeError::InvalidLength(len) => {
            format!("{len} base64 characters is not a possible length")
        }
        base64::DecodeError::InvalidPadding => "wrong `=` padding".to_string(),
    }
}

fn text(
    map: &Mapping,
    key: &str,
    origin: &str,
    prefix: &str,
) -> Result<Option<String>, ConfigError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(ConfigError::invalid(
            origin,
            format!("`{prefix}{key}`"),
            "must be a single value",
        )),
    }
}

/// The hyphenated attributes; `attrs` holds the credential keys, `top` the CA (the same
/// mapping for the flat shape).
fn flat(
    attrs: &Mapping,
    top: &Mapping,
    origin: &str,
    prefix: &str,
) -> Result<AuthFields, ConfigError> {
    let t = |k: &str| text(attrs, k, origin, prefix);
    let auth_type = t("auth-type")?;
    if let Some(kind) = &auth_type {
        if kind != "userpass" {
            return Err(ConfigError::invalid(
                origin,
                format!("`{prefix}auth-type`"),
                format!(
                    "unsupported auth-type in credentials: `{kind}`; only userpass is supported"
                ),
            ));
        }
    }
    if let Some(v) = t("version")? {
        if !v.starts_with('3') {
            return Err(ConfigError::invalid(
                origin,
                format!("`{prefix}version`"),
                format!("Keystone version `{v}` is not supported: only v3 is"),
            ));
        }
    }
    Ok(AuthFields {
        auth_url: t("auth-url")?,
        auth_type,
        username: t("username")?,
        user_id: t("user-id")?,
        user_domain_name: t("user-domain-name")?,
        user_domain_id: t("user-domain-id")?,
        password: t("password")?.map(SecretString::from),
        project_name: t("project-name")?.or(t("tenant-name")?),
        project_id: t("project-id")?.or(t("tenant-id")?),
        project_domain_name: t("project-domain-name")?,
        project_domain_id: t("project-domain-id")?,
        domain_name: t("domain-name")?,
        domain_id: t("domain-id")?,
        region: t("region")?,
        ca: ca(top, origin)?,
        ..Default::default()
    })
}

fn trust(doc: &Mapping, origin: &str) -> Result<AuthFields, ConfigError> {
    let credential = match doc.get("credential") {
        Some(Value::Mapping(m)) => m,
        _ => {
            return Err(ConfigError::invalid(
                origin,
                "`credential`",
                "must be a mapping with auth-type and attributes",
            ))
        }
    };
    let empty = Mapping::new();
    let attributes = match credential.get("attributes") {
        Some(Value::Mapping(m)) => m,
        None | Some(Value::Null) => &empty,
        Some(_) => {
            return Err(ConfigError::invalid(
                origin,
                "`credential.attributes`",
                "must be a mapping",
            ))
        }
    };
    // auth-type sits beside attributes in credential-get output; accept it inside too.
    let mut attrs = attributes.clone();
    if let Some(kind) = credential.get("auth-type") {
        attrs.entry("auth-type".into()).or_insert(kind.clone());
    }
    let mut fields = flat(&attrs, doc, origin, "credential.attributes.")?;
    fields.auth_url = text(doc, "endpoint", origin, "")?
        .or(text(doc, "identity-endpoint", origin, "")?)
        .or(fields.auth_url);
    fields.region = text(doc, "region", origin, "")?.or(fields.region);
    if let Some(v) = text(doc, "skip-tls-verify", origin, "")? {
        fields.insecure = Some(v == "true");
    }
    Ok(fields)
}

/// CA certificates: `ca-certificates`/`cacertificates` (list of PEM), else `endpoint-tls-ca`
/// (base64 of PEM, or PEM).
fn ca(top: &Mapping, origin: &str) -> Result<Option<CaBundle>, ConfigError> {
    for key in ["ca-certificates", "cacertificates"] {
        if let Some(Value::Sequence(list)) = top.get(key) {
            let pems: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            if !pems.is_empty() {
                return Ok(Some(CaBundle::Pem {
                    origin: format!("{origin} `{key}`"),
                    pem: pems.join("\n"),
                }));
            }
        }
    }
    let Some(raw) = text(top, "endpoint-tls-ca", origin, "")? else {
        return Ok(None);
    };
    let pem = if raw.contains("-----BEGIN") {
        raw
    } else {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| s.contains("-----BEGIN"))
            .ok_or_else(|| {
                ConfigError::invalid(
                    origin,
                    "`endpoint-tls-ca`",
                    "is neither PEM nor base64 of PEM",
                )
            })?;
        bytes
    };
    Ok(Some(CaBundle::Pem {
        origin: format!("{origin} `endpoint-tls-ca`"),
        pem,
    }))
}

/// The attribute name as the given shape spells it, for messages.
pub(crate) fn key_name(shape: Shape, field: &str) -> String {
    let hyphen = field.replace('_', "-");
    match (shape, field) {
        (Shape::Trust, "auth_url") => "`endpoint`".into(),
        (Shape::Trust, "region") => "`region`".into(),
        (Shape::Trust, _) => format!("`credential.attributes.{hyphen}`"),
        (Shape::Flat, _) => format!("`{hyphen}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::credentials::{Credentials, DomainRef, Scope};

    const FLAT: &str = r#"{"auth-url": "https://keystone.example:5000/v3", "region": "RegionOne",
        "username": "admin", "password": "secret", "user-domain-name": "admin_domain",
        "project-domain-name": "admin_domain", "project-name": "admin"}"#;

    #[test]
    fn flat_json_and_its_base64_agree() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(FLAT);
        for text in [FLAT.to_string(), b64] {
            let (f, shape) = parse(&text, "o").unwrap();
            assert_eq!(shape, Shape::Flat);
            let c = f.resolve("o", &|k| key_name(shape, k), false).unwrap();
            assert_eq!(c.region.as_deref(), Some("RegionOne"));
            assert!(matches!(c.auth, Credentials::Password { .. }));
            assert_eq!(
                c.scope,
                Some(Scope::ProjectName {
                    name: "admin".into(),
                    domain: DomainRef::Name("admin_domain".into())
                })
            );
        }
    }

    #[test]
    fn bad_base64_and_bad_json_are_syntax_errors() {
        let err = parse("not base64 !!!", "o").unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
        assert!(err.to_string().contains("offset"), "{err}");
        // The offending character is a piece of the credentials: never quoted.
        let err = parse("QUJD?", "o").unwrap_err();
        assert!(err.to_string().contains("offset 4"), "{err}");
        assert!(!err.to_string().contains("63"), "{err}");
        let b64 = base64::engine::general_purpose::STANDARD.encode("{not json");
        let err = parse(&b64, "o").unwrap_err();
        assert!(err.to_string().contains("JSON"), "{err}");
    }

    #[test]
    fn unsupported_auth_type() {
        let err = parse(
            r#"{"auth-url": "https://k/v3", "auth-type": "access-key"}"#,
            "o",
        )
        .unwrap_err();
        assert!(err.to_string().contains("access-key"), "{err}");
        assert_eq!(err.setting(), Some("`auth-type`"));
    }

    #[test]
    fn trust_shape() {
        let yaml = "type: openstack\nname: serverstack\nregion: RegionOne\nendpoint: https://k:5000/v3\n\
credential:\n  auth-type: userpass\n  attributes:\n    username: u\n    password: p\n    tenant-name: t\n    domain-name: d\n\
cacertificates:\n- |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\n";
        let (f, shape) = parse(yaml, "o").unwrap();
        assert_eq!(shape, Shape::Trust);
        let c = f.resolve("o", &|k| key_name(shape, k), false).unwrap();
        assert_eq!(c.auth_url, "https://k:5000/v3");
        assert_eq!(
            c.scope,
            Some(Scope::ProjectName {
                name: "t".into(),
                domain: DomainRef::Name("d".into())
            })
        );
        assert!(
            matches!(c.ca, Some(CaBundle::Pem { ref pem, .. }) if pem.contains("BEGIN CERTIFICATE"))
        );
    }

    #[test]
    fn trust_errors_use_trust_names() {
        let yaml = "endpoint: https://k/v3\ncredential:\n  auth-type: userpass\n  attributes:\n    password: p\n    tenant-name: t\n";
        let (f, shape) = parse(yaml, "o").unwrap();
        let err = f.resolve("o", &|k| key_name(shape, k), false).unwrap_err();
        assert_eq!(err.setting(), Some("`credential.attributes.username`"));
    }

    #[test]
    fn endpoint_tls_ca_base64_or_pem() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        let doc: Mapping = serde_norway::from_str(&format!("endpoint-tls-ca: {b64}")).unwrap();
        assert!(matches!(ca(&doc, "o").unwrap(), Some(CaBundle::Pem { pem: p, .. }) if p == pem));
        let doc: Mapping = serde_norway::from_str("endpoint-tls-ca: bm90IGEgY2VydA==").unwrap();
        assert!(ca(&doc, "o").is_err());
    }
}
