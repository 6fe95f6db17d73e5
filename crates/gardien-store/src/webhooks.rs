//! Webhooks, shared by both back ends: endpoints (of one organization, or
//! of the deployment), the outbox of messages — enqueued by
//! [`WebhookSql::enqueue_for`] in the transaction that appends the audit
//! event they tell of — and the delivery log, one row per attempt.

use std::marker::PhantomData;

use gardien_core::audit::AuditEvent;
use gardien_core::webhook::{self, EventFilter};
use gardien_core::{AccountId, AuditEventId, OrganizationId, WebhookEndpointId, WebhookMessageId};
use sqlx::types::Json;
use sqlx::{Encode, Executor, IntoArguments, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::{map_error, Dialect};
use crate::rows::{DbTime, RowExt};
use crate::{Page, PageRequest, StoreError};

/// An endpoint, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    /// `None`: the endpoint receives the events of every organization.
    pub organization_id: Option<OrganizationId>,
    pub url: String,
    pub description: String,
    pub events: EventFilter,
    pub enabled: bool,
    pub created_by: Option<AccountId>,
    pub created_at: OffsetDateTime,
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    /// Due at `next_attempt_at` (first attempt, retry or replay).
    Pending,
    Delivered,
    /// Every attempt of the schedule failed.
    Failed,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "pending" => Ok(Self::Pending),
            "delivered" => Ok(Self::Delivered),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Corrupt(format!("webhook status: {other}"))),
        }
    }
}

/// One message to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookMessage {
    /// The `webhook-id` header, the same on every attempt.
    pub id: WebhookMessageId,
    pub endpoint_id: WebhookEndpointId,
    pub event_type: String,
    pub audit_event_id: AuditEventId,
    /// The exact body that is signed and sent.
    pub payload: String,
    pub created_at: OffsetDateTime,
    pub status: WebhookStatus,
    /// Attempts since it was enqueued or last replayed.
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
}

/// One delivery attempt, as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    pub message_id: WebhookMessageId,
    pub attempted_at: OffsetDateTime,
    /// The endpoint's HTTP status, when it answered.
    pub http_status: Option<u16>,
    /// Why there was no answer (refused, timed out…), or none.
    pub error: Option<String>,
    pub duration_ms: u64,
    /// The start of the answer's body.
    pub response: String,
}

/// What an attempt leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    Delivered,
    /// Tried again at this time.
    Retry(OffsetDateTime),
    /// Abandoned: the schedule is over.
    Failed,
}

/// A claimed message with what the worker needs to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub message: WebhookMessage,
    pub url: String,
    /// `whsec_…`.
    pub secret: String,
}

/// A message of the delivery log with its attempts, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookLogEntry {
    pub message: WebhookMessage,
    pub attempts: Vec<WebhookAttempt>,
}

/// The longest response snippet kept per attempt.
pub const WEBHOOK_RESPONSE_MAX: usize = 1000;

const ENDPOINT_COLUMNS: &str =
    "id, organization_id, url, description, event_types, enabled, created_by, created_at";
const MESSAGE_COLUMNS: &str = "id, endpoint_id, event_type, audit_event_id, payload, \
    created_at, status, attempts, next_attempt_at";
const ATTEMPT_COLUMNS: &str = "message_id, attempted_at, http_status, error, duration_ms, response";

/// `organization_id = $n`, or `IS NULL` for the deployment's endpoints
/// (one statement text per case, so each keeps its index).
fn scope(organization: Option<OrganizationId>, n: u8) -> String {
    match organization {
        Some(_) => format!("organization_id = ${n}"),
        None => format!("organization_id IS NULL AND ${n} IS NULL"),
    }
}

fn endpoint(row: &impl RowExt) -> Result<WebhookEndpoint, StoreError> {
    let events = match row.json("event_types")? {
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                serde_json::Value::String(s) => Ok(s),
                other => Err(StoreError::Corrupt(format!("webhook event type: {other}"))),
            })
            .collect::<Result<Vec<_>, _>>()?,
        other => {
            return Err(StoreError::Corrupt(format!(
                "webhook event types: {other:?}"
            )))
        }
    };
    Ok(WebhookEndpoint {
        id: WebhookEndpointId::from_uuid(row.uuid("id")?),
        organization_id: row
            .opt_uuid("organization_id")?
            .map(OrganizationId::from_uuid),
        url: row.text("url")?,
        description: row.text("description")?,
        events: EventFilter::from_stored(events),
        enabled: row.flag("enabled")?,
        created_by: row.opt_uuid("created_by")?.map(AccountId::from_uuid),
        created_at: row.time("created_at")?,
    })
}

fn message(row: &impl RowExt) -> Result<WebhookMessage, StoreError> {
    let attempts = row.int32("attempts")?;
    Ok(WebhookMessage {
        id: WebhookMessageId::from_uuid(row.uuid("id")?),
        endpoint_id: WebhookEndpointId::from_uuid(row.uuid("endpoint_id")?),
        event_type: row.text("event_type")?,
        audit_event_id: AuditEventId::from_uuid(row.uuid("audit_event_id")?),
        payload: row.text("payload")?,
        created_at: row.time("created_at")?,
        status: WebhookStatus::parse(&row.text("status")?)?,
        attempts: u32::try_from(attempts)
            .map_err(|e| StoreError::Corrupt(format!("attempts: {e}")))?,
        next_attempt_at: row.time("next_attempt_at")?,
    })
}

fn attempt(row: &impl RowExt) -> Result<WebhookAttempt, StoreError> {
    let corrupt =
        |e: std::num::TryFromIntError| StoreError::Corrupt(format!("webhook attempt: {e}"));
    Ok(WebhookAttempt {
        message_id: WebhookMessageId::from_uuid(row.uuid("message_id")?),
        attempted_at: row.time("attempted_at")?,
        http_status: row
            .opt_int32("http_status")?
            .map(u16::try_from)
            .transpose()
            .map_err(corrupt)?,
        error: row.opt_text("error")?,
        duration_ms: u64::try_from(row.int64("duration_ms")?).map_err(corrupt)?,
        response: row.text("response")?,
    })
}

/// The SQL of this module, over any back end.
pub(crate) struct WebhookSql<DB>(PhantomData<DB>);

impl<DB> WebhookSql<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    DB::Row: RowExt,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Uuid>: Encode<'q, DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DbTime: Encode<'q, DB> + Type<DB>,
    for<'q> Json<serde_json::Value>: Encode<'q, DB> + Type<DB>,
{
    /// Puts one message per enabled endpoint that wants `event` (of its
    /// organization or of the deployment) in the outbox; how many.
    pub(crate) async fn enqueue_for(
        conn: &mut DB::Connection,
        event: &AuditEvent,
    ) -> Result<usize, StoreError> {
        if !webhook::is_event_type(&event.action) {
            return Ok(0);
        }
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
             WHERE (organization_id = $1 OR organization_id IS NULL) AND enabled = $2 ORDER BY id"
        ))
        .bind(event.organization_id.map(|o| o.as_uuid()))
        .bind(true)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        let endpoints = rows
            .iter()
            .map(endpoint)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|e| e.events.matches(&event.action))
            .collect::<Vec<_>>();
        if endpoints.is_empty() {
            return Ok(0);
        }
        let payload = webhook::payload(event);
        for endpoint in &endpoints {
            sqlx::query(&format!(
                "INSERT INTO webhook_messages ({MESSAGE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $6)"
            ))
            .bind(WebhookMessageId::new().as_uuid())
            .bind(endpoint.id.as_uuid())
            .bind(event.action.clone())
            .bind(event.id.as_uuid())
            .bind(payload.clone())
            .bind(DbTime(event.occurred_at))
            .execute(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        }
        Ok(endpoints.len())
    }

    pub(crate) async fn insert_endpoint(
        conn: &mut DB::Connection,
        endpoint: &WebhookEndpoint,
        secret: &str,
    ) -> Result<(), StoreError> {
        let events = serde_json::Value::from(endpoint.events.items().to_vec());
        sqlx::query(&format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}, secret) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(endpoint.id.as_uuid())
        .bind(endpoint.organization_id.map(|o| o.as_uuid()))
        .bind(endpoint.url.clone())
        .bind(endpoint.description.clone())
        .bind(Json(events))
        .bind(endpoint.enabled)
        .bind(endpoint.created_by.map(|a| a.as_uuid()))
        .bind(DbTime(endpoint.created_at))
        .bind(secret.to_owned())
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(())
    }

    pub(crate) async fn endpoints(
        conn: &mut DB::Connection,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE {} ORDER BY id",
            scope(organization, 1)
        ))
        .bind(organization.map(|o| o.as_uuid()))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        rows.iter().map(endpoint).collect()
    }

    pub(crate) async fn endpoint(
        conn: &mut DB::Connection,
        organization: Option<OrganizationId>,
        id: WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $2 AND {}",
            scope(organization, 1)
        ))
        .bind(organization.map(|o| o.as_uuid()))
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        row.as_ref().map(endpoint).transpose()
    }

    pub(crate) async fn delete_endpoint(
        conn: &mut DB::Connection,
        organization: Option<OrganizationId>,
        id: WebhookEndpointId,
    ) -> Result<WebhookEndpoint, StoreError> {
        let found = Self::endpoint(conn, organization, id)
            .await?
            .ok_or(StoreError::NotFound("webhook endpoint"))?;
        // Its messages and their attempts go with it (ON DELETE CASCADE).
        sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        Ok(found)
    }

    /// The endpoint's messages, newest first, each with its attempts.
    pub(crate) async fn deliveries(
        conn: &mut DB::Connection,
        endpoint: WebhookEndpointId,
        page: PageRequest,
    ) -> Result<Page<WebhookLogEntry>, StoreError> {
        let limit = page.limit.clamp(1, PageRequest::MAX_LIMIT);
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM webhook_messages \
             WHERE endpoint_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        ))
        .bind(endpoint.as_uuid())
        .bind(page.after)
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        let messages = rows.iter().map(message).collect::<Result<Vec<_>, _>>()?;
        let mut items = Vec::with_capacity(messages.len());
        for message in messages {
            let attempts = Self::attempts(conn, message.id).await?;
            items.push(WebhookLogEntry { message, attempts });
        }
        Ok(crate::rows::page(items, limit, |e| e.message.id.as_uuid()))
    }

    async fn attempts(
        conn: &mut DB::Connection,
        message: WebhookMessageId,
    ) -> Result<Vec<WebhookAttempt>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE message_id = $1 \
             ORDER BY attempted_at, id"
        ))
        .bind(message.as_uuid())
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        rows.iter().map(attempt).collect()
    }

    /// Makes a message of the endpoint due again at `now`, with a fresh
    /// schedule. A message being sent keeps its lease: it is not sent twice
    /// at once.
    pub(crate) async fn replay(
        conn: &mut DB::Connection,
        endpoint: WebhookEndpointId,
        id: WebhookMessageId,
        now: OffsetDateTime,
    ) -> Result<WebhookMessage, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE webhook_messages SET status = 'pending', attempts = 0, next_attempt_at = $3 \
             WHERE id = $1 AND endpoint_id = $2 RETURNING {MESSAGE_COLUMNS}"
        ))
        .bind(id.as_uuid())
        .bind(endpoint.as_uuid())
        .bind(DbTime(now))
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        row.as_ref()
            .map(message)
            .transpose()?
            .ok_or(StoreError::NotFound("webhook message"))
    }

    /// Leases up to `limit` due messages until `until` (see `claim_mail`).
    pub(crate) async fn claim(
        conn: &mut DB::Connection,
        now: OffsetDateTime,
        until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let rows = sqlx::query(&format!(
            "WITH due AS (SELECT id FROM webhook_messages \
               WHERE status = 'pending' AND next_attempt_at <= $1 \
               AND (locked_until IS NULL OR locked_until <= $1) \
               ORDER BY next_attempt_at, id LIMIT $3 {lock}) \
             UPDATE webhook_messages SET locked_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM due) RETURNING {MESSAGE_COLUMNS}",
            lock = DB::CLAIM_LOCK,
        ))
        .bind(DbTime(now))
        .bind(DbTime(until))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        let mut messages = rows.iter().map(message).collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| (m.next_attempt_at, m.id));
        let mut deliveries = Vec::with_capacity(messages.len());
        for message in messages {
            let row = sqlx::query("SELECT url, secret FROM webhook_endpoints WHERE id = $1")
                .bind(message.endpoint_id.as_uuid())
                .fetch_one(&mut *conn)
                .await
                .map_err(map_error::<DB>)?;
            deliveries.push(WebhookDelivery {
                url: row.text("url")?,
                secret: row.text("secret")?,
                message,
            });
        }
        Ok(deliveries)
    }

    /// Logs an attempt and moves its message on; nothing when the message
    /// is gone (its endpoint was deleted meanwhile).
    pub(crate) async fn record_attempt(
        conn: &mut DB::Connection,
        attempt: &WebhookAttempt,
        outcome: WebhookOutcome,
    ) -> Result<(), StoreError> {
        let (status, next) = match outcome {
            WebhookOutcome::Delivered => (WebhookStatus::Delivered, None),
            WebhookOutcome::Retry(at) => (WebhookStatus::Pending, Some(at)),
            WebhookOutcome::Failed => (WebhookStatus::Failed, None),
        };
        let updated = sqlx::query(
            "UPDATE webhook_messages SET status = $2, \
             next_attempt_at = CASE WHEN $3 THEN $4 ELSE next_attempt_at END, \
             locked_until = NULL WHERE id = $1",
        )
        .bind(attempt.message_id.as_uuid())
        .bind(status.as_str().to_owned())
        .bind(next.is_some())
        .bind(DbTime(next.unwrap_or(attempt.attempted_at)))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        if DB::rows_affected(&updated) == 0 {
            return Ok(());
        }
        let response: String = attempt
            .response
            .chars()
            .take(WEBHOOK_RESPONSE_MAX)
            .collect();
        sqlx::query(&format!(
            "INSERT INTO webhook_attempts (id, {ATTEMPT_COLUMNS}) \
             VALUES ($1, $2, $3, NULLIF($4, -1), $5, $6, $7)"
        ))
        .bind(Uuid::now_v7())
        .bind(attempt.message_id.as_uuid())
        .bind(DbTime(attempt.attempted_at))
        .bind(attempt.http_status.map_or(-1, i64::from))
        .bind(attempt.error.clone())
        .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
        .bind(response)
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(())
    }
}
