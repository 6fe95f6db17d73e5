//! Gardien as an OpenID Connect provider, driven by an independent client
//! library (`openidconnect`): discovery, the code flow with PKCE through
//! Gardien's login and organization picker, ID-token signature and claims,
//! userinfo, refresh with rotation and reuse detection, revocation,
//! introspection and RP-initiated logout — and the error codes the
//! specifications name for bad requests. On both back ends.

use crate::support;

use gardien_store::test_support::TestBackend;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use reqwest::Method;
use serde_json::{json, Value};
use support::{call, create_key, session_cookie, sign_up_and_log_in, with_key, TestApp};

const CALLBACK: &str = "http://127.0.0.1:9/callback";
const BYE: &str = "http://127.0.0.1:9/bye";

type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A client that does not follow redirects (the browser's hops are checked one by one).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Registered {
    id: String,
    secret: Option<String>,
}

/// Registers a client the way a host back end does: through the API, with a
/// deployment-wide key.
async fn register(app: &TestApp, public: bool, first_party: bool) -> Registered {
    let operator = app
        .services
        .create_deployment_api_key("Portal operator")
        .await
        .expect("a deployment key is made");
    let response = with_key(
        app,
        &operator.secret,
        "/api/v1/oidc-clients",
        json!({
            "name": "Client portal",
            "kind": if public { "public" } else { "confidential" },
            "first_party": first_party,
            "redirect_uris": [CALLBACK],
            "post_logout_redirect_uris": [BYE],
        }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    Registered {
        id: body["client_id"].as_str().unwrap().to_owned(),
        secret: body["client_secret"].as_str().map(str::to_owned),
    }
}

async fn relying_party(app: &TestApp, registered: &Registered) -> Rp {
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(app.address.clone()).unwrap(),
        &browser(),
    )
    .await
    .expect("the discovery document and the JWKS are read");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(registered.id.clone()),
        registered.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap())
}

/// The query parameters of a URL.
fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location (status {})", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// An authorization the person of `session` gives: the code, and what the
/// client keeps to use it.
struct Authorized {
    code: String,
    verifier: openidconnect::PkceCodeVerifier,
    nonce: Nonce,
}

async fn authorize(app: &TestApp, rp: &Rp, session: &str, extra: &[(&str, &str)]) -> Authorized {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("organization".into()))
        .set_pkce_challenge(challenge);
    for (name, value) in extra {
        request = request.add_extra_param(*name, *value);
    }
    let (url, state, nonce) = request.url();
    let response = browser()
        .get(url.as_str())
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "authorize answers with a redirect");
    let to = location(&response);
    assert!(to.starts_with(CALLBACK), "back to the client: {to}");
    let params = query(&to);
    assert_eq!(params["state"], *state.secret(), "state comes back");
    assert_eq!(params["iss"], app.address, "RFC 9207 iss");
    Authorized {
        code: params["code"].clone(),
        verifier,
        nonce,
    }
}

/// The claims of a JWT's payload (read after the library verified it).
fn payload(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The OAuth error code of a failed token request.
fn error_code<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> String {
    match error {
        RequestTokenError::ServerResponse(response) => response.error().as_ref().to_owned(),
        other => panic!("not an OAuth error response: {other:?}"),
    }
}

/// A raw form POST to a back-channel endpoint.
async fn post_form(
    app: &TestApp,
    path: &str,
    auth: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app.http.post(app.url(path)).form(form);
    if let Some((id, secret)) = auth {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().await.unwrap()
}

async fn oauth_error(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap_or("").to_owned())
}

app_test!(
    async fn the_code_flow_signs_in_refreshes_detects_reuse_and_logs_out(app: TestApp) {
        let (session, org, account) = sign_up_and_log_in(&app, "ana@example.com", "Acme").await;
        let registered = register(&app, false, true).await;
        let rp = relying_party(&app, &registered).await;

        let authorized = authorize(&app, &rp, &session, &[]).await;
        let tokens = rp
            .exchange_code(AuthorizationCode::new(authorized.code.clone()))
            .unwrap()
            .set_pkce_verifier(authorized.verifier)
            .request_async(&browser())
            .await
            .expect("the code is exchanged");

        // The ID token: signed by a key of the JWKS (EdDSA), for this client, with the nonce.
        let id_token = tokens.id_token().expect("an ID token");
        let verifier = rp
            .id_token_verifier()
            .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EdDsa]);
        let claims = id_token
            .claims(&verifier, &authorized.nonce)
            .expect("the ID token verifies");
        assert_eq!(claims.subject().as_str(), account);
        assert_eq!(claims.email().map(|e| e.as_str()), Some("ana@example.com"));
        assert_eq!(claims.issuer().as_str(), app.address);
        // No at_hash is issued; had one been, the library would check it.
        let _: Option<&AccessTokenHash> = claims.access_token_hash();
        let raw = payload(&id_token.to_string());
        assert_eq!(raw["organization"]["id"], org);
        assert_eq!(raw["organization"]["name"], "Acme");
        assert_eq!(raw["membership_kind"], "staff");
        assert!(raw["role"]["id"].is_string() && raw["role"]["name"].is_string());
        assert!(raw["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "team.manage"));
        assert_eq!(raw["locale"], "en");

        // Userinfo, through the library and raw.
        let info: openidconnect::core::CoreUserInfoClaims = rp
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .unwrap()
            .request_async(&browser())
            .await
            .expect("userinfo answers");
        assert_eq!(info.email().map(|e| e.as_str()), Some("ana@example.com"));
        let raw_info: Value = app
            .http
            .get(app.url("/oidc/userinfo"))
            .bearer_auth(tokens.access_token().secret())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(raw_info["organization"]["id"], org);

        // Refresh: a new refresh token each time; the old one shown again revokes the grant.
        let first_refresh = tokens.refresh_token().expect("a refresh token").clone();
        let refreshed = rp
            .exchange_refresh_token(&first_refresh)
            .unwrap()
            .request_async(&browser())
            .await
            .expect("the refresh token is exchanged");
        let second_refresh = refreshed.refresh_token().unwrap().clone();
        assert_ne!(second_refresh.secret(), first_refresh.secret());
        refreshed
            .id_token()
            .unwrap()
            .claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .expect("the refreshed ID token verifies");

        let reused = rp
            .exchange_refresh_token(&first_refresh)
            .unwrap()
            .request_async(&browser())
            .await
            .expect_err("a used refresh token is refused");
        assert_eq!(error_code(reused), "invalid_grant");
        let after_reuse = rp
            .exchange_refresh_token(&second_refresh)
            .unwrap()
            .request_async(&browser())
            .await
            .expect_err("the whole grant is revoked");
        assert_eq!(error_code(after_reuse), "invalid_grant");
        let userinfo_after = app
            .http
            .get(app.url("/oidc/userinfo"))
            .bearer_auth(refreshed.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(userinfo_after.status(), 401, "its access tokens too");

        // RP-initiated logout with the hint: Gardien's session and the grant end.
        let again = authorize(&app, &rp, &session, &[]).await;
        let tokens = rp
            .exchange_code(AuthorizationCode::new(again.code))
            .unwrap()
            .set_pkce_verifier(again.verifier)
            .request_async(&browser())
            .await
            .unwrap();
        let hint = tokens.id_token().unwrap().to_string();
        let logout = browser()
            .get(app.url("/oidc/logout"))
            .query(&[
                ("id_token_hint", hint.as_str()),
                ("post_logout_redirect_uri", BYE),
                ("state", "see-you"),
            ])
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(logout.status(), 303);
        assert_eq!(location(&logout), format!("{BYE}?state=see-you"));
        let me = call(&app, Method::GET, Some(&session), "/api/v1/me", None).await;
        assert_eq!(me.status(), 401, "Gardien's session ended");
        let refresh_after_logout = rp
            .exchange_refresh_token(tokens.refresh_token().unwrap())
            .unwrap()
            .request_async(&browser())
            .await
            .expect_err("the grant ended with the logout");
        assert_eq!(error_code(refresh_after_logout), "invalid_grant");

        // An unregistered post-logout URI is refused on Gardien's page.
        let refused = browser()
            .get(app.url("/oidc/logout"))
            .query(&[
                ("id_token_hint", hint.as_str()),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400);
        assert!(refused.headers().get("location").is_none());
    }
);

app_test!(
    async fn bad_requests_get_the_codes_the_specifications_name(app: TestApp) {
        let (session, _org, _account) = sign_up_and_log_in(&app, "ana@example.com", "Acme").await;
        let registered = register(&app, false, true).await;
        let rp = relying_party(&app, &registered).await;
        let secret = registered.secret.clone().unwrap();
        let authorize_url = |pairs: &[(&str, &str)]| {
            let mut url = url::Url::parse(&app.url("/oidc/authorize")).unwrap();
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        };
        let base = [
            ("response_type", "code"),
            ("client_id", registered.id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email"),
            ("state", "s1"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ];
        let with = |changes: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
            let mut pairs: Vec<(&str, &str)> = base
                .iter()
                .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
                .copied()
                .collect();
            pairs.extend(changes.iter().filter(|(_, v)| !v.is_empty()).copied());
            pairs
        };

        // An unregistered redirect URI or an unknown client: refused on the page, never redirected.
        for pairs in [
            with(&[("redirect_uri", "https://evil.example/callback")]),
            with(&[("redirect_uri", "http://127.0.0.1:9/callback/")]),
            with(&[("client_id", "00000000-0000-0000-0000-000000000000")]),
        ] {
            let response = browser()
                .get(authorize_url(&pairs))
                .header("cookie", &session)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{pairs:?}");
            assert!(response.headers().get("location").is_none());
        }
        // Other refusals go back to the client, with state.
        for (changes, code) in [
            (
                vec![("response_type", "token")],
                "unsupported_response_type",
            ),
            (vec![("scope", "openid admin")], "invalid_scope"),
            (vec![("code_challenge_method", "plain")], "invalid_request"),
            (vec![("prompt", "none login")], "invalid_request"),
        ] {
            let response = browser()
                .get(authorize_url(&with(&changes)))
                .header("cookie", &session)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 303, "{changes:?}");
            let params = query(&location(&response));
            assert_eq!(params["error"], code, "{changes:?}");
            assert_eq!(params["state"], "s1");
        }
        // prompt=none without a session.
        let response = browser()
            .get(authorize_url(&with(&[("prompt", "none")])))
            .send()
            .await
            .unwrap();
        assert_eq!(query(&location(&response))["error"], "login_required");
        // Without a session (and no prompt=none): Gardien's login, then back here.
        let response = browser().get(authorize_url(&base)).send().await.unwrap();
        let to = location(&response);
        assert!(to.starts_with("/login?next=%2Foidc%2Fauthorize%3F"), "{to}");

        // Token endpoint: wrong secret, unknown grant type.
        let a = authorize(&app, &rp, &session, &[]).await;
        let wrong = post_form(
            &app,
            "/oidc/token",
            Some((&registered.id, "gcs_wrong")),
            &[
                ("grant_type", "authorization_code"),
                ("code", &a.code),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await;
        assert!(wrong.headers().get("www-authenticate").is_some());
        assert_eq!(oauth_error(wrong).await, (401, "invalid_client".into()));
        let grant_type = post_form(
            &app,
            "/oidc/token",
            Some((&registered.id, &secret)),
            &[("grant_type", "password")],
        )
        .await;
        assert_eq!(
            oauth_error(grant_type).await,
            (400, "unsupported_grant_type".into())
        );

        // A missing verifier, then a wrong one (each on its own code).
        let missing = post_form(
            &app,
            "/oidc/token",
            Some((&registered.id, &secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &a.code),
                ("redirect_uri", CALLBACK),
            ],
        )
        .await;
        assert_eq!(oauth_error(missing).await, (400, "invalid_request".into()));
        let b = authorize(&app, &rp, &session, &[]).await;
        let wrong_verifier = rp
            .exchange_code(AuthorizationCode::new(b.code))
            .unwrap()
            .set_pkce_verifier(openidconnect::PkceCodeVerifier::new("x".repeat(43)))
            .request_async(&browser())
            .await
            .expect_err("a wrong verifier is refused");
        assert_eq!(error_code(wrong_verifier), "invalid_grant");
        // Another redirect URI than the request's.
        let c = authorize(&app, &rp, &session, &[]).await;
        let other_uri = post_form(
            &app,
            "/oidc/token",
            Some((&registered.id, &secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &c.code),
                ("redirect_uri", "http://127.0.0.1:9/other"),
                ("code_verifier", c.verifier.secret()),
            ],
        )
        .await;
        assert_eq!(oauth_error(other_uri).await, (400, "invalid_grant".into()));

        // A replayed code: refused, and what its first use gave is revoked.
        let d = authorize(&app, &rp, &session, &[]).await;
        let verifier_secret = d.verifier.secret().clone();
        let tokens = rp
            .exchange_code(AuthorizationCode::new(d.code.clone()))
            .unwrap()
            .set_pkce_verifier(d.verifier)
            .request_async(&browser())
            .await
            .unwrap();
        let replay = rp
            .exchange_code(AuthorizationCode::new(d.code))
            .unwrap()
            .set_pkce_verifier(openidconnect::PkceCodeVerifier::new(verifier_secret))
            .request_async(&browser())
            .await
            .expect_err("a code works once");
        assert_eq!(error_code(replay), "invalid_grant");
        let introspected: Value = post_form(
            &app,
            "/oidc/introspect",
            Some((&registered.id, &secret)),
            &[("token", tokens.access_token().secret())],
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(introspected, json!({ "active": false }));
        let refresh = rp
            .exchange_refresh_token(tokens.refresh_token().unwrap())
            .unwrap()
            .request_async(&browser())
            .await
            .expect_err("the replay revoked the grant");
        assert_eq!(error_code(refresh), "invalid_grant");

        // An expired code, an expired refresh token.
        let e = authorize(&app, &rp, &session, &[]).await;
        let shift = match app.database.backend() {
            TestBackend::Sqlite => "- 86400000000",
            TestBackend::Postgres => "- interval '1 day'",
        };
        app.database
            .execute_raw(&format!(
                "UPDATE oidc_codes SET expires_at = expires_at {shift}"
            ))
            .await
            .unwrap();
        let expired = rp
            .exchange_code(AuthorizationCode::new(e.code))
            .unwrap()
            .set_pkce_verifier(e.verifier)
            .request_async(&browser())
            .await
            .expect_err("an expired code is refused");
        assert_eq!(error_code(expired), "invalid_grant");
        let f = authorize(&app, &rp, &session, &[]).await;
        let live = rp
            .exchange_code(AuthorizationCode::new(f.code))
            .unwrap()
            .set_pkce_verifier(f.verifier)
            .request_async(&browser())
            .await
            .unwrap();
        let introspected: Value = post_form(
            &app,
            "/oidc/introspect",
            Some((&registered.id, &secret)),
            &[("token", live.access_token().secret())],
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(introspected["active"], true);
        assert_eq!(introspected["client_id"], registered.id);
        app.database
            .execute_raw(&format!(
                "UPDATE oidc_refresh_tokens SET created_at = created_at {shift}, expires_at = created_at {shift}"
            ))
            .await
            .unwrap();
        let expired = rp
            .exchange_refresh_token(live.refresh_token().unwrap())
            .unwrap()
            .request_async(&browser())
            .await
            .expect_err("an expired refresh token is refused");
        assert_eq!(error_code(expired), "invalid_grant");

        // A forged access token, and revocation of a live one.
        let forged = app
            .http
            .get(app.url("/oidc/userinfo"))
            .bearer_auth(format!("{}x", live.access_token().secret()))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 401);
        assert!(forged.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token"));
        let revoked = post_form(
            &app,
            "/oidc/revoke",
            Some((&registered.id, &secret)),
            &[("token", live.access_token().secret())],
        )
        .await;
        assert_eq!(revoked.status(), 200);
        let after = app
            .http
            .get(app.url("/oidc/userinfo"))
            .bearer_auth(live.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(
            after.status(),
            401,
            "a revoked token stops working before its expiry"
        );

        // A browser application may call the back channel from its origin, without cookies.
        let preflight = app
            .http
            .request(Method::OPTIONS, app.url("/oidc/token"))
            .header("origin", "https://spa.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
        assert!(preflight
            .headers()
            .get("access-control-allow-credentials")
            .is_none());
    }
);

/// The id of the membership an invitation made, and the invitee's email.
async fn invite(app: &TestApp, admin: &str, org: &str, email: &str) -> String {
    let role = support::role_id(app, org, "administrator").await;
    let response = call(
        app,
        Method::POST,
        Some(admin),
        &format!("/api/v1/organizations/{org}/invitations"),
        Some(json!({
            "email": email, "first_name": "Bruno", "last_name": "Costa",
            "kind": "staff", "role_id": role,
        })),
    )
    .await;
    assert_eq!(response.status(), 201, "invitation of {email}");
    let body: Value = response.json().await.unwrap();
    body["membership_id"].as_str().unwrap().to_owned()
}

app_test!(
    async fn the_picked_organization_is_in_the_tokens_and_a_suspension_ends_refresh(app: TestApp) {
        let (admin, org_a, _) = sign_up_and_log_in(&app, "ana@example.com", "Acme").await;
        let (bruno_first, org_b, bruno) =
            sign_up_and_log_in(&app, "bruno@example.com", "Bruno & Co").await;
        let member = invite(&app, &admin, &org_a, "bruno@example.com").await;
        let token = support::invitation_token(&app, "bruno@example.com").await;
        let accepted = call(
            &app,
            Method::POST,
            Some(&bruno_first),
            &format!("/api/v1/invitations/{token}"),
            Some(json!({ "accept_privacy": true })),
        )
        .await;
        assert_eq!(accepted.status(), 200);
        // A fresh login with two organizations: not bound to either.
        let login = app
            .post_json(
                "/api/v1/login",
                &json!({ "email": "bruno@example.com", "password": support::SIGN_UP_PASSWORD }),
            )
            .await;
        let session = session_cookie(&login).unwrap();

        let registered = register(&app, false, true).await;
        let rp = relying_party(&app, &registered).await;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _state, nonce) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("organization".into()))
            .set_pkce_challenge(challenge)
            .url();
        let response = browser()
            .get(url.as_str())
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        let picker = location(&response);
        assert!(picker.starts_with("/select-organization?next="), "{picker}");
        let next = query(&app.url(&picker))["next"].clone();
        // The picker's form, as the browser posts it.
        let (csrf_cookie, csrf) = app.csrf().await;
        let chosen = browser()
            .post(app.url("/select-organization"))
            .header("cookie", format!("{csrf_cookie}; {session}"))
            .form(&[
                ("organization_id", org_a.as_str()),
                ("next", next.as_str()),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(chosen.status(), 303);
        assert_eq!(location(&chosen), next);
        let back = browser()
            .get(app.url(&next))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        let code = query(&location(&back))["code"].clone();
        let tokens = rp
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&browser())
            .await
            .unwrap();
        let id_token = tokens.id_token().unwrap();
        let checker = rp
            .id_token_verifier()
            .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EdDsa]);
        id_token.claims(&checker, &nonce).unwrap();
        let raw = payload(&id_token.to_string());
        assert_eq!(raw["sub"], bruno);
        assert_eq!(raw["organization"]["id"], org_a);
        assert!(raw.get("email").is_none(), "no email scope, no email");

        // The `organization` hint pre-selects the other one.
        let hinted = authorize(&app, &rp, &session, &[("organization", org_b.as_str())]).await;
        let hinted_tokens = rp
            .exchange_code(AuthorizationCode::new(hinted.code))
            .unwrap()
            .set_pkce_verifier(hinted.verifier)
            .request_async(&browser())
            .await
            .unwrap();
        assert_eq!(
            payload(&hinted_tokens.id_token().unwrap().to_string())["organization"]["id"],
            org_b
        );

        // Suspended in Acme: the Acme grant no longer refreshes; the other still does.
        let suspended = call(
            &app,
            Method::POST,
            Some(&admin),
            &format!("/api/v1/organizations/{org_a}/members/{member}/suspend"),
            None,
        )
        .await;
        assert_eq!(suspended.status(), 200);
        let refused = rp
            .exchange_refresh_token(tokens.refresh_token().unwrap())
            .unwrap()
            .request_async(&browser())
            .await
            .expect_err("a suspended membership cannot refresh");
        assert_eq!(error_code(refused), "invalid_grant");
        let userinfo = app
            .http
            .get(app.url("/oidc/userinfo"))
            .bearer_auth(tokens.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(userinfo.status(), 401);
        rp.exchange_refresh_token(hinted_tokens.refresh_token().unwrap())
            .unwrap()
            .request_async(&browser())
            .await
            .expect("the other organization's grant still refreshes");
    }
);

app_test!(
    async fn a_third_party_client_asks_for_consent(app: TestApp) {
        let (session, _org, _) = sign_up_and_log_in(&app, "ana@example.com", "Acme").await;
        let registered = register(&app, true, false).await;
        let rp = relying_party(&app, &registered).await;
        let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, _) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let page = browser()
            .get(url.as_str())
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Client portal wants to sign you in"),
            "{html}"
        );
        assert!(html.contains("your email address"));

        let params = query(url.as_str());
        let (csrf_cookie, csrf) = app.csrf().await;
        let decide = |decision: &'static str| {
            let mut form: Vec<(String, String)> = params.clone().into_iter().collect();
            form.push(("decision".into(), decision.into()));
            form.push(("csrf_token".into(), csrf.clone()));
            browser()
                .post(app.url("/oidc/authorize/consent"))
                .header("cookie", format!("{csrf_cookie}; {session}"))
                .form(&form)
                .send()
        };
        let denied = decide("deny").await.unwrap();
        assert_eq!(query(&location(&denied))["error"], "access_denied");
        let allowed = decide("allow").await.unwrap();
        assert!(query(&location(&allowed)).contains_key("code"));
        // Without the CSRF token the form is refused.
        let forged = browser()
            .post(app.url("/oidc/authorize/consent"))
            .header("cookie", &session)
            .form(&[("decision", "allow")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
    }
);

app_test!(
    async fn the_login_page_returns_only_to_a_path_of_this_site(app: TestApp) {
        support::sign_up(&app, "ana@example.com", "Acme").await;
        support::verify_email(&app, "ana@example.com").await;
        for (next, expected) in [
            ("/oidc/authorize?client_id=x", "/oidc/authorize?client_id=x"),
            ("//evil.example/x", "/"),
            ("/\\evil.example", "/"),
            ("https://evil.example/", "/"),
        ] {
            let (csrf_cookie, csrf) = app.csrf().await;
            let response = browser()
                .post(app.url("/login"))
                .header("cookie", csrf_cookie)
                .form(&[
                    ("email", "ana@example.com"),
                    ("password", support::SIGN_UP_PASSWORD),
                    ("next", next),
                    ("csrf_token", csrf.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 303, "{next}");
            assert_eq!(location(&response), expected, "{next}");
        }
    }
);

/// A call of the client API with `key` (`None`: no Authorization header).
async fn clients_api(
    app: &TestApp,
    method: Method,
    key: Option<&str>,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.http.request(method, app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

app_test!(
    async fn clients_are_registered_listed_and_revoked_with_a_deployment_key_only(app: TestApp) {
        let (session, org, _) = sign_up_and_log_in(&app, "ana@example.com", "Acme").await;
        let (_, org_key) = create_key(&app, &session, &org).await;
        let operator = app
            .services
            .create_deployment_api_key("Portal operator")
            .await
            .unwrap()
            .secret;
        let portal = json!({ "name": "Portal", "redirect_uris": [CALLBACK] });

        // No key, or an organization's key: refused, nothing registered.
        let (status, _) = clients_api(&app, Method::GET, None, "/api/v1/oidc-clients", None).await;
        assert_eq!(status, 401);
        let (status, problem) = clients_api(
            &app,
            Method::POST,
            Some(&org_key),
            "/api/v1/oidc-clients",
            Some(portal.clone()),
        )
        .await;
        assert_eq!(status, 403);
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("/deployment-key-required"),
            "{problem}"
        );

        // Unacceptable redirect URIs: 422 on the field, nothing registered.
        for redirect_uris in [
            json!([]),
            json!(["http://portal.example/callback"]),
            json!(["https://portal.example/callback#fragment"]),
        ] {
            let (status, problem) = clients_api(
                &app,
                Method::POST,
                Some(&operator),
                "/api/v1/oidc-clients",
                Some(json!({ "name": "Portal", "redirect_uris": redirect_uris })),
            )
            .await;
            assert_eq!(status, 422, "{redirect_uris}: {problem}");
            assert_eq!(problem["errors"][0]["field"], "redirect_uris", "{problem}");
        }
        let (status, listed) = clients_api(
            &app,
            Method::GET,
            Some(&operator),
            "/api/v1/oidc-clients",
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(listed["items"], json!([]));

        // Registered: the secret is in this answer only.
        let (status, created) = clients_api(
            &app,
            Method::POST,
            Some(&operator),
            "/api/v1/oidc-clients",
            Some(portal),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["kind"], "confidential");
        assert_eq!(created["first_party"], false);
        let id = created["client_id"].as_str().unwrap().to_owned();
        let secret = created["client_secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("gcs_"));
        let (_, listed) = clients_api(
            &app,
            Method::GET,
            Some(&operator),
            "/api/v1/oidc-clients",
            None,
        )
        .await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        assert_eq!(listed["items"][0]["client_id"], id.as_str());
        assert_eq!(listed["items"][0]["redirect_uris"], json!([CALLBACK]));
        assert!(!listed.to_string().contains(&secret));

        // Its credentials work at the token endpoint (a wrong code, not a
        // wrong client) until it is revoked.
        let token = |client_secret: String| {
            let app = &app;
            let id = id.clone();
            async move {
                let response = app
                    .http
                    .post(app.url("/oidc/token"))
                    .basic_auth(&id, Some(client_secret))
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", "not-a-code"),
                        ("redirect_uri", CALLBACK),
                    ])
                    .send()
                    .await
                    .unwrap();
                oauth_error(response).await
            }
        };
        assert_eq!(token(secret.clone()).await, (400, "invalid_grant".into()));

        let path = format!("/api/v1/oidc-clients/{id}");
        let (status, _) = clients_api(&app, Method::DELETE, Some(&org_key), &path, None).await;
        assert_eq!(status, 403);
        let (status, revoked) =
            clients_api(&app, Method::DELETE, Some(&operator), &path, None).await;
        assert_eq!(status, 200);
        assert!(revoked["revoked_at"].is_string(), "{revoked}");
        assert_eq!(token(secret).await, (401, "invalid_client".into()));
        let (status, _) = clients_api(&app, Method::DELETE, Some(&operator), &path, None).await;
        assert_eq!(status, 404);
    }
);
