//! The contract of the team's storage (invitation acceptance and listing,
//! the member list's search, account details, last login, the activation
//! setting), on SQLite and PostgreSQL alike.

use std::sync::Arc;

use gardien_core::invitation::{Invitation, InvitationState};
use gardien_core::{
    Account, AccountId, Email, InvitationId, Kind, Language, Membership, MembershipId,
    MembershipStatus, Organization, OrganizationId, PermissionKey, Role, RoleId, Token, TokenHash,
};
use gardien_store::{
    both_backends, AccountDetails, MemberFilter, NewAccount, PageRequest, Store, StoreError,
};
use time::{Duration, OffsetDateTime};

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap()
}

fn token(seed: u8) -> TokenHash {
    Token::from_random_bytes([seed; 32]).hash()
}

/// An organization with one role and members `(email, first, last)`.
async fn team(
    store: &Arc<dyn Store>,
    people: &[(&str, &str, &str)],
) -> (Organization, Role, Vec<Membership>) {
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
        scoped: false,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org).await.unwrap();
    tx.insert_role(&role).await.unwrap();
    let mut members = Vec::new();
    for (address, first, last) in people {
        let account = Account {
            id: AccountId::new(),
            email: Email::parse(address).unwrap(),
            first_name: (*first).into(),
            last_name: (*last).into(),
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
            status: MembershipStatus::Invited,
            created_at: now(),
            updated_at: now(),
        };
        tx.insert_membership(&membership).await.unwrap();
        members.push(membership);
    }
    tx.commit().await.unwrap();
    (org, role, members)
}

fn invitation(membership: &Membership, expires_in: Duration) -> Invitation {
    Invitation {
        id: InvitationId::new(),
        organization_id: membership.organization_id,
        membership_id: membership.id,
        email: Email::parse("x@example.fr").unwrap(),
        language: Language::Fr,
        invited_by: None,
        created_at: now(),
        expires_at: now() + expires_in,
        accepted_at: None,
        revoked_at: None,
    }
}

both_backends!(
    async fn an_invitation_is_accepted_once_and_never_when_dead(store: Arc<dyn Store>) {
        let (org, _, members) = team(
            &store,
            &[
                ("a@example.fr", "A", "A"),
                ("b@example.fr", "B", "B"),
                ("c@example.fr", "C", "C"),
            ],
        )
        .await;
        let live = invitation(&members[0], Duration::days(7));
        let revoked = invitation(&members[1], Duration::days(7));
        let expired = invitation(&members[2], Duration::seconds(1));
        let mut tx = store.begin().await.unwrap();
        tx.insert_invitation(&live, &token(1)).await.unwrap();
        tx.insert_invitation(&revoked, &token(2)).await.unwrap();
        tx.insert_invitation(&expired, &token(3)).await.unwrap();
        tx.revoke_invitation(org.id, revoked.id, now())
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let later = now() + Duration::seconds(2);
        let mut tx = store.begin().await.unwrap();
        tx.accept_invitation(&token(1), later).await.unwrap();
        for dead in [1, 2, 3] {
            assert!(matches!(
                tx.accept_invitation(&token(dead), later).await,
                Err(StoreError::NotFound(_))
            ));
        }
        let read = tx.invitation(org.id, live.id).await.unwrap().unwrap();
        assert_eq!(read.state(later), InvitationState::Accepted);
        // Another organization's id is not found.
        assert!(tx
            .invitation(OrganizationId::new(), live.id)
            .await
            .unwrap()
            .is_none());
        let page = tx.invitations(org.id, PageRequest::first(2)).await.unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].id, expired.id, "newest first");
        let rest = tx
            .invitations(
                org.id,
                PageRequest {
                    after: page.next_cursor,
                    limit: 2,
                },
            )
            .await
            .unwrap();
        assert_eq!(rest.items.len(), 1);
        assert_eq!(rest.items[0].id, live.id);
        assert!(rest.next_cursor.is_none());
        tx.commit().await.unwrap();

        // The expiry sweep returns only the pending invitation past its
        // expiry (not the accepted or the revoked one), and only once.
        let mut tx = store.begin().await.unwrap();
        let swept = tx.record_expired_invitations(later, 10).await.unwrap();
        assert_eq!(swept.iter().map(|i| i.id).collect::<Vec<_>>(), [expired.id]);
        assert!(tx
            .record_expired_invitations(later + Duration::days(30), 10)
            .await
            .unwrap()
            .is_empty());
        tx.commit().await.unwrap();
    }
);

both_backends!(
    async fn an_organization_is_owned_only_by_one_of_its_memberships(store: Arc<dyn Store>) {
        let (org, _, members) = team(&store, &[("a@example.fr", "A", "A")]).await;
        let (other, _, strangers) = team(&store, &[("z@example.fr", "Z", "Z")]).await;
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.organization_owner(org.id).await.unwrap(), None);
        tx.set_organization_owner(org.id, members[0].id)
            .await
            .unwrap();
        assert!(matches!(
            tx.set_organization_owner(org.id, strangers[0].id).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(
            tx.organization_owner(org.id).await.unwrap(),
            Some(members[0].id)
        );
        assert_eq!(tx.organization_owner(other.id).await.unwrap(), None);
        tx.commit().await.unwrap();
    }
);

both_backends!(
    async fn member_search_matches_email_or_name_without_wildcards(store: Arc<dyn Store>) {
        let (org, role, members) = team(
            &store,
            &[
                ("ana.lima@example.fr", "Ana", "Lima"),
                ("bruno@example.fr", "Bruno", "Costa"),
                ("c_d@example.fr", "Chloé", "Durand"),
            ],
        )
        .await;
        let mut tx = store.begin().await.unwrap();
        let found = |items: &[gardien_store::MemberSummary]| {
            items
                .iter()
                .map(|m| m.email.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        let filter = MemberFilter::default();
        for (search, expected) in [
            ("LIMA", vec!["ana.lima@example.fr"]),
            ("costa bruno", vec!["bruno@example.fr"]),
            ("bruno cos", vec!["bruno@example.fr"]),
            ("c_d", vec!["c_d@example.fr"]),
            ("_", vec!["c_d@example.fr"]),
            ("%", vec![]),
            (
                "example.fr",
                vec!["ana.lima@example.fr", "bruno@example.fr", "c_d@example.fr"],
            ),
        ] {
            let page = tx
                .members(org.id, &filter, Some(search), PageRequest::first(10))
                .await
                .unwrap();
            assert_eq!(found(&page.items), expected, "{search}");
        }
        let by_role = MemberFilter {
            role_id: Some(role.id),
            status: Some(MembershipStatus::Invited),
            kind: Some(Kind::Staff),
        };
        let page = tx
            .members(org.id, &by_role, None, PageRequest::first(2))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next_cursor, Some(members[1].id.as_uuid()));

        // Details, last login and the activation setting are saved.
        let at = now();
        tx.set_account_details(
            members[0].account_id,
            &AccountDetails {
                first_name: "Anna".into(),
                last_name: "Lima".into(),
                title: Some("Comptable".into()),
                phone: None,
            },
            at,
        )
        .await
        .unwrap();
        tx.record_login(org.id, members[0].account_id, at)
            .await
            .unwrap();
        tx.set_requires_activation(org.id, true).await.unwrap();
        let page = tx
            .members(org.id, &filter, Some("anna"), PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(page.items[0].last_login_at, Some(at));
        assert!(
            tx.organization(org.id)
                .await
                .unwrap()
                .unwrap()
                .requires_activation
        );
    }
);

both_backends!(
    async fn invited_names_show_until_acceptance(store: Arc<dyn Store>) {
        let (org, _, members) = team(&store, &[("ana@example.fr", "Ana", "Lima")]).await;
        let mut tx = store.begin().await.unwrap();
        tx.set_invited_names(org.id, members[0].id, "Typed", "Name")
            .await
            .unwrap();
        let filter = MemberFilter::default();
        let listed = tx
            .members(org.id, &filter, None, PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(listed.items[0].first_name, "Typed");
        assert_eq!(listed.items[0].last_name, "Name");
        let by_account_name = tx
            .members(org.id, &filter, Some("lima"), PageRequest::first(10))
            .await
            .unwrap();
        assert!(by_account_name.items.is_empty());
        tx.set_membership_status(org.id, members[0].id, MembershipStatus::Active, now())
            .await
            .unwrap();
        let listed = tx
            .members(org.id, &filter, Some("lima"), PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(listed.items[0].first_name, "Ana");
    }
);

both_backends!(
    async fn member_search_follows_every_write_of_names_and_emails(store: Arc<dyn Store>) {
        let (org, _, members) = team(
            &store,
            &[
                ("ana@example.fr", "Ana", "Lima"),
                ("chloe@example.fr", "Chloé", "Durand"),
                ("quote@example.fr", "Jean \"Jo\"", "O'Neil"),
            ],
        )
        .await;
        // Same names in another organization: never listed here.
        let (other, _, _) = team(&store, &[("ana@other.fr", "Ana", "Lima")]).await;
        let mut tx = store.begin().await.unwrap();
        let filter = MemberFilter::default();
        for m in &members {
            tx.set_membership_status(org.id, m.id, MembershipStatus::Active, now())
                .await
                .unwrap();
        }
        let mut emails = Vec::new();
        for search in [
            "lima", "CHLOÉ", "chlo", "oé", "dur", "\"jo\"", "o'neil", "li", "zz",
        ] {
            let page = tx
                .members(org.id, &filter, Some(search), PageRequest::first(10))
                .await
                .unwrap();
            emails.push(
                page.items
                    .iter()
                    .map(|m| m.email.as_str().to_owned())
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(
            emails,
            vec![
                vec!["ana@example.fr"],
                vec!["chloe@example.fr"],
                vec!["chloe@example.fr"],
                vec!["chloe@example.fr"],
                vec!["chloe@example.fr"],
                vec!["quote@example.fr"],
                vec!["quote@example.fr"],
                vec!["ana@example.fr"],
                Vec::<&str>::new(),
            ]
        );

        // What the organization records about a member is what it searches.
        tx.set_member_record(
            org.id,
            members[0].id,
            &gardien_store::MemberRecord {
                first_name: Some("Anabela".into()),
                last_name: Some("Souza".into()),
                title: None,
                phone: None,
            },
            now(),
        )
        .await
        .unwrap();
        for (text, in_org, expected) in [
            ("souza", org.id, vec!["ana@example.fr"]),
            ("ana lima", org.id, vec![]),
            ("ana lima", other.id, vec!["ana@other.fr"]),
        ] {
            let page = tx
                .members(in_org, &filter, Some(text), PageRequest::first(10))
                .await
                .unwrap();
            let found: Vec<_> = page.items.iter().map(|m| m.email.as_str()).collect();
            assert_eq!(found, expected, "{text}");
        }

        // A new login email is searched at once, the old one no more.
        tx.set_account_email(
            members[1].account_id,
            &Email::parse("c.durand@example.com").unwrap(),
            now(),
        )
        .await
        .unwrap();
        for (text, expected) in [
            ("c.durand@", vec!["c.durand@example.com"]),
            ("chloe@", vec![]),
        ] {
            let page = tx
                .members(org.id, &filter, Some(text), PageRequest::first(10))
                .await
                .unwrap();
            let found: Vec<_> = page.items.iter().map(|m| m.email.as_str()).collect();
            assert_eq!(found, expected, "{text}");
        }
    }
);
