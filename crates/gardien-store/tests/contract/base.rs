//! The contract suite: the behaviour every back end of [`Store`] must have.
//! Each test runs unchanged on SQLite and on PostgreSQL, on a fresh database.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use gardien_core::audit::{Actor, AuditEvent};
use gardien_core::invitation::Invitation;
use gardien_core::role::ADMINISTRATION_PERMISSION;
use gardien_core::{
    Account, AccountId, AuditEventId, Email, InvitationId, Kind, Language, MailId, Membership,
    MembershipId, MembershipStatus, Organization, OrganizationId, PermissionKey, Role, RoleId,
    Token, TokenHash,
};
use gardien_store::test_support::{TestBackend, TestDatabase};
use gardien_store::{
    both_backends, MemberFilter, NewAccount, NewMail, PageRequest, Store, StoreError, Transaction,
};
use time::{Duration, OffsetDateTime};

/// Now, to the microsecond: what both back ends keep.
fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap()
}

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

fn account(address: &str) -> NewAccount {
    NewAccount {
        account: Account {
            id: AccountId::new(),
            email: email(address),
            first_name: "Ana".into(),
            last_name: "Lima".into(),
            language: Language::Fr,
            email_verified_at: None,
            created_at: now(),
        },
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
    }
}

fn organization(name: &str) -> Organization {
    Organization {
        id: OrganizationId::new(),
        name: name.into(),
        requires_activation: false,
        created_at: now(),
    }
}

fn role(organization: OrganizationId, name: &str, permissions: &[&str], scoped: bool) -> Role {
    Role {
        id: RoleId::new(),
        organization_id: organization,
        template: None,
        name: name.into(),
        description: format!("{name} of the test"),
        permissions: permissions
            .iter()
            .map(|p| PermissionKey::parse(p).unwrap())
            .collect(),
        scoped,
    }
}

fn membership(organization: OrganizationId, account: AccountId, role: RoleId) -> Membership {
    Membership {
        id: MembershipId::new(),
        organization_id: organization,
        account_id: account,
        kind: Kind::Staff,
        role_id: role,
        status: MembershipStatus::Active,
        created_at: now(),
        updated_at: now(),
    }
}

fn invitation(membership: &Membership, address: &str) -> Invitation {
    Invitation {
        id: InvitationId::new(),
        organization_id: membership.organization_id,
        membership_id: membership.id,
        email: email(address),
        language: Language::En,
        invited_by: None,
        created_at: now(),
        expires_at: now() + Duration::days(7),
        accepted_at: None,
        revoked_at: None,
    }
}

fn token(seed: u8) -> TokenHash {
    Token::from_random_bytes([seed; 32]).hash()
}

fn mail(to: &str) -> NewMail {
    NewMail {
        id: MailId::new(),
        to: email(to),
        subject: "Invitation".into(),
        text_body: "Join us".into(),
        html_body: "<p>Join us</p>".into(),
    }
}

fn audit(organization: OrganizationId, action: &str, actor: Actor) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        occurred_at: now(),
        organization_id: Some(organization),
        actor,
        action: action.into(),
        target: Some(format!("organization:{organization}")),
        before: Some(serde_json::json!({ "status": "active" })),
        after: Some(serde_json::json!({ "status": "suspended", "n": [1, 2] })),
        ip: Some("203.0.113.7".into()),
        user_agent: Some("test".into()),
        request_id: Some("req-1".into()),
    }
}

/// An organization with one administrator role, committed.
async fn seeded(store: &Arc<dyn Store>) -> (Organization, Role) {
    let org = organization("Acme");
    let admin = role(
        org.id,
        "Administrator",
        &[ADMINISTRATION_PERMISSION, "team.read"],
        false,
    );
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org).await.unwrap();
    tx.insert_role(&admin).await.unwrap();
    tx.commit().await.unwrap();
    (org, admin)
}

/// A new account holding `role` in `org`, with the given status and kind.
async fn member(
    tx: &mut Box<dyn Transaction>,
    org: OrganizationId,
    role: RoleId,
    status: MembershipStatus,
    kind: Kind,
) -> Membership {
    let new = account(&format!("m{}@example.fr", uuid::Uuid::now_v7().simple()));
    tx.insert_account(&new).await.unwrap();
    let m = Membership {
        status,
        kind,
        ..membership(org, new.account.id, role)
    };
    tx.insert_membership(&m).await.unwrap();
    m
}

fn conflict(result: Result<(), StoreError>) -> &'static str {
    match result {
        Err(StoreError::Conflict { constraint }) => constraint,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

both_backends!(
    async fn accounts_round_trip(store: Arc<dyn Store>) {
        let new = account("Ana.Lima@Example.fr");
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&new).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.account(new.account.id).await.unwrap(),
            Some(new.account.clone())
        );
        let found = tx
            .account_by_email(&email("ana.lima@example.fr"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            found.email.as_str(),
            "Ana.Lima@Example.fr",
            "the address is kept as typed"
        );
        assert_eq!(
            tx.password_hash(new.account.id).await.unwrap(),
            new.password_hash
        );
        assert_eq!(tx.account(AccountId::new()).await.unwrap(), None);
        assert_eq!(tx.password_hash(AccountId::new()).await.unwrap(), None);
    }
);

both_backends!(
    async fn email_is_unique_ignoring_case(store: Arc<dyn Store>) {
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&account("Ana@Example.fr")).await.unwrap();
        let again = tx.insert_account(&account("  ana@EXAMPLE.FR ")).await;
        assert_eq!(conflict(again), "accounts_email");
    }
);

both_backends!(
    async fn sub_addresses_are_distinct_accounts(store: Arc<dyn Store>) {
        let plain = account("ana@example.fr");
        let sub = account("ana+billing@example.fr");
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&plain).await.unwrap();
        tx.insert_account(&sub).await.unwrap();
        let found = tx
            .account_by_email(&email("ANA+billing@example.fr"))
            .await
            .unwrap();
        assert_eq!(found.map(|a| a.id), Some(sub.account.id));
        let found = tx.account_by_email(&email("ana@example.fr")).await.unwrap();
        assert_eq!(found.map(|a| a.id), Some(plain.account.id));
    }
);

both_backends!(
    async fn organizations_round_trip(store: Arc<dyn Store>) {
        let org = Organization {
            requires_activation: true,
            ..organization("Cabinet Dupont")
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_organization(&org).await.unwrap();
        assert_eq!(tx.organization(org.id).await.unwrap(), Some(org));
        assert_eq!(tx.organization(OrganizationId::new()).await.unwrap(), None);
    }
);

both_backends!(
    async fn roles_round_trip_with_permissions(store: Arc<dyn Store>) {
        let (org, admin) = seeded(&store).await;
        let billing = Role {
            template: Some("billing".into()),
            ..role(
                org.id,
                "Billing",
                &["invoices.read", "invoices.download"],
                false,
            )
        };
        let empty = role(org.id, "Nothing yet", &[], true);
        let mut tx = store.begin().await.unwrap();
        tx.insert_role(&billing).await.unwrap();
        tx.insert_role(&empty).await.unwrap();

        assert_eq!(
            tx.role(org.id, billing.id).await.unwrap(),
            Some(billing.clone())
        );
        assert_eq!(
            tx.role(org.id, empty.id).await.unwrap(),
            Some(empty.clone())
        );
        assert_eq!(
            tx.roles(org.id).await.unwrap(),
            vec![admin.clone(), billing.clone(), empty]
        );
        assert_eq!(
            tx.role(OrganizationId::new(), billing.id).await.unwrap(),
            None
        );
        assert!(
            tx.role(org.id, billing.id)
                .await
                .unwrap()
                .unwrap()
                .permissions
                .len()
                == 2
        );
    }
);

both_backends!(
    async fn role_names_are_unique_per_organization(store: Arc<dyn Store>) {
        let (org, _) = seeded(&store).await;
        let other = organization("Other");
        let mut tx = store.begin().await.unwrap();
        let twin = tx
            .insert_role(&role(org.id, "Administrator", &[], false))
            .await;
        assert_eq!(conflict(twin), "roles_name");
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        tx.insert_organization(&other).await.unwrap();
        tx.insert_role(&role(other.id, "Administrator", &[], false))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
);

both_backends!(
    async fn one_membership_per_account_and_organization(store: Arc<dyn Store>) {
        let (org, admin) = seeded(&store).await;
        let (other, other_admin) = seeded(&store).await;
        let person = account("ana@example.fr");
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&person).await.unwrap();
        let first = membership(org.id, person.account.id, admin.id);
        tx.insert_membership(&first).await.unwrap();
        let twin = tx
            .insert_membership(&membership(org.id, person.account.id, admin.id))
            .await;
        assert_eq!(conflict(twin), "memberships_account");
        drop(tx);

        // Staff in one organization, client of another.
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&person).await.unwrap();
        tx.insert_membership(&first).await.unwrap();
        let client = Membership {
            kind: Kind::Client,
            ..membership(other.id, person.account.id, other_admin.id)
        };
        tx.insert_membership(&client).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.memberships_of_account(person.account.id).await.unwrap(),
            vec![first.clone(), client]
        );
        assert_eq!(
            tx.membership(org.id, first.id).await.unwrap(),
            Some(first.clone())
        );
        assert_eq!(tx.membership(other.id, first.id).await.unwrap(), None);
        assert_eq!(
            tx.membership_of(org.id, person.account.id).await.unwrap(),
            Some(first)
        );
        assert_eq!(
            tx.membership_of(org.id, AccountId::new()).await.unwrap(),
            None
        );
    }
);

both_backends!(
    async fn membership_cannot_hold_another_organizations_role(store: Arc<dyn Store>) {
        let (org, admin) = seeded(&store).await;
        let (_, foreign_role) = seeded(&store).await;
        let person = account("ana@example.fr");
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&person).await.unwrap();
        let refused = tx
            .insert_membership(&membership(org.id, person.account.id, foreign_role.id))
            .await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        let m = member(
            &mut tx,
            org.id,
            admin.id,
            MembershipStatus::Active,
            Kind::Staff,
        )
        .await;
        let refused = tx
            .set_membership_role(org.id, m.id, foreign_role.id, now())
            .await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
    }
);

both_backends!(
    async fn membership_changes_apply_only_within_their_organization(store: Arc<dyn Store>) {
        let (org, admin) = seeded(&store).await;
        let (other, _) = seeded(&store).await;
        let billing = role(org.id, "Billing", &["invoices.read"], false);
        let mut tx = store.begin().await.unwrap();
        tx.insert_role(&billing).await.unwrap();
        let m = member(
            &mut tx,
            org.id,
            admin.id,
            MembershipStatus::Active,
            Kind::Staff,
        )
        .await;

        let later = now() + Duration::minutes(1);
        tx.set_membership_status(org.id, m.id, MembershipStatus::Suspended, later)
            .await
            .unwrap();
        tx.set_membership_role(org.id, m.id, billing.id, later)
            .await
            .unwrap();
        let changed = tx.membership(org.id, m.id).await.unwrap().unwrap();
        assert_eq!(
            (changed.status, changed.role_id, changed.updated_at),
            (MembershipStatus::Suspended, billing.id, later)
        );

        let status = tx
            .set_membership_status(other.id, m.id, MembershipStatus::Removed, later)
            .await;
        assert!(
            matches!(status, Err(StoreError::NotFound("membership"))),
            "{status:?}"
        );
        let role_change = tx
            .set_membership_role(other.id, m.id, admin.id, later)
            .await;
        assert!(
            matches!(role_change, Err(StoreError::NotFound("membership"))),
            "{role_change:?}"
        );
        let unknown = tx
            .set_membership_status(org.id, MembershipId::new(), MembershipStatus::Active, later)
            .await;
        assert!(
            matches!(unknown, Err(StoreError::NotFound("membership"))),
            "{unknown:?}"
        );
    }
);

both_backends!(
    async fn uncommitted_transaction_leaves_nothing(store: Arc<dyn Store>) {
        let org = organization("Ghost");
        let person = account("ghost@example.fr");
        let outgoing = mail("ghost@example.fr");
        let mut tx = store.begin().await.unwrap();
        tx.insert_organization(&org).await.unwrap();
        tx.insert_account(&person).await.unwrap();
        tx.enqueue_mail(&outgoing, now()).await.unwrap();
        drop(tx);

        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.organization(org.id).await.unwrap(), None);
        assert_eq!(tx.account(person.account.id).await.unwrap(), None);
        drop(tx);
        assert_eq!(store.mail(outgoing.id).await.unwrap(), None);
        assert!(store
            .claim_mail(now() + Duration::hours(1), Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty());

        // The same writes, committed, are there.
        let mut tx = store.begin().await.unwrap();
        tx.insert_organization(&org).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.organization(org.id).await.unwrap(), Some(org));
    }
);

both_backends!(
    async fn member_filters_and_cursor_pages(store: Arc<dyn Store>) {
        let (org, admin) = seeded(&store).await;
        let (other, other_admin) = seeded(&store).await;
        let billing = role(org.id, "Billing", &["invoices.read"], false);
        let statuses = [
            MembershipStatus::Active,
            MembershipStatus::Invited,
            MembershipStatus::Suspended,
        ];
        let mut tx = store.begin().await.unwrap();
        tx.insert_role(&billing).await.unwrap();
        let mut all = Vec::new();
        for i in 0..25 {
            let role = if i % 5 == 0 { billing.id } else { admin.id };
            let kind = if i % 2 == 0 {
                Kind::Staff
            } else {
                Kind::Client
            };
            all.push(member(&mut tx, org.id, role, statuses[i % 3], kind).await);
        }
        member(
            &mut tx,
            other.id,
            other_admin.id,
            MembershipStatus::Active,
            Kind::Staff,
        )
        .await;
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let mut seen = Vec::new();
        let mut page = PageRequest::first(10);
        let mut sizes = Vec::new();
        loop {
            let got = tx
                .memberships(org.id, &MemberFilter::default(), page)
                .await
                .unwrap();
            sizes.push(got.items.len());
            seen.extend(got.items);
            match got.next_cursor {
                Some(cursor) => {
                    page = PageRequest {
                        after: Some(cursor),
                        limit: 10,
                    }
                }
                None => break,
            }
        }
        assert_eq!(sizes, vec![10, 10, 5]);
        let mut expected = all.clone();
        expected.sort_by_key(|m| m.id);
        assert_eq!(seen, expected, "every member once, by id");

        let filters = [
            MemberFilter {
                status: Some(MembershipStatus::Suspended),
                ..Default::default()
            },
            MemberFilter {
                role_id: Some(billing.id),
                ..Default::default()
            },
            MemberFilter {
                kind: Some(Kind::Client),
                ..Default::default()
            },
            MemberFilter {
                status: Some(MembershipStatus::Active),
                role_id: Some(admin.id),
                kind: Some(Kind::Staff),
            },
        ];
        for filter in filters {
            let want: Vec<_> = expected
                .iter()
                .filter(|m| filter.status.is_none_or(|s| m.status == s))
                .filter(|m| filter.role_id.is_none_or(|r| m.role_id == r))
                .filter(|m| filter.kind.is_none_or(|k| m.kind == k))
                .cloned()
                .collect();
            assert!(!want.is_empty());
            let first = tx
                .memberships(org.id, &filter, PageRequest::first(3))
                .await
                .unwrap();
            assert_eq!(first.items, want[..want.len().min(3)], "{filter:?}");
            let rest = tx
                .memberships(
                    org.id,
                    &filter,
                    PageRequest {
                        after: first.next_cursor,
                        limit: 100,
                    },
                )
                .await
                .unwrap();
            assert_eq!(rest.next_cursor, None);
            assert_eq!([first.items, rest.items].concat(), want, "{filter:?}");
        }
    }
);

both_backends!(
    async fn count_active_administrators_ignores_suspended_and_scoped(store: Arc<dyn Store>) {
        let (org, admin) = seeded(&store).await;
        let (other, other_admin) = seeded(&store).await;
        let scoped_manager = role(org.id, "Scoped manager", &[ADMINISTRATION_PERMISSION], true);
        let reader = role(org.id, "Reader", &["team.read"], false);
        let mut tx = store.begin().await.unwrap();
        tx.insert_role(&scoped_manager).await.unwrap();
        tx.insert_role(&reader).await.unwrap();
        assert_eq!(tx.count_active_administrators(org.id).await.unwrap(), 0);

        let first = member(
            &mut tx,
            org.id,
            admin.id,
            MembershipStatus::Active,
            Kind::Staff,
        )
        .await;
        member(
            &mut tx,
            org.id,
            admin.id,
            MembershipStatus::Active,
            Kind::Client,
        )
        .await;
        member(
            &mut tx,
            org.id,
            admin.id,
            MembershipStatus::Suspended,
            Kind::Staff,
        )
        .await;
        member(
            &mut tx,
            org.id,
            admin.id,
            MembershipStatus::Invited,
            Kind::Staff,
        )
        .await;
        member(
            &mut tx,
            org.id,
            scoped_manager.id,
            MembershipStatus::Active,
            Kind::Staff,
        )
        .await;
        member(
            &mut tx,
            org.id,
            reader.id,
            MembershipStatus::Active,
            Kind::Staff,
        )
        .await;
        member(
            &mut tx,
            other.id,
            other_admin.id,
            MembershipStatus::Active,
            Kind::Staff,
        )
        .await;
        assert_eq!(tx.count_active_administrators(org.id).await.unwrap(), 2);

        tx.set_membership_status(org.id, first.id, MembershipStatus::Suspended, now())
            .await
            .unwrap();
        assert_eq!(tx.count_active_administrators(org.id).await.unwrap(), 1);
        assert_eq!(tx.count_active_administrators(other.id).await.unwrap(), 1);
    }
);

both_backends!(
    async fn one_pending_invitation_per_membership(store: Arc<dyn Store>) {
        let (org, admin) = seeded(&store).await;
        let mut tx = store.begin().await.unwrap();
        let m = member(
            &mut tx,
            org.id,
            admin.id,
            MembershipStatus::Invited,
            Kind::Staff,
        )
        .await;
        let first = invitation(&m, "new@example.fr");
        tx.insert_invitation(&first, &token(1)).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let second = invitation(&m, "new@example.fr");
        assert_eq!(
            conflict(tx.insert_invitation(&second, &token(2)).await),
            "invitations_pending"
        );
        drop(tx);

        // Resending revokes the old link, then issues a new one.
        let mut tx = store.begin().await.unwrap();
        tx.revoke_invitation(org.id, first.id, now()).await.unwrap();
        tx.insert_invitation(&second, &token(2)).await.unwrap();
        let third = invitation(&m, "new@example.fr");
        assert_eq!(
            conflict(tx.insert_invitation(&third, &token(3)).await),
            "invitations_pending"
        );
    }
);

both_backends!(
    async fn invitation_found_by_token_hash(store: Arc<dyn Store>) {
        let (org, admin) = seeded(&store).await;
        let (other, _) = seeded(&store).await;
        let mut tx = store.begin().await.unwrap();
        let inviter = member(
            &mut tx,
            org.id,
            admin.id,
            MembershipStatus::Active,
            Kind::Staff,
        )
        .await;
        let m = member(
            &mut tx,
            org.id,
            admin.id,
            MembershipStatus::Invited,
            Kind::Client,
        )
        .await;
        let sent = Invitation {
            invited_by: Some(inviter.account_id),
            ..invitation(&m, "Invitee@Example.fr")
        };
        tx.insert_invitation(&sent, &token(7)).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.invitation_by_token(&token(7)).await.unwrap(),
            Some(sent.clone())
        );
        assert_eq!(tx.invitation_by_token(&token(8)).await.unwrap(), None);

        let other_org = tx.revoke_invitation(other.id, sent.id, now()).await;
        assert!(
            matches!(other_org, Err(StoreError::NotFound("invitation"))),
            "{other_org:?}"
        );
        let at = now();
        tx.revoke_invitation(org.id, sent.id, at).await.unwrap();
        tx.revoke_invitation(org.id, sent.id, at + Duration::hours(1))
            .await
            .unwrap();
        let revoked = tx.invitation_by_token(&token(7)).await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(at), "the first revocation is kept");

        let reuse = tx
            .insert_invitation(&invitation(&m, "x@example.fr"), &token(7))
            .await;
        assert_eq!(conflict(reuse), "invitations_token");
    }
);

both_backends!(
    async fn audit_events_are_append_only(store: Arc<dyn Store>, db: &TestDatabase) {
        let (org, _) = seeded(&store).await;
        let event = audit(org.id, "membership.suspended", Actor::System);
        let mut tx = store.begin().await.unwrap();
        tx.append_audit_event(&event).await.unwrap();
        tx.commit().await.unwrap();

        let update = db
            .execute_raw("UPDATE audit_events SET action = 'nothing.happened'")
            .await;
        assert!(matches!(update, Err(StoreError::Invalid(_))), "{update:?}");
        let delete = db.execute_raw("DELETE FROM audit_events").await;
        assert!(matches!(delete, Err(StoreError::Invalid(_))), "{delete:?}");
        // The schema allows other writes through the same path.
        assert_eq!(
            db.execute_raw("UPDATE organizations SET name = 'Acme 2'")
                .await
                .unwrap(),
            1
        );

        let mut tx = store.begin().await.unwrap();
        let page = tx
            .audit_events(org.id, PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(page.items, vec![event]);
    }
);

both_backends!(
    async fn audit_events_newest_first_with_cursor(store: Arc<dyn Store>) {
        let (org, _) = seeded(&store).await;
        let (other, _) = seeded(&store).await;
        let actors = [
            Actor::System,
            Actor::Account(AccountId::new()),
            Actor::ApiKey(uuid::Uuid::now_v7()),
        ];
        let mut tx = store.begin().await.unwrap();
        let mut written = Vec::new();
        for i in 0..7 {
            let mut event = audit(org.id, &format!("test.action_{i}"), actors[i % 3].clone());
            if i == 3 {
                event = AuditEvent {
                    target: None,
                    before: None,
                    after: None,
                    ip: None,
                    user_agent: None,
                    request_id: None,
                    ..event
                };
            }
            tx.append_audit_event(&event).await.unwrap();
            written.push(event);
        }
        tx.append_audit_event(&audit(other.id, "elsewhere.done", Actor::System))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let first = tx
            .audit_events(org.id, PageRequest::first(3))
            .await
            .unwrap();
        let second = tx
            .audit_events(
                org.id,
                PageRequest {
                    after: first.next_cursor,
                    limit: 3,
                },
            )
            .await
            .unwrap();
        let third = tx
            .audit_events(
                org.id,
                PageRequest {
                    after: second.next_cursor,
                    limit: 3,
                },
            )
            .await
            .unwrap();
        assert_eq!(first.next_cursor, Some(first.items[2].id.as_uuid()));
        assert_eq!(third.next_cursor, None);
        written.reverse();
        assert_eq!([first.items, second.items, third.items].concat(), written);
    }
);

both_backends!(
    async fn outbox_claim_leases_and_retries(store: Arc<dyn Store>) {
        let t0 = now();
        let lease = Duration::minutes(1);
        let first = mail("one@example.fr");
        let mut tx = store.begin().await.unwrap();
        tx.enqueue_mail(&first, t0).await.unwrap();
        tx.commit().await.unwrap();

        assert!(
            store
                .claim_mail(t0 - Duration::seconds(1), lease, 10)
                .await
                .unwrap()
                .is_empty(),
            "not due yet"
        );
        let claimed = store.claim_mail(t0, lease, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        let message = &claimed[0];
        assert_eq!(
            (message.id, message.attempts, message.created_at),
            (first.id, 1, t0)
        );
        assert_eq!(
            (
                message.to.clone(),
                message.subject.as_str(),
                message.html_body.as_str()
            ),
            (first.to.clone(), "Invitation", "<p>Join us</p>")
        );
        assert!(
            store
                .claim_mail(t0 + Duration::seconds(59), lease, 10)
                .await
                .unwrap()
                .is_empty(),
            "leased"
        );

        // A worker that died loses its lease.
        let again = store.claim_mail(t0 + lease, lease, 10).await.unwrap();
        assert_eq!(
            again.iter().map(|m| (m.id, m.attempts)).collect::<Vec<_>>(),
            vec![(first.id, 2)]
        );

        let retry_at = t0 + Duration::minutes(10);
        store
            .mark_mail_failed(first.id, "451 try later", Some(retry_at))
            .await
            .unwrap();
        assert!(
            store
                .claim_mail(retry_at - Duration::seconds(1), lease, 10)
                .await
                .unwrap()
                .is_empty(),
            "waits for its retry"
        );
        let retried = store.claim_mail(retry_at, lease, 10).await.unwrap();
        assert_eq!(
            retried
                .iter()
                .map(|m| (m.id, m.attempts))
                .collect::<Vec<_>>(),
            vec![(first.id, 3)]
        );
        assert_eq!(retried[0].last_error.as_deref(), Some("451 try later"));

        store
            .mark_mail_failed(first.id, "550 no such user", None)
            .await
            .unwrap();
        let abandoned = store.mail(first.id).await.unwrap().unwrap();
        assert!(abandoned.failed_at.is_some());
        assert_eq!(abandoned.last_error.as_deref(), Some("550 no such user"));
        assert!(
            store
                .claim_mail(t0 + Duration::days(30), lease, 10)
                .await
                .unwrap()
                .is_empty(),
            "abandoned"
        );

        // Oldest first, at most `limit`; a sent message is never claimed again.
        let later: Vec<_> = (0..3).map(|i| mail(&format!("n{i}@example.fr"))).collect();
        let mut tx = store.begin().await.unwrap();
        for m in &later {
            tx.enqueue_mail(m, t0).await.unwrap();
        }
        tx.commit().await.unwrap();
        let two = store.claim_mail(t0, lease, 2).await.unwrap();
        assert_eq!(
            two.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![later[0].id, later[1].id]
        );
        let sent_at = t0 + Duration::seconds(5);
        store.mark_mail_sent(later[0].id, sent_at).await.unwrap();
        assert_eq!(
            store.mail(later[0].id).await.unwrap().unwrap().sent_at,
            Some(sent_at)
        );
        let rest = store
            .claim_mail(t0 + Duration::days(1), lease, 10)
            .await
            .unwrap();
        assert_eq!(
            rest.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![later[1].id, later[2].id]
        );

        let unknown = store.mark_mail_sent(MailId::new(), sent_at).await;
        assert!(
            matches!(unknown, Err(StoreError::NotFound("mail"))),
            "{unknown:?}"
        );
        assert_eq!(store.mail(MailId::new()).await.unwrap(), None);
    }
);

both_backends!(
    async fn concurrent_claims_never_share_a_message(store: Arc<dyn Store>) {
        let t0 = now();
        let mut tx = store.begin().await.unwrap();
        let mut enqueued = HashSet::new();
        for i in 0..60 {
            let m = mail(&format!("c{i}@example.fr"));
            tx.enqueue_mail(&m, t0).await.unwrap();
            enqueued.insert(m.id);
        }
        tx.commit().await.unwrap();

        let workers: Vec<_> = (0..4)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let batch = store.claim_mail(t0, Duration::minutes(5), 3).await.unwrap();
                        if batch.is_empty() {
                            return mine;
                        }
                        mine.extend(batch.into_iter().map(|m| m.id));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.unwrap());
        }
        let distinct: HashSet<_> = all.iter().copied().collect();
        assert_eq!(all.len(), distinct.len(), "a message was claimed twice");
        assert_eq!(distinct, enqueued);
    }
);

both_backends!(
    async fn store_reopens_from_its_url(store: Arc<dyn Store>, db: &TestDatabase) {
        let (org, admin) = seeded(&store).await;
        let reopened = gardien_store::connect(db.url()).await.unwrap();
        assert_eq!(reopened.backend(), store.backend());
        reopened.ping().await.unwrap();
        let mut tx = reopened.begin().await.unwrap();
        assert_eq!(tx.organization(org.id).await.unwrap(), Some(org.clone()));
        let roles: BTreeSet<_> = tx
            .roles(org.id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(roles, BTreeSet::from([admin.id]));
    }
);

both_backends!(
    /// A write that cannot get its lock in time is the database being busy,
    /// not a bug: the store says Unavailable (the web layer answers 503 with
    /// Retry-After), nothing of the write is kept, and the same write goes
    /// through once the other writer is done. On SQLite another connection
    /// holds the write lock past the busy timeout; on PostgreSQL the write
    /// closes a lock cycle and is the one the deadlock detector cancels.
    async fn a_write_kept_waiting_is_unavailable(store: Arc<dyn Store>, db: &TestDatabase) {
        use sqlx::{Connection, Executor};
        let (first, second) = (account("first@example.fr"), account("second@example.fr"));
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&first).await.unwrap();
        tx.insert_account(&second).await.unwrap();
        tx.commit().await.unwrap();
        let changed = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$Y2hhbmdlZA";

        let refused = match db.backend() {
            TestBackend::Sqlite => {
                let mut other = sqlx::SqliteConnection::connect(db.url()).await.unwrap();
                other.execute("BEGIN IMMEDIATE").await.unwrap();
                let refused = match store.begin().await {
                    Ok(_) => panic!("a second writer got the lock"),
                    Err(error) => error,
                };
                other.execute("ROLLBACK").await.unwrap();
                refused
            }
            TestBackend::Postgres => {
                let mut other = sqlx::PgConnection::connect(db.url()).await.unwrap();
                // The other side waits long before looking for a cycle: the
                // store's write, which looks after PostgreSQL's default
                // second, is the one cancelled.
                other.execute("SET deadlock_timeout = '30s'").await.unwrap();
                let mut tx = store.begin().await.unwrap();
                tx.set_password_hash(first.account.id, changed, now())
                    .await
                    .unwrap();
                other.execute("BEGIN").await.unwrap();
                let rename = |id: AccountId| {
                    format!(
                        "UPDATE accounts SET first_name = 'Other' WHERE id = '{}'",
                        id.as_uuid()
                    )
                };
                other
                    .execute(rename(second.account.id).as_str())
                    .await
                    .unwrap();
                let wait_for_first = rename(first.account.id);
                let waiting = tokio::spawn(async move {
                    other.execute(wait_for_first.as_str()).await.unwrap();
                    other.execute("ROLLBACK").await.unwrap();
                });
                // Let the other side queue behind the store's lock first.
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                let refused = tx
                    .set_password_hash(second.account.id, changed, now())
                    .await
                    .expect_err("the write closing the lock cycle went through");
                drop(tx);
                waiting.await.unwrap();
                refused
            }
        };
        match refused {
            StoreError::Unavailable(message) => {
                assert!(message.starts_with("the database is busy"), "{message}")
            }
            other => panic!("expected Unavailable, got {other}"),
        }

        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.password_hash(second.account.id).await.unwrap(),
            second.password_hash,
            "nothing of the refused write is kept"
        );
        tx.set_password_hash(second.account.id, changed, now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin_read().await.unwrap();
        assert_eq!(
            tx.password_hash(second.account.id)
                .await
                .unwrap()
                .as_deref(),
            Some(changed)
        );
        assert_eq!(
            tx.account(first.account.id)
                .await
                .unwrap()
                .unwrap()
                .first_name,
            "Ana",
            "the other side's change was rolled back"
        );
    }
);

#[tokio::test]
async fn sqlite_in_a_missing_directory_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("gardien.db");
    let result = gardien_store::connect(&format!("sqlite://{}", path.display())).await;
    match result {
        Err(StoreError::Unavailable(message)) => {
            assert!(
                message.starts_with(&format!(
                    "cannot open the SQLite database at {}",
                    path.display()
                )),
                "{message}"
            );
        }
        Err(other) => panic!("expected Unavailable, got {other}"),
        Ok(_) => panic!("expected Unavailable, got a store"),
    }
}

#[tokio::test]
async fn unreachable_postgres_fails_fast_without_the_password() {
    let started = std::time::Instant::now();
    let result = gardien_store::connect("postgres://gardien:s3cret-pw@127.0.0.1:9/gardien").await;
    match result {
        Err(StoreError::Unavailable(message)) => {
            assert!(
                message.starts_with("cannot reach PostgreSQL at 127.0.0.1:9"),
                "{message}"
            );
            assert!(!message.contains("s3cret-pw"), "{message}");
        }
        Err(other) => panic!("expected Unavailable, got {other}"),
        Ok(_) => panic!("expected Unavailable, got a store"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn unknown_url_scheme_is_a_configuration_error() {
    let result = gardien_store::connect("mysql://localhost/gardien").await;
    assert!(matches!(result, Err(StoreError::Config(_))));
}

both_backends!(
    async fn email_verification_works_once_and_marks_the_account(store: Arc<dyn Store>) {
        let new = account("verify@example.fr");
        let token = Token::from_random_bytes([3; 32]).hash();
        let at = now();
        let link = gardien_core::EmailVerification::new(new.account.id, at);
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&new).await.unwrap();
        tx.insert_email_verification(&link, &token).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.email_verification_by_token(&token).await.unwrap(),
            Some(link.clone())
        );
        tx.use_email_verification(&token, at + Duration::minutes(1))
            .await
            .unwrap();
        tx.mark_email_verified(new.account.id, at + Duration::minutes(1))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        let again = tx
            .use_email_verification(&token, at + Duration::minutes(2))
            .await;
        assert!(matches!(again, Err(StoreError::NotFound(_))), "{again:?}");
        let used = tx
            .email_verification_by_token(&token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(used.used_at, Some(at + Duration::minutes(1)));
        let account = tx.account(new.account.id).await.unwrap().unwrap();
        assert_eq!(account.email_verified_at, Some(at + Duration::minutes(1)));
        let unknown = Token::from_random_bytes([4; 32]).hash();
        assert_eq!(
            tx.email_verification_by_token(&unknown).await.unwrap(),
            None
        );
        assert!(matches!(
            tx.use_email_verification(&unknown, at).await,
            Err(StoreError::NotFound(_))
        ));
    }
);

both_backends!(
    async fn expired_email_verification_cannot_be_used(store: Arc<dyn Store>) {
        let new = account("late@example.fr");
        let token = Token::from_random_bytes([5; 32]).hash();
        let link = gardien_core::EmailVerification::new(new.account.id, now());
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&new).await.unwrap();
        tx.insert_email_verification(&link, &token).await.unwrap();
        let late = tx
            .use_email_verification(&token, link.expires_at + Duration::seconds(1))
            .await;
        assert!(matches!(late, Err(StoreError::NotFound(_))), "{late:?}");
    }
);

both_backends!(
    async fn sessions_round_trip_bind_touch_and_revoke(store: Arc<dyn Store>) {
        let new = account("session@example.fr");
        let (org, _) = seeded(&store).await;
        let at = now();
        let mut session = gardien_core::Session::new(
            Token::from_random_bytes([9; 32]).hash(),
            new.account.id,
            at,
        );
        session.ip = Some("127.0.0.1".into());
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&new).await.unwrap();
        tx.insert_session(&session).await.unwrap();
        assert_eq!(
            tx.session(&session.id).await.unwrap(),
            Some(session.clone())
        );

        tx.bind_session(&session.id, org.id, Kind::Client)
            .await
            .unwrap();
        tx.touch_session(&session.id, at + Duration::minutes(5))
            .await
            .unwrap();
        // Never back in time.
        tx.touch_session(&session.id, at + Duration::minutes(1))
            .await
            .unwrap();
        let loaded = tx.session(&session.id).await.unwrap().unwrap();
        assert_eq!(loaded.organization, Some((org.id, Kind::Client)));
        assert_eq!(loaded.last_seen_at, at + Duration::minutes(5));

        tx.revoke_session(&session.id, at + Duration::minutes(6))
            .await
            .unwrap();
        tx.revoke_session(&session.id, at + Duration::minutes(7))
            .await
            .unwrap();
        let revoked = tx.session(&session.id).await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(at + Duration::minutes(6)));
        assert!(!revoked.is_live(at + Duration::minutes(6)));
        let bind_revoked = tx.bind_session(&session.id, org.id, Kind::Staff).await;
        assert!(matches!(bind_revoked, Err(StoreError::NotFound(_))));
        let unknown = Token::from_random_bytes([10; 32]).hash();
        assert_eq!(tx.session(&unknown).await.unwrap(), None);
        tx.commit().await.unwrap();
    }
);

both_backends!(
    async fn password_reset_works_once_and_replaces_the_hash(store: Arc<dyn Store>) {
        let new = account("reset@example.fr");
        let token = Token::from_random_bytes([11; 32]).hash();
        let at = now();
        let reset = gardien_core::PasswordReset::new(new.account.id, at);
        let session = gardien_core::Session::new(
            Token::from_random_bytes([12; 32]).hash(),
            new.account.id,
            at,
        );
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&new).await.unwrap();
        tx.insert_session(&session).await.unwrap();
        tx.insert_password_reset(&reset, &token).await.unwrap();
        assert_eq!(
            tx.password_reset_by_token(&token).await.unwrap(),
            Some(reset.clone())
        );
        tx.use_password_reset(&token, at + Duration::minutes(1))
            .await
            .unwrap();
        let again = tx
            .use_password_reset(&token, at + Duration::minutes(2))
            .await;
        assert!(matches!(again, Err(StoreError::NotFound(_))), "{again:?}");
        tx.set_password_hash(new.account.id, "$argon2id$new", at)
            .await
            .unwrap();
        assert_eq!(
            tx.password_hash(new.account.id).await.unwrap().as_deref(),
            Some("$argon2id$new")
        );
        tx.revoke_sessions_of_account(new.account.id, at + Duration::minutes(1))
            .await
            .unwrap();
        let revoked = tx.session(&session.id).await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(at + Duration::minutes(1)));
        let late = gardien_core::PasswordReset::new(new.account.id, at);
        let late_token = Token::from_random_bytes([13; 32]).hash();
        tx.insert_password_reset(&late, &late_token).await.unwrap();
        let expired = tx
            .use_password_reset(&late_token, late.expires_at + Duration::seconds(1))
            .await;
        assert!(matches!(expired, Err(StoreError::NotFound(_))));
    }
);

both_backends!(
    async fn a_read_transaction_reads_one_snapshot_and_writes_nothing(store: Arc<dyn Store>) {
        let (org, _) = seeded(&store).await;
        let mut read = store.begin_read().await.unwrap();
        assert_eq!(
            read.organization(org.id).await.unwrap().map(|o| o.name),
            Some("Acme".to_owned())
        );

        // A writer is not held up by the open reader...
        let later = organization("Globex");
        let mut tx = store.begin().await.unwrap();
        tx.insert_organization(&later).await.unwrap();
        tx.commit().await.unwrap();
        // ...which keeps reading what was committed when it began.
        assert!(read.organization(later.id).await.unwrap().is_none());

        // A write in a read transaction fails and leaves nothing behind.
        let refused = organization("Initech");
        assert!(read.insert_organization(&refused).await.is_err());
        drop(read);
        let mut fresh = store.begin_read().await.unwrap();
        assert!(fresh.organization(refused.id).await.unwrap().is_none());
        assert!(fresh.organization(later.id).await.unwrap().is_some());
        fresh.commit().await.unwrap();
    }
);
