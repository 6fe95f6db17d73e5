//! Each kind of change, applied once: what it grants or revokes is visible to
//! the very next check.

mod support;

use gardien_authz::{
    ApplyOutcome, AuthzIndex, Change, CheckRequest, MembershipSnapshot, RoleSnapshot, Snapshot,
    VersionedChange, Visible,
};
use gardien_core::evaluator::{OverrideEffect, Reason};
use gardien_core::{AccountId, Kind, MembershipId, MembershipStatus, OrganizationId, RoleId};
use support::{key, keys, resource, Fixture};

fn setup() -> (Fixture, OrganizationId, AccountId, RoleId, MembershipId) {
    let mut f = Fixture::new();
    let org = OrganizationId::new();
    let account = AccountId::new();
    let role = f.role(org, &["mail.read", "invoices.read"], false);
    let membership = f.member(org, account, role);
    (f, org, account, role, membership)
}

#[test]
fn role_grants_and_says_which_role() {
    let (f, org, account, role, _) = setup();
    let d = f.index.check(account, org, &key("mail.read"), None);
    assert!(d.allowed);
    assert_eq!(d.reason, Reason::GrantedByRole { role_id: role });
    let d = f.index.check(account, org, &key("orders.place"), None);
    assert_eq!(d.reason, Reason::NoPermission);
    assert!(!d.allowed);
}

#[test]
fn strangers_and_unknown_organizations_are_not_members() {
    let (f, org, account, _, _) = setup();
    let stranger = AccountId::new();
    assert_eq!(
        f.index.check(stranger, org, &key("mail.read"), None).reason,
        Reason::NotAMember
    );
    let elsewhere = OrganizationId::new();
    assert_eq!(
        f.index
            .check(account, elsewhere, &key("mail.read"), None)
            .reason,
        Reason::NotAMember
    );
    assert!(f.index.effective_permissions(stranger, org).is_empty());
    assert_eq!(f.index.member_facts(stranger, org), None);
}

#[test]
fn suspended_member_is_denied_on_next_check_and_reactivation_restores() {
    let (mut f, org, account, _, membership) = setup();
    f.status(org, membership, MembershipStatus::Suspended);
    let d = f.index.check(account, org, &key("mail.read"), None);
    assert!(!d.allowed);
    assert_eq!(d.reason, Reason::Suspended);
    assert!(f.index.effective_permissions(account, org).is_empty());
    f.status(org, membership, MembershipStatus::Active);
    assert!(f.index.check(account, org, &key("mail.read"), None).allowed);
}

#[test]
fn removed_member_is_denied_on_next_check() {
    let (mut f, org, account, _, membership) = setup();
    f.status(org, membership, MembershipStatus::Removed);
    assert_eq!(
        f.index.check(account, org, &key("mail.read"), None).reason,
        Reason::Removed
    );
}

#[test]
fn invited_and_pending_members_are_denied_with_their_status() {
    let (mut f, org, account, _, membership) = setup();
    f.status(org, membership, MembershipStatus::Invited);
    assert_eq!(
        f.index.check(account, org, &key("mail.read"), None).reason,
        Reason::Invited
    );
    f.status(org, membership, MembershipStatus::PendingActivation);
    assert_eq!(
        f.index.check(account, org, &key("mail.read"), None).reason,
        Reason::PendingActivation
    );
}

#[test]
fn role_change_to_a_role_without_the_permission_denies_at_once() {
    let (mut f, org, account, _, membership) = setup();
    let billing = f.role(org, &["invoices.read"], false);
    f.apply(Change::MembershipRoleChanged {
        organization_id: org,
        membership_id: membership,
        role_id: billing,
    });
    assert_eq!(
        f.index.check(account, org, &key("mail.read"), None).reason,
        Reason::NoPermission
    );
    assert_eq!(
        f.index
            .check(account, org, &key("invoices.read"), None)
            .reason,
        Reason::GrantedByRole { role_id: billing }
    );
}

#[test]
fn role_edit_reaches_every_holder_at_once() {
    let (mut f, org, account, role, _) = setup();
    let other = AccountId::new();
    f.member(org, other, role);
    f.set_role(org, role, &["invoices.read"], false);
    for who in [account, other] {
        assert!(!f.index.check(who, org, &key("mail.read"), None).allowed);
        assert_eq!(
            f.index.effective_permissions(who, org),
            keys(&["invoices.read"])
        );
    }
}

#[test]
fn deny_override_beats_the_role_at_once_and_clearing_it_restores() {
    let (mut f, org, account, _, membership) = setup();
    f.apply(Change::OverrideSet {
        organization_id: org,
        membership_id: membership,
        permission: key("mail.read"),
        effect: OverrideEffect::Deny,
    });
    assert_eq!(
        f.index.check(account, org, &key("mail.read"), None).reason,
        Reason::DeniedByOverride
    );
    assert_eq!(
        f.index.effective_permissions(account, org),
        keys(&["invoices.read"])
    );
    f.apply(Change::OverrideCleared {
        organization_id: org,
        membership_id: membership,
        permission: key("mail.read"),
    });
    assert!(f.index.check(account, org, &key("mail.read"), None).allowed);
}

#[test]
fn grant_override_gives_a_permission_the_role_lacks() {
    let (mut f, org, account, _, membership) = setup();
    f.apply(Change::OverrideSet {
        organization_id: org,
        membership_id: membership,
        permission: key("company.edit"),
        effect: OverrideEffect::Grant,
    });
    assert_eq!(
        f.index
            .check(account, org, &key("company.edit"), None)
            .reason,
        Reason::GrantedByOverride
    );
}

#[test]
fn scoped_member_sees_only_assigned_resources_and_unassigning_denies_at_once() {
    let mut f = Fixture::new();
    let org = OrganizationId::new();
    let account = AccountId::new();
    let user = f.role(org, &["orders.read"], true);
    let membership = f.member(org, account, user);
    let order = resource("order", "42");
    f.apply(Change::AssignmentAdded {
        organization_id: org,
        membership_id: membership,
        resource: order.clone(),
    });
    assert_eq!(
        f.index
            .check(account, org, &key("orders.read"), Some(&order))
            .reason,
        Reason::GrantedByAssignment { role_id: user }
    );
    assert_eq!(
        f.index
            .check(
                account,
                org,
                &key("orders.read"),
                Some(&resource("order", "43"))
            )
            .reason,
        Reason::NotAssigned
    );
    assert_eq!(f.index.members_of_resource(org, &order), vec![membership]);
    assert_eq!(
        f.index
            .visible_resources(account, org, &key("orders.read"), "order"),
        Visible::Only(vec!["42".into()])
    );
    f.apply(Change::AssignmentRemoved {
        organization_id: org,
        membership_id: membership,
        resource: order.clone(),
    });
    assert_eq!(
        f.index
            .check(account, org, &key("orders.read"), Some(&order))
            .reason,
        Reason::NotAssigned
    );
    assert!(f.index.members_of_resource(org, &order).is_empty());
    assert_eq!(
        f.index
            .visible_resources(account, org, &key("orders.read"), "order"),
        Visible::Only(vec![])
    );
}

#[test]
fn visible_resources_is_all_for_unscoped_roles_and_none_with_the_reason() {
    let (mut f, org, account, _, membership) = setup();
    assert_eq!(
        f.index
            .visible_resources(account, org, &key("mail.read"), "letter"),
        Visible::All
    );
    assert_eq!(
        f.index
            .visible_resources(account, org, &key("orders.read"), "order"),
        Visible::None {
            reason: Reason::NoPermission
        }
    );
    f.status(org, membership, MembershipStatus::Suspended);
    assert_eq!(
        f.index
            .visible_resources(account, org, &key("mail.read"), "letter"),
        Visible::None {
            reason: Reason::Suspended
        }
    );
    assert_eq!(
        f.index
            .visible_resources(AccountId::new(), org, &key("mail.read"), "letter"),
        Visible::None {
            reason: Reason::NotAMember
        }
    );
}

#[test]
fn deleted_role_leaves_its_holders_without_its_permissions() {
    let (mut f, org, account, role, membership) = setup();
    f.apply(Change::OverrideSet {
        organization_id: org,
        membership_id: membership,
        permission: key("orders.read"),
        effect: OverrideEffect::Grant,
    });
    f.apply(Change::RoleDeleted {
        organization_id: org,
        role_id: role,
    });
    assert_eq!(
        f.index.check(account, org, &key("mail.read"), None).reason,
        Reason::NoPermission
    );
    // Without its role the member is treated as scoped: the grant override
    // does not open every order.
    assert_eq!(
        f.index
            .check(
                account,
                org,
                &key("orders.read"),
                Some(&resource("order", "1"))
            )
            .reason,
        Reason::NotAssigned
    );
}

#[test]
fn deleted_account_loses_every_membership_at_once() {
    let (mut f, org, account, _, _) = setup();
    let second = OrganizationId::new();
    let role = f.role(second, &["mail.read"], false);
    f.member(second, account, role);
    let survivor = AccountId::new();
    f.member(second, survivor, role);
    f.apply(Change::AccountDeleted {
        account_id: account,
    });
    for o in [org, second] {
        assert_eq!(
            f.index.check(account, o, &key("mail.read"), None).reason,
            Reason::NotAMember
        );
    }
    assert!(
        f.index
            .check(survivor, second, &key("mail.read"), None)
            .allowed
    );
}

#[test]
fn removed_organization_answers_not_a_member() {
    let (mut f, org, account, _, _) = setup();
    f.apply(Change::OrganizationRemoved {
        organization_id: org,
    });
    assert_eq!(
        f.index.check(account, org, &key("mail.read"), None).reason,
        Reason::NotAMember
    );
}

#[test]
fn upsert_keeps_overrides_and_assignments_of_an_existing_membership() {
    let (mut f, org, account, role, membership) = setup();
    f.apply(Change::OverrideSet {
        organization_id: org,
        membership_id: membership,
        permission: key("mail.read"),
        effect: OverrideEffect::Deny,
    });
    f.apply(Change::MembershipUpserted {
        organization_id: org,
        membership_id: membership,
        account_id: account,
        kind: Kind::Client,
        status: MembershipStatus::Active,
        role_id: role,
    });
    assert_eq!(
        f.index.check(account, org, &key("mail.read"), None).reason,
        Reason::DeniedByOverride
    );
}

#[test]
fn stale_and_duplicate_changes_are_ignored_and_a_gap_applies_nothing() {
    let (f, org, account, _, membership) = setup();
    let suspend = |version| VersionedChange {
        version,
        change: Change::MembershipStatusChanged {
            organization_id: org,
            membership_id: membership,
            status: MembershipStatus::Suspended,
        },
    };
    let now = f.index.version();
    assert_eq!(f.index.apply(&suspend(now)), ApplyOutcome::Stale);
    assert_eq!(f.index.apply(&suspend(1)), ApplyOutcome::Stale);
    assert_eq!(
        f.index.apply(&suspend(now + 2)),
        ApplyOutcome::Gap {
            expected: now + 1,
            got: now + 2
        }
    );
    assert_eq!(f.index.version(), now);
    assert!(f.index.check(account, org, &key("mail.read"), None).allowed);
    assert_eq!(f.index.apply(&suspend(now + 1)), ApplyOutcome::Applied);
    assert_eq!(f.index.apply(&suspend(now + 1)), ApplyOutcome::Stale);
    assert!(!f.index.check(account, org, &key("mail.read"), None).allowed);
}

#[test]
fn load_replaces_everything_and_continues_from_the_snapshot_version() {
    let (f, org, account, _, _) = setup();
    let new_org = OrganizationId::new();
    let role = RoleId::new();
    let newcomer = AccountId::new();
    let membership = MembershipId::new();
    let mut overrides = std::collections::BTreeMap::new();
    overrides.insert(key("orders.place"), OverrideEffect::Grant);
    f.index.load(Snapshot {
        version: 100,
        roles: vec![RoleSnapshot {
            organization_id: new_org,
            role_id: role,
            permissions: keys(&["orders.read"]),
            scoped: true,
        }],
        memberships: vec![MembershipSnapshot {
            organization_id: new_org,
            membership_id: membership,
            account_id: newcomer,
            kind: Kind::Client,
            status: MembershipStatus::Active,
            role_id: role,
            overrides,
            assignments: vec![resource("order", "7")],
        }],
    });
    assert_eq!(f.index.version(), 100);
    assert_eq!(
        f.index.check(account, org, &key("mail.read"), None).reason,
        Reason::NotAMember
    );
    assert!(
        f.index
            .check(
                newcomer,
                new_org,
                &key("orders.read"),
                Some(&resource("order", "7"))
            )
            .allowed
    );
    assert_eq!(
        f.index.effective_permissions(newcomer, new_org),
        keys(&["orders.place", "orders.read"])
    );
    assert_eq!(
        f.index
            .members_of_resource(new_org, &resource("order", "7")),
        vec![membership]
    );
    let next = VersionedChange {
        version: 101,
        change: Change::AccountDeleted {
            account_id: newcomer,
        },
    };
    assert_eq!(f.index.apply(&next), ApplyOutcome::Applied);
    assert!(
        !f.index
            .check(newcomer, new_org, &key("orders.read"), None)
            .allowed
    );
}

#[test]
fn an_account_holds_one_membership_per_organization() {
    let (mut f, org, account, role, first) = setup();
    let second = f.member(org, account, role);
    assert_ne!(first, second);
    f.status(org, first, MembershipStatus::Suspended); // the replaced one: no effect
    assert!(f.index.check(account, org, &key("mail.read"), None).allowed);
}

#[test]
fn batch_answers_each_request_in_order() {
    let (f, org, account, _, _) = setup();
    let request = |permission: &str, account| CheckRequest {
        account_id: account,
        organization_id: org,
        permission: key(permission),
        resource: None,
    };
    let answers = f.index.check_batch(&[
        request("mail.read", account),
        request("orders.place", account),
        request("mail.read", AccountId::new()),
    ]);
    let reasons: Vec<_> = answers.into_iter().map(|d| d.reason).collect();
    assert!(matches!(reasons[0], Reason::GrantedByRole { .. }));
    assert_eq!(reasons[1], Reason::NoPermission);
    assert_eq!(reasons[2], Reason::NotAMember);
}

#[test]
fn changes_round_trip_through_json_for_other_instances() {
    let change = VersionedChange {
        version: 7,
        change: Change::AssignmentAdded {
            organization_id: OrganizationId::new(),
            membership_id: MembershipId::new(),
            resource: resource("service", "microsoft-365"),
        },
    };
    let json = serde_json::to_string(&change).unwrap();
    assert!(json.contains("\"type\":\"assignment_added\""), "{json}");
    let back: VersionedChange = serde_json::from_str(&json).unwrap();
    assert_eq!(back, change);
}

#[test]
fn a_fresh_index_is_empty_at_version_zero() {
    let index = AuthzIndex::default();
    assert_eq!(index.version(), 0);
    assert_eq!(
        index
            .check(
                AccountId::new(),
                OrganizationId::new(),
                &key("mail.read"),
                None
            )
            .reason,
        Reason::NotAMember
    );
}
