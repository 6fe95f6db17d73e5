//! Overrides and assignments (flow 10), shared by both back ends: a
//! membership's per-permission grants and denials, and the host resources
//! given to it. The caller has already checked that the membership belongs
//! to the organization of the request.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use gardien_core::access::Assignment;
use gardien_core::evaluator::{OverrideEffect, ResourceRef};
use gardien_core::{ApiKeyId, MembershipId, OrganizationId, PermissionKey};
use sqlx::{Encode, Executor, IntoArguments, Pool, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::authz::{api_key, API_KEY_COLUMNS};
use crate::engine::{map_error, Dialect};
use crate::rows::{DbTime, RowExt};
use crate::{ApiKey, StoreError};

fn effect_text(effect: OverrideEffect) -> &'static str {
    match effect {
        OverrideEffect::Grant => "grant",
        OverrideEffect::Deny => "deny",
    }
}

fn effect_of(text: &str) -> Result<OverrideEffect, StoreError> {
    match text {
        "grant" => Ok(OverrideEffect::Grant),
        "deny" => Ok(OverrideEffect::Deny),
        other => Err(StoreError::Corrupt(format!("override effect: {other}"))),
    }
}

const ASSIGNMENT_COLUMNS: &str =
    "organization_id, membership_id, resource_type, resource_id, label, created_at";

fn assignment(row: &impl RowExt) -> Result<Assignment, StoreError> {
    let resource = ResourceRef {
        resource_type: row.text("resource_type")?,
        resource_id: row.text("resource_id")?,
    };
    Ok(Assignment {
        organization_id: OrganizationId::from_uuid(row.uuid("organization_id")?),
        membership_id: MembershipId::from_uuid(row.uuid("membership_id")?),
        label: row
            .opt_text("label")?
            .unwrap_or_else(|| resource.resource_id.clone()),
        resource,
        created_at: row.time("created_at")?,
    })
}

/// The SQL of this module, over any back end.
pub(crate) struct AccessSql<DB>(PhantomData<DB>);

impl<DB> AccessSql<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    DB::Row: RowExt,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> DbTime: Encode<'q, DB> + Type<DB>,
{
    pub(crate) async fn overrides(
        conn: &mut DB::Connection,
        membership: MembershipId,
    ) -> Result<BTreeMap<PermissionKey, OverrideEffect>, StoreError> {
        let rows = sqlx::query("SELECT permission, effect FROM overrides WHERE membership_id = $1")
            .bind(membership.as_uuid())
            .fetch_all(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        rows.iter()
            .map(|row| {
                let key = PermissionKey::parse(&row.text("permission")?)
                    .map_err(|e| StoreError::Corrupt(format!("permission: {e}")))?;
                Ok((key, effect_of(&row.text("effect")?)?))
            })
            .collect()
    }

    async fn override_of(
        conn: &mut DB::Connection,
        membership: MembershipId,
        permission: &PermissionKey,
    ) -> Result<Option<OverrideEffect>, StoreError> {
        let row = sqlx::query(
            "SELECT effect FROM overrides WHERE membership_id = $1 AND permission = $2",
        )
        .bind(membership.as_uuid())
        .bind(permission.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        row.map(|row| effect_of(&row.text("effect")?)).transpose()
    }

    pub(crate) async fn set_override(
        conn: &mut DB::Connection,
        membership: MembershipId,
        permission: &PermissionKey,
        effect: OverrideEffect,
    ) -> Result<Option<OverrideEffect>, StoreError> {
        let before = Self::override_of(conn, membership, permission).await?;
        sqlx::query(
            "INSERT INTO overrides (membership_id, permission, effect) VALUES ($1, $2, $3) \
             ON CONFLICT (membership_id, permission) DO UPDATE SET effect = excluded.effect",
        )
        .bind(membership.as_uuid())
        .bind(permission.as_str().to_owned())
        .bind(effect_text(effect).to_owned())
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(before)
    }

    pub(crate) async fn clear_override(
        conn: &mut DB::Connection,
        membership: MembershipId,
        permission: &PermissionKey,
    ) -> Result<Option<OverrideEffect>, StoreError> {
        let before = Self::override_of(conn, membership, permission).await?;
        if before.is_some() {
            sqlx::query("DELETE FROM overrides WHERE membership_id = $1 AND permission = $2")
                .bind(membership.as_uuid())
                .bind(permission.as_str().to_owned())
                .execute(&mut *conn)
                .await
                .map_err(map_error::<DB>)?;
        }
        Ok(before)
    }

    pub(crate) async fn assignments(
        conn: &mut DB::Connection,
        organization: OrganizationId,
        membership: MembershipId,
    ) -> Result<Vec<Assignment>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM assignments \
             WHERE membership_id = $1 AND organization_id = $2 \
             ORDER BY resource_type, resource_id"
        ))
        .bind(membership.as_uuid())
        .bind(organization.as_uuid())
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        rows.iter().map(assignment).collect()
    }

    pub(crate) async fn insert_assignment(
        conn: &mut DB::Connection,
        new: &Assignment,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO assignments (id, organization_id, membership_id, resource_type, \
             resource_id, label, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (membership_id, resource_type, resource_id) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(new.organization_id.as_uuid())
        .bind(new.membership_id.as_uuid())
        .bind(new.resource.resource_type.clone())
        .bind(new.resource.resource_id.clone())
        .bind(Some(new.label.clone()))
        .bind(DbTime(new.created_at))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(DB::rows_affected(&done) == 1)
    }

    pub(crate) async fn delete_assignment(
        conn: &mut DB::Connection,
        organization: OrganizationId,
        membership: MembershipId,
        resource: &ResourceRef,
    ) -> Result<Option<Assignment>, StoreError> {
        let row = sqlx::query(&format!(
            "DELETE FROM assignments WHERE membership_id = $1 AND organization_id = $2 \
             AND resource_type = $3 AND resource_id = $4 RETURNING {ASSIGNMENT_COLUMNS}"
        ))
        .bind(membership.as_uuid())
        .bind(organization.as_uuid())
        .bind(resource.resource_type.clone())
        .bind(resource.resource_id.clone())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        row.as_ref().map(assignment).transpose()
    }

    /// Keys that may check every organization, revoked ones included, oldest first.
    pub(crate) async fn deployment_api_keys(
        conn: &mut DB::Connection,
    ) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE organization_id IS NULL ORDER BY id"
        ))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        rows.iter().map(api_key).collect()
    }

    pub(crate) async fn revoke_deployment_api_key(
        conn: &mut DB::Connection,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<ApiKey, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE api_keys SET revoked_at = $2 WHERE organization_id IS NULL AND id = $1 \
             AND revoked_at IS NULL RETURNING {API_KEY_COLUMNS}"
        ))
        .bind(id.as_uuid())
        .bind(DbTime(at))
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        let key = match row {
            Some(row) => api_key(&row)?,
            None => return Err(StoreError::NotFound("api key")),
        };
        if DB::BACKEND == crate::Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(crate::API_KEYS_CHANNEL.to_owned())
                .execute(&mut *conn)
                .await
                .map_err(map_error::<DB>)?;
        }
        Ok(key)
    }

    /// Records that a key was used at `at` (never moves the time back);
    /// whether the key is still live.
    pub(crate) async fn touch_api_key(
        pool: &Pool<DB>,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut conn = pool.acquire().await.map_err(map_error::<DB>)?;
        let row = sqlx::query(
            "UPDATE api_keys SET last_used_at = CASE WHEN last_used_at IS NULL \
             OR last_used_at < $2 THEN $2 ELSE last_used_at END \
             WHERE id = $1 RETURNING revoked_at",
        )
        .bind(id.as_uuid())
        .bind(DbTime(at))
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        match row {
            Some(row) => Ok(row.opt_time("revoked_at")?.is_none()),
            None => Ok(false),
        }
    }
}
