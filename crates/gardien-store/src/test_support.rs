//! Helpers for tests of every crate: a fresh, isolated database per test, on
//! each back end, and [`both_backends!`](crate::both_backends) to run one test
//! body on both.
//!
//! SQLite databases live in a new temporary directory; PostgreSQL databases
//! are a new schema `gardien_t_<uuid>` in the database named by
//! `GARDIEN_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`),
//! dropped when the [`TestDatabase`] is (set `GARDIEN_TEST_KEEP=1` to keep it).
//! An unreachable PostgreSQL fails the test: it is never skipped.

use std::sync::Arc;

use sqlx::{Connection, Executor, PgConnection, SqliteConnection};
use tempfile::TempDir;

use crate::engine::map_error;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::{Store, StoreError};

/// The PostgreSQL database tests use when `GARDIEN_TEST_POSTGRES_URL` is unset.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which back end a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// An isolated test database. Keep it alive as long as the test uses the
/// database: dropping it deletes the database.
#[derive(Debug)]
pub struct TestDatabase {
    backend: TestBackend,
    url: String,
    place: Place,
}

#[derive(Debug)]
enum Place {
    /// The temporary directory holding the SQLite file.
    Directory(#[allow(dead_code)] TempDir),
    /// The PostgreSQL schema, and the URL of its database without it.
    Schema { base_url: String, schema: String },
}

impl TestDatabase {
    pub fn backend(&self) -> TestBackend {
        self.backend
    }

    /// A URL that opens this very database, for [`crate::connect`] or for a
    /// separately started `gardien` process.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs one SQL statement outside the [`Store`] interface, on its own
    /// connection; returns the number of rows changed. For tests that check
    /// what the schema itself refuses.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        match self.backend {
            TestBackend::Sqlite => {
                let mut connection = SqliteConnection::connect(&self.url)
                    .await
                    .map_err(map_error::<sqlx::Sqlite>)?;
                let done = connection
                    .execute(sql)
                    .await
                    .map_err(map_error::<sqlx::Sqlite>)?;
                Ok(done.rows_affected())
            }
            TestBackend::Postgres => {
                let mut connection = PgConnection::connect(&self.url)
                    .await
                    .map_err(map_error::<sqlx::Postgres>)?;
                let done = connection
                    .execute(sql)
                    .await
                    .map_err(map_error::<sqlx::Postgres>)?;
                Ok(done.rows_affected())
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Place::Schema { base_url, schema } = &self.place else {
            return;
        };
        if std::env::var_os("GARDIEN_TEST_KEEP").is_some() {
            eprintln!("kept the test database: {}", self.url);
            return;
        }
        // Drop runs inside the test's runtime, which cannot block on a
        // future: drop the schema from a thread of its own, best effort.
        let (base_url, schema) = (base_url.clone(), schema.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut connection = PgConnection::connect(&base_url).await.ok()?;
                connection.execute("SET lock_timeout = '2s'").await.ok()?;
                let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                connection.execute(sql.as_str()).await.ok()?;
                connection.close().await.ok()
            })
        });
        let _ = dropped.join();
    }
}

/// The PostgreSQL database tests use: `GARDIEN_TEST_POSTGRES_URL` or
/// [`DEFAULT_POSTGRES_URL`].
pub fn postgres_url() -> String {
    std::env::var("GARDIEN_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// A store on a new, empty, migrated database of `backend`, and the guard
/// that keeps that database alive.
///
/// # Panics
/// When the database cannot be created — in particular when PostgreSQL is
/// unreachable: tests on PostgreSQL are never silently skipped.
pub async fn fresh_store(backend: TestBackend) -> (Arc<dyn Store>, TestDatabase) {
    match backend {
        TestBackend::Sqlite => {
            let dir = tempfile::tempdir().expect("cannot create a temporary directory for SQLite");
            let url = format!("sqlite://{}", dir.path().join("gardien.db").display());
            let store = SqliteStore::connect(&url)
                .await
                .unwrap_or_else(|e| panic!("cannot create the SQLite test database {url}: {e}"));
            let database = TestDatabase {
                backend,
                url,
                place: Place::Directory(dir),
            };
            (Arc::new(store), database)
        }
        TestBackend::Postgres => {
            let base_url = postgres_url();
            let schema = format!("gardien_t_{}", uuid::Uuid::now_v7().simple());
            let store = PgStore::connect(&base_url, Some(&schema)).await.unwrap_or_else(|e| {
                panic!(
                    "cannot create the PostgreSQL test database (schema {schema} in {base_url}): {e}\n\
                     Start PostgreSQL or point GARDIEN_TEST_POSTGRES_URL at one."
                )
            });
            let separator = if base_url.contains('?') { '&' } else { '?' };
            let url = format!("{base_url}{separator}options=-c%20search_path%3D{schema}");
            let database = TestDatabase {
                backend,
                url,
                place: Place::Schema { base_url, schema },
            };
            (Arc::new(store), database)
        }
    }
}

/// Defines one test that runs on both back ends, each on a fresh database:
/// a module named after the test, holding `sqlite` and `postgres` tests
/// (`cargo test email_is_unique` runs both).
///
/// ```ignore
/// use std::sync::Arc;
/// use gardien_store::{both_backends, test_support::TestDatabase, Store};
///
/// both_backends!(async fn pings(store: Arc<dyn Store>) {
///     store.ping().await.unwrap();
/// });
///
/// // With the database too, for its URL or raw SQL:
/// both_backends!(async fn opens_by_url(store: Arc<dyn Store>, db: &TestDatabase) {
///     let again = gardien_store::connect(db.url()).await.unwrap();
///     again.ping().await.unwrap();
/// });
/// ```
///
/// The calling crate needs `tokio` (with `macros` and `rt-multi-thread`).
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($store:ident : $store_ty:ty) $body:block) => {
        $crate::both_backends!(
            $(#[$meta])* async fn $name($store: $store_ty, _database: &$crate::test_support::TestDatabase) $body
        );
    };
    ($(#[$meta:meta])* async fn $name:ident($store:ident : $store_ty:ty, $db:ident : $db_ty:ty) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($store: $store_ty, $db: $db_ty) $body

            $(#[$meta])*
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (store, database) =
                    $crate::test_support::fresh_store($crate::test_support::TestBackend::Sqlite).await;
                run(store, &database).await;
            }

            $(#[$meta])*
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let (store, database) =
                    $crate::test_support::fresh_store($crate::test_support::TestBackend::Postgres).await;
                run(store, &database).await;
            }
        }
    };
}
