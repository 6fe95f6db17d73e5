//! The welcome page (`GET /`).

use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use gardien_core::{Kind, Language};
use gardien_service::CurrentSession;

use super::{render, PageContext};
use crate::csrf::CsrfToken;
use crate::error::ApiError;
use crate::i18n::Translator;
use crate::session::MaybeSignedIn;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: PageContext,
    csrf: CsrfToken,
    /// The signed-in person and their organization, if any.
    current: Option<CurrentSession>,
}

impl HomePage {
    fn kind_label(&self, kind: &Kind) -> String {
        self.page.t.get(&format!("kind-{}", kind.as_str()))
    }

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

pub(super) async fn show(
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
) -> Result<Response, ApiError> {
    // Signed in but no organization chosen yet: the picker comes first.
    if current.as_ref().is_some_and(|c| c.organization.is_none()) {
        return Ok(Redirect::to("/select-organization").into_response());
    }
    Ok(render(&HomePage {
        page,
        csrf,
        current,
    })?
    .into_response())
}
