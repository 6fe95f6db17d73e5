//! Audit trail at scale (flow 14): p99 of a filtered page query and the
//! export's throughput and memory, on a database of many events.
//!
//! Not a test: it prints numbers (see bench/README.md). Run with
//!
//! ```text
//! AUDIT_BENCH_URL=postgres://postgres@127.0.0.1:5432/test AUDIT_BENCH_EVENTS=10000000 \
//!   cargo bench -p gardien-store --bench audit_trail
//! AUDIT_BENCH_URL=sqlite:///tmp/audit-bench.db cargo bench -p gardien-store --bench audit_trail
//! ```
//!
//! PostgreSQL runs in a schema of its own (`audit_bench`, dropped first).
//! Events: one big organization holds a fifth of them, 999 others share
//! the rest; 100 actors, 20 actions in 4 groups, 1 000 target members,
//! one event every 3 seconds. Generated in SQL (`generate_series` on
//! PostgreSQL, a recursive CTE on SQLite), a million rows per statement.

use std::time::{Duration, Instant};

use gardien_core::{AccountId, OrganizationId};
use gardien_store::{ActionFilter, AuditCursor, AuditFilter, Store};
use sqlx::Executor;
use time::OffsetDateTime;

const CHUNK: u64 = 1_000_000;
const START: &str = "2025-01-01 00:00:00+00";
const START_MICROS: i64 = 1_735_689_600_000_000;
const STEP_SECONDS: i64 = 3;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn uuid_of(n: u64, kind: u8) -> uuid::Uuid {
    let mut bytes = [0u8; 16];
    bytes[0] = kind;
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    uuid::Uuid::from_bytes(bytes)
}

fn postgres_sql(total: u64) -> Vec<String> {
    let mut sql = vec![
        "CREATE TEMP TABLE bench_orgs (n INT PRIMARY KEY, id UUID)".to_owned(),
        "CREATE TEMP TABLE bench_actors (n INT PRIMARY KEY, id UUID)".to_owned(),
        "CREATE TEMP TABLE bench_targets (n INT PRIMARY KEY, t TEXT)".to_owned(),
        "CREATE TEMP TABLE bench_actions (n INT PRIMARY KEY, a TEXT)".to_owned(),
    ];
    let orgs: Vec<String> = (0..1000u64)
        .map(|n| format!("({n}, '{}')", uuid_of(n, 1)))
        .collect();
    sql.push(format!("INSERT INTO bench_orgs VALUES {}", orgs.join(",")));
    sql.push(
        "INSERT INTO organizations (id, name, requires_activation, created_at) \
         SELECT id, 'Org ' || n, false, now() FROM bench_orgs"
            .into(),
    );
    let actors: Vec<String> = (0..100u64)
        .map(|n| format!("({n}, '{}')", uuid_of(n, 2)))
        .collect();
    sql.push(format!(
        "INSERT INTO bench_actors VALUES {}",
        actors.join(",")
    ));
    let targets: Vec<String> = (0..1000u64)
        .map(|n| format!("({n}, 'membership:{}')", uuid_of(n, 3)))
        .collect();
    sql.push(format!(
        "INSERT INTO bench_targets VALUES {}",
        targets.join(",")
    ));
    sql.push(format!(
        "INSERT INTO bench_actions VALUES {}",
        actions_values()
    ));
    let mut from = 0;
    while from < total {
        let to = (from + CHUNK).min(total);
        sql.push(format!(
            "INSERT INTO audit_events (id, occurred_at, organization_id, actor_type, actor_id, \
             action, target, before, after, ip, user_agent, request_id) \
             SELECT gen_random_uuid(), timestamptz '{START}' + g * interval '{STEP_SECONDS} seconds', \
             o.id, 'account', a.id, x.a, t.t, '{{\"status\":\"active\"}}', \
             '{{\"status\":\"suspended\"}}', '192.0.2.1', 'bench', 'r' || g \
             FROM generate_series({from}, {}) g \
             JOIN bench_orgs o ON o.n = CASE WHEN g % 5 = 0 THEN 0 ELSE 1 + g % 999 END \
             JOIN bench_actors a ON a.n = g % 100 \
             JOIN bench_actions x ON x.n = (g / 7) % 20 \
             JOIN bench_targets t ON t.n = (g / 3) % 1000",
            to - 1
        ));
        from = to;
    }
    sql.push("ANALYZE audit_events".into());
    sql
}

fn actions_values() -> String {
    let groups = ["membership", "invitation", "account", "role"];
    let verbs = ["created", "changed", "removed", "restored", "viewed"];
    let mut values = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        for (j, v) in verbs.iter().enumerate() {
            values.push(format!("({}, '{g}.{v}')", i * 5 + j));
        }
    }
    values.join(",")
}

fn sqlite_sql(total: u64) -> Vec<String> {
    let mut sql = vec![
        "CREATE TABLE bench_orgs (n INTEGER PRIMARY KEY, id BLOB)".to_owned(),
        "CREATE TABLE bench_actors (n INTEGER PRIMARY KEY, id BLOB)".to_owned(),
        "CREATE TABLE bench_targets (n INTEGER PRIMARY KEY, t TEXT)".to_owned(),
        "CREATE TABLE bench_actions (n INTEGER PRIMARY KEY, a TEXT)".to_owned(),
    ];
    let blob = |u: uuid::Uuid| format!("X'{}'", u.simple());
    let orgs: Vec<String> = (0..1000u64)
        .map(|n| format!("({n}, {})", blob(uuid_of(n, 1))))
        .collect();
    sql.push(format!("INSERT INTO bench_orgs VALUES {}", orgs.join(",")));
    sql.push(
        "INSERT INTO organizations (id, name, requires_activation, created_at) \
         SELECT id, 'Org ' || n, 0, 0 FROM bench_orgs"
            .into(),
    );
    let actors: Vec<String> = (0..100u64)
        .map(|n| format!("({n}, {})", blob(uuid_of(n, 2))))
        .collect();
    sql.push(format!(
        "INSERT INTO bench_actors VALUES {}",
        actors.join(",")
    ));
    let targets: Vec<String> = (0..1000u64)
        .map(|n| format!("({n}, 'membership:{}')", uuid_of(n, 3)))
        .collect();
    sql.push(format!(
        "INSERT INTO bench_targets VALUES {}",
        targets.join(",")
    ));
    sql.push(format!(
        "INSERT INTO bench_actions VALUES {}",
        actions_values()
    ));
    let mut from = 0;
    while from < total {
        let to = (from + CHUNK).min(total);
        sql.push(format!(
            "INSERT INTO audit_events (id, occurred_at, organization_id, actor_type, actor_id, \
             action, target, before, after, ip, user_agent, request_id) \
             WITH RECURSIVE s(g) AS (SELECT {from} UNION ALL SELECT g + 1 FROM s WHERE g < {}) \
             SELECT randomblob(16), {START_MICROS} + g * {}, \
             (SELECT id FROM bench_orgs WHERE n = CASE WHEN g % 5 = 0 THEN 0 ELSE 1 + g % 999 END), \
             'account', (SELECT id FROM bench_actors WHERE n = g % 100), \
             (SELECT a FROM bench_actions WHERE n = (g / 7) % 20), \
             (SELECT t FROM bench_targets WHERE n = (g / 3) % 1000), \
             '{{\"status\":\"active\"}}', '{{\"status\":\"suspended\"}}', '192.0.2.1', 'bench', 'r' || g \
             FROM s",
            to - 1,
            STEP_SECONDS * 1_000_000
        ));
        from = to;
    }
    sql.push("ANALYZE".into());
    sql
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // then the run is a small smoke run that only shows the bench still works.
    let full_size = std::env::args().any(|a| a == "--bench");
    let url = std::env::var("AUDIT_BENCH_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let total: u64 = std::env::var("AUDIT_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full_size { 10_000_000 } else { 20_000 });
    let queries: usize = std::env::var("AUDIT_BENCH_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full_size { 300 } else { 5 });
    let postgres = url.starts_with("postgres");
    let reuse = std::env::var("AUDIT_BENCH_REUSE").is_ok();

    // A clean database, the real migrations.
    let store_url = if postgres {
        if !reuse {
            let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .expect("PostgreSQL");
            admin
                .execute("DROP SCHEMA IF EXISTS audit_bench CASCADE; CREATE SCHEMA audit_bench")
                .await
                .unwrap();
        }
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-c%20search_path%3Daudit_bench")
    } else {
        if !reuse {
            let path = url.trim_start_matches("sqlite://");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        url.clone()
    };
    let store = gardien_store::connect(&store_url).await.expect("store");
    println!("backend: {:?}, events: {total}", store.backend());

    if !reuse {
        let started = Instant::now();
        let statements = if postgres {
            postgres_sql(total)
        } else {
            sqlite_sql(total)
        };
        // The secondary indexes are dropped during the inserts and built
        // again from their own definitions after: the same database in the
        // end, made in minutes instead of the better part of an hour.
        if postgres {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&store_url)
                .await
                .unwrap();
            conn.execute("SET maintenance_work_mem = '512MB'; SET synchronous_commit = off")
                .await
                .unwrap();
            let defs: Vec<(String, String)> = sqlx::query_as(
                "SELECT indexname::text, indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename = 'audit_events' \
                 AND indexname NOT LIKE '%pkey'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for (name, _) in &defs {
                conn.execute(format!("DROP INDEX \"{name}\"").as_str())
                    .await
                    .unwrap();
            }
            for s in &statements {
                conn.execute(s.as_str()).await.expect(s);
            }
            for (_, def) in &defs {
                conn.execute(def.as_str()).await.expect(def);
            }
            conn.execute("ANALYZE audit_events").await.unwrap();
        } else {
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&store_url)
                .await
                .unwrap();
            conn.execute("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144")
                .await
                .unwrap();
            let defs: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' \
                 AND tbl_name = 'audit_events' AND sql IS NOT NULL",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for (name, _) in &defs {
                conn.execute(format!("DROP INDEX \"{name}\"").as_str())
                    .await
                    .unwrap();
            }
            for s in &statements {
                conn.execute(s.as_str()).await.expect(s);
            }
            for (_, def) in &defs {
                conn.execute(def.as_str()).await.expect(def);
            }
            conn.execute("ANALYZE").await.unwrap();
        }
        println!(
            "generated {total} events in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    let big = OrganizationId::from_uuid(uuid_of(0, 1));
    let small = OrganizationId::from_uuid(uuid_of(7, 1));
    let span_seconds = total as i64 * STEP_SECONDS;
    let start = OffsetDateTime::from_unix_timestamp_nanos(i128::from(START_MICROS) * 1000).unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut random = move |below: i64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % below.max(1) as u64) as i64
    };
    let actor = AccountId::from_uuid(uuid_of(5, 2));
    // Member 0: target of events 0, 1, 2 of every 3 000, so 1 in 5 of its
    // events is in the big organization (member 42's never are).
    let target = format!("membership:{}", uuid_of(0, 3));
    let combos: Vec<(&str, OrganizationId, AuditFilter)> = vec![
        ("big org, no filter", big, AuditFilter::default()),
        (
            "big org, actor",
            big,
            AuditFilter {
                actor: Some(actor),
                ..AuditFilter::default()
            },
        ),
        (
            "big org, action exact",
            big,
            AuditFilter {
                action: Some(ActionFilter::Exact("membership.removed".into())),
                ..AuditFilter::default()
            },
        ),
        (
            "big org, action prefix",
            big,
            AuditFilter {
                action: Some(ActionFilter::Prefix("role.".into())),
                ..AuditFilter::default()
            },
        ),
        (
            "big org, target member",
            big,
            AuditFilter {
                targets: vec![target.clone()],
                ..AuditFilter::default()
            },
        ),
        (
            "big org, actor + action prefix",
            big,
            AuditFilter {
                actor: Some(actor),
                action: Some(ActionFilter::Prefix("invitation.".into())),
                ..AuditFilter::default()
            },
        ),
        ("small org, no filter", small, AuditFilter::default()),
    ];
    println!("\npage of 50, newest first, {queries} queries each at random depths (`to` = a random time, then the next page by cursor):");
    println!("| filter | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|");
    for (name, org, filter) in &combos {
        let mut times = Vec::with_capacity(queries);
        for _ in 0..queries {
            let mut f = filter.clone();
            // A one-day window ending at a random time, as a person filtering by date would.
            let end = start + time::Duration::seconds(random(span_seconds));
            f.to = Some(end);
            if name.contains("no filter") && random(2) == 0 {
                f.from = Some(end - time::Duration::days(1));
            }
            let began = Instant::now();
            let page = store.audit_page(*org, &f, None, 50).await.unwrap();
            if let Some(next) = page.next {
                let _ = store.audit_page(*org, &f, Some(next), 50).await.unwrap();
            }
            times.push(began.elapsed() / 2);
        }
        times.sort();
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3
        );
    }

    // The export path: keyset batches of 1000, each row serialized, nothing kept.
    let rss_before = rss_kib();
    let mut rss_max = rss_before;
    let began = Instant::now();
    let mut rows = 0u64;
    let mut bytes = 0u64;
    let mut cursor: Option<AuditCursor> = None;
    let mut line = Vec::with_capacity(512);
    loop {
        let page = store
            .audit_page(
                big,
                &AuditFilter::default(),
                cursor,
                gardien_store::AUDIT_BATCH_MAX,
            )
            .await
            .unwrap();
        for entry in &page.items {
            line.clear();
            serde_json::to_writer(&mut line, &entry.event).unwrap();
            bytes += line.len() as u64 + 1;
            rows += 1;
        }
        rss_max = rss_max.max(rss_kib());
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let elapsed = began.elapsed().as_secs_f64();
    println!(
        "\nexport of the big organization: {rows} rows, {:.0} MB in {elapsed:.1} s = {:.0} rows/s; RSS {} MiB before, {} MiB max, {} MiB after",
        bytes as f64 / 1e6,
        rows as f64 / elapsed,
        rss_before / 1024,
        rss_max / 1024,
        rss_kib() / 1024
    );
    let _: &dyn Store = store.as_ref();
}
