//! Logging in through Gardien with OpenID Connect: discovery, the
//! authorization code flow with PKCE (S256), `state` and `nonce`, the ID
//! token checked (EdDSA signature from Gardien's JWKS, issuer, audience,
//! expiry, nonce), and RP-initiated logout. Gardien's own claims —
//! organization, membership kind, role, permissions — ride along as
//! additional claims.

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl,
    LogoutProviderMetadata, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::sessions::Named;

/// Gardien's claims beyond the standard ones (scope `organization`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GardienClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Named>,
    /// `staff` or `client`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Named>,
    #[serde(default)]
    pub permissions: Vec<String>,
}

impl AdditionalClaims for GardienClaims {}

type GardienIdTokenFields = IdTokenFields<
    GardienClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type GardienTokenResponse = StandardTokenResponse<GardienIdTokenFields, CoreTokenType>;
type GardienIdToken = openidconnect::IdToken<
    GardienClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// Discovery's answer, with `end_session_endpoint` (RP-initiated logout).
type GardienMetadata = ProviderMetadata<
    LogoutProviderMetadata<openidconnect::EmptyAdditionalProviderMetadata>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type GardienClient = Client<
    GardienClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    GardienTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A discovered provider: the client and where logout happens.
struct Discovered {
    client: GardienClient,
    end_session: Option<String>,
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Gardien's OpenID Connect discovery failed: {0}")]
    Discovery(String),
    #[error("the code exchange with Gardien failed: {0}")]
    Exchange(String),
    #[error("Gardien sent no ID token")]
    NoIdToken,
    #[error("the ID token is not acceptable: {0}")]
    IdToken(String),
    #[error("the ID token names no organization (scope `organization`)")]
    NoOrganization,
    #[error("configuration: {0}")]
    Config(String),
}

/// Where to send the browser to log in, and what the callback must check.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who logged in, from a checked ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account_id: Uuid,
    pub name: String,
    pub email: String,
    pub organization: Named,
    pub kind: String,
    pub id_token: String,
}

/// The portal as a relying party of one Gardien.
pub struct Oidc {
    http: reqwest::Client,
    issuer: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    /// Discovered on first use (Gardien may start after the portal) and
    /// again when a token's key is unknown (keys rotated).
    discovered: RwLock<Option<std::sync::Arc<Discovered>>>,
}

impl Oidc {
    pub fn new(
        http: reqwest::Client,
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        redirect_uri: String,
    ) -> Self {
        Self {
            http,
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_uri,
            discovered: RwLock::new(None),
        }
    }

    async fn discovered(&self) -> Result<std::sync::Arc<Discovered>, LoginError> {
        if let Some(found) = self.discovered.read().await.as_ref() {
            return Ok(found.clone());
        }
        let issuer =
            IssuerUrl::new(self.issuer.clone()).map_err(|e| LoginError::Config(e.to_string()))?;
        let metadata = GardienMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| LoginError::Discovery(error_chain(&e)))?;
        let end_session = metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .map(|url| url.url().to_string());
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|e| LoginError::Config(e.to_string()))?;
        let client = GardienClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        let found = std::sync::Arc::new(Discovered {
            client,
            end_session,
        });
        *self.discovered.write().await = Some(found.clone());
        Ok(found)
    }

    /// Starts a login: Gardien's authorization URL (scopes `openid email
    /// profile organization`, PKCE S256, a fresh state and nonce). With
    /// `select_account`, Gardien asks which organization again.
    pub async fn authorize(&self, select_account: bool) -> Result<Authorization, LoginError> {
        let discovered = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = discovered
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("organization".into()))
            .set_pkce_challenge(challenge);
        if select_account {
            request = request.add_prompt(CoreAuthPrompt::SelectAccount);
        }
        let (url, state, nonce) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Finishes a login: exchanges the code (with the PKCE verifier) and
    /// checks the ID token against the nonce sent.
    pub async fn finish(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<Identity, LoginError> {
        let discovered = self.discovered().await?;
        let response = discovered
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| LoginError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| LoginError::Exchange(error_chain(&e)))?;
        let id_token = response.id_token().ok_or(LoginError::NoIdToken)?;
        let verifier = discovered
            .client
            .id_token_verifier()
            .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EdDsa]);
        let claims = match id_token.claims(&verifier, &Nonce::new(nonce.to_owned())) {
            Ok(claims) => claims,
            Err(error) => {
                // Perhaps a new signing key: look again next time.
                *self.discovered.write().await = None;
                return Err(LoginError::IdToken(error.to_string()));
            }
        };
        let account_id = claims
            .subject()
            .as_str()
            .parse::<Uuid>()
            .map_err(|_| LoginError::IdToken("`sub` is not a Gardien account id".into()))?;
        let extra = claims.additional_claims();
        let organization = extra
            .organization
            .clone()
            .ok_or(LoginError::NoOrganization)?;
        let email = claims
            .email()
            .map(|e| e.as_str().to_owned())
            .unwrap_or_default();
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| email.clone());
        Ok(Identity {
            account_id,
            name,
            email,
            organization,
            kind: extra.membership_kind.clone().unwrap_or_default(),
            id_token: id_token.to_string(),
        })
    }

    /// Gardien's RP-initiated logout URL for this ID token, coming back to
    /// `after` (a registered post-logout redirect URI).
    pub async fn logout_url(&self, id_token: &str, after: &str) -> String {
        let fallback = format!("{}/oidc/logout", self.issuer);
        let end_session = match self.discovered().await {
            Ok(d) => d.end_session.clone().unwrap_or(fallback),
            Err(_) => fallback,
        };
        let Ok(endpoint) = openidconnect::EndSessionUrl::new(end_session.clone()) else {
            return end_session;
        };
        let mut request =
            LogoutRequest::from(endpoint).set_client_id(ClientId::new(self.client_id.clone()));
        if let Ok(hint) = id_token.parse::<GardienIdToken>() {
            request = request.set_id_token_hint(&hint);
        }
        if let Ok(after) = PostLogoutRedirectUrl::new(after.to_owned()) {
            request = request.set_post_logout_redirect_uri(after);
        }
        request
            .set_state(CsrfToken::new_random())
            .http_get_url()
            .to_string()
    }
}

/// An error and its sources, on one line (the log says why, not just "failed").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gardien_claims_read_the_contract() {
        let claims: GardienClaims = serde_json::from_value(serde_json::json!({
            "organization": {"id": "0190b9e4-7b7a-7c1e-9a51-4a8f2b7e3c10", "name": "Boulangerie Martin"},
            "membership_kind": "staff",
            "role": {"id": "0190b9e4-7b7a-7c1e-9a51-4a8f2b7e3c11", "name": "Gestion de courrier"},
            "permissions": ["mail.read", "mail.download"],
        }))
        .unwrap();
        assert_eq!(claims.organization.unwrap().name, "Boulangerie Martin");
        assert_eq!(claims.role.unwrap().name, "Gestion de courrier");
        assert_eq!(claims.permissions, ["mail.read", "mail.download"]);
        // Without scope `organization`: nothing, and no error.
        let none: GardienClaims = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(none, GardienClaims::default());
    }

    #[test]
    fn errors_tell_their_causes() {
        let io = std::io::Error::other("connection refused");
        assert_eq!(error_chain(&io), "connection refused");
    }
}
