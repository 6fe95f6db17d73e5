//! The contract of the authorization index's storage (the change counter,
//! the change log, the start-up snapshot) and of API keys, on SQLite and
//! PostgreSQL alike.

use std::sync::Arc;

use gardien_authz::{Change, VersionedChange};
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

/// An organization, a role holding `team.read`, one active member.
async fn organization(store: &Arc<dyn Store>) -> (Organization, Role, Membership) {
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
        name: "User".into(),
        description: String::new(),
        permissions: [PermissionKey::parse("team.read").unwrap()].into(),
        scoped: true,
    };
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
    tx.insert_organization(&org).await.unwrap();
    tx.insert_role(&role).await.unwrap();
    tx.insert_account(&NewAccount {
        account,
        password_hash: None,
    })
    .await
    .unwrap();
    tx.insert_membership(&membership).await.unwrap();
    tx.commit().await.unwrap();
    (org, role, membership)
}

both_backends!(
    async fn versions_count_committed_changes_only_and_read_back_in_order(store: Arc<dyn Store>) {
        let (org, _, membership) = organization(&store).await;
        assert_eq!(store.authz_snapshot().await.unwrap().version, 0);
        let suspended = Change::MembershipStatusChanged {
            organization_id: org.id,
            membership_id: membership.id,
            status: MembershipStatus::Suspended,
        };
        // Rolled back: the version is not consumed.
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.next_authz_version().await.unwrap(), 1);
        drop(tx);
        for expected in 1..=2 {
            let mut tx = store.begin().await.unwrap();
            let version = tx.next_authz_version().await.unwrap();
            assert_eq!(version, expected);
            tx.record_authz_change(
                &VersionedChange {
                    version,
                    change: suspended.clone(),
                },
                now(),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        let changes = store.authz_changes_after(0).await.unwrap();
        assert_eq!(
            changes.iter().map(|c| c.version).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(changes[0].change, suspended);
        assert_eq!(store.authz_changes_after(2).await.unwrap(), vec![]);
        assert_eq!(store.authz_snapshot().await.unwrap().version, 2);
    }
);

both_backends!(
    async fn snapshot_holds_roles_and_memberships(store: Arc<dyn Store>) {
        let (org, role, membership) = organization(&store).await;
        let snapshot = store.authz_snapshot().await.unwrap();
        let r = snapshot
            .roles
            .iter()
            .find(|r| r.role_id == role.id)
            .unwrap();
        assert_eq!(r.organization_id, org.id);
        assert_eq!(r.permissions, role.permissions);
        assert!(r.scoped);
        let m = snapshot
            .memberships
            .iter()
            .find(|m| m.membership_id == membership.id)
            .unwrap();
        assert_eq!(m.account_id, membership.account_id);
        assert_eq!(m.status, MembershipStatus::Active);
        assert_eq!(m.role_id, role.id);
    }
);

both_backends!(
    async fn api_keys_are_found_by_hash_until_revoked(store: Arc<dyn Store>) {
        let (org, _, _) = organization(&store).await;
        let token = Token::from_random_bytes([7; 32]);
        let key = ApiKey {
            id: ApiKeyId::new(),
            organization_id: Some(org.id),
            name: "Portal".into(),
            created_by: None,
            created_at: now(),
            revoked_at: None,
            last_used_at: None,
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_api_key(&key, &token.hash()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.api_key_by_token(&token.hash()).await.unwrap(),
            Some(key.clone())
        );
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.api_keys(org.id).await.unwrap(), vec![key.clone()]);
        // Another organization's id finds nothing.
        assert!(matches!(
            tx.revoke_api_key(OrganizationId::new(), key.id, now())
                .await,
            Err(StoreError::NotFound(_))
        ));
        let revoked = tx.revoke_api_key(org.id, key.id, now()).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert!(matches!(
            tx.revoke_api_key(org.id, key.id, now()).await,
            Err(StoreError::NotFound(_))
        ));
        tx.commit().await.unwrap();
        assert_eq!(store.api_key_by_token(&token.hash()).await.unwrap(), None);
    }
);
