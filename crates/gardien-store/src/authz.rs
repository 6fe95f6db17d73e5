//! What the authorization index and the check API need from storage, shared
//! by both back ends: the deployment-wide change counter and change log
//! (`authz_state`, `authz_changes`), the start-up [`Snapshot`], and the host
//! back ends' API keys.
//!
//! On PostgreSQL a recorded change also queues `NOTIFY gardien_authz` with
//! its version; PostgreSQL delivers it only if the transaction commits, so
//! listeners never hear of a change they cannot read.

use std::collections::HashMap;
use std::marker::PhantomData;

use gardien_authz::{Change, MembershipSnapshot, RoleSnapshot, Snapshot, VersionedChange};
use gardien_core::evaluator::{OverrideEffect, ResourceRef};
use gardien_core::{
    AccountId, ApiKeyId, MembershipId, OrganizationId, PermissionKey, RoleId, TokenHash,
};
use sqlx::types::Json;
use sqlx::{Encode, Executor, IntoArguments, Pool, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::{map_error, Dialect};
use crate::rows::{DbTime, RowExt};
use crate::{Backend, StoreError};

/// The channel PostgreSQL notifies with the version of each committed change.
pub const AUTHZ_CHANNEL: &str = "gardien_authz";
/// The channel PostgreSQL notifies when an API key is revoked (instances
/// that remember live keys forget them).
pub const API_KEYS_CHANNEL: &str = "gardien_api_keys";

/// An API key of a host back end. Its secret is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    /// `None`: the key may check every organization of the deployment.
    pub organization_id: Option<OrganizationId>,
    pub name: String,
    pub created_by: Option<AccountId>,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}

pub(crate) const API_KEY_COLUMNS: &str =
    "id, organization_id, name, created_by, created_at, revoked_at, last_used_at";

pub(crate) fn api_key(row: &impl RowExt) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: ApiKeyId::from_uuid(row.uuid("id")?),
        organization_id: row
            .opt_uuid("organization_id")?
            .map(OrganizationId::from_uuid),
        name: row.text("name")?,
        created_by: row.opt_uuid("created_by")?.map(AccountId::from_uuid),
        created_at: row.time("created_at")?,
        revoked_at: row.opt_time("revoked_at")?,
        last_used_at: row.opt_time("last_used_at")?,
    })
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

fn version_of(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|e| corrupt("authz version", e))
}

fn db_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(|e| corrupt("authz version", e))
}

/// What an instance polls to notice, without any notification, that another
/// instance changed access: the change counter and the number of revoked API
/// keys (keys are never deleted, so it only grows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthzCounters {
    pub version: u64,
    pub revoked_api_keys: u64,
}

/// The SQL of this module, over any back end.
pub(crate) struct AuthzSql<DB>(PhantomData<DB>);

impl<DB> AuthzSql<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    DB::Row: RowExt,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Uuid>: Encode<'q, DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DbTime: Encode<'q, DB> + Type<DB>,
    for<'q> Json<serde_json::Value>: Encode<'q, DB> + Type<DB>,
{
    /// Takes the next version under the counter's row lock (held to commit).
    pub(crate) async fn next_version(conn: &mut DB::Connection) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "UPDATE authz_state SET version = version + 1 WHERE id = 1 RETURNING version",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        version_of(row.int64("version")?)
    }

    pub(crate) async fn record_change(
        conn: &mut DB::Connection,
        change: &VersionedChange,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let value = serde_json::to_value(&change.change).map_err(|e| corrupt("authz change", e))?;
        sqlx::query(
            "INSERT INTO authz_changes (version, change, committed_at) VALUES ($1, $2, $3)",
        )
        .bind(db_version(change.version)?)
        .bind(Json(value))
        .bind(DbTime(at))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        if DB::BACKEND == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(AUTHZ_CHANNEL.to_owned())
                .bind(change.version.to_string())
                .execute(&mut *conn)
                .await
                .map_err(map_error::<DB>)?;
        }
        Ok(())
    }

    pub(crate) async fn counters(pool: &Pool<DB>) -> Result<AuthzCounters, StoreError> {
        let mut conn = pool.acquire().await.map_err(map_error::<DB>)?;
        let row = sqlx::query(
            "SELECT version, (SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL) \
             AS revoked FROM authz_state WHERE id = 1",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(AuthzCounters {
            version: version_of(row.int64("version")?)?,
            revoked_api_keys: u64::try_from(row.int64("revoked")?)
                .map_err(|e| corrupt("revoked keys", e))?,
        })
    }

    pub(crate) async fn changes_after(
        pool: &Pool<DB>,
        version: u64,
    ) -> Result<Vec<VersionedChange>, StoreError> {
        let mut conn = pool.acquire().await.map_err(map_error::<DB>)?;
        let rows = sqlx::query(
            "SELECT version, change FROM authz_changes WHERE version > $1 ORDER BY version",
        )
        .bind(db_version(version)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        rows.iter()
            .map(|row| {
                let version = version_of(row.int64("version")?)?;
                let value = row
                    .json("change")?
                    .ok_or_else(|| corrupt("authz change", "empty"))?;
                let change: Change =
                    serde_json::from_value(value).map_err(|e| corrupt("authz change", e))?;
                Ok(VersionedChange { version, change })
            })
            .collect()
    }

    /// Everything the index holds, read in one consistent transaction.
    pub(crate) async fn snapshot(pool: &Pool<DB>) -> Result<Snapshot, StoreError> {
        let mut tx = pool.begin().await.map_err(map_error::<DB>)?;
        if DB::BACKEND == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await
                .map_err(map_error::<DB>)?;
        }
        let conn: &mut DB::Connection = &mut tx;
        let version_row = sqlx::query("SELECT version FROM authz_state WHERE id = 1")
            .fetch_one(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        let version = version_of(version_row.int64("version")?)?;

        let permission_rows = sqlx::query("SELECT role_id, permission FROM role_permissions")
            .fetch_all(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        let mut permissions: HashMap<Uuid, std::collections::BTreeSet<PermissionKey>> =
            HashMap::new();
        for row in &permission_rows {
            let key = PermissionKey::parse(&row.text("permission")?)
                .map_err(|e| corrupt("permission", e))?;
            permissions
                .entry(row.uuid("role_id")?)
                .or_default()
                .insert(key);
        }
        let role_rows = sqlx::query("SELECT id, organization_id, scoped FROM roles")
            .fetch_all(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        let mut roles = Vec::with_capacity(role_rows.len());
        for row in &role_rows {
            let id = row.uuid("id")?;
            roles.push(RoleSnapshot {
                organization_id: OrganizationId::from_uuid(row.uuid("organization_id")?),
                role_id: RoleId::from_uuid(id),
                permissions: permissions.remove(&id).unwrap_or_default(),
                scoped: row.flag("scoped")?,
            });
        }

        let membership_rows = sqlx::query(
            "SELECT id, organization_id, account_id, kind, status, role_id FROM memberships",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        let mut memberships: Vec<MembershipSnapshot> = Vec::with_capacity(membership_rows.len());
        let mut position: HashMap<Uuid, usize> = HashMap::with_capacity(membership_rows.len());
        for row in &membership_rows {
            let id = row.uuid("id")?;
            position.insert(id, memberships.len());
            memberships.push(MembershipSnapshot {
                organization_id: OrganizationId::from_uuid(row.uuid("organization_id")?),
                membership_id: MembershipId::from_uuid(id),
                account_id: AccountId::from_uuid(row.uuid("account_id")?),
                kind: row.text("kind")?.parse().map_err(|e| corrupt("kind", e))?,
                status: row
                    .text("status")?
                    .parse()
                    .map_err(|e| corrupt("status", e))?,
                role_id: RoleId::from_uuid(row.uuid("role_id")?),
                overrides: Default::default(),
                assignments: Vec::new(),
            });
        }
        let override_rows = sqlx::query("SELECT membership_id, permission, effect FROM overrides")
            .fetch_all(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        for row in &override_rows {
            let Some(&at) = position.get(&row.uuid("membership_id")?) else {
                continue;
            };
            let key = PermissionKey::parse(&row.text("permission")?)
                .map_err(|e| corrupt("permission", e))?;
            let effect = match row.text("effect")?.as_str() {
                "grant" => OverrideEffect::Grant,
                "deny" => OverrideEffect::Deny,
                other => return Err(corrupt("override effect", other)),
            };
            memberships[at].overrides.insert(key, effect);
        }
        let assignment_rows =
            sqlx::query("SELECT membership_id, resource_type, resource_id FROM assignments")
                .fetch_all(&mut *conn)
                .await
                .map_err(map_error::<DB>)?;
        for row in &assignment_rows {
            let Some(&at) = position.get(&row.uuid("membership_id")?) else {
                continue;
            };
            memberships[at].assignments.push(ResourceRef {
                resource_type: row.text("resource_type")?,
                resource_id: row.text("resource_id")?,
            });
        }
        tx.commit().await.map_err(map_error::<DB>)?;
        Ok(Snapshot {
            version,
            roles,
            memberships,
        })
    }

    pub(crate) async fn insert_api_key(
        conn: &mut DB::Connection,
        key: &ApiKey,
        token: &TokenHash,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, organization_id, name, token_hash, created_by, created_at, \
             revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
        )
        .bind(key.id.as_uuid())
        .bind(key.organization_id.map(|o| o.as_uuid()))
        .bind(key.name.clone())
        .bind(token.as_str().to_owned())
        .bind(key.created_by.map(|a| a.as_uuid()))
        .bind(DbTime(key.created_at))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(())
    }

    pub(crate) async fn api_keys(
        conn: &mut DB::Connection,
        organization: OrganizationId,
    ) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE organization_id = $1 ORDER BY id"
        ))
        .bind(organization.as_uuid())
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        rows.iter().map(api_key).collect()
    }

    pub(crate) async fn revoke_api_key(
        conn: &mut DB::Connection,
        organization: OrganizationId,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<ApiKey, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE api_keys SET revoked_at = $3 WHERE organization_id = $1 AND id = $2 \
             AND revoked_at IS NULL RETURNING {API_KEY_COLUMNS}"
        ))
        .bind(organization.as_uuid())
        .bind(id.as_uuid())
        .bind(DbTime(at))
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        let key = match row {
            Some(row) => api_key(&row)?,
            None => return Err(StoreError::NotFound("api key")),
        };
        if DB::BACKEND == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(API_KEYS_CHANNEL.to_owned())
                .execute(&mut *conn)
                .await
                .map_err(map_error::<DB>)?;
        }
        Ok(key)
    }

    /// A live (not revoked) key by the hash of its secret.
    pub(crate) async fn api_key_by_token(
        pool: &Pool<DB>,
        token: &TokenHash,
    ) -> Result<Option<ApiKey>, StoreError> {
        let mut conn = pool.acquire().await.map_err(map_error::<DB>)?;
        let row = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE token_hash = $1 AND revoked_at IS NULL"
        ))
        .bind(token.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        row.as_ref().map(api_key).transpose()
    }
}

/// Hears, on PostgreSQL, that another instance committed a change of access
/// (`NOTIFY gardien_authz`) or revoked an API key (`NOTIFY gardien_api_keys`). The payload is only a wake-up: the listener's
/// owner reads what it misses from the change log.
pub struct AuthzListener {
    inner: sqlx::postgres::PgListener,
}

impl AuthzListener {
    /// Listens on the database of `url`; `None` for SQLite, where one
    /// process owns the database and every change goes through it.
    pub async fn connect(url: &str) -> Result<Option<Self>, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Ok(None);
        }
        let mut inner = sqlx::postgres::PgListener::connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot listen for changes: {e}")))?;
        inner
            .listen_all([AUTHZ_CHANNEL, API_KEYS_CHANNEL])
            .await
            .map_err(map_error::<sqlx::Postgres>)?;
        Ok(Some(Self { inner }))
    }

    /// Waits for the next notification. `Ok(false)`: the connection was lost
    /// (it is re-established on the next call) and notifications may have
    /// been missed, so the caller must catch up from the change log.
    pub async fn wait(&mut self) -> Result<bool, StoreError> {
        match self.inner.try_recv().await {
            Ok(Some(_)) => Ok(true),
            Ok(None) => Ok(false),
            Err(e) => Err(StoreError::Unavailable(format!("change listener: {e}"))),
        }
    }
}
