//! Gardien as an OpenID Connect provider: the authorization-code flow with
//! PKCE, tokens, refresh-token rotation with reuse detection, userinfo,
//! introspection, revocation and logout.
//!
//! A grant is one person's authorization of one client for the organization
//! chosen at login; every token names it (`sid`). A token works only while
//! its grant is live and — when it names an organization — while the
//! membership there is active: a suspension or removal ends the next
//! refresh, userinfo call and introspection at once, whatever the token's
//! expiry says.

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{MembershipStatus, OrganizationId, Token};
use gardien_oidc::claims::{
    AccessTokenClaims, IdTokenClaims, Identity, MembershipClaims, Named, UserClaims,
};
use gardien_oidc::client::{with_query, ClientKind};
use gardien_oidc::keys::{self, Expect, TokenError};
use gardien_oidc::pkce::CodeChallenge;
use gardien_oidc::request::{self, AuthorizeParams, AuthorizeRequest, ClientView, Rejection};
use gardien_oidc::scope::Scope;
use gardien_oidc::{ErrorCode, OAuthError, CODE_LIFETIME, REFRESH_LIFETIME, TOKEN_LIFETIME};
use gardien_store::{OidcClient, OidcCode, OidcGrant, RefreshTokenRecord, Transaction};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::oidc_clients::CLIENT_SECRET_PREFIX;
use crate::{audit, new_token, CurrentSession, ServiceError, Services};

/// What every refresh token starts with.
pub const REFRESH_TOKEN_PREFIX: &str = "grt_";

/// A failure of a provider endpoint: an OAuth error for the client, or a
/// failure of Gardien itself.
#[derive(Debug, thiserror::Error)]
pub enum OidcFailure {
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<gardien_store::StoreError> for OidcFailure {
    fn from(error: gardien_store::StoreError) -> Self {
        Self::Service(error.into())
    }
}

/// Where an authorization request goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeStep {
    /// Refused: on Gardien's page, or back to the client.
    Refused(Rejection),
    /// The person must log in (no session, `prompt=login`, `max_age` passed).
    LogIn,
    /// The person must choose among their organizations.
    PickOrganization,
    /// A third-party client: the person must agree to share.
    Consent(ConsentView),
    /// Done: send the browser there (the client's redirect URI with the code).
    Redirect(String),
}

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentView {
    pub client_name: String,
    pub organization_name: Option<String>,
    pub scopes: Vec<&'static str>,
}

/// How a client authenticated at the token, revocation or introspection
/// endpoint.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    /// From HTTP Basic (`client_secret_basic`).
    pub basic: Option<(String, String)>,
    /// From the form (`client_secret_post`, or `none` without a secret).
    pub form_id: Option<String>,
    pub form_secret: Option<String>,
}

/// The token endpoint's form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// A successful token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub id_token: String,
    pub scope: String,
}

/// What the logout endpoint was given (RP-initiated logout 1.0 §2).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
    pub ui_locales: Option<String>,
    pub logout_hint: Option<String>,
}

/// What a logout request leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutStep {
    /// Refused on Gardien's page (an unverifiable hint, an unregistered URI).
    Refused(String),
    /// No proof of which client asks: the person confirms on a page.
    Confirm,
    /// Logged out: go there (the client's URI, or `None` for Gardien's login page).
    Done(Option<String>),
}

fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

fn membership_is_active(status: MembershipStatus) -> bool {
    status == MembershipStatus::Active
}

impl Services {
    /// The client of an authorization request, if `client_id` names a live one.
    async fn live_client(&self, client_id: &str) -> Result<Option<OidcClient>, ServiceError> {
        let Ok(id) = Uuid::parse_str(client_id) else {
            return Ok(None);
        };
        let mut tx = self.store.begin().await?;
        Ok(tx.oidc_client(id).await?.filter(|c| c.revoked_at.is_none()))
    }

    /// Reads an authorization request and tells what happens next for the
    /// person of `session` (none: not logged in). Issues the code when
    /// nothing is left to ask.
    pub async fn oidc_authorize(
        &self,
        params: &AuthorizeParams,
        session: Option<&CurrentSession>,
        consented: bool,
        context: &RequestContext,
    ) -> Result<AuthorizeStep, ServiceError> {
        let Some(client_id) = params.client_id.as_deref() else {
            return Ok(AuthorizeStep::Refused(Rejection::Page(
                "the request has no client_id".into(),
            )));
        };
        let Some(client) = self.live_client(client_id).await? else {
            return Ok(AuthorizeStep::Refused(Rejection::Page(
                "the client_id is not a client registered with this provider".into(),
            )));
        };
        let view = ClientView {
            kind: client.kind,
            redirect_uris: &client.redirect_uris,
        };
        let request = match request::validate(params, client_id, view) {
            Ok(request) => request,
            Err(rejection) => return Ok(AuthorizeStep::Refused(rejection)),
        };
        let refuse = |code: ErrorCode, description: &str| {
            Ok(AuthorizeStep::Refused(Rejection::Redirect {
                redirect_uri: request.redirect_uri.clone(),
                state: request.state.clone(),
                error: OAuthError::new(code, description),
            }))
        };
        let now = OffsetDateTime::now_utc();
        let too_old = |s: &CurrentSession| {
            request
                .max_age
                .is_some_and(|max| now - s.session.created_at > time::Duration::seconds(max as i64))
        };
        let session = match session {
            Some(s) if !request.prompt.login && !too_old(s) => s,
            _ if request.prompt.none => {
                return refuse(ErrorCode::LoginRequired, "the person is not logged in")
            }
            _ => return Ok(AuthorizeStep::LogIn),
        };

        // The organization: the hint, else the one chosen at login, else the only one.
        let choices = self.organization_choices(session).await?;
        let organization = if let Some(hint) = request.organization {
            let hint = OrganizationId::from_uuid(hint);
            match choices.iter().find(|c| c.organization.id == hint) {
                Some(choice) => {
                    if session.organization.as_ref().map(|o| o.organization.id) != Some(hint) {
                        self.choose_organization(session, hint, context).await?;
                    }
                    Some(choice.organization.clone())
                }
                None if request.prompt.none => {
                    return refuse(
                        ErrorCode::AccountSelectionRequired,
                        "the person is not an active member of the organization asked for",
                    )
                }
                None => return Ok(AuthorizeStep::PickOrganization),
            }
        } else if request.prompt.select_account && choices.len() > 1 {
            return Ok(AuthorizeStep::PickOrganization);
        } else if let Some(bound) = &session.organization {
            Some(bound.organization.clone())
        } else {
            match choices.as_slice() {
                [] => None,
                [only] => Some(only.organization.clone()),
                _ if request.prompt.none => {
                    return refuse(
                        ErrorCode::AccountSelectionRequired,
                        "the person must choose an organization",
                    )
                }
                _ => return Ok(AuthorizeStep::PickOrganization),
            }
        };

        if !client.first_party && !consented {
            if request.prompt.none {
                return refuse(
                    ErrorCode::ConsentRequired,
                    "the person has not agreed to share with this client",
                );
            }
            let scopes = gardien_oidc::scope::SUPPORTED
                .iter()
                .copied()
                .filter(|s| request.scope.has(s))
                .collect();
            return Ok(AuthorizeStep::Consent(ConsentView {
                client_name: client.name.clone(),
                organization_name: organization.as_ref().map(|o| o.name.clone()),
                scopes,
            }));
        }

        let code = self
            .issue_code(
                &client,
                &request,
                session,
                organization.map(|o| o.id),
                context,
            )
            .await?;
        let mut pairs = vec![("code", code.expose())];
        if let Some(state) = &request.state {
            pairs.push(("state", state.as_str()));
        }
        pairs.push(("iss", self.oidc_issuer()));
        Ok(AuthorizeStep::Redirect(with_query(
            &request.redirect_uri,
            &pairs,
        )))
    }

    /// The person refused to share: back to the client with `access_denied`.
    pub async fn oidc_deny(&self, params: &AuthorizeParams) -> Result<AuthorizeStep, ServiceError> {
        let Some(client) = self
            .live_client(params.client_id.as_deref().unwrap_or(""))
            .await?
        else {
            return Ok(AuthorizeStep::Refused(Rejection::Page(
                "the client_id is not a client registered with this provider".into(),
            )));
        };
        let view = ClientView {
            kind: client.kind,
            redirect_uris: &client.redirect_uris,
        };
        let redirect_uri = match request::registered_redirect_uri(params, view) {
            Ok(uri) => uri,
            Err(rejection) => return Ok(AuthorizeStep::Refused(rejection)),
        };
        Ok(AuthorizeStep::Refused(Rejection::Redirect {
            redirect_uri,
            state: params.state.clone().filter(|s| !s.is_empty()),
            error: OAuthError::new(ErrorCode::AccessDenied, "the person declined"),
        }))
    }

    async fn issue_code(
        &self,
        client: &OidcClient,
        request: &AuthorizeRequest,
        session: &CurrentSession,
        organization: Option<OrganizationId>,
        context: &RequestContext,
    ) -> Result<Token, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let grant = OidcGrant {
            id: Uuid::now_v7(),
            client_id: client.id,
            account_id: session.account.id,
            organization_id: organization,
            session_id: Some(session.session.id.clone()),
            scope: request.scope.to_string(),
            nonce: request.nonce.clone(),
            auth_time: session.session.created_at,
            created_at: now,
            revoked_at: None,
        };
        let code = new_token();
        let mut tx = self.store.begin().await?;
        tx.insert_oidc_grant(&grant).await?;
        tx.insert_oidc_code(
            &code.hash(),
            &OidcCode {
                grant_id: grant.id,
                redirect_uri: request.redirect_uri.clone(),
                code_challenge: request
                    .code_challenge
                    .as_ref()
                    .map(|c| c.as_str().to_owned()),
                expires_at: now + CODE_LIFETIME,
                used_at: None,
            },
        )
        .await?;
        let mut event = audit(
            context,
            now,
            organization,
            Actor::Account(session.account.id),
            "oidc.authorized",
            Some(format!("oidc_client:{}", client.id)),
        );
        event.after =
            Some(json!({ "client": client.name, "scope": grant.scope, "grant": grant.id }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(code)
    }

    /// Authenticates the client of a back-channel request
    /// (`invalid_client` for any failure, whatever its cause).
    async fn authenticate_client(
        &self,
        credentials: &ClientCredentials,
    ) -> Result<OidcClient, OidcFailure> {
        let (id, secret) = match (&credentials.basic, &credentials.form_id) {
            (Some(_), Some(_)) if credentials.form_secret.is_some() => {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method, not both Basic and the form",
                )
                .into())
            }
            (Some((id, secret)), _) => (id.as_str(), Some(secret.as_str())),
            (None, Some(id)) => (id.as_str(), credentials.form_secret.as_deref()),
            (None, None) => return Err(OAuthError::invalid_client().into()),
        };
        let client = self
            .live_client(id)
            .await?
            .ok_or_else(OAuthError::invalid_client)?;
        let authenticated = match (client.kind, &client.secret_hash, secret) {
            (ClientKind::Public, _, None) => true,
            (ClientKind::Confidential, Some(hash), Some(secret)) => secret
                .strip_prefix(CLIENT_SECRET_PREFIX)
                .and_then(|t| Token::parse(t).ok())
                .is_some_and(|t| &t.hash() == hash),
            _ => false,
        };
        if authenticated {
            Ok(client)
        } else {
            Err(OAuthError::invalid_client().into())
        }
    }

    /// The token endpoint (RFC 6749 §3.2): a code or a refresh token for tokens.
    pub async fn oidc_token(
        &self,
        credentials: &ClientCredentials,
        request: &TokenRequest,
        context: &RequestContext,
    ) -> Result<TokenResponse, OidcFailure> {
        let client = self.authenticate_client(credentials).await?;
        match request.grant_type.as_deref() {
            Some("authorization_code") => self.exchange_code(&client, request, context).await,
            Some("refresh_token") => self.refresh(&client, request, context).await,
            None => Err(OAuthError::invalid_request("grant_type is missing").into()),
            Some(other) => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type {other:?} is not supported: use authorization_code or refresh_token"),
            )
            .into()),
        }
    }

    async fn exchange_code(
        &self,
        client: &OidcClient,
        request: &TokenRequest,
        context: &RequestContext,
    ) -> Result<TokenResponse, OidcFailure> {
        let code = request
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
        let unknown = || OAuthError::invalid_grant("the code is unknown, expired or already used");
        let code = Token::parse(code).map_err(|_| unknown())?;
        let keys = self.oidc_keys().await?;
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let used = tx
            .use_oidc_code(&code.hash(), now)
            .await?
            .ok_or_else(unknown)?;
        let grant = tx
            .oidc_grant(used.record.grant_id)
            .await?
            .ok_or_else(unknown)?;
        if !used.first_use {
            // RFC 6749 §4.1.2: a code used twice was stolen; what it gave is revoked.
            if tx.revoke_oidc_grant(grant.id, "code_replayed", now).await? {
                self.audit_grant_revoked(&mut *tx, &grant, "oidc.code_replayed", context, now)
                    .await?;
            }
            tx.commit().await?;
            return Err(OAuthError::invalid_grant(
                "the code was already used: the tokens it gave are revoked",
            )
            .into());
        }
        // The code is now used, whatever follows: a refused exchange cannot be retried.
        let outcome = match self.check_code(client, &grant, &used.record, request, now) {
            Ok(()) => {
                self.issue_tokens(&mut *tx, &keys, client, &grant, None, now)
                    .await
            }
            Err(error) => Err(error.into()),
        };
        tx.commit().await?;
        outcome
    }

    fn check_code(
        &self,
        client: &OidcClient,
        grant: &OidcGrant,
        code: &OidcCode,
        request: &TokenRequest,
        now: OffsetDateTime,
    ) -> Result<(), OAuthError> {
        if grant.client_id != client.id {
            return Err(OAuthError::invalid_grant(
                "the code was issued to another client",
            ));
        }
        if code.expires_at <= now || grant.revoked_at.is_some() {
            return Err(OAuthError::invalid_grant(
                "the code is unknown, expired or already used",
            ));
        }
        if request.redirect_uri.as_deref() != Some(code.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri must be the one of the authorization request",
            ));
        }
        match (&code.code_challenge, request.code_verifier.as_deref()) {
            (Some(challenge), Some(verifier)) => {
                if !CodeChallenge::from_stored(challenge.clone()).verify(verifier) {
                    return Err(OAuthError::invalid_grant(
                        "code_verifier does not match the code_challenge (PKCE)",
                    ));
                }
            }
            (Some(_), None) => {
                return Err(OAuthError::invalid_request(
                    "code_verifier is missing: the authorization request had a code_challenge",
                ))
            }
            (None, Some(_)) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier given, but the authorization request had no code_challenge",
                ))
            }
            (None, None) => {}
        }
        Ok(())
    }

    async fn refresh(
        &self,
        client: &OidcClient,
        request: &TokenRequest,
        context: &RequestContext,
    ) -> Result<TokenResponse, OidcFailure> {
        let token = request
            .refresh_token
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
        let unknown =
            || OAuthError::invalid_grant("the refresh token is unknown, expired or revoked");
        let token = token
            .strip_prefix(REFRESH_TOKEN_PREFIX)
            .and_then(|t| Token::parse(t).ok())
            .ok_or_else(unknown)?;
        let keys = self.oidc_keys().await?;
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let used = tx
            .oidc_refresh_token(&token.hash(), Some(now))
            .await?
            .ok_or_else(unknown)?;
        let grant = tx
            .oidc_grant(used.record.grant_id)
            .await?
            .ok_or_else(unknown)?;
        if grant.client_id != client.id {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            )
            .into());
        }
        if !used.first_use {
            // Rotation: a used refresh token shown again leaked (RFC 9700 §4.14.2).
            if tx
                .revoke_oidc_grant(grant.id, "refresh_token_reused", now)
                .await?
            {
                self.audit_grant_revoked(
                    &mut *tx,
                    &grant,
                    "oidc.refresh_token_reused",
                    context,
                    now,
                )
                .await?;
            }
            tx.commit().await?;
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used: the grant is revoked",
            )
            .into());
        }
        if grant.revoked_at.is_some() || used.record.expires_at <= now {
            return Err(unknown().into());
        }
        let scope = match request.scope.as_deref() {
            None | Some("") => None,
            Some(asked) => {
                let asked = Scope::parse(asked)?;
                let granted = Scope::parse(&grant.scope)?;
                if !granted.covers(&asked) {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidScope,
                        "a refresh may narrow the scope of the grant, not widen it",
                    )
                    .into());
                }
                Some(asked)
            }
        };
        // Refused without committing: the token stays usable if the membership comes back.
        let response = self
            .issue_tokens(&mut *tx, &keys, client, &grant, scope, now)
            .await?;
        tx.commit().await?;
        Ok(response)
    }

    async fn audit_grant_revoked(
        &self,
        tx: &mut dyn Transaction,
        grant: &OidcGrant,
        action: &str,
        context: &RequestContext,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        let mut event = audit(
            context,
            now,
            grant.organization_id,
            Actor::System,
            action,
            Some(format!("account:{}", grant.account_id)),
        );
        event.after = Some(json!({ "grant": grant.id, "client": grant.client_id }));
        tx.append_audit_event(&event).await?;
        Ok(())
    }

    /// What Gardien may tell of a grant's person now, or `invalid_grant`
    /// when the account or the membership no longer allows it.
    async fn identity(
        &self,
        tx: &mut dyn Transaction,
        grant: &OidcGrant,
    ) -> Result<Identity, OidcFailure> {
        let gone = || OAuthError::invalid_grant("the person's access has ended");
        let account = tx.account(grant.account_id).await?.ok_or_else(gone)?;
        let membership = match grant.organization_id {
            None => None,
            Some(organization_id) => {
                let membership = tx
                    .membership_of(organization_id, account.id)
                    .await?
                    .filter(|m| membership_is_active(m.status))
                    .ok_or_else(|| {
                        OAuthError::invalid_grant(
                            "the membership is no longer active in this organization",
                        )
                    })?;
                let organization = tx.organization(organization_id).await?.ok_or_else(gone)?;
                let role = tx
                    .role(organization_id, membership.role_id)
                    .await?
                    .ok_or_else(gone)?;
                self.ensure_index_current()?;
                let permissions = self
                    .authz_index()
                    .effective_permissions(account.id, organization_id)
                    .into_iter()
                    .map(|p| p.as_str().to_owned())
                    .collect();
                Some(MembershipClaims {
                    organization: Named {
                        id: organization.id.to_string(),
                        name: organization.name,
                    },
                    membership_kind: membership.kind.as_str().to_owned(),
                    role: Named {
                        id: role.id.to_string(),
                        name: role.name,
                    },
                    permissions,
                })
            }
        };
        Ok(Identity {
            subject: account.id.to_string(),
            email: account.email.as_str().to_owned(),
            email_verified: account.email_verified_at.is_some(),
            given_name: account.first_name.clone(),
            family_name: account.last_name.clone(),
            locale: account.language.code().to_owned(),
            membership,
        })
    }

    async fn issue_tokens(
        &self,
        tx: &mut dyn Transaction,
        keys: &crate::oidc_clients::Keys,
        client: &OidcClient,
        grant: &OidcGrant,
        scope: Option<Scope>,
        now: OffsetDateTime,
    ) -> Result<TokenResponse, OidcFailure> {
        let scope = match scope {
            Some(scope) => scope,
            None => Scope::parse(&grant.scope)?,
        };
        let identity = self.identity(tx, grant).await?;
        let sign_error =
            |e: keys::KeyError| OidcFailure::Service(ServiceError::Internal(e.to_string()));
        let expires = now + TOKEN_LIFETIME;
        let access = AccessTokenClaims {
            iss: self.oidc_issuer().to_owned(),
            sub: identity.subject.clone(),
            aud: client.id.to_string(),
            client_id: client.id.to_string(),
            exp: unix(expires),
            iat: unix(now),
            jti: Uuid::now_v7().to_string(),
            scope: scope.to_string(),
            sid: grant.id.to_string(),
        };
        let id_token = IdTokenClaims {
            iss: self.oidc_issuer().to_owned(),
            sub: identity.subject.clone(),
            aud: client.id.to_string(),
            exp: unix(expires),
            iat: unix(now),
            auth_time: unix(grant.auth_time),
            nonce: grant.nonce.clone(),
            sid: grant.id.to_string(),
            user: UserClaims::of(&identity, &scope),
        };
        let refresh = new_token();
        tx.insert_oidc_refresh_token(
            &refresh.hash(),
            &RefreshTokenRecord {
                grant_id: grant.id,
                created_at: now,
                expires_at: now + REFRESH_LIFETIME,
                used_at: None,
            },
        )
        .await?;
        Ok(TokenResponse {
            access_token: keys.signing.sign(&access, "at+jwt").map_err(sign_error)?,
            token_type: "Bearer",
            expires_in: TOKEN_LIFETIME.whole_seconds(),
            refresh_token: format!("{REFRESH_TOKEN_PREFIX}{}", refresh.expose()),
            id_token: keys.signing.sign(&id_token, "JWT").map_err(sign_error)?,
            scope: scope.to_string(),
        })
    }

    /// The access token's claims and its live grant, or `None`.
    async fn live_access_token(
        &self,
        token: &str,
    ) -> Result<Option<(AccessTokenClaims, OidcGrant)>, ServiceError> {
        let keys = self.oidc_keys().await?;
        let expect = Expect {
            issuer: self.oidc_issuer(),
            typ: "at+jwt",
            allow_expired: false,
        };
        let Ok(claims) = keys::verify::<AccessTokenClaims>(token, &keys.published, &expect) else {
            return Ok(None);
        };
        let Ok(grant_id) = Uuid::parse_str(&claims.sid) else {
            return Ok(None);
        };
        let mut tx = self.store.begin().await?;
        let grant = tx
            .oidc_grant(grant_id)
            .await?
            .filter(|g| g.revoked_at.is_none());
        Ok(grant.map(|g| (claims, g)))
    }

    /// The userinfo endpoint: the claims of the access token's scope, read
    /// now. `invalid_token` when the token, its grant or the membership no
    /// longer holds.
    pub async fn oidc_userinfo(
        &self,
        access_token: &str,
    ) -> Result<serde_json::Value, OidcFailure> {
        let invalid = || {
            OAuthError::new(
                ErrorCode::InvalidToken,
                "the access token is invalid, expired or revoked",
            )
        };
        let (claims, grant) = self
            .live_access_token(access_token)
            .await?
            .ok_or_else(invalid)?;
        let mut tx = self.store.begin().await?;
        let identity = match self.identity(&mut *tx, &grant).await {
            Ok(identity) => identity,
            Err(OidcFailure::OAuth(_)) => return Err(invalid().into()),
            Err(other) => return Err(other),
        };
        let scope = Scope::parse(&claims.scope).map_err(|_| invalid())?;
        let mut body = serde_json::to_value(UserClaims::of(&identity, &scope))
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        body["sub"] = json!(identity.subject);
        Ok(body)
    }

    /// Token introspection (RFC 7662), for the client the token was issued to.
    pub async fn oidc_introspect(
        &self,
        credentials: &ClientCredentials,
        token: Option<&str>,
    ) -> Result<serde_json::Value, OidcFailure> {
        let client = self.authenticate_client(credentials).await?;
        if client.kind == ClientKind::Public {
            return Err(OAuthError::invalid_client().into());
        }
        let token = token.ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        let inactive = json!({ "active": false });
        let access = self.live_access_token(token).await?;
        let mut tx = self.store.begin().await?;
        if let Some((claims, grant)) = access {
            if grant.client_id != client.id || self.identity(&mut *tx, &grant).await.is_err() {
                return Ok(inactive);
            }
            return Ok(json!({
                "active": true,
                "token_type": "access_token",
                "scope": claims.scope,
                "client_id": claims.client_id,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
                "sid": claims.sid,
                "organization_id": grant.organization_id.map(|o| o.to_string()),
            }));
        }
        let Some(refresh) = token
            .strip_prefix(REFRESH_TOKEN_PREFIX)
            .and_then(|t| Token::parse(t).ok())
        else {
            return Ok(inactive);
        };
        let now = OffsetDateTime::now_utc();
        let Some(used) = tx.oidc_refresh_token(&refresh.hash(), None).await? else {
            return Ok(inactive);
        };
        let Some(grant) = tx.oidc_grant(used.record.grant_id).await? else {
            return Ok(inactive);
        };
        let live = used.first_use
            && used.record.expires_at > now
            && grant.revoked_at.is_none()
            && grant.client_id == client.id;
        if !live || self.identity(&mut *tx, &grant).await.is_err() {
            return Ok(inactive);
        }
        Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": grant.scope,
            "client_id": client.id.to_string(),
            "sub": grant.account_id.to_string(),
            "exp": unix(used.record.expires_at),
            "iat": unix(used.record.created_at),
            "sid": grant.id.to_string(),
            "organization_id": grant.organization_id.map(|o| o.to_string()),
        }))
    }

    /// Token revocation (RFC 7009): ends the token's grant, so every token
    /// of it stops working. An unknown token, or another client's, changes
    /// nothing and is answered the same.
    pub async fn oidc_revoke(
        &self,
        credentials: &ClientCredentials,
        token: Option<&str>,
        context: &RequestContext,
    ) -> Result<(), OidcFailure> {
        let client = self.authenticate_client(credentials).await?;
        let token = token.ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        let now = OffsetDateTime::now_utc();
        let grant_id = if let Some((_, grant)) = self.live_access_token(token).await? {
            Some(grant.id)
        } else if let Some(refresh) = token
            .strip_prefix(REFRESH_TOKEN_PREFIX)
            .and_then(|t| Token::parse(t).ok())
        {
            let mut tx = self.store.begin().await?;
            tx.oidc_refresh_token(&refresh.hash(), None)
                .await?
                .map(|u| u.record.grant_id)
        } else {
            None
        };
        let Some(grant_id) = grant_id else {
            return Ok(());
        };
        let mut tx = self.store.begin().await?;
        let Some(grant) = tx.oidc_grant(grant_id).await? else {
            return Ok(());
        };
        if grant.client_id == client.id && tx.revoke_oidc_grant(grant.id, "revoked", now).await? {
            self.audit_grant_revoked(&mut *tx, &grant, "oidc.grant_revoked", context, now)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// RP-initiated logout. With a valid `id_token_hint` the person's
    /// Gardien session and the client's grant end at once; without one,
    /// the person confirms first (`confirmed`), so that no third party can
    /// log anyone out with a link.
    pub async fn oidc_logout(
        &self,
        params: &LogoutParams,
        session: Option<&CurrentSession>,
        confirmed: bool,
        context: &RequestContext,
    ) -> Result<LogoutStep, ServiceError> {
        let keys = self.oidc_keys().await?;
        let hint = match params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
            None => None,
            Some(hint) => {
                let expect = Expect {
                    issuer: self.oidc_issuer(),
                    typ: "JWT",
                    allow_expired: true,
                };
                match keys::verify::<IdTokenClaims>(hint, &keys.published, &expect) {
                    Ok(claims) => Some(claims),
                    Err(TokenError::Invalid | TokenError::Expired) => {
                        return Ok(LogoutStep::Refused(
                            "the id_token_hint is not an ID token of this provider".into(),
                        ))
                    }
                }
            }
        };
        let client_id = hint
            .as_ref()
            .map(|h| h.aud.clone())
            .or_else(|| params.client_id.clone());
        if let (Some(hinted), Some(asked)) = (&hint, &params.client_id) {
            if &hinted.aud != asked {
                return Ok(LogoutStep::Refused(
                    "client_id is not the audience of the id_token_hint".into(),
                ));
            }
        }
        let client = match &client_id {
            Some(id) => self.live_client(id).await?,
            None => None,
        };
        let destination = match params
            .post_logout_redirect_uri
            .as_deref()
            .filter(|u| !u.is_empty())
        {
            None => None,
            Some(uri) => {
                let Some(client) = &client else {
                    return Ok(LogoutStep::Refused(
                        "post_logout_redirect_uri needs an id_token_hint or client_id".into(),
                    ));
                };
                if !client.post_logout_redirect_uris.iter().any(|u| u == uri) {
                    return Ok(LogoutStep::Refused(
                        "the post_logout_redirect_uri is not one this client registered".into(),
                    ));
                }
                let mut pairs = Vec::new();
                if let Some(state) = params.state.as_deref().filter(|s| !s.is_empty()) {
                    pairs.push(("state", state));
                }
                Some(with_query(uri, &pairs))
            }
        };
        if hint.is_none() && !confirmed {
            return Ok(LogoutStep::Confirm);
        }
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        if let Some(grant) = hint.as_ref().and_then(|h| Uuid::parse_str(&h.sid).ok()) {
            tx.revoke_oidc_grant(grant, "logged_out", now).await?;
        }
        tx.commit().await?;
        if let Some(current) = session {
            let same_person = hint
                .as_ref()
                .is_none_or(|h| h.sub == current.account.id.to_string());
            if same_person {
                self.log_out(current, context).await?;
            }
        }
        Ok(LogoutStep::Done(destination))
    }
}
