//! The JSON API under `/api/v1` and its OpenAPI document.
//!
//! To add an endpoint: annotate the handler with `#[utoipa::path]`, list it
//! in [`ApiDoc`]'s `paths(...)` (and its bodies in `schemas(...)`), and
//! route it in [`routes`]. Errors are [`crate::ApiError`] (problem JSON).

pub mod access;
pub mod api_keys;
pub mod audit;
pub mod checks;
pub mod company;
pub mod email_change;
pub mod health;
pub mod import;
pub mod invitations;
pub mod me;
pub mod members;
pub mod oidc_clients;
pub mod ownership;
pub mod password_reset;
pub mod roles;
pub mod session;
pub mod settings;
pub mod signup;
pub mod webhooks;

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::csrf::{self, CsrfToken};
use crate::error::{Problem, ProblemFieldError};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        health::healthz,
        health::readyz,
        csrf_token,
        openapi_json,
        signup::sign_up,
        session::log_in,
        session::choose_organization,
        session::introspect,
        session::log_out,
        password_reset::request,
        password_reset::reset,
        me::consent,
        me::accept_consent,
        me::profile,
        me::update_profile,
        me::change_password,
        email_change::request,
        email_change::confirm,
        me::sessions,
        me::revoke_session,
        me::revoke_other_sessions,
        me::export,
        me::resend_verification,
        me::delete_account,
        invitations::invite,
        invitations::list,
        invitations::resend,
        invitations::revoke,
        invitations::view,
        invitations::accept,
        members::list,
        ownership::hand_over,
        members::change_status,
        members::patch,
        roles::permissions,
        roles::list,
        roles::create,
        roles::show,
        roles::patch,
        roles::delete,
        members::info,
        members::password_reset,
        company::show,
        company::patch,
        import::import,
        settings::show,
        settings::patch,
        api_keys::create,
        api_keys::list,
        api_keys::revoke,
        checks::check,
        checks::check_batch,
        checks::resources,
        checks::effective_permissions,
        access::set_override,
        access::clear_override,
        access::list_assignments,
        access::assign,
        access::unassign,
        access::bulk,
        access::access,
        access::explain_permissions,
        audit::list,
        audit::export,
        audit::access_review,
        audit::access_review_export
    ),
    components(schemas(
        Problem,
        ProblemFieldError,
        health::Health,
        CsrfTokenBody,
        signup::SignUpBody,
        signup::SignUpAccepted,
        session::LoginBody,
        session::ChooseOrganizationBody,
        session::AccountSummary,
        session::OrganizationSummary,
        session::OrganizationChoiceBody,
        session::Introspection,
        session::LoginResult,
        password_reset::PasswordResetRequest,
        password_reset::PasswordResetAccepted,
        password_reset::NewPassword,
        me::ConsentStatus,
        me::ConsentBody,
        me::ProfileBody,
        me::ProfilePatchBody,
        me::PasswordChangeBody,
        email_change::EmailChangeBody,
        email_change::EmailChangedBody,
        me::SessionBody,
        me::SessionList,
        me::DeleteAccountBody,
        invitations::InviteBody,
        invitations::NewRoleBody,
        invitations::InviteAssignmentBody,
        invitations::InvitationBody,
        invitations::InvitationList,
        invitations::InvitationPreview,
        invitations::AcceptBody,
        invitations::AcceptedBody,
        members::MemberBody,
        members::MemberList,
        ownership::HandOverBody,
        ownership::OwnershipBody,
        members::MembershipBody,
        members::MemberPatch,
        roles::LocalizedBody,
        roles::PermissionBody,
        roles::PermissionGroupBody,
        roles::CatalogBody,
        roles::RoleBody,
        roles::RoleList,
        roles::NewRoleBody,
        roles::RolePatchBody,
        roles::DeletedRoleBody,
        members::MemberInfoBody,
        company::CompanyBody,
        company::CompanyPatchBody,
        import::ImportRowError,
        import::ImportRowBody,
        import::ImportResult,
        settings::SettingsBody,
        settings::SettingsPatch,
        api_keys::NewApiKeyBody,
        api_keys::ApiKeyBody,
        api_keys::CreatedApiKeyBody,
        api_keys::ApiKeyList,
        checks::ResourceBody,
        checks::CheckBody,
        checks::ReasonBody,
        checks::DecisionBody,
        checks::BatchBody,
        checks::BatchResult,
        checks::ResourcesBody,
        checks::VisibleBody,
        checks::EffectivePermissions,
        access::EffectBody,
        access::OverrideInput,
        access::OverrideBody,
        access::AssignmentBody,
        access::AssignmentList,
        access::NewAssignmentBody,
        access::AssignmentItemBody,
        access::BulkAssignmentsBody,
        access::AssignmentResult,
        access::AccessLineBody,
        access::AccessRoleBody,
        access::AccessBody,
        access::PermissionsQueryBody,
        access::ExplainedPermissionsBody,
        audit::ActorBody,
        audit::AuditEventBody,
        audit::AuditEventList,
        audit::OverrideBody,
        audit::AssignmentBody,
        audit::ReviewMemberBody,
        audit::StaleInvitationBody,
        audit::AccessReviewBody
    )),
    tags(
        (name = "operations", description = "Probes and service documents"),
        (name = "security", description = "Tokens browsers need"),
        (name = "self", description = "A person's own account: sign-up, login, logout, password reset"),
        (name = "host", description = "What the host application asks about its visitors"),
        (name = "team", description = "An organization's members and invitations"),
        (name = "checks", description = "The check API for host back ends (Bearer API key) and its keys"),
        (name = "audit", description = "The audit trail, its exports and the access review"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document of the service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.title = "Gardien".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.merge(<webhooks::WebhooksDoc as OpenApi>::openapi());
    doc.merge(<oidc_clients::OidcClientsDoc as OpenApi>::openapi());
    checks::document_security(&mut doc);
    doc.info.description = Some(
        "Team and access management for B2B customer portals. Errors are RFC 9457 \
         problem documents (application/problem+json)."
            .into(),
    );
    doc
}

static OPENAPI_JSON: LazyLock<String> =
    LazyLock::new(|| openapi().to_pretty_json().unwrap_or_else(|_| "{}".into()));

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/csrf-token", get(csrf_token))
        .route("/api/v1/signup", post(signup::sign_up))
        .route("/api/v1/login", post(session::log_in))
        .route("/api/v1/logout", post(session::log_out))
        .route(
            "/api/v1/session/organization",
            post(session::choose_organization),
        )
        .route("/api/v1/session/introspect", get(session::introspect))
        .route("/api/v1/password-resets", post(password_reset::request))
        .route(
            "/api/v1/password-resets/{token}",
            post(password_reset::reset),
        )
        .route(
            "/api/v1/me/consent",
            get(me::consent).post(me::accept_consent),
        )
        .route(
            "/api/v1/me",
            get(me::profile)
                .patch(me::update_profile)
                .delete(me::delete_account),
        )
        .route("/api/v1/me/export", get(me::export))
        .route(
            "/api/v1/me/email-verification",
            axum::routing::post(me::resend_verification),
        )
        .route("/api/v1/me/password", post(me::change_password))
        .route("/api/v1/me/email", post(email_change::request))
        .route("/api/v1/email-changes/{token}", post(email_change::confirm))
        .route(
            "/api/v1/me/sessions",
            get(me::sessions).delete(me::revoke_other_sessions),
        )
        .route("/api/v1/me/sessions/{id}", delete(me::revoke_session))
        .route(
            "/api/v1/organizations/{org}/invitations",
            get(invitations::list).post(invitations::invite),
        )
        .route(
            "/api/v1/organizations/{org}/invitations/{id}",
            delete(invitations::revoke),
        )
        .route(
            "/api/v1/organizations/{org}/invitations/{id}/resend",
            post(invitations::resend),
        )
        .route(
            "/api/v1/invitations/{token}",
            get(invitations::view).post(invitations::accept),
        )
        .route("/api/v1/organizations/{org}/members", get(members::list))
        .route(
            "/api/v1/organizations/{org}/ownership",
            post(ownership::hand_over),
        )
        .route("/api/v1/permissions", get(roles::permissions))
        .route(
            "/api/v1/organizations/{org}/roles",
            get(roles::list).post(roles::create),
        )
        .route(
            "/api/v1/organizations/{org}/roles/{role}",
            get(roles::show).patch(roles::patch).delete(roles::delete),
        )
        .route(
            "/api/v1/organizations/{org}/settings",
            get(settings::show).patch(settings::patch),
        )
        .route(
            "/api/v1/organizations/{org}/members/{member}",
            patch(members::patch),
        )
        .route(
            "/api/v1/organizations/{org}/members/{member}/info",
            get(members::info),
        )
        .route(
            "/api/v1/organizations/{org}/members/{member}/password-reset",
            post(members::password_reset),
        )
        .route(
            "/api/v1/organizations/{org}/company",
            get(company::show).patch(company::patch),
        )
        .route(
            "/api/v1/organizations/{org}/invitations/import",
            post(import::import),
        )
        .route(
            "/api/v1/organizations/{org}/members/{member}/{action}",
            post(members::change_status),
        )
        .route("/api/v1/organizations/{org}/audit-events", get(audit::list))
        .route(
            "/api/v1/organizations/{org}/audit-events/export",
            get(audit::export),
        )
        .route(
            "/api/v1/organizations/{org}/access-review",
            get(audit::access_review),
        )
        .route(
            "/api/v1/organizations/{org}/access-review/export",
            get(audit::access_review_export),
        )
        .merge(checks::routes())
        .merge(access::routes())
        .merge(webhooks::routes())
        .merge(oidc_clients::routes())
}

/// The OpenAPI document (this one).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI_JSON.as_str(),
    )
}

/// The CSRF token of this browser.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CsrfTokenBody {
    /// Send it in the `x-csrf-token` header of state-changing requests that
    /// rely on the session cookie (not needed with `Authorization: Bearer`).
    pub token: String,
    /// The header name, `x-csrf-token`.
    pub header: String,
    /// The form field name, `csrf_token`.
    pub field: String,
}

/// The CSRF token for `fetch` calls of a browser front end; sets its cookie.
#[utoipa::path(get, path = "/api/v1/csrf-token", tag = "security",
    responses((status = 200, description = "The token of this browser's CSRF cookie", body = CsrfTokenBody)))]
async fn csrf_token(token: CsrfToken) -> Json<CsrfTokenBody> {
    Json(CsrfTokenBody {
        token: token.value().to_owned(),
        header: csrf::HEADER.into(),
        field: csrf::FORM_FIELD.into(),
    })
}
