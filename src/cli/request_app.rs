//! Which application a hand-run `remove` or `plan` means when `--app` is not given: the one
//! that has a request of that name in the store or a load balancer of it in the cloud.

use std::collections::BTreeSet;

use crate::cli::apply::DEFAULT_APP;
use crate::config::Settings;
use crate::reconcile::Reconciler;
use crate::store::Store;

/// What the search for the owner of a request name found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// `--app` was given, or exactly one application has the request.
    One(String),
    /// No application has a request of that name (neither stored nor built).
    None,
    /// Several applications have one: the operator must say which.
    Several(BTreeSet<String>),
}

impl Owner {
    /// The application to use, or [`DEFAULT_APP`] when nothing is known of the name (a new
    /// hand-made request).
    pub fn or_default(self) -> Result<String, BTreeSet<String>> {
        match self {
            Owner::One(app) => Ok(app),
            Owner::None => Ok(DEFAULT_APP.to_string()),
            Owner::Several(apps) => Err(apps),
        }
    }
}

/// The application `given`, else the one the store and the cloud know for `name`.
///
/// # Errors
/// A message when the store cannot be read or the cloud cannot be listed.
pub async fn find(
    given: Option<&str>,
    name: &str,
    settings: &Settings,
    rec: &Reconciler,
) -> Result<Owner, String> {
    if let Some(app) = given {
        return Ok(Owner::One(app.to_string()));
    }
    let doc = Store::peek(&settings.daemon.state_file).map_err(|e| e.to_string())?;
    let mut apps: BTreeSet<String> = doc
        .entries
        .keys()
        .chain(doc.removals.keys())
        .filter(|k| k.name == name)
        .map(|k| k.app.clone())
        .collect();
    let built = rec.apps_with_request(name).await.map_err(|e| {
        format!("cannot list the load balancers to find which application has request {name}: {e}; pass --app APP")
    })?;
    apps.extend(built);
    Ok(decide(apps))
}

fn decide(apps: BTreeSet<String>) -> Owner {
    match apps.len() {
        0 => Owner::None,
        1 => Owner::One(apps.into_iter().next().expect("one")),
        _ => Owner::Several(apps),
    }
}

/// The refusal for several owners: name them and the flag to pick one.
pub fn several(name: &str, apps: &BTreeSet<String>) -> String {
    let list: Vec<&str> = apps.iter().map(String::as_str).collect();
    format!(
        "several applications have a request named {name}: {}; say which with --app APP",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_owner_is_used_none_is_the_default_several_are_refused() {
        assert_eq!(decide(BTreeSet::new()).or_default(), Ok("manual".into()));
        let one = BTreeSet::from(["kcp".to_string()]);
        assert_eq!(decide(one).or_default(), Ok("kcp".into()));
        let two = BTreeSet::from(["a".to_string(), "b".to_string()]);
        let apps = decide(two.clone()).or_default().unwrap_err();
        assert_eq!(apps, two);
        assert_eq!(
            several("api", &apps),
            "several applications have a request named api: a, b; say which with --app APP"
        );
    }
}
