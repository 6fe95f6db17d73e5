//! The contract of the webhook storage (endpoints, the outbox filled with
//! each audited change, leases, the delivery log, replay), on SQLite and
//! PostgreSQL alike.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use gardien_core::audit::{Actor, AuditEvent};
use gardien_core::webhook::EventFilter;
use gardien_core::{AuditEventId, Organization, OrganizationId, WebhookEndpointId};
use gardien_store::{
    both_backends, PageRequest, Store, StoreError, WebhookAttempt, WebhookEndpoint, WebhookOutcome,
    WebhookStatus,
};
use time::{Duration, OffsetDateTime};

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap()
}

const LEASE: Duration = Duration::seconds(60);

async fn organization(store: &Arc<dyn Store>) -> OrganizationId {
    let org = Organization {
        id: OrganizationId::new(),
        name: "Acme".into(),
        requires_activation: false,
        created_at: now(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org).await.unwrap();
    tx.commit().await.unwrap();
    org.id
}

async fn endpoint(
    store: &Arc<dyn Store>,
    organization: Option<OrganizationId>,
    events: &[&str],
    enabled: bool,
) -> WebhookEndpoint {
    let endpoint = WebhookEndpoint {
        id: WebhookEndpointId::new(),
        organization_id: organization,
        url: "https://portal.example.com/hooks".into(),
        description: "Portal".into(),
        events: EventFilter::parse(events).unwrap(),
        enabled,
        created_by: None,
        created_at: now(),
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_webhook_endpoint(&endpoint, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    endpoint
}

fn event(organization: OrganizationId, action: &str) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        occurred_at: now(),
        organization_id: Some(organization),
        actor: Actor::System,
        action: action.into(),
        target: Some("role:x".into()),
        before: None,
        after: Some(serde_json::json!({ "name": "Auditors" })),
        ip: None,
        user_agent: None,
        request_id: None,
    }
}

async fn append(store: &Arc<dyn Store>, event: &AuditEvent) {
    let mut tx = store.begin().await.unwrap();
    tx.append_audit_event(event).await.unwrap();
    tx.commit().await.unwrap();
}

fn attempt(message: gardien_core::WebhookMessageId, status: Option<u16>) -> WebhookAttempt {
    WebhookAttempt {
        message_id: message,
        attempted_at: now(),
        http_status: status,
        error: status.is_none().then(|| "could not connect".to_owned()),
        duration_ms: 12,
        response: "x".repeat(3000),
    }
}

both_backends! {
    async fn a_rolled_back_change_enqueues_nothing_and_wakes_no_one(store: Arc<dyn Store>) {
        let org = organization(&store).await;
        endpoint(&store, Some(org), &[], true).await;
        let wake = store.webhook_wake().expect("the store wakes its worker");

        let mut tx = store.begin().await.unwrap();
        tx.append_audit_event(&event(org, "role.created")).await.unwrap();
        drop(tx);
        assert!(store.claim_webhooks(now() + Duration::minutes(1), LEASE, 10).await.unwrap().is_empty());
        assert!(tokio::time::timeout(StdDuration::from_millis(100), wake.notified()).await.is_err());

        append(&store, &event(org, "role.created")).await;
        tokio::time::timeout(StdDuration::from_secs(1), wake.notified())
            .await
            .expect("a commit that enqueued webhooks wakes the worker");
        assert_eq!(store.claim_webhooks(now() + Duration::minutes(1), LEASE, 10).await.unwrap().len(), 1);
    }
}

both_backends! {
    async fn a_change_goes_to_each_enabled_endpoint_that_wants_it(store: Arc<dyn Store>) {
        let acme = organization(&store).await;
        let globex = organization(&store).await;
        let all = endpoint(&store, Some(acme), &[], true).await;
        let roles = endpoint(&store, Some(acme), &["role.*"], true).await;
        endpoint(&store, Some(acme), &["invitation.*"], true).await;
        endpoint(&store, Some(acme), &[], false).await;
        endpoint(&store, Some(globex), &[], true).await;
        let deployment = endpoint(&store, None, &["role.created"], true).await;

        let created = event(acme, "role.created");
        append(&store, &created).await;
        // Not a webhook event: logins and the like are never sent.
        append(&store, &event(acme, "account.logged_in")).await;

        let claimed = store.claim_webhooks(now() + Duration::minutes(1), LEASE, 10).await.unwrap();
        let mut endpoints: Vec<_> = claimed.iter().map(|d| d.message.endpoint_id).collect();
        endpoints.sort();
        let mut expected = vec![all.id, roles.id, deployment.id];
        expected.sort();
        assert_eq!(endpoints, expected);
        for delivery in &claimed {
            assert_eq!(delivery.url, "https://portal.example.com/hooks");
            assert!(delivery.secret.starts_with("whsec_"));
            assert_eq!(delivery.message.event_type, "role.created");
            assert_eq!(delivery.message.audit_event_id, created.id);
            assert_eq!(delivery.message.attempts, 1);
            let body: serde_json::Value = serde_json::from_str(&delivery.message.payload).unwrap();
            assert_eq!(body["type"], "role.created");
            assert_eq!(body["data"]["organization_id"], acme.to_string());
            assert_eq!(body["data"]["after"]["name"], "Auditors");
        }
        // Each message to each endpoint has its own webhook-id.
        let mut ids: Vec<_> = claimed.iter().map(|d| d.message.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 3);
    }
}

both_backends! {
    async fn leases_attempts_the_log_and_replay(store: Arc<dyn Store>) {
        let org = organization(&store).await;
        let hook = endpoint(&store, Some(org), &[], true).await;
        append(&store, &event(org, "membership.suspended")).await;
        let t0 = now() + Duration::seconds(1);

        let claimed = store.claim_webhooks(t0, LEASE, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        let message = claimed[0].message.id;
        // Leased: no one else takes it meanwhile.
        assert!(store.claim_webhooks(t0, LEASE, 10).await.unwrap().is_empty());

        let retry_at = t0 + Duration::seconds(5);
        store
            .record_webhook_attempt(&attempt(message, Some(500)), WebhookOutcome::Retry(retry_at))
            .await
            .unwrap();
        assert!(store.claim_webhooks(t0 + Duration::seconds(4), LEASE, 10).await.unwrap().is_empty());
        let again = store.claim_webhooks(retry_at, LEASE, 10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].message.id, message);
        assert_eq!(again[0].message.attempts, 2);
        store
            .record_webhook_attempt(&attempt(message, None), WebhookOutcome::Delivered)
            .await
            .unwrap();
        assert!(store.claim_webhooks(retry_at + Duration::hours(1), LEASE, 10).await.unwrap().is_empty());

        let other = endpoint(&store, Some(org), &[], true).await;
        let mut tx = store.begin().await.unwrap();
        let log = tx.webhook_deliveries(hook.id, PageRequest::first(10)).await.unwrap();
        assert_eq!(log.items.len(), 1);
        assert_eq!(log.next_cursor, None);
        let entry = &log.items[0];
        assert_eq!(entry.message.status, WebhookStatus::Delivered);
        assert_eq!(entry.attempts.len(), 2);
        assert_eq!(entry.attempts[0].http_status, Some(500));
        assert_eq!(entry.attempts[0].response.chars().count(), gardien_store::WEBHOOK_RESPONSE_MAX);
        assert_eq!(entry.attempts[1].http_status, None);
        assert_eq!(entry.attempts[1].error.as_deref(), Some("could not connect"));
        assert_eq!(entry.attempts[1].duration_ms, 12);

        // Replay: the same message, due now, with a fresh schedule.
        assert!(matches!(
            tx.replay_webhook_message(other.id, message, now()).await,
            Err(StoreError::NotFound(_))
        ));
        let replayed = tx.replay_webhook_message(hook.id, message, t0).await.unwrap();
        assert_eq!(replayed.status, WebhookStatus::Pending);
        assert_eq!(replayed.attempts, 0);
        tx.commit().await.unwrap();
        let claimed = store.claim_webhooks(t0, LEASE, 10).await.unwrap();
        assert_eq!(claimed.iter().map(|d| d.message.id).collect::<Vec<_>>(), [message]);
        store
            .record_webhook_attempt(&attempt(message, Some(410)), WebhookOutcome::Failed)
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        let log = tx.webhook_deliveries(hook.id, PageRequest::first(10)).await.unwrap();
        assert_eq!(log.items[0].message.status, WebhookStatus::Failed);
        assert_eq!(log.items[0].attempts.len(), 3);
    }
}

both_backends! {
    async fn the_log_pages_newest_first(store: Arc<dyn Store>) {
        let org = organization(&store).await;
        let hook = endpoint(&store, Some(org), &[], true).await;
        let mut events = Vec::new();
        for _ in 0..5 {
            let e = event(org, "role.updated");
            append(&store, &e).await;
            events.push(e.id);
        }
        let mut tx = store.begin().await.unwrap();
        let first = tx.webhook_deliveries(hook.id, PageRequest::first(3)).await.unwrap();
        assert_eq!(first.items.len(), 3);
        let second = tx
            .webhook_deliveries(hook.id, PageRequest { after: first.next_cursor, limit: 3 })
            .await
            .unwrap();
        assert_eq!(second.next_cursor, None);
        let order: Vec<_> = first.items.iter().chain(&second.items).map(|e| e.message.audit_event_id).collect();
        events.reverse();
        assert_eq!(order, events);
    }
}

both_backends! {
    async fn endpoints_belong_to_their_organization_or_the_deployment(store: Arc<dyn Store>) {
        let acme = organization(&store).await;
        let globex = organization(&store).await;
        let hook = endpoint(&store, Some(acme), &["membership.*"], true).await;
        let deployment = endpoint(&store, None, &[], true).await;
        append(&store, &event(acme, "membership.removed")).await;
        let claimed = store.claim_webhooks(now() + Duration::minutes(1), LEASE, 10).await.unwrap();
        let to_hook = claimed.iter().find(|d| d.message.endpoint_id == hook.id).unwrap().message.id;

        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.webhook_endpoints(Some(acme)).await.unwrap(), std::slice::from_ref(&hook));
        assert!(tx.webhook_endpoints(Some(globex)).await.unwrap().is_empty());
        assert_eq!(tx.webhook_endpoints(None).await.unwrap(), std::slice::from_ref(&deployment));
        assert_eq!(tx.webhook_endpoint(Some(acme), hook.id).await.unwrap(), Some(hook.clone()));
        assert_eq!(tx.webhook_endpoint(Some(globex), hook.id).await.unwrap(), None);
        assert_eq!(tx.webhook_endpoint(None, hook.id).await.unwrap(), None);
        assert!(matches!(
            tx.delete_webhook_endpoint(Some(globex), hook.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            tx.delete_webhook_endpoint(None, hook.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(tx.delete_webhook_endpoint(Some(acme), hook.id).await.unwrap(), hook);
        tx.commit().await.unwrap();

        // Its messages went with it; an attempt finishing afterwards is dropped.
        store
            .record_webhook_attempt(&attempt(to_hook, Some(200)), WebhookOutcome::Delivered)
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        assert!(tx.webhook_deliveries(hook.id, PageRequest::first(10)).await.unwrap().items.is_empty());
        assert_eq!(tx.webhook_deliveries(deployment.id, PageRequest::first(10)).await.unwrap().items.len(), 1);
    }
}

both_backends! {
    async fn concurrent_claims_never_share_a_message(store: Arc<dyn Store>) {
        let org = organization(&store).await;
        endpoint(&store, Some(org), &[], true).await;
        for _ in 0..20 {
            append(&store, &event(org, "member.assigned")).await;
        }
        let at = now() + Duration::minutes(1);
        let claims = (0..4).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_webhooks(at, LEASE, 8).await.unwrap() })
        });
        let mut ids = Vec::new();
        for claim in claims {
            ids.extend(claim.await.unwrap().into_iter().map(|d| d.message.id));
        }
        let total = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), total, "a message was claimed twice");
        assert_eq!(total, 20);
    }
}
