//! The contract of a person's own account data (consents, profile), on both
//! back ends, on a fresh database each.

use std::sync::Arc;

use gardien_core::{Account, AccountId, Consent, Email, Language};
use gardien_store::{both_backends, NewAccount, Store};
use time::OffsetDateTime;

fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap()
}

fn account(address: &str) -> NewAccount {
    NewAccount {
        account: Account {
            id: AccountId::new(),
            email: Email::parse(address).unwrap(),
            first_name: "Ana".into(),
            last_name: "Lima".into(),
            language: Language::Fr,
            email_verified_at: None,
            created_at: now(),
        },
        password_hash: None,
    }
}

both_backends!(
    async fn consents_are_kept_per_version_and_the_first_acceptance_wins(store: Arc<dyn Store>) {
        let new = account("ana@example.fr");
        let id = new.account.id;
        let first = Consent {
            account_id: id,
            policy_version: "2026-11".into(),
            accepted_at: now(),
            ip: Some("203.0.113.9".into()),
            user_agent: Some("test".into()),
        };
        let mut tx = store.begin().await.unwrap();
        tx.insert_account(&new).await.unwrap();
        assert!(!tx.has_consent(id, "2026-11").await.unwrap());
        tx.insert_consent(&first).await.unwrap();
        let mut again = first.clone();
        again.accepted_at = first.accepted_at + time::Duration::minutes(1);
        tx.insert_consent(&again).await.unwrap();
        let mut newer = first.clone();
        newer.policy_version = "2027-01".into();
        newer.accepted_at = first.accepted_at + time::Duration::days(30);
        tx.insert_consent(&newer).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.begin().await.unwrap();
        assert!(tx.has_consent(id, "2026-11").await.unwrap());
        assert!(!tx.has_consent(id, "2025-01").await.unwrap());
        assert!(!tx.has_consent(AccountId::new(), "2026-11").await.unwrap());
        assert_eq!(
            tx.consents_of_account(id).await.unwrap(),
            vec![first, newer]
        );
    }
);
