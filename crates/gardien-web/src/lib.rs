//! Gardien's HTTP layer: the axum router, its tower layers (request ids,
//! tracing, security headers, timeouts, CSRF, language), the JSON API under
//! `/api/v1` with its OpenAPI document, and the server-rendered pages.
//!
//! Start at [`router`]; errors become responses in [`error`] only.

pub mod api;
mod consent;
mod context;
pub mod csrf;
pub mod error;
pub mod i18n;
mod middleware;
mod oidc;
pub mod pages;
pub mod rate_limit;
pub mod session;
mod state;

pub use error::{ApiError, Problem, ProblemFieldError};
pub use i18n::{Lang, Translator};
pub use middleware::REQUEST_TIMEOUT;
pub use state::{AppState, WebSettings};

use axum::Router;

/// The whole HTTP service: every route, wrapped in the layers every response
/// goes through (see [`middleware::apply`] for their order and why).
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(oidc::browser_routes())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed);
    let checks = middleware::apply_lean(
        api::checks::key_routes().merge(oidc::back_channel_routes()),
        state.clone(),
    );
    checks
        .merge(middleware::apply(routes, state.clone()))
        .with_state(state)
}
