//! Permission keys and the default catalog a deployment starts with.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A key of the deployment's permission catalog, such as `mail.read`:
/// lowercase words (letters, digits, `_`) separated by dots, at least two.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PermissionKey(String);

impl PermissionKey {
    pub const MAX: usize = 64;

    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let valid_word = |w: &str| {
            w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        let ok = input.len() <= Self::MAX
            && input.split('.').count() >= 2
            && input.split('.').all(valid_word);
        if ok {
            Ok(Self(input.to_owned()))
        } else {
            Err(ValidationError::PermissionKey(
                input.chars().take(80).collect(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The group of the key: `mail` for `mail.read`.
    pub fn group(&self) -> &str {
        self.0.split('.').next().unwrap_or_default()
    }
}

impl fmt::Display for PermissionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PermissionKey {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PermissionKey> for String {
    fn from(value: PermissionKey) -> Self {
        value.0
    }
}

/// One entry of the permission catalog, with its labels in each language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    pub key: &'static str,
    pub label_en: &'static str,
    pub label_fr: &'static str,
}

/// The catalog a deployment gets when it declares none: the permissions the
/// five seed portals need (mail, invoices, formalities, orders, services) and
/// those of Gardien's own area (team, roles, company, audit).
pub const DEFAULT_CATALOG: &[CatalogEntry] = &[
    e("mail.read", "Read mail", "Consulter les courriers"),
    e(
        "mail.download",
        "Download mail",
        "Télécharger les courriers",
    ),
    e(
        "mail.forward",
        "Order mail forwarding",
        "Commander une réexpédition",
    ),
    e("mail.export", "Export mail", "Exporter les courriers"),
    e("mail.tag", "Tag mail", "Organiser les courriers par tags"),
    e("invoices.read", "Read invoices", "Consulter les factures"),
    e(
        "invoices.download",
        "Download invoices",
        "Télécharger les factures",
    ),
    e(
        "formalities.read",
        "Follow formalities",
        "Suivre les formalités",
    ),
    e(
        "formalities.provide",
        "Provide information for formalities",
        "Fournir des informations pour les formalités",
    ),
    e("formalities.sign", "Sign documents", "Signer les documents"),
    e("orders.read", "Read orders", "Consulter les commandes"),
    e("orders.place", "Place orders", "Passer des commandes"),
    e("orders.assign", "Assign orders", "Assigner des commandes"),
    e("services.read", "See services", "Voir les services"),
    e("services.manage", "Manage services", "Gérer les services"),
    e("team.read", "See the team", "Voir l'équipe"),
    e("team.invite", "Invite members", "Inviter des membres"),
    e("team.manage", "Manage members", "Gérer les membres"),
    e(
        "roles.manage",
        "Manage roles and rights",
        "Gérer les rôles et les droits",
    ),
    e(
        "company.edit",
        "Edit company details",
        "Modifier les informations de l'entreprise",
    ),
    e(
        "audit.read",
        "Read the audit trail",
        "Consulter le journal d'audit",
    ),
];

const fn e(key: &'static str, label_en: &'static str, label_fr: &'static str) -> CatalogEntry {
    CatalogEntry {
        key,
        label_en,
        label_fr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dotted_lowercase_keys() {
        assert_eq!(PermissionKey::parse("mail.read").unwrap().group(), "mail");
        assert!(PermissionKey::parse("orders.place_bulk").is_ok());
        for bad in [
            "mail",
            "Mail.read",
            "mail..read",
            ".mail",
            "mail.read.",
            "mail.1read",
            "mail read",
            "",
        ] {
            assert!(
                PermissionKey::parse(bad).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn default_catalog_keys_are_valid_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for entry in DEFAULT_CATALOG {
            PermissionKey::parse(entry.key).unwrap();
            assert!(seen.insert(entry.key), "duplicate {}", entry.key);
        }
    }
}
