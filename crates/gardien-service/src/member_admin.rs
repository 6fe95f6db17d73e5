//! What an administrator does for one member besides lifecycle and role
//! (flow 8, seed 002): edit their information, send them a password-reset
//! link (flow 13).
//!
//! An organization never writes an account another organization also sees:
//! the information of an account that is a member elsewhere too is recorded
//! on the membership (shown in this organization only); an account that is
//! only this organization's is edited itself. Both answer the same, so the
//! administrator learns nothing about other organizations (seed 000).

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::profile::{parse_phone, NAME_MAX, TITLE_MAX};
use gardien_core::{
    text, MembershipId, MembershipStatus, OrganizationId, PasswordReset, ValidationError,
};
use gardien_mail::{new_mail, MailTemplate};
use gardien_store::{AccountDetails, MemberDetails, MemberRecord};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::team::TEAM_MANAGE;
use crate::{audit, new_token, CurrentSession, ServiceError, Services};

/// A member's information as its organization shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    pub id: MembershipId,
    pub email: gardien_core::Email,
    pub status: MembershipStatus,
    pub first_name: String,
    pub last_name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
}

/// A change of a member's information: `None` keeps the field; an empty
/// text clears an optional field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberInfoPatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
}

impl MemberInfoPatch {
    pub fn is_empty(&self) -> bool {
        self.first_name.is_none()
            && self.last_name.is_none()
            && self.title.is_none()
            && self.phone.is_none()
    }

    /// Checks the given fields alone (before anything is read or written),
    /// every problem at once.
    pub fn check(&self) -> Result<(), ServiceError> {
        let mut errors = Vec::new();
        if let Some(v) = &self.first_name {
            if let Err(e) = text::bounded(v, "first_name", NAME_MAX) {
                errors.push(("first_name", e));
            }
        }
        if let Some(v) = &self.last_name {
            if let Err(e) = text::bounded(v, "last_name", NAME_MAX) {
                errors.push(("last_name", e));
            }
        }
        if let Some(v) = &self.title {
            if let Err(e) = text::optional(v, "title", TITLE_MAX) {
                errors.push(("title", e));
            }
        }
        if let Some(v) = &self.phone {
            if let Err(e) = parse_phone(v) {
                errors.push(("phone", e));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Invalid(errors))
        }
    }
}

/// The information shown for `details` in its organization. While invited,
/// only what the administrator typed shows: the account may be someone's
/// who has not joined yet (seed 000).
fn shown(details: &MemberDetails) -> MemberInfo {
    let record = &details.record;
    let invited = details.membership.status == MembershipStatus::Invited;
    let (first_name, last_name, title, phone) = if invited {
        (
            details
                .invited_first_name
                .clone()
                .or_else(|| record.first_name.clone())
                .unwrap_or_default(),
            details
                .invited_last_name
                .clone()
                .or_else(|| record.last_name.clone())
                .unwrap_or_default(),
            record.title.clone(),
            record.phone.clone(),
        )
    } else {
        (
            record
                .first_name
                .clone()
                .unwrap_or_else(|| details.account.first_name.clone()),
            record
                .last_name
                .clone()
                .unwrap_or_else(|| details.account.last_name.clone()),
            record
                .title
                .clone()
                .or_else(|| details.account.title.clone()),
            record
                .phone
                .clone()
                .or_else(|| details.account.phone.clone()),
        )
    };
    MemberInfo {
        id: details.membership.id,
        email: details.email.clone(),
        status: details.membership.status,
        first_name,
        last_name,
        title,
        phone,
    }
}

fn info_json(info: &MemberInfo) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("first_name".into(), json!(info.first_name));
    map.insert("last_name".into(), json!(info.last_name));
    map.insert("title".into(), json!(info.title));
    map.insert("phone".into(), json!(info.phone));
    map
}

fn parse_info(
    before: &MemberInfo,
    patch: &MemberInfoPatch,
) -> Result<MemberInfo, Vec<(&'static str, ValidationError)>> {
    let mut errors = Vec::new();
    let pick = |new: &Option<String>, old: &str| new.clone().unwrap_or_else(|| old.to_owned());
    let first_name = text::bounded(
        &pick(&patch.first_name, &before.first_name),
        "first_name",
        NAME_MAX,
    )
    .map_err(|e| errors.push(("first_name", e)))
    .ok();
    let last_name = text::bounded(
        &pick(&patch.last_name, &before.last_name),
        "last_name",
        NAME_MAX,
    )
    .map_err(|e| errors.push(("last_name", e)))
    .ok();
    let title = text::optional(
        &pick(&patch.title, before.title.as_deref().unwrap_or("")),
        "title",
        TITLE_MAX,
    )
    .map_err(|e| errors.push(("title", e)))
    .ok();
    let phone = parse_phone(&pick(&patch.phone, before.phone.as_deref().unwrap_or("")))
        .map_err(|e| errors.push(("phone", e)))
        .ok();
    match (first_name, last_name, title, phone) {
        (Some(first_name), Some(last_name), Some(title), Some(phone)) if errors.is_empty() => {
            Ok(MemberInfo {
                first_name,
                last_name,
                title,
                phone,
                ..before.clone()
            })
        }
        _ => Err(errors),
    }
}

impl Services {
    /// A member's information, for the edit form (needs `team.manage`).
    pub async fn member_info(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        member: MembershipId,
    ) -> Result<MemberInfo, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let details = tx
            .member_details(organization, member)
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(shown(&details))
    }

    /// Edits a member's information (needs `team.manage`); see the module
    /// documentation for where it is written. Audited as
    /// `membership.info_updated` with the changed fields before and after.
    pub async fn update_member_info(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        member: MembershipId,
        patch: &MemberInfoPatch,
        context: &RequestContext,
    ) -> Result<MemberInfo, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let details = tx
            .member_details(organization, member)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let before = shown(&details);
        let after = parse_info(&before, patch).map_err(ServiceError::Invalid)?;
        if after == before {
            return Ok(after);
        }
        match details.membership.status {
            MembershipStatus::Invited => {
                // The account may be another organization's member's: only
                // what this organization typed changes.
                tx.set_invited_names(organization, member, &after.first_name, &after.last_name)
                    .await?;
                let record = MemberRecord {
                    title: after.title.clone(),
                    phone: after.phone.clone(),
                    ..details.record.clone()
                };
                tx.set_member_record(organization, member, &record, now)
                    .await?;
            }
            _ if details.in_other_organizations => {
                let record = MemberRecord {
                    first_name: Some(after.first_name.clone()),
                    last_name: Some(after.last_name.clone()),
                    title: after.title.clone(),
                    phone: after.phone.clone(),
                };
                tx.set_member_record(organization, member, &record, now)
                    .await?;
            }
            _ => {
                tx.set_account_details(
                    details.membership.account_id,
                    &AccountDetails {
                        first_name: after.first_name.clone(),
                        last_name: after.last_name.clone(),
                        title: after.title.clone(),
                        phone: after.phone.clone(),
                    },
                    now,
                )
                .await?;
                if details.record != MemberRecord::default() {
                    tx.set_member_record(organization, member, &MemberRecord::default(), now)
                        .await?;
                }
            }
        }
        let (mut old, mut new) = (info_json(&before), info_json(&after));
        old.retain(|key, value| new.get(key) != Some(value));
        new.retain(|key, _| old.contains_key(key));
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "membership.info_updated",
            Some(format!("membership:{member}")),
        );
        event.before = Some(Value::Object(old));
        event.after = Some(Value::Object(new));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Emails an active member the same single-use, 30-minute reset link as
    /// "forgot password" (flow 13; needs `team.manage`). Another
    /// organization's member is not found; a member who is not active is
    /// [`ServiceError::MemberNotActive`].
    pub async fn send_member_password_reset(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        member: MembershipId,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let membership = tx
            .membership(organization, member)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if membership.status != MembershipStatus::Active {
            return Err(ServiceError::MemberNotActive);
        }
        let account = tx
            .account(membership.account_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let token = new_token();
        tx.insert_password_reset(&PasswordReset::new(account.id, now), &token.hash())
            .await?;
        let minutes = u32::try_from(PasswordReset::LIFETIME.whole_minutes()).unwrap_or(30);
        let mail = new_mail(
            account.email.clone(),
            &MailTemplate::PasswordReset {
                link: self.link(&format!("/password-resets/{}", token.expose())),
                expires_in_minutes: minutes,
            },
            account.language,
        );
        tx.enqueue_mail(&mail, now).await?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "membership.password_reset_sent",
            Some(format!("membership:{member}")),
        );
        event.after =
            Some(json!({ "email": account.email.as_str(), "expires_in_minutes": minutes }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        self.mail_committed();
        Ok(())
    }
}
