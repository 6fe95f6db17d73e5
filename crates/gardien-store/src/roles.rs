//! Custom roles (flow 9), shared by both back ends: rewrite a role, delete
//! it, count its holders and move them to another role. The schema keeps
//! a membership's role in its organization and refuses to delete a role
//! still held (`memberships_role`), so holders are always moved first.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use gardien_core::{MembershipId, OrganizationId, Role, RoleId};
use sqlx::{Encode, Executor, IntoArguments, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::{map_error, Dialect};
use crate::rows::{DbTime, RowExt};
use crate::StoreError;

const UPDATE_ROLE: &str = "UPDATE roles SET name = $3, description = $4, scoped = $5 \
    WHERE organization_id = $1 AND id = $2";
const DELETE_ROLE_PERMISSIONS: &str = "DELETE FROM role_permissions WHERE role_id = $1";
const INSERT_ROLE_PERMISSION: &str =
    "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)";
const DELETE_ROLE: &str = "DELETE FROM roles WHERE organization_id = $1 AND id = $2";
/// Uses `memberships_organization` (organization_id, id).
const ROLE_MEMBER_COUNTS: &str = "SELECT role_id, COUNT(*) AS n FROM memberships \
    WHERE organization_id = $1 GROUP BY role_id";
/// Uses `memberships_role_id`.
const MOVE_ROLE_MEMBERS: &str = "UPDATE memberships SET role_id = $3, updated_at = $4 \
    WHERE organization_id = $1 AND role_id = $2 RETURNING id";

pub(crate) struct RolesSql<DB>(PhantomData<DB>);

impl<DB> RolesSql<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    DB::Row: RowExt,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> DbTime: Encode<'q, DB> + Type<DB>,
{
    pub(crate) async fn update_role(
        conn: &mut DB::Connection,
        role: &Role,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(UPDATE_ROLE)
            .bind(role.organization_id.as_uuid())
            .bind(role.id.as_uuid())
            .bind(role.name.clone())
            .bind(role.description.clone())
            .bind(role.scoped)
            .execute(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        if DB::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound("role"));
        }
        sqlx::query(DELETE_ROLE_PERMISSIONS)
            .bind(role.id.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        for permission in &role.permissions {
            sqlx::query(INSERT_ROLE_PERMISSION)
                .bind(role.id.as_uuid())
                .bind(permission.as_str().to_owned())
                .execute(&mut *conn)
                .await
                .map_err(map_error::<DB>)?;
        }
        Ok(())
    }

    pub(crate) async fn delete_role(
        conn: &mut DB::Connection,
        organization: OrganizationId,
        id: RoleId,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(DELETE_ROLE)
            .bind(organization.as_uuid())
            .bind(id.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        if DB::rows_affected(&done) == 0 {
            Err(StoreError::NotFound("role"))
        } else {
            Ok(())
        }
    }

    pub(crate) async fn role_member_counts(
        conn: &mut DB::Connection,
        organization: OrganizationId,
    ) -> Result<BTreeMap<RoleId, u64>, StoreError> {
        let rows = sqlx::query(ROLE_MEMBER_COUNTS)
            .bind(organization.as_uuid())
            .fetch_all(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        rows.iter()
            .map(|row| {
                let n = u64::try_from(row.int64("n")?)
                    .map_err(|e| StoreError::Corrupt(format!("count: {e}")))?;
                Ok((RoleId::from_uuid(row.uuid("role_id")?), n))
            })
            .collect()
    }

    pub(crate) async fn move_role_members(
        conn: &mut DB::Connection,
        organization: OrganizationId,
        from: RoleId,
        to: RoleId,
        at: OffsetDateTime,
    ) -> Result<Vec<MembershipId>, StoreError> {
        let rows = sqlx::query(MOVE_ROLE_MEMBERS)
            .bind(organization.as_uuid())
            .bind(from.as_uuid())
            .bind(to.as_uuid())
            .bind(DbTime(at))
            .fetch_all(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        let mut moved = rows
            .iter()
            .map(|row| row.uuid("id").map(MembershipId::from_uuid))
            .collect::<Result<Vec<_>, _>>()?;
        moved.sort();
        Ok(moved)
    }
}
