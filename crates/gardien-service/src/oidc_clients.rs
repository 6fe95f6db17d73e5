//! The OpenID Connect provider's registered clients and signing keys, managed
//! by the deployment's operator: on the command line, or through the API
//! with a deployment-wide API key (an organization's key is refused). A client secret
//! (`gcs_` + a 256-bit token) is shown once; only its SHA-256 is stored.
//! Signing keys are derived from the deployment secret (see
//! `gardien_oidc::keys`); the database holds their ids and public halves.

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{text, Token};
use gardien_oidc::client::{self, ClientKind, MAX_REDIRECT_URIS, NAME_MAX};
use gardien_oidc::keys::{PublicKey, SigningKey};
use gardien_oidc::RETIRED_KEY_PUBLISHED;
use gardien_store::{ApiKey, OidcClient, SigningKeyRecord, Transaction};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{audit, new_token, ServiceError, Services};

/// What every client secret starts with (recognizable by secret scanners).
pub const CLIENT_SECRET_PREFIX: &str = "gcs_";

/// Who manages the deployment's clients.
#[derive(Debug, Clone)]
pub enum Operator {
    /// The operator at the command line.
    CommandLine,
    /// A host back end through the API, with a live API key.
    Key(ApiKey),
}

impl Operator {
    /// The actor recorded in the audit trail; an organization's key manages
    /// no deployment-wide client.
    fn actor(&self) -> Result<Actor, ServiceError> {
        match self {
            Operator::CommandLine => Ok(Actor::System),
            Operator::Key(key) if key.organization_id.is_none() => {
                Ok(Actor::ApiKey(key.id.as_uuid()))
            }
            Operator::Key(_) => Err(ServiceError::DeploymentKeyRequired),
        }
    }
}

/// A client to register.
#[derive(Debug, Clone)]
pub struct NewOidcClient {
    pub name: String,
    pub kind: ClientKind,
    /// The deployment's own application: no consent page.
    pub first_party: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
}

/// A registered client, and its secret — shown this once.
#[derive(Debug, Clone)]
pub struct CreatedOidcClient {
    pub client: OidcClient,
    pub client_secret: Option<String>,
}

/// The keys of the moment: the one that signs, and every one a token may
/// still carry (the JWKS).
pub(crate) struct Keys {
    pub(crate) signing: SigningKey,
    pub(crate) published: Vec<PublicKey>,
}

fn invalid(field: &'static str, message: String) -> ServiceError {
    ServiceError::Invalid(vec![(
        field,
        gardien_core::ValidationError::RedirectUri(message),
    )])
}

fn uris(field: &'static str, input: &[String]) -> Result<Vec<String>, ServiceError> {
    if input.len() > MAX_REDIRECT_URIS {
        return Err(invalid(
            field,
            format!("at most {MAX_REDIRECT_URIS} URIs may be registered"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for uri in input {
        let uri = client::redirect_uri(uri).map_err(|reason| invalid(field, reason))?;
        if !out.contains(&uri) {
            out.push(uri);
        }
    }
    Ok(out)
}

impl Services {
    /// Registers a client of the OpenID Connect provider.
    pub async fn create_oidc_client(
        &self,
        by: &Operator,
        new: NewOidcClient,
        context: &RequestContext,
    ) -> Result<CreatedOidcClient, ServiceError> {
        let actor = by.actor()?;
        let name = text::bounded(&new.name, "name", NAME_MAX)
            .map_err(|e| ServiceError::Invalid(vec![("name", e)]))?;
        let redirect_uris = uris("redirect_uris", &new.redirect_uris)?;
        if redirect_uris.is_empty() {
            return Err(invalid(
                "redirect_uris",
                "a client needs at least one redirect URI".into(),
            ));
        }
        let post_logout_redirect_uris =
            uris("post_logout_redirect_uris", &new.post_logout_redirect_uris)?;
        let now = OffsetDateTime::now_utc();
        let secret = match new.kind {
            ClientKind::Confidential => Some(new_token()),
            ClientKind::Public => None,
        };
        let client = OidcClient {
            id: Uuid::now_v7(),
            name,
            kind: new.kind,
            secret_hash: secret.as_ref().map(Token::hash),
            first_party: new.first_party,
            redirect_uris,
            post_logout_redirect_uris,
            created_at: now,
            revoked_at: None,
        };
        let mut tx = self.store.begin().await?;
        tx.insert_oidc_client(&client).await?;
        let mut event = audit(
            context,
            now,
            None,
            actor,
            "oidc.client_created",
            Some(format!("oidc_client:{}", client.id)),
        );
        event.after = Some(json!({
            "name": client.name,
            "kind": client.kind.as_str(),
            "first_party": client.first_party,
            "redirect_uris": client.redirect_uris,
            "post_logout_redirect_uris": client.post_logout_redirect_uris,
        }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(CreatedOidcClient {
            client,
            client_secret: secret.map(|s| format!("{CLIENT_SECRET_PREFIX}{}", s.expose())),
        })
    }

    /// Every registered client, revoked ones included.
    pub async fn oidc_clients(&self, by: &Operator) -> Result<Vec<OidcClient>, ServiceError> {
        by.actor()?;
        let mut tx = self.store.begin().await?;
        Ok(tx.oidc_clients().await?)
    }

    /// Revokes a client: its credentials and every token it holds stop
    /// working at once.
    pub async fn revoke_oidc_client(
        &self,
        by: &Operator,
        id: Uuid,
        context: &RequestContext,
    ) -> Result<OidcClient, ServiceError> {
        let actor = by.actor()?;
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        if !tx.revoke_oidc_client(id, now).await? {
            return Err(ServiceError::NotFound);
        }
        tx.append_audit_event(&audit(
            context,
            now,
            None,
            actor,
            "oidc.client_revoked",
            Some(format!("oidc_client:{id}")),
        ))
        .await?;
        let client = tx.oidc_client(id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(client)
    }

    /// Makes a new signing key the active one; the previous one stays in the
    /// JWKS for [`RETIRED_KEY_PUBLISHED`]. Returns the new key id.
    pub async fn rotate_oidc_signing_key(&self) -> Result<String, ServiceError> {
        let mut tx = self.store.begin().await?;
        let kid = self.rotate_key_in(&mut *tx).await?;
        tx.commit().await?;
        Ok(kid)
    }

    async fn rotate_key_in(&self, tx: &mut dyn Transaction) -> Result<String, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let kid = Uuid::now_v7().simple().to_string();
        let key = self.derive_key(&kid)?;
        tx.rotate_oidc_signing_key(&SigningKeyRecord {
            kid: kid.clone(),
            public_key: key.public_key().encoded(),
            created_at: now,
            retired_at: None,
        })
        .await?;
        tx.append_audit_event(&audit(
            &RequestContext::default(),
            now,
            None,
            Actor::System,
            "oidc.signing_key_rotated",
            Some(format!("oidc_key:{kid}")),
        ))
        .await?;
        Ok(kid)
    }

    fn derive_key(&self, kid: &str) -> Result<SigningKey, ServiceError> {
        SigningKey::derive(&self.oidc_secret, kid)
            .map_err(|e| ServiceError::Internal(e.to_string()))
    }

    /// The signing key and the published ones, making the first key when
    /// there is none. A stored public key that the deployment secret does not
    /// derive means the secret changed: refused loudly rather than signing
    /// tokens no one can verify.
    pub(crate) async fn oidc_keys(&self) -> Result<Keys, ServiceError> {
        let mut tx = self.store.begin().await?;
        let mut records = tx.oidc_signing_keys().await?;
        if !records.iter().any(|r| r.retired_at.is_none()) {
            match self.rotate_key_in(&mut *tx).await {
                Ok(_) => tx.commit().await?,
                // Another instance made it first: read theirs.
                Err(ServiceError::Store(gardien_store::StoreError::Conflict { .. })) => {}
                Err(other) => return Err(other),
            }
            let mut tx = self.store.begin().await?;
            records = tx.oidc_signing_keys().await?;
        }
        let now = OffsetDateTime::now_utc();
        let active = records
            .iter()
            .find(|r| r.retired_at.is_none())
            .ok_or_else(|| ServiceError::Internal("no active signing key".into()))?;
        let signing = self.derive_key(&active.kid)?;
        if signing.public_key().encoded() != active.public_key {
            return Err(ServiceError::Internal(format!(
                "signing key {} was made with another secret key: give this instance the \
                 deployment's --secret-key, or rotate the signing key",
                active.kid
            )));
        }
        let published = records
            .iter()
            .filter(|r| {
                r.retired_at
                    .is_none_or(|at| now - at < RETIRED_KEY_PUBLISHED)
            })
            .filter_map(|r| PublicKey::from_encoded(&r.kid, &r.public_key))
            .collect();
        Ok(Keys { signing, published })
    }

    /// The JWKS document.
    pub async fn oidc_jwks(&self) -> Result<serde_json::Value, ServiceError> {
        let keys = self.oidc_keys().await?;
        Ok(gardien_oidc::keys::jwks(&keys.published))
    }

    /// The discovery document.
    pub fn oidc_metadata(&self) -> serde_json::Value {
        gardien_oidc::discovery::metadata(&self.public_url)
    }

    /// The issuer: Gardien's public URL.
    pub fn oidc_issuer(&self) -> &str {
        &self.public_url
    }
}
