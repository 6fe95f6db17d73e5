//! The team page at scale (flow 8): p50/p99 of the store's `members` query
//! — first page, search by name and by email, filters by status, role and
//! kind, a deep cursor page — on an organization of 100 000 members.
//!
//! Not a test: it prints numbers (see bench/README.md). Run with
//!
//! ```text
//! cargo bench -p gardien-store --bench team_page               # both back ends
//! TEAM_BENCH_RUNS=50 cargo bench -p gardien-store --bench team_page   # fewer runs per query
//! TEAM_BENCH_BACKEND=postgres TEAM_BENCH_MEMBERS=100000 cargo bench -p gardien-store --bench team_page
//! ```
//!
//! Each back end gets a fresh migrated database (`test_support`; PostgreSQL
//! at `GARDIEN_TEST_POSTGRES_URL`, a schema of its own). Members are made in
//! SQL (`generate_series` on PostgreSQL, a recursive CTE on SQLite), in a
//! few statements; another organization of a tenth of the size shares the
//! tables. Member n: email `member<n>@example.com`, first name one of 50,
//! last name one of 200 plus n; a third are clients, a tenth
//! administrators; 5 % suspended, 2 % invited, 1 % removed.

use std::time::{Duration, Instant};

use gardien_core::{Kind, MembershipStatus, OrganizationId, Role, RoleId};
use gardien_store::test_support::{fresh_store, TestBackend, TestDatabase};
use gardien_store::{MemberFilter, PageRequest, Store};
use time::OffsetDateTime;

const FIRST_NAMES: [&str; 50] = [
    "Ana", "Bruno", "Carla", "Dora", "Eve", "Gil", "Hugo", "Ines", "Jade", "Karim", "Lea", "Marc",
    "Nina", "Omar", "Paul", "Rita", "Sami", "Tina", "Ugo", "Vera", "Yann", "Zoe", "Adam", "Basile",
    "Chloe", "David", "Elsa", "Felix", "Gaia", "Henri", "Iris", "Jules", "Kenza", "Louis", "Mila",
    "Noah", "Olga", "Pierre", "Rose", "Simon", "Theo", "Ulla", "Victor", "Wanda", "Xavier",
    "Yasmine", "Zack", "Amir", "Berthe", "Cyril",
];

fn names_values() -> String {
    FIRST_NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| format!("({i}, '{n}')"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The statements that create `count` members of `org` (roles `admin`,
/// `user`), emails prefixed `prefix`.
fn population_sql(
    backend: TestBackend,
    org: OrganizationId,
    admin: RoleId,
    user: RoleId,
    count: u64,
    prefix: &str,
) -> Vec<String> {
    let now_micros = OffsetDateTime::now_utc().unix_timestamp() * 1_000_000;
    let (series, id, org_v, admin_v, user_v, now) = match backend {
        TestBackend::Postgres => (
            format!("generate_series(1, {count}) AS g(n)"),
            "gen_random_uuid()".to_owned(),
            format!("'{}'::uuid", org.as_uuid()),
            format!("'{}'::uuid", admin.as_uuid()),
            format!("'{}'::uuid", user.as_uuid()),
            "now()".to_owned(),
        ),
        TestBackend::Sqlite => (
            "g".to_owned(),
            "randomblob(16)".to_owned(),
            format!("x'{}'", org.as_uuid().simple()),
            format!("x'{}'", admin.as_uuid().simple()),
            format!("x'{}'", user.as_uuid().simple()),
            now_micros.to_string(),
        ),
    };
    let recursive = match backend {
        TestBackend::Postgres => String::new(),
        TestBackend::Sqlite => format!(
            "RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {count}), "
        ),
    };
    let with = format!(
        "WITH {recursive}names(i, name) AS (VALUES {}) ",
        names_values()
    );
    let mut sql = Vec::new();
    // Accounts: member<n>@<prefix>example.com.
    sql.push(format!(
        "{with}INSERT INTO accounts (id, email, email_normalized, first_name, last_name, language, \
         created_at, updated_at) \
         SELECT {id}, 'member' || n || '@{prefix}example.com', 'member' || n || '@{prefix}example.com', \
         (SELECT name FROM names WHERE i = n % 50), 'Name' || (n % 200) || 'x' || n, 'en', {now}, {now} \
         FROM {series}"
    ));
    sql.push(format!(
        "{with}INSERT INTO memberships (id, organization_id, account_id, kind, role_id, status, \
         created_at, updated_at, last_login_at) \
         SELECT {id}, {org_v}, a.id, \
         CASE WHEN n % 3 = 0 THEN 'client' ELSE 'staff' END, \
         CASE WHEN n % 10 = 0 THEN {admin_v} ELSE {user_v} END, \
         CASE WHEN n % 100 = 7 THEN 'removed' WHEN n % 50 = 3 THEN 'invited' \
              WHEN n % 20 = 1 THEN 'suspended' ELSE 'active' END, \
         {now}, {now}, NULL \
         FROM {series} JOIN accounts a ON a.email_normalized = 'member' || n || '@{prefix}example.com'"
    ));
    sql
}

async fn roles(store: &dyn Store, org: OrganizationId) -> (RoleId, RoleId) {
    let mut tx = store.begin().await.expect("a transaction");
    tx.insert_organization(&gardien_core::Organization {
        id: org,
        name: "Bench".into(),
        requires_activation: false,
        created_at: OffsetDateTime::now_utc(),
    })
    .await
    .expect("the organization");
    let mut ids = Vec::new();
    for (template, name, scoped) in [
        ("administrator", "Administrator", false),
        ("user", "User", true),
    ] {
        let role = Role {
            id: RoleId::new(),
            organization_id: org,
            template: Some(template.into()),
            name: name.into(),
            description: String::new(),
            permissions: Default::default(),
            scoped,
        };
        tx.insert_role(&role).await.expect("a role");
        ids.push(role.id);
    }
    tx.commit().await.expect("commit");
    (ids[0], ids[1])
}

/// Timed runs per query (`TEAM_BENCH_RUNS`, default 200), after 5 warm-up runs.
fn runs() -> usize {
    std::env::var("TEAM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full_size() { 200 } else { 3 })
}

/// `cargo bench` passes `--bench`; `cargo test --benches` does not, and then
/// the run is a small smoke run that only shows the bench still works.
fn full_size() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn measure(
    store: &dyn Store,
    org: OrganizationId,
    filter: &MemberFilter,
    search: Option<&str>,
    page: PageRequest,
) -> (Duration, Duration, usize) {
    let runs = runs();
    let mut times = Vec::with_capacity(runs);
    let mut found = 0;
    for run in 0..runs + 5 {
        let start = Instant::now();
        let mut tx = store.begin().await.expect("a transaction");
        let page = tx
            .members(org, filter, search, page)
            .await
            .expect("the members query");
        drop(tx);
        let elapsed = start.elapsed();
        found = page.items.len();
        if run >= 5 {
            times.push(elapsed);
        }
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), found)
}

async fn run(backend: TestBackend, members: u64) {
    let (store, database): (_, TestDatabase) = fresh_store(backend).await;
    let org = OrganizationId::new();
    let other = OrganizationId::new();
    let (admin, user) = roles(&*store, org).await;
    let (other_admin, other_user) = roles(&*store, other).await;
    let started = Instant::now();
    for sql in population_sql(backend, org, admin, user, members, "")
        .into_iter()
        .chain(population_sql(
            backend,
            other,
            other_admin,
            other_user,
            members / 10,
            "other.",
        ))
    {
        database.execute_raw(&sql).await.expect("bulk insert");
    }
    for sql in match backend {
        TestBackend::Postgres => ["ANALYZE accounts", "ANALYZE memberships"],
        TestBackend::Sqlite => ["ANALYZE", "PRAGMA optimize"],
    } {
        database.execute_raw(sql).await.expect("analyze");
    }
    let loaded = started.elapsed();

    // The cursor 90 % of the way down, found by paging as a client would.
    let mut cursor = None;
    let mut seen = 0u64;
    let mut tx = store.begin().await.expect("a transaction");
    while seen < members * 9 / 10 {
        let page = tx
            .members(
                org,
                &MemberFilter::default(),
                None,
                PageRequest {
                    after: cursor,
                    limit: PageRequest::MAX_LIMIT,
                },
            )
            .await
            .expect("a page");
        seen += page.items.len() as u64;
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    drop(tx);

    let none = MemberFilter::default();
    let page = PageRequest::first(50);
    let cases: Vec<(&str, MemberFilter, Option<&str>, PageRequest)> = vec![
        ("first page", none.clone(), None, page),
        (
            "search by first name (2 %: \"yasmine\")",
            none.clone(),
            Some("yasmine"),
            page,
        ),
        (
            "search by name (one member)",
            none.clone(),
            Some("name17x4217"),
            page,
        ),
        (
            "search by email (one member)",
            none.clone(),
            Some("member73519@"),
            page,
        ),
        (
            "search with no match",
            none.clone(),
            Some("nobody-here"),
            page,
        ),
        (
            "status = suspended",
            MemberFilter {
                status: Some(MembershipStatus::Suspended),
                ..none.clone()
            },
            None,
            page,
        ),
        (
            "status = removed",
            MemberFilter {
                status: Some(MembershipStatus::Removed),
                ..none.clone()
            },
            None,
            page,
        ),
        (
            "role = administrator",
            MemberFilter {
                role_id: Some(admin),
                ..none.clone()
            },
            None,
            page,
        ),
        (
            "kind = client",
            MemberFilter {
                kind: Some(Kind::Client),
                ..none.clone()
            },
            None,
            page,
        ),
        (
            "status + role + kind",
            MemberFilter {
                status: Some(MembershipStatus::Active),
                role_id: Some(admin),
                kind: Some(Kind::Client),
            },
            None,
            page,
        ),
        (
            "deep cursor page (90 %)",
            none.clone(),
            None,
            PageRequest {
                after: cursor,
                limit: 50,
            },
        ),
    ];
    println!(
        "\n{backend:?}: {members} members (+ {} in another organization), loaded in {:.1} s; {} runs each",
        members / 10,
        loaded.as_secs_f64(),
        runs()
    );
    println!("| query | rows | p50 | p99 |\n|---|---|---|---|");
    for (name, filter, search, page) in cases {
        let (p50, p99, found) = measure(&*store, org, &filter, search, page).await;
        println!("| {name} | {found} | {} | {} |", ms(p50), ms(p99));
    }
}

fn main() {
    let members: u64 = std::env::var("TEAM_BENCH_MEMBERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full_size() { 100_000 } else { 1_000 });
    let backends = match std::env::var("TEAM_BENCH_BACKEND").as_deref() {
        Ok("sqlite") => vec![TestBackend::Sqlite],
        Ok("postgres") => vec![TestBackend::Postgres],
        _ => vec![TestBackend::Sqlite, TestBackend::Postgres],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    for backend in backends {
        runtime.block_on(run(backend, members));
    }
}
