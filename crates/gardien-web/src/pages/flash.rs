//! One-shot messages shown on the page after a redirect ("Language saved").
//!
//! The cookie holds a key from [`Flash`], never text, so a forged cookie can
//! only show one of our own messages.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

pub const FLASH_COOKIE: &str = "gardien_flash";

/// The messages a redirect can leave for the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flash {
    LanguageSaved,
    InvitationSent,
    InvitationResent,
    InvitationRevoked,
    MemberUpdated,
    SettingsSaved,
    PasswordResetSent,
    RoleSaved,
    RoleDeleted,
    OwnershipHandedOver,
}

impl Flash {
    const ALL: [Flash; 10] = [
        Flash::LanguageSaved,
        Flash::InvitationSent,
        Flash::InvitationResent,
        Flash::InvitationRevoked,
        Flash::MemberUpdated,
        Flash::SettingsSaved,
        Flash::PasswordResetSent,
        Flash::RoleSaved,
        Flash::RoleDeleted,
        Flash::OwnershipHandedOver,
    ];

    fn key(self) -> &'static str {
        match self {
            Flash::LanguageSaved => "language-saved",
            Flash::InvitationSent => "invitation-sent",
            Flash::InvitationResent => "invitation-resent",
            Flash::InvitationRevoked => "invitation-revoked",
            Flash::MemberUpdated => "member-updated",
            Flash::SettingsSaved => "settings-saved",
            Flash::PasswordResetSent => "password-reset-sent",
            Flash::RoleSaved => "role-saved",
            Flash::RoleDeleted => "role-deleted",
            Flash::OwnershipHandedOver => "ownership-handed-over",
        }
    }

    pub(crate) fn message_key(self) -> &'static str {
        match self {
            Flash::LanguageSaved => "flash-language-saved",
            Flash::InvitationSent => "flash-invitation-sent",
            Flash::InvitationResent => "flash-invitation-resent",
            Flash::InvitationRevoked => "flash-invitation-revoked",
            Flash::MemberUpdated => "flash-member-updated",
            Flash::SettingsSaved => "flash-settings-saved",
            Flash::PasswordResetSent => "flash-password-reset-sent",
            Flash::RoleSaved => "flash-role-saved",
            Flash::RoleDeleted => "flash-role-deleted",
            Flash::OwnershipHandedOver => "flash-ownership-handed-over",
        }
    }

    pub(crate) fn from_jar(jar: &CookieJar) -> Option<Flash> {
        let value = jar.get(FLASH_COOKIE)?.value();
        Self::ALL.into_iter().find(|flash| flash.key() == value)
    }

    /// The cookie that shows this message on the next page.
    pub fn cookie(self, secure: bool) -> Cookie<'static> {
        Cookie::build((FLASH_COOKIE, self.key()))
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::minutes(5))
            .build()
    }
}

/// Middleware: once a page has been shown with the flash, forget it.
pub(crate) async fn clear_shown(request: Request, next: Next) -> Response {
    let had_flash = CookieJar::from_headers(request.headers())
        .get(FLASH_COOKIE)
        .is_some();
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if had_flash && response.status().is_success() && is_page {
        let removal = format!("{FLASH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
        if let Ok(value) = HeaderValue::from_str(&removal) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
