//! The contract of the audit trail's storage (flow 14): the retention purge
//! is the only deletion, a plain DELETE, UPDATE (or TRUNCATE) stays refused;
//! the access review reads overrides and assignments; pages are keyset-exact.
//! SQLite and PostgreSQL alike.

use std::collections::HashSet;
use std::sync::Arc;

use gardien_core::audit::{Actor, AuditEvent};
use gardien_core::{
    Account, AccountId, AuditEventId, Email, Kind, Language, Membership, MembershipId,
    MembershipStatus, Organization, OrganizationId, PermissionKey, Role, RoleId,
};
use gardien_store::test_support::{TestBackend, TestDatabase};
use gardien_store::{both_backends, ActionFilter, AuditFilter, NewAccount, Store, StoreError};
use time::{Duration, OffsetDateTime};

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap()
}

fn event(org: OrganizationId, at: OffsetDateTime, action: &str) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        occurred_at: at,
        organization_id: Some(org),
        actor: Actor::System,
        action: action.into(),
        target: None,
        before: None,
        after: Some(serde_json::json!({ "n": 1 })),
        ip: None,
        user_agent: None,
        request_id: None,
    }
}

async fn organization(store: &Arc<dyn Store>) -> (Organization, Role) {
    let org = Organization {
        id: OrganizationId::new(),
        name: "Acme".into(),
        requires_activation: false,
        created_at: now(),
    };
    let role = Role {
        id: RoleId::new(),
        organization_id: org.id,
        template: None,
        name: "Dispatcher".into(),
        description: String::new(),
        permissions: [PermissionKey::parse("orders.read").unwrap()].into(),
        scoped: true,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org).await.unwrap();
    tx.insert_role(&role).await.unwrap();
    tx.commit().await.unwrap();
    (org, role)
}

both_backends!(
    async fn purge_is_the_only_deletion(store: Arc<dyn Store>, db: &TestDatabase) {
        let (org, _) = organization(&store).await;
        let (other, _) = organization(&store).await;
        let old = now() - Duration::days(10);
        let mut tx = store.begin().await.unwrap();
        for i in 0..3 {
            tx.append_audit_event(&event(org.id, old + Duration::seconds(i), "a.old"))
                .await
                .unwrap();
        }
        tx.append_audit_event(&event(other.id, old, "a.old"))
            .await
            .unwrap();
        for _ in 0..2 {
            tx.append_audit_event(&event(org.id, now(), "a.new"))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();

        let refused = |result: Result<u64, StoreError>| {
            assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
        };
        refused(db.execute_raw("DELETE FROM audit_events").await);
        refused(db.execute_raw("UPDATE audit_events SET action = 'x'").await);

        let cutoff = now() - Duration::days(5);
        // A purge rolled back deletes nothing.
        let mut tx = store.begin().await.unwrap();
        let purged = tx.purge_audit_events(cutoff).await.unwrap();
        assert_eq!(purged.iter().map(|p| p.deleted).sum::<u64>(), 4);
        drop(tx);
        let all = |org: OrganizationId| {
            let store = store.clone();
            async move {
                store
                    .audit_page(org, &AuditFilter::default(), None, 100)
                    .await
                    .unwrap()
                    .items
                    .len()
            }
        };
        assert_eq!(all(org.id).await, 5);

        let mut tx = store.begin().await.unwrap();
        let mut purged = tx.purge_audit_events(cutoff).await.unwrap();
        tx.commit().await.unwrap();
        purged.sort_by_key(|p| p.deleted);
        let counts: Vec<(Option<OrganizationId>, u64)> = purged
            .iter()
            .map(|p| (p.organization_id, p.deleted))
            .collect();
        assert!(counts.contains(&(Some(org.id), 3)), "{counts:?}");
        assert!(counts.contains(&(Some(other.id), 1)), "{counts:?}");
        assert_eq!(all(org.id).await, 2, "recent events stay");
        assert_eq!(all(other.id).await, 0);

        // After the purge, every other path is refused again.
        refused(db.execute_raw("DELETE FROM audit_events").await);
        refused(db.execute_raw("UPDATE audit_events SET action = 'x'").await);
        match db.backend() {
            TestBackend::Postgres => {
                refused(db.execute_raw("TRUNCATE audit_events").await);
            }
            TestBackend::Sqlite => {
                // The permit never outlives the purge's transaction.
                assert_eq!(
                    db.execute_raw("DELETE FROM audit_purge_permit")
                        .await
                        .unwrap(),
                    0
                );
            }
        }
        assert_eq!(all(org.id).await, 2);
    }
);

fn uuid_literal(db: &TestDatabase, id: uuid::Uuid) -> String {
    match db.backend() {
        TestBackend::Sqlite => format!("X'{}'", id.simple()),
        TestBackend::Postgres => format!("'{id}'"),
    }
}

both_backends!(
    async fn review_reads_overrides_and_assignments(store: Arc<dyn Store>, db: &TestDatabase) {
        let (org, role) = organization(&store).await;
        let account = Account {
            id: AccountId::new(),
            email: Email::parse("ana@example.fr").unwrap(),
            first_name: "Ana".into(),
            last_name: "Lima".into(),
            language: Language::Fr,
            email_verified_at: None,
            created_at: now(),
        };
        let membership = Membership {
            id: MembershipId::new(),
            organization_id: org.id,
            account_id: account.id,
            kind: Kind::Staff,
            role_id: role.id,
            status: MembershipStatus::Active,
            created_at: now(),
            updated_at: now(),
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&NewAccount {
            account: account.clone(),
            password_hash: None,
        })
        .await
        .unwrap();
        tx.insert_membership(&membership).await.unwrap();
        tx.commit().await.unwrap();
        let m = uuid_literal(db, membership.id.as_uuid());
        let o = uuid_literal(db, org.id.as_uuid());
        let a = uuid_literal(db, uuid::Uuid::now_v7());
        let created = match db.backend() {
            TestBackend::Sqlite => "0".to_owned(),
            TestBackend::Postgres => "now()".to_owned(),
        };
        db.execute_raw(&format!(
            "INSERT INTO overrides (membership_id, permission, effect) VALUES \
             ({m}, 'orders.place', 'grant'), ({m}, 'invoices.read', 'deny')"
        ))
        .await
        .unwrap();
        db.execute_raw(&format!(
            "INSERT INTO assignments (id, organization_id, membership_id, resource_type, \
             resource_id, label, created_at) VALUES ({a}, {o}, {m}, 'order', '42', 'Order 42', {created})"
        ))
        .await
        .unwrap();
        let (other, _) = organization(&store).await;

        let mut tx = store.begin().await.unwrap();
        let members = tx.review_members(org.id).await.unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(
            members[0].overrides,
            [
                ("invoices.read".to_owned(), "deny".to_owned()),
                ("orders.place".to_owned(), "grant".to_owned())
            ]
        );
        assert_eq!(members[0].assignments.len(), 1);
        assert_eq!(members[0].assignments[0].resource_id, "42");
        assert_eq!(members[0].assignments[0].label.as_deref(), Some("Order 42"));
        assert!(tx.review_members(other.id).await.unwrap().is_empty());
    }
);

both_backends!(
    async fn pages_follow_the_keyset_with_ties_and_prefixes_are_byte_ranges(store: Arc<dyn Store>) {
        let (org, _) = organization(&store).await;
        let at = now();
        let mut tx = store.begin().await.unwrap();
        // Same time for all: only the id orders them.
        for action in [
            "membership.a",
            "membership.b",
            "membershipx",
            "membership%",
            "member.c",
        ] {
            for _ in 0..4 {
                tx.append_audit_event(&event(org.id, at, action))
                    .await
                    .unwrap();
            }
        }
        tx.commit().await.unwrap();
        let mut seen = HashSet::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = store
                .audit_page(org.id, &AuditFilter::default(), cursor, 3)
                .await
                .unwrap();
            pages += 1;
            for item in &page.items {
                assert!(seen.insert(item.event.id), "no duplicate");
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), 20);
        assert_eq!(pages, 7);
        let prefix = AuditFilter {
            action: Some(ActionFilter::Prefix("membership.".into())),
            ..AuditFilter::default()
        };
        let page = store.audit_page(org.id, &prefix, None, 100).await.unwrap();
        let mut actions: Vec<&str> = page.items.iter().map(|i| i.event.action.as_str()).collect();
        actions.dedup();
        actions.sort();
        actions.dedup();
        assert_eq!(
            actions,
            ["membership.a", "membership.b"],
            "no LIKE wildcards, no look-alikes"
        );
        // Paged by cursor, the prefix gives the same events in the same
        // (time, id) order as the whole trail filtered by hand.
        let all = store
            .audit_page(org.id, &AuditFilter::default(), None, 100)
            .await
            .unwrap();
        let expected: Vec<_> = all
            .items
            .iter()
            .filter(|i| i.event.action.starts_with("membership."))
            .map(|i| i.event.id)
            .collect();
        let mut paged = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.audit_page(org.id, &prefix, cursor, 3).await.unwrap();
            paged.extend(page.items.iter().map(|i| i.event.id));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(paged, expected);
    }
);
