//! The welcome page (`GET /`).

use askama::Template;
use axum::response::Html;
use gardien_core::Language;

use super::{render, PageContext};
use crate::csrf::CsrfToken;
use crate::error::ApiError;
use crate::i18n::Translator;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: PageContext,
    csrf: CsrfToken,
}

impl HomePage {
    /// `(code, name)` of each language, each name in its own language.
    fn language_options(&self) -> Vec<(&'static str, String)> {
        Language::ALL
            .into_iter()
            .map(|language| {
                let name = Translator::new(language).get("lang-name");
                (language.code(), name)
            })
            .collect()
    }
}

pub(super) async fn show(page: PageContext, csrf: CsrfToken) -> Result<Html<String>, ApiError> {
    render(&HomePage { page, csrf })
}
