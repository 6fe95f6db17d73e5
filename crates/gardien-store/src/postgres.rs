//! The PostgreSQL back end, for scale-out: several Gardien instances on one
//! database. Optionally confined to one schema (`search_path` on every pooled
//! connection). Concurrent outbox claims skip each other's rows
//! (`FOR UPDATE SKIP LOCKED`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::encode::IsNull;
use sqlx::error::{BoxDynError, DatabaseError};
use sqlx::migrate::Migrator;
use sqlx::postgres::{
    PgArgumentBuffer, PgConnectOptions, PgPoolOptions, PgQueryResult, PgTypeInfo, PgValueRef,
    Postgres,
};
use sqlx::{ConnectOptions, Connection, Decode, Encode, Type};
use time::OffsetDateTime;

use crate::engine::{Dialect, SqlStore};
use crate::rows::DbTime;
use crate::{sql, Backend, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The store on PostgreSQL.
pub(crate) type PgStore = SqlStore<Postgres>;

const POOL_SIZE: u32 = 10;
/// An unreachable database fails start-up quickly rather than hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl SqlStore<Postgres> {
    /// Connects to `url`, in `schema` when given (created if missing), and
    /// brings the schema up to date.
    pub(crate) async fn connect(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("invalid PostgreSQL database URL: {e}")))?;
        let place = format!("{}:{}", options.get_host(), options.get_port());
        let unavailable = |e: sqlx::Error| {
            StoreError::Unavailable(format!("cannot reach PostgreSQL at {place}: {e}"))
        };
        if let Some(schema) = schema {
            if !is_identifier(schema) {
                return Err(StoreError::Config(format!(
                    "the PostgreSQL schema must be lowercase letters, digits and '_', not '{schema}'"
                )));
            }
            let connect = options.connect();
            let mut connection = tokio::time::timeout(ACQUIRE_TIMEOUT, connect)
                .await
                .map_err(|_| unavailable(sqlx::Error::PoolTimedOut))?
                .map_err(unavailable)?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .execute(&mut connection)
                .await
                .map_err(crate::engine::map_error::<Postgres>)?;
            connection.close().await.map_err(unavailable)?;
            options = options.options([("search_path", schema)]);
        }
        // Plan each statement for its values: after five runs PostgreSQL may
        // keep a generic plan of a prepared statement, and for the team
        // page's search (`LIKE $n`) or a rare audit filter the generic plan
        // scans the whole organization in order (a search with no match:
        // 200 ms instead of a few through the trigram index; bench/README.md).
        // Planning these short queries costs tens of microseconds.
        options = options.options([("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        MIGRATOR.run(&pool).await?;
        Ok(Self::new(pool.clone(), pool))
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Dialect for Postgres {
    const BACKEND: Backend = Backend::Postgres;
    const BEGIN: Option<&'static str> = None;
    // One snapshot for the whole transaction, as on SQLite; a read-only
    // transaction never fails to serialize.
    const BEGIN_READ: Option<&'static str> =
        Some("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const CLAIM_LOCK: &'static str = "FOR UPDATE SKIP LOCKED";

    /// PostgreSQL names the constraint (or unique index) itself.
    fn unique_constraint(error: &dyn DatabaseError) -> &'static str {
        let constraint = error.constraint().unwrap_or_default();
        sql::UNIQUE_CONSTRAINTS
            .iter()
            .find(|(name, _)| *name == constraint)
            .map_or(sql::UNKNOWN_CONSTRAINT, |(name, _)| name)
    }

    /// Any integrity violation (SQLSTATE class 23), such as the audit trail's trigger.
    fn is_refusal(error: &dyn DatabaseError) -> bool {
        error.code().is_some_and(|code| code.starts_with("23"))
    }

    /// A transaction chosen to give way (serialization failure, deadlock),
    /// a lock or statement timeout, too many connections, a server shutting
    /// down or starting, a connection lost (SQLSTATE class 08).
    fn is_transient(error: &dyn DatabaseError) -> bool {
        error.code().is_some_and(|code| {
            code.starts_with("08")
                || matches!(
                    code.as_ref(),
                    "40001" | "40P01" | "55P03" | "57014" | "53300" | "57P01" | "57P02" | "57P03"
                )
        })
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <OffsetDateTime as Decode<'r, Postgres>>::decode(value).map(DbTime)
    }
}
