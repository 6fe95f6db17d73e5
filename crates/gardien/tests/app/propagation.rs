//! Two instances on one PostgreSQL database, the second deaf to
//! notifications (as when its LISTEN connection dies without an error): a
//! change made through the first still reaches the second's checks within
//! the change counter poll interval. PostgreSQL only: with SQLite one process
//! owns the database, there is no second instance to tell.

use crate::support;

use std::time::{Duration, Instant};

use gardien_core::OrganizationId;
use reqwest::Method;
use serde_json::{json, Value};
use support::{call, invitation_token, session_cookie, sign_up_and_log_in, TestApp};

const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";
/// The second instance's poll interval.
const POLL_MS: u64 = 200;
/// What the test allows beyond one interval: the poll's query and catch-up,
/// and the HTTP round trips of the test itself, on a busy machine.
const SLACK: Duration = Duration::from_millis(800);

/// Invites `email` as an administrator and accepts as a new account:
/// `(membership id, account id)`.
async fn add_administrator(app: &TestApp, admin: &str, org: &str, email: &str) -> (String, String) {
    let org_id = OrganizationId::from_uuid(org.parse().unwrap());
    let mut tx = app.store.begin().await.unwrap();
    let role = tx
        .roles(org_id)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.template.as_deref() == Some("administrator"))
        .expect("the built-in role")
        .id
        .to_string();
    drop(tx);
    let invited = call(
        app,
        Method::POST,
        Some(admin),
        &format!("/api/v1/organizations/{org}/invitations"),
        Some(json!({
            "email": email,
            "first_name": "Bruno",
            "last_name": "Costa",
            "kind": "staff",
            "role_id": role,
        })),
    )
    .await;
    assert_eq!(invited.status(), 201);
    let invited: Value = invited.json().await.unwrap();
    let membership = invited["membership_id"].as_str().unwrap().to_owned();
    let token = invitation_token(app, email).await;
    let accepted = call(
        app,
        Method::POST,
        None,
        &format!("/api/v1/invitations/{token}"),
        Some(json!({
            "first_name": "Bruno",
            "last_name": "Costa",
            "password": INVITEE_PASSWORD,
            "accept_privacy": true,
        })),
    )
    .await;
    let session = session_cookie(&accepted).expect("the invitee is logged in");
    let me: Value = app
        .http
        .get(app.url("/api/v1/session/introspect"))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (membership, me["account"]["id"].as_str().unwrap().to_owned())
}

/// A check on instance `address` with `key`: the HTTP status and, on 200,
/// whether it was allowed.
async fn check_on(
    app: &TestApp,
    address: &str,
    key: &str,
    account: &str,
    org: &str,
) -> (u16, bool) {
    let response = app
        .http
        .post(format!("{address}/api/v1/check"))
        .bearer_auth(key)
        .json(&json!({ "account_id": account, "organization_id": org, "permission": "team.read" }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let allowed = status == 200 && response.json::<Value>().await.unwrap()["allowed"] == true;
    (status, allowed)
}

/// Polls instance B until `done` holds of its answer, failing past one poll
/// interval plus [`SLACK`]; returns how long it took.
async fn within_bound(
    what: &str,
    mut ask: impl AsyncFnMut() -> (u16, bool),
    done: impl Fn((u16, bool)) -> bool,
) -> Duration {
    let since = Instant::now();
    let bound = Duration::from_millis(POLL_MS) + SLACK;
    loop {
        let answer = ask().await;
        if done(answer) {
            let took = since.elapsed();
            println!("{what}: seen by the deaf instance after {took:?}");
            return took;
        }
        assert!(
            since.elapsed() < bound,
            "{what}: the deaf instance still answers {answer:?} after {:?}",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deaf_instance_still_applies_changes_within_the_poll_interval() {
    let a = support::spawn_app(gardien_store::test_support::TestBackend::Postgres).await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = support::test_settings(a.database.url(), data_dir.path(), a.mail.port());
    settings.authz_poll_ms = Some(POLL_MS);
    let b_app = gardien::Application::build(settings.resolve().unwrap())
        .await
        .unwrap();
    b_app.deafen_authz_listener();
    let b = format!("http://{}", b_app.local_addr());
    let (stop_b, stopped_b) = tokio::sync::oneshot::channel::<()>();
    let b_server = tokio::spawn(async move {
        b_app
            .run_until_stopped(async {
                let _ = stopped_b.await;
            })
            .await
            .unwrap();
    });

    let (ana, org, _) = sign_up_and_log_in(&a, "ana@example.fr", "Cabinet Lima").await;
    let created = call(
        &a,
        Method::POST,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/api-keys"),
        Some(json!({ "name": "Portal back end" })),
    )
    .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let (key_id, key) = (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    );

    // A new member (a grant made through A).
    let (member, bruno) = add_administrator(&a, &ana, &org, "bruno@example.fr").await;
    within_bound(
        "new member",
        async || check_on(&a, &b, &key, &bruno, &org).await,
        |(status, allowed)| status == 200 && allowed,
    )
    .await;

    // A suspension (a revocation made through A).
    let suspended = call(
        &a,
        Method::POST,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/members/{member}/suspend"),
        None,
    )
    .await;
    assert_eq!(suspended.status(), 200);
    assert_eq!(
        check_on(&a, &a.address, &key, &bruno, &org).await,
        (200, false)
    );
    within_bound(
        "suspension",
        async || check_on(&a, &b, &key, &bruno, &org).await,
        |(status, allowed)| status == 200 && !allowed,
    )
    .await;

    // An API key revoked through A, which B had in memory.
    let revoked = call(
        &a,
        Method::DELETE,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/api-keys/{key_id}"),
        None,
    )
    .await;
    assert_eq!(revoked.status(), 200);
    within_bound(
        "revoked key",
        async || check_on(&a, &b, &key, &bruno, &org).await,
        |(status, _)| status == 401,
    )
    .await;

    let _ = stop_b.send(());
    let _ = b_server.await;
    a.stop().await;
}
