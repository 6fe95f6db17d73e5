//! Where a request comes from (client address, user agent, request id), as
//! the [`RequestContext`] the service layer writes into audit events.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use gardien_core::audit::RequestContext;

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

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip().to_string());
        Ok(Self(RequestContext {
            ip,
            user_agent: header_text(&parts.headers, header::USER_AGENT),
            request_id: header_text(&parts.headers, "x-request-id"),
        }))
    }
}
