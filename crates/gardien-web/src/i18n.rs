//! The languages of the pages: Fluent catalogues embedded at compile time
//! (`locales/{en,fr}/main.ftl`), the choice of each request's language, and
//! the [`Translator`] that templates and error messages use.
//!
//! A request's language is, in order: an explicit `?lang=fr|en` (then
//! remembered in the `lang` cookie), the logged-in account's language
//! ([`AccountLanguage`], inserted by the session layer), the `lang` cookie,
//! the `Accept-Language` header, English.

use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use gardien_core::Language;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: pages are HTML with a
        // `lang` attribute, and the marks would leak into JSON and tests.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The cookie remembering an explicit choice of language.
pub const LANG_COOKIE: &str = "lang";

static EN: LanguageIdentifier = fluent_templates::langid!("en");
static FR: LanguageIdentifier = fluent_templates::langid!("fr");

fn identifier(language: Language) -> &'static LanguageIdentifier {
    match language {
        Language::En => &EN,
        Language::Fr => &FR,
    }
}

/// Looks up localized messages in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translator {
    language: Language,
}

impl Translator {
    pub fn new(language: Language) -> Self {
        Self { language }
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// The message `key` (a missing key shows as such, and a test keeps the
    /// catalogues complete).
    pub fn get(&self, key: &str) -> String {
        LOCALES.lookup(identifier(self.language), key)
    }

    /// The message `key`, or `None` when neither this language nor the
    /// fallback has it (for keys built from data, such as audit actions).
    pub fn find(&self, key: &str) -> Option<String> {
        LOCALES.try_lookup(identifier(self.language), key)
    }

    /// The message `key` with Fluent arguments (`{ $name }`).
    pub fn get_with(&self, key: &str, args: &[(&'static str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(value.clone())))
            .collect();
        LOCALES.lookup_with_args(identifier(self.language), key, &args)
    }

    /// The message `key` with one argument: `{{ t.arg("key", "name", value) }}`.
    pub fn arg(&self, key: &str, name: &'static str, value: impl std::fmt::Display) -> String {
        self.get_with(key, &[(name, value.to_string())])
    }

    /// The message `key` with one number, which plural variants select on
    /// (`{ $days -> [one] … *[other] … }`).
    pub fn count(&self, key: &str, name: &'static str, value: u64) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            HashMap::from([(Cow::Borrowed(name), FluentValue::from(value))]);
        LOCALES.lookup_with_args(identifier(self.language), key, &args)
    }

    /// The message `key` if the catalogue has it.
    pub fn try_get(&self, key: &str) -> Option<String> {
        LOCALES.try_lookup(identifier(self.language), key)
    }
}

/// The language of the current request (an extractor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang(pub Language);

impl Lang {
    pub fn translator(self) -> Translator {
        Translator::new(self.0)
    }
}

/// The logged-in account's language. The session layer (when it exists)
/// inserts it into the request extensions before [`negotiate`] runs; it then
/// wins over the cookie and the browser's preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountLanguage(pub Language);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(match parts.extensions.get::<Lang>() {
            Some(lang) => *lang,
            None => Lang(choose(&parts.uri, &parts.headers, parts.extensions.get()).0),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Translator {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_request_parts(parts, state).await?.translator())
    }
}

/// The language of a request and whether it was chosen explicitly (`?lang=`).
fn choose(uri: &Uri, headers: &HeaderMap, account: Option<&AccountLanguage>) -> (Language, bool) {
    if let Some(language) = query_language(uri) {
        return (language, true);
    }
    let from_cookie = || {
        CookieJar::from_headers(headers)
            .get(LANG_COOKIE)
            .and_then(|c| c.value().parse().ok())
    };
    let from_header = || {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .and_then(Language::negotiate)
    };
    let language = account
        .map(|account| account.0)
        .or_else(from_cookie)
        .or_else(from_header)
        .unwrap_or_default();
    (language, false)
}

fn query_language(uri: &Uri) -> Option<Language> {
    uri.query()?
        .split('&')
        .filter_map(|pair| pair.strip_prefix("lang="))
        .find_map(|value| value.parse().ok())
}

/// The cookie remembering `language` for a year.
pub fn language_cookie(language: Language, secure: bool) -> Cookie<'static> {
    Cookie::build((LANG_COOKIE, language.code()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(365))
        .build()
}

/// Middleware: decides the request's language ([`Lang`] in the extensions)
/// and remembers an explicit `?lang=` in the cookie.
pub(crate) async fn negotiate(secure: bool, mut request: Request, next: Next) -> Response {
    let (language, explicit) = choose(request.uri(), request.headers(), request.extensions().get());
    request.extensions_mut().insert(Lang(language));
    let mut response = next.run(request).await;
    if explicit {
        if let Ok(value) = HeaderValue::from_str(&language_cookie(language, secure).to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response.headers_mut().append(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Message ids of a catalogue with the variables each one uses.
    fn messages(source: &str) -> BTreeMap<&str, Vec<String>> {
        source
            .lines()
            .filter(|line| line.starts_with(|c: char| c.is_ascii_alphabetic()))
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| {
                let variables = value
                    .split("{ $")
                    .skip(1)
                    .filter_map(|rest| rest.split_once(' ').map(|(name, _)| name.to_owned()))
                    .collect();
                (key.trim(), variables)
            })
            .collect()
    }

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let en = messages(include_str!("../locales/en/main.ftl"));
        let fr = messages(include_str!("../locales/fr/main.ftl"));
        assert!(en.len() > 20, "the English catalogue is unexpectedly small");
        let missing_in_fr: Vec<_> = en.keys().filter(|k| !fr.contains_key(*k)).collect();
        let missing_in_en: Vec<_> = fr.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing_in_fr.is_empty(), "missing in fr: {missing_in_fr:?}");
        assert!(missing_in_en.is_empty(), "missing in en: {missing_in_en:?}");
        for (key, variables) in &en {
            assert_eq!(
                Some(variables),
                fr.get(key),
                "{key} uses other variables in fr"
            );
            let args: HashMap<String, FluentValue> = variables
                .iter()
                .map(|name| (name.clone(), FluentValue::from("x")))
                .collect();
            for language in Language::ALL {
                let found = LOCALES.lookup_single_language(identifier(language), key, Some(&args));
                assert!(
                    found.is_ok(),
                    "{key} does not resolve in {language}: {found:?}"
                );
            }
        }
    }

    #[test]
    fn explicit_choice_wins_then_account_then_cookie_then_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr-FR,fr;q=0.9"),
        );
        let plain: Uri = "/".parse().expect("uri");
        assert_eq!(choose(&plain, &headers, None), (Language::Fr, false));
        headers.insert(header::COOKIE, HeaderValue::from_static("lang=en"));
        assert_eq!(choose(&plain, &headers, None), (Language::En, false));
        let account = AccountLanguage(Language::Fr);
        assert_eq!(
            choose(&plain, &headers, Some(&account)),
            (Language::Fr, false)
        );
        let explicit: Uri = "/x?a=1&lang=en".parse().expect("uri");
        assert_eq!(
            choose(&explicit, &headers, Some(&account)),
            (Language::En, true)
        );
        assert_eq!(
            choose(&plain, &HeaderMap::new(), None),
            (Language::En, false)
        );
    }

    #[test]
    fn translates_with_arguments() {
        let fr = Translator::new(Language::Fr);
        assert_eq!(fr.get("lang-name"), "Français");
        assert_eq!(Translator::new(Language::En).get("home-sign-in"), "Sign in");
        assert!(fr.arg("footer-version", "version", "9.9").contains("9.9"));
    }
}
