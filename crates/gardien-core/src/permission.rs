//! Permission keys and the catalog a deployment declares them in: its own
//! file (`--permission-catalog`), or the default one embedded in the binary
//! (`default_catalog.toml`).

use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::{Language, ValidationError};

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

/// A text in each language Gardien speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub fr: String,
    pub en: String,
}

impl Localized {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Fr => &self.fr,
            Language::En => &self.en,
        }
    }
}

/// An area of the catalog (`mail`), under which the role editor shows its
/// permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogGroup {
    pub key: String,
    pub label: Localized,
}

/// One permission of the catalog, with its labels in each language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogPermission {
    pub key: PermissionKey,
    /// The key of its [`CatalogGroup`].
    pub group: String,
    pub label: Localized,
    /// Empty in both languages when the catalog gives none.
    pub description: Localized,
}

/// The permissions a deployment declares (see `default_catalog.toml` for
/// the format). Built only through [`PermissionCatalog::from_toml`], so
/// keys are valid and unique, every permission's group is declared, every
/// label is given, and the permissions Gardien's built-in roles need are
/// there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionCatalog {
    groups: Vec<CatalogGroup>,
    permissions: Vec<CatalogPermission>,
    /// Position of each key in `permissions` (every check looks a key up).
    by_key: HashMap<String, usize>,
}

/// Why a catalog file is refused: one line that says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("it declares no permission")]
    Empty,
    #[error("'{0}' is not a group key: use one lowercase word, such as mail")]
    MalformedGroup(String),
    #[error(
        "'{0}' is not a permission key: use lowercase words separated by dots, such as mail.read"
    )]
    MalformedKey(String),
    #[error("the group '{0}' is declared twice")]
    DuplicateGroup(String),
    #[error("the permission '{0}' is declared twice")]
    DuplicatePermission(String),
    #[error("the permission '{permission}' names the group '{group}', which is not declared: add a [[group]] with key = \"{group}\"")]
    UnknownGroup { permission: String, group: String },
    #[error("{what} '{key}' has an empty {language} {field}")]
    EmptyText {
        what: &'static str,
        key: String,
        language: &'static str,
        field: &'static str,
    },
    #[error(
        "{what} '{key}' has a {field} longer than {max} characters or with control characters"
    )]
    BadText {
        what: &'static str,
        key: String,
        field: &'static str,
        max: usize,
    },
    #[error("it lacks the permission '{0}', which Gardien's built-in roles need")]
    MissingRequired(&'static str),
}

/// The permissions Gardien itself checks or its built-in roles name one by
/// one: every catalog must declare them.
pub const REQUIRED_PERMISSIONS: &[&str] = &[
    "team.read",
    "team.invite",
    "team.manage",
    "roles.manage",
    "company.edit",
    "audit.read",
    "services.read",
    "services.manage",
    "orders.read",
];

/// The catalog file Gardien ships with.
pub const DEFAULT_CATALOG_TOML: &str = include_str!("default_catalog.toml");

const LABEL_MAX: usize = 200;
const DESCRIPTION_MAX: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    group: Vec<GroupEntry>,
    #[serde(default)]
    permission: Vec<PermissionEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupEntry {
    key: String,
    label: Localized,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionEntry {
    key: String,
    group: String,
    label: Localized,
    description: Option<Localized>,
}

fn check_text(
    text: &Localized,
    what: &'static str,
    key: &str,
    field: &'static str,
    max: usize,
    required: bool,
) -> Result<Localized, CatalogError> {
    let fr = text.fr.trim();
    let en = text.en.trim();
    for (value, language) in [(fr, "French"), (en, "English")] {
        if required && value.is_empty() {
            return Err(CatalogError::EmptyText {
                what,
                key: key.to_owned(),
                language,
                field,
            });
        }
        if value.chars().count() > max || value.chars().any(char::is_control) {
            return Err(CatalogError::BadText {
                what,
                key: key.to_owned(),
                field,
                max,
            });
        }
    }
    Ok(Localized {
        fr: fr.to_owned(),
        en: en.to_owned(),
    })
}

impl PermissionCatalog {
    /// Reads and checks a catalog file's text.
    pub fn from_toml(text: &str) -> Result<Self, CatalogError> {
        let file: CatalogFile = toml::from_str(text).map_err(|e| CatalogError::Syntax {
            line: e.span().map_or(1, |span| {
                text[..span.start.min(text.len())].lines().count().max(1)
            }),
            message: e.message().replace('\n', " "),
        })?;
        let mut groups: Vec<CatalogGroup> = Vec::with_capacity(file.group.len());
        for entry in &file.group {
            let valid = entry.key.len() <= PermissionKey::MAX
                && entry.key.starts_with(|c: char| c.is_ascii_lowercase())
                && entry
                    .key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(CatalogError::MalformedGroup(
                    entry.key.chars().take(80).collect(),
                ));
            }
            if groups.iter().any(|g| g.key == entry.key) {
                return Err(CatalogError::DuplicateGroup(entry.key.clone()));
            }
            groups.push(CatalogGroup {
                key: entry.key.clone(),
                label: check_text(
                    &entry.label,
                    "the group",
                    &entry.key,
                    "label",
                    LABEL_MAX,
                    true,
                )?,
            });
        }
        let mut permissions: Vec<CatalogPermission> = Vec::with_capacity(file.permission.len());
        for entry in &file.permission {
            let key = PermissionKey::parse(&entry.key)
                .map_err(|_| CatalogError::MalformedKey(entry.key.chars().take(80).collect()))?;
            if permissions.iter().any(|p| p.key == key) {
                return Err(CatalogError::DuplicatePermission(entry.key.clone()));
            }
            if !groups.iter().any(|g| g.key == entry.group) {
                return Err(CatalogError::UnknownGroup {
                    permission: entry.key.clone(),
                    group: entry.group.chars().take(80).collect(),
                });
            }
            let label = check_text(
                &entry.label,
                "the permission",
                &entry.key,
                "label",
                LABEL_MAX,
                true,
            )?;
            let description = match &entry.description {
                Some(text) => check_text(
                    text,
                    "the permission",
                    &entry.key,
                    "description",
                    DESCRIPTION_MAX,
                    false,
                )?,
                None => Localized {
                    fr: String::new(),
                    en: String::new(),
                },
            };
            permissions.push(CatalogPermission {
                key,
                group: entry.group.clone(),
                label,
                description,
            });
        }
        if permissions.is_empty() {
            return Err(CatalogError::Empty);
        }
        let by_key = permissions
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key.as_str().to_owned(), i))
            .collect();
        let catalog = Self {
            groups,
            permissions,
            by_key,
        };
        if let Some(missing) = REQUIRED_PERMISSIONS.iter().find(|k| !catalog.contains(k)) {
            return Err(CatalogError::MissingRequired(missing));
        }
        Ok(catalog)
    }

    /// The catalog Gardien ships with (`default_catalog.toml`).
    pub fn built_in() -> &'static PermissionCatalog {
        &BUILT_IN
    }

    /// Every permission, in the file's order.
    pub fn permissions(&self) -> &[CatalogPermission] {
        &self.permissions
    }

    /// Every group, in the file's order.
    pub fn groups(&self) -> &[CatalogGroup] {
        &self.groups
    }

    /// The groups with their permissions, in the file's order (groups
    /// without permissions left out).
    pub fn grouped(&self) -> Vec<(&CatalogGroup, Vec<&CatalogPermission>)> {
        self.groups
            .iter()
            .map(|g| {
                let permissions = self
                    .permissions
                    .iter()
                    .filter(|p| p.group == g.key)
                    .collect();
                (g, permissions)
            })
            .filter(|(_, permissions): &(_, Vec<_>)| !permissions.is_empty())
            .collect()
    }

    pub fn get(&self, key: &str) -> Option<&CatalogPermission> {
        self.by_key.get(key).map(|&i| &self.permissions[i])
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Every key, in the file's order (for "valid keys are …" messages).
    pub fn keys(&self) -> Vec<String> {
        self.permissions
            .iter()
            .map(|p| p.key.as_str().to_owned())
            .collect()
    }
}

static BUILT_IN: LazyLock<PermissionCatalog> = LazyLock::new(|| {
    PermissionCatalog::from_toml(DEFAULT_CATALOG_TOML)
        .unwrap_or_else(|e| panic!("the built-in permission catalog is invalid: {e}"))
});

/// One entry of the built-in catalog as plain strings (for tests and
/// benchmarks that need keys without a [`PermissionCatalog`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    pub key: &'static str,
    pub label_en: &'static str,
    pub label_fr: &'static str,
}

/// The built-in catalog's entries: `DEFAULT_CATALOG.iter()`,
/// `DEFAULT_CATALOG[i]`, `for entry in DEFAULT_CATALOG`. Read from
/// `default_catalog.toml`, the one place the default permissions are written.
pub const DEFAULT_CATALOG: &DefaultCatalog = &DefaultCatalog;

/// See [`DEFAULT_CATALOG`].
#[derive(Debug)]
pub struct DefaultCatalog;

static DEFAULT_ENTRIES: LazyLock<Vec<CatalogEntry>> = LazyLock::new(|| {
    PermissionCatalog::built_in()
        .permissions
        .iter()
        .map(|p| CatalogEntry {
            key: p.key.as_str(),
            label_en: &p.label.en,
            label_fr: &p.label.fr,
        })
        .collect()
});

impl Deref for DefaultCatalog {
    type Target = [CatalogEntry];
    fn deref(&self) -> &[CatalogEntry] {
        &DEFAULT_ENTRIES
    }
}

impl<'a> IntoIterator for &'a DefaultCatalog {
    type Item = &'a CatalogEntry;
    type IntoIter = std::slice::Iter<'a, CatalogEntry>;
    fn into_iter(self) -> Self::IntoIter {
        DEFAULT_ENTRIES.iter()
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

    #[test]
    fn built_in_catalog_covers_the_seeds_with_labels_in_both_languages() {
        let catalog = PermissionCatalog::built_in();
        for key in [
            "mail.read",
            "mail.download",
            "mail.forward",
            "mail.export",
            "mail.tag",
            "invoices.read",
            "invoices.download",
            "formalities.read",
            "formalities.provide",
            "formalities.sign",
            "orders.read",
            "orders.place",
            "orders.assign",
            "services.read",
            "services.manage",
            "team.read",
            "team.invite",
            "team.manage",
            "roles.manage",
            "company.edit",
            "audit.read",
        ] {
            let p = catalog.get(key).unwrap_or_else(|| panic!("{key} missing"));
            assert!(!p.label.fr.is_empty() && !p.label.en.is_empty());
        }
        assert_eq!(DEFAULT_CATALOG.len(), catalog.permissions().len());
        assert_eq!(DEFAULT_CATALOG[0].key, "mail.read");
        let grouped = catalog.grouped();
        assert_eq!(grouped[0].0.key, "mail");
        assert_eq!(grouped[0].1.len(), 5);
        assert_eq!(
            grouped.iter().map(|(_, p)| p.len()).sum::<usize>(),
            catalog.permissions().len()
        );
    }

    /// The built-in file with `edit` applied.
    fn edited(edit: impl Fn(&str) -> String) -> Result<PermissionCatalog, CatalogError> {
        PermissionCatalog::from_toml(&edit(DEFAULT_CATALOG_TOML))
    }

    #[test]
    fn a_bad_catalog_is_refused_with_what_to_fix() {
        let syntax = PermissionCatalog::from_toml("[[permission]\nkey = 1").unwrap_err();
        assert!(
            matches!(syntax, CatalogError::Syntax { line: 1, .. }),
            "{syntax}"
        );
        assert!(!syntax.to_string().contains('\n'));

        let duplicate = edited(|t| t.replacen("key = \"mail.download\"", "key = \"mail.read\"", 1));
        assert_eq!(
            duplicate,
            Err(CatalogError::DuplicatePermission("mail.read".into()))
        );

        let malformed = edited(|t| t.replacen("key = \"mail.tag\"", "key = \"Mail Tag\"", 1));
        assert_eq!(
            malformed,
            Err(CatalogError::MalformedKey("Mail Tag".into()))
        );

        let missing_label = edited(|t| {
            t.replacen(
                "label = { fr = \"Exporter les courriers\", en = \"Export mail\" }",
                "label = { fr = \"Exporter les courriers\" }",
                1,
            )
        })
        .unwrap_err();
        assert!(
            matches!(&missing_label, CatalogError::Syntax { message, .. } if message.contains("missing field `en`")),
            "{missing_label}"
        );

        let empty_label =
            edited(|t| t.replacen("fr = \"Exporter les courriers\"", "fr = \" \"", 1));
        assert!(matches!(
            empty_label,
            Err(CatalogError::EmptyText {
                language: "French",
                ..
            })
        ));

        let without_team_manage =
            edited(|t| t.replacen("key = \"team.manage\"", "key = \"team.administer\"", 1));
        assert_eq!(
            without_team_manage,
            Err(CatalogError::MissingRequired("team.manage"))
        );

        let unknown_group = edited(|t| {
            t.replacen(
                "key = \"mail.tag\"\ngroup = \"mail\"",
                "key = \"mail.tag\"\ngroup = \"post\"",
                1,
            )
        });
        assert!(matches!(
            unknown_group,
            Err(CatalogError::UnknownGroup { .. })
        ));

        let unknown_field =
            edited(|t| t.replacen("key = \"mail.tag\"", "key = \"mail.tag\"\nicon = \"x\"", 1));
        assert!(matches!(unknown_field, Err(CatalogError::Syntax { .. })));

        assert_eq!(PermissionCatalog::from_toml(""), Err(CatalogError::Empty));
    }

    #[test]
    fn a_catalog_may_add_permissions_and_groups() {
        let catalog = edited(|t| {
            format!(
                "{t}\n[[group]]\nkey = \"archive\"\nlabel = {{ fr = \"Archives\", en = \"Archive\" }}\n\n\
                 [[permission]]\nkey = \"archive.read\"\ngroup = \"archive\"\n\
                 label = {{ fr = \"Consulter les archives\", en = \"Read the archive\" }}\n"
            )
        })
        .unwrap();
        let p = catalog.get("archive.read").unwrap();
        assert_eq!(p.label.get(Language::Fr), "Consulter les archives");
        assert_eq!(p.description.en, "");
        assert_eq!(catalog.grouped().last().unwrap().0.label.en, "Archive");
    }
}
