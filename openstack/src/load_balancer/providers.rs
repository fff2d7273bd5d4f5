//! Octavia providers: `/v2/lbaas/providers`.

use reqwest::Method;
use serde::Deserialize;

use super::wire::null_default;
use crate::error::Error;
use crate::session::{Call, ServiceType, Session};

/// A provider driver enabled in the cloud (`amphora`, `ovn`, the alias `octavia`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Provider {
    /// Driver name, as given in `provider` on create.
    pub name: String,
    /// Human description.
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
}

#[derive(Deserialize)]
struct Providers {
    #[serde(default, deserialize_with = "null_default")]
    providers: Vec<Provider>,
}

fn collection() -> &'static str {
    "lbaas/providers"
}

/// `GET /lbaas/providers` → 200 (not paginated).
///
/// # Errors
/// Transport, auth or decode errors.
pub async fn list(session: &Session) -> Result<Vec<Provider>, Error> {
    let call = Call::new(ServiceType::LoadBalancer, Method::GET, collection(), &[200]);
    Ok(session.send(call).await?.json::<Providers>()?.providers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path() {
        assert_eq!(collection(), "lbaas/providers");
    }
}
