//! A person's own profile (flow 12) and password change (flow 13): name,
//! phone, title, notification email and language, saved on their own form;
//! the password changes only with the current one, and every other session
//! of the account ends.

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{Password, Profile, ProfileInput, ValidationError};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::{audit, CurrentSession, ServiceError, Services};

/// A change of profile: `None` keeps the field as it is; an empty text
/// clears an optional field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfilePatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub notification_email: Option<String>,
    pub language: Option<String>,
}

/// The fields of `profile` as JSON, for audit events.
fn profile_json(profile: &Profile) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("first_name".into(), json!(profile.first_name));
    map.insert("last_name".into(), json!(profile.last_name));
    map.insert("phone".into(), json!(profile.phone));
    map.insert("title".into(), json!(profile.title));
    map.insert(
        "notification_email".into(),
        json!(profile.notification_email.as_ref().map(|e| e.as_str())),
    );
    map.insert("language".into(), json!(profile.language.code()));
    map
}

impl Services {
    /// The profile of the session's account.
    pub async fn profile(&self, current: &CurrentSession) -> Result<Profile, ServiceError> {
        let mut tx = self.store.begin_read().await?;
        tx.account_profile(current.account.id)
            .await?
            .ok_or(ServiceError::Unauthenticated)
    }

    /// Applies `patch` to the session's profile: every invalid field is
    /// reported at once and nothing is saved; a saved change is audited with
    /// the changed fields before and after.
    pub async fn update_profile(
        &self,
        current: &CurrentSession,
        patch: &ProfilePatch,
        context: &RequestContext,
    ) -> Result<Profile, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let before = tx
            .account_profile(current.account.id)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let mut input = ProfileInput::from(&before);
        let fields = [
            (&mut input.first_name, &patch.first_name),
            (&mut input.last_name, &patch.last_name),
            (&mut input.phone, &patch.phone),
            (&mut input.title, &patch.title),
            (&mut input.notification_email, &patch.notification_email),
            (&mut input.language, &patch.language),
        ];
        for (field, change) in fields {
            if let Some(value) = change {
                field.clone_from(value);
            }
        }
        let after = input
            .parse(&current.account.email)
            .map_err(ServiceError::Invalid)?;
        if after == before {
            return Ok(after);
        }
        tx.set_account_profile(current.account.id, &after, now)
            .await?;
        let (mut old, mut new) = (profile_json(&before), profile_json(&after));
        old.retain(|key, value| new.get(key) != Some(value));
        new.retain(|key, _| old.contains_key(key));
        let mut event = audit(
            context,
            now,
            current.organization.as_ref().map(|c| c.organization.id),
            Actor::Account(current.account.id),
            "account.profile_updated",
            Some(format!("account:{}", current.account.id)),
        );
        event.before = Some(Value::Object(old));
        event.after = Some(Value::Object(new));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Changes the password of the session's account: the current password
    /// must be given; the new one follows the password rules. Every other
    /// session of the account ends; this one stays.
    pub async fn change_password(
        &self,
        current: &CurrentSession,
        current_password: &str,
        new_password: &str,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let mut tx = self.store.begin().await?;
        let stored = tx.password_hash(current.account.id).await?;
        drop(tx);
        if !self.passwords.verify(stored, current_password).await? {
            return Err(ServiceError::Invalid(vec![(
                "current_password",
                ValidationError::CurrentPasswordWrong,
            )]));
        }
        let password = Password::parse(new_password, &current.account.email)
            .map_err(|e| ServiceError::Invalid(vec![("new_password", e)]))?;
        let hash = self.passwords.hash(&password).await?;
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        tx.set_password_hash(current.account.id, &hash, now).await?;
        // A reset link asked before the change must not undo it.
        tx.expire_password_resets_of_account(current.account.id, now)
            .await?;
        tx.revoke_other_sessions(current.account.id, &current.session.id, now)
            .await?;
        tx.append_audit_event(&audit(
            context,
            now,
            current.organization.as_ref().map(|c| c.organization.id),
            Actor::Account(current.account.id),
            "account.password_changed",
            Some(format!("account:{}", current.account.id)),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
