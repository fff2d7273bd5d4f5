//! Settings → the `openstack` crate's [`openstack::session::SessionConfig`]. The CA bundle
//! file is read here.

use openstack::session as os;

use super::credentials::{CaBundle, CloudSettings};
use super::file::read_text;
use super::{ConfigError, Settings};

impl Settings {
    /// The session configuration for the cloud these settings name (defaults for retries and
    /// timeouts). Reads the CA bundle file, if any; its errors name the file.
    pub fn session_config(&self) -> Result<os::SessionConfig, ConfigError> {
        self.cloud.session_config()
    }
}

impl CloudSettings {
    /// See [`Settings::session_config`].
    pub fn session_config(&self) -> Result<os::SessionConfig, ConfigError> {
        let mut config = os::SessionConfig::new(self.auth_url.clone(), self.auth.clone());
        config.scope = self.scope.clone();
        config.region = self.region.clone();
        config.interface = self.interface;
        config.insecure = self.insecure;
        config.ca_bundle_pem = match &self.ca {
            None => None,
            Some(ca) => Some(ca_pem(ca)?.into_bytes()),
        };
        Ok(config)
    }
}

/// The PEM text of a CA bundle, checked to hold at least one certificate.
fn ca_pem(ca: &CaBundle) -> Result<String, ConfigError> {
    let (origin, pem) = match ca {
        CaBundle::File(path) => {
            let file = read_text(
                "CA bundle",
                path,
                "fix [cloud] ca_file (or OS_CACERT / cacert in clouds.yaml)",
            )?;
            (format!("CA bundle {}", path.display()), file.text)
        }
        CaBundle::Pem { origin, pem } => (origin.clone(), pem.clone()),
    };
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(ConfigError::Syntax {
            origin,
            format: "PEM",
            message: "no `-----BEGIN CERTIFICATE-----` block found: give PEM certificates".into(),
        });
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::{ExposeSecret, SecretString};
    use std::os::unix::fs::PermissionsExt;

    fn cloud(
        auth: os::Credentials,
        scope: Option<os::Scope>,
        ca: Option<CaBundle>,
    ) -> CloudSettings {
        CloudSettings {
            auth_url: "https://k:5000/v3".into(),
            auth,
            scope,
            region: Some("R1".into()),
            interface: os::Interface::Internal,
            ca,
            insecure: false,
            source: "test".into(),
        }
    }

    #[test]
    fn the_session_gets_what_the_settings_resolved() {
        let c = cloud(
            os::Credentials::Password {
                user: os::UserRef::Name {
                    name: "u".into(),
                    domain: os::DomainRef::Name("D".into()),
                },
                password: SecretString::from("pw"),
            },
            Some(os::Scope::ProjectName {
                name: "p".into(),
                domain: os::DomainRef::Id("default".into()),
            }),
            None,
        );
        let s = c.session_config().unwrap();
        assert_eq!(s.auth_url, "https://k:5000/v3");
        assert_eq!(s.region.as_deref(), Some("R1"));
        assert_eq!(s.interface, os::Interface::Internal);
        assert_eq!(s.scope, c.scope);
        match s.credentials {
            os::Credentials::Password { password, .. } => {
                assert_eq!(password.expose_secret(), "pw");
            }
            other => panic!("{other:?}"),
        }
        assert!(s.ca_bundle_pem.is_none());
    }

    #[test]
    fn ca_file_is_read_and_errors_name_it() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("ca.pem");
        std::fs::write(
            &good,
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o644)).unwrap();
        let token = || os::Credentials::Token {
            token: SecretString::from("t"),
        };
        let s = cloud(
            token(),
            Some(os::Scope::DomainId("d".into())),
            Some(CaBundle::File(good)),
        )
        .session_config()
        .unwrap();
        assert!(String::from_utf8(s.ca_bundle_pem.unwrap())
            .unwrap()
            .contains("MIIB"));
        assert_eq!(s.scope, Some(os::Scope::DomainId("d".into())));

        let missing = dir.path().join("missing.pem");
        let err = cloud(token(), None, Some(CaBundle::File(missing.clone())))
            .session_config()
            .unwrap_err()
            .to_string();
        assert!(err.contains(&missing.display().to_string()), "{err}");
        assert!(err.contains("CA bundle"), "{err}");

        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "hello").unwrap();
        let err = cloud(token(), None, Some(CaBundle::File(junk.clone())))
            .session_config()
            .unwrap_err()
            .to_string();
        assert!(err.contains(&junk.display().to_string()), "{err}");
    }
}
