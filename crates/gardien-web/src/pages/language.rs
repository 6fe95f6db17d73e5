//! The language preference form (`POST /language`): remembers the choice in
//! the `lang` cookie and goes back to the page it was sent from.

use axum::extract::State;
use axum::response::Redirect;
use axum::Form;
use axum_extra::extract::CookieJar;
use gardien_core::Language;
use serde::Deserialize;

use super::flash::Flash;
use super::safe_return_path;
use crate::error::ApiError;
use crate::i18n::language_cookie;
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct LanguageForm {
    language: String,
    return_to: Option<String>,
}

pub(super) async fn save(
    State(state): State<AppState>,
    jar: CookieJar,
    form: Result<Form<LanguageForm>, axum::extract::rejection::FormRejection>,
) -> Result<(CookieJar, Redirect), ApiError> {
    let Form(form) = form?;
    let language: Language = form
        .language
        .parse()
        .map_err(|error| ApiError::validation("language", error))?;
    let secure = state.settings.is_https();
    let jar = jar
        .add(language_cookie(language, secure))
        .add(Flash::LanguageSaved.cookie(secure));
    Ok((
        jar,
        Redirect::to(safe_return_path(form.return_to.as_deref())),
    ))
}
