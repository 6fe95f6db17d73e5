//! Webhook endpoints and their delivery log: an organization's, managed by
//! members whose role holds `team.manage`, and the deployment's (every
//! organization's events), managed by the operator's command line. The
//! messages themselves are enqueued by the store with the audit event of
//! each change (see `gardien-store`'s `webhooks.rs`), so a change and its
//! webhooks commit together; the `gardien-webhook` worker delivers them.

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::webhook::{self, EventFilter};
use gardien_core::{text, OrganizationId, ValidationError, WebhookEndpointId, WebhookMessageId};
use gardien_store::{
    Page, PageRequest, StoreError, WebhookEndpoint, WebhookLogEntry, WebhookMessage,
};
use rand::rngs::OsRng;
use rand::RngCore;
use serde_json::json;
use time::OffsetDateTime;

use crate::{audit, CurrentSession, ServiceError, Services, TEAM_MANAGE};

const DESCRIPTION_MAX: usize = 200;

/// An endpoint as typed: its address, what it is for, and which events it
/// wants (types such as `member.assigned` or prefixes such as
/// `membership.*`; none: every event).
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
}

/// A new endpoint and its signing secret, which is never shown again.
#[derive(Debug, Clone)]
pub struct CreatedWebhook {
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: the receiver verifies signatures with it.
    pub secret: String,
}

/// Checks every field; all the refusals at once, each naming its field
/// (`url`, `description`, `events[2]`).
fn parse_input(input: &WebhookInput) -> Result<(String, String, EventFilter), ServiceError> {
    let mut errors: Vec<(String, ValidationError)> = Vec::new();
    let url = webhook::parse_url(&input.url)
        .map_err(|e| errors.push(("url".into(), e)))
        .ok();
    let description = text::optional(&input.description, "description", DESCRIPTION_MAX)
        .map_err(|e| errors.push(("description".into(), e)))
        .ok();
    let events = EventFilter::parse(&input.events)
        .map_err(|(index, e)| errors.push((format!("events[{index}]"), e)))
        .ok();
    match (url, description, events) {
        (Some(url), Some(description), Some(events)) if errors.is_empty() => {
            Ok((url, description.unwrap_or_default(), events))
        }
        _ => Err(ServiceError::InvalidItems(errors)),
    }
}

fn new_secret() -> String {
    let mut bytes = [0u8; webhook::SECRET_BYTES];
    OsRng.fill_bytes(&mut bytes);
    webhook::secret_from_bytes(bytes)
}

fn not_found(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound(_) => ServiceError::NotFound,
        other => other.into(),
    }
}

impl Services {
    /// Adds an endpoint to `organization` (needs `team.manage`).
    pub async fn create_webhook(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        input: &WebhookInput,
        context: &RequestContext,
    ) -> Result<CreatedWebhook, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let (url, description, events) = parse_input(input)?;
        let now = OffsetDateTime::now_utc();
        let endpoint = WebhookEndpoint {
            id: WebhookEndpointId::new(),
            organization_id: Some(organization),
            url,
            description,
            events,
            enabled: true,
            created_by: Some(current.account.id),
            created_at: now,
        };
        let secret = new_secret();
        tx.insert_webhook_endpoint(&endpoint, &secret).await?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "webhook.created",
            Some(format!("webhook:{}", endpoint.id)),
        );
        event.after = Some(json!({ "url": endpoint.url, "events": endpoint.events.items() }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(CreatedWebhook { endpoint, secret })
    }

    /// The organization's endpoints, oldest first (needs `team.manage`).
    pub async fn webhooks(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
    ) -> Result<Vec<WebhookEndpoint>, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        Ok(tx.webhook_endpoints(Some(organization)).await?)
    }

    /// Deletes an endpoint of `organization` with its delivery log (needs
    /// `team.manage`); nothing more is sent to it.
    pub async fn delete_webhook(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        id: WebhookEndpointId,
        context: &RequestContext,
    ) -> Result<WebhookEndpoint, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let endpoint = tx
            .delete_webhook_endpoint(Some(organization), id)
            .await
            .map_err(not_found)?;
        let mut event = audit(
            context,
            OffsetDateTime::now_utc(),
            Some(organization),
            Actor::Account(current.account.id),
            "webhook.deleted",
            Some(format!("webhook:{id}")),
        );
        event.before = Some(json!({ "url": endpoint.url }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(endpoint)
    }

    /// The delivery log of an endpoint of `organization`, newest first
    /// (needs `team.manage`).
    pub async fn webhook_deliveries(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        id: WebhookEndpointId,
        page: PageRequest,
    ) -> Result<Page<WebhookLogEntry>, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        tx.webhook_endpoint(Some(organization), id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(tx.webhook_deliveries(id, page).await?)
    }

    /// Sends a message of an endpoint of `organization` again, now, with
    /// the same `webhook-id` (needs `team.manage`).
    pub async fn replay_webhook(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        id: WebhookEndpointId,
        message: WebhookMessageId,
        context: &RequestContext,
    ) -> Result<WebhookMessage, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        tx.webhook_endpoint(Some(organization), id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let replayed = tx
            .replay_webhook_message(id, message, now)
            .await
            .map_err(not_found)?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "webhook.replayed",
            Some(format!("webhook:{id}")),
        );
        event.after = Some(json!({ "message": message, "type": replayed.event_type }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        if let Some(wake) = self.store.webhook_wake() {
            wake.notify_one();
        }
        Ok(replayed)
    }

    /// Adds an endpoint that receives the events of every organization
    /// (the operator's command line; `gardien webhook create`).
    pub async fn create_deployment_webhook(
        &self,
        input: &WebhookInput,
    ) -> Result<CreatedWebhook, ServiceError> {
        let (url, description, events) = parse_input(input)?;
        let now = OffsetDateTime::now_utc();
        let endpoint = WebhookEndpoint {
            id: WebhookEndpointId::new(),
            organization_id: None,
            url,
            description,
            events,
            enabled: true,
            created_by: None,
            created_at: now,
        };
        let secret = new_secret();
        let mut tx = self.store.begin().await?;
        tx.insert_webhook_endpoint(&endpoint, &secret).await?;
        let mut event = audit(
            &RequestContext::default(),
            now,
            None,
            Actor::System,
            "webhook.created",
            Some(format!("webhook:{}", endpoint.id)),
        );
        event.after = Some(json!({
            "url": endpoint.url, "events": endpoint.events.items(), "scope": "deployment",
        }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(CreatedWebhook { endpoint, secret })
    }

    /// The deployment-wide endpoints, oldest first (operator).
    pub async fn deployment_webhooks(&self) -> Result<Vec<WebhookEndpoint>, ServiceError> {
        let mut tx = self.store.begin().await?;
        Ok(tx.webhook_endpoints(None).await?)
    }

    /// Deletes a deployment-wide endpoint with its delivery log (operator).
    pub async fn delete_deployment_webhook(
        &self,
        id: WebhookEndpointId,
    ) -> Result<WebhookEndpoint, ServiceError> {
        let mut tx = self.store.begin().await?;
        let endpoint = tx
            .delete_webhook_endpoint(None, id)
            .await
            .map_err(not_found)?;
        let mut event = audit(
            &RequestContext::default(),
            OffsetDateTime::now_utc(),
            None,
            Actor::System,
            "webhook.deleted",
            Some(format!("webhook:{id}")),
        );
        event.before = Some(json!({ "url": endpoint.url, "scope": "deployment" }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(endpoint)
    }
}
