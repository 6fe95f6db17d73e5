//! Gardien's check API, asked on every page: "may this account do P in this
//! organization?" (`POST /api/v1/check/batch`, with the portal's API key).
//! Nothing is cached: a right revoked in Gardien is gone on the next page.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The rights the portal's pages and menu depend on, asked in one batch.
pub const MAIL_READ: &str = "mail.read";
pub const MAIL_DOWNLOAD: &str = "mail.download";
pub const INVOICES_READ: &str = "invoices.read";
pub const INVOICES_DOWNLOAD: &str = "invoices.download";
pub const FORMALITIES_READ: &str = "formalities.read";
pub const TEAM_READ: &str = "team.read";
pub const ASKED: [&str; 6] = [
    MAIL_READ,
    MAIL_DOWNLOAD,
    INVOICES_READ,
    INVOICES_DOWNLOAD,
    FORMALITIES_READ,
    TEAM_READ,
];

/// How people read a right (the catalog's French label).
pub fn label(permission: &str) -> &'static str {
    match permission {
        MAIL_READ => "Consulter les courriers",
        MAIL_DOWNLOAD => "Télécharger les courriers",
        INVOICES_READ => "Consulter les factures",
        INVOICES_DOWNLOAD => "Télécharger les factures",
        FORMALITIES_READ => "Suivre les formalités",
        TEAM_READ => "Voir l'équipe",
        _ => "Droit inconnu",
    }
}

#[derive(Debug, Serialize)]
struct Check<'a> {
    account_id: Uuid,
    organization_id: Uuid,
    permission: &'a str,
}

#[derive(Debug, Serialize)]
struct Batch<'a> {
    checks: Vec<Check<'a>>,
}

#[derive(Debug, Clone, Deserialize)]
struct BatchResult {
    results: Vec<Decision>,
}

/// Gardien's answer to one check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Decision {
    pub allowed: bool,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reason {
    /// `granted_by_role`, `no_permission`, `suspended`…
    pub code: String,
}

/// The answers for [`ASKED`], for one account in one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rights {
    decisions: Vec<(&'static str, Decision)>,
}

impl Rights {
    pub fn allows(&self, permission: &str) -> bool {
        self.decision(permission).is_some_and(|d| d.allowed)
    }

    pub fn decision(&self, permission: &str) -> Option<&Decision> {
        self.decisions
            .iter()
            .find(|(key, _)| *key == permission)
            .map(|(_, decision)| decision)
    }

    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&'static str, bool, &str)]) -> Self {
        Self {
            decisions: pairs
                .iter()
                .map(|(key, allowed, code)| {
                    (
                        *key,
                        Decision {
                            allowed: *allowed,
                            reason: Reason {
                                code: (*code).to_owned(),
                            },
                        },
                    )
                })
                .collect(),
        }
    }
}

/// Why the rights could not be known: the page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("Gardien cannot be reached: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("Gardien answered {status}: {body}")]
    Refused {
        status: reqwest::StatusCode,
        body: String,
    },
}

/// The check API of one Gardien, with the portal's key.
#[derive(Clone)]
pub struct Checker {
    http: reqwest::Client,
    url: String,
    api_key: String,
}

impl Checker {
    pub fn new(http: reqwest::Client, gardien_url: &str, api_key: String) -> Self {
        Self {
            http,
            url: format!("{}/api/v1/check/batch", gardien_url.trim_end_matches('/')),
            api_key,
        }
    }

    /// Asks every right of [`ASKED`] in one call.
    pub async fn rights(&self, account: Uuid, organization: Uuid) -> Result<Rights, CheckError> {
        let batch = Batch {
            checks: ASKED
                .iter()
                .map(|permission| Check {
                    account_id: account,
                    organization_id: organization,
                    permission,
                })
                .collect(),
        };
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(&self.api_key)
            .json(&batch)
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(CheckError::Refused { status, body });
        }
        let result: BatchResult = response.json().await?;
        Ok(Rights {
            decisions: ASKED.iter().copied().zip(result.results).collect(),
        })
    }
}

/// What a refusal's reason means for the person, in French.
pub fn explain(reason: &str, organization: &str) -> String {
    match reason {
        "suspended" => format!("Votre accès à l'espace {organization} est suspendu."),
        "removed" => format!("Vous avez été retiré de l'équipe de {organization}."),
        "not_a_member" => format!("Vous n'êtes pas membre de l'équipe de {organization}."),
        "invited" => format!("Votre invitation dans {organization} n'a pas encore été acceptée."),
        "pending_activation" => {
            format!("Votre compte attend l'activation d'un administrateur de {organization}.")
        }
        "denied_by_override" => {
            format!("Un administrateur de {organization} vous a retiré ce droit individuellement.")
        }
        "not_assigned" => "Cette ressource ne vous a pas été attribuée.".to_owned(),
        _ => format!("Votre rôle dans {organization} ne comprend pas ce droit."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_answer_only_what_was_allowed() {
        let rights = Rights::from_pairs(&[
            (MAIL_READ, true, "granted_by_role"),
            (INVOICES_READ, false, "no_permission"),
        ]);
        assert!(rights.allows(MAIL_READ));
        assert!(!rights.allows(INVOICES_READ));
        assert!(!rights.allows(FORMALITIES_READ), "unknown is refused");
        assert_eq!(
            rights.decision(INVOICES_READ).unwrap().reason.code,
            "no_permission"
        );
    }

    #[test]
    fn refusals_are_explained_by_their_reason() {
        assert!(explain("no_permission", "Boulangerie Martin").contains("rôle"));
        assert!(explain("suspended", "Boulangerie Martin").contains("suspendu"));
        assert!(explain("denied_by_override", "X").contains("individuellement"));
    }

    #[test]
    fn the_batch_is_the_json_gardien_expects() {
        let account = Uuid::nil();
        let batch = Batch {
            checks: vec![Check {
                account_id: account,
                organization_id: account,
                permission: MAIL_READ,
            }],
        };
        assert_eq!(
            serde_json::to_value(&batch).unwrap(),
            serde_json::json!({"checks": [{
                "account_id": "00000000-0000-0000-0000-000000000000",
                "organization_id": "00000000-0000-0000-0000-000000000000",
                "permission": "mail.read",
            }]})
        );
        let answer: BatchResult = serde_json::from_value(serde_json::json!({"results": [
            {"allowed": false, "reason": {"code": "no_permission"}},
        ]}))
        .unwrap();
        assert!(!answer.results[0].allowed);
    }
}
