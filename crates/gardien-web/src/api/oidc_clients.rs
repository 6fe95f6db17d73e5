//! The OpenID Connect provider's registered clients under
//! `/api/v1/oidc-clients`: registered, listed and revoked by a host back end
//! with a deployment-wide API key (`Authorization: Bearer gk_…`; an
//! organization's key is refused). The client secret is in the creation
//! answer only; Gardien keeps its SHA-256.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gardien_oidc::client::ClientKind;
use gardien_service::{NewOidcClient, Operator};
use gardien_store::OidcClient;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::checks::Bearer;
use super::invitations::rfc3339;
use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientKindBody {
    /// A back end that keeps a secret (`client_secret_basic` or `_post`).
    #[default]
    Confidential,
    /// A browser or mobile application: no secret, PKCE S256 only.
    Public,
}

impl From<ClientKindBody> for ClientKind {
    fn from(kind: ClientKindBody) -> Self {
        match kind {
            ClientKindBody::Confidential => ClientKind::Confidential,
            ClientKindBody::Public => ClientKind::Public,
        }
    }
}

impl From<ClientKind> for ClientKindBody {
    fn from(kind: ClientKind) -> Self {
        match kind {
            ClientKind::Confidential => ClientKindBody::Confidential,
            ClientKind::Public => ClientKindBody::Public,
        }
    }
}

/// A client to register.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewOidcClientBody {
    /// What the consent page names (the portal's name).
    pub name: String,
    #[serde(default)]
    pub kind: ClientKindBody,
    /// The deployment's own application: no consent page.
    #[serde(default)]
    pub first_party: bool,
    /// Absolute URIs, matched exactly (https, or http on a loopback host).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may lead back to.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
}

/// A registered client, without its secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OidcClientBody {
    pub client_id: Uuid,
    pub name: String,
    pub kind: ClientKindBody,
    pub first_party: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A client just registered: `client_secret` is shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedOidcClientBody {
    #[serde(flatten)]
    pub client: OidcClientBody,
    /// `gcs_…` for a confidential client, `null` for a public one. Never
    /// shown again.
    pub client_secret: Option<String>,
}

/// The deployment's clients.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OidcClientList {
    pub items: Vec<OidcClientBody>,
}

fn body(client: &OidcClient) -> OidcClientBody {
    OidcClientBody {
        client_id: client.id,
        name: client.name.clone(),
        kind: client.kind.into(),
        first_party: client.first_party,
        redirect_uris: client.redirect_uris.clone(),
        post_logout_redirect_uris: client.post_logout_redirect_uris.clone(),
        created_at: rfc3339(client.created_at),
        revoked_at: client.revoked_at.map(rfc3339),
    }
}

/// Registers a client of the OpenID Connect provider.
#[utoipa::path(post, path = "/api/v1/oidc-clients", tag = "oidc",
    request_body = NewOidcClientBody,
    security(("api_key" = [])),
    responses(
        (status = 201, description = "Registered; the secret is shown this once", body = CreatedOidcClientBody),
        (status = 401, description = "No live API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An organization's key: a deployment-wide key is needed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty name, no or an unacceptable redirect URI", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Bearer(key): Bearer,
    Origin(context): Origin,
    Json(new): Json<NewOidcClientBody>,
) -> Result<(StatusCode, Json<CreatedOidcClientBody>), ApiError> {
    let created = state
        .services
        .create_oidc_client(
            &Operator::Key(key),
            NewOidcClient {
                name: new.name,
                kind: new.kind.into(),
                first_party: new.first_party,
                redirect_uris: new.redirect_uris,
                post_logout_redirect_uris: new.post_logout_redirect_uris,
            },
            &context,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedOidcClientBody {
            client: body(&created.client),
            client_secret: created.client_secret,
        }),
    ))
}

/// The deployment's clients, revoked ones included.
#[utoipa::path(get, path = "/api/v1/oidc-clients", tag = "oidc",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The clients, oldest first", body = OidcClientList),
        (status = 401, description = "No live API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An organization's key: a deployment-wide key is needed", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Bearer(key): Bearer,
) -> Result<Json<OidcClientList>, ApiError> {
    let clients = state.services.oidc_clients(&Operator::Key(key)).await?;
    Ok(Json(OidcClientList {
        items: clients.iter().map(body).collect(),
    }))
}

/// Revokes a client: its secret, codes and tokens stop working at once.
#[utoipa::path(delete, path = "/api/v1/oidc-clients/{id}", tag = "oidc",
    params(("id" = Uuid, Path, description = "The client_id")),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Revoked", body = OidcClientBody),
        (status = 401, description = "No live API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An organization's key: a deployment-wide key is needed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live client", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Bearer(key): Bearer,
    Origin(context): Origin,
    Path(id): Path<Uuid>,
) -> Result<Json<OidcClientBody>, ApiError> {
    let client = state
        .services
        .revoke_oidc_client(&Operator::Key(key), id, &context)
        .await?;
    Ok(Json(body(&client)))
}

/// The OpenAPI description of these routes, merged into the service's.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create, list, revoke),
    components(schemas(
        ClientKindBody,
        NewOidcClientBody,
        OidcClientBody,
        CreatedOidcClientBody,
        OidcClientList
    )),
    tags((name = "oidc", description = "Clients of the OpenID Connect provider (deployment-wide API key)"))
)]
pub(crate) struct OidcClientsDoc;

pub(crate) fn routes() -> axum::Router<AppState> {
    use axum::routing::{delete, get};
    axum::Router::new()
        .route("/api/v1/oidc-clients", get(list).post(create))
        .route("/api/v1/oidc-clients/{id}", delete(revoke))
}
