//! The permission evaluator: `may(account, organization, permission, resource?)`
//! decided from one membership's facts, with the reason that decided.
//!
//! Order of the rules (first that applies wins):
//! 1. no membership → deny `not_a_member`; a membership that is not active →
//!    deny with its status (invited, pending activation, suspended, removed);
//! 2. a *deny* override of the permission → deny `denied_by_override`;
//! 3. a *grant* override, or the role holding the permission → granted,
//!    otherwise deny `no_permission`;
//! 4. when the role is *scoped* and a resource is named, the resource must be
//!    assigned to the member, otherwise deny `not_assigned`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{MembershipStatus, PermissionKey, RoleId};

/// Grant or deny, set on one member for one permission (seed 003's toggles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideEffect {
    Grant,
    Deny,
}

/// A resource of the host application: `order` 42, `service` "microsoft-365".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceRef {
    pub resource_type: String,
    pub resource_id: String,
}

/// What the evaluator needs to know about one membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFacts {
    pub status: MembershipStatus,
    pub role_id: RoleId,
    pub role_permissions: BTreeSet<PermissionKey>,
    pub role_scoped: bool,
    pub overrides: BTreeMap<PermissionKey, OverrideEffect>,
    pub assignments: BTreeSet<ResourceRef>,
}

/// Why a check was allowed or denied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    GrantedByRole { role_id: RoleId },
    GrantedByOverride,
    GrantedByAssignment { role_id: RoleId },
    NotAMember,
    Invited,
    PendingActivation,
    Suspended,
    Removed,
    DeniedByOverride,
    NoPermission,
    NotAssigned,
}

/// The answer to one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub allowed: bool,
    pub reason: Reason,
}

impl Decision {
    fn allow(reason: Reason) -> Self {
        Self {
            allowed: true,
            reason,
        }
    }
    fn deny(reason: Reason) -> Self {
        Self {
            allowed: false,
            reason,
        }
    }
}

/// Decides whether the member described by `facts` may use `permission`,
/// on `resource` when one is named.
pub fn decide(
    facts: Option<&MemberFacts>,
    permission: &PermissionKey,
    resource: Option<&ResourceRef>,
) -> Decision {
    let Some(facts) = facts else {
        return Decision::deny(Reason::NotAMember);
    };
    match facts.status {
        MembershipStatus::Active => {}
        MembershipStatus::Invited => return Decision::deny(Reason::Invited),
        MembershipStatus::PendingActivation => return Decision::deny(Reason::PendingActivation),
        MembershipStatus::Suspended => return Decision::deny(Reason::Suspended),
        MembershipStatus::Removed => return Decision::deny(Reason::Removed),
    }
    let granted_by = match facts.overrides.get(permission) {
        Some(OverrideEffect::Deny) => return Decision::deny(Reason::DeniedByOverride),
        Some(OverrideEffect::Grant) => Reason::GrantedByOverride,
        None if facts.role_permissions.contains(permission) => Reason::GrantedByRole {
            role_id: facts.role_id,
        },
        None => return Decision::deny(Reason::NoPermission),
    };
    match resource {
        Some(resource) if facts.role_scoped => {
            if facts.assignments.contains(resource) {
                Decision::allow(Reason::GrantedByAssignment {
                    role_id: facts.role_id,
                })
            } else {
                Decision::deny(Reason::NotAssigned)
            }
        }
        _ => Decision::allow(granted_by),
    }
}

/// The permissions the member holds, after overrides.
pub fn effective_permissions(facts: &MemberFacts) -> BTreeSet<PermissionKey> {
    if facts.status != MembershipStatus::Active {
        return BTreeSet::new();
    }
    let mut permissions = facts.role_permissions.clone();
    for (permission, effect) in &facts.overrides {
        match effect {
            OverrideEffect::Grant => permissions.insert(permission.clone()),
            OverrideEffect::Deny => permissions.remove(permission),
        };
    }
    permissions
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(k: &str) -> PermissionKey {
        PermissionKey::parse(k).unwrap()
    }

    fn order(id: &str) -> ResourceRef {
        ResourceRef {
            resource_type: "order".into(),
            resource_id: id.into(),
        }
    }

    fn facts(perms: &[&str], scoped: bool) -> MemberFacts {
        MemberFacts {
            status: MembershipStatus::Active,
            role_id: RoleId::new(),
            role_permissions: perms.iter().map(|p| key(p)).collect(),
            role_scoped: scoped,
            overrides: BTreeMap::new(),
            assignments: BTreeSet::new(),
        }
    }

    #[test]
    fn role_grants_and_says_which() {
        let f = facts(&["mail.read"], false);
        let d = decide(Some(&f), &key("mail.read"), None);
        assert_eq!(
            d,
            Decision::allow(Reason::GrantedByRole { role_id: f.role_id })
        );
        assert_eq!(
            decide(Some(&f), &key("invoices.read"), None),
            Decision::deny(Reason::NoPermission)
        );
    }

    #[test]
    fn non_members_and_inactive_members_are_denied() {
        assert_eq!(
            decide(None, &key("mail.read"), None).reason,
            Reason::NotAMember
        );
        let mut f = facts(&["mail.read"], false);
        for (status, reason) in [
            (MembershipStatus::Invited, Reason::Invited),
            (
                MembershipStatus::PendingActivation,
                Reason::PendingActivation,
            ),
            (MembershipStatus::Suspended, Reason::Suspended),
            (MembershipStatus::Removed, Reason::Removed),
        ] {
            f.status = status;
            assert_eq!(
                decide(Some(&f), &key("mail.read"), None),
                Decision::deny(reason)
            );
            assert!(effective_permissions(&f).is_empty());
        }
    }

    #[test]
    fn overrides_beat_the_role() {
        let mut f = facts(&["orders.place"], false);
        f.overrides
            .insert(key("orders.place"), OverrideEffect::Deny);
        f.overrides
            .insert(key("invoices.read"), OverrideEffect::Grant);
        assert_eq!(
            decide(Some(&f), &key("orders.place"), None).reason,
            Reason::DeniedByOverride
        );
        assert_eq!(
            decide(Some(&f), &key("invoices.read"), None).reason,
            Reason::GrantedByOverride
        );
        assert_eq!(
            effective_permissions(&f),
            [key("invoices.read")].into_iter().collect()
        );
    }

    #[test]
    fn scoped_role_sees_only_assigned_resources() {
        let mut f = facts(&["orders.read"], true);
        f.assignments.insert(order("42"));
        assert!(decide(Some(&f), &key("orders.read"), Some(&order("42"))).allowed);
        assert_eq!(
            decide(Some(&f), &key("orders.read"), Some(&order("43"))).reason,
            Reason::NotAssigned
        );
        // Without a resource, the holder may use the feature (on what is theirs).
        assert!(decide(Some(&f), &key("orders.read"), None).allowed);
        // An assignment never grants a permission the member lacks.
        assert_eq!(
            decide(Some(&f), &key("orders.place"), Some(&order("42"))).reason,
            Reason::NoPermission
        );
    }

    #[test]
    fn unscoped_role_sees_every_resource() {
        let f = facts(&["orders.read"], false);
        assert!(decide(Some(&f), &key("orders.read"), Some(&order("7"))).allowed);
    }

    fn any_status() -> impl Strategy<Value = MembershipStatus> {
        prop::sample::select(MembershipStatus::ALL.to_vec())
    }

    proptest! {
        /// Allowed ⇔ active ∧ permission effective ∧ (unscoped ∨ no resource ∨ assigned).
        #[test]
        fn decision_matches_the_plain_definition(
            status in any_status(),
            role in prop::collection::btree_set(0usize..4, 0..4),
            overrides in prop::collection::btree_map(0usize..4, prop::bool::ANY, 0..4),
            assigned in prop::collection::btree_set(0usize..3, 0..3),
            scoped in prop::bool::ANY,
            asked in 0usize..4,
            resource in prop::option::of(0usize..3),
        ) {
            let keys = ["mail.read", "orders.read", "orders.place", "team.manage"];
            let mut f = facts(&[], scoped);
            f.status = status;
            f.role_permissions = role.iter().map(|i| key(keys[*i])).collect();
            f.overrides = overrides.iter().map(|(i, g)| (key(keys[*i]), if *g { OverrideEffect::Grant } else { OverrideEffect::Deny })).collect();
            f.assignments = assigned.iter().map(|i| order(&i.to_string())).collect();
            let resource = resource.map(|i| order(&i.to_string()));
            let permission = key(keys[asked]);
            let expected = status == MembershipStatus::Active
                && effective_permissions(&f).contains(&permission)
                && (!scoped || resource.as_ref().is_none_or(|r| f.assignments.contains(r)));
            prop_assert_eq!(decide(Some(&f), &permission, resource.as_ref()).allowed, expected);
        }
    }
}
