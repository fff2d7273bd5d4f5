//! The call bodies every Octavia and Neutron resource module shares.
//!
//! Both services wrap one object under a key named after its kind (`{"listener": {...}}`,
//! `{"floatingip": {...}}`), in answers and in request bodies. These plain functions send a
//! call and take that object out of the answer (or expect nothing back), so each resource
//! module keeps only what is its own: paths, accepted statuses, filters and documentation.

use std::fmt;
use std::marker::PhantomData;

use reqwest::Method;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Serialize;

use crate::error::Error;
use crate::load_balancer::wire::with_body;
use crate::session::{Call, Reply, ServiceType, Session};

/// `GET {path}` → 200: the object the answer wraps under `key`.
///
/// # Errors
/// The call's error; [`Error::Decode`] when the answer has no such object.
pub(crate) async fn get_one<T: DeserializeOwned>(
    session: &Session,
    service: ServiceType,
    path: impl Into<String>,
    key: &'static str,
) -> Result<T, Error> {
    let call = Call::new(service, Method::GET, path, &[200]);
    one(&session.send(call).await?, key)
}

/// `POST {path}` with `body` wrapped under `key` → one of `ok`: the object under `key`.
///
/// # Errors
/// As [`send_one`].
pub(crate) async fn post_one<T: DeserializeOwned, B: Serialize>(
    session: &Session,
    service: ServiceType,
    path: impl Into<String>,
    ok: &'static [u16],
    key: &'static str,
    body: &B,
) -> Result<T, Error> {
    send_one(
        session,
        Call::new(service, Method::POST, path, ok),
        key,
        body,
    )
    .await
}

/// `PUT {path}` with `body` wrapped under `key` → one of `ok`: the object under `key`.
///
/// # Errors
/// As [`send_one`].
pub(crate) async fn put_one<T: DeserializeOwned, B: Serialize>(
    session: &Session,
    service: ServiceType,
    path: impl Into<String>,
    ok: &'static [u16],
    key: &'static str,
    body: &B,
) -> Result<T, Error> {
    send_one(
        session,
        Call::new(service, Method::PUT, path, ok),
        key,
        body,
    )
    .await
}

/// Sends `call` with `body` wrapped under `key`: the answer's object under the same key.
///
/// # Errors
/// The call's error; [`Error::Decode`] when the body cannot be encoded or the answer has no
/// such object.
pub(crate) async fn send_one<T: DeserializeOwned, B: Serialize>(
    session: &Session,
    call: Call,
    key: &'static str,
    body: &B,
) -> Result<T, Error> {
    let reply = session.send(with_body(call, key, body)?).await?;
    one(&reply, key)
}

/// `DELETE {path}` → 204.
///
/// # Errors
/// The call's error (404 when already gone: callers decide whether that is done).
pub(crate) async fn delete(
    session: &Session,
    service: ServiceType,
    path: impl Into<String>,
) -> Result<(), Error> {
    session
        .send(Call::new(service, Method::DELETE, path, &[204]))
        .await?;
    Ok(())
}

/// Decodes the object an answer wraps under `key` (other top-level keys are ignored).
///
/// # Errors
/// [`Error::Decode`] naming the service, method and path when the body is not a JSON object
/// with a well-formed `key`.
pub(crate) fn one<T: DeserializeOwned>(reply: &Reply, key: &'static str) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(&reply.body);
    let decoded = Under {
        key,
        item: PhantomData,
    }
    .deserialize(&mut de)
    .and_then(|item| de.end().map(|()| item));
    decoded.map_err(|e| Error::Decode {
        service: reply.service,
        method: reply.method.clone(),
        path: reply.path.clone(),
        detail: if reply.is_empty() {
            format!("empty body with status {} ({e})", reply.status)
        } else {
            e.to_string()
        },
    })
}

/// Reads a JSON object and keeps only the value under `key`, decoded as `T`.
struct Under<T> {
    key: &'static str,
    item: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Under<T> {
    type Value = T;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Under<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with `{}`", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut found: Option<T> = None;
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if name == self.key {
                if found.is_some() {
                    return Err(de::Error::duplicate_field(self.key));
                }
                found = Some(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        found.ok_or_else(|| de::Error::missing_field(self.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Thing {
        id: String,
    }

    fn reply(status: u16, body: &str) -> Reply {
        Reply::new(
            ServiceType::Network,
            Method::GET,
            "/v2.0/things/t",
            status,
            body,
        )
    }

    #[test]
    fn takes_the_object_under_its_key_and_ignores_the_rest() {
        let r = reply(
            200,
            r#"{"links": [{"rel": "self"}], "thing": {"id": "t", "extra": [1, {"x": null}]}}"#,
        );
        assert_eq!(one::<Thing>(&r, "thing").unwrap(), Thing { id: "t".into() });
    }

    #[test]
    fn a_missing_or_repeated_key_or_bad_body_is_a_decode_error_naming_the_call() {
        for (status, body, says) in [
            (200, r#"{"other": {"id": "t"}}"#, "missing field `thing`"),
            (
                200,
                r#"{"thing": {"id": "a"}, "thing": {"id": "b"}}"#,
                "duplicate field `thing`",
            ),
            (200, r#"{"thing": {"name": "no id"}}"#, "missing field `id`"),
            (200, r#"["thing"]"#, "an object with `thing`"),
            (200, r#"{"thing": {"id": "t"}} trailing"#, "trailing"),
            (204, "", "empty body with status 204"),
        ] {
            let e = one::<Thing>(&reply(status, body), "thing").unwrap_err();
            let text = e.to_string();
            assert!(matches!(e, Error::Decode { .. }), "{body}: {e:?}");
            assert!(text.contains("/v2.0/things/t"), "{text}");
            assert!(text.contains(says), "{body}: {text}");
        }
    }
}
