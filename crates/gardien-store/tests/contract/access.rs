//! The contract of overrides, assignments, the administrator count with
//! overrides, and deployment-wide API keys, on SQLite and PostgreSQL alike.

use std::sync::Arc;

use gardien_core::access::Assignment;
use gardien_core::evaluator::{OverrideEffect, ResourceRef};
use gardien_core::{
    Account, AccountId, ApiKeyId, Email, Kind, Language, Membership, MembershipId,
    MembershipStatus, Organization, OrganizationId, PermissionKey, Role, RoleId, Token,
};
use gardien_store::{both_backends, ApiKey, NewAccount, Store, StoreError};
use time::OffsetDateTime;

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap()
}

fn key(k: &str) -> PermissionKey {
    PermissionKey::parse(k).unwrap()
}

fn order(id: &str) -> ResourceRef {
    ResourceRef {
        resource_type: "order".into(),
        resource_id: id.into(),
    }
}

/// An organization with an administrator role and `n` active administrators.
async fn organization(store: &Arc<dyn Store>, n: usize) -> (Organization, Vec<Membership>) {
    let org = Organization {
        id: OrganizationId::new(),
        name: "Acme".into(),
        requires_activation: false,
        created_at: now(),
    };
    let admin = Role {
        id: RoleId::new(),
        organization_id: org.id,
        template: None,
        name: "Administrator".into(),
        description: String::new(),
        permissions: [key("team.manage"), key("orders.read")].into(),
        scoped: false,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org).await.unwrap();
    tx.insert_role(&admin).await.unwrap();
    let mut members = Vec::new();
    for i in 0..n {
        let account = Account {
            id: AccountId::new(),
            email: Email::parse(&format!("admin{i}-{}@example.fr", org.id)).unwrap(),
            first_name: "A".into(),
            last_name: "B".into(),
            language: Language::Fr,
            email_verified_at: None,
            created_at: now(),
        };
        tx.insert_account(&NewAccount {
            account: account.clone(),
            password_hash: None,
        })
        .await
        .unwrap();
        let membership = Membership {
            id: MembershipId::new(),
            organization_id: org.id,
            account_id: account.id,
            kind: Kind::Staff,
            role_id: admin.id,
            status: MembershipStatus::Active,
            created_at: now(),
            updated_at: now(),
        };
        tx.insert_membership(&membership).await.unwrap();
        members.push(membership);
    }
    tx.commit().await.unwrap();
    (org, members)
}

both_backends!(
    async fn overrides_are_set_replaced_and_cleared(store: Arc<dyn Store>) {
        let (_, members) = organization(&store, 1).await;
        let m = members[0].id;
        let mut tx = store.begin().await.unwrap();
        assert!(tx.overrides(m).await.unwrap().is_empty());
        assert_eq!(
            tx.set_override(m, &key("invoices.read"), OverrideEffect::Grant)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            tx.set_override(m, &key("invoices.read"), OverrideEffect::Deny)
                .await
                .unwrap(),
            Some(OverrideEffect::Grant),
            "replaced, reporting what it replaced"
        );
        tx.set_override(m, &key("orders.place"), OverrideEffect::Grant)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let overrides = tx.overrides(m).await.unwrap();
        assert_eq!(overrides.len(), 2);
        assert_eq!(overrides[&key("invoices.read")], OverrideEffect::Deny);
        assert_eq!(
            tx.clear_override(m, &key("invoices.read")).await.unwrap(),
            Some(OverrideEffect::Deny)
        );
        assert_eq!(
            tx.clear_override(m, &key("invoices.read")).await.unwrap(),
            None
        );
        assert_eq!(tx.overrides(m).await.unwrap().len(), 1);
        // The start-up snapshot holds them too.
        tx.commit().await.unwrap();
        let snapshot = store.authz_snapshot().await.unwrap();
        let held = snapshot
            .memberships
            .iter()
            .find(|s| s.membership_id == m)
            .unwrap();
        assert_eq!(
            held.overrides.get(&key("orders.place")),
            Some(&OverrideEffect::Grant)
        );
    }
);

both_backends!(
    async fn assignments_are_idempotent_and_kept_per_organization(store: Arc<dyn Store>) {
        let (org, members) = organization(&store, 2).await;
        let (other, _) = organization(&store, 1).await;
        let assignment = |member: MembershipId, id: &str, label: &str| Assignment {
            organization_id: org.id,
            membership_id: member,
            resource: order(id),
            label: label.into(),
            created_at: now(),
        };
        let mut tx = store.begin().await.unwrap();
        assert!(tx
            .insert_assignment(&assignment(members[0].id, "42", "Order 42"))
            .await
            .unwrap());
        assert!(
            !tx.insert_assignment(&assignment(members[0].id, "42", "Another label"))
                .await
                .unwrap(),
            "already assigned: nothing changes"
        );
        assert!(tx
            .insert_assignment(&assignment(members[0].id, "7", "Order 7"))
            .await
            .unwrap());
        assert!(tx
            .insert_assignment(&assignment(members[1].id, "42", "Order 42"))
            .await
            .unwrap());
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let listed = tx.assignments(org.id, members[0].id).await.unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|a| (a.resource.resource_id.as_str(), a.label.as_str()))
                .collect::<Vec<_>>(),
            [("42", "Order 42"), ("7", "Order 7")],
            "sorted, first label kept"
        );
        // Another organization sees none of them.
        assert!(tx
            .assignments(other.id, members[0].id)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            tx.delete_assignment(other.id, members[0].id, &order("42"))
                .await
                .unwrap(),
            None
        );
        let removed = tx
            .delete_assignment(org.id, members[0].id, &order("42"))
            .await
            .unwrap()
            .expect("it was assigned");
        assert_eq!(removed.label, "Order 42");
        assert_eq!(
            tx.delete_assignment(org.id, members[0].id, &order("42"))
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            tx.assignments(org.id, members[1].id).await.unwrap().len(),
            1
        );
        tx.commit().await.unwrap();
    }
);

both_backends!(
    async fn an_administrator_is_counted_after_overrides(store: Arc<dyn Store>) {
        let (org, members) = organization(&store, 2).await;
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.count_active_administrators(org.id).await.unwrap(), 2);
        tx.set_override(members[0].id, &key("team.manage"), OverrideEffect::Deny)
            .await
            .unwrap();
        assert_eq!(tx.count_active_administrators(org.id).await.unwrap(), 1);
        // Another permission's deny does not matter.
        tx.set_override(members[1].id, &key("orders.read"), OverrideEffect::Deny)
            .await
            .unwrap();
        assert_eq!(tx.count_active_administrators(org.id).await.unwrap(), 1);
        tx.set_override(members[0].id, &key("team.manage"), OverrideEffect::Grant)
            .await
            .unwrap();
        assert_eq!(tx.count_active_administrators(org.id).await.unwrap(), 2);
    }
);

both_backends!(
    async fn deployment_keys_are_listed_revoked_and_touched_apart(store: Arc<dyn Store>) {
        let (org, _) = organization(&store, 1).await;
        let key_of = |organization_id: Option<OrganizationId>, name: &str| ApiKey {
            id: ApiKeyId::new(),
            organization_id,
            name: name.into(),
            created_by: None,
            created_at: now(),
            revoked_at: None,
            last_used_at: None,
        };
        let deployment = key_of(None, "Everything");
        let scoped = key_of(Some(org.id), "Acme only");
        let mut tx = store.begin().await.unwrap();
        tx.insert_api_key(&deployment, &Token::from_random_bytes([1; 32]).hash())
            .await
            .unwrap();
        tx.insert_api_key(&scoped, &Token::from_random_bytes([2; 32]).hash())
            .await
            .unwrap();
        let listed = tx.deployment_api_keys().await.unwrap();
        assert_eq!(
            listed.iter().map(|k| k.id).collect::<Vec<_>>(),
            [deployment.id]
        );
        assert_eq!(tx.api_keys(org.id).await.unwrap().len(), 1);
        // An organization's key is not a deployment key.
        assert!(matches!(
            tx.revoke_deployment_api_key(scoped.id, now()).await,
            Err(StoreError::NotFound(_))
        ));
        tx.commit().await.unwrap();

        let used = now();
        assert!(store.touch_api_key(deployment.id, used).await.unwrap());
        // Never moves back.
        assert!(store
            .touch_api_key(deployment.id, used - time::Duration::hours(1))
            .await
            .unwrap());
        let mut tx = store.begin().await.unwrap();
        let revoked = tx
            .revoke_deployment_api_key(deployment.id, now())
            .await
            .unwrap();
        assert_eq!(revoked.last_used_at, Some(used));
        assert!(matches!(
            tx.revoke_deployment_api_key(deployment.id, now()).await,
            Err(StoreError::NotFound(_))
        ));
        tx.commit().await.unwrap();
        assert!(
            !store.touch_api_key(deployment.id, now()).await.unwrap(),
            "a revoked key is reported"
        );
        assert!(store
            .api_key_by_token(&Token::from_random_bytes([1; 32]).hash())
            .await
            .unwrap()
            .is_none());
    }
);
