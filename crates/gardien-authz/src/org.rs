//! One organization's authorization data, laid out for checks: members by
//! account, roles as bitsets, overrides as two bitsets per member, assignments
//! as a hash set per member, and a reverse index resource → memberships.
//!
//! An [`OrgData`] is immutable once published. Writers edit a copy: the
//! roles table is an `Arc`'d hash map (few entries, copied whole by a role
//! edit); the tables that grow with the organization — members by account,
//! accounts by membership, the reverse index resource → memberships — are
//! persistent hash maps (HAMTs, `imbl`), so a copy is one pointer and a
//! write copies only the path to the entry it changes: its cost stays
//! logarithmic in the organization's size instead of copying every member.
//! Members are stored inline in the map's leaves; their assignment sets are
//! shared, not copied. The costs are measured by `benches/index.rs`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use imbl::shared_ptr::ArcK;
use imbl::GenericHashMap;
use rustc_hash::{FxBuildHasher, FxHashMap};
use smallvec::SmallVec;

use gardien_core::evaluator::{Decision, MemberFacts, OverrideEffect, Reason, ResourceRef};
use gardien_core::{AccountId, Kind, MembershipId, MembershipStatus, PermissionKey, RoleId};

use crate::permset::{Interner, PermId, PermSet};

/// A role's permissions and scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RoleEntry {
    pub(crate) permissions: PermSet,
    pub(crate) scoped: bool,
}

impl RoleEntry {
    pub(crate) fn holds(role: Option<&RoleEntry>, permission: PermId) -> bool {
        role.is_some_and(|r| r.permissions.contains(permission))
    }

    /// A membership whose role is unknown (deleted) holds no permission from
    /// it and is treated as scoped, so that a grant override alone never opens
    /// every resource.
    pub(crate) fn is_scoped(role: Option<&RoleEntry>) -> bool {
        role.is_none_or(|r| r.scoped)
    }
}

/// Resource names are chosen by the host (and its users), so their maps use a
/// keyed hasher (foldhash, seeded at random per map: ~4× faster than std's
/// SipHash on these short names, which matters for scoped checks and the
/// start-up build); ids and permission numbers use the fast Fx hasher.
type NameHasher = foldhash::fast::RandomState;
pub(crate) type AssignmentSet = HashSet<Arc<ResourceRef>, NameHasher>;

/// A persistent hash map (structural sharing, thread-safe pointers).
pub(crate) type Persistent<K, V, S = FxBuildHasher> = GenericHashMap<K, V, S, ArcK>;

/// One membership.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) membership_id: MembershipId,
    pub(crate) account_id: AccountId,
    pub(crate) kind: Kind,
    pub(crate) status: MembershipStatus,
    pub(crate) role_id: RoleId,
    pub(crate) grants: PermSet,
    pub(crate) denies: PermSet,
    pub(crate) assignments: Arc<AssignmentSet>,
    /// The same resources sorted by (type, id), for listing one type
    /// without filtering or sorting.
    pub(crate) sorted: Arc<Vec<Arc<ResourceRef>>>,
}

impl Member {
    pub(crate) fn new(
        membership_id: MembershipId,
        account_id: AccountId,
        kind: Kind,
        status: MembershipStatus,
        role_id: RoleId,
    ) -> Self {
        Self {
            membership_id,
            account_id,
            kind,
            status,
            role_id,
            grants: PermSet::default(),
            denies: PermSet::default(),
            assignments: Arc::default(),
            sorted: Arc::default(),
        }
    }

    pub(crate) fn set_override(&mut self, permission: PermId, effect: Option<OverrideEffect>) {
        self.grants.remove(permission);
        self.denies.remove(permission);
        match effect {
            Some(OverrideEffect::Grant) => self.grants.insert(permission),
            Some(OverrideEffect::Deny) => self.denies.insert(permission),
            None => {}
        }
    }

    /// The rules of [`gardien_core::evaluator::decide`], in the same order,
    /// read from bitsets instead of sets of keys. `permission` is `None` when
    /// the key was never interned, i.e. no role or override mentions it.
    /// `tests::evaluate_equals_decide_on_the_same_facts` holds the two equal.
    pub(crate) fn evaluate(
        &self,
        role: Option<&RoleEntry>,
        permission: Option<PermId>,
        resource: Option<&ResourceRef>,
    ) -> Decision {
        match self.status {
            MembershipStatus::Active => {}
            MembershipStatus::Invited => return deny(Reason::Invited),
            MembershipStatus::PendingActivation => return deny(Reason::PendingActivation),
            MembershipStatus::Suspended => return deny(Reason::Suspended),
            MembershipStatus::Removed => return deny(Reason::Removed),
        }
        let Some(permission) = permission else {
            return deny(Reason::NoPermission);
        };
        let granted_by = if self.denies.contains(permission) {
            return deny(Reason::DeniedByOverride);
        } else if self.grants.contains(permission) {
            Reason::GrantedByOverride
        } else if RoleEntry::holds(role, permission) {
            Reason::GrantedByRole {
                role_id: self.role_id,
            }
        } else {
            return deny(Reason::NoPermission);
        };
        match resource {
            Some(resource) if RoleEntry::is_scoped(role) => {
                if self.assignments.contains(resource) {
                    allow(Reason::GrantedByAssignment {
                        role_id: self.role_id,
                    })
                } else {
                    deny(Reason::NotAssigned)
                }
            }
            _ => allow(granted_by),
        }
    }

    /// The ids of the resources of `resource_type` assigned to the member,
    /// sorted.
    pub(crate) fn assigned_ids(&self, resource_type: &str) -> Vec<String> {
        let sorted = &self.sorted[..];
        let start = sorted.partition_point(|r| r.resource_type.as_str() < resource_type);
        let len = sorted[start..].partition_point(|r| r.resource_type == resource_type);
        sorted[start..start + len]
            .iter()
            .map(|r| r.resource_id.clone())
            .collect()
    }

    /// The member's facts in the core's plain form.
    pub(crate) fn facts(&self, role: Option<&RoleEntry>, interner: &Interner) -> MemberFacts {
        let keys = |set: &PermSet| {
            set.iter()
                .filter_map(|id| interner.key(id).cloned())
                .collect::<Vec<_>>()
        };
        let mut overrides = BTreeMap::new();
        for key in keys(&self.grants) {
            overrides.insert(key, OverrideEffect::Grant);
        }
        for key in keys(&self.denies) {
            overrides.insert(key, OverrideEffect::Deny);
        }
        MemberFacts {
            status: self.status,
            role_id: self.role_id,
            role_permissions: role
                .map(|r| keys(&r.permissions).into_iter().collect())
                .unwrap_or_default(),
            role_scoped: RoleEntry::is_scoped(role),
            overrides,
            assignments: self.assignments.iter().map(|r| (**r).clone()).collect(),
        }
    }
}

pub(crate) fn allow(reason: Reason) -> Decision {
    Decision {
        allowed: true,
        reason,
    }
}

pub(crate) fn deny(reason: Reason) -> Decision {
    Decision {
        allowed: false,
        reason,
    }
}

/// Memberships a resource is assigned to, sorted by id.
type Holders = SmallVec<[MembershipId; 2]>;

/// One organization, as readers see it.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrgData {
    pub(crate) roles: Arc<FxHashMap<RoleId, RoleEntry>>,
    pub(crate) members: Persistent<AccountId, Member>,
    pub(crate) accounts: Persistent<MembershipId, AccountId>,
    pub(crate) holders: Persistent<Arc<ResourceRef>, Holders, NameHasher>,
    /// The permission interner as it was when this state was published: it
    /// knows every number the state uses (see the ordering rule in
    /// `index.rs`), and reading it here saves readers a second atomic load.
    pub(crate) interner: Arc<Interner>,
}

impl OrgData {
    pub(crate) fn member(&self, account: AccountId) -> Option<(&Member, Option<&RoleEntry>)> {
        let member = self.members.get(&account)?;
        Some((member, self.roles.get(&member.role_id)))
    }

    pub(crate) fn evaluate(
        &self,
        account: AccountId,
        permission: &PermissionKey,
        resource: Option<&ResourceRef>,
    ) -> Decision {
        match self.member(account) {
            Some((member, role)) => {
                // Only an active member's decision depends on the permission.
                let permission = match member.status {
                    MembershipStatus::Active => self.interner.get(permission),
                    _ => None,
                };
                member.evaluate(role, permission, resource)
            }
            None => deny(Reason::NotAMember),
        }
    }

    pub(crate) fn members_of_resource(&self, resource: &ResourceRef) -> Vec<MembershipId> {
        self.holders
            .get(resource)
            .map(|h| h.to_vec())
            .unwrap_or_default()
    }

    // ---- writes (on an unpublished copy) ----

    pub(crate) fn upsert_role(&mut self, role_id: RoleId, entry: RoleEntry) {
        Arc::make_mut(&mut self.roles).insert(role_id, entry);
    }

    pub(crate) fn delete_role(&mut self, role_id: RoleId) {
        if self.roles.contains_key(&role_id) {
            Arc::make_mut(&mut self.roles).remove(&role_id);
        }
    }

    /// Creates or rewrites a membership; see `Change::MembershipUpserted`.
    pub(crate) fn upsert_membership(
        &mut self,
        membership_id: MembershipId,
        account_id: AccountId,
        kind: Kind,
        status: MembershipStatus,
        role_id: RoleId,
    ) {
        // The account's other membership here, if any, is replaced.
        if let Some(other) = self.members.get(&account_id) {
            if other.membership_id != membership_id {
                self.remove_account(account_id);
            }
        }
        let existing = self
            .accounts
            .get(&membership_id)
            .copied()
            .and_then(|account| self.members.get(&account).cloned());
        let mut member = match existing {
            Some(old) => {
                if old.account_id != account_id {
                    self.members.remove(&old.account_id);
                }
                old
            }
            None => Member::new(membership_id, account_id, kind, status, role_id),
        };
        member.account_id = account_id;
        member.kind = kind;
        member.status = status;
        member.role_id = role_id;
        self.accounts.insert(membership_id, account_id);
        self.members.insert(account_id, member);
    }

    /// Edits one membership in place; a no-op when it is unknown.
    pub(crate) fn edit_member(
        &mut self,
        membership_id: MembershipId,
        edit: impl FnOnce(&mut Member),
    ) {
        let Some(account) = self.accounts.get(&membership_id).copied() else {
            return;
        };
        if let Some(member) = self.members.get_mut(&account) {
            edit(member);
        }
    }

    pub(crate) fn add_assignment(&mut self, membership_id: MembershipId, resource: &ResourceRef) {
        let Some(account) = self.accounts.get(&membership_id).copied() else {
            return;
        };
        let Some(member) = self.members.get(&account) else {
            return;
        };
        if member.assignments.contains(resource) {
            return;
        }
        // Share one allocation of the name between the member and the reverse index.
        let resource = self
            .holders
            .get_key_value(resource)
            .map(|(key, _)| Arc::clone(key))
            .unwrap_or_else(|| Arc::new(resource.clone()));
        let holders = self.holders.entry(Arc::clone(&resource)).or_default();
        if let Err(at) = holders.binary_search(&membership_id) {
            holders.insert(at, membership_id);
        }
        if let Some(member) = self.members.get_mut(&account) {
            let sorted = Arc::make_mut(&mut member.sorted);
            if let Err(at) = sorted.binary_search_by(|r| (**r).cmp(&*resource)) {
                sorted.insert(at, Arc::clone(&resource));
            }
            Arc::make_mut(&mut member.assignments).insert(resource);
        }
    }

    pub(crate) fn remove_assignment(
        &mut self,
        membership_id: MembershipId,
        resource: &ResourceRef,
    ) {
        let Some(account) = self.accounts.get(&membership_id).copied() else {
            return;
        };
        let Some(member) = self.members.get(&account) else {
            return;
        };
        if !member.assignments.contains(resource) {
            return;
        }
        if let Some(member) = self.members.get_mut(&account) {
            Arc::make_mut(&mut member.assignments).remove(resource);
            let sorted = Arc::make_mut(&mut member.sorted);
            if let Ok(at) = sorted.binary_search_by(|r| (**r).cmp(resource)) {
                sorted.remove(at);
            }
        }
        self.forget_holder(membership_id, resource);
    }

    fn forget_holder(&mut self, membership_id: MembershipId, resource: &ResourceRef) {
        let holders = &mut self.holders;
        if let Some(list) = holders.get_mut(resource) {
            list.retain(|m| *m != membership_id);
            if list.is_empty() {
                holders.remove(resource);
            }
        }
    }

    /// Drops the account's membership here, with its assignments.
    pub(crate) fn remove_account(&mut self, account_id: AccountId) {
        let Some(member) = self.members.remove(&account_id) else {
            return;
        };
        self.accounts.remove(&member.membership_id);
        for resource in member.assignments.iter() {
            self.forget_holder(member.membership_id, resource);
        }
    }

    /// The accounts holding a membership here.
    pub(crate) fn account_ids(&self) -> impl Iterator<Item = AccountId> + '_ {
        self.members.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gardien_core::evaluator::decide;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const KEYS: [&str; 5] = [
        "mail.read",
        "orders.read",
        "orders.place",
        "team.manage",
        "never.mentioned",
    ];

    fn key(i: usize) -> PermissionKey {
        PermissionKey::parse(KEYS[i]).unwrap()
    }

    fn order(i: usize) -> ResourceRef {
        ResourceRef {
            resource_type: if i % 2 == 0 { "order" } else { "service" }.into(),
            resource_id: i.to_string(),
        }
    }

    proptest! {
        /// The bitset evaluator and the core's `decide` agree on every fact set,
        /// including keys the index never interned and a role that is gone.
        #[test]
        fn evaluate_equals_decide_on_the_same_facts(
            status in prop::sample::select(MembershipStatus::ALL.to_vec()),
            role in prop::option::of(prop::collection::btree_set(0usize..4, 0..4)),
            scoped in any::<bool>(),
            overrides in prop::collection::btree_map(0usize..4, any::<bool>(), 0..4),
            assigned in prop::collection::btree_set(0usize..4, 0..4),
            asked in 0usize..5,
            resource in prop::option::of(0usize..4),
        ) {
            let mut interner = Interner::default();
            let role_id = RoleId::new();
            let overrides: BTreeMap<_, _> = overrides
                .into_iter()
                .map(|(k, g)| (key(k), if g { OverrideEffect::Grant } else { OverrideEffect::Deny }))
                .collect();
            let assignments: BTreeSet<_> = assigned.into_iter().map(order).collect();
            let mut member = Member::new(MembershipId::new(), AccountId::new(), Kind::Staff, status, role_id);
            for (key, effect) in &overrides {
                member.set_override(interner.intern(key), Some(*effect));
            }
            member.assignments = Arc::new(assignments.iter().cloned().map(Arc::new).collect());
            member.sorted = Arc::new(assignments.iter().cloned().map(Arc::new).collect());
            let entry = role.map(|perms| {
                let keys: Vec<_> = perms.into_iter().map(key).collect();
                RoleEntry { permissions: interner.set_of(&keys), scoped }
            });
            let facts = member.facts(entry.as_ref(), &interner);
            // The facts round-trip: what `decide` sees is what was given.
            prop_assert_eq!(&facts.overrides, &overrides);
            prop_assert_eq!(&facts.assignments, &assignments);
            let permission = key(asked);
            let resource = resource.map(order);
            prop_assert_eq!(
                member.evaluate(entry.as_ref(), interner.get(&permission), resource.as_ref()),
                decide(Some(&facts), &permission, resource.as_ref())
            );
        }
    }
}
