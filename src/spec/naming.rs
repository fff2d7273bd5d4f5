//! Ownership marks: deterministic names, tags and descriptions.
//!
//! Every resource we create carries three tags: [`MANAGED_TAG`] (ours), a cluster tag (which
//! integrator deployment) and a request tag (which request of which consuming app). Lookups go by
//! tags, never by name, so a name collision with something not ours can never make us adopt,
//! modify or delete it. Names are for humans and are deterministic too: the same request always
//! yields the same names, so what a crashed run created is recognisable.
//!
//! Tag values only use `[A-Za-z0-9._=-]` and stay under 60 characters: older Neutron releases
//! cap tags at 60 characters and a comma would split a `tags=` filter. Anything else (a long or
//! unusual cluster id) is replaced by a digest.

use md5::{Digest, Md5};

/// The tag that marks a resource as created by octavia-integrator.
pub const MANAGED_TAG: &str = "octavia-integrator";

/// Prefix of the tag naming the cluster (integrator deployment) that owns a resource.
pub const CLUSTER_TAG_PREFIX: &str = "oi-cluster=";

/// Prefix of the tag naming the request a resource was built for.
pub const REQUEST_TAG_PREFIX: &str = "oi-request=";

/// Longest name OpenStack accepts (Octavia and Neutron `name`/`description`).
pub const MAX_NAME: usize = 255;

/// Longest name stem; leaves room for the longest child suffix.
const MAX_STEM: usize = 200;

/// Which request a load balancer is for: the consuming application and its request name.
/// Two applications asking for `api-server-external` are two different keys.
///
/// This is the identity of a load balancer (its names and tags derive from it). It has no
/// relation id on purpose: relation ids change when a relation is re-created, and the load
/// balancer must survive that (adopted by tags, never duplicated). The relation side's
/// [`crate::relation::RequestKey`] adds the relation id to say which databag to answer, and
/// derives this key from itself (`spec::LbIdentity::from(&key)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LbIdentity {
    /// The consuming Juju application (e.g. `kubernetes-control-plane`).
    pub app: String,
    /// The request name (the suffix of `request_<name>`).
    pub name: String,
}

impl LbIdentity {
    /// A key from an application and a request name.
    pub fn new(app: impl Into<String>, name: impl Into<String>) -> Self {
        LbIdentity {
            app: app.into(),
            name: name.into(),
        }
    }
}

impl From<&crate::relation::RequestKey> for LbIdentity {
    /// The load balancer a received request is for (the relation id is dropped): its names
    /// and tags derive from this.
    fn from(key: &crate::relation::RequestKey) -> Self {
        LbIdentity::new(key.app.clone(), key.name.clone())
    }
}

impl std::fmt::Display for LbIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.app, self.name)
    }
}

/// The ownership marks of one request's resources in one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    cluster_id: String,
    key: LbIdentity,
}

impl Owner {
    /// Marks for `key` in the deployment `cluster_id`.
    pub fn new(cluster_id: impl Into<String>, key: LbIdentity) -> Self {
        Owner {
            cluster_id: cluster_id.into(),
            key,
        }
    }

    /// The request these marks are for.
    pub fn key(&self) -> &LbIdentity {
        &self.key
    }

    /// The cluster id.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// The tag naming this cluster.
    pub fn cluster_tag(&self) -> String {
        cluster_tag(&self.cluster_id)
    }

    /// The tag naming this request (a digest of cluster, app and request name, so it is
    /// short, filter-safe and unique per key).
    pub fn request_tag(&self) -> String {
        request_tag(&self.cluster_id, &self.key)
    }

    /// All three tags, in a fixed order.
    pub fn tags(&self) -> Vec<String> {
        vec![
            MANAGED_TAG.to_string(),
            self.cluster_tag(),
            self.request_tag(),
        ]
    }

    /// The load balancer's name: `oi-<cluster>-<app>-<request>`, bounded; children append a
    /// suffix to it.
    pub fn stem(&self) -> String {
        let raw = format!("oi-{}-{}-{}", self.cluster_id, self.key.app, self.key.name);
        if raw.chars().count() <= MAX_STEM {
            return raw;
        }
        // Too long: keep a readable prefix and make it unique with the request digest.
        let digest = &self.request_tag()[REQUEST_TAG_PREFIX.len()..];
        let keep = MAX_STEM - digest.len() - 1;
        let prefix: String = raw.chars().take(keep).collect();
        format!("{prefix}-{digest}")
    }

    /// The name of a child object: the stem plus a short suffix (`listener-tcp-443`, …).
    pub fn child_name(&self, suffix: &str) -> String {
        bounded(&format!("{}-{}", self.stem(), suffix))
    }

    /// The description of the request's floating IP (it also proves ownership of one whose
    /// tagging was cut short).
    pub fn floating_ip_description(&self) -> String {
        self.description("Floating IP")
    }

    /// The name of the request's security group.
    pub fn security_group_name(&self) -> String {
        self.child_name("backends")
    }

    /// The description of the request's security group.
    pub fn security_group_description(&self) -> String {
        self.description("Security group opening the backends to the load balancer,")
    }

    /// A description saying what a resource is for and who owns it (≤ 255 characters).
    pub fn description(&self, what: &str) -> String {
        bounded(&format!(
            "{what} managed by octavia-integrator for request '{}' of application '{}' \
             (cluster '{}'); do not edit",
            self.key.name, self.key.app, self.cluster_id
        ))
    }
}

impl Owner {
    /// The request a resource was built for, read back from the description
    /// [`Owner::description`] wrote and confirmed by the resource's request tag; `None` when the
    /// description does not name it (cut short, or edited) or the tag disagrees.
    pub fn key_from_marks(
        cluster_id: &str,
        description: &str,
        tags: &[String],
    ) -> Option<LbIdentity> {
        let (_, rest) = description.split_once(" for request '")?;
        let (name, rest) = rest.split_once("' of application '")?;
        let (app, _) = rest.rsplit_once("' (cluster '")?;
        let key = LbIdentity::new(app, name);
        let tag = request_tag(cluster_id, &key);
        tags.contains(&tag).then_some(key)
    }
}

/// The tag naming a cluster.
pub fn cluster_tag(cluster_id: &str) -> String {
    format!("{CLUSTER_TAG_PREFIX}{}", tag_token(cluster_id))
}

/// The tag naming one request in one cluster.
pub fn request_tag(cluster_id: &str, key: &LbIdentity) -> String {
    let mut h = Md5::new();
    // Length-prefixed parts: ("a-b", "c") and ("a", "b-c") never collide.
    for part in [cluster_id, key.app.as_str(), key.name.as_str()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{REQUEST_TAG_PREFIX}{}", &hex[..24])
}

/// A value usable inside a tag: itself when short and plain, else a digest of it.
fn tag_token(value: &str) -> String {
    let plain = !value.is_empty()
        && value.len() <= 40
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if plain {
        return value.to_string();
    }
    let hex: String = Md5::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("h-{}", &hex[..24])
}

/// Cuts a string to [`MAX_NAME`] characters (on a character boundary).
fn bounded(s: &str) -> String {
    s.chars().take(MAX_NAME).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_received_request_maps_to_its_load_balancer_key() {
        let on_7 = crate::relation::RequestKey::new(7, "k8s", "api");
        let on_9 = crate::relation::RequestKey::new(9, "k8s", "api");
        let lb = LbIdentity::from(&on_7);
        assert_eq!(lb, LbIdentity::new("k8s", "api"));
        assert_eq!(lb, LbIdentity::from(&on_9));
    }

    fn owner(cluster: &str, app: &str, name: &str) -> Owner {
        Owner::new(cluster, LbIdentity::new(app, name))
    }

    #[test]
    fn the_key_is_read_back_from_description_and_tag() {
        let o = owner("demo", "kubernetes-control-plane", "api-server-external");
        let d = o.description("Load balancer");
        assert_eq!(
            Owner::key_from_marks("demo", &d, &o.tags()),
            Some(o.key().clone())
        );
        // The tag must agree: another cluster's, or none, names nobody.
        assert_eq!(Owner::key_from_marks("other", &d, &o.tags()), None);
        assert_eq!(Owner::key_from_marks("demo", &d, &[]), None);
        assert_eq!(Owner::key_from_marks("demo", "edited", &o.tags()), None);
    }

    #[test]
    fn names_are_deterministic_and_readable() {
        let o = owner("demo", "kubernetes-control-plane", "api-server-external");
        assert_eq!(
            o.stem(),
            "oi-demo-kubernetes-control-plane-api-server-external"
        );
        assert_eq!(
            o.child_name("listener-tcp-443"),
            "oi-demo-kubernetes-control-plane-api-server-external-listener-tcp-443"
        );
        assert_eq!(o.tags(), o.clone().tags());
    }

    #[test]
    fn two_apps_with_one_request_name_get_different_names_and_tags() {
        let a = owner("demo", "k8s-a", "api-server-external");
        let b = owner("demo", "k8s-b", "api-server-external");
        assert_ne!(a.stem(), b.stem());
        assert_ne!(a.request_tag(), b.request_tag());
        assert_eq!(a.cluster_tag(), b.cluster_tag());
    }

    #[test]
    fn request_tags_do_not_collide_when_separators_move() {
        let a = owner("c", "a-b", "c");
        let b = owner("c", "a", "b-c");
        assert_eq!(
            a.stem(),
            b.stem(),
            "names may collide, which is why we look up by tag"
        );
        assert_ne!(a.request_tag(), b.request_tag());
    }

    #[test]
    fn long_inputs_stay_within_limits_and_unique() {
        let long = "x".repeat(400);
        let a = owner(&long, &long, "one");
        let b = owner(&long, &long, "two");
        assert!(a.stem().chars().count() <= MAX_NAME);
        assert!(a.child_name("listener-https-65535").chars().count() <= MAX_NAME);
        assert!(a.description("Load balancer").chars().count() <= MAX_NAME);
        assert_ne!(a.stem(), b.stem());
        for tag in a.tags() {
            assert!(tag.len() < 60, "{tag}");
        }
    }

    #[test]
    fn tags_are_filter_safe() {
        let o = owner("my cluster, with/slash", "app", "név,/x");
        for tag in o.tags() {
            assert!(
                tag.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._=-".contains(c)),
                "{tag}"
            );
        }
        // A plain cluster id stays readable.
        assert_eq!(cluster_tag("demo-1"), "oi-cluster=demo-1");
    }

    #[test]
    fn multibyte_names_are_cut_on_character_boundaries() {
        let o = owner("c", "app", &"é".repeat(300));
        let stem = o.stem();
        assert!(stem.chars().count() <= MAX_NAME);
        assert!(o.description("Floating IP").chars().count() <= MAX_NAME);
    }
}
