//! Webhook endpoints of an organization under
//! `/api/v1/organizations/{org}/webhooks`: added, listed and deleted by
//! members holding `team.manage`, through their session (state-changing
//! calls need the CSRF token), with each endpoint's delivery log and the
//! replay of a message. The signing secret is in the creation answer only.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use gardien_core::{OrganizationId, WebhookEndpointId, WebhookMessageId};
use gardien_service::WebhookInput;
use gardien_store::{WebhookAttempt, WebhookEndpoint, WebhookLogEntry, WebhookMessage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::invitations::{rfc3339, PageQuery};
use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::SignedIn;
use crate::state::AppState;

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewWebhookBody {
    /// Where events are POSTed: an absolute `http://` or `https://` URL.
    pub url: String,
    /// What the endpoint is for.
    #[serde(default)]
    pub description: String,
    /// Event types (`member.assigned`) and prefixes (`membership.*`) to
    /// receive; empty or absent: every event.
    #[serde(default)]
    pub events: Vec<String>,
}

/// An endpoint, without its secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookBody {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// Empty: every event.
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_at: String,
}

/// An endpoint just created: `secret` is shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhookBody {
    #[serde(flatten)]
    pub endpoint: WebhookBody,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it
    /// (Standard Webhooks). Never shown again.
    pub secret: String,
}

/// The organization's endpoints.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookBody>,
}

/// One delivery attempt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookAttemptBody {
    pub attempted_at: String,
    /// The endpoint's HTTP status; `null` when it did not answer.
    pub http_status: Option<u16>,
    /// Why there was no answer (`timed out`, `could not connect`…).
    pub error: Option<String>,
    pub duration_ms: u64,
    /// The start of the endpoint's answer.
    pub response: String,
}

/// One message to the endpoint with its attempts, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryBody {
    /// The `webhook-id` header, the same on every attempt.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub audit_event_id: Uuid,
    pub created_at: String,
    /// `pending`, `delivered` or `failed` (every attempt failed).
    pub status: String,
    /// Attempts since it was enqueued or last replayed.
    pub attempts: u32,
    /// When it is tried next, while `pending`.
    pub next_attempt_at: Option<String>,
    /// The body sent, as signed.
    pub payload: String,
    pub log: Vec<WebhookAttemptBody>,
}

/// A page of the delivery log, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryList {
    pub items: Vec<WebhookDeliveryBody>,
    pub next_cursor: Option<Uuid>,
}

fn body(endpoint: &WebhookEndpoint) -> WebhookBody {
    WebhookBody {
        id: endpoint.id.as_uuid(),
        url: endpoint.url.clone(),
        description: endpoint.description.clone(),
        events: endpoint.events.items().to_vec(),
        enabled: endpoint.enabled,
        created_at: rfc3339(endpoint.created_at),
    }
}

fn attempt_body(attempt: &WebhookAttempt) -> WebhookAttemptBody {
    WebhookAttemptBody {
        attempted_at: rfc3339(attempt.attempted_at),
        http_status: attempt.http_status,
        error: attempt.error.clone(),
        duration_ms: attempt.duration_ms,
        response: attempt.response.clone(),
    }
}

fn delivery_body(message: &WebhookMessage, log: &[WebhookAttempt]) -> WebhookDeliveryBody {
    let pending = message.status == gardien_store::WebhookStatus::Pending;
    WebhookDeliveryBody {
        id: message.id.as_uuid(),
        event_type: message.event_type.clone(),
        audit_event_id: message.audit_event_id.as_uuid(),
        created_at: rfc3339(message.created_at),
        status: message.status.as_str().into(),
        attempts: message.attempts,
        next_attempt_at: pending.then(|| rfc3339(message.next_attempt_at)),
        payload: message.payload.clone(),
        log: log.iter().map(attempt_body).collect(),
    }
}

/// Adds a webhook endpoint to the organization.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/webhooks", tag = "webhooks",
    request_body = NewWebhookBody,
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 201, description = "Created; the secret is shown this once", body = CreatedWebhookBody),
        (status = 400, description = "The body is not JSON of this shape", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`url`, `description`, `events[2]`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path(org): Path<Uuid>,
    new: Result<Json<NewWebhookBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<CreatedWebhookBody>), ApiError> {
    let Json(new) = new?;
    let input = WebhookInput {
        url: new.url,
        description: new.description,
        events: new.events,
    };
    let created = state
        .services
        .create_webhook(&current, OrganizationId::from_uuid(org), &input, &context)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhookBody {
            endpoint: body(&created.endpoint),
            secret: created.secret,
        }),
    ))
}

/// The organization's webhook endpoints, oldest first.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/webhooks", tag = "webhooks",
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 200, description = "The endpoints", body = WebhookList),
        (status = 403, description = "Your role may not manage the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
) -> Result<Json<WebhookList>, ApiError> {
    let endpoints = state
        .services
        .webhooks(&current, OrganizationId::from_uuid(org))
        .await?;
    Ok(Json(WebhookList {
        items: endpoints.iter().map(body).collect(),
    }))
}

/// Deletes a webhook endpoint with its delivery log: nothing more is sent to it.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/webhooks/{id}", tag = "webhooks",
    params(("org" = Uuid, Path, description = "The organization"),
        ("id" = Uuid, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "Deleted", body = WebhookBody),
        (status = 403, description = "Your role may not manage the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint in this organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<WebhookBody>, ApiError> {
    let endpoint = state
        .services
        .delete_webhook(
            &current,
            OrganizationId::from_uuid(org),
            WebhookEndpointId::from_uuid(id),
            &context,
        )
        .await?;
    Ok(Json(body(&endpoint)))
}

/// The endpoint's delivery log: its messages, newest first, each with its attempts.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/webhooks/{id}/deliveries", tag = "webhooks",
    params(("org" = Uuid, Path, description = "The organization"),
        ("id" = Uuid, Path, description = "The endpoint"), PageQuery),
    responses(
        (status = 200, description = "A page of the log", body = WebhookDeliveryList),
        (status = 403, description = "Your role may not manage the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint in this organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path((org, id)): Path<(Uuid, Uuid)>,
    Query(query): Query<PageQuery>,
) -> Result<Json<WebhookDeliveryList>, ApiError> {
    let page = state
        .services
        .webhook_deliveries(
            &current,
            OrganizationId::from_uuid(org),
            WebhookEndpointId::from_uuid(id),
            query.page(),
        )
        .await?;
    Ok(Json(WebhookDeliveryList {
        items: page
            .items
            .iter()
            .map(|WebhookLogEntry { message, attempts }| delivery_body(message, attempts))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Sends a message again, now, with the same `webhook-id` and a fresh retry schedule.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/webhooks/{id}/deliveries/{message}/replay", tag = "webhooks",
    params(("org" = Uuid, Path, description = "The organization"),
        ("id" = Uuid, Path, description = "The endpoint"),
        ("message" = Uuid, Path, description = "The message (its `webhook-id`)")),
    responses(
        (status = 202, description = "Due again; the log shows the new attempt", body = WebhookDeliveryBody),
        (status = 403, description = "Your role may not manage the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such message of this endpoint in this organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn replay(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, id, message)): Path<(Uuid, Uuid, Uuid)>,
) -> Result<(StatusCode, Json<WebhookDeliveryBody>), ApiError> {
    let message = state
        .services
        .replay_webhook(
            &current,
            OrganizationId::from_uuid(org),
            WebhookEndpointId::from_uuid(id),
            WebhookMessageId::from_uuid(message),
            &context,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_body(&message, &[]))))
}

/// The OpenAPI description of these routes, merged into the service's.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create, list, delete, deliveries, replay),
    components(schemas(
        NewWebhookBody,
        WebhookBody,
        CreatedWebhookBody,
        WebhookList,
        WebhookAttemptBody,
        WebhookDeliveryBody,
        WebhookDeliveryList
    )),
    tags((name = "webhooks", description = "Webhook endpoints of an organization and their delivery log (Standard Webhooks)"))
)]
pub(crate) struct WebhooksDoc;

pub(crate) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/api/v1/organizations/{org}/webhooks",
            get(list).post(create),
        )
        .route(
            "/api/v1/organizations/{org}/webhooks/{id}",
            axum::routing::delete(delete),
        )
        .route(
            "/api/v1/organizations/{org}/webhooks/{id}/deliveries",
            get(deliveries),
        )
        .route(
            "/api/v1/organizations/{org}/webhooks/{id}/deliveries/{message}/replay",
            post(replay),
        )
}
