//! Where a request comes from (client address, user agent, request id), as
//! the [`RequestContext`] the service layer writes into audit events.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use gardien_core::audit::RequestContext;
use ipnet::IpNet;

use crate::state::AppState;

/// An extractor wrapping [`RequestContext`].
#[derive(Debug, Clone, Default)]
pub struct Origin(pub RequestContext);

/// At most this many characters of a header are kept in the audit trail.
const MAX_HEADER_CHARS: usize = 512;

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.chars().take(MAX_HEADER_CHARS).collect())
}

impl FromRequestParts<AppState> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| {
                client_ip(
                    address.ip(),
                    &parts.headers,
                    &state.settings.trusted_proxies,
                )
                .to_string()
            });
        Ok(Self(RequestContext {
            ip,
            user_agent: header_text(&parts.headers, header::USER_AGENT),
            request_id: header_text(&parts.headers, "x-request-id"),
        }))
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy;
/// then the nearest address of `X-Forwarded-For` that is not a trusted proxy
/// (read from the right: what is left of it, the client could have written).
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // A hop we cannot read: stop at what we can vouch for.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in xff {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let h = headers(&["203.0.113.9"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &[]), ip("10.0.0.5"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let h = headers(&["203.0.113.9"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &trusted), ip("203.0.113.9"));
        // Chains of trusted proxies are walked from the right.
        let h = headers(&["203.0.113.9, 10.1.2.3"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &trusted), ip("203.0.113.9"));
        let h = headers(&["203.0.113.9", "10.1.2.3"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn what_the_client_wrote_is_not_believed() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        // The client sent "1.2.3.4" itself; the proxy appended the real peer.
        let h = headers(&["1.2.3.4, 198.51.100.7"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &trusted), ip("198.51.100.7"));
        // An untrusted peer's header is ignored entirely.
        assert_eq!(
            client_ip(ip("198.51.100.7"), &h, &trusted),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last address vouched for.
        let h = headers(&["1.2.3.4, garbage"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &trusted), ip("10.0.0.5"));
    }
}
