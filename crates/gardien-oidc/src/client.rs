//! What a registered client may be: its redirect URIs, checked once at
//! registration and then matched exactly (OAuth 2.1 §2.3.1: no wildcards,
//! no prefix matching).

use url::Url;

/// How many redirect URIs of each list a client may register.
pub const MAX_REDIRECT_URIS: usize = 10;
/// How long a client's name may be.
pub const NAME_MAX: usize = 100;

/// Whether a client holds a secret (a server-side application) or cannot
/// (a single-page or native application, which must use PKCE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Confidential,
    Public,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "confidential" => Some(Self::Confidential),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

/// Checks a redirect URI a client registers: absolute, without fragment,
/// `https`, or `http` only on a loopback host (RFC 8252 §7.3, for local
/// development), or a private-use scheme with a dot (RFC 8252 §7.1, native
/// applications). Returns the URI as it will be matched, or why not.
pub fn redirect_uri(input: &str) -> Result<String, String> {
    let input = input.trim();
    let url = Url::parse(input).map_err(|e| format!("{input:?} is not an absolute URI ({e})"))?;
    if url.fragment().is_some() {
        return Err(format!(
            "{input:?} has a fragment (#…), which a redirect URI may not have"
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(domain)) => domain == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback {
                return Err(format!(
                    "{input:?} uses http on a host that is not loopback: use https"
                ));
            }
        }
        scheme if scheme.contains('.') => {}
        scheme => {
            return Err(format!(
                "{input:?}: scheme {scheme:?} is neither https, loopback http nor a private-use scheme (reverse domain name)"
            ))
        }
    }
    Ok(input.to_owned())
}

/// Adds query parameters to a registered redirect URI, keeping its own.
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    match Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in pairs {
                    query.append_pair(name, value);
                }
            }
            url.to_string()
        }
        // Registered URIs were parsed at registration; keep a usable answer anyway.
        Err(_) => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_are_accepted() {
        assert!(redirect_uri("https://portal.example/callback").is_ok());
        assert!(redirect_uri("http://127.0.0.1:8090/callback").is_ok());
        assert!(redirect_uri("http://localhost/cb").is_ok());
        assert!(redirect_uri("http://[::1]:9000/cb").is_ok());
        assert!(redirect_uri("com.example.app:/oauth").is_ok());
    }

    #[test]
    fn unsafe_redirect_uris_are_refused_with_a_reason() {
        assert!(redirect_uri("http://portal.example/cb")
            .unwrap_err()
            .contains("https"));
        assert!(redirect_uri("https://portal.example/cb#x")
            .unwrap_err()
            .contains("fragment"));
        assert!(redirect_uri("/callback").unwrap_err().contains("absolute"));
        assert!(redirect_uri("javascript:alert(1)").is_err());
    }

    #[test]
    fn query_parameters_are_appended_encoded() {
        assert_eq!(
            with_query(
                "https://p.example/cb?x=1",
                &[("code", "a b"), ("state", "s&t")]
            ),
            "https://p.example/cb?x=1&code=a+b&state=s%26t"
        );
    }
}
