//! `/api/v1/integrations`: list, create, read, edit (including enable/disable), delete, and test a
//! URL against the redirect rules.

use crate::error::OpResult;
use axum::{
    Router,
    extract::Path,
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post},
};
use gatehouse_core::Kind;
use gatehouse_core::console;
use gatehouse_domain::{
    console::integration::{IntegrationChanges, IntegrationInput},
    integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform},
    redirect::RedirectRules,
    service::Subscription,
    token::keys::SigningAlg,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{certificates::CertificateOut, secrets::SecretOut, subscriptions::SubscriptionOut};
use crate::{
    AppState,
    auth::Caller,
    error::{ConsoleError, ConsoleProblem as Problem},
    extract::ApiJson,
};

/// An integration as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationOut {
    pub id: String,
    /// The client ID (the API key).
    #[schema(example = "e053e1a87cf74c68a6ec8e71d4a82662")]
    pub client_id: String,
    pub name: String,
    pub description: String,
    /// `oauth`, `server_to_server` (OAuth Server-to-Server), `service_account` (JWT) or
    /// `api_key`.
    #[schema(value_type = super::schema::IntegrationTypeName, example = "oauth")]
    pub integration_type: String,
    /// For OAuth: `web`, `spa` or `native`.
    #[schema(value_type = Option<super::schema::PlatformName>)]
    pub platform: Option<String>,
    /// The owning organization, for organization-owned integrations.
    pub org_id: Option<String>,
    /// The owning account, for personal integrations.
    pub owner_account_id: Option<String>,
    pub created_by: Option<String>,
    pub redirect_uri: Option<String>,
    pub redirect_patterns: Vec<String>,
    pub technical_account_id: Option<String>,
    pub technical_account_email: Option<String>,
    /// OAuth: the algorithm its ID tokens are signed with (`RS256` or `ES256`); `null` signs them
    /// with the server's configured algorithm.
    #[schema(example = "RS256")]
    pub id_token_signed_response_alg: Option<String>,
    /// May introspect tokens issued to other clients (a resource server). Only operators set it.
    pub may_introspect: bool,
    /// The web domains its API key may be used from (`example.com`, `*.example.com`,
    /// `localhost:3000`); calls whose `Origin` or `Referer` is elsewhere are refused. Empty: any.
    pub allowed_domains: Vec<String>,
    /// The workspace (of a project) it lives in; see `/api/v1/projects`.
    pub workspace_id: String,
    /// `active` or `disabled`.
    #[schema(value_type = super::schema::IntegrationStatusName)]
    pub status: String,
    /// The services it subscribes to.
    pub services: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When it was last used (Unix seconds, recorded to about a minute): a token issued to it,
    /// its secret or signed assertion accepted, its API key accepted by the gateway or the API-key
    /// check. `null`: never.
    pub last_used_at: Option<i64>,
}

impl IntegrationOut {
    pub fn new(i: &Integration, subs: &[Subscription]) -> Self {
        let (org_id, owner_account_id) = match &i.owner {
            Owner::Organization(o) => (Some(o.clone()), None),
            Owner::Account(a) => (None, Some(a.clone())),
        };
        Self {
            id: i.id.clone(),
            client_id: i.client_id.to_string(),
            name: i.name.clone(),
            description: i.description.clone(),
            integration_type: i.integration_type.as_str().to_owned(),
            platform: i.platform.map(|p| p.as_str().to_owned()),
            org_id,
            owner_account_id,
            created_by: i.created_by.clone(),
            redirect_uri: i.redirect_uri.clone(),
            redirect_patterns: i.redirect_patterns.clone(),
            technical_account_id: i.technical_account_id.clone(),
            technical_account_email: i.technical_account_email.clone(),
            id_token_signed_response_alg: i.id_token_signed_response_alg.map(|a| a.as_str().to_owned()),
            may_introspect: i.may_introspect,
            allowed_domains: i.allowed_domains.clone(),
            workspace_id: i.workspace_id.clone(),
            status: i.status.as_str().to_owned(),
            services: subs.iter().map(|s| s.service_code.to_string()).collect(),
            created_at: i.created_at,
            updated_at: i.updated_at,
            last_used_at: None,
        }
    }

    /// With when it was last used.
    pub fn last_used(mut self, at: Option<i64>) -> Self {
        self.last_used_at = at;
        self
    }
}

/// A new integration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntegration {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `oauth`, `server_to_server` (OAuth Server-to-Server), `service_account` (JWT) or
    /// `api_key`.
    #[schema(value_type = super::schema::IntegrationTypeName, example = "server_to_server")]
    pub integration_type: String,
    /// OAuth only: `web`, `spa` or `native`.
    #[schema(value_type = Option<super::schema::PlatformName>)]
    pub platform: Option<String>,
    /// The owning organization; omit for a personal integration. Server-to-server integrations
    /// and service accounts need one the caller administers.
    pub org_id: Option<String>,
    /// OAuth only: the default redirect URI.
    pub redirect_uri: Option<String>,
    /// OAuth only: regular expressions matched against the whole redirect URI, with a literal
    /// scheme and host (`https://app\.example\.com/callback/.*`).
    #[serde(default)]
    pub redirect_patterns: Vec<String>,
    /// The workspace to create it in (the integration takes its project's owner, so `org_id` is
    /// then ignored). Omitted: the integration gets a project of its own, with a `Production`
    /// workspace holding it — what clients written before projects existed get.
    pub workspace_id: Option<String>,
}

/// A created integration. `client_secret` is shown this once and cannot be read again.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationCreated {
    pub integration: IntegrationOut,
    pub client_secret: Option<String>,
}

/// An edit; absent members stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIntegration {
    pub name: Option<String>,
    pub description: Option<String>,
    pub redirect_uri: Option<String>,
    pub redirect_patterns: Option<Vec<String>>,
    /// OAuth: `RS256` or `ES256` for the ID tokens it receives, or `""` for the server's
    /// configured algorithm (OpenID Connect Registration `id_token_signed_response_alg`).
    #[schema(example = "RS256")]
    pub id_token_signed_response_alg: Option<String>,
    /// Lets the integration introspect tokens issued to other clients. Operators only.
    pub may_introspect: Option<bool>,
    /// The web domains its API key may be used from; `[]` lifts the restriction.
    #[schema(example = json!(["app.example.com", "*.example.org"]))]
    pub allowed_domains: Option<Vec<String>>,
    /// `active` or `disabled`. Disabling stops the integration's tokens from validating at once.
    #[schema(value_type = Option<super::schema::IntegrationStatusName>)]
    pub status: Option<String>,
}

/// Everything about one integration.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationDetail {
    pub integration: IntegrationOut,
    pub secrets: Vec<SecretOut>,
    pub certificates: Vec<CertificateOut>,
    pub subscriptions: Vec<SubscriptionOut>,
}

/// A URL to test against the integration's redirect rules.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectCheck {
    pub uri: String,
}

/// Whether the authorization server would redirect to the URL, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedirectCheckResult {
    pub allowed: bool,
    /// The URL is exactly the default redirect URI.
    pub default_matches: bool,
    /// The patterns that match the whole URL.
    pub matching_patterns: Vec<String>,
}

fn field<T>(r: Result<T, gatehouse_domain::DomainError>, name: &str) -> OpResult<T> {
    r.map_err(|e| ConsoleError(gatehouse_core::Error::rule(e)).on(name))
}

/// Turns the request into the domain's input: the owner from `org_id` or the caller.
pub fn to_input(caller: &Caller, body: CreateIntegration) -> OpResult<IntegrationInput> {
    let integration_type = field(IntegrationType::parse(body.integration_type.trim()), "integration_type")?;
    let platform = body
        .platform
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| field(Platform::parse(p), "platform"))
        .transpose()?;
    let owner = match body.org_id.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        Some(o) => Owner::Organization(o.to_owned()),
        None => match caller.principal.account_id().map(str::to_owned) {
            Some(a) => Owner::Account(a),
            None => {
                return Err(ConsoleError::new(
                    Kind::Invalid,
                    "org_id_required",
                    "A service account's token creates integrations for its organization: give org_id.",
                )
                .on("org_id"));
            }
        },
    };
    Ok(IntegrationInput {
        name: body.name,
        description: body.description,
        integration_type,
        platform,
        owner,
        redirect_uri: body.redirect_uri,
        redirect_patterns: body.redirect_patterns,
        workspace: body.workspace_id.map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()),
    })
}

/// The integrations the caller may see.
#[utoipa::path(get, path = "/api/v1/integrations", tag = "integrations",
    responses((status = 200, body = [IntegrationOut]), (status = 401, body = Problem)))]
pub async fn list(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
) -> OpResult<ApiJson<Vec<IntegrationOut>>> {
    let all = console::integrations::list(&state, &caller).await?;
    let listed: Vec<_> = all.iter().map(|(i, _)| i.clone()).collect();
    let used = console::integrations::last_used(&state, &listed).await?;
    Ok(ApiJson(
        all.iter()
            .map(|(i, s)| IntegrationOut::new(i, s).last_used(used.get(&i.id).copied()))
            .collect(),
    ))
}

/// Creates an integration. OAuth and API Key: anyone, for themselves or an organization where
/// they are an admin or developer. OAuth Server-to-Server and Service Account: only an admin of
/// the organization.
#[utoipa::path(post, path = "/api/v1/integrations", tag = "integrations", request_body = CreateIntegration,
    responses((status = 201, body = IntegrationCreated), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
    body: Result<ApiJson<CreateIntegration>, crate::ApiError>,
) -> OpResult<impl IntoResponse> {
    let ApiJson(body) = body?;
    let input = to_input(&caller, body)?;
    let (i, secret) = console::integrations::create(&state, &caller, input).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(IntegrationCreated {
            integration: IntegrationOut::new(&i, &[]),
            client_secret: secret,
        }),
    ))
}

/// One integration with its secrets (hints only), certificates and subscriptions.
#[utoipa::path(get, path = "/api/v1/integrations/{id}", tag = "integrations",
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 200, body = IntegrationDetail), (status = 404, body = Problem)))]
pub async fn read(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<ApiJson<IntegrationDetail>> {
    let d = console::integrations::details(&state, &caller, &id).await?;
    Ok(ApiJson(IntegrationDetail {
        integration: IntegrationOut::new(&d.integration, &d.subscriptions).last_used(d.last_used_at),
        secrets: d.secrets.iter().map(SecretOut::from).collect(),
        certificates: d.certificates.iter().map(CertificateOut::from).collect(),
        subscriptions: d.subscriptions.iter().map(SubscriptionOut::from).collect(),
    }))
}

/// Edits name, description and redirect settings, or enables/disables the integration.
#[utoipa::path(patch, path = "/api/v1/integrations/{id}", tag = "integrations", request_body = UpdateIntegration,
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 200, body = IntegrationOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<ApiJson<UpdateIntegration>, crate::ApiError>,
) -> OpResult<ApiJson<IntegrationOut>> {
    let ApiJson(body) = body?;
    let status = body
        .status
        .as_deref()
        .map(|s| field(IntegrationStatus::parse(s.trim()), "status"))
        .transpose()?;
    let id_token_signed_response_alg = body
        .id_token_signed_response_alg
        .as_deref()
        .map(|a| match a.trim() {
            "" => Ok(None),
            a => field(SigningAlg::parse(a), "id_token_signed_response_alg").map(Some),
        })
        .transpose()?;
    let changes = IntegrationChanges {
        name: body.name,
        description: body.description,
        redirect_uri: body.redirect_uri,
        redirect_patterns: body.redirect_patterns,
        id_token_signed_response_alg,
        may_introspect: body.may_introspect,
        allowed_domains: body.allowed_domains,
    };
    let mut i = if changes == IntegrationChanges::default() {
        console::integrations::details(&state, &caller, &id).await?.integration
    } else {
        console::integrations::update(&state, &caller, &id, &changes).await?
    };
    if let Some(status) = status {
        i = console::integrations::set_status(&state, &caller, &id, status).await?;
    }
    let d = console::integrations::details(&state, &caller, &id).await?;
    Ok(ApiJson(
        IntegrationOut::new(&i, &d.subscriptions).last_used(d.last_used_at),
    ))
}

/// Deletes the integration with its credentials and subscriptions; its tokens are revoked. The
/// audit trail is kept.
#[utoipa::path(delete, path = "/api/v1/integrations/{id}", tag = "integrations",
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<StatusCode> {
    console::integrations::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tests a URL against the integration's default redirect URI and patterns.
#[utoipa::path(post, path = "/api/v1/integrations/{id}/redirect-check", tag = "integrations",
    request_body = RedirectCheck, params(("id" = String, Path, description = "Integration ID")),
    responses((status = 200, body = RedirectCheckResult), (status = 422, body = Problem)))]
pub async fn redirect_check(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<ApiJson<RedirectCheck>, crate::ApiError>,
) -> OpResult<ApiJson<RedirectCheckResult>> {
    let ApiJson(body) = body?;
    let i = console::integrations::details(&state, &caller, &id).await?.integration;
    Ok(ApiJson(check_redirect(&i, &body.uri)?))
}

/// The redirect test shared with the pages.
pub fn check_redirect(i: &Integration, uri: &str) -> OpResult<RedirectCheckResult> {
    let (Some(platform), Some(default)) = (i.platform, i.redirect_uri.as_deref()) else {
        return Err(ConsoleError::new(
            Kind::Invalid,
            "redirect_not_applicable",
            "Only OAuth integrations have redirect URIs.",
        ));
    };
    let rules = RedirectRules::parse(platform, default, &i.redirect_patterns).map_err(ConsoleError::internal)?;
    let matching = rules
        .explain(uri)
        .map_err(|e| ConsoleError(gatehouse_core::Error::rule(e)).on("uri"))?;
    let allowed = rules.allows(uri);
    Ok(RedirectCheckResult {
        allowed,
        default_matches: uri.trim() == uri
            && gatehouse_domain::redirect::RedirectUri::parse(uri, platform)
                .is_ok_and(|u| u.as_str() == rules.default.as_str()),
        matching_patterns: matching
            .into_iter()
            .filter_map(|n| i.redirect_patterns.get(n).cloned())
            .collect(),
    })
}

/// Starts migrating a Service Account (JWT) credential to OAuth Server-to-Server: it becomes
/// Server-to-Server in place — same client ID, secrets, technical account and subscriptions — and
/// its JWTs keep working until its JWT credential is deleted. Organization admins only.
#[utoipa::path(post, path = "/api/v1/integrations/{id}/migrate-to-server-to-server", tag = "integrations",
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 200, body = IntegrationOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn migrate(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<ApiJson<IntegrationOut>> {
    let i = console::migration::start(&state, &caller, &id).await?;
    let subs = console::integrations::details(&state, &caller, &id)
        .await?
        .subscriptions;
    Ok(ApiJson(IntegrationOut::new(&i, &subs)))
}

/// Ends a migration: deletes the JWT credential (its certificates), so JWTs are refused from now
/// on while the client secret keeps working.
#[utoipa::path(post, path = "/api/v1/integrations/{id}/delete-jwt-credential", tag = "integrations",
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 200, body = IntegrationOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn delete_jwt_credential(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<ApiJson<IntegrationOut>> {
    let i = console::migration::delete_jwt_credential(&state, &caller, &id).await?;
    let subs = console::integrations::details(&state, &caller, &id)
        .await?
        .subscriptions;
    Ok(ApiJson(IntegrationOut::new(&i, &subs)))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/integrations/{id}/migrate-to-server-to-server", post(migrate))
        .route(
            "/api/v1/integrations/{id}/delete-jwt-credential",
            post(delete_jwt_credential),
        )
        .route("/api/v1/integrations", get(list).post(create))
        .route("/api/v1/integrations/{id}", get(read).patch(update).delete(delete))
        .route("/api/v1/integrations/{id}/redirect-check", post(redirect_check))
}
