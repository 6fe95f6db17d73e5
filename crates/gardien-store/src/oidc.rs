//! The OpenID Connect provider's tables (clients, signing keys, grants,
//! codes, refresh tokens), shared by both back ends. Codes and refresh
//! tokens are stored as their SHA-256 only, and used at most once: the
//! `UPDATE … WHERE used_at IS NULL` that marks one used is what decides,
//! so two concurrent exchanges of one code cannot both win.

use std::marker::PhantomData;

use gardien_core::{AccountId, OrganizationId, TokenHash};
use gardien_oidc::client::ClientKind;
use sqlx::{Encode, Executor, IntoArguments, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::{map_error, Dialect};
use crate::rows::{DbTime, RowExt};
use crate::StoreError;

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClient {
    /// The `client_id`.
    pub id: Uuid,
    pub name: String,
    pub kind: ClientKind,
    /// The SHA-256 of the secret; `None` for a public client.
    pub secret_hash: Option<TokenHash>,
    /// Consent is not asked: the deployment's own application.
    pub first_party: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A signing key's public record (its private half is derived, see
/// `gardien_oidc::keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// The JWK's `x`: base64url of the Ed25519 public key.
    pub public_key: String,
    pub created_at: OffsetDateTime,
    pub retired_at: Option<OffsetDateTime>,
}

/// One person's authorization of one client (the tokens' `sid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcGrant {
    pub id: Uuid,
    pub client_id: Uuid,
    pub account_id: AccountId,
    pub organization_id: Option<OrganizationId>,
    /// The Gardien session the person authorized from: its logout ends the grant.
    pub session_id: Option<TokenHash>,
    pub scope: String,
    pub nonce: Option<String>,
    pub auth_time: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// An authorization code's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcCode {
    pub grant_id: Uuid,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// A refresh token's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub grant_id: Uuid,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// A single-use secret looked up for use: its record as it was, and whether
/// this call is the one that used it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Used<T> {
    pub record: T,
    pub first_use: bool,
}

const CLIENT_COLUMNS: &str = "id, name, kind, secret_hash, first_party, redirect_uris, \
     post_logout_redirect_uris, created_at, revoked_at";
const GRANT_COLUMNS: &str = "id, client_id, account_id, organization_id, session_id, scope, \
     nonce, auth_time, created_at, revoked_at";

fn uri_list(row: &impl RowExt, column: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(&row.text(column)?)
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn client(row: &impl RowExt) -> Result<OidcClient, StoreError> {
    let kind = row.text("kind")?;
    Ok(OidcClient {
        id: row.uuid("id")?,
        name: row.text("name")?,
        kind: ClientKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("client kind: {kind}")))?,
        secret_hash: row.opt_text("secret_hash")?.map(TokenHash::from_stored),
        first_party: row.flag("first_party")?,
        redirect_uris: uri_list(row, "redirect_uris")?,
        post_logout_redirect_uris: uri_list(row, "post_logout_redirect_uris")?,
        created_at: row.time("created_at")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

fn grant(row: &impl RowExt) -> Result<OidcGrant, StoreError> {
    Ok(OidcGrant {
        id: row.uuid("id")?,
        client_id: row.uuid("client_id")?,
        account_id: AccountId::from_uuid(row.uuid("account_id")?),
        organization_id: row
            .opt_uuid("organization_id")?
            .map(OrganizationId::from_uuid),
        session_id: row.opt_text("session_id")?.map(TokenHash::from_stored),
        scope: row.text("scope")?,
        nonce: row.opt_text("nonce")?,
        auth_time: row.time("auth_time")?,
        created_at: row.time("created_at")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

/// The SQL of this module, over any back end.
pub(crate) struct OidcSql<DB>(PhantomData<DB>);

impl<DB> OidcSql<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    DB::Row: RowExt,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Uuid>: Encode<'q, DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> DbTime: Encode<'q, DB> + Type<DB>,
    for<'q> Option<DbTime>: Encode<'q, DB>,
{
    pub(crate) async fn insert_client(
        conn: &mut DB::Connection,
        client: &OidcClient,
    ) -> Result<(), StoreError> {
        let json = |uris: &Vec<String>| serde_json::to_string(uris).expect("strings serialize");
        sqlx::query(&format!(
            "INSERT INTO oidc_clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(client.id)
        .bind(client.name.clone())
        .bind(client.kind.as_str().to_owned())
        .bind(client.secret_hash.as_ref().map(|h| h.as_str().to_owned()))
        .bind(client.first_party)
        .bind(json(&client.redirect_uris))
        .bind(json(&client.post_logout_redirect_uris))
        .bind(DbTime(client.created_at))
        .bind(client.revoked_at.map(DbTime))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(())
    }

    pub(crate) async fn client(
        conn: &mut DB::Connection,
        id: Uuid,
    ) -> Result<Option<OidcClient>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        row.as_ref().map(client).transpose()
    }

    pub(crate) async fn clients(conn: &mut DB::Connection) -> Result<Vec<OidcClient>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CLIENT_COLUMNS} FROM oidc_clients ORDER BY created_at, id"
        ))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        rows.iter().map(client).collect()
    }

    /// Revokes a live client and every live grant of it.
    pub(crate) async fn revoke_client(
        conn: &mut DB::Connection,
        id: Uuid,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(DbTime(at))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        if DB::rows_affected(&done) == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE oidc_grants SET revoked_at = $2, revoked_reason = 'client_revoked' \
             WHERE client_id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(DbTime(at))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(true)
    }

    pub(crate) async fn signing_keys(
        conn: &mut DB::Connection,
    ) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, public_key, created_at, retired_at FROM oidc_signing_keys \
             ORDER BY created_at DESC, kid DESC",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        rows.iter()
            .map(|row| {
                Ok(SigningKeyRecord {
                    kid: row.text("kid")?,
                    public_key: row.text("public_key")?,
                    created_at: row.time("created_at")?,
                    retired_at: row.opt_time("retired_at")?,
                })
            })
            .collect()
    }

    /// Retires the active key (if any) and makes `key` the active one.
    pub(crate) async fn rotate_signing_key(
        conn: &mut DB::Connection,
        key: &SigningKeyRecord,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE oidc_signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(DbTime(key.created_at))
            .execute(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        sqlx::query(
            "INSERT INTO oidc_signing_keys (kid, public_key, created_at, retired_at) \
             VALUES ($1, $2, $3, NULL)",
        )
        .bind(key.kid.clone())
        .bind(key.public_key.clone())
        .bind(DbTime(key.created_at))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(())
    }

    pub(crate) async fn insert_grant(
        conn: &mut DB::Connection,
        grant: &OidcGrant,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO oidc_grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(grant.id)
        .bind(grant.client_id)
        .bind(grant.account_id.as_uuid())
        .bind(grant.organization_id.map(|o| o.as_uuid()))
        .bind(grant.session_id.as_ref().map(|s| s.as_str().to_owned()))
        .bind(grant.scope.clone())
        .bind(grant.nonce.clone())
        .bind(DbTime(grant.auth_time))
        .bind(DbTime(grant.created_at))
        .bind(grant.revoked_at.map(DbTime))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(())
    }

    pub(crate) async fn grant(
        conn: &mut DB::Connection,
        id: Uuid,
    ) -> Result<Option<OidcGrant>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {GRANT_COLUMNS} FROM oidc_grants WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        row.as_ref().map(grant).transpose()
    }

    /// Revokes a live grant; whether it was live.
    pub(crate) async fn revoke_grant(
        conn: &mut DB::Connection,
        id: Uuid,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_grants SET revoked_at = $2, revoked_reason = $3 \
             WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(DbTime(at))
        .bind(reason.to_owned())
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(DB::rows_affected(&done) > 0)
    }

    /// Revokes the live grants made from one Gardien session; how many.
    pub(crate) async fn revoke_grants_of_session(
        conn: &mut DB::Connection,
        session: &TokenHash,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_grants SET revoked_at = $2, revoked_reason = $3 \
             WHERE session_id = $1 AND revoked_at IS NULL",
        )
        .bind(session.as_str().to_owned())
        .bind(DbTime(at))
        .bind(reason.to_owned())
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(DB::rows_affected(&done))
    }

    /// Revokes the live grants of an account (its deletion); how many.
    pub(crate) async fn revoke_grants_of_account(
        conn: &mut DB::Connection,
        account: AccountId,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE oidc_grants SET revoked_at = $2, revoked_reason = $3 \
             WHERE account_id = $1 AND revoked_at IS NULL",
        )
        .bind(account.as_uuid())
        .bind(DbTime(at))
        .bind(reason.to_owned())
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(DB::rows_affected(&done))
    }

    pub(crate) async fn insert_code(
        conn: &mut DB::Connection,
        hash: &TokenHash,
        code: &OidcCode,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oidc_codes (code_hash, grant_id, redirect_uri, code_challenge, \
             expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash.as_str().to_owned())
        .bind(code.grant_id)
        .bind(code.redirect_uri.clone())
        .bind(code.code_challenge.clone())
        .bind(DbTime(code.expires_at))
        .bind(code.used_at.map(DbTime))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(())
    }

    pub(crate) async fn use_code(
        conn: &mut DB::Connection,
        hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<Option<Used<OidcCode>>, StoreError> {
        let row = sqlx::query(
            "SELECT grant_id, redirect_uri, code_challenge, expires_at, used_at \
             FROM oidc_codes WHERE code_hash = $1",
        )
        .bind(hash.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        let Some(row) = row else { return Ok(None) };
        let record = OidcCode {
            grant_id: row.uuid("grant_id")?,
            redirect_uri: row.text("redirect_uri")?,
            code_challenge: row.opt_text("code_challenge")?,
            expires_at: row.time("expires_at")?,
            used_at: row.opt_time("used_at")?,
        };
        let done = sqlx::query(
            "UPDATE oidc_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL",
        )
        .bind(hash.as_str().to_owned())
        .bind(DbTime(at))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(Some(Used {
            record,
            first_use: DB::rows_affected(&done) == 1,
        }))
    }

    pub(crate) async fn insert_refresh_token(
        conn: &mut DB::Connection,
        hash: &TokenHash,
        token: &RefreshTokenRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oidc_refresh_tokens (token_hash, grant_id, created_at, expires_at, \
             used_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash.as_str().to_owned())
        .bind(token.grant_id)
        .bind(DbTime(token.created_at))
        .bind(DbTime(token.expires_at))
        .bind(token.used_at.map(DbTime))
        .execute(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        Ok(())
    }

    /// The record of a refresh token; with `at`, also marks it used.
    pub(crate) async fn refresh_token(
        conn: &mut DB::Connection,
        hash: &TokenHash,
        use_at: Option<OffsetDateTime>,
    ) -> Result<Option<Used<RefreshTokenRecord>>, StoreError> {
        let row = sqlx::query(
            "SELECT grant_id, created_at, expires_at, used_at FROM oidc_refresh_tokens \
             WHERE token_hash = $1",
        )
        .bind(hash.as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        let Some(row) = row else { return Ok(None) };
        let record = RefreshTokenRecord {
            grant_id: row.uuid("grant_id")?,
            created_at: row.time("created_at")?,
            expires_at: row.time("expires_at")?,
            used_at: row.opt_time("used_at")?,
        };
        let first_use = match use_at {
            None => record.used_at.is_none(),
            Some(at) => {
                let done = sqlx::query(
                    "UPDATE oidc_refresh_tokens SET used_at = $2 \
                     WHERE token_hash = $1 AND used_at IS NULL",
                )
                .bind(hash.as_str().to_owned())
                .bind(DbTime(at))
                .execute(&mut *conn)
                .await
                .map_err(map_error::<DB>)?;
                DB::rows_affected(&done) == 1
            }
        };
        Ok(Some(Used { record, first_use }))
    }
}
