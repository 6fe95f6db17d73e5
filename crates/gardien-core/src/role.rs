//! Roles: named sets of permissions inside one organization, and the built-in
//! templates every organization starts with.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::permission::PermissionCatalog;
use crate::text::DisplayName;
use crate::{Language, OrganizationId, PermissionKey, RoleId, ValidationError};

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

    /// Built-in roles (made from a template) are the same in every
    /// organization: they cannot be edited or deleted, only duplicated.
    pub fn is_built_in(&self) -> bool {
        self.template.is_some()
    }

    /// Whether `name` is this role's, ignoring case and surrounding spaces
    /// (two roles "Billing" and "billing" would be indistinguishable in a list).
    pub fn is_named(&self, name: &str) -> bool {
        self.name.trim().to_lowercase() == name.trim().to_lowercase()
    }
}

/// Why a change to a role is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("another role of this organization already has this name")]
    NameTaken,
    #[error(
        "built-in roles cannot be changed or deleted: duplicate it into a custom role instead"
    )]
    BuiltIn,
    #[error("{members} member(s) hold this role: give the role they move to (replacement)")]
    InUse { members: u64 },
    #[error("the replacement role is the role being deleted")]
    ReplacementIsTheRole,
}

/// The longest role description.
pub const DESCRIPTION_MAX: usize = 500;

/// A role's name: trimmed, 1 to 120 characters, no control characters.
pub fn role_name(input: &str) -> Result<String, ValidationError> {
    DisplayName::parse(input, "name").map(|n| n.as_str().to_owned())
}

/// A role's description: trimmed, at most [`DESCRIPTION_MAX`] characters,
/// line breaks kept (as `\n`), no other control characters; may be empty.
pub fn role_description(input: &str) -> Result<String, ValidationError> {
    let value = input.replace("\r\n", "\n").trim().to_owned();
    if value.chars().count() > DESCRIPTION_MAX {
        return Err(ValidationError::TooLong {
            field: "description",
            max: DESCRIPTION_MAX,
        });
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValidationError::ControlCharacters {
            field: "description",
        });
    }
    Ok(value)
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
    /// The permissions this template grants, drawn from the built-in catalog.
    pub fn permissions(&self) -> BTreeSet<PermissionKey> {
        self.permissions_in(PermissionCatalog::built_in())
    }

    /// The permissions this template grants in a deployment's catalog: a
    /// group grants every key under it (`mail` → `mail.*`), `*` every key.
    pub fn permissions_in(&self, catalog: &PermissionCatalog) -> BTreeSet<PermissionKey> {
        catalog
            .permissions()
            .iter()
            .filter(|entry| {
                let key = entry.key.as_str();
                self.grants
                    .iter()
                    .any(|g| *g == "*" || *g == key || entry.key.group() == *g)
            })
            .map(|entry| entry.key.clone())
            .collect()
    }

    pub fn name(&self, language: Language) -> &'static str {
        match language {
            Language::En => self.name_en,
            Language::Fr => self.name_fr,
        }
    }
}

/// The built-in template of this key, if any.
pub fn template(key: &str) -> Option<&'static RoleTemplate> {
    BUILT_IN_ROLES.iter().find(|t| t.key == key)
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
        assert_eq!(
            admin.permissions().len(),
            crate::permission::DEFAULT_CATALOG.len()
        );
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

    #[test]
    fn names_and_descriptions_are_checked() {
        assert_eq!(role_name("  Accounting "), Ok("Accounting".into()));
        assert_eq!(
            role_name(" "),
            Err(ValidationError::Empty { field: "name" })
        );
        assert!(matches!(
            role_name(&"x".repeat(121)),
            Err(ValidationError::TooLong { field: "name", .. })
        ));
        assert_eq!(
            role_description("Line 1\r\nLine 2 "),
            Ok("Line 1\nLine 2".into())
        );
        assert_eq!(
            role_description("a\u{7}b"),
            Err(ValidationError::ControlCharacters {
                field: "description"
            })
        );
        assert!(role_description(&"x".repeat(DESCRIPTION_MAX + 1)).is_err());
    }

    #[test]
    fn role_names_compare_without_case() {
        let role = Role {
            id: RoleId::new(),
            organization_id: OrganizationId::new(),
            template: None,
            name: "Comptabilité".into(),
            description: String::new(),
            permissions: BTreeSet::new(),
            scoped: false,
        };
        assert!(role.is_named(" COMPTABILITÉ "));
        assert!(!role.is_named("Comptable"));
        assert!(!role.is_built_in());
    }
}
