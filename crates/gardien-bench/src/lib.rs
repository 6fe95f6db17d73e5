//! The generated data set of issue 5's benchmarks, and the query mix they
//! time. Deterministic: the same seed gives the same data, byte for byte.
//!
//! Shape (`Shape::ISSUE_5`): 100 000 accounts, 10 000 organizations,
//! 300 000 memberships, 1 000 000 assignments.
//! - every organization has the six built-in roles (`BUILT_IN_ROLES`) and
//!   0 to 3 custom roles (2 to 8 permissions of the catalog, 30 % scoped);
//! - organization sizes are skewed (a few large, most small: the largest has
//!   about 3 000 members); an account is at most once in an organization;
//! - roles: 5 % administrator, 10 % manager, 15 % mail management,
//!   10 % billing, 10 % formalities, 35 % user (scoped), 15 % custom;
//! - statuses: 90 % active, 4 % suspended, 2 % each invited, pending
//!   activation, removed;
//! - 5 % of memberships have 1 to 3 overrides (grant or deny, even odds);
//! - the first membership of the first organization ([`DataSet::heavy`]) is
//!   an active "user" (scoped) holding 1 000 assignments (`order` 0 to 999);
//!   the other 999 000 go to holders of scoped roles (`order` 70 %,
//!   `service` 30 %, ids drawn from 0..100 000).
//!
//! [`DataSet::queries`] is a shuffled mix of checks drawn from the first
//! [`Shape::query_organizations`] organizations, the same number of each
//! [`QueryKind`], with the index's answer as the expected one.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use gardien_authz::{AuthzIndex, MembershipSnapshot, RoleSnapshot, Snapshot};
use gardien_core::evaluator::{Decision, OverrideEffect, Reason, ResourceRef};
use gardien_core::permission::DEFAULT_CATALOG;
use gardien_core::role::BUILT_IN_ROLES;
use gardien_core::{
    AccountId, Kind, MembershipId, MembershipStatus, OrganizationId, PermissionKey, RoleId,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// The seed of every published figure.
pub const SEED: u64 = 5;

/// How big the data set is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub accounts: usize,
    pub organizations: usize,
    pub memberships: usize,
    pub assignments: usize,
    /// Assignments of the heavy member (included in `assignments`).
    pub heavy_assignments: usize,
    /// Queries are drawn from organizations `0..query_organizations`, so a
    /// subset of the data set holding those answers them all.
    pub query_organizations: usize,
    /// Queries of each kind.
    pub queries_per_kind: usize,
}

impl Shape {
    /// The data set of issue 5.
    pub const ISSUE_5: Shape = Shape {
        accounts: 100_000,
        organizations: 10_000,
        memberships: 300_000,
        assignments: 1_000_000,
        heavy_assignments: 1_000,
        query_organizations: 1_000,
        queries_per_kind: 64,
    };
}

/// What a query exercises, and so what the index must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryKind {
    /// Active member, the role holds the permission, no resource named.
    RoleGranted,
    /// Active member, neither role nor override gives the permission.
    NoPermission,
    /// Active member, a grant override gives a permission the role lacks.
    OverrideGranted,
    /// Active member, a deny override takes away a permission of the role.
    OverrideDenied,
    /// Scoped role, the named resource is assigned to the member.
    ScopedAssigned,
    /// Scoped role, the named resource is not assigned to the member.
    ScopedNotAssigned,
    /// Unscoped role, a resource named: the role's permission covers it.
    UnscopedResource,
    /// The account has no membership in the organization.
    NotAMember,
    /// Suspended member asking for a permission of their role.
    Suspended,
    /// Invited, pending activation or removed member.
    OtherInactive,
}

impl QueryKind {
    pub const ALL: [QueryKind; 10] = [
        Self::RoleGranted,
        Self::NoPermission,
        Self::OverrideGranted,
        Self::OverrideDenied,
        Self::ScopedAssigned,
        Self::ScopedNotAssigned,
        Self::UnscopedResource,
        Self::NotAMember,
        Self::Suspended,
        Self::OtherInactive,
    ];

    /// Whether `decision` is what this kind of query must get.
    pub fn matches(self, decision: &Decision) -> bool {
        matches!(
            (self, &decision.reason),
            (
                Self::RoleGranted | Self::UnscopedResource,
                Reason::GrantedByRole { .. }
            ) | (Self::NoPermission, Reason::NoPermission)
                | (Self::OverrideGranted, Reason::GrantedByOverride)
                | (Self::OverrideDenied, Reason::DeniedByOverride)
                | (Self::ScopedAssigned, Reason::GrantedByAssignment { .. })
                | (Self::ScopedNotAssigned, Reason::NotAssigned)
                | (Self::NotAMember, Reason::NotAMember)
                | (Self::Suspended, Reason::Suspended)
                | (
                    Self::OtherInactive,
                    Reason::Invited | Reason::PendingActivation | Reason::Removed,
                )
        )
    }
}

/// One check of the mix.
#[derive(Debug, Clone)]
pub struct Query {
    pub kind: QueryKind,
    pub account: AccountId,
    pub organization: OrganizationId,
    pub permission: PermissionKey,
    pub resource: Option<ResourceRef>,
    /// The index's answer (asserted to be of `kind`).
    pub allowed: bool,
}

/// The generated data.
pub struct DataSet {
    pub shape: Shape,
    pub snapshot: Snapshot,
    pub accounts: Vec<AccountId>,
    pub organizations: Vec<OrganizationId>,
    /// The scoped, active member with `heavy_assignments` assignments.
    pub heavy: (AccountId, OrganizationId),
    pub queries: Vec<Query>,
}

fn uuid(rng: &mut StdRng) -> Uuid {
    // Version 4 bits, so they read as ordinary random UUIDs.
    uuid::Builder::from_random_bytes(rng.gen()).into_uuid()
}

fn catalog() -> Vec<PermissionKey> {
    DEFAULT_CATALOG
        .iter()
        .map(|e| PermissionKey::parse(e.key).expect("catalog key"))
        .collect()
}

/// A role of the data set: its snapshot and where it sits.
struct GenRole {
    snapshot: RoleSnapshot,
}

fn pick_status(rng: &mut StdRng) -> MembershipStatus {
    match rng.gen_range(0..100) {
        0..90 => MembershipStatus::Active,
        90..94 => MembershipStatus::Suspended,
        94..96 => MembershipStatus::Invited,
        96..98 => MembershipStatus::PendingActivation,
        _ => MembershipStatus::Removed,
    }
}

fn template(key: &str) -> usize {
    BUILT_IN_ROLES
        .iter()
        .position(|t| t.key == key)
        .expect("built-in role")
}

impl DataSet {
    /// Generates the data set of `shape` from `seed`.
    pub fn generate(shape: Shape, seed: u64) -> DataSet {
        let mut rng = StdRng::seed_from_u64(seed);
        let catalog = catalog();
        let accounts: Vec<AccountId> = (0..shape.accounts)
            .map(|_| AccountId::from_uuid(uuid(&mut rng)))
            .collect();
        let organizations: Vec<OrganizationId> = (0..shape.organizations)
            .map(|_| OrganizationId::from_uuid(uuid(&mut rng)))
            .collect();

        // Roles: built-ins, then custom ones, per organization.
        let mut roles: Vec<Vec<GenRole>> = Vec::with_capacity(shape.organizations);
        for &org in &organizations {
            let mut list: Vec<GenRole> = BUILT_IN_ROLES
                .iter()
                .map(|t| GenRole {
                    snapshot: RoleSnapshot {
                        organization_id: org,
                        role_id: RoleId::from_uuid(uuid(&mut rng)),
                        permissions: t.permissions(),
                        scoped: t.scoped,
                    },
                })
                .collect();
            for _ in 0..rng.gen_range(0..=3) {
                let size = rng.gen_range(2..=8);
                let permissions: BTreeSet<PermissionKey> =
                    catalog.choose_multiple(&mut rng, size).cloned().collect();
                list.push(GenRole {
                    snapshot: RoleSnapshot {
                        organization_id: org,
                        role_id: RoleId::from_uuid(uuid(&mut rng)),
                        permissions,
                        scoped: rng.gen_bool(0.3),
                    },
                });
            }
            roles.push(list);
        }

        // Memberships: one per organization, then skewed towards the first ones.
        let mut org_of: Vec<usize> = (0..shape.organizations).collect();
        while org_of.len() < shape.memberships {
            let u: f64 = rng.gen();
            org_of.push(((u * u) * shape.organizations as f64) as usize);
        }
        org_of.sort_unstable();
        let mut members_in: Vec<HashSet<usize>> = vec![HashSet::new(); shape.organizations];
        let mut memberships: Vec<MembershipSnapshot> = Vec::with_capacity(shape.memberships);
        let built_in = BUILT_IN_ROLES.len();
        for &o in &org_of {
            let account = loop {
                let a = rng.gen_range(0..shape.accounts);
                if members_in[o].insert(a) {
                    break a;
                }
            };
            let org_roles = &roles[o];
            let role = match rng.gen_range(0..100) {
                0..5 => template("administrator"),
                5..15 => template("manager"),
                15..30 => template("mail_management"),
                30..40 => template("billing"),
                40..50 => template("formalities"),
                50..85 => template("user"),
                _ if org_roles.len() > built_in => rng.gen_range(built_in..org_roles.len()),
                _ => template("user"),
            };
            let mut overrides = BTreeMap::new();
            if rng.gen_bool(0.05) {
                for _ in 0..rng.gen_range(1..=3) {
                    let effect = if rng.gen_bool(0.5) {
                        OverrideEffect::Grant
                    } else {
                        OverrideEffect::Deny
                    };
                    overrides.insert(catalog.choose(&mut rng).cloned().expect("key"), effect);
                }
            }
            memberships.push(MembershipSnapshot {
                organization_id: organizations[o],
                membership_id: MembershipId::from_uuid(uuid(&mut rng)),
                account_id: accounts[account],
                kind: if rng.gen_bool(0.3) {
                    Kind::Client
                } else {
                    Kind::Staff
                },
                status: pick_status(&mut rng),
                role_id: org_roles[role].snapshot.role_id,
                overrides,
                assignments: Vec::new(),
            });
        }

        // The heavy member: first of the first organization.
        let user = template("user");
        let heavy = &mut memberships[0];
        heavy.status = MembershipStatus::Active;
        heavy.role_id = roles[0][user].snapshot.role_id;
        heavy.overrides.clear();
        heavy.assignments = (0..shape.heavy_assignments)
            .map(|i| ResourceRef {
                resource_type: "order".into(),
                resource_id: i.to_string(),
            })
            .collect();
        let heavy_ids = (heavy.account_id, heavy.organization_id);

        // The other assignments, to holders of scoped roles.
        let scoped_roles: HashSet<RoleId> = roles
            .iter()
            .flatten()
            .filter(|r| r.snapshot.scoped)
            .map(|r| r.snapshot.role_id)
            .collect();
        let holders: Vec<usize> = (1..memberships.len())
            .filter(|&i| scoped_roles.contains(&memberships[i].role_id))
            .collect();
        let mut held: Vec<HashSet<(bool, u32)>> = vec![HashSet::new(); memberships.len()];
        let mut left = shape.assignments - shape.heavy_assignments;
        while left > 0 {
            let at = holders[rng.gen_range(0..holders.len())];
            let order = rng.gen_bool(0.7);
            let id: u32 = rng.gen_range(0..100_000);
            if held[at].insert((order, id)) {
                memberships[at].assignments.push(ResourceRef {
                    resource_type: if order { "order" } else { "service" }.into(),
                    resource_id: id.to_string(),
                });
                left -= 1;
            }
        }

        let snapshot = Snapshot {
            version: 1,
            roles: roles.into_iter().flatten().map(|r| r.snapshot).collect(),
            memberships,
        };
        let queries = queries(&shape, &snapshot, &accounts, &organizations, seed);
        DataSet {
            shape,
            snapshot,
            accounts,
            organizations,
            heavy: heavy_ids,
            queries,
        }
    }

    /// The part of the snapshot about organizations `0..organizations`
    /// (which answers every query when `organizations` ≥
    /// `shape.query_organizations`).
    pub fn subset(&self, organizations: usize) -> Snapshot {
        let keep: HashSet<OrganizationId> = self.organizations[..organizations]
            .iter()
            .copied()
            .collect();
        Snapshot {
            version: self.snapshot.version,
            roles: self
                .snapshot
                .roles
                .iter()
                .filter(|r| keep.contains(&r.organization_id))
                .cloned()
                .collect(),
            memberships: self
                .snapshot
                .memberships
                .iter()
                .filter(|m| keep.contains(&m.organization_id))
                .cloned()
                .collect(),
        }
    }
}

/// Counts of a snapshot: (roles, memberships, assignments, overrides).
pub fn counts(snapshot: &Snapshot) -> (usize, usize, usize, usize) {
    let assignments = snapshot
        .memberships
        .iter()
        .map(|m| m.assignments.len())
        .sum();
    let overrides = snapshot.memberships.iter().map(|m| m.overrides.len()).sum();
    (
        snapshot.roles.len(),
        snapshot.memberships.len(),
        assignments,
        overrides,
    )
}

fn queries(
    shape: &Shape,
    snapshot: &Snapshot,
    accounts: &[AccountId],
    organizations: &[OrganizationId],
    seed: u64,
) -> Vec<Query> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let index = AuthzIndex::from_snapshot(snapshot.clone());
    let catalog = catalog();
    let query_orgs: HashSet<OrganizationId> = organizations[..shape.query_organizations]
        .iter()
        .copied()
        .collect();
    let roles: std::collections::HashMap<RoleId, &RoleSnapshot> =
        snapshot.roles.iter().map(|r| (r.role_id, r)).collect();
    // Memberships of the query organizations; the heavy member first, twice
    // as likely to be drawn as any other for the scoped kinds.
    let candidates: Vec<&MembershipSnapshot> = snapshot
        .memberships
        .iter()
        .filter(|m| query_orgs.contains(&m.organization_id))
        .collect();
    let mut out: Vec<Query> = Vec::new();
    for kind in QueryKind::ALL {
        let mut made = 0;
        let mut tries = 0;
        while made < shape.queries_per_kind {
            tries += 1;
            assert!(tries < 10_000_000, "cannot draw queries of kind {kind:?}");
            let m = if made % 4 == 0
                && matches!(
                    kind,
                    QueryKind::ScopedAssigned | QueryKind::ScopedNotAssigned
                ) {
                candidates[0]
            } else {
                candidates[rng.gen_range(0..candidates.len())]
            };
            let role = roles[&m.role_id];
            let active = m.status == MembershipStatus::Active;
            let not_overridden = |p: &&PermissionKey| !m.overrides.contains_key(*p);
            let role_perm = role
                .permissions
                .iter()
                .filter(not_overridden)
                .nth(rng.gen_range(0..role.permissions.len().max(1)));
            let draw_assigned = |rng: &mut StdRng| {
                (!m.assignments.is_empty())
                    .then(|| m.assignments[rng.gen_range(0..m.assignments.len())].clone())
            };
            let (account, permission, resource) = match kind {
                QueryKind::RoleGranted if active => {
                    let Some(p) = role_perm else { continue };
                    (m.account_id, p.clone(), None)
                }
                QueryKind::NoPermission if active => {
                    let p = &catalog[rng.gen_range(0..catalog.len())];
                    if role.permissions.contains(p) || m.overrides.contains_key(p) {
                        continue;
                    }
                    (m.account_id, p.clone(), None)
                }
                QueryKind::OverrideGranted | QueryKind::OverrideDenied if active => {
                    let want = if kind == QueryKind::OverrideGranted {
                        OverrideEffect::Grant
                    } else {
                        OverrideEffect::Deny
                    };
                    let Some((p, _)) = m.overrides.iter().find(|(p, e)| {
                        **e == want
                            && (want == OverrideEffect::Deny || !role.permissions.contains(*p))
                    }) else {
                        continue;
                    };
                    (m.account_id, p.clone(), None)
                }
                QueryKind::ScopedAssigned if active && role.scoped => {
                    let (Some(p), Some(r)) = (role_perm, draw_assigned(&mut rng)) else {
                        continue;
                    };
                    (m.account_id, p.clone(), Some(r))
                }
                QueryKind::ScopedNotAssigned if active && role.scoped => {
                    let Some(p) = role_perm else { continue };
                    let r = ResourceRef {
                        resource_type: "order".into(),
                        resource_id: rng.gen_range(100_000..200_000u32).to_string(),
                    };
                    (m.account_id, p.clone(), Some(r))
                }
                QueryKind::UnscopedResource if active && !role.scoped => {
                    let Some(p) = role_perm else { continue };
                    let r = ResourceRef {
                        resource_type: "order".into(),
                        resource_id: rng.gen_range(0..100_000u32).to_string(),
                    };
                    (m.account_id, p.clone(), Some(r))
                }
                QueryKind::NotAMember => {
                    let a = accounts[rng.gen_range(0..accounts.len())];
                    let p = &catalog[rng.gen_range(0..catalog.len())];
                    (a, p.clone(), None)
                }
                QueryKind::Suspended if m.status == MembershipStatus::Suspended => {
                    let Some(p) = role_perm else { continue };
                    (m.account_id, p.clone(), None)
                }
                QueryKind::OtherInactive
                    if matches!(
                        m.status,
                        MembershipStatus::Invited
                            | MembershipStatus::PendingActivation
                            | MembershipStatus::Removed
                    ) =>
                {
                    let Some(p) = role_perm else { continue };
                    (m.account_id, p.clone(), None)
                }
                _ => continue,
            };
            let decision = index.check(account, m.organization_id, &permission, resource.as_ref());
            if !kind.matches(&decision) {
                // e.g. a random account that happens to be a member.
                continue;
            }
            out.push(Query {
                kind,
                account,
                organization: m.organization_id,
                permission,
                resource,
                allowed: decision.allowed,
            });
            made += 1;
        }
    }
    out.shuffle(&mut rng);
    out
}
