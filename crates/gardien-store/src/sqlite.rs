//! The SQLite back end, the embedded default: one file in WAL mode, written
//! with `synchronous = FULL` so that nothing committed is lost, even by a
//! crash. Every transaction is `BEGIN IMMEDIATE`: it takes the write lock up
//! front, so two transactions never deadlock upgrading from read to write.
//! Read-only transactions run on read-only connections of their own, beside
//! the writer.
//! Times are stored as integer microseconds since the Unix epoch (UTC).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::encode::IsNull;
use sqlx::error::{BoxDynError, DatabaseError};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    Sqlite, SqliteArgumentValue, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions,
    SqliteQueryResult, SqliteSynchronous, SqliteTypeInfo, SqliteValueRef,
};
use sqlx::{Decode, Encode, Type};
use time::OffsetDateTime;

use crate::engine::{Dialect, SqlStore};
use crate::rows::DbTime;
use crate::{sql, Backend, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The store on SQLite.
pub(crate) type SqliteStore = SqlStore<Sqlite>;

/// Pooled connections, for writes and for reads each: WAL lets readers run
/// beside the one writer.
const POOL_SIZE: u32 = 8;
/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl SqlStore<Sqlite> {
    /// Opens (creating if needed) the database file named by `url` and
    /// brings its schema up to date.
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("invalid SQLite database URL: {e}")))?
            .foreign_keys(true)
            // Reads go through a memory map of the file: pages are read in
            // place from the OS's cache of the file, shared by every
            // connection, instead of copied into each connection's own page
            // cache (8 × 16 MiB of private memory once full, when a big
            // cache was what kept the team search of a 100 000-member
            // organization fast: bench/README.md). The private cache then
            // holds what writes change: SQLite's default 2 MiB.
            .pragma("mmap_size", "268435456")
            .pragma("cache_size", "-2048")
            .busy_timeout(BUSY_TIMEOUT);
        let options = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let path = options.get_filename().to_owned();
        let unavailable = |reason: String| {
            StoreError::Unavailable(format!(
                "cannot open the SQLite database at {}: {reason}",
                path.display()
            ))
        };
        if is_file(&path) {
            let parent = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            if !parent.is_dir() {
                return Err(unavailable(format!(
                    "the directory {} does not exist",
                    parent.display()
                )));
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(BUSY_TIMEOUT * 2)
            .connect_with(options)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        MIGRATOR.run(&pool).await?;
        // Read-only transactions get connections of their own, opened
        // read-only once the file is in WAL mode: they read beside the
        // writer instead of queueing for its lock. An in-memory database
        // exists only on its own connections, so it reads on the writer's.
        let readers = if is_file(&path) {
            SqlitePoolOptions::new()
                .max_connections(POOL_SIZE)
                .acquire_timeout(BUSY_TIMEOUT * 2)
                .connect_with(base.read_only(true))
                .await
                .map_err(|e| unavailable(e.to_string()))?
        } else {
            pool.clone()
        };
        Ok(Self::new(pool, readers))
    }
}

/// Whether the database lives in a file (not `sqlite::memory:`).
fn is_file(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name != ":memory:" && !name.starts_with("file:")
}

impl Dialect for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    const BEGIN: Option<&'static str> = Some("BEGIN IMMEDIATE");
    // Deferred, on a read-only connection: it reads one snapshot of the WAL
    // and never takes the write lock.
    const BEGIN_READ: Option<&'static str> = None;
    // The claim runs in an immediate transaction: no other writer meanwhile.
    const CLAIM_LOCK: &'static str = "";

    /// SQLite names the columns: "UNIQUE constraint failed: roles.organization_id, roles.name".
    fn unique_constraint(error: &dyn DatabaseError) -> &'static str {
        let columns = error
            .message()
            .strip_prefix("UNIQUE constraint failed: ")
            .unwrap_or_default();
        sql::UNIQUE_CONSTRAINTS
            .iter()
            .find(|(_, sqlite_columns)| *sqlite_columns == columns)
            .map_or(sql::UNKNOWN_CONSTRAINT, |(name, _)| name)
    }

    /// Any `SQLITE_CONSTRAINT` code, such as a trigger's `RAISE(ABORT, …)`.
    fn is_refusal(error: &dyn DatabaseError) -> bool {
        const SQLITE_CONSTRAINT: i32 = 19;
        primary_code(error) == Some(SQLITE_CONSTRAINT)
    }

    /// `SQLITE_BUSY` (another connection held the lock past the busy
    /// timeout) and `SQLITE_LOCKED`, with any extended code of theirs.
    fn is_transient(error: &dyn DatabaseError) -> bool {
        const SQLITE_BUSY: i32 = 5;
        const SQLITE_LOCKED: i32 = 6;
        primary_code(error).is_some_and(|code| code == SQLITE_BUSY || code == SQLITE_LOCKED)
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// The primary result code of an (extended) SQLite result code.
fn primary_code(error: &dyn DatabaseError) -> Option<i32> {
    error
        .code()
        .and_then(|code| code.parse::<i32>().ok())
        .map(|code| code & 0xff)
}

fn unix_micros(time: OffsetDateTime) -> Result<i64, BoxDynError> {
    Ok(i64::try_from(time.unix_timestamp_nanos().div_euclid(1000))?)
}

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbTime {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, Sqlite>>::encode(unix_micros(self.0)?, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let micros = <i64 as Decode<'r, Sqlite>>::decode(value)?;
        Ok(DbTime(OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(micros) * 1000,
        )?))
    }
}
