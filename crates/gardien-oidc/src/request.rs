//! The authorization request (OpenID Connect Core §3.1.2.1): what it must
//! hold, and where a refusal goes. A request whose client or redirect URI
//! cannot be trusted is refused on a page, never redirected (§3.1.2.6 and
//! RFC 6749 §4.1.2.1); any other refusal goes back to the client.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::client::ClientKind;
use crate::pkce::CodeChallenge;
use crate::scope::Scope;
use crate::OAuthError;

/// How long `state` and `nonce` may be.
pub const STATE_MAX: usize = 1024;

/// The parameters as they arrive (query string or form).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub response_mode: Option<String>,
    /// Gardien's own: the organization to pre-select (its id).
    pub organization: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// What the client registered that the request is checked against.
#[derive(Debug, Clone, Copy)]
pub struct ClientView<'a> {
    pub kind: ClientKind,
    pub redirect_uris: &'a [String],
}

/// The `prompt` values (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

impl Prompt {
    fn parse(input: &str) -> Result<Self, OAuthError> {
        let mut prompt = Prompt::default();
        for word in input.split(' ').filter(|w| !w.is_empty()) {
            match word {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => prompt.select_account = true,
                other => {
                    return Err(OAuthError::invalid_request(format!(
                        "unknown prompt value {other:?}; use none, login, consent or select_account"
                    )))
                }
            }
        }
        if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with another value",
            ));
        }
        Ok(prompt)
    }
}

/// A request that may go on to the login, the organization picker and the
/// consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Scope,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<CodeChallenge>,
    pub prompt: Prompt,
    /// Seconds since the login beyond which the person must log in again.
    pub max_age: Option<u64>,
    pub organization: Option<Uuid>,
}

/// Why a request is refused, and where the refusal is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// To the person, on Gardien's page: the client or its redirect URI is
    /// unknown, so nothing may be sent there.
    Page(String),
    /// Back to the client's redirect URI, with `error` and `state`.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

/// The redirect URI of a request, if it is one the client registered:
/// exact string comparison (OAuth 2.1 §2.3.1).
pub fn registered_redirect_uri(
    params: &AuthorizeParams,
    client: ClientView<'_>,
) -> Result<String, Rejection> {
    let Some(uri) = params.redirect_uri.as_deref() else {
        return Err(Rejection::Page("the request has no redirect_uri".into()));
    };
    if client.redirect_uris.iter().any(|r| r == uri) {
        Ok(uri.to_owned())
    } else {
        Err(Rejection::Page(
            "the redirect_uri is not one this client registered".into(),
        ))
    }
}

/// Checks a request of a known client.
pub fn validate(
    params: &AuthorizeParams,
    client_id: &str,
    client: ClientView<'_>,
) -> Result<AuthorizeRequest, Rejection> {
    let redirect_uri = registered_redirect_uri(params, client)?;
    let state = params.state.clone().filter(|s| !s.is_empty());
    let refuse = |error: OAuthError| Rejection::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
    };
    if state.as_ref().is_some_and(|s| s.len() > STATE_MAX) {
        return Err(Rejection::Page(format!(
            "the state parameter is longer than {STATE_MAX} characters"
        )));
    }
    if params.request.is_some() {
        return Err(refuse(OAuthError::new(
            crate::ErrorCode::RequestNotSupported,
            "request objects are not supported: pass the parameters in the query",
        )));
    }
    if params.request_uri.is_some() {
        return Err(refuse(OAuthError::new(
            crate::ErrorCode::RequestUriNotSupported,
            "request_uri is not supported: pass the parameters in the query",
        )));
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => {
            return Err(refuse(OAuthError::invalid_request(
                "response_type is missing",
            )))
        }
        Some(other) => {
            return Err(refuse(OAuthError::new(
                crate::ErrorCode::UnsupportedResponseType,
                format!("response_type {other:?} is not supported: use code"),
            )))
        }
    }
    if let Some(mode) = params.response_mode.as_deref() {
        if mode != "query" {
            return Err(refuse(OAuthError::invalid_request(format!(
                "response_mode {mode:?} is not supported: use query"
            ))));
        }
    }
    let scope = Scope::parse(params.scope.as_deref().unwrap_or("")).map_err(refuse)?;
    let nonce = params.nonce.clone().filter(|n| !n.is_empty());
    if nonce.as_ref().is_some_and(|n| n.len() > STATE_MAX) {
        return Err(refuse(OAuthError::invalid_request(format!(
            "nonce is longer than {STATE_MAX} characters"
        ))));
    }
    let code_challenge = match params.code_challenge.as_deref() {
        Some(challenge) => Some(
            CodeChallenge::parse(challenge, params.code_challenge_method.as_deref())
                .map_err(refuse)?,
        ),
        None if client.kind == ClientKind::Public => {
            return Err(refuse(OAuthError::invalid_request(
                "code_challenge is required for a public client (PKCE, method S256)",
            )))
        }
        None => None,
    };
    let prompt = Prompt::parse(params.prompt.as_deref().unwrap_or("")).map_err(refuse)?;
    let max_age = match params.max_age.as_deref() {
        None | Some("") => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| {
            refuse(OAuthError::invalid_request(
                "max_age must be a number of seconds",
            ))
        })?),
    };
    let organization = match params.organization.as_deref() {
        None | Some("") => None,
        Some(text) => Some(Uuid::parse_str(text).map_err(|_| {
            refuse(OAuthError::invalid_request(
                "organization must be an organization id (a UUID)",
            ))
        })?),
    };
    Ok(AuthorizeRequest {
        client_id: client_id.to_owned(),
        redirect_uri,
        scope,
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
        organization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn uris() -> Vec<String> {
        vec!["https://portal.example/callback".to_owned()]
    }

    fn params() -> AuthorizeParams {
        AuthorizeParams {
            response_type: Some("code".into()),
            client_id: Some("c".into()),
            redirect_uri: Some("https://portal.example/callback".into()),
            scope: Some("openid email".into()),
            state: Some("st".into()),
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
            ..Default::default()
        }
    }

    fn check(params: &AuthorizeParams, kind: ClientKind) -> Result<AuthorizeRequest, Rejection> {
        let uris = uris();
        validate(
            params,
            "c",
            ClientView {
                kind,
                redirect_uris: &uris,
            },
        )
    }

    fn redirected_code(rejection: Rejection) -> ErrorCode {
        match rejection {
            Rejection::Redirect { error, state, .. } => {
                assert_eq!(state.as_deref(), Some("st"));
                error.code
            }
            Rejection::Page(text) => panic!("shown on a page: {text}"),
        }
    }

    #[test]
    fn a_complete_request_is_accepted() {
        let request = check(&params(), ClientKind::Public).unwrap();
        assert_eq!(request.scope.to_string(), "openid email");
        assert_eq!(request.state.as_deref(), Some("st"));
    }

    #[test]
    fn an_unregistered_redirect_uri_is_never_redirected_to() {
        for uri in [
            "https://evil.example/callback",
            "https://portal.example/callback/",
            "https://portal.example/callback?x=1",
            "HTTPS://portal.example/callback",
        ] {
            let mut p = params();
            p.redirect_uri = Some(uri.into());
            assert!(
                matches!(check(&p, ClientKind::Public), Err(Rejection::Page(_))),
                "{uri}"
            );
        }
        let mut p = params();
        p.redirect_uri = None;
        assert!(matches!(
            check(&p, ClientKind::Public),
            Err(Rejection::Page(_))
        ));
    }

    #[test]
    fn a_public_client_must_send_a_challenge() {
        let mut p = params();
        p.code_challenge = None;
        let code = redirected_code(check(&p, ClientKind::Public).unwrap_err());
        assert_eq!(code, ErrorCode::InvalidRequest);
        assert!(check(&p, ClientKind::Confidential).is_ok());
    }

    #[test]
    fn refusals_carry_the_codes_the_specification_names() {
        let mut p = params();
        p.response_type = Some("token".into());
        assert_eq!(
            redirected_code(check(&p, ClientKind::Public).unwrap_err()),
            ErrorCode::UnsupportedResponseType
        );
        let mut p = params();
        p.scope = Some("openid root".into());
        assert_eq!(
            redirected_code(check(&p, ClientKind::Public).unwrap_err()),
            ErrorCode::InvalidScope
        );
        let mut p = params();
        p.prompt = Some("none login".into());
        assert_eq!(
            redirected_code(check(&p, ClientKind::Public).unwrap_err()),
            ErrorCode::InvalidRequest
        );
        let mut p = params();
        p.request = Some("eyJ…".into());
        assert_eq!(
            redirected_code(check(&p, ClientKind::Public).unwrap_err()),
            ErrorCode::RequestNotSupported
        );
        let mut p = params();
        p.organization = Some("acme".into());
        assert_eq!(
            redirected_code(check(&p, ClientKind::Public).unwrap_err()),
            ErrorCode::InvalidRequest
        );
    }
}
