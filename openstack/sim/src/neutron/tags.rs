//! Neutron resource tags: `GET|PUT|DELETE /{collection}/{id}/tags[/{tag}]`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::coll::{coll_of, Coll};
use super::ports;
use crate::http::{neutron_bad, neutron_err, respond, ApiError};
use crate::shared::Shared;
use crate::state::{stamp, World};

fn tags_of(w: &World, coll: Coll, id: &str) -> Result<Vec<String>, ApiError> {
    let o = coll.table(w).get(id).ok_or_else(|| coll.not_found(id))?;
    Ok(o.get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

fn set_tags(w: &mut World, coll: Coll, id: &str, tags: Vec<String>) -> Result<(), ApiError> {
    let o = coll
        .table_mut(w)
        .get_mut(id)
        .ok_or_else(|| coll.not_found(id))?;
    o.insert("tags".into(), json!(tags));
    o.insert("updated_at".into(), json!(stamp::neutron()));
    ports::bump(o);
    Ok(())
}

pub(crate) async fn tags_get(
    State(s): State<Arc<Shared>>,
    Path((coll, id)): Path<(String, String)>,
) -> Response {
    respond(s.with(|w| {
        let tags = tags_of(w, coll_of(&coll)?, &id)?;
        Ok((200, Some(json!({"tags": tags}))))
    }))
}

pub(crate) async fn tags_put(
    State(s): State<Arc<Shared>>,
    Path((coll, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    respond(s.with(|w| {
        let coll = coll_of(&coll)?;
        let v: Value =
            serde_json::from_slice(&body).map_err(|e| neutron_bad(format!("Invalid JSON: {e}")))?;
        let tags: Vec<String> = v
            .get("tags")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                neutron_bad("Invalid input: the body must be {\"tags\": [...]}.".into())
            })?
            .iter()
            .map(|t| {
                t.as_str()
                    .filter(|s| s.len() <= 255 && !s.contains(','))
                    .map(str::to_string)
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                neutron_err(
                    400,
                    "InvalidInput",
                    "Invalid input: tags must be strings of at most 255 characters without commas.",
                )
            })?;
        set_tags(w, coll, &id, tags.clone())?;
        Ok((200, Some(json!({"tags": tags}))))
    }))
}

pub(crate) async fn tags_delete_all(
    State(s): State<Arc<Shared>>,
    Path((coll, id)): Path<(String, String)>,
) -> Response {
    respond(s.with(|w| {
        set_tags(w, coll_of(&coll)?, &id, Vec::new())?;
        Ok((204, None))
    }))
}

pub(crate) async fn tag_get(
    State(s): State<Arc<Shared>>,
    Path((coll, id, tag)): Path<(String, String, String)>,
) -> Response {
    respond(s.with(|w| {
        if tags_of(w, coll_of(&coll)?, &id)?.contains(&tag) {
            Ok((204, None))
        } else {
            Err(neutron_err(
                404,
                "TagNotFound",
                format!("Tag {tag} could not be found for {coll} {id}."),
            ))
        }
    }))
}

pub(crate) async fn tag_put(
    State(s): State<Arc<Shared>>,
    Path((coll, id, tag)): Path<(String, String, String)>,
) -> Response {
    respond(s.with(|w| {
        let c = coll_of(&coll)?;
        let mut tags = tags_of(w, c, &id)?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
        set_tags(w, c, &id, tags)?;
        Ok((201, None))
    }))
}

pub(crate) async fn tag_delete(
    State(s): State<Arc<Shared>>,
    Path((coll, id, tag)): Path<(String, String, String)>,
) -> Response {
    respond(s.with(|w| {
        let c = coll_of(&coll)?;
        let mut tags = tags_of(w, c, &id)?;
        let before = tags.len();
        tags.retain(|t| *t != tag);
        if tags.len() == before {
            return Err(neutron_err(
                404,
                "TagNotFound",
                format!("Tag {tag} could not be found for {coll} {id}."),
            ));
        }
        set_tags(w, c, &id, tags)?;
        Ok((204, None))
    }))
}
