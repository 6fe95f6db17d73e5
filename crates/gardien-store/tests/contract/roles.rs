//! The contract of custom roles' storage (flow 9): rewrite, delete, member
//! counts and moving holders, on SQLite and PostgreSQL alike, including
//! what the schema refuses.

use std::sync::Arc;

use gardien_core::{
    Account, AccountId, Email, Kind, Language, Membership, MembershipId, MembershipStatus,
    Organization, OrganizationId, PermissionKey, Role, RoleId,
};
use gardien_store::{both_backends, NewAccount, Store, StoreError};
use time::OffsetDateTime;

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap()
}

fn role(org: OrganizationId, name: &str, permissions: &[&str]) -> Role {
    Role {
        id: RoleId::new(),
        organization_id: org,
        template: None,
        name: name.into(),
        description: format!("{name} description"),
        permissions: permissions
            .iter()
            .map(|p| PermissionKey::parse(p).unwrap())
            .collect(),
        scoped: false,
    }
}

/// An organization with roles `names` and `holders[i]` members of role `i`.
async fn organization(
    store: &Arc<dyn Store>,
    names: &[&str],
    holders: &[usize],
) -> (Organization, Vec<Role>, Vec<Vec<MembershipId>>) {
    let org = Organization {
        id: OrganizationId::new(),
        name: "Acme".into(),
        requires_activation: false,
        created_at: now(),
    };
    let roles: Vec<Role> = names
        .iter()
        .map(|n| role(org.id, n, &["mail.read", "invoices.read"]))
        .collect();
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org).await.unwrap();
    let mut members = Vec::new();
    for (role, count) in roles.iter().zip(holders) {
        tx.insert_role(role).await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..*count {
            let account = Account {
                id: AccountId::new(),
                email: Email::parse(&format!("{}@example.fr", uuid::Uuid::new_v4())).unwrap(),
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
                role_id: role.id,
                status: MembershipStatus::Active,
                created_at: now(),
                updated_at: now(),
            };
            tx.insert_membership(&membership).await.unwrap();
            ids.push(membership.id);
        }
        ids.sort();
        members.push(ids);
    }
    tx.commit().await.unwrap();
    (org, roles, members)
}

both_backends!(
    async fn a_role_is_rewritten_with_its_permissions(store: Arc<dyn Store>) {
        let (org, roles, _) = organization(&store, &["Billing", "Mail"], &[0, 0]).await;
        let mut edited = roles[0].clone();
        edited.name = "Accounting".into();
        edited.description = "Pays the bills".into();
        edited.scoped = true;
        edited.permissions = [PermissionKey::parse("invoices.download").unwrap()].into();
        let mut tx = store.begin().await.unwrap();
        tx.update_role(&edited).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.role(org.id, edited.id).await.unwrap(),
            Some(edited.clone())
        );
        // The other role is untouched.
        assert_eq!(
            tx.role(org.id, roles[1].id).await.unwrap(),
            Some(roles[1].clone())
        );

        // Another role's name is refused, and nothing changes.
        let mut clash = roles[1].clone();
        clash.name = "Accounting".into();
        clash.permissions.clear();
        assert!(matches!(
            tx.update_role(&clash).await,
            Err(StoreError::Conflict {
                constraint: "roles_name"
            })
        ));
    }
);

both_backends!(
    async fn another_organizations_role_is_not_found(store: Arc<dyn Store>) {
        let (_, roles, _) = organization(&store, &["Billing"], &[0]).await;
        let (other, _, _) = organization(&store, &["Mail"], &[0]).await;
        let mut foreign = roles[0].clone();
        foreign.organization_id = other.id;
        foreign.name = "Hijacked".into();
        let mut tx = store.begin().await.unwrap();
        assert!(matches!(
            tx.update_role(&foreign).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            tx.delete_role(other.id, roles[0].id).await,
            Err(StoreError::NotFound(_))
        ));
        drop(tx);
        let mut tx = store.begin().await.unwrap();
        let kept = tx
            .role(roles[0].organization_id, roles[0].id)
            .await
            .unwrap();
        assert_eq!(kept, Some(roles[0].clone()));
    }
);

both_backends!(
    async fn members_are_counted_and_moved_then_the_role_deleted(store: Arc<dyn Store>) {
        let (org, roles, members) =
            organization(&store, &["Billing", "Mail", "Empty"], &[3, 1, 0]).await;
        let mut tx = store.begin().await.unwrap();
        let counts = tx.role_member_counts(org.id).await.unwrap();
        assert_eq!(counts.get(&roles[0].id), Some(&3));
        assert_eq!(counts.get(&roles[1].id), Some(&1));
        assert_eq!(counts.get(&roles[2].id), None);

        // A held role cannot be deleted: the schema refuses.
        assert!(matches!(
            tx.delete_role(org.id, roles[0].id).await,
            Err(StoreError::Invalid(_))
        ));
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        let moved = tx
            .move_role_members(org.id, roles[0].id, roles[1].id, now())
            .await
            .unwrap();
        assert_eq!(moved, members[0]);
        tx.delete_role(org.id, roles[0].id).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.role(org.id, roles[0].id).await.unwrap(), None);
        let counts = tx.role_member_counts(org.id).await.unwrap();
        assert_eq!(counts.get(&roles[1].id), Some(&4));
        for id in &members[0] {
            let m = tx.membership(org.id, *id).await.unwrap().unwrap();
            assert_eq!(m.role_id, roles[1].id);
        }
        // A role nobody holds is deleted directly.
        tx.delete_role(org.id, roles[2].id).await.unwrap();
        assert_eq!(tx.roles(org.id).await.unwrap().len(), 1);
    }
);

both_backends!(
    async fn holders_cannot_move_to_another_organizations_role(store: Arc<dyn Store>) {
        let (org, roles, members) = organization(&store, &["Billing"], &[2]).await;
        let (_, foreign, _) = organization(&store, &["Mail"], &[0]).await;
        let mut tx = store.begin().await.unwrap();
        assert!(matches!(
            tx.move_role_members(org.id, roles[0].id, foreign[0].id, now())
                .await,
            Err(StoreError::Invalid(_))
        ));
        drop(tx);
        let mut tx = store.begin().await.unwrap();
        for id in &members[0] {
            let m = tx.membership(org.id, *id).await.unwrap().unwrap();
            assert_eq!(m.role_id, roles[0].id);
        }
    }
);
