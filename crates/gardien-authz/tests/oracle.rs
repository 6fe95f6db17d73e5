//! The index against a naive oracle: random sequences of changes over three
//! organizations, and after each one every query compared with what
//! `gardien_core::evaluator::decide` says on plain facts.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use gardien_authz::{
    ApplyOutcome, AuthzIndex, Change, CheckRequest, MembershipSnapshot, RoleSnapshot, Snapshot,
    VersionedChange, Visible,
};
use gardien_core::evaluator::{
    decide, effective_permissions, MemberFacts, OverrideEffect, ResourceRef,
};
use gardien_core::{
    AccountId, Kind, MembershipId, MembershipStatus, OrganizationId, PermissionKey, RoleId,
};
use proptest::prelude::*;
use support::{key, resource};
use uuid::Uuid;

const ORGS: usize = 3;
const ACCOUNTS: usize = 4;
const MEMBERSHIPS_PER_ORG: usize = 3;
const ROLES_PER_ORG: usize = 3;
/// The last key never appears in a change: the index has no number for it.
const KEYS: [&str; 5] = [
    "mail.read",
    "orders.read",
    "orders.place",
    "team.manage",
    "audit.read",
];
const WRITTEN_KEYS: usize = 4;
const RESOURCES: [(&str, &str); 3] = [("order", "1"), ("order", "2"), ("service", "1")];

fn id(kind: u8, a: usize, b: usize) -> Uuid {
    Uuid::from_u128(((kind as u128) << 64) | ((a as u128) << 32) | b as u128)
}
fn org(i: usize) -> OrganizationId {
    OrganizationId::from_uuid(id(1, i, 0))
}
fn account(i: usize) -> AccountId {
    AccountId::from_uuid(id(2, i, 0))
}
fn membership(o: usize, m: usize) -> MembershipId {
    MembershipId::from_uuid(id(3, o, m))
}
fn role(o: usize, r: usize) -> RoleId {
    RoleId::from_uuid(id(4, o, r))
}
fn res(i: usize) -> ResourceRef {
    resource(RESOURCES[i].0, RESOURCES[i].1)
}

/// Plain structs, no cleverness.
#[derive(Debug, Clone, Default)]
struct Oracle {
    version: u64,
    roles: BTreeMap<(OrganizationId, RoleId), (BTreeSet<PermissionKey>, bool)>,
    members: BTreeMap<(OrganizationId, MembershipId), OracleMember>,
}

#[derive(Debug, Clone)]
struct OracleMember {
    account: AccountId,
    kind: Kind,
    status: MembershipStatus,
    role: RoleId,
    overrides: BTreeMap<PermissionKey, OverrideEffect>,
    assignments: BTreeSet<ResourceRef>,
}

impl Oracle {
    fn apply(&mut self, change: &Change) {
        match change.clone() {
            Change::MembershipUpserted {
                organization_id,
                membership_id,
                account_id,
                kind,
                status,
                role_id,
            } => {
                self.members.retain(|(o, m), member| {
                    !(*o == organization_id && *m != membership_id && member.account == account_id)
                });
                let member = self
                    .members
                    .entry((organization_id, membership_id))
                    .or_insert(OracleMember {
                        account: account_id,
                        kind,
                        status,
                        role: role_id,
                        overrides: BTreeMap::new(),
                        assignments: BTreeSet::new(),
                    });
                member.account = account_id;
                member.kind = kind;
                member.status = status;
                member.role = role_id;
            }
            Change::MembershipStatusChanged {
                organization_id,
                membership_id,
                status,
            } => {
                if let Some(m) = self.members.get_mut(&(organization_id, membership_id)) {
                    m.status = status;
                }
            }
            Change::MembershipRoleChanged {
                organization_id,
                membership_id,
                role_id,
            } => {
                if let Some(m) = self.members.get_mut(&(organization_id, membership_id)) {
                    m.role = role_id;
                }
            }
            Change::RoleUpserted {
                organization_id,
                role_id,
                permissions,
                scoped,
            } => {
                self.roles
                    .insert((organization_id, role_id), (permissions, scoped));
            }
            Change::RoleDeleted {
                organization_id,
                role_id,
            } => {
                self.roles.remove(&(organization_id, role_id));
            }
            Change::OverrideSet {
                organization_id,
                membership_id,
                permission,
                effect,
            } => {
                if let Some(m) = self.members.get_mut(&(organization_id, membership_id)) {
                    m.overrides.insert(permission, effect);
                }
            }
            Change::OverrideCleared {
                organization_id,
                membership_id,
                permission,
            } => {
                if let Some(m) = self.members.get_mut(&(organization_id, membership_id)) {
                    m.overrides.remove(&permission);
                }
            }
            Change::AssignmentAdded {
                organization_id,
                membership_id,
                resource,
            } => {
                if let Some(m) = self.members.get_mut(&(organization_id, membership_id)) {
                    m.assignments.insert(resource);
                }
            }
            Change::AssignmentRemoved {
                organization_id,
                membership_id,
                resource,
            } => {
                if let Some(m) = self.members.get_mut(&(organization_id, membership_id)) {
                    m.assignments.remove(&resource);
                }
            }
            Change::OrganizationRemoved { organization_id } => {
                self.roles.retain(|(o, _), _| *o != organization_id);
                self.members.retain(|(o, _), _| *o != organization_id);
            }
            Change::AccountDeleted { account_id } => {
                self.members.retain(|_, m| m.account != account_id);
            }
        }
    }

    fn membership(&self, a: AccountId, o: OrganizationId) -> Option<(MembershipId, &OracleMember)> {
        self.members
            .iter()
            .find(|((org, _), m)| *org == o && m.account == a)
            .map(|((_, id), m)| (*id, m))
    }

    /// A deleted role grants nothing and counts as scoped (the index's documented rule).
    fn facts(&self, a: AccountId, o: OrganizationId) -> Option<MemberFacts> {
        let (_, m) = self.membership(a, o)?;
        let role = self.roles.get(&(o, m.role));
        Some(MemberFacts {
            status: m.status,
            role_id: m.role,
            role_permissions: role.map(|r| r.0.clone()).unwrap_or_default(),
            role_scoped: role.is_none_or(|r| r.1),
            overrides: m.overrides.clone(),
            assignments: m.assignments.clone(),
        })
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            version: self.version,
            roles: self
                .roles
                .iter()
                .map(|((o, r), (permissions, scoped))| RoleSnapshot {
                    organization_id: *o,
                    role_id: *r,
                    permissions: permissions.clone(),
                    scoped: *scoped,
                })
                .collect(),
            memberships: self
                .members
                .iter()
                .map(|((o, id), m)| MembershipSnapshot {
                    organization_id: *o,
                    membership_id: *id,
                    account_id: m.account,
                    kind: m.kind,
                    status: m.status,
                    role_id: m.role,
                    overrides: m.overrides.clone(),
                    assignments: m.assignments.iter().cloned().collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Apply(Change),
    /// Re-send an already applied version: must be `Stale`.
    Duplicate,
    /// Skip a version: must be `Gap` and change nothing.
    Skip(Change),
    /// Reload the index from the oracle's snapshot.
    Reload,
}

fn any_change() -> impl Strategy<Value = Change> {
    let o = 0..ORGS;
    let m = 0..MEMBERSHIPS_PER_ORG;
    let r = 0..ROLES_PER_ORG;
    let k = 0..WRITTEN_KEYS;
    let status = prop::sample::select(MembershipStatus::ALL.to_vec());
    prop_oneof![
        4 => (o.clone(), m.clone(), 0..ACCOUNTS, r.clone(), status.clone(), any::<bool>()).prop_map(
            |(o, m, a, r, status, staff)| Change::MembershipUpserted {
                organization_id: org(o),
                membership_id: membership(o, m),
                account_id: account(a),
                kind: if staff { Kind::Staff } else { Kind::Client },
                status,
                role_id: role(o, r),
            }
        ),
        3 => (o.clone(), m.clone(), status).prop_map(|(o, m, status)| Change::MembershipStatusChanged {
            organization_id: org(o),
            membership_id: membership(o, m),
            status,
        }),
        2 => (o.clone(), m.clone(), r.clone()).prop_map(|(o, m, r)| Change::MembershipRoleChanged {
            organization_id: org(o),
            membership_id: membership(o, m),
            role_id: role(o, r),
        }),
        4 => (o.clone(), r.clone(), prop::collection::btree_set(k.clone(), 0..=WRITTEN_KEYS), any::<bool>())
            .prop_map(|(o, r, ks, scoped)| Change::RoleUpserted {
                organization_id: org(o),
                role_id: role(o, r),
                permissions: ks.into_iter().map(|i| key(KEYS[i])).collect(),
                scoped,
            }),
        1 => (o.clone(), r).prop_map(|(o, r)| Change::RoleDeleted {
            organization_id: org(o),
            role_id: role(o, r),
        }),
        3 => (o.clone(), m.clone(), k.clone(), any::<bool>()).prop_map(|(o, m, k, grant)| Change::OverrideSet {
            organization_id: org(o),
            membership_id: membership(o, m),
            permission: key(KEYS[k]),
            effect: if grant { OverrideEffect::Grant } else { OverrideEffect::Deny },
        }),
        2 => (o.clone(), m.clone(), k).prop_map(|(o, m, k)| Change::OverrideCleared {
            organization_id: org(o),
            membership_id: membership(o, m),
            permission: key(KEYS[k]),
        }),
        3 => (o.clone(), m.clone(), 0..RESOURCES.len()).prop_map(|(o, m, i)| Change::AssignmentAdded {
            organization_id: org(o),
            membership_id: membership(o, m),
            resource: res(i),
        }),
        2 => (o.clone(), m, 0..RESOURCES.len()).prop_map(|(o, m, i)| Change::AssignmentRemoved {
            organization_id: org(o),
            membership_id: membership(o, m),
            resource: res(i),
        }),
        1 => o.prop_map(|o| Change::OrganizationRemoved { organization_id: org(o) }),
        1 => (0..ACCOUNTS).prop_map(|a| Change::AccountDeleted { account_id: account(a) }),
    ]
}

fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        20 => any_change().prop_map(Step::Apply),
        1 => Just(Step::Duplicate),
        1 => any_change().prop_map(Step::Skip),
        1 => Just(Step::Reload),
    ]
}

/// Every query, every account, organization, permission and resource.
fn assert_index_matches(index: &AuthzIndex, oracle: &Oracle) -> Result<(), TestCaseError> {
    prop_assert_eq!(index.version(), oracle.version);
    let mut batch = Vec::new();
    let mut expected_batch = Vec::new();
    for o in (0..ORGS).map(org) {
        for a in (0..ACCOUNTS).map(account) {
            let facts = oracle.facts(a, o);
            prop_assert_eq!(index.member_facts(a, o), facts.clone());
            prop_assert_eq!(
                index.effective_permissions(a, o),
                facts
                    .as_ref()
                    .map(effective_permissions)
                    .unwrap_or_default()
            );
            for k in KEYS.iter().map(|k| key(k)) {
                let resources =
                    std::iter::once(None).chain((0..RESOURCES.len()).map(|i| Some(res(i))));
                for r in resources {
                    let expected = decide(facts.as_ref(), &k, r.as_ref());
                    prop_assert_eq!(
                        index.check(a, o, &k, r.as_ref()),
                        expected.clone(),
                        "{:?} {:?} {}",
                        a,
                        o,
                        k
                    );
                    batch.push(CheckRequest {
                        account_id: a,
                        organization_id: o,
                        permission: k.clone(),
                        resource: r,
                    });
                    expected_batch.push(expected);
                }
                for resource_type in ["order", "service", "letter"] {
                    let visible = index.visible_resources(a, o, &k, resource_type);
                    let general = decide(facts.as_ref(), &k, None);
                    let expected = match &facts {
                        _ if !general.allowed => Visible::None {
                            reason: general.reason,
                        },
                        Some(f) if f.role_scoped => Visible::Only(
                            f.assignments
                                .iter()
                                .filter(|r| r.resource_type == resource_type)
                                .map(|r| r.resource_id.clone())
                                .collect(),
                        ),
                        _ => Visible::All,
                    };
                    prop_assert_eq!(&visible, &expected);
                    // And the promise it makes: visible ⇔ a check on it is allowed.
                    for (i, _) in RESOURCES
                        .iter()
                        .enumerate()
                        .filter(|(_, (t, _))| *t == resource_type)
                    {
                        let r = res(i);
                        let shown = match &visible {
                            Visible::All => true,
                            Visible::Only(ids) => ids.contains(&r.resource_id),
                            Visible::None { .. } => false,
                        };
                        prop_assert_eq!(shown, decide(facts.as_ref(), &k, Some(&r)).allowed);
                    }
                }
            }
        }
        for i in 0..RESOURCES.len() {
            let r = res(i);
            let mut expected: Vec<MembershipId> = oracle
                .members
                .iter()
                .filter(|((mo, _), m)| *mo == o && m.assignments.contains(&r))
                .map(|((_, id), _)| *id)
                .collect();
            expected.sort();
            prop_assert_eq!(index.members_of_resource(o, &r), expected);
        }
    }
    prop_assert_eq!(index.check_batch(&batch), expected_batch);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn index_answers_every_query_like_decide_on_the_oracle(steps in prop::collection::vec(any_step(), 1..60)) {
        let index = AuthzIndex::new();
        let mut oracle = Oracle::default();
        for step in steps {
            match step {
                Step::Apply(change) => {
                    oracle.version += 1;
                    oracle.apply(&change);
                    let outcome = index.apply(&VersionedChange { version: oracle.version, change });
                    prop_assert_eq!(outcome, ApplyOutcome::Applied);
                }
                Step::Duplicate => {
                    let change = Change::AccountDeleted { account_id: account(0) };
                    let outcome = index.apply(&VersionedChange { version: oracle.version, change });
                    prop_assert_eq!(outcome, ApplyOutcome::Stale);
                }
                Step::Skip(change) => {
                    let outcome = index.apply(&VersionedChange { version: oracle.version + 2, change });
                    prop_assert_eq!(outcome, ApplyOutcome::Gap { expected: oracle.version + 1, got: oracle.version + 2 });
                }
                Step::Reload => index.load(oracle.snapshot()),
            }
            assert_index_matches(&index, &oracle)?;
        }
        // A fresh index loaded from the same facts answers the same.
        assert_index_matches(&AuthzIndex::from_snapshot(oracle.snapshot()), &oracle)?;
    }
}
