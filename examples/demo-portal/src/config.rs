//! The portal's configuration: where it listens, the address people reach
//! it at, and how it reaches Gardien — read from the file `gardien serve
//! --demo` writes (`DATA_DIR/demo-portal.json`).

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

/// How the portal reaches Gardien.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GardienLink {
    /// Gardien's public URL: the OpenID Connect issuer and the API's base.
    pub issuer: String,
    /// The address Gardien registered for the portal (`…/callback`).
    #[serde(default)]
    pub portal_url: Option<String>,
    pub client_id: String,
    pub client_secret: String,
    /// A deployment-wide key for the check API.
    pub api_key: String,
}

#[derive(Debug, Clone)]
pub struct PortalConfig {
    pub listen: SocketAddr,
    /// The portal's own base URL, without a trailing slash.
    pub public_url: String,
    pub gardien: GardienLink,
}

/// A configuration mistake, said with how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl PortalConfig {
    /// Reads Gardien's file; the public URL is `public_url`, else the one
    /// Gardien registered, else `http://LISTEN`.
    pub fn from_file(
        path: &Path,
        listen: &str,
        public_url: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(format!(
                "cannot read {} ({e}): start Gardien with `gardien serve --demo` first, or give --gardien-config",
                path.display()
            ))
        })?;
        let gardien: GardienLink = serde_json::from_str(&text).map_err(|e| {
            ConfigError(format!(
                "{} is not Gardien's demo file: {e}",
                path.display()
            ))
        })?;
        Self::new(gardien, listen, public_url)
    }

    pub fn new(
        gardien: GardienLink,
        listen: &str,
        public_url: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let listen: SocketAddr = listen.parse().map_err(|_| {
            ConfigError(format!(
                "the listen address '{listen}' is not valid: give an IP address and a port, such as 127.0.0.1:8090"
            ))
        })?;
        if gardien.client_id.is_empty() {
            return Err(ConfigError(
                "Gardien's demo file has no OpenID Connect client: this Gardien has no OpenID Connect provider".into(),
            ));
        }
        let public_url = public_url
            .map(str::to_owned)
            .or_else(|| gardien.portal_url.clone())
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError(format!(
                "the public URL '{public_url}' must start with http:// or https://"
            )));
        }
        Ok(Self {
            listen,
            public_url,
            gardien,
        })
    }

    /// Cookies are `Secure` when people reach the portal over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> GardienLink {
        GardienLink {
            issuer: "http://127.0.0.1:8080".into(),
            portal_url: Some("http://127.0.0.1:8090/".into()),
            client_id: "client".into(),
            client_secret: "secret".into(),
            api_key: "gk_key".into(),
        }
    }

    #[test]
    fn the_public_url_is_the_registered_one_unless_given() {
        let config = PortalConfig::new(link(), "127.0.0.1:8090", None).unwrap();
        assert_eq!(config.public_url, "http://127.0.0.1:8090");
        assert!(!config.secure_cookies());
        let given =
            PortalConfig::new(link(), "0.0.0.0:8090", Some("https://portal.example.com")).unwrap();
        assert_eq!(given.public_url, "https://portal.example.com");
        assert!(given.secure_cookies());
        let bare = GardienLink {
            portal_url: None,
            ..link()
        };
        let config = PortalConfig::new(bare, "127.0.0.1:9000", None).unwrap();
        assert_eq!(config.public_url, "http://127.0.0.1:9000");
    }

    #[test]
    fn mistakes_say_what_to_do() {
        let err = PortalConfig::new(link(), "localhost", None).unwrap_err();
        assert!(err.0.contains("127.0.0.1:8090"), "{err}");
        let err = PortalConfig::from_file(
            Path::new("/nonexistent/demo-portal.json"),
            "127.0.0.1:8090",
            None,
        )
        .unwrap_err();
        assert!(err.0.contains("--demo"), "{err}");
        let no_client = GardienLink {
            client_id: String::new(),
            ..link()
        };
        assert!(PortalConfig::new(no_client, "127.0.0.1:8090", None).is_err());
    }

    #[test]
    fn gardiens_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo-portal.json");
        std::fs::write(
            &path,
            r#"{"issuer":"http://127.0.0.1:8080","portal_url":"http://127.0.0.1:8090","client_id":"c","client_secret":"s","api_key":"gk_k"}"#,
        )
        .unwrap();
        let config = PortalConfig::from_file(&path, "127.0.0.1:8090", None).unwrap();
        assert_eq!(config.gardien.api_key, "gk_k");
    }
}
