//! What the write path tells the index: a bulk [`Snapshot`] at start-up (or
//! after a gap), then one [`VersionedChange`] per committed write.
//!
//! Changes are small, serializable values so that, on PostgreSQL, the
//! instance that committed a write can publish it (LISTEN/NOTIFY or a change
//! table) and every other instance applies the very same value.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use gardien_core::evaluator::{OverrideEffect, ResourceRef};
use gardien_core::{
    AccountId, Kind, MembershipId, MembershipStatus, OrganizationId, PermissionKey, RoleId,
};

/// One committed write, as the index needs to know it.
///
/// Membership-level changes name their organization: memberships never move
/// between organizations, and the index keeps each organization apart.
/// A change about a membership the index does not hold is a no-op (it still
/// consumes its version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// A membership was created, or its status, role or kind rewritten
    /// (invitation, acceptance, restore, edit). Its overrides and assignments
    /// are kept when it already exists. An account holds at most one
    /// membership per organization: another membership of the same account
    /// in that organization is dropped.
    MembershipUpserted {
        organization_id: OrganizationId,
        membership_id: MembershipId,
        account_id: AccountId,
        kind: Kind,
        status: MembershipStatus,
        role_id: RoleId,
    },
    /// Suspend, reactivate, activate, remove (soft), restore.
    MembershipStatusChanged {
        organization_id: OrganizationId,
        membership_id: MembershipId,
        status: MembershipStatus,
    },
    MembershipRoleChanged {
        organization_id: OrganizationId,
        membership_id: MembershipId,
        role_id: RoleId,
    },
    /// A role was created or its permissions or scope edited: every holder
    /// sees the new permissions at once.
    RoleUpserted {
        organization_id: OrganizationId,
        role_id: RoleId,
        permissions: BTreeSet<PermissionKey>,
        scoped: bool,
    },
    /// A role was deleted. Members still pointing at it hold no role
    /// permission and are treated as scoped (the restrictive reading).
    RoleDeleted {
        organization_id: OrganizationId,
        role_id: RoleId,
    },
    OverrideSet {
        organization_id: OrganizationId,
        membership_id: MembershipId,
        permission: PermissionKey,
        effect: OverrideEffect,
    },
    OverrideCleared {
        organization_id: OrganizationId,
        membership_id: MembershipId,
        permission: PermissionKey,
    },
    AssignmentAdded {
        organization_id: OrganizationId,
        membership_id: MembershipId,
        resource: ResourceRef,
    },
    AssignmentRemoved {
        organization_id: OrganizationId,
        membership_id: MembershipId,
        resource: ResourceRef,
    },
    /// The organization and everything in it is gone.
    OrganizationRemoved { organization_id: OrganizationId },
    /// The account was deleted: all its memberships go, in every organization.
    AccountDeleted { account_id: AccountId },
}

/// A [`Change`] with its place in the deployment's sequence of writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionedChange {
    /// Strictly increasing by one per committed change, in commit order.
    pub version: u64,
    pub change: Change,
}

/// What [`crate::AuthzIndex::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// The change is visible to every check that starts from now on.
    Applied,
    /// The index already holds this version (duplicate or old): nothing done.
    Stale,
    /// One or more changes are missing between the index and this one: nothing
    /// done; the caller must reload the index from the store.
    Gap { expected: u64, got: u64 },
}

/// Everything the index holds, read from the store in one transaction, with
/// the version of the last change that transaction sees.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u64,
    pub roles: Vec<RoleSnapshot>,
    pub memberships: Vec<MembershipSnapshot>,
}

/// A role as the index needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSnapshot {
    pub organization_id: OrganizationId,
    pub role_id: RoleId,
    pub permissions: BTreeSet<PermissionKey>,
    pub scoped: bool,
}

impl From<&gardien_core::Role> for RoleSnapshot {
    fn from(role: &gardien_core::Role) -> Self {
        Self {
            organization_id: role.organization_id,
            role_id: role.id,
            permissions: role.permissions.clone(),
            scoped: role.scoped,
        }
    }
}

/// A membership with its overrides and assignments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipSnapshot {
    pub organization_id: OrganizationId,
    pub membership_id: MembershipId,
    pub account_id: AccountId,
    pub kind: Kind,
    pub status: MembershipStatus,
    pub role_id: RoleId,
    pub overrides: BTreeMap<PermissionKey, OverrideEffect>,
    pub assignments: Vec<ResourceRef>,
}

impl MembershipSnapshot {
    /// The membership's own facts; add its overrides and assignments.
    pub fn from_membership(membership: &gardien_core::Membership) -> Self {
        Self {
            organization_id: membership.organization_id,
            membership_id: membership.id,
            account_id: membership.account_id,
            kind: membership.kind,
            status: membership.status,
            role_id: membership.role_id,
            overrides: BTreeMap::new(),
            assignments: Vec::new(),
        }
    }
}
