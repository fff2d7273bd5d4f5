//! Neutron resource tags: `PUT /v2.0/{collection}/{id}/tags` replaces a resource's tag list.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::load_balancer::wire::{null_default, segment, with_raw_body};
use crate::session::{Call, ServiceType, Session};

/// The kinds of Neutron resource we tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaggedResource {
    /// `networks`.
    Network,
    /// `subnets`.
    Subnet,
    /// `ports`.
    Port,
    /// `floatingips`.
    FloatingIp,
    /// `security-groups`.
    SecurityGroup,
}

impl TaggedResource {
    /// The collection name in the URL.
    pub fn collection(self) -> &'static str {
        match self {
            TaggedResource::Network => "networks",
            TaggedResource::Subnet => "subnets",
            TaggedResource::Port => "ports",
            TaggedResource::FloatingIp => "floatingips",
            TaggedResource::SecurityGroup => "security-groups",
        }
    }
}

#[derive(Serialize)]
struct TagsBody<'a> {
    tags: &'a [String],
}

#[derive(Deserialize)]
struct TagsReply {
    #[serde(default, deserialize_with = "null_default")]
    tags: Vec<String>,
}

fn tags_path(resource: TaggedResource, id: &str) -> Result<String, Error> {
    Ok(format!(
        "{}/{}/tags",
        resource.collection(),
        segment(resource.collection(), id)?
    ))
}

/// `PUT /v2.0/{collection}/{id}/tags` with `{"tags": [...]}` → 200: the resource's tags become
/// exactly `tags`. Returns the tags Neutron now holds.
///
/// # Errors
/// 404 when the resource is missing; 400 for a tag over 255 characters or with a comma.
pub async fn replace(
    session: &Session,
    resource: TaggedResource,
    id: &str,
    tags: &[String],
) -> Result<Vec<String>, Error> {
    let call = Call::new(
        ServiceType::Network,
        Method::PUT,
        tags_path(resource, id)?,
        &[200],
    );
    let reply = session
        .send(with_raw_body(call, "tags", &TagsBody { tags })?)
        .await?;
    Ok(reply.json::<TagsReply>()?.tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            tags_path(TaggedResource::FloatingIp, "f").unwrap(),
            "floatingips/f/tags"
        );
        assert_eq!(
            tags_path(TaggedResource::SecurityGroup, "g").unwrap(),
            "security-groups/g/tags"
        );
        assert_eq!(
            tags_path(TaggedResource::Port, "p").unwrap(),
            "ports/p/tags"
        );
        assert_eq!(
            tags_path(TaggedResource::Network, "n").unwrap(),
            "networks/n/tags"
        );
        assert_eq!(
            tags_path(TaggedResource::Subnet, "s").unwrap(),
            "subnets/s/tags"
        );
    }
}
