//! Roles: named sets of permissions inside one organization, and the built-in
//! templates every organization starts with.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::permission::DEFAULT_CATALOG;
use crate::{OrganizationId, PermissionKey, RoleId};

/// A role of one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub organization_id: OrganizationId,
    /// The built-in template it was made from, if any (`administrator`, …).
    pub template: Option<String>,
    pub name: String,
    pub description: String,
    pub permissions: BTreeSet<PermissionKey>,
    /// Holders of a scoped role get its permissions only on resources
    /// assigned to them (seed 001's "Utilisateur").
    pub scoped: bool,
}

impl Role {
    /// An administrator manages the team: the organization must always keep
    /// one active.
    pub fn is_administrator(&self) -> bool {
        !self.scoped
            && self
                .permissions
                .iter()
                .any(|p| p.as_str() == ADMINISTRATION_PERMISSION)
    }
}

/// The permission that makes a role an administrator's.
pub const ADMINISTRATION_PERMISSION: &str = "team.manage";

/// A built-in role template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleTemplate {
    pub key: &'static str,
    pub name_en: &'static str,
    pub name_fr: &'static str,
    /// Permission groups (`mail`) or keys (`services.read`) it grants; `*` is all.
    pub grants: &'static [&'static str],
    pub scoped: bool,
}

impl RoleTemplate {
    /// The permissions this template grants, drawn from the default catalog.
    pub fn permissions(&self) -> BTreeSet<PermissionKey> {
        DEFAULT_CATALOG
            .iter()
            .filter(|entry| {
                self.grants.iter().any(|g| {
                    *g == "*" || *g == entry.key || entry.key.split('.').next() == Some(*g)
                })
            })
            .filter_map(|entry| PermissionKey::parse(entry.key).ok())
            .collect()
    }
}

/// The templates every organization receives at creation (seeds 001, 003, 004).
pub const BUILT_IN_ROLES: &[RoleTemplate] = &[
    RoleTemplate {
        key: "administrator",
        name_en: "Administrator",
        name_fr: "Administrateur",
        grants: &["*"],
        scoped: false,
    },
    RoleTemplate {
        key: "manager",
        name_en: "Manager",
        name_fr: "Gestionnaire",
        grants: &["*"],
        scoped: false,
    },
    RoleTemplate {
        key: "mail_management",
        name_en: "Mail management",
        name_fr: "Gestion de courrier",
        grants: &["mail"],
        scoped: false,
    },
    RoleTemplate {
        key: "billing",
        name_en: "Billing",
        name_fr: "Facturation",
        grants: &["invoices"],
        scoped: false,
    },
    RoleTemplate {
        key: "formalities",
        name_en: "Formalities",
        name_fr: "Gestion de formalités",
        grants: &["formalities"],
        scoped: false,
    },
    RoleTemplate {
        key: "user",
        name_en: "User",
        name_fr: "Utilisateur",
        grants: &["services.read", "services.manage", "orders.read"],
        scoped: true,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn administrator_template_grants_everything_and_administers() {
        let admin = BUILT_IN_ROLES[0];
        assert_eq!(admin.permissions().len(), DEFAULT_CATALOG.len());
        let role = Role {
            id: RoleId::new(),
            organization_id: OrganizationId::new(),
            template: Some(admin.key.into()),
            name: admin.name_en.into(),
            description: String::new(),
            permissions: admin.permissions(),
            scoped: admin.scoped,
        };
        assert!(role.is_administrator());
    }

    #[test]
    fn mail_management_grants_only_mail() {
        let mail = BUILT_IN_ROLES
            .iter()
            .find(|t| t.key == "mail_management")
            .unwrap();
        let perms = mail.permissions();
        assert!(!perms.is_empty());
        assert!(perms.iter().all(|p| p.group() == "mail"));
    }

    #[test]
    fn user_template_is_scoped_and_not_an_administrator() {
        let user = BUILT_IN_ROLES.iter().find(|t| t.key == "user").unwrap();
        assert!(user.scoped);
        assert!(!user
            .permissions()
            .iter()
            .any(|p| p.as_str() == ADMINISTRATION_PERMISSION));
    }
}
