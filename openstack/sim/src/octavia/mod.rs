//! Simulated Octavia v2: version discovery, load balancers, listeners, pools, members, health
//! monitors, providers, quotas. Errors in the wsme `faultstring` shape.

mod build;
mod children;
mod index;
mod input;
mod kind;
mod lb;
mod machine;
mod members;
mod render;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, put, MethodRouter};
use axum::Extension;
use serde_json::{json, Value};

use kind::{not_found, Kind};
use render::{HM_FIELDS, LB_FIELDS, LISTENER_FIELDS, MEMBER_FIELDS, POOL_FIELDS};

use super::http::{octavia_bad, octavia_err, query_pairs, respond, truthy, wrapped, ApiError};
use super::listing::{tag_prefilter, Dialect, ListRequest};
use super::shared::{Ctx, Shared};
use super::state::{str_of, Obj, World};

/// The Octavia routes relative to the mount (`/load-balancer` and its aliases); `/v2.0` is an
/// alias of `/v2`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<Arc<Shared>>)> {
    let api: Vec<(&str, MethodRouter<Arc<Shared>>)> = vec![
        ("/lbaas/loadbalancers", get(lb_list).post(lb_create)),
        (
            "/lbaas/loadbalancers/{id}",
            get(lb_show).put(lb_update).delete(lb_delete),
        ),
        ("/lbaas/loadbalancers/{id}/status", get(lb_status)),
        ("/lbaas/loadbalancers/{id}/statuses", get(lb_status)),
        ("/lbaas/loadbalancers/{id}/stats", get(lb_stats)),
        ("/lbaas/loadbalancers/{id}/failover", put(lb_failover)),
        ("/lbaas/listeners", get(listener_list).post(listener_create)),
        (
            "/lbaas/listeners/{id}",
            get(listener_show)
                .put(listener_update)
                .delete(listener_delete),
        ),
        ("/lbaas/pools", get(pool_list).post(pool_create)),
        (
            "/lbaas/pools/{id}",
            get(pool_show).put(pool_update).delete(pool_delete),
        ),
        (
            "/lbaas/pools/{id}/members",
            get(member_list).post(member_create).put(member_batch),
        ),
        (
            "/lbaas/pools/{id}/members/{member_id}",
            get(member_show).put(member_update).delete(member_delete),
        ),
        ("/lbaas/healthmonitors", get(hm_list).post(hm_create)),
        (
            "/lbaas/healthmonitors/{id}",
            get(hm_show).put(hm_update).delete(hm_delete),
        ),
        ("/lbaas/providers", get(providers)),
        (
            "/lbaas/quotas/{project_id}",
            get(quota_show).put(quota_update),
        ),
    ];
    let mut out: Vec<(String, MethodRouter<Arc<Shared>>)> = vec![
        (String::new(), get(versions)),
        ("/".to_string(), get(versions)),
    ];
    for (path, mr) in api {
        out.push((format!("/v2{path}"), mr.clone()));
        out.push((format!("/v2.0{path}"), mr));
    }
    out
}

async fn versions(State(s): State<Arc<Shared>>, Extension(ctx): Extension<Ctx>) -> Response {
    let base = format!("{}{}", s.base, ctx.mount);
    let versions: Vec<Value> = (0..=30)
        .map(|minor| {
            json!({"id": format!("v2.{minor}"), "status": if minor == 30 { "CURRENT" } else { "SUPPORTED" },
                   "updated": "2024-01-01T00:00:00Z", "links": [{"href": format!("{base}/v2"), "rel": "self"}]})
        })
        .collect();
    respond(Ok((200, Some(json!({ "versions": versions })))))
}

fn list_of(
    s: &Shared,
    ctx: &Ctx,
    q: Option<String>,
    collection: &str,
    fields: &[&str],
    make: impl FnOnce(&World, &mut Vec<(String, String)>) -> Result<Vec<Obj>, ApiError>,
) -> Response {
    let mut query = query_pairs(q.as_deref());
    respond(s.with(|w| {
        let items = make(w, &mut query)?;
        let req = ListRequest {
            dialect: Dialect::Octavia,
            collection,
            fields,
            url: format!("{}{}", s.base, ctx.path),
            query: &query,
            page_max: w.config.page_max,
        };
        Ok((200, Some(req.run(items)?)))
    }))
}

/// Take a filter on a field the objects do not render (e.g. `loadbalancer_id`).
fn take(query: &mut Vec<(String, String)>, key: &str) -> Option<String> {
    let pos = query.iter().position(|(k, _)| k == key)?;
    Some(query.remove(pos).1)
}

async fn lb_list(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(q): RawQuery,
) -> Response {
    list_of(&s, &ctx, q, "loadbalancers", LB_FIELDS, |w, query| {
        let keep = tag_prefilter(query);
        let idx = w.link_index();
        Ok(w.loadbalancers
            .iter()
            .filter(|o| keep(o))
            .map(|o| w.render_lb_indexed(o, &idx))
            .collect())
    })
}

async fn lb_create(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    respond(s.with(|w| {
        let input = wrapped(&body, "loadbalancer", octavia_bad)?;
        Ok((201, Some(json!({"loadbalancer": w.create_lb(&input)?}))))
    }))
}

fn lb_get(w: &World, id: &str) -> Result<Obj, ApiError> {
    w.loadbalancers
        .get(id)
        .cloned()
        .ok_or_else(|| lb::lb_not_found(id))
}

async fn lb_show(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    respond(s.with(|w| {
        Ok((
            200,
            Some(json!({"loadbalancer": w.render_lb(&lb_get(w, &id)?)})),
        ))
    }))
}

async fn lb_update(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    respond(s.with(|w| {
        let input = wrapped(&body, "loadbalancer", octavia_bad)?;
        Ok((
            200,
            Some(json!({"loadbalancer": w.update_lb(&id, &input)?})),
        ))
    }))
}

async fn lb_delete(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let cascade = query_pairs(q.as_deref())
        .iter()
        .any(|(k, v)| k == "cascade" && truthy(v));
    respond(s.with(|w| w.delete_lb(&id, cascade).map(|_| (204, None))))
}

async fn lb_status(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    respond(s.with(|w| Ok((200, Some(w.status_tree(&lb_get(w, &id)?))))))
}

async fn lb_stats(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    respond(s.with(|w| {
        lb_get(w, &id)?;
        Ok((200, Some(json!({"stats": {"bytes_in": 0, "bytes_out": 0, "active_connections": 0, "total_connections": 0, "request_errors": 0}}))))
    }))
}

async fn lb_failover(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    respond(s.with(|w| w.failover_lb(&id).map(|_| (202, None))))
}

fn child_list(s: &Shared, ctx: &Ctx, q: Option<String>, kind: Kind) -> Response {
    let (collection, fields, parent_key) = match kind {
        Kind::Listener => ("listeners", LISTENER_FIELDS, "loadbalancer_id"),
        Kind::Pool => ("pools", POOL_FIELDS, "loadbalancer_id"),
        Kind::Monitor => ("healthmonitors", HM_FIELDS, "pool_id"),
        Kind::Member => ("members", MEMBER_FIELDS, ""),
    };
    list_of(s, ctx, q, collection, fields, |w, query| {
        let keep = tag_prefilter(query);
        let idx = if kind == Kind::Pool {
            w.link_index()
        } else {
            index::LinkIndex::default()
        };
        let parent = take(query, parent_key);
        let listener = if kind == Kind::Pool {
            take(query, "listener_id")
        } else {
            None
        };
        Ok(kind
            .table(w)
            .iter()
            .filter(|o| match (&parent, kind) {
                (Some(p), Kind::Monitor) => World::pool_of_hm(o) == *p,
                (Some(p), _) => World::lb_of(o) == *p,
                (None, _) => true,
            })
            .filter(|o| keep(o))
            .filter(|o| {
                listener.as_ref().is_none_or(|l| {
                    w.listeners
                        .get(l)
                        .is_some_and(|lo| str_of(lo, "default_pool_id") == str_of(o, "id"))
                })
            })
            .map(|o| {
                if kind == Kind::Pool {
                    w.render_pool_indexed(o, &idx)
                } else {
                    o.clone()
                }
            })
            .collect())
    })
}

fn child_show(s: &Shared, kind: Kind, id: &str, root: &str) -> Response {
    respond(s.with(|w| {
        let o = kind.table(w).get(id).ok_or_else(|| not_found(kind, id))?;
        let o = if kind == Kind::Pool {
            w.render_pool(o)
        } else {
            o.clone()
        };
        Ok((200, Some(json!({ root: o }))))
    }))
}

fn child_update(s: &Shared, kind: Kind, id: &str, root: &str, body: &Bytes) -> Response {
    respond(s.with(|w| {
        let input = wrapped(body, root, octavia_bad)?;
        Ok((
            200,
            Some(json!({ root: w.update_child(kind, id, &input)? })),
        ))
    }))
}

fn child_delete(s: &Shared, kind: Kind, id: &str) -> Response {
    respond(s.with(|w| w.delete_child(kind, id).map(|_| (204, None))))
}

async fn listener_list(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(q): RawQuery,
) -> Response {
    child_list(&s, &ctx, q, Kind::Listener)
}
async fn listener_create(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    respond(s.with(|w| {
        let input = wrapped(&body, "listener", octavia_bad)?;
        Ok((201, Some(json!({"listener": w.create_listener(&input)?}))))
    }))
}
async fn listener_show(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    child_show(&s, Kind::Listener, &id, "listener")
}
async fn listener_update(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    child_update(&s, Kind::Listener, &id, "listener", &body)
}
async fn listener_delete(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    child_delete(&s, Kind::Listener, &id)
}

async fn pool_list(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(q): RawQuery,
) -> Response {
    child_list(&s, &ctx, q, Kind::Pool)
}
async fn pool_create(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    respond(s.with(|w| {
        let input = wrapped(&body, "pool", octavia_bad)?;
        Ok((201, Some(json!({"pool": w.create_pool(&input)?}))))
    }))
}
async fn pool_show(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    child_show(&s, Kind::Pool, &id, "pool")
}
async fn pool_update(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    child_update(&s, Kind::Pool, &id, "pool", &body)
}
async fn pool_delete(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    child_delete(&s, Kind::Pool, &id)
}

async fn member_list(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(pool): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    list_of(&s, &ctx, q, "members", MEMBER_FIELDS, |w, _| {
        if !w.pools.contains(&pool) {
            return Err(not_found(Kind::Pool, &pool));
        }
        Ok(w.members_of_pool(&pool)
            .iter()
            .filter_map(|m| w.members.get(m).cloned())
            .collect())
    })
}
async fn member_create(
    State(s): State<Arc<Shared>>,
    Path(pool): Path<String>,
    body: Bytes,
) -> Response {
    respond(s.with(|w| {
        let input = wrapped(&body, "member", octavia_bad)?;
        Ok((
            201,
            Some(json!({"member": w.create_member(&pool, &input)?})),
        ))
    }))
}
async fn member_batch(
    State(s): State<Arc<Shared>>,
    Path(pool): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let additive = query_pairs(q.as_deref())
        .iter()
        .any(|(k, v)| k == "additive_only" && truthy(v));
    respond(s.with(|w| {
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| octavia_err(400, format!("The request body is not valid JSON: {e}")))?;
        w.batch_members(&pool, &v, additive).map(|_| (202, None))
    }))
}
fn member_in_pool(w: &World, pool: &str, id: &str) -> Result<(), ApiError> {
    if w.member_pool.get(id).map(String::as_str) == Some(pool) {
        Ok(())
    } else {
        Err(not_found(Kind::Member, id))
    }
}
async fn member_show(
    State(s): State<Arc<Shared>>,
    Path((pool, id)): Path<(String, String)>,
) -> Response {
    respond(s.with(|w| {
        member_in_pool(w, &pool, &id)?;
        Ok((200, Some(json!({"member": w.members.get(&id).cloned()}))))
    }))
}
async fn member_update(
    State(s): State<Arc<Shared>>,
    Path((pool, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    respond(s.with(|w| {
        member_in_pool(w, &pool, &id)?;
        let input = wrapped(&body, "member", octavia_bad)?;
        Ok((
            200,
            Some(json!({"member": w.update_child(Kind::Member, &id, &input)?})),
        ))
    }))
}
async fn member_delete(
    State(s): State<Arc<Shared>>,
    Path((pool, id)): Path<(String, String)>,
) -> Response {
    respond(s.with(|w| {
        member_in_pool(w, &pool, &id)?;
        w.delete_child(Kind::Member, &id).map(|_| (204, None))
    }))
}

async fn hm_list(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(q): RawQuery,
) -> Response {
    child_list(&s, &ctx, q, Kind::Monitor)
}
async fn hm_create(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    respond(s.with(|w| {
        let input = wrapped(&body, "healthmonitor", octavia_bad)?;
        Ok((201, Some(json!({"healthmonitor": w.create_hm(&input)?}))))
    }))
}
async fn hm_show(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    child_show(&s, Kind::Monitor, &id, "healthmonitor")
}
async fn hm_update(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    child_update(&s, Kind::Monitor, &id, "healthmonitor", &body)
}
async fn hm_delete(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    child_delete(&s, Kind::Monitor, &id)
}

async fn providers() -> Response {
    respond(Ok((
        200,
        Some(json!({"providers": [
            {"name": "amphora", "description": "The Octavia Amphora driver."},
            {"name": "octavia", "description": "Deprecated alias of the Octavia Amphora driver."},
            {"name": "ovn", "description": "Octavia OVN driver."},
        ]})),
    )))
}

async fn quota_show(State(s): State<Arc<Shared>>, Path(project): Path<String>) -> Response {
    respond(s.with(|w| {
        let _ = project;
        Ok((200, Some(json!({"quota": w.octavia_quota}))))
    }))
}

async fn quota_update(
    State(s): State<Arc<Shared>>,
    Path(project): Path<String>,
    body: Bytes,
) -> Response {
    respond(s.with(|w| {
        let _ = project;
        let input = wrapped(&body, "quota", octavia_bad)?;
        for (k, v) in &input {
            let key = match k.as_str() {
                "load_balancer" => "loadbalancer",
                "health_monitor" => "healthmonitor",
                other => other,
            };
            if !w.octavia_quota.contains_key(key) {
                return Err(octavia_err(
                    400,
                    format!("Invalid input for field/attribute quota. Unknown attribute: {k}"),
                ));
            }
            let n = v.as_i64().ok_or_else(|| {
                octavia_err(
                    400,
                    format!("Invalid input for field/attribute {k}. Value should be an integer."),
                )
            })?;
            w.octavia_quota.insert(key.to_string(), n);
        }
        Ok((202, Some(json!({"quota": w.octavia_quota}))))
    }))
}
