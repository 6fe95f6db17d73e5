//! Server-rendered pages (askama templates under `templates/`).
//!
//! To add a page: a `#[derive(Template)]` struct with a `page: PageContext`
//! field whose template `{% extends "base.html" %}`, a handler taking
//! `PageContext` (and `CsrfToken` if it has a form) that returns
//! `Result<Html<String>, ApiError>` via [`render`], and a route in [`routes`].

pub mod assets;
mod audit;
mod consent;
pub mod flash;
mod home;
mod invitations;
mod language;
mod login;
mod member;
mod password_reset;
mod profile;
mod roles;
mod signup;
mod team;
mod team_admin;

use std::collections::BTreeSet;
use std::convert::Infallible;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::CookieJar;
use gardien_service::CurrentSession;

use crate::csrf::CsrfToken;
use crate::error::ApiError;
use crate::i18n::{Lang, Translator};
use crate::state::AppState;
use flash::Flash;
pub(crate) use login::{login_then, pick_then};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::show))
        .route("/language", post(language::save))
        .route("/signup", get(signup::show).post(signup::submit))
        .route("/login", get(login::show).post(login::submit))
        .route(
            "/select-organization",
            get(login::choose).post(login::chosen),
        )
        .route("/logout", post(login::log_out))
        .route(
            "/password-resets/new",
            get(password_reset::show_request).post(password_reset::submit_request),
        )
        .route("/password-resets/sent", get(password_reset::sent))
        .route(
            "/password-resets/{token}",
            get(password_reset::show_reset).post(password_reset::submit_reset),
        )
        .route("/signup/check-email", get(signup::check_email))
        .route("/verify-email/{token}", get(signup::verify))
        .route("/o/{org}/audit", get(audit::show_audit))
        .route("/o/{org}/access-review", get(audit::show_review))
        .route(
            "/o/{org}/access-review/members/{member}/suspend",
            get(audit::confirm_suspend).post(audit::suspend),
        )
        .route("/o/{org}/team", get(team::show))
        .route("/o/{org}/roles", get(roles::list))
        .route(
            "/o/{org}/roles/new",
            get(roles::new_form).post(roles::create),
        )
        .route(
            "/o/{org}/roles/{role}",
            get(roles::show).post(roles::update),
        )
        .route(
            "/o/{org}/roles/{role}/delete",
            get(roles::confirm_delete).post(roles::delete),
        )
        .route(
            "/o/{org}/company",
            get(team_admin::company).post(team_admin::save_company),
        )
        .route(
            "/o/{org}/team/import",
            get(team_admin::import_form).post(team_admin::import_submit),
        )
        .route(
            "/o/{org}/team/{member}/edit",
            get(team_admin::edit_member).post(team_admin::save_member),
        )
        .route(
            "/o/{org}/team/members/{member}/password-reset",
            get(team_admin::confirm_password_reset).post(team_admin::send_password_reset),
        )
        .route("/static/import.js", get(team_admin::import_script))
        .route("/o/{org}/team/settings", post(team::save_settings))
        .route(
            "/o/{org}/team/invite",
            get(team::invite_form).post(team::invite_submit),
        )
        .route(
            "/o/{org}/team/members/{member}/role",
            post(team::change_role),
        )
        .route("/o/{org}/team/{member}", get(member::show))
        .route(
            "/o/{org}/team/{member}/ownership",
            get(team::ownership_confirm).post(team::ownership_submit),
        )
        .route(
            "/o/{org}/team/{member}/overrides",
            post(member::save_override),
        )
        .route(
            "/o/{org}/team/{member}/assignments",
            post(member::add_assignment),
        )
        .route(
            "/o/{org}/team/{member}/assignments/remove",
            post(member::remove_assignment),
        )
        .route("/static/member.js", get(member::script))
        .route("/static/invite.js", get(team::invite_script))
        .route(
            "/o/{org}/team/members/{member}/{action}",
            get(team::confirm).post(team::perform),
        )
        .route(
            "/o/{org}/team/invitations/{id}/{action}",
            post(team::invitation_action),
        )
        .route(
            "/invitations/{token}",
            get(invitations::show).post(invitations::accept),
        )
        .route("/invitations/{token}/login", post(invitations::log_in))
        .route("/consent", get(consent::show).post(consent::submit))
        .route("/privacy", get(consent::privacy))
        .route("/me", get(profile::show).post(profile::submit))
        .route("/me/password", post(profile::change_password))
        .route("/me/email", post(profile::request_email_change))
        .route(
            "/email-changes/{token}",
            get(profile::show_email_change).post(profile::confirm_email_change),
        )
        .route("/me/delete", post(profile::delete_account))
        .route(
            "/me/sessions/revoke-others",
            post(profile::revoke_other_sessions),
        )
        .route("/me/sessions/{id}/revoke", post(profile::revoke_session))
        .route("/me/email-verification", post(profile::resend_verification))
        .route("/static/password.js", get(profile::password_script))
        .route(assets::STYLESHEET_PATH, get(assets::stylesheet))
        .route(assets::ICON_PATH, get(assets::icon))
}

/// Renders a page template.
pub fn render(template: &impl Template) -> Result<Html<String>, ApiError> {
    Ok(Html(template.render()?))
}

/// What the base layout needs on every page (an extractor).
#[derive(Debug, Clone)]
pub struct PageContext {
    /// The translator of the request's language: `{{ page.t.get("key") }}`.
    pub t: Translator,
    /// The current path and query without `lang`, to come back to.
    here: String,
    flash: Option<Flash>,
    /// The signed-in person's navigation, when there is a live session.
    pub nav: Option<Nav>,
}

/// The top bar of a signed-in person: where they are and where they may go.
#[derive(Debug, Clone)]
pub struct Nav {
    /// The session's organization: `(id, name)`.
    pub organization: Option<(String, String)>,
    /// The permissions the person holds there (after overrides).
    permissions: BTreeSet<String>,
    /// The login email is not verified yet: a banner says what that blocks.
    pub unverified_email: Option<String>,
    /// The CSRF token for the sign-out form.
    pub csrf_token: Option<String>,
}

impl Nav {
    fn new(state: &AppState, current: &CurrentSession, csrf: Option<&CsrfToken>) -> Self {
        let organization = current.organization.as_ref().map(|choice| {
            (
                choice.organization.id.to_string(),
                choice.organization.name.clone(),
            )
        });
        let permissions = match &current.organization {
            Some(choice) if !current.consent_required => state
                .services
                .navigation_permissions(current.account.id, choice.organization.id)
                .into_iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            _ => BTreeSet::new(),
        };
        Self {
            organization,
            permissions,
            unverified_email: current
                .account
                .email_verified_at
                .is_none()
                .then(|| current.account.email.as_str().to_owned()),
            csrf_token: csrf.map(|token| token.value().to_owned()),
        }
    }

    /// Whether the person holds one of `permissions` (space separated).
    pub fn can(&self, permissions: &str) -> bool {
        permissions
            .split(' ')
            .any(|permission| self.permissions.contains(permission))
    }
}

impl PageContext {
    pub(crate) fn new(t: Translator, uri: &Uri, flash: Option<Flash>) -> Self {
        Self {
            t,
            here: path_without_lang(uri),
            flash,
            nav: None,
        }
    }

    /// `aria-current` for a navigation link whose page is `prefix` or under it.
    pub fn current_if(&self, prefix: &str) -> &'static str {
        let path = self.here.split('?').next().unwrap_or_default();
        let under = path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'));
        if under {
            r#" aria-current="page""#
        } else {
            ""
        }
    }

    /// The language code, for `<html lang>`.
    pub fn lang(&self) -> &'static str {
        self.t.language().code()
    }

    /// The current page in another language (`?lang=` links of the header).
    pub fn lang_href(&self, code: &str) -> String {
        let separator = if self.here.contains('?') { '&' } else { '?' };
        format!("{}{separator}lang={code}", self.here)
    }

    /// The current path and query, for `return_to` fields.
    pub fn here(&self) -> &str {
        &self.here
    }

    /// The localized flash message left by the previous request, if any.
    pub fn flash_message(&self) -> Option<String> {
        self.flash.map(|flash| self.t.get(flash.message_key()))
    }

    /// The versioned stylesheet URL (cached for a year by browsers).
    pub fn stylesheet_href(&self) -> &'static str {
        assets::stylesheet_href()
    }

    pub fn icon_href(&self) -> &'static str {
        assets::ICON_PATH
    }

    pub fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_request_parts(parts, state).await?;
        let flash = Flash::from_jar(&CookieJar::from_headers(&parts.headers));
        let mut page = Self::new(lang.translator(), &parts.uri, flash);
        page.nav = crate::session::live_session(parts)
            .map(|current| Nav::new(state, current, parts.extensions.get::<CsrfToken>()));
        Ok(page)
    }
}

fn path_without_lang(uri: &Uri) -> String {
    let query: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("lang="))
        .collect();
    if query.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{}", uri.path(), query.join("&"))
    }
}

/// A local path to send the browser back to, or `/`: never another site.
pub(crate) fn safe_return_path(candidate: Option<&str>) -> &str {
    match candidate {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

/// A script of `static/`; `no-cache` so that a new release is picked up.
fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, no-cache"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_on_this_site() {
        assert_eq!(
            safe_return_path(Some("/o/1/team?status=active")),
            "/o/1/team?status=active"
        );
        assert_eq!(safe_return_path(Some("//evil.example")), "/");
        assert_eq!(safe_return_path(Some("/\\evil.example")), "/");
        assert_eq!(safe_return_path(Some("https://evil.example")), "/");
        assert_eq!(safe_return_path(Some("/x\r\nSet-Cookie: a=b")), "/");
        assert_eq!(safe_return_path(None), "/");
    }

    #[test]
    fn language_links_replace_the_lang_parameter() {
        let uri: Uri = "/team?lang=en&status=active".parse().expect("uri");
        let page = PageContext::new(Translator::new(Default::default()), &uri, None);
        assert_eq!(page.here(), "/team?status=active");
        assert_eq!(page.lang_href("fr"), "/team?status=active&lang=fr");
    }
}
