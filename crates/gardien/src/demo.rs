//! `gardien serve --demo`: seeds, once, what the demo portal
//! (`examples/demo-portal`) needs to show Gardien at work — two client
//! companies of a domiciliation portal (seed 004), their people with the
//! roles "Gestion de courrier" and "Facturation", a deployment-wide API key
//! for the portal's checks and an OpenID Connect client for its login — and
//! writes `DATA_DIR/demo-portal.json`, which the portal reads.
//!
//! Everything goes through [`Services`], the use cases the pages and the API
//! use: sign-up, the emailed verification link, invitations and their
//! acceptance. The seeder reads the demo people's emails straight from the
//! outbox (their addresses, under the reserved `.test` domain, have no
//! mailbox) and records them as delivered.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gardien_core::audit::RequestContext;
use gardien_core::{Email, Language, OrganizationId};
use gardien_service::{AcceptForm, CurrentSession, InviteForm, ServiceError, Services, SignUpForm};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::DemoConfig;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "demo-gardien-2026";
/// The file the demo portal reads, in the data folder.
pub const PORTAL_FILE: &str = "demo-portal.json";

/// One demo person.
#[derive(Debug, Clone, Copy)]
pub struct DemoPerson {
    pub email: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    /// What the log says they are.
    pub what: &'static str,
}

/// Manager (built-in role `manager`) of Boulangerie Martin.
pub const ADMIN: DemoPerson = DemoPerson {
    email: "admin@demo.gardien.test",
    first_name: "Claire",
    last_name: "Martin",
    what: "administrator of Boulangerie Martin",
};
/// Manager of Cabinet Durand.
pub const DURAND: DemoPerson = DemoPerson {
    email: "durand@demo.gardien.test",
    first_name: "Paul",
    last_name: "Durand",
    what: "administrator of Cabinet Durand",
};
/// "Gestion de courrier" in both organizations: the login shows the picker.
pub const MAIL: DemoPerson = DemoPerson {
    email: "courrier@demo.gardien.test",
    first_name: "Julie",
    last_name: "Bernard",
    what: "Mail management in both organizations",
};
/// "Facturation" in Boulangerie Martin.
pub const BILLING: DemoPerson = DemoPerson {
    email: "facturation@demo.gardien.test",
    first_name: "Marc",
    last_name: "Petit",
    what: "Billing in Boulangerie Martin",
};
pub const PEOPLE: [DemoPerson; 4] = [ADMIN, DURAND, MAIL, BILLING];

pub const BOULANGERIE: &str = "Boulangerie Martin";
pub const CABINET: &str = "Cabinet Durand";

/// What the demo portal needs to reach Gardien (`DATA_DIR/demo-portal.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalFile {
    /// Gardien's public URL: the OpenID Connect issuer and the API's base.
    pub issuer: String,
    /// Where the portal runs (its redirect URI is `portal_url/callback`).
    pub portal_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// A deployment-wide key for `POST /api/v1/check`.
    pub api_key: String,
}

/// Why the demo could not be seeded.
#[derive(Debug, thiserror::Error)]
#[error("cannot seed the demo (--demo): {0}")]
pub struct DemoError(String);

impl From<ServiceError> for DemoError {
    fn from(error: ServiceError) -> Self {
        Self(error.to_string())
    }
}

impl From<gardien_store::StoreError> for DemoError {
    fn from(error: gardien_store::StoreError) -> Self {
        Self(error.to_string())
    }
}

/// Seeds the demo unless it is there already, makes sure the portal's file
/// names live credentials, and logs the demo logins.
pub async fn seed(
    services: &Services,
    demo: &DemoConfig,
    public_url: &str,
    data_dir: &Path,
) -> Result<PortalFile, DemoError> {
    let context = RequestContext {
        ip: None,
        user_agent: Some("gardien serve --demo".into()),
        request_id: None,
    };
    if account_exists(services, ADMIN.email).await? {
        tracing::info!("demo data already seeded");
    } else {
        seed_people(services, &context).await?;
        tracing::info!("demo data seeded");
    }
    let file = portal_file(services, demo, public_url, data_dir).await?;
    for person in PEOPLE {
        tracing::info!(
            email = person.email,
            password = DEMO_PASSWORD,
            "demo login: {}",
            person.what
        );
    }
    tracing::info!(
        portal = %file.portal_url,
        file = %data_dir.join(PORTAL_FILE).display(),
        "demo portal: run `cargo run --release -p gardien-demo`"
    );
    Ok(file)
}

async fn account_exists(services: &Services, email: &str) -> Result<bool, DemoError> {
    let email = Email::parse(email).map_err(|e| DemoError(e.to_string()))?;
    let mut tx = services.store().begin().await?;
    Ok(tx.account_by_email(&email).await?.is_some())
}

/// The two organizations and their people, through the sign-up and
/// invitation use cases.
async fn seed_people(services: &Services, context: &RequestContext) -> Result<(), DemoError> {
    let (claire, boulangerie) = sign_up_verified(services, ADMIN, BOULANGERIE, context).await?;
    let (paul, cabinet) = sign_up_verified(services, DURAND, CABINET, context).await?;

    // Julie: invited by Claire as a new account, then by Paul as the
    // account she now has (seed 000: one login, several organizations).
    let token = invite(
        services,
        &claire,
        boulangerie,
        MAIL,
        "mail_management",
        context,
    )
    .await?;
    accept_as_new_account(services, &token, MAIL, context).await?;
    let token = invite(services, &paul, cabinet, MAIL, "mail_management", context).await?;
    let julie = log_in(services, MAIL.email, context).await?;
    services
        .accept_invitation(
            &token,
            &AcceptForm {
                accept_privacy: true,
                ..AcceptForm::default()
            },
            Some(&julie),
            context,
        )
        .await?;
    services.log_out(&julie, context).await?;

    let token = invite(services, &claire, boulangerie, BILLING, "billing", context).await?;
    accept_as_new_account(services, &token, BILLING, context).await?;

    services.log_out(&claire, context).await?;
    services.log_out(&paul, context).await?;
    Ok(())
}

/// Signs `person` up with an organization of their own, opens the emailed
/// verification link, logs in and accepts the privacy policy: their session
/// and organization.
async fn sign_up_verified(
    services: &Services,
    person: DemoPerson,
    organization: &str,
    context: &RequestContext,
) -> Result<(CurrentSession, OrganizationId), DemoError> {
    services
        .sign_up(
            &SignUpForm {
                email: person.email.into(),
                password: DEMO_PASSWORD.into(),
                first_name: person.first_name.into(),
                last_name: person.last_name.into(),
                organization_name: organization.into(),
                language: "fr".into(),
            },
            Language::Fr,
            context,
        )
        .await?;
    let token = emailed_token(services, person.email, "/verify-email/").await?;
    services.verify_email(&token, context).await?;
    let current = log_in(services, person.email, context).await?;
    let organization = current
        .organization
        .as_ref()
        .map(|choice| choice.organization.id)
        .ok_or_else(|| DemoError(format!("{} has no organization", person.email)))?;
    Ok((current, organization))
}

/// Logs `email` in with the demo password, accepting the privacy policy
/// when asked: the live session.
async fn log_in(
    services: &Services,
    email: &str,
    context: &RequestContext,
) -> Result<CurrentSession, DemoError> {
    let logged_in = services.log_in(email, DEMO_PASSWORD, context).await?;
    let current = services.current_session(logged_in.token.expose()).await?;
    if current.consent_required {
        if let Some(version) = services.privacy_policy().version.clone() {
            services
                .accept_privacy_policy(&current, &version, context)
                .await?;
        }
        return Ok(services.current_session(logged_in.token.expose()).await?);
    }
    Ok(current)
}

/// Invites `person` as staff with the built-in role `template`: the
/// invitation link's token.
async fn invite(
    services: &Services,
    inviter: &CurrentSession,
    organization: OrganizationId,
    person: DemoPerson,
    template: &str,
    context: &RequestContext,
) -> Result<String, DemoError> {
    let role = {
        let mut tx = services.store().begin().await?;
        tx.roles(organization)
            .await?
            .into_iter()
            .find(|role| role.template.as_deref() == Some(template))
            .ok_or_else(|| DemoError(format!("no built-in role {template}")))?
    };
    services
        .invite(
            inviter,
            organization,
            &InviteForm {
                email: person.email.into(),
                first_name: person.first_name.into(),
                last_name: person.last_name.into(),
                kind: "staff".into(),
                role_id: role.id.to_string(),
                language: "fr".into(),
                ..InviteForm::default()
            },
            context,
        )
        .await?;
    emailed_token(services, person.email, "/invitations/").await
}

async fn accept_as_new_account(
    services: &Services,
    token: &str,
    person: DemoPerson,
    context: &RequestContext,
) -> Result<(), DemoError> {
    services
        .accept_invitation(
            token,
            &AcceptForm {
                first_name: person.first_name.into(),
                last_name: person.last_name.into(),
                title: String::new(),
                phone: String::new(),
                password: DEMO_PASSWORD.into(),
                accept_privacy: true,
            },
            None,
            context,
        )
        .await?;
    Ok(())
}

/// Reads the latest message to `to` with a link to `path` from the outbox,
/// records it as delivered (the demo address has no mailbox) and returns
/// the link's token. Other messages are left due: the mail worker, which
/// has not started yet, delivers them as usual.
async fn emailed_token(services: &Services, to: &str, path: &str) -> Result<String, DemoError> {
    let store = services.store();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = OffsetDateTime::now_utc();
        let due = store.claim_mail(now, time::Duration::ZERO, 1000).await?;
        let found = due.iter().rev().find_map(|mail| {
            let addressed = mail.to.as_str().eq_ignore_ascii_case(to);
            let token = link_token(&mail.text_body, path)?;
            addressed.then_some((mail.id, token))
        });
        if let Some((id, token)) = found {
            store.mark_mail_sent(id, now).await?;
            return Ok(token);
        }
        if std::time::Instant::now() > deadline {
            return Err(DemoError(format!(
                "no email to {to} with a link to {path} in the outbox"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The token after the first `path` in `text` (URL-safe characters).
fn link_token(text: &str, path: &str) -> Option<String> {
    let start = text.find(path)? + path.len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

/// The portal's file: kept when it names this Gardien, this portal and a
/// live API key, else written anew with a new key and a new client.
async fn portal_file(
    services: &Services,
    demo: &DemoConfig,
    public_url: &str,
    data_dir: &Path,
) -> Result<PortalFile, DemoError> {
    let path = data_dir.join(PORTAL_FILE);
    if let Some(existing) = read_portal_file(&path) {
        let live = services
            .api_key_by_secret(&existing.api_key)
            .await?
            .is_some();
        if live
            && existing.issuer == public_url
            && existing.portal_url == demo.portal_url
            && !existing.client_id.is_empty()
        {
            return Ok(existing);
        }
    }
    let key = services
        .create_deployment_api_key("Portail de démonstration")
        .await?;
    let (client_id, client_secret) = portal_client(services, &demo.portal_url).await?;
    let file = PortalFile {
        issuer: public_url.to_owned(),
        portal_url: demo.portal_url.clone(),
        client_id,
        client_secret,
        api_key: key.secret,
    };
    write_portal_file(&path, &file)?;
    Ok(file)
}

/// Registers the portal as a first-party confidential OpenID Connect client:
/// `(client id, client secret)`.
async fn portal_client(
    services: &Services,
    portal_url: &str,
) -> Result<(String, String), DemoError> {
    let created = services
        .create_oidc_client(
            &gardien_service::Operator::CommandLine,
            gardien_service::NewOidcClient {
                name: "Portail de démonstration".into(),
                kind: gardien_oidc::client::ClientKind::Confidential,
                first_party: true,
                redirect_uris: vec![format!("{portal_url}/callback")],
                post_logout_redirect_uris: vec![format!("{portal_url}/")],
            },
            &Default::default(),
        )
        .await?;
    let secret = created
        .client_secret
        .ok_or_else(|| DemoError("a confidential client came without a secret".into()))?;
    Ok((created.client.id.to_string(), secret))
}

fn read_portal_file(path: &Path) -> Option<PortalFile> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Written readable by its owner only: it holds secrets.
fn write_portal_file(path: &PathBuf, file: &PortalFile) -> Result<(), DemoError> {
    let text = serde_json::to_string_pretty(file).map_err(|e| DemoError(e.to_string()))?;
    let fail = |e: std::io::Error| DemoError(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(path).map_err(fail)?;
    std::io::Write::write_all(&mut out, format!("{text}\n").as_bytes()).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_stop_at_the_end_of_the_link() {
        let text = "Ouvrez http://127.0.0.1:8080/invitations/abc-DEF_123\n\nMerci.";
        assert_eq!(
            link_token(text, "/invitations/").as_deref(),
            Some("abc-DEF_123")
        );
        assert_eq!(link_token(text, "/verify-email/"), None);
        assert_eq!(
            link_token("…/invitations/ plus rien", "/invitations/"),
            None
        );
    }

    #[test]
    fn demo_passwords_are_accepted_by_the_password_rules() {
        for person in PEOPLE {
            let email = Email::parse(person.email).unwrap();
            gardien_core::Password::parse(DEMO_PASSWORD, &email).expect("a valid demo password");
        }
    }

    #[test]
    fn the_portal_file_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PORTAL_FILE);
        let file = PortalFile {
            issuer: "http://127.0.0.1:8080".into(),
            portal_url: "http://127.0.0.1:8090".into(),
            client_id: "id".into(),
            client_secret: "secret".into(),
            api_key: "gk_x".into(),
        };
        write_portal_file(&path, &file).unwrap();
        assert_eq!(read_portal_file(&path), Some(file));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
