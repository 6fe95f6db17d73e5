//! The portal's pages and its login routes. Each page of the client space
//! opens the portal session, asks Gardien's check API (one batch, every
//! request) and renders — or answers 403 with the missing right.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

use crate::checks::{self, Rights};
use crate::data::{self, Formality, Invoice, Letter};
use crate::sessions::{PendingLogin, PortalSession, LOGIN_LIFETIME, SESSION_LIFETIME};
use crate::AppState;

const SESSION_COOKIE: &str = "demo_portal_session";
const LOGIN_COOKIE: &str = "demo_portal_login";
const STYLESHEET: &str = include_str!("../static/portal.css");
const FAVICON: &str = include_str!("../static/favicon.svg");

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/courrier", get(mail))
        .route("/courrier/{id}/pdf", get(mail_pdf))
        .route("/factures", get(invoices))
        .route("/factures/{id}/pdf", get(invoice_pdf))
        .route("/formalites", get(formalities))
        .route("/login", get(login))
        .route("/changer-espace", get(switch_organization))
        .route("/callback", get(callback))
        .route("/logout", post(logout))
        .route("/static/portal.css", get(stylesheet))
        .route("/static/favicon.svg", get(favicon))
        .fallback(not_found)
        .with_state(state)
}

// ---------------------------------------------------------------- shell

/// One entry of the side menu.
pub struct NavItem {
    pub id: &'static str,
    pub href: String,
    pub label: &'static str,
    pub icon: &'static str,
    /// The person may open it (else shown disabled, with the missing right).
    pub enabled: bool,
    pub missing: &'static str,
    pub current: bool,
    /// Leaves the portal (Gardien's team page).
    pub external: bool,
}

/// What every page of the client space shows around its content.
pub struct Shell {
    pub person: String,
    pub initials: String,
    pub email: String,
    pub organization: String,
    pub kind: &'static str,
    pub nav: Vec<NavItem>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Current {
    Home,
    Mail,
    Invoices,
    Formalities,
    None,
}

const ICON_HOME: &str = "M3 10.5 12 3l9 7.5V20a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z";
const ICON_MAIL: &str = "M3 6h18v12H3zM3 6l9 7 9-7";
const ICON_INVOICE: &str = "M6 3h9l3 3v15H6zM9 9h6M9 13h6M9 17h4";
const ICON_FORMALITY: &str = "M9 4h6v3H9zM7 5H5v16h14V5h-2M8 12l2.5 2.5L16 9";
const ICON_TEAM: &str = "M16 19v-1a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4v1M9.5 10a3 3 0 1 0 0-6 3 3 0 0 0 0 6M21 19v-1a4 4 0 0 0-3-3.9M15.5 4.1a3 3 0 0 1 0 5.8";

fn team_url(state: &AppState, session: &PortalSession) -> String {
    format!(
        "{}/o/{}/team",
        state.config.gardien.issuer.trim_end_matches('/'),
        session.organization.id
    )
}

fn shell(state: &AppState, session: &PortalSession, rights: &Rights, current: Current) -> Shell {
    let item = |id, href: &str, label, icon, permission: &'static str, here: Current| NavItem {
        id,
        href: href.to_owned(),
        label,
        icon,
        enabled: rights.allows(permission),
        missing: checks::label(permission),
        current: current == here,
        external: false,
    };
    let nav = vec![
        NavItem {
            id: "nav-home",
            href: "/".into(),
            label: "Tableau de bord",
            icon: ICON_HOME,
            enabled: true,
            missing: "",
            current: current == Current::Home,
            external: false,
        },
        item(
            "nav-mail",
            "/courrier",
            "Mes courriers",
            ICON_MAIL,
            checks::MAIL_READ,
            Current::Mail,
        ),
        item(
            "nav-invoices",
            "/factures",
            "Mes factures",
            ICON_INVOICE,
            checks::INVOICES_READ,
            Current::Invoices,
        ),
        item(
            "nav-formalities",
            "/formalites",
            "Mes formalités",
            ICON_FORMALITY,
            checks::FORMALITIES_READ,
            Current::Formalities,
        ),
        NavItem {
            external: true,
            ..item(
                "nav-team",
                &team_url(state, session),
                "Mon équipe",
                ICON_TEAM,
                checks::TEAM_READ,
                Current::None,
            )
        },
    ];
    Shell {
        person: session.name.clone(),
        initials: initials(&session.name),
        email: session.email.clone(),
        organization: session.organization.name.clone(),
        kind: match session.kind.as_str() {
            "client" => "Contact client",
            _ => "Collaborateur",
        },
        nav,
    }
}

/// `Julie Bernard` → `JB`.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

// ---------------------------------------------------------------- templates

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage {
    gardien_url: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    first_name: String,
    can_mail: bool,
    can_invoices: bool,
    can_formalities: bool,
    new_letters: usize,
    last_letter: &'static Letter,
    unpaid: Vec<&'static Invoice>,
    unpaid_total: String,
    actions: Vec<&'static Formality>,
}

#[derive(Template)]
#[template(path = "courrier.html")]
struct MailPage {
    shell: Shell,
    letters: &'static [Letter],
    can_download: bool,
}

#[derive(Template)]
#[template(path = "factures.html")]
struct InvoicesPage {
    shell: Shell,
    invoices: &'static [Invoice],
    can_download: bool,
}

#[derive(Template)]
#[template(path = "formalites.html")]
struct FormalitiesPage {
    shell: Shell,
    formalities: &'static [Formality],
}

#[derive(Template)]
#[template(path = "forbidden.html")]
struct ForbiddenPage {
    shell: Shell,
    permission: &'static str,
    label: &'static str,
    why: String,
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    title: &'static str,
    message: String,
    retry: Option<&'static str>,
}

fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

fn problem(
    status: StatusCode,
    title: &'static str,
    message: String,
    retry: Option<&'static str>,
) -> Response {
    render(
        status,
        &ProblemPage {
            title,
            message,
            retry,
        },
    )
}

// ---------------------------------------------------------------- the guard

/// The request's portal session, if its cookie names a live one.
fn current_session(state: &AppState, jar: &CookieJar) -> Option<PortalSession> {
    jar.get(SESSION_COOKIE)
        .and_then(|cookie| state.sessions.get(cookie.value()))
}

/// The session and the person's rights right now, or the answer to give
/// instead: to the login when signed out, 503 when Gardien cannot say.
async fn open(
    state: &AppState,
    jar: &CookieJar,
    path: &str,
) -> Result<(PortalSession, Rights), Response> {
    let Some(session) = current_session(state, jar) else {
        let next: String =
            openidconnect::url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        return Err(Redirect::to(&format!("/login?next={next}")).into_response());
    };
    match state
        .checker
        .rights(session.account_id, session.organization.id)
        .await
    {
        Ok(rights) => Ok((session, rights)),
        Err(error) => {
            // Fail closed: no answer from Gardien, no page.
            tracing::error!(%error, "the check API did not answer");
            Err(problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Gardien ne répond pas",
                "Vos droits n'ont pas pu être vérifiés : la page n'est pas affichée. Réessayez dans un instant.".into(),
                Some("/"),
            ))
        }
    }
}

/// 403: the right `permission` is missing; says why and who can grant it.
fn forbidden(
    state: &AppState,
    session: &PortalSession,
    rights: &Rights,
    current: Current,
    permission: &'static str,
) -> Response {
    let reason = rights
        .decision(permission)
        .map(|d| d.reason.code.as_str())
        .unwrap_or("no_permission");
    tracing::info!(
        account = %session.account_id,
        organization = %session.organization.id,
        permission,
        reason,
        "refused by Gardien"
    );
    render(
        StatusCode::FORBIDDEN,
        &ForbiddenPage {
            shell: shell(state, session, rights, current),
            permission,
            label: checks::label(permission),
            why: checks::explain(reason, &session.organization.name),
        },
    )
}

// ---------------------------------------------------------------- pages

async fn home(State(state): State<Arc<AppState>>, jar: CookieJar) -> Response {
    if current_session(&state, &jar).is_none() {
        return render(
            StatusCode::OK,
            &LandingPage {
                gardien_url: state.config.gardien.issuer.clone(),
            },
        );
    }
    let (session, rights) = match open(&state, &jar, "/").await {
        Ok(open) => open,
        Err(answer) => return answer,
    };
    let unpaid: Vec<&'static Invoice> = data::INVOICES.iter().filter(|i| !i.paid).collect();
    let unpaid_total = data::euros(unpaid.iter().map(|i| i.amount_cents).sum());
    render(
        StatusCode::OK,
        &HomePage {
            first_name: session
                .name
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned(),
            can_mail: rights.allows(checks::MAIL_READ),
            can_invoices: rights.allows(checks::INVOICES_READ),
            can_formalities: rights.allows(checks::FORMALITIES_READ),
            new_letters: data::LETTERS.iter().take(3).count(),
            last_letter: &data::LETTERS[0],
            unpaid,
            unpaid_total,
            actions: data::FORMALITIES
                .iter()
                .filter(|f| f.action.is_some())
                .collect(),
            shell: shell(&state, &session, &rights, Current::Home),
        },
    )
}

async fn mail(State(state): State<Arc<AppState>>, jar: CookieJar) -> Response {
    let (session, rights) = match open(&state, &jar, "/courrier").await {
        Ok(open) => open,
        Err(answer) => return answer,
    };
    if !rights.allows(checks::MAIL_READ) {
        return forbidden(&state, &session, &rights, Current::Mail, checks::MAIL_READ);
    }
    render(
        StatusCode::OK,
        &MailPage {
            letters: data::LETTERS,
            can_download: rights.allows(checks::MAIL_DOWNLOAD),
            shell: shell(&state, &session, &rights, Current::Mail),
        },
    )
}

async fn invoices(State(state): State<Arc<AppState>>, jar: CookieJar) -> Response {
    let (session, rights) = match open(&state, &jar, "/factures").await {
        Ok(open) => open,
        Err(answer) => return answer,
    };
    if !rights.allows(checks::INVOICES_READ) {
        return forbidden(
            &state,
            &session,
            &rights,
            Current::Invoices,
            checks::INVOICES_READ,
        );
    }
    render(
        StatusCode::OK,
        &InvoicesPage {
            invoices: data::INVOICES,
            can_download: rights.allows(checks::INVOICES_DOWNLOAD),
            shell: shell(&state, &session, &rights, Current::Invoices),
        },
    )
}

async fn formalities(State(state): State<Arc<AppState>>, jar: CookieJar) -> Response {
    let (session, rights) = match open(&state, &jar, "/formalites").await {
        Ok(open) => open,
        Err(answer) => return answer,
    };
    if !rights.allows(checks::FORMALITIES_READ) {
        return forbidden(
            &state,
            &session,
            &rights,
            Current::Formalities,
            checks::FORMALITIES_READ,
        );
    }
    render(
        StatusCode::OK,
        &FormalitiesPage {
            formalities: data::FORMALITIES,
            shell: shell(&state, &session, &rights, Current::Formalities),
        },
    )
}

fn pdf_response(file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

async fn mail_pdf(
    State(state): State<Arc<AppState>>,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Response {
    let (session, rights) = match open(&state, &jar, "/courrier").await {
        Ok(open) => open,
        Err(answer) => return answer,
    };
    for permission in [checks::MAIL_READ, checks::MAIL_DOWNLOAD] {
        if !rights.allows(permission) {
            return forbidden(&state, &session, &rights, Current::Mail, permission);
        }
    }
    let Some(letter) = data::letter(&id).filter(|l| l.status.is_scanned()) else {
        return not_found().await;
    };
    let lines = vec![
        format!("Destinataire : {}", session.organization.name),
        format!("Expéditeur : {}", letter.sender),
        format!("Reçu le {} — {} page(s)", letter.received, letter.pages),
        String::new(),
        "Document numérisé par votre centre de domiciliation.".into(),
    ];
    pdf_response(
        &format!("courrier-{}.pdf", letter.id),
        data::pdf(letter.subject, &lines),
    )
}

async fn invoice_pdf(
    State(state): State<Arc<AppState>>,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Response {
    let (session, rights) = match open(&state, &jar, "/factures").await {
        Ok(open) => open,
        Err(answer) => return answer,
    };
    for permission in [checks::INVOICES_READ, checks::INVOICES_DOWNLOAD] {
        if !rights.allows(permission) {
            return forbidden(&state, &session, &rights, Current::Invoices, permission);
        }
    }
    let Some(invoice) = data::invoice(&id) else {
        return not_found().await;
    };
    let lines = vec![
        format!("Client : {}", session.organization.name),
        format!("Date : {}", invoice.issued),
        invoice.label.to_owned(),
        format!("Montant TTC : {}", invoice.amount()),
        if invoice.paid {
            "Payée".into()
        } else {
            "À payer".into()
        },
    ];
    pdf_response(
        &format!("facture-{}.pdf", invoice.number),
        data::pdf(&format!("Facture {}", invoice.number), &lines),
    )
}

async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "Cette page n'existe pas dans votre espace client.".into(),
        Some("/"),
    )
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        STYLESHEET,
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

// ---------------------------------------------------------------- login

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// A path of this portal to go back to (never another site).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age: std::time::Duration,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .path("/")
        .max_age(time::Duration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
        ))
        .build()
}

fn removal(name: &'static str) -> Cookie<'static> {
    Cookie::build((name, "")).path("/").build()
}

async fn login(
    State(state): State<Arc<AppState>>,
    jar: CookieJar,
    Query(query): Query<LoginQuery>,
) -> Response {
    start_login(&state, jar, local_path(query.next.as_deref()), false).await
}

/// "Changer d'espace": through Gardien's organization picker again.
async fn switch_organization(State(state): State<Arc<AppState>>, jar: CookieJar) -> Response {
    start_login(&state, jar, "/".into(), true).await
}

async fn start_login(state: &AppState, jar: CookieJar, next: String, select: bool) -> Response {
    let authorization = match state.oidc.authorize(select).await {
        Ok(authorization) => authorization,
        Err(error) => {
            tracing::error!(%error, "cannot start a login");
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Connexion impossible pour le moment",
                "Le service de connexion (Gardien) ne répond pas. Réessayez dans un instant."
                    .into(),
                Some("/login"),
            );
        }
    };
    let id = state.sessions.start_login(PendingLogin {
        state: authorization.state,
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        next,
        expires_at: std::time::Instant::now() + LOGIN_LIFETIME,
    });
    let jar = jar.add(cookie(state, LOGIN_COOKIE, id, LOGIN_LIFETIME));
    (jar, Redirect::to(&authorization.url)).into_response()
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<Arc<AppState>>,
    jar: CookieJar,
    Query(query): Query<CallbackQuery>,
) -> Response {
    if let Some(error) = &query.error {
        tracing::info!(error, description = ?query.error_description, "Gardien refused the login");
        return problem(
            StatusCode::FORBIDDEN,
            "Connexion refusée",
            format!(
                "Gardien n'a pas autorisé la connexion ({}).",
                query.error_description.as_deref().unwrap_or(error)
            ),
            Some("/login"),
        );
    }
    let pending = match (&query.code, &query.state, jar.get(LOGIN_COOKIE)) {
        (Some(_), Some(sent), Some(cookie)) => state.sessions.finish_login(cookie.value(), sent),
        _ => None,
    };
    let (Some(code), Some(pending)) = (&query.code, pending) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Cette connexion a expiré",
            "Elle n'a pas été commencée dans ce navigateur, ou il y a plus de dix minutes. Recommencez.".into(),
            Some("/login"),
        );
    };
    let identity = match state
        .oidc
        .finish(code, &pending.nonce, &pending.pkce_verifier)
        .await
    {
        Ok(identity) => identity,
        Err(error) => {
            tracing::warn!(%error, "a login could not be finished");
            return problem(
                StatusCode::BAD_GATEWAY,
                "Connexion impossible",
                "La réponse du service de connexion n'a pas pu être vérifiée. Recommencez.".into(),
                Some("/login"),
            );
        }
    };
    if let Some(old) = jar.get(SESSION_COOKIE) {
        state.sessions.close(old.value());
    }
    tracing::info!(
        account = %identity.account_id,
        organization = %identity.organization.id,
        "logged in through Gardien"
    );
    let id = state.sessions.open(PortalSession {
        account_id: identity.account_id,
        name: identity.name,
        email: identity.email,
        organization: identity.organization,
        kind: identity.kind,
        id_token: identity.id_token,
        expires_at: std::time::Instant::now() + SESSION_LIFETIME,
    });
    let jar =
        jar.remove(removal(LOGIN_COOKIE))
            .add(cookie(&state, SESSION_COOKIE, id, SESSION_LIFETIME));
    (jar, Redirect::to(&pending.next)).into_response()
}

/// Ends the portal session, then Gardien's (RP-initiated logout), which
/// comes back to the portal's home.
async fn logout(State(state): State<Arc<AppState>>, jar: CookieJar) -> Response {
    let closed = jar
        .get(SESSION_COOKIE)
        .and_then(|cookie| state.sessions.close(cookie.value()));
    let jar = jar.remove(removal(SESSION_COOKIE));
    let to = match closed {
        Some(session) => {
            state
                .oidc
                .logout_url(&session.id_token, &format!("{}/", state.config.public_url))
                .await
        }
        None => "/".to_owned(),
    };
    (jar, Redirect::to(&to)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(local_path(Some("/factures")), "/factures");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn initials_of_a_name() {
        assert_eq!(initials("Julie Bernard"), "JB");
        assert_eq!(initials("élise"), "É");
        assert_eq!(initials(""), "");
    }
}
