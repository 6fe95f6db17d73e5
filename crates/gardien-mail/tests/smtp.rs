//! The outbox end to end, on both back ends: mail enqueued in a transaction
//! is delivered over a real SMTP exchange (to the test sink) or written to a
//! folder, only once committed, retried after failures and abandoned after
//! the last attempt.

use std::sync::Arc;
use std::time::Duration;

use gardien_core::{Email, Language, MailId};
use gardien_mail::smtp_sink::SmtpSink;
use gardien_mail::{
    new_mail, MailTemplate, Sender, SmtpSettings, SmtpTls, Transport, Worker, WorkerSettings,
};
use gardien_store::{both_backends, NewMail, Store};
use time::OffsetDateTime;

const WAIT: Duration = Duration::from_secs(10);

fn sender() -> Sender {
    "Gardien <no-reply@gardien.example>".parse().unwrap()
}

fn smtp(port: u16) -> Transport {
    let mut settings = SmtpSettings::new("127.0.0.1", port, SmtpTls::None);
    settings.timeout = Duration::from_secs(5);
    Transport::Smtp(settings)
}

fn worker(store: &Arc<dyn Store>, transport: Transport, max_attempts: u32) -> Worker {
    let settings = WorkerSettings {
        max_attempts,
        ..WorkerSettings::default()
    };
    Worker::new(store.clone(), transport, sender(), settings).unwrap()
}

fn invitation() -> NewMail {
    new_mail(
        Email::parse("Ana.Martin@cabinet-dupont.example").unwrap(),
        &MailTemplate::Invitation {
            resources: vec!["Commande 42".into()],
            organization: "Cabinet Dupont".into(),
            inviter_name: "Paul Durand".into(),
            link: "https://gardien.example/invitations/tok-123?lang=en&x=1".into(),
            personal_message: Some("Welcome aboard!".into()),
            expires_in_days: 7,
        },
        Language::En,
    )
}

async fn enqueue(store: &Arc<dyn Store>, mail: &NewMail, commit: bool) {
    let mut tx = store.begin().await.unwrap();
    tx.enqueue_mail(mail, OffsetDateTime::now_utc())
        .await
        .unwrap();
    if commit {
        tx.commit().await.unwrap();
    }
}

both_backends!(
    async fn committed_mail_is_delivered_over_smtp(store: Arc<dyn Store>) {
        let sink = SmtpSink::start().await.unwrap();
        let worker = worker(&store, smtp(sink.port()), 8);
        let mail = invitation();
        enqueue(&store, &mail, true).await;

        assert_eq!(worker.deliver_due().await.unwrap(), 1);

        let received = sink.wait_for(1, WAIT).await;
        assert_eq!(received.len(), 1, "{received:?}");
        let got = &received[0];
        assert_eq!(got.from, "no-reply@gardien.example");
        assert_eq!(got.to, ["Ana.Martin@cabinet-dupont.example"]);
        assert_eq!(
            got.header("To").as_deref(),
            Some("Ana.Martin@cabinet-dupont.example")
        );
        assert_eq!(
            got.header("From").as_deref(),
            Some("Gardien <no-reply@gardien.example>")
        );
        assert_eq!(
            got.decoded_header("Subject").as_deref(),
            Some("Paul Durand invited you to join Cabinet Dupont")
        );
        assert_eq!(
            got.header("Message-ID"),
            Some(format!("<{}@gardien.example>", mail.id))
        );
        let text = got.text_body().expect("a text/plain part");
        assert_eq!(text, mail.text_body);
        assert!(text.contains("https://gardien.example/invitations/tok-123?lang=en&x=1"));
        let html = got.html_body().expect("a text/html part");
        assert_eq!(html, mail.html_body);
        assert!(
            html.contains("href=\"https://gardien.example/invitations/tok-123?lang=en&#38;x=1\"")
        );

        let stored = store.mail(mail.id).await.unwrap().unwrap();
        assert!(stored.sent_at.is_some());
        assert_eq!(stored.attempts, 1);
        // Sent mail is not claimed again.
        assert_eq!(worker.deliver_due().await.unwrap(), 0);
        assert_eq!(sink.wait_for(2, Duration::from_millis(300)).await.len(), 1);
    }
);

fn invitation_to(to: &str, organization: &str) -> NewMail {
    new_mail(
        Email::parse(to).unwrap(),
        &MailTemplate::Invitation {
            resources: Vec::new(),
            organization: organization.into(),
            inviter_name: "Paul Durand".into(),
            link: "https://gardien.example/invitations/tok-123".into(),
            personal_message: None,
            expires_in_days: 7,
        },
        Language::En,
    )
}

both_backends!(
    async fn one_pass_sends_recipients_side_by_side_each_in_order(store: Arc<dyn Store>) {
        let sink = SmtpSink::start().await.unwrap();
        let worker = worker(&store, smtp(sink.port()), 8);
        let recipients = ["ana@example.fr", "bruno@example.fr", "carla@example.fr"];
        for n in 0..5 {
            for to in recipients {
                enqueue(&store, &invitation_to(to, &format!("Org {n}")), true).await;
            }
        }

        assert_eq!(worker.deliver_due().await.unwrap(), 15);

        assert_eq!(sink.wait_for(15, WAIT).await.len(), 15);
        for to in recipients {
            let subjects: Vec<String> = sink
                .messages_to(to)
                .iter()
                .map(|m| m.decoded_header("Subject").unwrap())
                .collect();
            let expected: Vec<String> = (0..5)
                .map(|n| format!("Paul Durand invited you to join Org {n}"))
                .collect();
            assert_eq!(subjects, expected, "the mail of {to}, in order");
        }
        assert_eq!(worker.deliver_due().await.unwrap(), 0, "all marked sent");
    }
);

both_backends!(
    async fn rolled_back_mail_is_never_sent(store: Arc<dyn Store>) {
        let sink = SmtpSink::start().await.unwrap();
        let worker = worker(&store, smtp(sink.port()), 8);
        let rolled_back = invitation();
        enqueue(&store, &rolled_back, false).await;
        let committed = invitation();
        enqueue(&store, &committed, true).await;

        assert_eq!(worker.deliver_due().await.unwrap(), 1);
        let received = sink.wait_for(2, Duration::from_millis(500)).await;
        assert_eq!(received.len(), 1, "{received:?}");
        assert_eq!(
            received[0].header("Message-ID"),
            Some(format!("<{}@gardien.example>", committed.id))
        );
        assert!(store.mail(rolled_back.id).await.unwrap().is_none());
    }
);

both_backends!(
    async fn failed_delivery_is_retried_later(store: Arc<dyn Store>) {
        let port = SmtpSink::unused_port().unwrap();
        let worker = worker(&store, smtp(port), 8);
        let mail = invitation();
        enqueue(&store, &mail, true).await;
        let start = OffsetDateTime::now_utc();

        // Nothing listens: the attempt fails and is recorded.
        assert_eq!(worker.deliver_due().await.unwrap(), 0);
        let stored = store.mail(mail.id).await.unwrap().unwrap();
        assert_eq!(stored.attempts, 1);
        assert!(stored.last_error.is_some());
        assert!(stored.sent_at.is_none());
        assert!(
            stored.failed_at.is_none(),
            "one failure must not abandon the message"
        );

        let sink = SmtpSink::start_on(port).await.unwrap();
        // Not due before the back-off delay (30 s after the first attempt)…
        assert_eq!(
            worker
                .deliver_due_at(start + Duration::from_secs(20))
                .await
                .unwrap(),
            0
        );
        assert_eq!(store.mail(mail.id).await.unwrap().unwrap().attempts, 1);
        // …delivered once it is.
        assert_eq!(
            worker
                .deliver_due_at(start + Duration::from_secs(40))
                .await
                .unwrap(),
            1
        );
        let received = sink.wait_for(1, WAIT).await;
        assert_eq!(received.len(), 1);
        assert_eq!(
            received[0].header("Message-ID"),
            Some(format!("<{}@gardien.example>", mail.id))
        );
        let stored = store.mail(mail.id).await.unwrap().unwrap();
        assert_eq!(stored.attempts, 2);
        assert!(stored.sent_at.is_some());
    }
);

both_backends!(
    async fn gives_up_after_max_attempts(store: Arc<dyn Store>) {
        let port = SmtpSink::unused_port().unwrap();
        let worker = worker(&store, smtp(port), 3);
        let mail = invitation();
        enqueue(&store, &mail, true).await;
        let mut now = OffsetDateTime::now_utc();

        for attempt in 1..=3u32 {
            assert_eq!(worker.deliver_due_at(now).await.unwrap(), 0);
            let stored = store.mail(mail.id).await.unwrap().unwrap();
            assert_eq!(stored.attempts, attempt);
            assert_eq!(
                stored.failed_at.is_some(),
                attempt == 3,
                "after attempt {attempt}"
            );
            now += Duration::from_secs(7200);
        }

        // Abandoned: never claimed again, even with a server up.
        let sink = SmtpSink::start_on(port).await.unwrap();
        assert_eq!(worker.deliver_due_at(now).await.unwrap(), 0);
        let stored = store.mail(mail.id).await.unwrap().unwrap();
        assert_eq!(stored.attempts, 3);
        assert!(stored.sent_at.is_none());
        assert!(stored.last_error.is_some());
        assert!(sink
            .wait_for(1, Duration::from_millis(300))
            .await
            .is_empty());
    }
);

both_backends!(
    async fn folder_transport_writes_one_eml_per_message(store: Arc<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("mail").join("outbox");
        let worker = worker(&store, Transport::Folder(folder.clone()), 8);
        let first = invitation();
        let second = invitation();
        enqueue(&store, &first, true).await;
        enqueue(&store, &second, true).await;

        assert_eq!(worker.deliver_due().await.unwrap(), 2);
        assert_eq!(eml_files(&folder), sorted([first.id, second.id]));
        let written = std::fs::read_to_string(folder.join(format!("{}.eml", first.id))).unwrap();
        assert!(written.contains(&format!("Message-ID: <{}@gardien.example>", first.id)));
        assert!(written.contains("To: Ana.Martin@cabinet-dupont.example"));

        // A second delivery of the same message (a crash before mark_mail_sent)
        // replaces the file.
        let mailer =
            gardien_mail::Mailer::new(Transport::Folder(folder.clone()), sender()).unwrap();
        mailer.send(&first).await.unwrap();
        assert_eq!(eml_files(&folder), sorted([first.id, second.id]));
        assert_eq!(
            std::fs::read_dir(&folder).unwrap().count(),
            2,
            "no temporary file left"
        );
    }
);

fn eml_files(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".eml"))
        .collect();
    names.sort();
    names
}

fn sorted(ids: [MailId; 2]) -> Vec<String> {
    let mut names: Vec<String> = ids.iter().map(|id| format!("{id}.eml")).collect();
    names.sort();
    names
}

both_backends!(
    async fn run_delivers_on_wake_and_stops_on_shutdown(store: Arc<dyn Store>) {
        let sink = SmtpSink::start().await.unwrap();
        let settings = WorkerSettings {
            // Long enough that only the wake can explain a quick delivery.
            poll_interval: Duration::from_secs(3600),
            ..WorkerSettings::default()
        };
        let worker = Worker::new(store.clone(), smtp(sink.port()), sender(), settings).unwrap();
        let wake = worker.wake_handle();
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let running = tokio::spawn(worker.run(shutdown));

        // Let the first (empty) pass happen, then enqueue and wake.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mail = invitation();
        enqueue(&store, &mail, true).await;
        wake.wake();
        assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);

        stop.send(true).unwrap();
        tokio::time::timeout(WAIT, running)
            .await
            .expect("the worker stops on shutdown")
            .unwrap();
        assert!(store
            .mail(mail.id)
            .await
            .unwrap()
            .unwrap()
            .sent_at
            .is_some());
    }
);

both_backends!(
    async fn the_sink_finds_a_recipients_mail_whatever_the_case(store: Arc<dyn Store>) {
        let sink = SmtpSink::start().await.unwrap();
        let worker = worker(&store, smtp(sink.port()), 8);
        let to_ana = invitation();
        let to_bob = new_mail(
            Email::parse("bob@cabinet-dupont.example").unwrap(),
            &MailTemplate::Invitation {
                resources: Vec::new(),
                organization: "Cabinet Dupont".into(),
                inviter_name: "Paul Durand".into(),
                link: "https://gardien.example/invitations/tok-456".into(),
                personal_message: None,
                expires_in_days: 7,
            },
            Language::En,
        );
        enqueue(&store, &to_ana, true).await;
        enqueue(&store, &to_bob, true).await;
        assert_eq!(worker.deliver_due().await.unwrap(), 2);

        let bobs = sink
            .wait_for_recipient("BOB@cabinet-dupont.example", 1, WAIT)
            .await;
        assert_eq!(bobs.len(), 1, "{bobs:?}");
        assert_eq!(
            bobs[0].header("Message-ID"),
            Some(format!("<{}@gardien.example>", to_bob.id))
        );
        let anas = sink
            .wait_for_recipient("ana.martin@cabinet-dupont.example", 1, WAIT)
            .await;
        assert_eq!(anas.len(), 1, "{anas:?}");
        assert_eq!(
            anas[0].header("Message-ID"),
            Some(format!("<{}@gardien.example>", to_ana.id))
        );
        assert!(sink.messages_to("carla@cabinet-dupont.example").is_empty());
        // No second message to Bob comes: the wait gives up with what came.
        let waited = sink
            .wait_for_recipient("bob@cabinet-dupont.example", 2, Duration::from_millis(200))
            .await;
        assert_eq!(waited.len(), 1);
    }
);
