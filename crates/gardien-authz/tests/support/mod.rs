//! Helpers shared by the index's integration tests.
#![allow(dead_code)]

use std::collections::BTreeSet;

use gardien_authz::{AuthzIndex, Change, VersionedChange};
use gardien_core::evaluator::ResourceRef;
use gardien_core::{
    AccountId, Kind, MembershipId, MembershipStatus, OrganizationId, PermissionKey, RoleId,
};

pub fn key(k: &str) -> PermissionKey {
    PermissionKey::parse(k).unwrap()
}

pub fn keys(ks: &[&str]) -> BTreeSet<PermissionKey> {
    ks.iter().map(|k| key(k)).collect()
}

pub fn resource(resource_type: &str, id: &str) -> ResourceRef {
    ResourceRef {
        resource_type: resource_type.into(),
        resource_id: id.into(),
    }
}

/// An index plus the next version to give, so tests read as a list of writes.
pub struct Fixture {
    pub index: AuthzIndex,
    pub version: u64,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            index: AuthzIndex::new(),
            version: 0,
        }
    }

    pub fn apply(&mut self, change: Change) {
        self.version += 1;
        let outcome = self.index.apply(&VersionedChange {
            version: self.version,
            change,
        });
        assert_eq!(outcome, gardien_authz::ApplyOutcome::Applied);
    }

    pub fn role(&mut self, org: OrganizationId, perms: &[&str], scoped: bool) -> RoleId {
        let role_id = RoleId::new();
        self.set_role(org, role_id, perms, scoped);
        role_id
    }

    pub fn set_role(&mut self, org: OrganizationId, role_id: RoleId, perms: &[&str], scoped: bool) {
        self.apply(Change::RoleUpserted {
            organization_id: org,
            role_id,
            permissions: keys(perms),
            scoped,
        });
    }

    pub fn member(
        &mut self,
        org: OrganizationId,
        account: AccountId,
        role: RoleId,
    ) -> MembershipId {
        let membership_id = MembershipId::new();
        self.apply(Change::MembershipUpserted {
            organization_id: org,
            membership_id,
            account_id: account,
            kind: Kind::Staff,
            status: MembershipStatus::Active,
            role_id: role,
        });
        membership_id
    }

    pub fn status(
        &mut self,
        org: OrganizationId,
        membership: MembershipId,
        status: MembershipStatus,
    ) {
        self.apply(Change::MembershipStatusChanged {
            organization_id: org,
            membership_id: membership,
            status,
        });
    }
}
