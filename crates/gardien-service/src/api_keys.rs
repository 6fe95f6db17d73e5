//! API keys of host back ends (the check API's credentials): created and
//! revoked by members whose role holds `team.manage`, scoped to their
//! organization. The secret (`gk_` + a 256-bit token) is shown once; only
//! its SHA-256 is stored. A revoked key stops working on its next request
//! (see [`KeyCache`]).

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{text, ApiKeyId, OrganizationId, Token, TokenHash};
use gardien_store::ApiKey;
use serde_json::json;
use time::OffsetDateTime;

use crate::{audit, new_token, CurrentSession, ServiceError, Services, TEAM_MANAGE};

/// What every API key secret starts with (recognizable in logs and scanners).
pub const API_KEY_PREFIX: &str = "gk_";

const NAME_MAX: usize = 100;

/// Live keys this instance has already read, so that a check does not read
/// the database. Emptied by every revocation here, and on PostgreSQL by every
/// revocation elsewhere (`NOTIFY gardien_api_keys`) and every lost listener
/// connection. A generation number keeps a lookup that raced a revocation
/// from putting the revoked key back.
#[derive(Default)]
pub(crate) struct KeyCache {
    inner: std::sync::RwLock<KeyCacheInner>,
    /// When this instance last wrote each key's `last_used_at`: at most once
    /// a minute per key, so a check costs no database write.
    recorded_use: std::sync::Mutex<std::collections::HashMap<ApiKeyId, OffsetDateTime>>,
}

/// How stale a key's `last_used_at` may get (one write per key per interval).
pub const LAST_USED_INTERVAL: time::Duration = time::Duration::minutes(1);

#[derive(Default)]
struct KeyCacheInner {
    generation: u64,
    keys: std::collections::HashMap<TokenHash, ApiKey>,
}

/// More keys than any deployment should hold: beyond, the cache starts over.
const KEY_CACHE_MAX: usize = 10_000;

impl KeyCache {
    fn get(&self, token: &TokenHash) -> (Option<ApiKey>, u64) {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        (inner.keys.get(token).cloned(), inner.generation)
    }

    fn insert(&self, token: TokenHash, key: ApiKey, generation: u64) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if inner.generation == generation {
            if inner.keys.len() >= KEY_CACHE_MAX {
                inner.keys.clear();
            }
            inner.keys.insert(token, key);
        }
    }

    /// Whether `last_used_at` of `id` should be written now (and, if so,
    /// remembers that it is).
    fn due_for_use_record(&self, id: ApiKeyId, now: OffsetDateTime) -> bool {
        let mut recorded = self.recorded_use.lock().unwrap_or_else(|e| e.into_inner());
        match recorded.get(&id) {
            Some(at) if now - *at < LAST_USED_INTERVAL => false,
            _ => {
                if recorded.len() >= KEY_CACHE_MAX {
                    recorded.clear();
                }
                recorded.insert(id, now);
                true
            }
        }
    }

    pub(crate) fn clear(&self) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.generation += 1;
        inner.keys.clear();
    }
}

/// A new key and its secret, which is never shown again.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// `gk_…`: give it to the host back end now.
    pub secret: String,
}

impl Services {
    /// Creates an API key of `organization` (needs `team.manage`).
    pub async fn create_api_key(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        name: &str,
        context: &RequestContext,
    ) -> Result<CreatedApiKey, ServiceError> {
        let name = text::bounded(name, "name", NAME_MAX)
            .map_err(|e| ServiceError::Invalid(vec![("name", e)]))?;
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let token = new_token();
        let key = ApiKey {
            id: ApiKeyId::new(),
            organization_id: Some(organization),
            name,
            created_by: Some(current.account.id),
            created_at: now,
            revoked_at: None,
            last_used_at: None,
        };
        tx.insert_api_key(&key, &token.hash()).await?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "api_key.created",
            Some(format!("api_key:{}", key.id)),
        );
        event.after = Some(json!({ "name": key.name }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(CreatedApiKey {
            secret: format!("{API_KEY_PREFIX}{}", token.expose()),
            key,
        })
    }

    /// The organization's keys, revoked ones included (needs `team.manage`).
    pub async fn api_keys(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
    ) -> Result<Vec<ApiKey>, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        Ok(tx.api_keys(organization).await?)
    }

    /// Revokes a key of `organization` (needs `team.manage`); it is refused
    /// from its next request on.
    pub async fn revoke_api_key(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        id: ApiKeyId,
        context: &RequestContext,
    ) -> Result<ApiKey, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let key = tx
            .revoke_api_key(organization, id, now)
            .await
            .map_err(|e| match e {
                gardien_store::StoreError::NotFound(_) => ServiceError::NotFound,
                other => other.into(),
            })?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "api_key.revoked",
            Some(format!("api_key:{id}")),
        );
        event.before = Some(json!({ "name": key.name }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        self.authz.keys.clear();
        Ok(key)
    }

    /// The live key whose secret is `presented` (`gk_…`), if any.
    pub async fn api_key_by_secret(&self, presented: &str) -> Result<Option<ApiKey>, ServiceError> {
        let Some(token) = presented.trim().strip_prefix(API_KEY_PREFIX) else {
            return Ok(None);
        };
        let Ok(token) = Token::parse(token) else {
            return Ok(None);
        };
        let hash = token.hash();
        let (cached, generation) = self.authz.keys.get(&hash);
        let key = match cached {
            Some(key) => Some(key),
            None => {
                let key = self.store.api_key_by_token(&hash).await?;
                if let Some(key) = &key {
                    self.authz.keys.insert(hash, key.clone(), generation);
                }
                key
            }
        };
        if let Some(key) = &key {
            self.record_key_use(key.id);
        }
        Ok(key)
    }

    /// Writes the key's `last_used_at`, at most once per
    /// [`LAST_USED_INTERVAL`], off the request's path.
    fn record_key_use(&self, id: ApiKeyId) {
        let now = OffsetDateTime::now_utc();
        if !self.authz.keys.due_for_use_record(id, now) {
            return;
        }
        let store = self.store.clone();
        let keys = self.authz.keys.clone();
        tokio::spawn(async move {
            match store.touch_api_key(id, now).await {
                Ok(true) => {}
                // Revoked by another process this instance did not hear of
                // (the command line on SQLite): forget the live keys.
                Ok(false) => keys.clear(),
                Err(error) => {
                    tracing::warn!(%error, key = %id, "cannot record the API key's last use")
                }
            }
        });
    }

    /// Creates a key that may check every organization of the deployment
    /// (the operator's command line; `gardien api-key create`).
    pub async fn create_deployment_api_key(
        &self,
        name: &str,
    ) -> Result<CreatedApiKey, ServiceError> {
        let name = text::bounded(name, "name", NAME_MAX)
            .map_err(|e| ServiceError::Invalid(vec![("name", e)]))?;
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let token = new_token();
        let key = ApiKey {
            id: ApiKeyId::new(),
            organization_id: None,
            name,
            created_by: None,
            created_at: now,
            revoked_at: None,
            last_used_at: None,
        };
        tx.insert_api_key(&key, &token.hash()).await?;
        let mut event = audit(
            &RequestContext::default(),
            now,
            None,
            Actor::System,
            "api_key.created",
            Some(format!("api_key:{}", key.id)),
        );
        event.after = Some(json!({ "name": key.name, "scope": "deployment" }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(CreatedApiKey {
            secret: format!("{API_KEY_PREFIX}{}", token.expose()),
            key,
        })
    }

    /// The deployment-wide keys, revoked ones included (operator).
    pub async fn deployment_api_keys(&self) -> Result<Vec<ApiKey>, ServiceError> {
        let mut tx = self.store.begin().await?;
        Ok(tx.deployment_api_keys().await?)
    }

    /// Revokes a deployment-wide key (operator); it is refused from its
    /// next request on, on every instance.
    pub async fn revoke_deployment_api_key(&self, id: ApiKeyId) -> Result<ApiKey, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let key = tx
            .revoke_deployment_api_key(id, now)
            .await
            .map_err(|e| match e {
                gardien_store::StoreError::NotFound(_) => ServiceError::NotFound,
                other => other.into(),
            })?;
        let mut event = audit(
            &RequestContext::default(),
            now,
            None,
            Actor::System,
            "api_key.revoked",
            Some(format!("api_key:{id}")),
        );
        event.before = Some(json!({ "name": key.name, "scope": "deployment" }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        self.authz.keys.clear();
        Ok(key)
    }
}
