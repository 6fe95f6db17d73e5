//! Overrides and assignments (flow 10), and a member's effective access.
//!
//! An override grants or denies one permission to one member on top of
//! their role (seed 003). An assignment is a resource of the host (order 42, service
//! "Microsoft 365") given to one membership. A *scoped* role grants its
//! permissions only on the resources assigned to its holder (seed 001).
//!
//! A resource is named by a type and an id, both chosen by the host:
//! - the type is a short lowercase word: a letter, then letters, digits,
//!   `_`, `-` or `.` (`order`, `service`, `mail.box`), at most
//!   [`RESOURCE_TYPE_MAX`] characters;
//! - the id is any printable text of at most [`RESOURCE_ID_MAX`] characters
//!   (`42`, `microsoft-365`, `INV/2026/001`), compared exactly;
//! - both are trimmed of surrounding spaces first.
//!
//! The label is what people read (pages, emails); it defaults to the id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::evaluator::{OverrideEffect, ResourceRef};
use crate::{text, MembershipId, OrganizationId, PermissionKey, ValidationError};

/// The longest resource type accepted.
pub const RESOURCE_TYPE_MAX: usize = 64;
/// The longest resource id accepted.
pub const RESOURCE_ID_MAX: usize = 200;
/// The longest label accepted.
pub const LABEL_MAX: usize = 200;

/// A resource assigned to a membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub organization_id: OrganizationId,
    pub membership_id: MembershipId,
    pub resource: ResourceRef,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A resource type, or why it is refused (`field` names where it came from).
pub fn resource_type(input: &str, field: &'static str) -> Result<String, ValidationError> {
    let value = input.trim();
    if value.is_empty() {
        return Err(ValidationError::Empty { field });
    }
    if value.chars().count() > RESOURCE_TYPE_MAX {
        return Err(ValidationError::TooLong {
            field,
            max: RESOURCE_TYPE_MAX,
        });
    }
    let mut chars = value.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
    if starts_with_letter && rest_ok {
        Ok(value.to_owned())
    } else {
        Err(ValidationError::ResourceType(
            value.chars().take(80).collect(),
        ))
    }
}

/// A resource id, or why it is refused.
pub fn resource_id(input: &str, field: &'static str) -> Result<String, ValidationError> {
    text::bounded(input, field, RESOURCE_ID_MAX)
}

/// A resource from its type and id, or the first refusal with its field
/// (`type_field`, `id_field`).
pub fn resource(
    resource_type_input: &str,
    resource_id_input: &str,
    type_field: &'static str,
    id_field: &'static str,
) -> Result<ResourceRef, (&'static str, ValidationError)> {
    Ok(ResourceRef {
        resource_type: resource_type(resource_type_input, type_field)
            .map_err(|e| (type_field, e))?,
        resource_id: resource_id(resource_id_input, id_field).map_err(|e| (id_field, e))?,
    })
}

/// The label people read: the given one, or the id when blank.
pub fn label(input: Option<&str>, resource: &ResourceRef) -> Result<String, ValidationError> {
    match text::optional(input.unwrap_or_default(), "label", LABEL_MAX)? {
        Some(label) => Ok(label),
        None => Ok(resource.resource_id.clone()),
    }
}

/// Whether a member with `role` and this override of `team.manage` (if
/// any) administers the organization: a deny override takes it away, a
/// grant override gives it, otherwise the role decides
/// ([`crate::Role::is_administrator`]). Status is the caller's to check.
pub fn administers(role: &crate::Role, team_manage_override: Option<OverrideEffect>) -> bool {
    match team_manage_override {
        Some(OverrideEffect::Deny) => false,
        Some(OverrideEffect::Grant) => true,
        None => role.is_administrator(),
    }
}

/// What decided one permission of a member (the "effective access" view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessSource {
    /// The role holds it and no override changes it.
    Role,
    /// A grant override adds it.
    OverrideGrant,
    /// A deny override removes it (the permission is *not* held).
    OverrideDeny,
}

/// One line of a member's effective access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLine {
    pub permission: PermissionKey,
    /// Whether the member holds the permission.
    pub allowed: bool,
    pub source: AccessSource,
    /// Held only on the resources assigned to the member (scoped role).
    pub only_assigned: bool,
}

/// Every permission the role or an override mentions, with what decided it:
/// held ones (role, override grant) and those a deny override removes.
/// `active` false (invited, suspended…) holds nothing.
pub fn explain_access(
    role_permissions: &std::collections::BTreeSet<PermissionKey>,
    role_scoped: bool,
    overrides: &BTreeMap<PermissionKey, OverrideEffect>,
    active: bool,
) -> Vec<AccessLine> {
    let mut lines: BTreeMap<PermissionKey, AccessLine> = BTreeMap::new();
    for permission in role_permissions {
        lines.insert(
            permission.clone(),
            AccessLine {
                permission: permission.clone(),
                allowed: active,
                source: AccessSource::Role,
                only_assigned: role_scoped,
            },
        );
    }
    for (permission, effect) in overrides {
        let (allowed, source) = match effect {
            OverrideEffect::Grant => (active, AccessSource::OverrideGrant),
            OverrideEffect::Deny => (false, AccessSource::OverrideDeny),
        };
        lines.insert(
            permission.clone(),
            AccessLine {
                permission: permission.clone(),
                allowed,
                source,
                only_assigned: role_scoped && allowed,
            },
        );
    }
    lines.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn resource_types_are_short_lowercase_words() {
        for good in [
            "order",
            "service",
            "mail.box",
            "order_line",
            "x-1",
            " order ",
        ] {
            assert!(resource_type(good, "type").is_ok(), "{good}");
        }
        assert_eq!(resource_type(" order ", "type").unwrap(), "order");
        assert_eq!(
            resource_type("", "type"),
            Err(ValidationError::Empty { field: "type" })
        );
        for bad in [
            "Order", "1order", "_order", "or der", "order/42", "ordér", "-x",
        ] {
            assert_eq!(
                resource_type(bad, "type"),
                Err(ValidationError::ResourceType(bad.trim().into())),
                "{bad}"
            );
        }
        assert_eq!(
            resource_type(&"a".repeat(RESOURCE_TYPE_MAX + 1), "type"),
            Err(ValidationError::TooLong {
                field: "type",
                max: RESOURCE_TYPE_MAX
            })
        );
        assert!(resource_type(&"a".repeat(RESOURCE_TYPE_MAX), "type").is_ok());
    }

    #[test]
    fn resource_ids_are_printable_text() {
        assert_eq!(resource_id(" INV/2026/001 ", "id").unwrap(), "INV/2026/001");
        assert_eq!(
            resource_id("  ", "id"),
            Err(ValidationError::Empty { field: "id" })
        );
        assert_eq!(
            resource_id("4\n2", "id"),
            Err(ValidationError::ControlCharacters { field: "id" })
        );
        assert_eq!(
            resource_id(&"9".repeat(RESOURCE_ID_MAX + 1), "id"),
            Err(ValidationError::TooLong {
                field: "id",
                max: RESOURCE_ID_MAX
            })
        );
    }

    #[test]
    fn resource_names_the_field_at_fault() {
        assert_eq!(
            resource("Order", "42", "add[3].type", "add[3].id")
                .unwrap_err()
                .0,
            "add[3].type"
        );
        assert_eq!(
            resource("order", "", "add[3].type", "add[3].id")
                .unwrap_err()
                .0,
            "add[3].id"
        );
    }

    #[test]
    fn blank_label_falls_back_to_the_id() {
        let order = resource("order", "42", "type", "id").unwrap();
        assert_eq!(label(None, &order).unwrap(), "42");
        assert_eq!(label(Some("  "), &order).unwrap(), "42");
        assert_eq!(label(Some(" Order 42 "), &order).unwrap(), "Order 42");
        assert!(label(Some(&"x".repeat(LABEL_MAX + 1)), &order).is_err());
    }

    fn key(k: &str) -> PermissionKey {
        PermissionKey::parse(k).unwrap()
    }

    #[test]
    fn access_says_what_decided_each_permission() {
        let role = [key("orders.read"), key("orders.place")]
            .into_iter()
            .collect();
        let overrides = [
            (key("orders.place"), OverrideEffect::Deny),
            (key("invoices.read"), OverrideEffect::Grant),
        ]
        .into_iter()
        .collect();
        let lines = explain_access(&role, true, &overrides, true);
        let find = |k: &str| lines.iter().find(|l| l.permission.as_str() == k).unwrap();
        assert_eq!(find("orders.read").source, AccessSource::Role);
        assert!(find("orders.read").allowed && find("orders.read").only_assigned);
        assert_eq!(find("orders.place").source, AccessSource::OverrideDeny);
        assert!(!find("orders.place").allowed);
        assert_eq!(find("invoices.read").source, AccessSource::OverrideGrant);
        assert!(find("invoices.read").allowed);
        assert!(explain_access(&role, false, &overrides, false)
            .iter()
            .all(|l| !l.allowed));
    }

    proptest! {
        /// A type either parses to itself trimmed, or is refused; never altered otherwise.
        #[test]
        fn accepted_types_round_trip(input in "\\PC{0,80}") {
            if let Ok(parsed) = resource_type(&input, "type") {
                prop_assert_eq!(parsed.as_str(), input.trim());
                prop_assert!(parsed.starts_with(|c: char| c.is_ascii_lowercase()));
            }
        }
    }
}
