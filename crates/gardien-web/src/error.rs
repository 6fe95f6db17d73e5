//! The one error type of the web layer, and the one place errors become
//! responses.
//!
//! Handlers and extractors return [`ApiError`]. Its `IntoResponse` gives a
//! plain English problem and tags the response; the [`render`] middleware,
//! which knows the request's language, path and id, then writes the final
//! answer: RFC 9457 problem JSON for `/api`, the probes and JSON clients, an
//! HTML page for people. Error statuses the framework produces on its own
//! (extractor rejections, timeouts) are rendered the same way.

use std::fmt;

use askama::Template;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use gardien_core::membership::LifecycleError;
use gardien_core::ValidationError;
use gardien_service::ServiceError;
use gardien_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::csrf::CsrfReason;
use crate::i18n::{Lang, Translator};
use crate::pages::PageContext;

/// Problem types are relative URIs `/problems/<code>`: stable, and resolvable
/// against the deployment should it one day document them.
pub const PROBLEM_TYPE_PREFIX: &str = "/problems/";
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An error a handler returns; see the module documentation.
#[derive(Debug, Clone)]
pub struct ApiError {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Described by its status alone (not found, conflict, unavailable, …).
    Status(StatusCode),
    /// A status with its own problem type and messages
    /// (`problem-<code>-title`, `problem-<code>-detail`).
    Specific {
        status: StatusCode,
        code: &'static str,
    },
    Validation(Vec<FieldIssue>),
    Csrf(CsrfReason),
    /// Too many attempts (see `crate::rate_limit`): 429 with `Retry-After`.
    RateLimited {
        retry_after_seconds: u64,
    },
    /// The framework refused the request body; `detail` is its (English) reason.
    Malformed {
        status: StatusCode,
        detail: String,
    },
}

#[derive(Debug, Clone)]
struct FieldIssue {
    field: Option<String>,
    error: ValidationError,
}

impl ApiError {
    pub fn not_found() -> Self {
        Self::from_status(StatusCode::NOT_FOUND)
    }
    pub fn method_not_allowed() -> Self {
        Self::from_status(StatusCode::METHOD_NOT_ALLOWED)
    }
    pub fn bad_request() -> Self {
        Self::from_status(StatusCode::BAD_REQUEST)
    }
    pub fn unauthorized() -> Self {
        Self::from_status(StatusCode::UNAUTHORIZED)
    }
    pub fn forbidden() -> Self {
        Self::from_status(StatusCode::FORBIDDEN)
    }
    pub fn conflict() -> Self {
        Self::from_status(StatusCode::CONFLICT)
    }
    pub fn body_too_large() -> Self {
        Self::from_status(StatusCode::PAYLOAD_TOO_LARGE)
    }
    pub fn unavailable() -> Self {
        Self::from_status(StatusCode::SERVICE_UNAVAILABLE)
    }
    /// A bug or an outage; the cause belongs in the log, never in the answer.
    pub fn internal() -> Self {
        Self::from_status(StatusCode::INTERNAL_SERVER_ERROR)
    }
    /// An error described by its status alone (any 4xx or 5xx).
    pub fn from_status(status: StatusCode) -> Self {
        Self {
            kind: Kind::Status(status),
        }
    }
    /// One invalid input value, named by its form or JSON field.
    pub fn validation(field: impl Into<String>, error: ValidationError) -> Self {
        Self::validations([(field.into(), error)])
    }
    /// Several invalid input values at once (a whole form).
    pub fn validations(errors: impl IntoIterator<Item = (String, ValidationError)>) -> Self {
        let issues = errors
            .into_iter()
            .map(|(field, error)| FieldIssue {
                field: Some(field),
                error,
            })
            .collect();
        Self {
            kind: Kind::Validation(issues),
        }
    }
    /// A status with its own problem type `/problems/<code>` and messages
    /// (`problem-<code>-title`, `problem-<code>-detail`).
    pub fn specific(status: StatusCode, code: &'static str) -> Self {
        Self {
            kind: Kind::Specific { status, code },
        }
    }

    /// A request body the framework could not read (malformed JSON or form).
    pub fn malformed(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: Kind::Malformed {
                status,
                detail: detail.into(),
            },
        }
    }
    /// The privacy policy must be accepted first (`POST /api/v1/me/consent`).
    pub fn consent_required() -> Self {
        Self::specific(StatusCode::FORBIDDEN, "consent-required")
    }
    /// Too many attempts: try again in `retry_after_seconds`.
    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        Self {
            kind: Kind::RateLimited {
                retry_after_seconds,
            },
        }
    }
    /// The seconds to wait, for a rate-limited request.
    pub fn retry_after(&self) -> Option<u64> {
        match self.kind {
            Kind::RateLimited {
                retry_after_seconds,
            } => Some(retry_after_seconds),
            // Overload or a busy database: worth sending again shortly.
            Kind::Status(StatusCode::SERVICE_UNAVAILABLE) => Some(1),
            _ => None,
        }
    }
    /// Tells the client when to try again, for the errors that have a time.
    fn set_retry_after(&self, headers: &mut axum::http::HeaderMap) {
        if let Some(seconds) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    pub(crate) fn csrf(reason: CsrfReason) -> Self {
        Self {
            kind: Kind::Csrf(reason),
        }
    }

    pub fn status(&self) -> StatusCode {
        match &self.kind {
            Kind::Status(status)
            | Kind::Malformed { status, .. }
            | Kind::Specific { status, .. } => *status,
            Kind::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::Csrf(_) => StatusCode::FORBIDDEN,
            Kind::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The stable code: the last segment of the problem `type`.
    pub fn code(&self) -> &'static str {
        match &self.kind {
            Kind::Validation(_) => "validation",
            Kind::Csrf(_) => "csrf",
            Kind::Specific { code, .. } => code,
            Kind::Status(status) | Kind::Malformed { status, .. } => status_code(*status),
            Kind::RateLimited { .. } => "too-many-requests",
        }
    }

    /// The problem document in the language of `t`.
    pub fn to_problem(&self, t: &Translator, request_id: Option<&str>) -> Problem {
        let code = self.code();
        let title = t.get(&format!("problem-{code}-title"));
        let detail = match &self.kind {
            Kind::Csrf(reason) => t.get(reason.message_key()),
            Kind::Malformed { detail, .. } => detail.clone(),
            Kind::RateLimited {
                retry_after_seconds,
            } => t.arg(
                "problem-too-many-requests-retry-detail",
                "seconds",
                retry_after_seconds,
            ),
            Kind::Status(_) | Kind::Validation(_) | Kind::Specific { .. } => {
                t.get(&format!("problem-{code}-detail"))
            }
        };
        let errors = match &self.kind {
            Kind::Validation(issues) => issues
                .iter()
                .map(|issue| ProblemFieldError {
                    field: issue.field.clone(),
                    code: issue.error.code().to_owned(),
                    message: validation_message(t, &issue.error),
                })
                .collect(),
            _ => Vec::new(),
        };
        Problem {
            problem_type: format!("{PROBLEM_TYPE_PREFIX}{code}"),
            title,
            status: self.status().as_u16(),
            detail: Some(detail),
            instance: request_id.map(|id| format!("urn:gardien:request:{id}")),
            request_id: request_id.map(str::to_owned),
            errors,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.status())
    }
}

impl std::error::Error for ApiError {}

/// The field a core validation error is about, when it says so itself.
fn field_of(error: &ValidationError) -> Option<String> {
    match error {
        ValidationError::EmailEmpty
        | ValidationError::EmailTooLong
        | ValidationError::EmailMissingAt
        | ValidationError::EmailLocalPart(_)
        | ValidationError::EmailDomain(_) => Some("email".into()),
        ValidationError::Empty { field }
        | ValidationError::TooLong { field, .. }
        | ValidationError::ControlCharacters { field }
        | ValidationError::TooManyLines { field, .. } => Some((*field).into()),
        ValidationError::PermissionKey(_) => Some("permission".into()),
        ValidationError::PasswordTooShort { .. }
        | ValidationError::PasswordTooLong { .. }
        | ValidationError::PasswordContainsEmail
        | ValidationError::PasswordCommon => Some("password".into()),
        ValidationError::CurrentPasswordWrong => Some("current_password".into()),
        ValidationError::NotificationEmailIsLoginEmail => Some("notification_email".into()),
        ValidationError::SameAsLoginEmail => Some("new_email".into()),
        ValidationError::PhoneNumber => Some("phone".into()),
        ValidationError::VatNumber => Some("vat_number".into()),
        ValidationError::RegistrationNumber => Some("registration_number".into()),
        ValidationError::WebhookUrl(_) => Some("url".into()),
        ValidationError::UnknownValue(..)
        | ValidationError::RedirectUri(_)
        | ValidationError::ResourceType(_)
        | ValidationError::MalformedToken => None,
    }
}

impl From<ValidationError> for ApiError {
    /// Prefer [`ApiError::validation`], which names the field of the request.
    fn from(error: ValidationError) -> Self {
        let field = field_of(&error);
        Self {
            kind: Kind::Validation(vec![FieldIssue { field, error }]),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(errors) => Self::validations(
                errors
                    .into_iter()
                    .map(|(field, error)| (field.to_owned(), error)),
            ),
            ServiceError::LinkUnusable => Self::from_status(StatusCode::GONE),
            ServiceError::LoginFailed => Self {
                kind: Kind::Specific {
                    status: StatusCode::UNAUTHORIZED,
                    code: "login-failed",
                },
            },
            ServiceError::Unauthenticated => Self::unauthorized(),
            ServiceError::NotAMember => Self::forbidden(),
            ServiceError::Hashing(reason) => {
                tracing::error!(%reason, "password hashing failed");
                Self::internal()
            }
            ServiceError::Forbidden => Self::forbidden(),
            ServiceError::NotFound => Self::not_found(),
            ServiceError::AlreadyInOrganization => {
                Self::specific(StatusCode::CONFLICT, "already-in-organization")
            }
            ServiceError::Lifecycle(LifecycleError::LastAdministrator) => {
                Self::specific(StatusCode::CONFLICT, "last-administrator")
            }
            ServiceError::Lifecycle(LifecycleError::OwnerMustHandOver) => {
                Self::specific(StatusCode::CONFLICT, "owner-must-hand-over")
            }
            ServiceError::NotOwner => Self::specific(StatusCode::FORBIDDEN, "not-owner"),
            ServiceError::DeploymentKeyRequired => {
                Self::specific(StatusCode::FORBIDDEN, "deployment-key-required")
            }
            ServiceError::Lifecycle(LifecycleError::IllegalMove { .. }) => {
                Self::specific(StatusCode::CONFLICT, "illegal-status-change")
            }
            ServiceError::WrongAccount => Self::specific(StatusCode::FORBIDDEN, "wrong-account"),
            ServiceError::EmailNotVerified => {
                Self::specific(StatusCode::FORBIDDEN, "email-not-verified")
            }
            ServiceError::LoginRequired => {
                Self::specific(StatusCode::UNAUTHORIZED, "login-required")
            }
            ServiceError::UnknownPermission { key, valid } => Self::malformed(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "'{key}' is not a permission of the catalog; valid permissions: {}",
                    valid.join(", ")
                ),
            ),
            ServiceError::InvalidItems(errors) => Self::validations(errors),
            ServiceError::TooManyItems { max } => Self::malformed(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("a call holds at most {max} items: split it"),
            ),
            ServiceError::BatchTooLarge { max } => Self::malformed(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("a batch holds at most {max} checks: split it"),
            ),
            ServiceError::IndexOutOfDate => Self::unavailable(),
            ServiceError::Internal(reason) => {
                tracing::error!(%reason, "internal failure");
                Self::internal()
            }
            ServiceError::Role(error) => role_error(error),
            ServiceError::ImportFile(error) => {
                let status = match error {
                    gardien_service::ImportFileError::TooLarge { .. } => {
                        StatusCode::PAYLOAD_TOO_LARGE
                    }
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                Self::specific(status, error.code())
            }
            ServiceError::MemberNotActive => {
                Self::specific(StatusCode::CONFLICT, "member-not-active")
            }
            ServiceError::EmailTaken => Self::specific(StatusCode::CONFLICT, "email-taken"),
            ServiceError::Store(error) => error.into(),
        }
    }
}

/// A refused role change (flow 9).
fn role_error(error: gardien_core::role::RoleError) -> ApiError {
    use gardien_core::role::RoleError;
    match error {
        RoleError::NameTaken => ApiError::specific(StatusCode::CONFLICT, "role-name-taken"),
        RoleError::BuiltIn => ApiError::specific(StatusCode::CONFLICT, "role-built-in"),
        RoleError::InUse { .. } => ApiError::specific(StatusCode::CONFLICT, "role-in-use"),
        RoleError::ReplacementIsTheRole => ApiError::validation(
            "replacement",
            ValidationError::UnknownValue(
                "the role being deleted".into(),
                "another role of this organization",
            ),
        ),
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { constraint } => {
                tracing::debug!(constraint, "store conflict");
                Self::conflict()
            }
            StoreError::NotFound(what) => {
                tracing::debug!(what, "store: not found");
                Self::not_found()
            }
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "store unavailable");
                Self::unavailable()
            }
            other => {
                tracing::error!(error = %other, "store error");
                Self::internal()
            }
        }
    }
}

impl From<askama::Error> for ApiError {
    fn from(error: askama::Error) -> Self {
        tracing::error!(%error, "template rendering failed");
        Self::internal()
    }
}

impl From<axum::extract::rejection::FormRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::FormRejection) -> Self {
        Self::malformed(rejection.status(), rejection.body_text())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        Self::malformed(rejection.status(), rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A complete answer even without the `render` layer, which redoes it
        // in the request's language.
        let problem = self.to_problem(&Translator::new(Default::default()), None);
        let mut response = problem_response(&problem);
        *response.status_mut() = self.status();
        self.set_retry_after(response.headers_mut());
        response.extensions_mut().insert(self);
        response
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation",
    "title": "Some values are not valid",
    "status": 422,
    "detail": "Correct the fields listed in errors and try again.",
    "instance": "urn:gardien:request:5f0c…",
    "request_id": "5f0c…",
    "errors": [{"field": "email", "code": "email-missing-at", "message": "The email address needs an @ between a name and a domain, such as ana@example.com."}]
}))]
pub struct Problem {
    /// `/problems/<code>`, stable across versions and languages.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short, localized summary of the problem type.
    pub title: String,
    pub status: u16,
    /// A localized explanation of this occurrence and what to do.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
    /// `urn:gardien:request:<request id>`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub instance: Option<String>,
    /// The `x-request-id` of the request, to quote to an operator.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
    /// For validation problems: each invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<ProblemFieldError>,
}

/// One invalid field of a validation problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProblemFieldError {
    /// The form or JSON field, when known.
    pub field: Option<String>,
    /// A stable code, such as `email-missing-at` or `too-long`.
    pub code: String,
    /// A localized message to show next to the field.
    pub message: String,
}

/// The localized message for a core validation error (for API problems and
/// for messages next to form fields).
pub fn validation_message(t: &Translator, error: &ValidationError) -> String {
    let key = format!("validation-{}", error.code());
    match error {
        ValidationError::TooLong { max, .. }
        | ValidationError::PasswordTooLong { max }
        | ValidationError::TooManyLines { max, .. } => {
            t.get_with(&key, &[("max", max.to_string())])
        }
        ValidationError::PasswordTooShort { min } => t.get_with(&key, &[("min", min.to_string())]),
        ValidationError::PermissionKey(value)
        | ValidationError::UnknownValue(value, _)
        | ValidationError::WebhookUrl(value)
        | ValidationError::ResourceType(value) => t.get_with(&key, &[("value", value.clone())]),
        ValidationError::RedirectUri(reason) => t.get_with(&key, &[("reason", reason.clone())]),
        _ => t.get(&key),
    }
}

fn status_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not-found",
        405 => "method-not-allowed",
        408 | 504 => "timeout",
        409 => "conflict",
        410 => "gone",
        413 => "body-too-large",
        415 => "unsupported-media-type",
        422 => "unprocessable",
        429 => "too-many-requests",
        503 => "unavailable",
        400..=499 => "bad-request",
        _ => "internal",
    }
}

fn problem_response(problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
    );
    response
}

/// Fallback of the router: nothing at this path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Fallback of the router: the path exists, the method does not.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Paths answered in JSON whatever the `Accept` header says.
fn is_machine_path(path: &str) -> bool {
    path == "/api"
        || path.starts_with("/api/")
        || path == "/healthz"
        || path == "/readyz"
        || path.starts_with("/.well-known/")
        || matches!(
            path,
            "/oidc/token" | "/oidc/userinfo" | "/oidc/jwks" | "/oidc/revoke" | "/oidc/introspect"
        )
}

/// Whether the client wants problem JSON rather than an HTML page.
fn wants_json(uri: &Uri, headers: &HeaderMap) -> bool {
    if is_machine_path(uri.path()) {
        return true;
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("json") && !accept.contains("text/html")
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: PageContext,
    status: u16,
    problem: Problem,
}

/// Middleware: renders every error response (see the module documentation).
pub(crate) async fn render(request: Request, next: Next) -> Response {
    let lang = request
        .extensions()
        .get::<Lang>()
        .copied()
        .unwrap_or(Lang(Default::default()));
    let json = wants_json(request.uri(), request.headers());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let page = (!json).then(|| PageContext::new(lang.translator(), request.uri(), None));

    let mut response = next.run(request).await;
    let error = match response.extensions_mut().remove::<ApiError>() {
        Some(error) => error,
        None if is_bare_error(&response) => bare_error(response.status(), &mut response).await,
        None => return response,
    };

    let t = lang.translator();
    let problem = error.to_problem(&t, request_id.as_deref());
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.status = error.status();
    error.set_retry_after(&mut parts.headers);
    let body = match page {
        Some(page) => {
            let status = problem.status;
            match (ErrorPage {
                page,
                status,
                problem,
            })
            .render()
            {
                Ok(html) => Html(html).into_response(),
                Err(err) => {
                    tracing::error!(%err, "error page rendering failed");
                    t.get("problem-internal-title").into_response()
                }
            }
        }
        None => problem_response(&problem),
    };
    let (body_parts, body) = body.into_parts();
    if let Some(content_type) = body_parts.headers.get(header::CONTENT_TYPE) {
        parts
            .headers
            .insert(header::CONTENT_TYPE, content_type.clone());
    }
    Response::from_parts(parts, body)
}

/// An error status without a rendered body: the framework's own answers.
/// Marks an error response whose body a specification defines (OAuth's
/// `{"error": …}`, RFC 6749 §5.2): sent as it is, not as a problem.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpecifiedBody;

fn is_bare_error(response: &Response) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<SpecifiedBody>().is_some()
    {
        return false;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !(content_type.starts_with("text/html") || content_type.starts_with(PROBLEM_CONTENT_TYPE))
}

/// The error for a bare status; a short plain-text reason from the framework
/// (an extractor rejection) becomes the detail of a client error.
async fn bare_error(status: StatusCode, response: &mut Response) -> ApiError {
    let is_text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if status.is_client_error() && is_text {
        let body = std::mem::take(response.body_mut());
        if let Ok(bytes) = axum::body::to_bytes(body, 4096).await {
            let text = String::from_utf8_lossy(&bytes).trim().to_owned();
            if !text.is_empty() {
                return ApiError::malformed(status, text);
            }
        }
    }
    ApiError::from_status(status)
}
