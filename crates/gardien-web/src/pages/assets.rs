//! Static files, embedded in the binary: nothing is fetched at run time.
//!
//! Pages link the stylesheet as `/static/gardien.css?v=<hash>`: with the
//! current hash it is cached for a year, otherwise revalidated by ETag.

use std::sync::LazyLock;

use axum::extract::RawQuery;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

pub const STYLESHEET_PATH: &str = "/static/gardien.css";
pub const ICON_PATH: &str = "/static/favicon.svg";

const STYLESHEET: &str = include_str!("../../static/gardien.css");
const ICON: &str = include_str!("../../static/favicon.svg");

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "public, no-cache";

struct Asset {
    body: &'static str,
    content_type: &'static str,
    version: String,
    etag: String,
}

impl Asset {
    fn new(body: &'static str, content_type: &'static str) -> Self {
        let digest = Sha256::digest(body.as_bytes());
        let version: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let etag = format!("\"{version}\"");
        Self {
            body,
            content_type,
            version,
            etag,
        }
    }

    fn respond(&self, query: Option<&str>, headers: &HeaderMap) -> Response {
        let versioned = query.is_some_and(|q| q == format!("v={}", self.version));
        let cache = if versioned { IMMUTABLE } else { REVALIDATE };
        let etag = HeaderValue::from_str(&self.etag).unwrap_or(HeaderValue::from_static("\"\""));
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|tag| tag.trim() == self.etag));
        let common = [
            (header::ETAG, etag),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ];
        if fresh {
            return (StatusCode::NOT_MODIFIED, common).into_response();
        }
        let content_type = HeaderValue::from_static(self.content_type);
        (common, [(header::CONTENT_TYPE, content_type)], self.body).into_response()
    }
}

static STYLESHEET_ASSET: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(STYLESHEET, "text/css; charset=utf-8"));
static STYLESHEET_HREF: LazyLock<String> =
    LazyLock::new(|| format!("{STYLESHEET_PATH}?v={}", STYLESHEET_ASSET.version));
static ICON_ASSET: LazyLock<Asset> = LazyLock::new(|| Asset::new(ICON, "image/svg+xml"));

/// The stylesheet URL pages link to.
pub fn stylesheet_href() -> &'static str {
    &STYLESHEET_HREF
}

pub(super) async fn stylesheet(RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    STYLESHEET_ASSET.respond(query.as_deref(), &headers)
}

pub(super) async fn icon(RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    ICON_ASSET.respond(query.as_deref(), &headers)
}
