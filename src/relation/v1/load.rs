//! Loading a request the way the library's marshmallow schema does (marshmallow 3, unknown =
//! RAISE), collecting every offending top-level field instead of stopping at the first.
//!
//! Leniency copied from marshmallow (checked against `marshmallow` 3.26.2):
//! - `Bool`: `true`/`false`, the numbers `1`/`0` (also `1.0`/`0.0`) and the strings
//!   `t T true True TRUE on On ON y Y yes Yes YES 1` / `f F false False FALSE off Off OFF n N no
//!   No NO 0`. Anything else is invalid.
//! - `Int`: Python `int(value)`: integers, floats truncated toward zero, and strings with
//!   optional surrounding whitespace, a sign, decimal digits and single underscores between
//!   digits (`" 0443 "`, `"6_443"`). Booleans are invalid.
//! - `Str`: strings only. `null` is allowed only where the default is `null`.
//!
//! Known differences (all rejected here, accepted by Python; none can come from a
//! requirer using the library, which always writes plain ints and strings): integers beyond
//! `i64`, non-ASCII decimal digits in integer strings, `NaN`/`Infinity` literals and lone
//! UTF-16 surrogates in the JSON text.

use std::collections::BTreeMap;
use std::fmt;

use crate::relation::json::Json;

use super::{HealthCheck, Protocol, Request, RequestField, TlsKey};

const MISSING: &str = "Missing data for required field.";
const NULL: &str = "Field may not be null.";
const NOT_STRING: &str = "Not a valid string.";
const NOT_INT: &str = "Not a valid integer.";
const NOT_BOOL: &str = "Not a valid boolean.";
const NOT_LIST: &str = "Not a valid list.";
const NOT_MAPPING: &str = "Not a valid mapping type.";
const UNKNOWN: &str = "Unknown field.";

/// Why a request text was rejected; names every offending top-level field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRequest {
    /// Problems by top-level field (reason text in the library's wording where it has one).
    pub fields: BTreeMap<RequestField, String>,
    /// Top-level keys that are not request fields (the library rejects them).
    pub unknown_keys: Vec<String>,
    /// A problem with the text as a whole (not JSON, or not a JSON object).
    pub whole: Option<String>,
    /// The `sent_hash` found in the text, if it is a string, so a rejection can still be
    /// echoed and the requirer sees it as the answer to its current request.
    pub sent_hash: Option<String>,
}

impl InvalidRequest {
    fn whole(reason: String) -> Self {
        InvalidRequest {
            fields: BTreeMap::new(),
            unknown_keys: Vec::new(),
            whole: Some(reason),
            sent_hash: None,
        }
    }

    /// One line naming every problem, e.g.
    /// `port_mapping: key "none": Not a valid integer.; unknown field "foo"`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(whole) = &self.whole {
            parts.push(whole.clone());
        }
        for (field, reason) in &self.fields {
            parts.push(format!("{field}: {reason}"));
        }
        for key in &self.unknown_keys {
            parts.push(format!(
                "unknown field {}",
                serde_json::Value::from(key.as_str())
            ));
        }
        parts.join("; ")
    }
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid loadbalancer request: {}", self.describe())
    }
}

impl std::error::Error for InvalidRequest {}

/// Parses request text (`request_<name>` value).
pub(super) fn parse_request(text: &str) -> Result<Request, InvalidRequest> {
    match Json::parse(text) {
        Ok(value) => load_request(&value),
        Err(e) => Err(InvalidRequest::whole(format!("not valid JSON ({e})"))),
    }
}

/// The values of an object as a Python dict holds them: one per key, the last duplicate wins.
fn dict(members: &[(String, Json)]) -> BTreeMap<&str, &Json> {
    members.iter().map(|(k, v)| (k.as_str(), v)).collect()
}

/// Loads a request from a parsed JSON value.
pub(super) fn load_request(value: &Json) -> Result<Request, InvalidRequest> {
    let Json::Object(members) = value else {
        return Err(InvalidRequest::whole(format!(
            "a request must be a JSON object, not {}",
            value.type_name()
        )));
    };
    let data = dict(members);
    let mut errors: BTreeMap<RequestField, String> = BTreeMap::new();
    let unknown_keys: Vec<String> = data
        .keys()
        .filter(|k| k.parse::<RequestField>().is_err())
        .map(|k| k.to_string())
        .collect();
    let get = |f: RequestField| data.get(f.as_str()).copied();

    use RequestField as F;
    let id = record(&mut errors, F::Id, required(get(F::Id), string));
    let name = record(&mut errors, F::Name, required(get(F::Name), string));
    let protocol = record(
        &mut errors,
        F::Protocol,
        required(get(F::Protocol), protocol),
    );
    let backends = record(
        &mut errors,
        F::Backends,
        defaulted(get(F::Backends), Vec::new, string_list),
    );
    let port_mapping = record(
        &mut errors,
        F::PortMapping,
        required(get(F::PortMapping), port_mapping),
    );
    let algorithm = record(
        &mut errors,
        F::Algorithm,
        defaulted(get(F::Algorithm), Vec::new, string_list),
    );
    let sticky = record(
        &mut errors,
        F::Sticky,
        defaulted(get(F::Sticky), || false, boolean),
    );
    let health_checks = record(
        &mut errors,
        F::HealthChecks,
        defaulted(get(F::HealthChecks), Vec::new, health_checks),
    );
    let public = record(
        &mut errors,
        F::Public,
        defaulted(get(F::Public), || true, boolean),
    );
    let tls_termination = record(
        &mut errors,
        F::TlsTermination,
        defaulted(get(F::TlsTermination), || false, boolean),
    );
    let tls_cert = record(&mut errors, F::TlsCert, nullable(get(F::TlsCert)));
    let tls_key = record(&mut errors, F::TlsKey, nullable(get(F::TlsKey)));
    let ingress_address = record(
        &mut errors,
        F::IngressAddress,
        nullable(get(F::IngressAddress)),
    );
    let sent_hash = record(&mut errors, F::SentHash, nullable(get(F::SentHash)));

    let built = (|| {
        Some(Request {
            id: id?,
            name: name?,
            protocol: protocol?,
            backends: backends?,
            port_mapping: port_mapping?,
            algorithm: algorithm?,
            sticky: sticky?,
            health_checks: health_checks?,
            public: public?,
            tls_termination: tls_termination?,
            tls_cert: tls_cert?,
            tls_key: tls_key?.map(TlsKey::new),
            ingress_address: ingress_address?,
            sent_hash: sent_hash.clone()?,
        })
    })();
    match built {
        Some(request) if unknown_keys.is_empty() => Ok(request),
        _ => Err(InvalidRequest {
            fields: errors,
            unknown_keys,
            whole: None,
            sent_hash: sent_hash.flatten(),
        }),
    }
}

/// Keeps a loaded value, or records why it failed and returns `None`.
fn record<K: Ord, T>(errors: &mut BTreeMap<K, String>, key: K, r: Result<T, String>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            errors.insert(key, e);
            None
        }
    }
}

fn required<T>(
    v: Option<&Json>,
    load: impl FnOnce(&Json) -> Result<T, String>,
) -> Result<T, String> {
    match v {
        None => Err(MISSING.into()),
        Some(Json::Null) => Err(NULL.into()),
        Some(v) => load(v),
    }
}

/// A field whose default is not `null`: absent → default; `null` → rejected.
fn defaulted<T>(
    v: Option<&Json>,
    default: impl FnOnce() -> T,
    load: impl FnOnce(&Json) -> Result<T, String>,
) -> Result<T, String> {
    match v {
        None => Ok(default()),
        Some(Json::Null) => Err(NULL.into()),
        Some(v) => load(v),
    }
}

/// A string field whose default is `null` (so `null` is allowed).
fn nullable(v: Option<&Json>) -> Result<Option<String>, String> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(v) => string(v).map(Some),
    }
}

fn string(v: &Json) -> Result<String, String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        _ => Err(NOT_STRING.into()),
    }
}

fn string_list(v: &Json) -> Result<Vec<String>, String> {
    let Json::Array(items) = v else {
        return Err(NOT_LIST.into());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Json::Null => Err(format!("item {i}: {NULL}")),
            other => string(other).map_err(|e| format!("item {i}: {e}")),
        })
        .collect()
}

fn protocol(v: &Json) -> Result<Protocol, String> {
    match v {
        Json::String(s) => Protocol::from_wire(s).ok_or_else(|| format!("Invalid enum value {s}")),
        other => Err(format!("Invalid enum value {}", other.type_name())),
    }
}

/// marshmallow `Boolean` with its default truthy / falsy sets.
pub(crate) fn boolean(v: &Json) -> Result<bool, String> {
    const TRUTHY: [&str; 14] = [
        "t", "T", "true", "True", "TRUE", "on", "On", "ON", "y", "Y", "yes", "Yes", "YES", "1",
    ];
    const FALSY: [&str; 14] = [
        "f", "F", "false", "False", "FALSE", "off", "Off", "OFF", "n", "N", "no", "No", "NO", "0",
    ];
    match v {
        Json::Bool(b) => Ok(*b),
        Json::Int(1) => Ok(true),
        Json::Int(0) => Ok(false),
        Json::Float(f) if *f == 1.0 => Ok(true),
        Json::Float(f) if *f == 0.0 => Ok(false),
        Json::String(s) if TRUTHY.contains(&s.as_str()) => Ok(true),
        Json::String(s) if FALSY.contains(&s.as_str()) => Ok(false),
        _ => Err(NOT_BOOL.into()),
    }
}

/// marshmallow `Integer` (non-strict): Python `int(value)`.
pub(crate) fn integer(v: &Json) -> Result<i64, String> {
    match v {
        Json::Int(i) => Ok(*i),
        Json::Float(f) if f.is_finite() => {
            let t = f.trunc();
            // i64::MAX as f64 rounds up to 2^63, so compare with a strict upper bound.
            if t >= -(2f64.powi(63)) && t < 2f64.powi(63) {
                Ok(t as i64)
            } else {
                Err(format!("{NOT_INT} (out of range)"))
            }
        }
        Json::String(s) => int_from_str(s).ok_or_else(|| NOT_INT.into()),
        _ => Err(NOT_INT.into()),
    }
}

/// Python `int(str)` for base 10, ASCII digits.
pub(crate) fn int_from_str(s: &str) -> Option<i64> {
    let s = s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c));
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut value: i64 = 0;
    for c in digits.chars().filter(|c| *c != '_') {
        let d = i64::from(c.to_digit(10)?);
        value = value.checked_mul(10)?;
        value = if negative {
            value.checked_sub(d)?
        } else {
            value.checked_add(d)?
        };
    }
    Some(value)
}

fn port_mapping(v: &Json) -> Result<BTreeMap<i64, i64>, String> {
    let Json::Object(members) = v else {
        return Err(NOT_MAPPING.into());
    };
    let mut problems = Vec::new();
    let mut result = BTreeMap::new();
    // Document order, so that of two keys with the same number ("443", "0443") the later
    // value wins, as in the library.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (k, _)) in members.iter().enumerate() {
        seen.insert(k, i);
    }
    for (i, (key, value)) in members.iter().enumerate() {
        if seen.get(key.as_str()) != Some(&i) {
            continue; // an earlier duplicate of the same JSON key: json.loads keeps the last
        }
        let k = int_from_str(key);
        let val = match value {
            Json::Null => Err(NULL.to_string()),
            other => integer(other),
        };
        match (k, val) {
            (Some(k), Ok(val)) => {
                result.insert(k, val);
            }
            (k, val) => {
                let key_json = serde_json::Value::from(key.as_str());
                if k.is_none() {
                    problems.push(format!("key {key_json}: {NOT_INT}"));
                }
                if let Err(e) = val {
                    problems.push(format!("value of {key_json}: {e}"));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(result)
    } else {
        Err(problems.join(", "))
    }
}

fn health_checks(v: &Json) -> Result<Vec<HealthCheck>, String> {
    let Json::Array(items) = v else {
        return Err(NOT_LIST.into());
    };
    let mut problems = Vec::new();
    let mut checks = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match health_check(item) {
            Ok(hc) => checks.push(hc),
            Err(e) => problems.push(format!("item {i}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(checks)
    } else {
        Err(problems.join("; "))
    }
}

/// Loads one health check (library `HealthCheck` schema).
pub(crate) fn health_check(v: &Json) -> Result<HealthCheck, String> {
    let members = match v {
        Json::Null => return Err(NULL.into()),
        Json::Object(members) => members,
        other => {
            return Err(format!(
                "a health check must be an object, not {}",
                other.type_name()
            ))
        }
    };
    let data = dict(members);
    let mut problems = Vec::new();
    for key in data.keys() {
        if !matches!(*key, "protocol" | "port" | "path" | "interval" | "retries") {
            problems.push(format!("{}: {UNKNOWN}", serde_json::Value::from(*key)));
        }
    }
    let mut errors: BTreeMap<&str, String> = BTreeMap::new();
    let protocol = record(
        &mut errors,
        "protocol",
        required(data.get("protocol").copied(), protocol),
    );
    let port = record(
        &mut errors,
        "port",
        required(data.get("port").copied(), integer),
    );
    let path = record(&mut errors, "path", nullable(data.get("path").copied()));
    let interval = record(
        &mut errors,
        "interval",
        defaulted(data.get("interval").copied(), || 30, integer),
    );
    let retries = record(
        &mut errors,
        "retries",
        defaulted(data.get("retries").copied(), || 3, integer),
    );
    match (protocol, port, path, interval, retries) {
        (Some(protocol), Some(port), Some(path), Some(interval), Some(retries))
            if problems.is_empty() =>
        {
            Ok(HealthCheck {
                protocol,
                port,
                path,
                interval,
                retries,
            })
        }
        _ => {
            problems.extend(errors.iter().map(|(field, e)| format!("{field}: {e}")));
            Err(problems.join(", "))
        }
    }
}
