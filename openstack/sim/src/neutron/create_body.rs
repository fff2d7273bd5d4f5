//! What a Neutron create body may not hold, and the 400 Neutron answers for it.

use crate::http::{neutron_err, ApiError};

/// Attributes Neutron knows but refuses in a create body: the answer differs from an unknown
/// attribute's. Real Neutron 29 refuses `tags` here too: the `tag-creation` extension means
/// `POST /{collection}/{id}/tags`, not tags in the create body.
const NOT_POSTABLE: &[&str] = &[
    "id",
    "tags",
    "status",
    "revision_number",
    "created_at",
    "updated_at",
    "router_id",
    "port_details",
    "security_group_rules",
];

/// 400 for an attribute a create body may not hold, worded as Neutron words it.
pub(crate) fn not_allowed_in_post(attribute: &str) -> ApiError {
    let message = if NOT_POSTABLE.contains(&attribute) {
        format!("Attribute '{attribute}' not allowed in POST")
    } else {
        format!("Unrecognized attribute(s) '{attribute}'")
    };
    neutron_err(400, "HTTPBadRequest", message)
}
