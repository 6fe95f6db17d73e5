//! The provider's metadata (OpenID Connect Discovery 1.0 §3, RFC 8414).

use crate::scope::SUPPORTED;

/// Where each endpoint is, under the issuer.
pub const AUTHORIZE: &str = "/oidc/authorize";
pub const TOKEN: &str = "/oidc/token";
pub const USERINFO: &str = "/oidc/userinfo";
pub const JWKS: &str = "/oidc/jwks";
pub const REVOKE: &str = "/oidc/revoke";
pub const INTROSPECT: &str = "/oidc/introspect";
pub const LOGOUT: &str = "/oidc/logout";

/// The claims Gardien can put in tokens.
pub const CLAIMS: [&str; 17] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "sid",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "locale",
    "organization",
    "membership_kind",
    "role",
];

/// The discovery document of the provider at `issuer`.
pub fn metadata(issuer: &str) -> serde_json::Value {
    let at = |path: &str| format!("{issuer}{path}");
    let mut claims: Vec<&str> = CLAIMS.to_vec();
    claims.push("permissions");
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": at(AUTHORIZE),
        "token_endpoint": at(TOKEN),
        "userinfo_endpoint": at(USERINFO),
        "jwks_uri": at(JWKS),
        "revocation_endpoint": at(REVOKE),
        "introspection_endpoint": at(INTROSPECT),
        "end_session_endpoint": at(LOGOUT),
        "scopes_supported": SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": claims,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "ui_locales_supported": ["fr", "en"],
    })
}
