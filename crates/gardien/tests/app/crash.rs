//! Crash safety of the real `gardien` binary: SIGKILL in the middle of a burst
//! of concurrent invitations and role changes made through the API. After a
//! restart every change acknowledged to a client is there, every invitation
//! that was committed has its email delivered (at least once, each copy with
//! the same Message-ID, so a receiver can drop duplicates), and the check API
//! answers from an index that matches the database. On both back ends.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::process::{free_port, gardien, wait_healthy};
use crate::support::{self, TestApp};

/// The permissions the burst's role edits choose from.
const PERMISSIONS: [&str; 4] = ["mail.read", "invoices.read", "orders.read", "team.read"];

/// The permissions of the `n`th edit of the edited role: every non-empty
/// subset of [`PERMISSIONS`] in turn.
fn edit(n: usize) -> Vec<&'static str> {
    let mask = n % 15 + 1;
    PERMISSIONS
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect()
}

/// A `gardien serve` process, killed (SIGKILL) when dropped, so that a
/// failing test leaves none behind.
struct Server(Child);

impl Server {
    fn kill(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `gardien serve` on the test app's database, data folder and mail sink;
/// the app's address now leads to it.
async fn serve(app: &mut TestApp) -> Server {
    let port = free_port();
    let args = [
        "serve".to_owned(),
        "--listen".to_owned(),
        format!("127.0.0.1:{port}"),
        "--database-url".to_owned(),
        app.database.url().to_owned(),
        "--data-dir".to_owned(),
        app.data_dir.path().to_str().unwrap().to_owned(),
        "--mail-transport".to_owned(),
        "smtp".to_owned(),
        "--smtp-host".to_owned(),
        "127.0.0.1".to_owned(),
        "--smtp-port".to_owned(),
        app.mail.port().to_string(),
        "--smtp-tls".to_owned(),
        "none".to_owned(),
        "--mail-from".to_owned(),
        "Gardien <no-reply@gardien.test>".to_owned(),
        "--mail-lease-seconds".to_owned(),
        "2".to_owned(),
        // As in the in-process settings: no privacy policy to accept.
        "--privacy-policy-version".to_owned(),
        String::new(),
    ];
    let mut server = gardien(app.data_dir.path(), &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    app.address = format!("http://127.0.0.1:{port}");
    wait_healthy(&app.address, &mut server).await;
    Server(server)
}

/// What the clients were told, over every round.
#[derive(Default, Clone)]
struct Acknowledged {
    invited: Vec<String>,
    /// Created roles: id → sorted permissions.
    roles: HashMap<String, Vec<String>>,
    /// The edited role: the number of the last acknowledged edit, and of the
    /// last one sent (acknowledged or not).
    last_edit: Option<usize>,
    edit_sent: Option<usize>,
    /// Answers other than success before the kill (none expected).
    refused: Vec<String>,
}

/// The organization the burst works in.
struct Target {
    session: String,
    org: String,
    user_role: String,
    edited_role: String,
}

/// Eight clients send changes one after the other, each as fast as it is
/// answered, until the server is gone: five invite, two create roles, one
/// edits the role of an active member.
fn burst(
    app: &Arc<TestApp>,
    target: &Arc<Target>,
    round: usize,
    acknowledged: &Arc<Mutex<Acknowledged>>,
    answers: &Arc<AtomicUsize>,
) -> tokio::task::JoinSet<()> {
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..8 {
        let (app, target) = (app.clone(), target.clone());
        let (acknowledged, answers) = (acknowledged.clone(), answers.clone());
        clients.spawn(async move {
            let Target {
                session,
                org,
                user_role,
                edited_role,
            } = &*target;
            for n in round * 10_000.. {
                let (method, path, body) = match client {
                    0..=4 => (
                        Method::POST,
                        format!("/api/v1/organizations/{org}/invitations"),
                        json!({
                            "email": format!("burst-{client}-{n}@example.com"),
                            "first_name": "Burst", "last_name": format!("{client}-{n}"),
                            "kind": "staff", "role_id": user_role,
                        }),
                    ),
                    5 | 6 => (
                        Method::POST,
                        format!("/api/v1/organizations/{org}/roles"),
                        json!({ "name": format!("Burst {client}-{n}"), "permissions": edit(n) }),
                    ),
                    _ => (
                        Method::PATCH,
                        format!("/api/v1/organizations/{org}/roles/{edited_role}"),
                        json!({ "permissions": edit(n) }),
                    ),
                };
                let Ok(response) = app.http.get(app.url("/api/v1/csrf-token")).send().await else {
                    return; // the server is gone
                };
                let csrf_cookie = support::csrf_cookie(&response);
                let Ok(csrf) = response.json::<Value>().await else {
                    return;
                };
                if client == 7 {
                    acknowledged.lock().unwrap().edit_sent = Some(n);
                }
                let sent = app
                    .http
                    .request(method, app.url(&path))
                    .header("cookie", format!("{csrf_cookie}; {session}"))
                    .header("x-csrf-token", csrf["token"].as_str().unwrap_or_default())
                    .json(&body)
                    .send()
                    .await;
                let Ok(response) = sent else { return };
                let status = response.status();
                let Ok(answer) = response.json::<Value>().await else {
                    return;
                };
                let mut acknowledged = acknowledged.lock().unwrap();
                if !status.is_success() {
                    acknowledged.refused.push(format!("{status} {answer}"));
                    return;
                }
                match client {
                    0..=4 => acknowledged
                        .invited
                        .push(body["email"].as_str().unwrap().to_owned()),
                    5 | 6 => {
                        let id = answer["id"].as_str().unwrap().to_owned();
                        acknowledged.roles.insert(id, sorted(&edit(n)));
                    }
                    _ => acknowledged.last_edit = Some(n),
                }
                answers.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    clients
}

/// After a restart: every acknowledged change is there, the index answers as
/// the database says, and every committed invitation is emailed once (by
/// Message-ID). Returns the number of committed burst invitations.
async fn verify(
    app: &TestApp,
    target: &Target,
    key: &str,
    bruno: &str,
    acknowledged: &Acknowledged,
) -> usize {
    let Target {
        session,
        org,
        edited_role,
        ..
    } = target;
    let stored: HashSet<String> = all_invitations(app, session, org)
        .await
        .iter()
        .map(|i| i["email"].as_str().unwrap().to_owned())
        .collect();
    for email in &acknowledged.invited {
        assert!(
            stored.contains(email),
            "the acknowledged invitation of {email} is lost"
        );
    }
    for (id, permissions) in &acknowledged.roles {
        let path = format!("/api/v1/organizations/{org}/roles/{id}");
        let response = support::call(app, Method::GET, Some(session), &path, None).await;
        assert_eq!(response.status(), 200, "the acknowledged role {id} is lost");
        let role: Value = response.json().await.unwrap();
        assert_eq!(role["permissions"], json!(permissions), "role {id}");
    }
    // The edited role holds the last acknowledged edit, or the one that was
    // in flight when the server died.
    let path = format!("/api/v1/organizations/{org}/roles/{edited_role}");
    let response = support::call(app, Method::GET, Some(session), &path, None).await;
    let role: Value = response.json().await.unwrap();
    let kept: Vec<String> = serde_json::from_value(role["permissions"].clone()).unwrap();
    // No edit acknowledged yet: the role was made with `mail.read` only.
    let done = acknowledged
        .last_edit
        .map_or_else(|| sorted(&["mail.read"]), |n| sorted(&edit(n)));
    let in_flight = acknowledged.edit_sent.map(|n| sorted(&edit(n)));
    assert!(
        kept == done || Some(&kept) == in_flight.as_ref(),
        "after edit {:?} ({:?} in flight) the role holds {kept:?}",
        acknowledged.last_edit,
        acknowledged.edit_sent
    );
    for permission in PERMISSIONS {
        let response = support::with_key(
            app,
            key,
            "/api/v1/check",
            json!({ "account_id": bruno, "organization_id": org, "permission": permission }),
        )
        .await;
        assert_eq!(response.status(), 200);
        let decision: Value = response.json().await.unwrap();
        assert_eq!(
            decision["allowed"],
            kept.iter().any(|p| p == permission),
            "{permission}: {decision}"
        );
    }

    let wanted: HashSet<String> = stored
        .into_iter()
        .filter(|email| email.starts_with("burst-"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut ids: HashMap<String, HashSet<String>> = HashMap::new();
        for mail in app.mail.messages() {
            for to in &mail.to {
                if wanted.contains(to) {
                    let id = mail
                        .header("Message-ID")
                        .unwrap_or_default()
                        .trim()
                        .to_owned();
                    ids.entry(to.clone()).or_default().insert(id);
                }
            }
        }
        for (to, ids) in &ids {
            assert_eq!(ids.len(), 1, "{to} got different messages: {ids:?}");
        }
        if ids.len() == wanted.len() {
            return wanted.len();
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} committed invitations were never emailed",
            wanted.len() - ids.len(),
            wanted.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn sorted(permissions: &[&str]) -> Vec<String> {
    let mut permissions: Vec<String> = permissions.iter().map(|p| p.to_string()).collect();
    permissions.sort();
    permissions
}

async fn all_invitations(app: &TestApp, session: &str, org: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/organizations/{org}/invitations?limit=100&cursor={c}"),
            None => format!("/api/v1/organizations/{org}/invitations?limit=100"),
        };
        let response = support::call(app, Method::GET, Some(session), &path, None).await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

app_test!(
    async fn kill_9_during_a_burst_keeps_every_acknowledged_change(app: TestApp) {
        let rounds: usize = std::env::var("GARDIEN_CRASH_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(3);
        let mut app = app;
        let (session, org, _) = support::sign_up_and_log_in(&app, "ana@example.com", "Acme").await;
        // Bruno is active with a custom role that the burst keeps editing.
        let created = support::call(
            &app,
            Method::POST,
            Some(&session),
            &format!("/api/v1/organizations/{org}/roles"),
            Some(json!({ "name": "Edited", "permissions": ["mail.read"] })),
        )
        .await;
        assert_eq!(created.status(), 201);
        let edited_role = created.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let invited = support::call(
            &app,
            Method::POST,
            Some(&session),
            &format!("/api/v1/organizations/{org}/invitations"),
            Some(json!({
                "email": "bruno@example.com", "first_name": "Bruno", "last_name": "Costa",
                "kind": "staff", "role_id": edited_role,
            })),
        )
        .await;
        assert_eq!(invited.status(), 201);
        support::accept_as_new_account(&app, "bruno@example.com").await;
        let bruno = {
            let mut tx = app.store.begin().await.unwrap();
            tx.account_by_email(&gardien_core::Email::parse("bruno@example.com").unwrap())
                .await
                .unwrap()
                .expect("Bruno's account")
                .id
                .to_string()
        };
        let (_, key) = support::create_key(&app, &session, &org).await;
        let user_role = support::role_id(&app, &org, "user").await;
        let target = Arc::new(Target {
            session,
            org,
            user_role,
            edited_role,
        });

        // The real binary takes over from the in-process server.
        app.stop_server().await;
        let mut server = serve(&mut app).await;
        let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
        for round in 1..=rounds {
            let shared = Arc::new(app);
            let answers = Arc::new(AtomicUsize::new(0));
            let mut clients = burst(&shared, &target, round, &acknowledged, &answers);
            // SIGKILL once the burst is well under way.
            let deadline = Instant::now() + Duration::from_secs(60);
            while answers.load(Ordering::SeqCst) < 80 {
                assert!(
                    Instant::now() < deadline && !clients.is_empty(),
                    "the burst did not get going: {:?}",
                    acknowledged.lock().unwrap().refused
                );
                while clients.try_join_next().is_some() {}
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            server.kill(); // SIGKILL mid-burst
            while clients.join_next().await.is_some() {}
            app = Arc::try_unwrap(shared).ok().expect("the clients are done");
            let emailed_before_restart = app
                .mail
                .messages()
                .into_iter()
                .flat_map(|m| m.to)
                .filter(|to| to.starts_with("burst-"))
                .collect::<HashSet<_>>()
                .len();

            server = serve(&mut app).await;
            let acknowledged = acknowledged.lock().unwrap().clone();
            assert!(
                acknowledged.refused.is_empty(),
                "{:?}",
                acknowledged.refused
            );
            let committed = verify(&app, &target, &key, &bruno, &acknowledged).await;
            eprintln!(
                "round {round}: acknowledged so far {} invitations, {} new roles, edit #{:?}; \
                 {committed} invitations committed, {emailed_before_restart} of them emailed \
                 before the restart",
                acknowledged.invited.len(),
                acknowledged.roles.len(),
                acknowledged.last_edit
            );
        }
        server.kill();
    }
);
