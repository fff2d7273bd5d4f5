//! Responses that cannot be invalid.
//!
//! The library rejects (and the requirer's hook crashes on) a response with no error and no
//! address, an error without message or fields, or `error_fields` keys that are not top-level
//! request field names (research §1.6). Here:
//! - a success needs an [`Address`] (non-empty, a bare IP address or host name);
//! - an error needs a [`Failure`], which always holds a non-empty message or at least one field;
//! - `error_fields` keys are [`RequestField`]s;
//! - every constructor takes the request (or its [`InvalidRequest`]) and copies its `sent_hash`
//!   into `received_hash`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::relation::json::{Json, PyJsonWriter};

use super::load::InvalidRequest;
use super::{md5_hex, Request, RequestField};

/// The `error` of a response, written by name: `"unsupported"` or `"provider_error"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request asks for something we cannot provide (fix the request).
    Unsupported,
    /// We could not provide it (cloud failure, quota, credentials…).
    ProviderError,
}

impl ErrorKind {
    /// The wire spelling (the library's enum *name*; its value "provider error" is never on the
    /// wire).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::ProviderError => "provider_error",
        }
    }

    fn from_wire(s: &str) -> Option<ErrorKind> {
        match s {
            "unsupported" => Some(ErrorKind::Unsupported),
            "provider_error" => Some(ErrorKind::ProviderError),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A load balancer's address as answered: a bare IP address or DNS host name (no scheme, no
/// port), never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address(String);

/// Why a text is not an [`Address`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a bare IP address or host name: {reason}")]
pub struct AddressError {
    text: String,
    reason: &'static str,
}

impl Address {
    /// An IP address (IPv6 is written without brackets, as the requirers expect).
    pub fn ip(ip: IpAddr) -> Address {
        Address(ip.to_string())
    }

    /// Parses an IP address or a DNS host name.
    pub fn parse(text: &str) -> Result<Address, AddressError> {
        let err = |reason| AddressError {
            text: text.to_owned(),
            reason,
        };
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Address::ip(ip));
        }
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        if text.len() > 253 {
            return Err(err("it is longer than 253 characters"));
        }
        let host = text.strip_suffix('.').unwrap_or(text);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if host.split('.').all(label_ok) {
            Ok(Address(text.to_owned()))
        } else {
            Err(err(
                "host names are dot-separated labels of letters, digits and '-'",
            ))
        }
    }

    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest message or field reason we write (bytes); longer ones end with "…".
pub const MAX_TEXT: usize = 1024;

fn bounded(mut text: String) -> String {
    if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT - '…'.len_utf8();
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// The message was empty: an error needs a message or at least one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an error response needs a non-empty error_message or at least one error field")]
pub struct EmptyMessage;

/// What went wrong: a non-empty message, one or more request fields with a reason each, or
/// both. Cannot be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    message: Option<String>,
    fields: BTreeMap<RequestField, String>,
}

impl Failure {
    /// A failure described by a message (must not be empty).
    pub fn message(message: impl Into<String>) -> Result<Failure, EmptyMessage> {
        let message = message.into();
        if message.is_empty() {
            Err(EmptyMessage)
        } else {
            Ok(Failure {
                message: Some(bounded(message)),
                fields: BTreeMap::new(),
            })
        }
    }

    /// The failure for a request that did not load: every offending top-level field in
    /// `error_fields`, and a message with the whole story (unknown keys cannot go in
    /// `error_fields`).
    fn of_rejection(invalid: &InvalidRequest) -> Failure {
        // Never empty: it starts with "invalid request: ".
        let mut failure =
            Failure::nonempty_message(format!("invalid request: {}", invalid.describe()));
        for (field, reason) in &invalid.fields {
            failure = failure.and_field(*field, reason.clone());
        }
        failure
    }

    /// For messages built in this crate that cannot be empty (the loader's, and
    /// [`crate::spec::Unsupported`]'s). Long texts (a request with thousands of unknown keys)
    /// are cut to [`MAX_TEXT`] bytes.
    pub(crate) fn nonempty_message(message: String) -> Failure {
        debug_assert!(!message.is_empty());
        Failure {
            message: Some(bounded(message)),
            fields: BTreeMap::new(),
        }
    }

    /// A failure caused by one request field.
    pub fn field(field: RequestField, reason: impl Into<String>) -> Failure {
        Failure {
            message: None,
            fields: BTreeMap::from([(field, reason.into())]),
        }
    }

    /// Adds (or replaces) the reason for one field.
    pub fn and_field(mut self, field: RequestField, reason: impl Into<String>) -> Failure {
        self.fields.insert(field, bounded(reason.into()));
        self
    }

    /// Sets the message; an empty message leaves the failure unchanged.
    pub fn and_message(mut self, message: impl Into<String>) -> Failure {
        let message = message.into();
        if !message.is_empty() {
            self.message = Some(bounded(message));
        }
        self
    }

    /// The message, if any.
    pub fn message_text(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The offending fields with their reasons.
    pub fn fields(&self) -> &BTreeMap<RequestField, String> {
        &self.fields
    }
}

/// One line for logs, status and the CLI: the message, then each field's reason that the
/// message does not already say (an `unsupported` message lists its fields' reasons itself,
/// and a provider refusal's message quotes the service's words that are also the field's
/// reason: printing both would say everything twice).
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.message.as_deref().unwrap_or("");
        let mut parts: Vec<String> = self.message.iter().cloned().collect();
        parts.extend(
            self.fields
                .iter()
                .filter(|(_, v)| v.is_empty() || !message.contains(v.as_str()))
                .map(|(k, v)| format!("{k}: {v}")),
        );
        f.write_str(&parts.join("; "))
    }
}

/// A valid v1 response (library `Response`), always written with all five keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    address: Option<String>,
    error: Option<ErrorKind>,
    error_fields: BTreeMap<String, String>,
    error_message: Option<String>,
    received_hash: Option<String>,
}

impl Response {
    /// The load balancer is ready at `address`.
    pub fn success(request: &Request, address: Address) -> Response {
        Response {
            address: Some(address.0),
            error: None,
            error_fields: BTreeMap::new(),
            error_message: None,
            received_hash: request.sent_hash.clone(),
        }
    }

    /// The request asks for something we cannot do.
    pub fn unsupported(request: &Request, failure: Failure) -> Response {
        Self::failed(request.sent_hash.clone(), ErrorKind::Unsupported, failure)
    }

    /// We could not do it (cloud failure).
    pub fn provider_error(request: &Request, failure: Failure) -> Response {
        Self::failed(request.sent_hash.clone(), ErrorKind::ProviderError, failure)
    }

    /// The answer to a request that did not load: `unsupported`, naming every offending
    /// top-level field, echoing the `sent_hash` found in the text (if any).
    pub fn rejected(invalid: &InvalidRequest) -> Response {
        Self::failed(
            invalid.sent_hash.clone(),
            ErrorKind::Unsupported,
            Failure::of_rejection(invalid),
        )
    }

    fn failed(received_hash: Option<String>, kind: ErrorKind, failure: Failure) -> Response {
        Response {
            address: None,
            error: Some(kind),
            error_fields: failure
                .fields
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect(),
            error_message: failure.message,
            received_hash,
        }
    }

    /// `address`.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// `error`.
    pub fn error(&self) -> Option<ErrorKind> {
        self.error
    }

    /// `error_fields`: keys are top-level request field names.
    pub fn error_fields(&self) -> &BTreeMap<String, String> {
        &self.error_fields
    }

    /// `error_message`.
    pub fn error_message(&self) -> Option<&str> {
        self.error_message.as_deref()
    }

    /// Why an error answer refuses, on one line: the message (which names its fields), else
    /// each field with its reason.
    pub fn why(&self) -> String {
        match &self.error_message {
            Some(message) => message.clone(),
            None => self
                .error_fields
                .iter()
                .map(|(field, reason)| format!("{field}: {reason}"))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    /// `received_hash`: the `sent_hash` of the request this answers.
    pub fn received_hash(&self) -> Option<&str> {
        self.received_hash.as_deref()
    }

    /// The library's `Response.dumps()`.
    pub fn canonical_json(&self) -> String {
        let mut w = PyJsonWriter::new();
        w.begin_object();
        w.key(0, "address");
        w.opt_string(self.address.as_deref());
        w.key(1, "error");
        w.opt_string(self.error.map(ErrorKind::as_str));
        w.key(2, "error_fields");
        w.begin_object();
        for (i, (k, v)) in self.error_fields.iter().enumerate() {
            w.key(i, k);
            w.string(v);
        }
        w.end_object();
        w.key(3, "error_message");
        w.opt_string(self.error_message.as_deref());
        w.key(4, "received_hash");
        w.opt_string(self.received_hash.as_deref());
        w.end_object();
        w.finish()
    }

    /// The library's `Response.hash` (MD5 hex of the canonical JSON).
    pub fn hash(&self) -> String {
        md5_hex(self.canonical_json().as_bytes())
    }

    /// Loads response text with the library's validation (`Response.loads`): what it rejects,
    /// this rejects. One difference: the library accepts any JSON value inside
    /// `error_fields` (its schema passes `key=`/`value=` where marshmallow wants
    /// `keys=`/`values=`); here values must be strings.
    pub fn parse(text: &str) -> Result<Response, String> {
        let value = Json::parse(text).map_err(|e| format!("not valid JSON ({e})"))?;
        Self::from_json(&value)
    }

    /// [`Self::parse`] for an already parsed value.
    pub fn from_json(value: &Json) -> Result<Response, String> {
        let Json::Object(members) = value else {
            return Err(format!(
                "a response must be a JSON object, not {}",
                value.type_name()
            ));
        };
        let data: BTreeMap<&str, &Json> = members.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let mut problems = Vec::new();
        for key in data.keys() {
            if !matches!(
                *key,
                "address" | "error" | "error_fields" | "error_message" | "received_hash"
            ) {
                problems.push(format!("{key}: Unknown field."));
            }
        }
        let mut opt_str = |key: &str| match data.get(key) {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => {
                problems.push(format!("{key}: Not a valid string."));
                None
            }
        };
        let address = opt_str("address");
        let error_message = opt_str("error_message");
        let received_hash = opt_str("received_hash");
        let error = match data.get("error") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => match ErrorKind::from_wire(s) {
                Some(kind) => Some(kind),
                None => {
                    problems.push(format!("error: Invalid enum member {s}"));
                    None
                }
            },
            Some(other) => {
                problems.push(format!("error: Invalid enum member {}", other.type_name()));
                None
            }
        };
        let mut error_fields = BTreeMap::new();
        match data.get("error_fields") {
            None => {}
            Some(Json::Object(fields)) => {
                for (k, v) in fields {
                    match v {
                        Json::String(s) => {
                            error_fields.insert(k.clone(), s.clone());
                        }
                        _ => problems.push(format!("error_fields: value of {k} is not a string")),
                    }
                }
            }
            Some(Json::Null) => problems.push("error_fields: Field may not be null.".into()),
            Some(_) => problems.push("error_fields: Not a valid mapping type.".into()),
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        let has_address = address.as_deref().is_some_and(|a| !a.is_empty());
        let has_detail =
            error_message.as_deref().is_some_and(|m| !m.is_empty()) || !error_fields.is_empty();
        if error.is_none() && !has_address {
            return Err("address required on success".into());
        }
        if error.is_some() && !has_detail {
            return Err("error_message or error_fields required on failure".into());
        }
        let unknown: Vec<&str> = error_fields
            .keys()
            .map(String::as_str)
            .filter(|k| k.parse::<RequestField>().is_err())
            .collect();
        if !unknown.is_empty() {
            let s = if unknown.len() > 1 { "s" } else { "" };
            return Err(format!(
                "error_fields: Unknown field{s}: {}",
                unknown.join(", ")
            ));
        }
        Ok(Response {
            address,
            error,
            error_fields,
            error_message,
            received_hash,
        })
    }
}

impl serde::Serialize for Response {
    /// Serialises all five keys, sorted (the canonical text is [`Response::canonical_json`]).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = serializer.serialize_map(Some(5))?;
        m.serialize_entry("address", &self.address)?;
        m.serialize_entry("error", &self.error.map(ErrorKind::as_str))?;
        m.serialize_entry("error_fields", &self.error_fields)?;
        m.serialize_entry("error_message", &self.error_message)?;
        m.serialize_entry("received_hash", &self.received_hash)?;
        m.end()
    }
}

impl<'de> serde::Deserialize<'de> for Response {
    /// Deserialises with the library's validation ([`Response::from_json`]).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Json::deserialize(deserializer)?;
        Response::from_json(&value).map_err(serde::de::Error::custom)
    }
}
