//! The store both back ends share: [`SqlStore`] and [`SqlTx`] run the SQL of
//! [`crate::sql`] through sqlx on any [`Dialect`], so each behaviour is
//! written once. A back end module supplies only what truly differs: how to
//! connect, how a write transaction begins, row locking for the outbox claim,
//! how its errors name a constraint, and how times are encoded.

use async_trait::async_trait;
use gardien_core::audit::AuditEvent;
use gardien_core::invitation::Invitation;
use gardien_core::role::ADMINISTRATION_PERMISSION;
use gardien_core::{
    Account, AccountId, Email, EmailChange, EmailVerification, InvitationId, Kind, MailId,
    Membership, MembershipId, MembershipStatus, Organization, OrganizationId, PasswordReset, Role,
    RoleId, Session, TokenHash,
};
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::types::Json;
use sqlx::{Database, Encode, Executor, IntoArguments, Pool, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access::AccessSql;
use crate::audit::AuditSql;
use crate::authz::AuthzSql;
use crate::oidc::OidcSql;
use crate::roles::RolesSql;
use crate::rows::{self, DbTime, RowExt};
use crate::webhooks::WebhookSql;
use crate::{
    sql, AccountDetails, Backend, MemberFilter, MemberSummary, NewAccount, NewMail, OutboxMessage,
    Page, PageRequest, Store, StoreError, Transaction,
};

/// What a back end adds to the shared store.
pub(crate) trait Dialect: Database {
    const BACKEND: Backend;
    /// The statement that opens every transaction (`None`: the driver's default).
    const BEGIN: Option<&'static str>;
    /// The statement that opens a read-only transaction, on the reader pool.
    const BEGIN_READ: Option<&'static str>;
    /// Appended to the outbox claim's selection so that concurrent claims
    /// skip each other's rows (empty where a write transaction already
    /// excludes every other writer).
    const CLAIM_LOCK: &'static str;
    /// The stable name of the uniqueness rule a violation reports.
    fn unique_constraint(error: &dyn DatabaseError) -> &'static str;
    /// Whether an error of no standard kind is still a refusal by the schema
    /// (a trigger, an integrity rule).
    fn is_refusal(error: &dyn DatabaseError) -> bool;
    /// Whether the error is the database being busy rather than the request
    /// being wrong: a lock not granted in time, a transaction chosen to give
    /// way, a connection lost. The same request may succeed when sent again.
    fn is_transient(error: &dyn DatabaseError) -> bool;
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

/// Maps a database error to the store's error, in one place for both back ends.
pub(crate) fn map_error<DB: Dialect>(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict {
                constraint: DB::unique_constraint(db.as_ref()),
            },
            ErrorKind::ForeignKeyViolation
            | ErrorKind::NotNullViolation
            | ErrorKind::CheckViolation => StoreError::Invalid(db.message().to_owned()),
            _ if DB::is_refusal(db.as_ref()) => StoreError::Invalid(db.message().to_owned()),
            _ if DB::is_transient(db.as_ref()) => StoreError::Unavailable(format!(
                "the database is busy ({}): {}",
                db.code().unwrap_or_default(),
                db.message()
            )),
            _ => StoreError::Database(sqlx::Error::Database(db)),
        },
        e @ (sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)) => {
            StoreError::Corrupt(e.to_string())
        }
        e @ (sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Database(other),
    }
}

/// The SQL that leases due messages: `$1` now, `$2` the lease's end, `$3` the limit.
fn claim_mail_sql<DB: Dialect>() -> String {
    format!(
        "WITH due AS (SELECT id FROM outbox WHERE {due} ORDER BY id LIMIT $3 {lock}) \
         UPDATE outbox SET locked_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM due) RETURNING {columns}",
        due = sql::MAIL_DUE,
        lock = DB::CLAIM_LOCK,
        columns = sql::MAIL_COLUMNS,
    )
}

/// A store over a pool of one back end.
pub(crate) struct SqlStore<DB: Database> {
    pub(crate) pool: Pool<DB>,
    /// Where read-only transactions run: the same pool on PostgreSQL,
    /// read-only connections on SQLite.
    readers: Pool<DB>,
    /// Told of every commit that enqueued webhook messages.
    webhook_wake: std::sync::Arc<tokio::sync::Notify>,
}

/// A transaction of one back end; sqlx rolls it back when dropped uncommitted.
pub(crate) struct SqlTx<DB: Database> {
    tx: sqlx::Transaction<'static, DB>,
    webhook_wake: std::sync::Arc<tokio::sync::Notify>,
    /// Whether this transaction put messages in the webhook outbox.
    enqueued_webhooks: bool,
}

impl<DB: Database> SqlStore<DB> {
    pub(crate) fn new(pool: Pool<DB>, readers: Pool<DB>) -> Self {
        Self {
            pool,
            readers,
            webhook_wake: Default::default(),
        }
    }
}

impl<DB: Dialect> SqlStore<DB> {
    async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, DB>, StoreError> {
        match DB::BEGIN {
            Some(statement) => self.pool.begin_with(statement).await,
            None => self.pool.begin().await,
        }
        .map_err(map_error::<DB>)
    }

    async fn begin_read_tx(&self) -> Result<sqlx::Transaction<'static, DB>, StoreError> {
        match DB::BEGIN_READ {
            Some(statement) => self.readers.begin_with(statement).await,
            None => self.readers.begin().await,
        }
        .map_err(map_error::<DB>)
    }
}

#[async_trait]
impl<DB> Store for SqlStore<DB>
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
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DbTime: Encode<'q, DB> + Type<DB>,
    for<'q> Option<DbTime>: Encode<'q, DB>,
    for<'q> Json<serde_json::Value>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Json<serde_json::Value>>: Encode<'q, DB>,
{
    fn backend(&self) -> Backend {
        DB::BACKEND
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError> {
        Ok(Box::new(SqlTx {
            tx: self.begin_tx().await?,
            webhook_wake: self.webhook_wake.clone(),
            enqueued_webhooks: false,
        }))
    }

    async fn begin_read(&self) -> Result<Box<dyn Transaction>, StoreError> {
        Ok(Box::new(SqlTx {
            tx: self.begin_read_tx().await?,
            webhook_wake: self.webhook_wake.clone(),
            enqueued_webhooks: false,
        }))
    }

    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut tx = self.begin_tx().await?;
        let rows = sqlx::query(&claim_mail_sql::<DB>())
            .bind(DbTime(now))
            .bind(DbTime(now + lease))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(map_error::<DB>)?;
        tx.commit().await.map_err(map_error::<DB>)?;
        let mut messages = rows
            .iter()
            .map(rows::outbox_message)
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| m.id);
        Ok(messages)
    }

    async fn mark_mail_sent(&self, id: MailId, at: OffsetDateTime) -> Result<(), StoreError> {
        let done = sqlx::query(sql::MARK_MAIL_SENT)
            .bind(id.as_uuid())
            .bind(DbTime(at))
            .execute(&self.pool)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "mail")
    }

    async fn mark_mail_failed(
        &self,
        id: MailId,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let (statement, at) = match retry_at {
            Some(at) => (sql::MARK_MAIL_RETRY, at),
            None => (sql::MARK_MAIL_ABANDONED, OffsetDateTime::now_utc()),
        };
        let done = sqlx::query(statement)
            .bind(id.as_uuid())
            .bind(error.to_owned())
            .bind(DbTime(at))
            .execute(&self.pool)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "mail")
    }

    async fn mail(&self, id: MailId) -> Result<Option<OutboxMessage>, StoreError> {
        let row = sqlx::query(&sql::mail_where("id = $1"))
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::outbox_message).transpose()
    }

    async fn authz_snapshot(&self) -> Result<gardien_authz::Snapshot, StoreError> {
        AuthzSql::<DB>::snapshot(&self.pool).await
    }

    async fn authz_changes_after(
        &self,
        version: u64,
    ) -> Result<Vec<gardien_authz::VersionedChange>, StoreError> {
        AuthzSql::<DB>::changes_after(&self.pool, version).await
    }

    async fn authz_counters(&self) -> Result<crate::AuthzCounters, StoreError> {
        AuthzSql::<DB>::counters(&self.pool).await
    }

    async fn api_key_by_token(
        &self,
        token: &TokenHash,
    ) -> Result<Option<crate::ApiKey>, StoreError> {
        AuthzSql::<DB>::api_key_by_token(&self.pool, token).await
    }

    async fn audit_page(
        &self,
        organization: OrganizationId,
        filter: &crate::AuditFilter,
        after: Option<crate::AuditCursor>,
        limit: u32,
    ) -> Result<crate::AuditPage, StoreError> {
        AuditSql::<DB>::page(&self.pool, organization, filter, after, limit).await
    }

    async fn touch_api_key(
        &self,
        id: gardien_core::ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        AccessSql::<DB>::touch_api_key(&self.pool, id, at).await
    }

    async fn claim_webhooks(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<crate::WebhookDelivery>, StoreError> {
        let mut tx = self.begin_tx().await?;
        let claimed = WebhookSql::<DB>::claim(&mut tx, now, now + lease, limit).await?;
        tx.commit().await.map_err(map_error::<DB>)?;
        Ok(claimed)
    }

    async fn record_webhook_attempt(
        &self,
        attempt: &crate::WebhookAttempt,
        outcome: crate::WebhookOutcome,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_tx().await?;
        WebhookSql::<DB>::record_attempt(&mut tx, attempt, outcome).await?;
        tx.commit().await.map_err(map_error::<DB>)
    }

    fn webhook_wake(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        Some(self.webhook_wake.clone())
    }
}

/// `text` as one FTS5 phrase: with the trigram tokenizer, a match is any
/// row containing it (case-insensitive), whatever characters it holds.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// A case-insensitive `LIKE` pattern that finds `text` anywhere, with the
/// pattern's own wildcards escaped.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `NotFound(what)` when a statement changed no row.
fn found(rows_affected: u64, what: &'static str) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound(what))
    } else {
        Ok(())
    }
}

/// The page size actually served.
fn limit(page: PageRequest) -> u32 {
    page.limit.clamp(1, PageRequest::MAX_LIMIT)
}

/// Reads `limit + 1` rows so that a page knows whether another follows.
fn fetch_limit(page: PageRequest) -> i64 {
    i64::from(limit(page)) + 1
}

#[async_trait]
impl<DB> Transaction for SqlTx<DB>
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
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DbTime: Encode<'q, DB> + Type<DB>,
    for<'q> Option<DbTime>: Encode<'q, DB>,
    for<'q> Json<serde_json::Value>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Json<serde_json::Value>>: Encode<'q, DB>,
{
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(map_error::<DB>)?;
        if self.enqueued_webhooks {
            self.webhook_wake.notify_one();
        }
        Ok(())
    }

    async fn insert_account(&mut self, new: &NewAccount) -> Result<(), StoreError> {
        let account = &new.account;
        sqlx::query(sql::INSERT_ACCOUNT)
            .bind(account.id.as_uuid())
            .bind(account.email.as_str().to_owned())
            .bind(account.email.normalized().to_owned())
            .bind(account.first_name.clone())
            .bind(account.last_name.clone())
            .bind(account.language.code().to_owned())
            .bind(new.password_hash.clone())
            .bind(account.email_verified_at.map(DbTime))
            .bind(DbTime(account.created_at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&sql::account_where("id = $1"))
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::account).transpose()
    }

    async fn account_by_email(&mut self, email: &Email) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&sql::account_where("email_normalized = $1"))
            .bind(email.normalized().to_owned())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::account).transpose()
    }

    async fn password_hash(&mut self, id: AccountId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(sql::PASSWORD_HASH)
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(match row {
            Some(row) => row.opt_text("password_hash")?,
            None => None,
        })
    }

    async fn mark_email_verified(
        &mut self,
        id: AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::MARK_EMAIL_VERIFIED)
            .bind(id.as_uuid())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "account")
    }

    async fn insert_email_verification(
        &mut self,
        verification: &EmailVerification,
        token: &TokenHash,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_EMAIL_VERIFICATION)
            .bind(token.as_str().to_owned())
            .bind(verification.account_id.as_uuid())
            .bind(DbTime(verification.created_at))
            .bind(DbTime(verification.expires_at))
            .bind(verification.used_at.map(DbTime))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn email_verification_by_token(
        &mut self,
        token: &TokenHash,
    ) -> Result<Option<EmailVerification>, StoreError> {
        let row = sqlx::query(sql::EMAIL_VERIFICATION_BY_TOKEN)
            .bind(token.as_str().to_owned())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::email_verification).transpose()
    }

    async fn use_email_verification(
        &mut self,
        token: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::USE_EMAIL_VERIFICATION)
            .bind(token.as_str().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "email verification")
    }

    async fn insert_email_change(
        &mut self,
        change: &EmailChange,
        token: &TokenHash,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_EMAIL_CHANGE)
            .bind(token.as_str().to_owned())
            .bind(change.account_id.as_uuid())
            .bind(change.new_email.as_str().to_owned())
            .bind(DbTime(change.created_at))
            .bind(DbTime(change.expires_at))
            .bind(change.used_at.map(DbTime))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn email_change_by_token(
        &mut self,
        token: &TokenHash,
    ) -> Result<Option<EmailChange>, StoreError> {
        let row = sqlx::query(sql::EMAIL_CHANGE_BY_TOKEN)
            .bind(token.as_str().to_owned())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::email_change).transpose()
    }

    async fn use_email_change(
        &mut self,
        token: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::USE_EMAIL_CHANGE)
            .bind(token.as_str().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "email change")
    }

    async fn cancel_email_changes(
        &mut self,
        account: AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::CANCEL_EMAIL_CHANGES)
            .bind(account.as_uuid())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn set_account_email(
        &mut self,
        account: AccountId,
        email: &Email,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_ACCOUNT_EMAIL)
            .bind(account.as_uuid())
            .bind(email.as_str().to_owned())
            .bind(email.normalized().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "account")
    }

    async fn set_password_hash(
        &mut self,
        id: AccountId,
        hash: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_PASSWORD_HASH)
            .bind(id.as_uuid())
            .bind(hash.to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "account")
    }

    async fn insert_password_reset(
        &mut self,
        reset: &PasswordReset,
        token: &TokenHash,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_PASSWORD_RESET)
            .bind(token.as_str().to_owned())
            .bind(reset.account_id.as_uuid())
            .bind(DbTime(reset.created_at))
            .bind(DbTime(reset.expires_at))
            .bind(reset.used_at.map(DbTime))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn password_reset_by_token(
        &mut self,
        token: &TokenHash,
    ) -> Result<Option<PasswordReset>, StoreError> {
        let row = sqlx::query(sql::PASSWORD_RESET_BY_TOKEN)
            .bind(token.as_str().to_owned())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::password_reset).transpose()
    }

    async fn use_password_reset(
        &mut self,
        token: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::USE_PASSWORD_RESET)
            .bind(token.as_str().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "password reset")
    }

    async fn expire_password_resets_of_account(
        &mut self,
        account: AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::EXPIRE_PASSWORD_RESETS_OF_ACCOUNT)
            .bind(account.as_uuid())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn revoke_sessions_of_account(
        &mut self,
        account: AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::REVOKE_SESSIONS_OF_ACCOUNT)
            .bind(account.as_uuid())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn insert_session(&mut self, session: &Session) -> Result<(), StoreError> {
        let (organization, kind) = match session.organization {
            Some((organization, kind)) => (Some(organization.as_uuid()), Some(kind.as_str())),
            None => (None, None),
        };
        sqlx::query(sql::INSERT_SESSION)
            .bind(session.id.as_str().to_owned())
            .bind(session.account_id.as_uuid())
            .bind(organization)
            .bind(kind.map(str::to_owned))
            .bind(DbTime(session.created_at))
            .bind(DbTime(session.last_seen_at))
            .bind(DbTime(session.expires_at))
            .bind(session.idle_timeout.whole_seconds())
            .bind(session.ip.clone())
            .bind(session.user_agent.clone())
            .bind(session.revoked_at.map(DbTime))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn session(&mut self, id: &TokenHash) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(sql::SESSION)
            .bind(id.as_str().to_owned())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::session).transpose()
    }

    async fn touch_session(
        &mut self,
        id: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::TOUCH_SESSION)
            .bind(id.as_str().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn bind_session(
        &mut self,
        id: &TokenHash,
        organization: OrganizationId,
        kind: Kind,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::BIND_SESSION)
            .bind(id.as_str().to_owned())
            .bind(organization.as_uuid())
            .bind(kind.as_str().to_owned())
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "session")
    }

    async fn revoke_session(
        &mut self,
        id: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::REVOKE_SESSION)
            .bind(id.as_str().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "session")
    }

    async fn insert_organization(&mut self, organization: &Organization) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_ORGANIZATION)
            .bind(organization.id.as_uuid())
            .bind(organization.name.clone())
            .bind(organization.requires_activation)
            .bind(DbTime(organization.created_at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn organization(
        &mut self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError> {
        let row = sqlx::query(sql::ORGANIZATION)
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::organization).transpose()
    }

    async fn insert_role(&mut self, role: &Role) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_ROLE)
            .bind(role.id.as_uuid())
            .bind(role.organization_id.as_uuid())
            .bind(role.template.clone())
            .bind(role.name.clone())
            .bind(role.description.clone())
            .bind(role.scoped)
            .bind(DbTime(OffsetDateTime::now_utc()))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        for permission in &role.permissions {
            sqlx::query(sql::INSERT_ROLE_PERMISSION)
                .bind(role.id.as_uuid())
                .bind(permission.as_str().to_owned())
                .execute(&mut *self.tx)
                .await
                .map_err(map_error::<DB>)?;
        }
        Ok(())
    }

    async fn role(
        &mut self,
        organization: OrganizationId,
        id: RoleId,
    ) -> Result<Option<Role>, StoreError> {
        let Some(row) = sqlx::query(sql::ROLE)
            .bind(organization.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?
        else {
            return Ok(None);
        };
        let permissions = sqlx::query(sql::ROLE_PERMISSIONS)
            .bind(id.as_uuid())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        let roles = rows::with_permissions(vec![rows::role(&row)?], &permissions)?;
        Ok(roles.into_iter().next())
    }

    async fn roles(&mut self, organization: OrganizationId) -> Result<Vec<Role>, StoreError> {
        let roles = sqlx::query(sql::ROLES)
            .bind(organization.as_uuid())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        let permissions = sqlx::query(sql::ROLES_PERMISSIONS)
            .bind(organization.as_uuid())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        let roles = roles
            .iter()
            .map(rows::role)
            .collect::<Result<Vec<_>, _>>()?;
        rows::with_permissions(roles, &permissions)
    }

    async fn update_role(&mut self, role: &Role) -> Result<(), StoreError> {
        RolesSql::<DB>::update_role(&mut self.tx, role).await
    }

    async fn delete_role(
        &mut self,
        organization: OrganizationId,
        id: RoleId,
    ) -> Result<(), StoreError> {
        RolesSql::<DB>::delete_role(&mut self.tx, organization, id).await
    }

    async fn role_member_counts(
        &mut self,
        organization: OrganizationId,
    ) -> Result<std::collections::BTreeMap<RoleId, u64>, StoreError> {
        RolesSql::<DB>::role_member_counts(&mut self.tx, organization).await
    }

    async fn move_role_members(
        &mut self,
        organization: OrganizationId,
        from: RoleId,
        to: RoleId,
        at: OffsetDateTime,
    ) -> Result<Vec<MembershipId>, StoreError> {
        RolesSql::<DB>::move_role_members(&mut self.tx, organization, from, to, at).await
    }

    async fn insert_membership(&mut self, membership: &Membership) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_MEMBERSHIP)
            .bind(membership.id.as_uuid())
            .bind(membership.organization_id.as_uuid())
            .bind(membership.account_id.as_uuid())
            .bind(membership.kind.as_str().to_owned())
            .bind(membership.role_id.as_uuid())
            .bind(membership.status.as_str().to_owned())
            .bind(DbTime(membership.created_at))
            .bind(DbTime(membership.updated_at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn membership(
        &mut self,
        organization: OrganizationId,
        id: MembershipId,
    ) -> Result<Option<Membership>, StoreError> {
        let row = sqlx::query(&sql::membership_where("organization_id = $1 AND id = $2"))
            .bind(organization.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::membership).transpose()
    }

    async fn membership_of(
        &mut self,
        organization: OrganizationId,
        account: AccountId,
    ) -> Result<Option<Membership>, StoreError> {
        let row = sqlx::query(&sql::membership_where(
            "organization_id = $1 AND account_id = $2",
        ))
        .bind(organization.as_uuid())
        .bind(account.as_uuid())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::membership).transpose()
    }

    async fn memberships_of_account(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<Membership>, StoreError> {
        let rows = sqlx::query(&sql::membership_where("account_id = $1 ORDER BY id"))
            .bind(account.as_uuid())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        rows.iter().map(rows::membership).collect()
    }

    async fn set_membership_status(
        &mut self,
        organization: OrganizationId,
        id: MembershipId,
        status: MembershipStatus,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_MEMBERSHIP_STATUS)
            .bind(organization.as_uuid())
            .bind(id.as_uuid())
            .bind(status.as_str().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "membership")
    }

    async fn set_membership_role(
        &mut self,
        organization: OrganizationId,
        id: MembershipId,
        role: RoleId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_MEMBERSHIP_ROLE)
            .bind(organization.as_uuid())
            .bind(id.as_uuid())
            .bind(role.as_uuid())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "membership")
    }

    async fn memberships(
        &mut self,
        organization: OrganizationId,
        filter: &MemberFilter,
        page: PageRequest,
    ) -> Result<Page<Membership>, StoreError> {
        let rows = sqlx::query(sql::MEMBERSHIPS_PAGE)
            .bind(organization.as_uuid())
            .bind(page.after)
            .bind(filter.status.map(|s| s.as_str().to_owned()))
            .bind(filter.role_id.map(|r| r.as_uuid()))
            .bind(filter.kind.map(|k| k.as_str().to_owned()))
            .bind(fetch_limit(page))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        let items = rows
            .iter()
            .map(rows::membership)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows::page(items, limit(page), |m| m.id.as_uuid()))
    }

    async fn count_active_administrators(
        &mut self,
        organization: OrganizationId,
    ) -> Result<u64, StoreError> {
        let row = sqlx::query(sql::COUNT_ACTIVE_ADMINISTRATORS)
            .bind(organization.as_uuid())
            .bind(ADMINISTRATION_PERMISSION.to_owned())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        let n = row.int64("n")?;
        u64::try_from(n).map_err(|e| StoreError::Corrupt(format!("count: {e}")))
    }

    async fn insert_invitation(
        &mut self,
        invitation: &Invitation,
        token: &TokenHash,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_INVITATION)
            .bind(invitation.id.as_uuid())
            .bind(invitation.organization_id.as_uuid())
            .bind(invitation.membership_id.as_uuid())
            .bind(invitation.email.as_str().to_owned())
            .bind(invitation.email.normalized().to_owned())
            .bind(invitation.language.code().to_owned())
            .bind(token.as_str().to_owned())
            .bind(invitation.invited_by.map(|a| a.as_uuid()))
            .bind(DbTime(invitation.created_at))
            .bind(DbTime(invitation.expires_at))
            .bind(invitation.accepted_at.map(DbTime))
            .bind(invitation.revoked_at.map(DbTime))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn invitation_by_token(
        &mut self,
        token: &TokenHash,
    ) -> Result<Option<Invitation>, StoreError> {
        let row = sqlx::query(sql::INVITATION_BY_TOKEN)
            .bind(token.as_str().to_owned())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::invitation).transpose()
    }

    async fn revoke_invitation(
        &mut self,
        organization: OrganizationId,
        id: InvitationId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::REVOKE_INVITATION)
            .bind(organization.as_uuid())
            .bind(id.as_uuid())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "invitation")
    }

    async fn accept_invitation(
        &mut self,
        token: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::ACCEPT_INVITATION)
            .bind(token.as_str().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "invitation")
    }

    async fn invitation(
        &mut self,
        organization: OrganizationId,
        id: InvitationId,
    ) -> Result<Option<Invitation>, StoreError> {
        let row = sqlx::query(sql::INVITATION)
            .bind(organization.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::invitation).transpose()
    }

    async fn invitations(
        &mut self,
        organization: OrganizationId,
        page: PageRequest,
    ) -> Result<Page<Invitation>, StoreError> {
        let rows = sqlx::query(sql::INVITATIONS_PAGE)
            .bind(organization.as_uuid())
            .bind(page.after)
            .bind(fetch_limit(page))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        let items = rows
            .iter()
            .map(rows::invitation)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows::page(items, limit(page), |i| i.id.as_uuid()))
    }

    async fn members(
        &mut self,
        organization: OrganizationId,
        filter: &MemberFilter,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<MemberSummary>, StoreError> {
        let search =
            search
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|text| match DB::BACKEND {
                    Backend::Sqlite if text.chars().count() >= 3 => {
                        (sql::MemberSearch::Trigram, fts_phrase(text))
                    }
                    _ => (sql::MemberSearch::Like, like_pattern(text)),
                });
        let sql = sql::members_page(
            page.after.is_some(),
            filter.status.is_some(),
            filter.role_id.is_some(),
            filter.kind.is_some(),
            search.as_ref().map(|(how, _)| (DB::BACKEND, *how)),
        );
        let mut query = sqlx::query(&sql).bind(organization.as_uuid());
        if let Some(after) = page.after {
            query = query.bind(after);
        }
        if let Some(status) = filter.status {
            query = query.bind(status.as_str().to_owned());
        }
        if let Some(role) = filter.role_id {
            query = query.bind(role.as_uuid());
        }
        if let Some(kind) = filter.kind {
            query = query.bind(kind.as_str().to_owned());
        }
        if let Some((_, pattern)) = search {
            query = query.bind(pattern);
        }
        let rows = query
            .bind(fetch_limit(page))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        let items = rows
            .iter()
            .map(rows::member_summary)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows::page(items, limit(page), |m| {
            m.membership.id.as_uuid()
        }))
    }

    async fn set_account_details(
        &mut self,
        id: AccountId,
        details: &AccountDetails,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_ACCOUNT_DETAILS)
            .bind(id.as_uuid())
            .bind(details.first_name.clone())
            .bind(details.last_name.clone())
            .bind(details.title.clone())
            .bind(details.phone.clone())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "account")
    }

    async fn set_invited_names(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
        first_name: &str,
        last_name: &str,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_INVITED_NAMES)
            .bind(organization.as_uuid())
            .bind(membership.as_uuid())
            .bind(first_name.to_owned())
            .bind(last_name.to_owned())
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "membership")
    }

    async fn set_requires_activation(
        &mut self,
        organization: OrganizationId,
        requires_activation: bool,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_REQUIRES_ACTIVATION)
            .bind(organization.as_uuid())
            .bind(requires_activation)
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "organization")
    }

    async fn record_expired_invitations(
        &mut self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Invitation>, StoreError> {
        let rows = sqlx::query(sql::RECORD_EXPIRED_INVITATIONS)
            .bind(DbTime(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        rows.iter().map(rows::invitation).collect()
    }

    async fn organization_owner(
        &mut self,
        organization: OrganizationId,
    ) -> Result<Option<MembershipId>, StoreError> {
        let row = sqlx::query(sql::ORGANIZATION_OWNER)
            .bind(organization.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(match row {
            Some(row) => row
                .opt_uuid("owner_membership_id")?
                .map(MembershipId::from_uuid),
            None => None,
        })
    }

    async fn set_organization_owner(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_ORGANIZATION_OWNER)
            .bind(organization.as_uuid())
            .bind(membership.as_uuid())
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "membership")
    }

    async fn company_details(
        &mut self,
        organization: OrganizationId,
    ) -> Result<Option<gardien_core::CompanyDetails>, StoreError> {
        let row = sqlx::query(sql::COMPANY_DETAILS)
            .bind(organization.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::company_details).transpose()
    }

    async fn set_company_details(
        &mut self,
        organization: OrganizationId,
        details: &gardien_core::CompanyDetails,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_COMPANY_DETAILS)
            .bind(organization.as_uuid())
            .bind(details.name.clone())
            .bind(details.legal_name.clone())
            .bind(details.address.clone())
            .bind(details.phone.clone())
            .bind(details.vat_number.clone())
            .bind(details.registration_number.clone())
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "organization")
    }

    async fn set_invitation_message(
        &mut self,
        organization: OrganizationId,
        invitation: InvitationId,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_INVITATION_MESSAGE)
            .bind(organization.as_uuid())
            .bind(invitation.as_uuid())
            .bind(message.map(str::to_owned))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "invitation")
    }

    async fn invitation_message(
        &mut self,
        organization: OrganizationId,
        invitation: InvitationId,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(sql::INVITATION_MESSAGE)
            .bind(organization.as_uuid())
            .bind(invitation.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(match row {
            Some(row) => row.opt_text("personal_message")?,
            None => None,
        })
    }

    async fn member_details(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
    ) -> Result<Option<crate::MemberDetails>, StoreError> {
        let row = sqlx::query(sql::MEMBER_DETAILS)
            .bind(organization.as_uuid())
            .bind(membership.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::member_details).transpose()
    }

    async fn set_member_record(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
        record: &crate::MemberRecord,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_MEMBER_RECORD)
            .bind(organization.as_uuid())
            .bind(membership.as_uuid())
            .bind(record.first_name.clone())
            .bind(record.last_name.clone())
            .bind(record.title.clone())
            .bind(record.phone.clone())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "membership")
    }

    async fn record_login(
        &mut self,
        organization: OrganizationId,
        account: AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::RECORD_LOGIN)
            .bind(organization.as_uuid())
            .bind(account.as_uuid())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn append_audit_event(&mut self, event: &AuditEvent) -> Result<(), StoreError> {
        let (actor_type, actor_id) = rows::actor_columns(&event.actor);
        sqlx::query(sql::INSERT_AUDIT_EVENT)
            .bind(event.id.as_uuid())
            .bind(DbTime(event.occurred_at))
            .bind(event.organization_id.map(|o| o.as_uuid()))
            .bind(actor_type.to_owned())
            .bind(actor_id)
            .bind(event.action.clone())
            .bind(event.target.clone())
            .bind(event.before.clone().map(Json))
            .bind(event.after.clone().map(Json))
            .bind(event.ip.clone())
            .bind(event.user_agent.clone())
            .bind(event.request_id.clone())
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        // The change, its event and its webhooks commit together.
        if WebhookSql::<DB>::enqueue_for(&mut self.tx, event).await? > 0 {
            self.enqueued_webhooks = true;
        }
        Ok(())
    }

    async fn audit_events(
        &mut self,
        organization: OrganizationId,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let rows = sqlx::query(sql::AUDIT_EVENTS_PAGE)
            .bind(organization.as_uuid())
            .bind(page.after)
            .bind(fetch_limit(page))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        let items = rows
            .iter()
            .map(rows::audit_event)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows::page(items, limit(page), |e| e.id.as_uuid()))
    }

    async fn enqueue_mail(
        &mut self,
        mail: &NewMail,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_MAIL)
            .bind(mail.id.as_uuid())
            .bind(DbTime(now))
            .bind(mail.to.as_str().to_owned())
            .bind(mail.subject.clone())
            .bind(mail.text_body.clone())
            .bind(mail.html_body.clone())
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn insert_consent(&mut self, consent: &gardien_core::Consent) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_CONSENT)
            .bind(consent.account_id.as_uuid())
            .bind(consent.policy_version.clone())
            .bind(DbTime(consent.accepted_at))
            .bind(consent.ip.clone())
            .bind(consent.user_agent.clone())
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn has_consent(&mut self, account: AccountId, version: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(sql::HAS_CONSENT)
            .bind(account.as_uuid())
            .bind(version.to_owned())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(row.is_some())
    }

    async fn consents_of_account(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<gardien_core::Consent>, StoreError> {
        let rows = sqlx::query(sql::CONSENTS_OF_ACCOUNT)
            .bind(account.as_uuid())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        rows.iter().map(rows::consent).collect()
    }

    async fn account_profile(
        &mut self,
        account: AccountId,
    ) -> Result<Option<gardien_core::Profile>, StoreError> {
        let row = sqlx::query(sql::ACCOUNT_PROFILE)
            .bind(account.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        row.as_ref().map(rows::profile).transpose()
    }

    async fn set_account_profile(
        &mut self,
        account: AccountId,
        profile: &gardien_core::Profile,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::SET_ACCOUNT_PROFILE)
            .bind(account.as_uuid())
            .bind(profile.first_name.clone())
            .bind(profile.last_name.clone())
            .bind(profile.phone.clone())
            .bind(profile.title.clone())
            .bind(
                profile
                    .notification_email
                    .as_ref()
                    .map(|e| e.as_str().to_owned()),
            )
            .bind(profile.language.code().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "account")
    }

    async fn revoke_other_sessions(
        &mut self,
        account: AccountId,
        keep: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::REVOKE_OTHER_SESSIONS)
            .bind(account.as_uuid())
            .bind(keep.as_str().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        Ok(())
    }

    async fn sessions_of_account(
        &mut self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError> {
        let rows = sqlx::query(sql::SESSIONS_OF_ACCOUNT)
            .bind(account.as_uuid())
            .bind(DbTime(now))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        rows.iter().map(rows::session).collect()
    }

    async fn audit_events_by_actor(
        &mut self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(sql::AUDIT_EVENTS_BY_ACTOR)
            .bind(account.as_uuid())
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        rows.iter().map(rows::audit_event).collect()
    }

    async fn anonymize_account(
        &mut self,
        account: AccountId,
        tombstone: &Email,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::ANONYMIZE_ACCOUNT)
            .bind(account.as_uuid())
            .bind(tombstone.as_str().to_owned())
            .bind(tombstone.normalized().to_owned())
            .bind(DbTime(at))
            .execute(&mut *self.tx)
            .await
            .map_err(map_error::<DB>)?;
        found(DB::rows_affected(&done), "account")?;
        for statement in [
            sql::REVOKE_SESSIONS_OF_ACCOUNT,
            sql::EXPIRE_PASSWORD_RESETS_OF_ACCOUNT,
            sql::EXPIRE_EMAIL_VERIFICATIONS_OF_ACCOUNT,
        ] {
            sqlx::query(statement)
                .bind(account.as_uuid())
                .bind(DbTime(at))
                .execute(&mut *self.tx)
                .await
                .map_err(map_error::<DB>)?;
        }
        Ok(())
    }

    async fn next_authz_version(&mut self) -> Result<u64, StoreError> {
        AuthzSql::<DB>::next_version(&mut self.tx).await
    }

    async fn record_authz_change(
        &mut self,
        change: &gardien_authz::VersionedChange,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        AuthzSql::<DB>::record_change(&mut self.tx, change, at).await
    }

    async fn insert_api_key(
        &mut self,
        key: &crate::ApiKey,
        token: &TokenHash,
    ) -> Result<(), StoreError> {
        AuthzSql::<DB>::insert_api_key(&mut self.tx, key, token).await
    }

    async fn api_keys(
        &mut self,
        organization: OrganizationId,
    ) -> Result<Vec<crate::ApiKey>, StoreError> {
        AuthzSql::<DB>::api_keys(&mut self.tx, organization).await
    }

    async fn revoke_api_key(
        &mut self,
        organization: OrganizationId,
        id: gardien_core::ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<crate::ApiKey, StoreError> {
        AuthzSql::<DB>::revoke_api_key(&mut self.tx, organization, id, at).await
    }

    async fn invitations_of_membership(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
    ) -> Result<Vec<InvitationId>, StoreError> {
        AuditSql::<DB>::invitations_of_membership(&mut self.tx, organization, membership).await
    }

    async fn review_members(
        &mut self,
        organization: OrganizationId,
    ) -> Result<Vec<crate::ReviewMember>, StoreError> {
        AuditSql::<DB>::review_members(&mut self.tx, organization).await
    }

    async fn stale_invitations(
        &mut self,
        organization: OrganizationId,
        created_before: OffsetDateTime,
    ) -> Result<Vec<Invitation>, StoreError> {
        AuditSql::<DB>::stale_invitations(&mut self.tx, organization, created_before).await
    }

    async fn purge_audit_events(
        &mut self,
        before: OffsetDateTime,
    ) -> Result<Vec<crate::PurgedCount>, StoreError> {
        AuditSql::<DB>::purge(&mut self.tx, before).await
    }

    async fn deployment_api_keys(&mut self) -> Result<Vec<crate::ApiKey>, StoreError> {
        AccessSql::<DB>::deployment_api_keys(&mut self.tx).await
    }

    async fn revoke_deployment_api_key(
        &mut self,
        id: gardien_core::ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<crate::ApiKey, StoreError> {
        AccessSql::<DB>::revoke_deployment_api_key(&mut self.tx, id, at).await
    }

    async fn overrides(
        &mut self,
        membership: MembershipId,
    ) -> Result<
        std::collections::BTreeMap<
            gardien_core::PermissionKey,
            gardien_core::evaluator::OverrideEffect,
        >,
        StoreError,
    > {
        AccessSql::<DB>::overrides(&mut self.tx, membership).await
    }

    async fn set_override(
        &mut self,
        membership: MembershipId,
        permission: &gardien_core::PermissionKey,
        effect: gardien_core::evaluator::OverrideEffect,
    ) -> Result<Option<gardien_core::evaluator::OverrideEffect>, StoreError> {
        AccessSql::<DB>::set_override(&mut self.tx, membership, permission, effect).await
    }

    async fn clear_override(
        &mut self,
        membership: MembershipId,
        permission: &gardien_core::PermissionKey,
    ) -> Result<Option<gardien_core::evaluator::OverrideEffect>, StoreError> {
        AccessSql::<DB>::clear_override(&mut self.tx, membership, permission).await
    }

    async fn assignments(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
    ) -> Result<Vec<gardien_core::access::Assignment>, StoreError> {
        AccessSql::<DB>::assignments(&mut self.tx, organization, membership).await
    }

    async fn insert_assignment(
        &mut self,
        assignment: &gardien_core::access::Assignment,
    ) -> Result<bool, StoreError> {
        AccessSql::<DB>::insert_assignment(&mut self.tx, assignment).await
    }

    async fn delete_assignment(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
        resource: &gardien_core::evaluator::ResourceRef,
    ) -> Result<Option<gardien_core::access::Assignment>, StoreError> {
        AccessSql::<DB>::delete_assignment(&mut self.tx, organization, membership, resource).await
    }

    async fn insert_oidc_client(&mut self, client: &crate::OidcClient) -> Result<(), StoreError> {
        OidcSql::<DB>::insert_client(&mut self.tx, client).await
    }

    async fn oidc_client(&mut self, id: Uuid) -> Result<Option<crate::OidcClient>, StoreError> {
        OidcSql::<DB>::client(&mut self.tx, id).await
    }

    async fn oidc_clients(&mut self) -> Result<Vec<crate::OidcClient>, StoreError> {
        OidcSql::<DB>::clients(&mut self.tx).await
    }

    async fn revoke_oidc_client(
        &mut self,
        id: Uuid,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        OidcSql::<DB>::revoke_client(&mut self.tx, id, at).await
    }

    async fn oidc_signing_keys(&mut self) -> Result<Vec<crate::SigningKeyRecord>, StoreError> {
        OidcSql::<DB>::signing_keys(&mut self.tx).await
    }

    async fn rotate_oidc_signing_key(
        &mut self,
        key: &crate::SigningKeyRecord,
    ) -> Result<(), StoreError> {
        OidcSql::<DB>::rotate_signing_key(&mut self.tx, key).await
    }

    async fn insert_oidc_grant(&mut self, grant: &crate::OidcGrant) -> Result<(), StoreError> {
        OidcSql::<DB>::insert_grant(&mut self.tx, grant).await
    }

    async fn oidc_grant(&mut self, id: Uuid) -> Result<Option<crate::OidcGrant>, StoreError> {
        OidcSql::<DB>::grant(&mut self.tx, id).await
    }

    async fn revoke_oidc_grant(
        &mut self,
        id: Uuid,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        OidcSql::<DB>::revoke_grant(&mut self.tx, id, reason, at).await
    }

    async fn revoke_oidc_grants_of_session(
        &mut self,
        session: &TokenHash,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        OidcSql::<DB>::revoke_grants_of_session(&mut self.tx, session, reason, at).await
    }

    async fn revoke_oidc_grants_of_account(
        &mut self,
        account: AccountId,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        OidcSql::<DB>::revoke_grants_of_account(&mut self.tx, account, reason, at).await
    }

    async fn insert_oidc_code(
        &mut self,
        hash: &TokenHash,
        code: &crate::OidcCode,
    ) -> Result<(), StoreError> {
        OidcSql::<DB>::insert_code(&mut self.tx, hash, code).await
    }

    async fn use_oidc_code(
        &mut self,
        hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<Option<crate::Used<crate::OidcCode>>, StoreError> {
        OidcSql::<DB>::use_code(&mut self.tx, hash, at).await
    }

    async fn insert_oidc_refresh_token(
        &mut self,
        hash: &TokenHash,
        token: &crate::RefreshTokenRecord,
    ) -> Result<(), StoreError> {
        OidcSql::<DB>::insert_refresh_token(&mut self.tx, hash, token).await
    }

    async fn oidc_refresh_token(
        &mut self,
        hash: &TokenHash,
        use_at: Option<OffsetDateTime>,
    ) -> Result<Option<crate::Used<crate::RefreshTokenRecord>>, StoreError> {
        OidcSql::<DB>::refresh_token(&mut self.tx, hash, use_at).await
    }

    async fn insert_webhook_endpoint(
        &mut self,
        endpoint: &crate::WebhookEndpoint,
        secret: &str,
    ) -> Result<(), StoreError> {
        WebhookSql::<DB>::insert_endpoint(&mut self.tx, endpoint, secret).await
    }

    async fn webhook_endpoints(
        &mut self,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<crate::WebhookEndpoint>, StoreError> {
        WebhookSql::<DB>::endpoints(&mut self.tx, organization).await
    }

    async fn webhook_endpoint(
        &mut self,
        organization: Option<OrganizationId>,
        id: gardien_core::WebhookEndpointId,
    ) -> Result<Option<crate::WebhookEndpoint>, StoreError> {
        WebhookSql::<DB>::endpoint(&mut self.tx, organization, id).await
    }

    async fn delete_webhook_endpoint(
        &mut self,
        organization: Option<OrganizationId>,
        id: gardien_core::WebhookEndpointId,
    ) -> Result<crate::WebhookEndpoint, StoreError> {
        WebhookSql::<DB>::delete_endpoint(&mut self.tx, organization, id).await
    }

    async fn webhook_deliveries(
        &mut self,
        endpoint: gardien_core::WebhookEndpointId,
        page: PageRequest,
    ) -> Result<Page<crate::WebhookLogEntry>, StoreError> {
        WebhookSql::<DB>::deliveries(&mut self.tx, endpoint, page).await
    }

    async fn replay_webhook_message(
        &mut self,
        endpoint: gardien_core::WebhookEndpointId,
        message: gardien_core::WebhookMessageId,
        now: OffsetDateTime,
    ) -> Result<crate::WebhookMessage, StoreError> {
        WebhookSql::<DB>::replay(&mut self.tx, endpoint, message, now).await
    }
}
