//! Credentials in a workspace on Adobe's Console API: list, create (OAuth Server-to-Server, JWT
//! `entp` with its certificate, OAuth `adobeId`), subscribe to services, delete; a credential's
//! details, its client secrets (listed by UUID, added — the value in that answer only — and
//! removed) and its certificate bindings.

use axum::{
    Router,
    extract::{Multipart, Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{delete, get, post, put},
};
use gatehouse_core::{
    Kind,
    console::{self, integrations as uc},
};
use gatehouse_domain::{
    console::{integration::IntegrationInput, workspace_file::adobe_integration_type},
    integration::{Integration, IntegrationType, Owner, Platform},
};
use gatehouse_store::ProjectStore;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ConsoleApiCaller, adobe_date, workspace_in};
use crate::{
    AppState,
    auth::Caller,
    error::{ConsoleError, OpResult},
    extract::{ApiJson, ApiJsonList},
};

/// Adobe's `flow_type` of a credential: `entp` for credentials of the organization itself,
/// `adobeid` for user sign-in (and API keys).
fn flow_type(i: &Integration) -> &'static str {
    match i.integration_type {
        IntegrationType::ServiceAccount | IntegrationType::ServerToServer => "entp",
        IntegrationType::Oauth | IntegrationType::ApiKey => "adobeid",
    }
}

/// The credential `id` of organization `org`, managed by the caller.
async fn credential_in(state: &AppState, caller: &Caller, org: &str, id: &str) -> Result<Integration, ConsoleError> {
    let d = uc::details(state, caller, id).await?;
    if d.integration.org_id() != Some(org) {
        return Err(ConsoleError(gatehouse_core::Error::not_found("credential")));
    }
    Ok(d.integration)
}

type WsPath = (String, String, String);

/// `GET …/workspaces/{workspaceId}/credentials`.
async fn list(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace)): Path<WsPath>,
) -> OpResult<ApiJson<Vec<Value>>> {
    let mut conn = state.store.conn().await?;
    let (_, w) = workspace_in(&mut conn, &caller, &org, &project, &workspace).await?;
    let all = conn.integrations_of_workspace(&w.id).await?;
    Ok(ApiJson(
        gatehouse_core::policy::visible_integrations(&caller.principal, all)
            .iter()
            .map(|i| {
                json!({
                    "id_workspace": w.id,
                    "id_integration": i.id,
                    "flow_type": flow_type(i),
                    "integration_type": adobe_integration_type(i),
                    "name": i.name,
                })
            })
            .collect(),
    ))
}

fn created(i: &Integration, secret: Option<String>) -> Value {
    let mut v = json!({ "id": i.id, "apiKey": i.client_id.as_str(), "orgId": i.org_id() });
    if let Some(t) = &i.technical_account_id {
        v["technicalAccountId"] = json!(t);
    }
    // Adobe shows secrets again on request; Gatehouse keeps only digests, so the first secret is
    // in this answer only.
    if let Some(s) = secret {
        v["clientSecret"] = json!(s);
    }
    v
}

async fn create_in(
    state: &AppState,
    caller: &Caller,
    org: &str,
    workspace: &str,
    mut input: IntegrationInput,
) -> Result<(Integration, Option<String>), ConsoleError> {
    input.owner = Owner::Organization(org.to_owned());
    input.workspace = Some(workspace.to_owned());
    Ok(uc::create(state, caller, input).await?)
}

#[derive(Debug, Deserialize)]
struct S2sBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

/// `POST …/credentials/oauth-server-to-server`.
async fn create_server_to_server(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace)): Path<WsPath>,
    body: Result<ApiJson<S2sBody>, crate::ApiError>,
) -> OpResult<ApiJson<Value>> {
    let ApiJson(body) = body?;
    workspace_in(&mut state.store.conn().await?, &caller, &org, &project, &workspace).await?;
    let input = IntegrationInput {
        name: body.name,
        description: body.description.unwrap_or_default(),
        integration_type: IntegrationType::ServerToServer,
        platform: None,
        owner: Owner::Organization(org.clone()),
        redirect_uri: None,
        redirect_patterns: Vec::new(),
        workspace: None,
    };
    let (i, secret) = create_in(&state, &caller, &org, &workspace, input).await?;
    Ok(ApiJson(created(&i, secret)))
}

/// `POST …/credentials/entp` (multipart: `certificate`, `name`, `description`): a Service Account
/// (JWT) credential with its public key certificate.
async fn create_jwt(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace)): Path<WsPath>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> OpResult<ApiJson<Value>> {
    workspace_in(&mut state.store.conn().await?, &caller, &org, &project, &workspace).await?;
    let form = read_form(multipart).await?;
    let certificate = form.certificate.ok_or_else(|| missing("certificate"))?;
    let input = IntegrationInput {
        name: form.name.unwrap_or_default(),
        description: form.description.unwrap_or_default(),
        integration_type: IntegrationType::ServiceAccount,
        platform: None,
        owner: Owner::Organization(org.clone()),
        redirect_uri: None,
        redirect_patterns: Vec::new(),
        workspace: None,
    };
    // The certificate is checked before anything is created, so a bad one leaves nothing behind.
    gatehouse_domain::certificate::parse(&certificate, state.now())
        .map_err(|e| ConsoleError(gatehouse_core::Error::from(e)).on("certificate"))?;
    let (i, secret) = create_in(&state, &caller, &org, &workspace, input).await?;
    console::certificates::upload(&state, &caller, &i.id, &certificate).await?;
    Ok(ApiJson(created(&i, secret)))
}

/// The parts of a certificate upload (public for the fuzz targets).
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct CertForm {
    pub certificate: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
}

fn missing(field: &str) -> ConsoleError {
    ConsoleError::new(
        Kind::Invalid,
        "missing_field",
        format!("Send the {field} as a multipart/form-data part named \"{field}\"."),
    )
    .on(field)
}

#[doc(hidden)]
pub async fn read_form(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<CertForm, ConsoleError> {
    let mut multipart = multipart.map_err(|e| {
        ConsoleError::new(
            Kind::Malformed,
            "multipart_required",
            format!("Send multipart/form-data with a \"certificate\" part (the PEM file): {e}"),
        )
    })?;
    let mut form = CertForm::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ConsoleError::new(Kind::Malformed, "bad_multipart", e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let text = field
            .text()
            .await
            .map_err(|e| ConsoleError::new(Kind::Malformed, "bad_multipart", e.body_text()))?;
        match name.as_str() {
            "certificate" => form.certificate = Some(text),
            "name" => form.name = Some(text),
            "description" => form.description = Some(text),
            _ => {}
        }
    }
    Ok(form)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdobeIdBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    platform: String,
    #[serde(default)]
    redirect_uri_list: Vec<String>,
    #[serde(default)]
    default_redirect_uri: Option<String>,
}

/// `POST …/credentials/adobeId`: an OAuth credential (`WebApp`, `SinglePageApp`, `NativeApp`) or
/// an API key (`apiKey`).
async fn create_adobe_id(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace)): Path<WsPath>,
    body: Result<ApiJson<AdobeIdBody>, crate::ApiError>,
) -> OpResult<ApiJson<Value>> {
    let ApiJson(body) = body?;
    workspace_in(&mut state.store.conn().await?, &caller, &org, &project, &workspace).await?;
    let (integration_type, platform) = match body.platform.as_str() {
        "WebApp" => (IntegrationType::Oauth, Some(Platform::Web)),
        "SinglePageApp" => (IntegrationType::Oauth, Some(Platform::Spa)),
        "NativeApp" => (IntegrationType::Oauth, Some(Platform::Native)),
        "apiKey" => (IntegrationType::ApiKey, None),
        other => {
            return Err(ConsoleError::new(
                Kind::Invalid,
                "invalid_platform",
                format!("platform {other:?} must be one of WebApp, SinglePageApp, NativeApp, apiKey"),
            )
            .on("platform"));
        }
    };
    let oauth = integration_type == IntegrationType::Oauth;
    let input = IntegrationInput {
        name: body.name,
        description: body.description.unwrap_or_default(),
        integration_type,
        platform,
        owner: Owner::Organization(org.clone()),
        redirect_uri: body.default_redirect_uri.filter(|_| oauth),
        redirect_patterns: if oauth { body.redirect_uri_list } else { Vec::new() },
        workspace: None,
    };
    let (i, secret) = create_in(&state, &caller, &org, &workspace, input).await?;
    Ok(ApiJson(created(&i, secret)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceInfo {
    sdk_code: String,
}

async fn subscribe(
    state: &AppState,
    caller: &Caller,
    i: &Integration,
    list: &[ServiceInfo],
) -> OpResult<ApiJson<Value>> {
    let mut codes = Vec::new();
    for s in list {
        // Every scope the service offers, as Adobe subscribes a credential to a whole API; a
        // subscription that exists already is widened to all of them.
        match console::subscriptions::subscribe(state, caller, &i.id, &s.sdk_code, &[], false).await {
            Err(e) if e.code == "already_subscribed" => {
                console::subscriptions::subscribe(state, caller, &i.id, &s.sdk_code, &[], true).await?;
            }
            other => {
                other?;
            }
        }
        codes.push(s.sdk_code.clone());
    }
    Ok(ApiJson(json!({ "sdkList": codes })))
}

/// `PUT …/workspaces/{workspaceId}/credentials/{credentialType}/{credentialId}/services`.
async fn subscribe_in_workspace(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace, _kind, credential)): Path<(String, String, String, String, String)>,
    body: Result<ApiJsonList<ServiceInfo>, crate::ApiError>,
) -> OpResult<ApiJson<Value>> {
    let ApiJsonList(body) = body?;
    let i = credential_in(&state, &caller, &org, &credential).await?;
    let (_, w) = workspace_in(&mut state.store.conn().await?, &caller, &org, &project, &workspace).await?;
    if i.workspace_id != w.id {
        return Err(gatehouse_core::Error::not_found("credential").into());
    }
    subscribe(&state, &caller, &i, &body).await
}

/// `PUT /console/organizations/{orgId}/credentials/oauth-server-to-server/{credentialId}/services`.
async fn subscribe_server_to_server(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, credential)): Path<(String, String)>,
    body: Result<ApiJsonList<ServiceInfo>, crate::ApiError>,
) -> OpResult<ApiJson<Value>> {
    let ApiJsonList(body) = body?;
    let i = credential_in(&state, &caller, &org, &credential).await?;
    subscribe(&state, &caller, &i, &body).await
}

/// `DELETE …/workspaces/{workspaceId}/credentials/{credentialId}`: ends its tokens.
async fn remove(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace, credential)): Path<(String, String, String, String)>,
) -> OpResult<ApiJson<Value>> {
    let i = credential_in(&state, &caller, &org, &credential).await?;
    let (_, w) = workspace_in(&mut state.store.conn().await?, &caller, &org, &project, &workspace).await?;
    if i.workspace_id != w.id {
        return Err(gatehouse_core::Error::not_found("credential").into());
    }
    uc::delete(&state, &caller, &i.id).await?;
    Ok(ApiJson(json!({})))
}

/// `GET /console/organizations/{orgId}/integrations/{integrationId}`.
async fn integration(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, credential)): Path<(String, String)>,
) -> OpResult<ApiJson<Value>> {
    credential_in(&state, &caller, &org, &credential).await?;
    let d = uc::details(&state, &caller, &credential).await?;
    let i = &d.integration;
    let catalog = console::catalog::list(&state).await?;
    let props: Vec<Value> = d
        .subscriptions
        .iter()
        .map(|s| {
            let name = catalog
                .iter()
                .find(|c| c.code == s.service_code)
                .map_or(s.service_code.as_str(), |c| c.name.as_str());
            json!({ "sdkCode": s.service_code.as_str(), "name": name, "roles": [], "scopes": s.scopes,
                    "licenseConfigs": [] })
        })
        .collect();
    Ok(ApiJson(json!({
        "id": i.id,
        "name": i.name,
        "description": i.description,
        "orgId": i.org_id(),
        "type": flow_type(i),
        "apikey": i.client_id.as_str(),
        "technicalAccountId": i.technical_account_id,
        "technicalAccountEmail": i.technical_account_email,
        "platform": i.platform.map(Platform::as_str),
        "production": false,
        "readOnly": false,
        "redirectUriList": i.redirect_patterns,
        "defaultRedirectUri": i.redirect_uri,
        "sdkList": d.subscriptions.iter().map(|s| s.service_code.as_str()).collect::<Vec<_>>(),
        "serviceProperties": props,
        "status": if i.status == gatehouse_domain::integration::IntegrationStatus::Active { "ENABLED" } else { "DISABLED" },
        "createdDate": adobe_date(i.created_at),
        "lastModifiedDate": adobe_date(i.updated_at),
    })))
}

/// `GET …/projects_workspaces/credentials/{credentialId}`: where a credential lives.
async fn placement(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, credential)): Path<(String, String)>,
) -> OpResult<ApiJson<Value>> {
    let i = credential_in(&state, &caller, &org, &credential).await?;
    let w = state
        .store
        .conn()
        .await?
        .workspace_by_id(&i.workspace_id)
        .await?
        .ok_or_else(|| gatehouse_core::Error::not_found("workspace"))?;
    Ok(ApiJson(
        json!({ "projectId": w.project_id, "workspaceId": w.id, "credentialId": i.id }),
    ))
}

fn secret_json(s: &gatehouse_domain::integration::StoredSecret) -> Value {
    json!({
        "uuid": s.id,
        "created_at": adobe_date(s.created_at),
        "expires_at": s.expires_at.map(adobe_date),
        "hint": s.hint,
        "secret_usages": s.last_used_at.map(|t| vec![json!({ "last_used_at": adobe_date(t), "grant_type": "client_credentials" })]).unwrap_or_default(),
    })
}

/// `GET /console/organizations/{orgId}/credentials/{credentialId}/secrets`: never the values.
async fn list_secrets(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, credential)): Path<(String, String)>,
) -> OpResult<ApiJson<Value>> {
    let i = credential_in(&state, &caller, &org, &credential).await?;
    let d = uc::details(&state, &caller, &i.id).await?;
    let active: Vec<Value> = d
        .secrets
        .iter()
        .filter(|s| s.revoked_at.is_none() && s.expires_at.is_none_or(|e| e > state.now()))
        .map(secret_json)
        .collect();
    Ok(ApiJson(
        json!({ "client_id": i.client_id.as_str(), "client_secrets": active }),
    ))
}

/// `POST …/secrets`: a new secret, its value in this answer only (at most two are active).
async fn add_secret(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, credential)): Path<(String, String)>,
) -> OpResult<ApiJson<Value>> {
    let i = credential_in(&state, &caller, &org, &credential).await?;
    let (stored, plaintext) = console::secrets::add(&state, &caller, &i.id, None).await?;
    Ok(ApiJson(json!({
        "uuid": stored.id,
        "client_secret": plaintext,
        "created_at": adobe_date(stored.created_at),
        "expires_at": stored.expires_at.map(adobe_date),
        "expires_at_str": stored.expires_at.map(adobe_date),
    })))
}

/// `DELETE …/secrets/{secretId}` (never the last one).
async fn delete_secret(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, credential, secret)): Path<(String, String, String)>,
) -> OpResult<ApiJson<Value>> {
    let i = credential_in(&state, &caller, &org, &credential).await?;
    console::secrets::revoke(&state, &caller, &i.id, &secret).await?;
    Ok(ApiJson(json!({})))
}

fn binding_json(i: &Integration, c: &gatehouse_domain::integration::StoredCertificate) -> Value {
    json!({
        "bindingId": c.id,
        "orgId": i.org_id(),
        "technicalAccountId": i.technical_account_id,
        "certificateFingerprint": c.fingerprint,
        "notAfter": c.not_after * 1000,
    })
}

/// `GET /console/organizations/{orgId}/integrations/entp/{integrationId}/bindings`.
async fn bindings(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, credential)): Path<(String, String)>,
) -> OpResult<ApiJson<Vec<Value>>> {
    let i = credential_in(&state, &caller, &org, &credential).await?;
    let d = uc::details(&state, &caller, &i.id).await?;
    Ok(ApiJson(
        d.certificates
            .iter()
            .filter(|c| c.revoked_at.is_none())
            .map(|c| binding_json(&i, c))
            .collect(),
    ))
}

/// `POST …/bindings` (multipart `certificate`): adds a certificate to a JWT credential.
async fn bind(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, credential)): Path<(String, String)>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> OpResult<impl IntoResponse> {
    let i = credential_in(&state, &caller, &org, &credential).await?;
    let form = read_form(multipart).await?;
    let pem = form.certificate.ok_or_else(|| missing("certificate"))?;
    let c = console::certificates::upload(&state, &caller, &i.id, &pem).await?;
    Ok((StatusCode::OK, ApiJson(json!([binding_json(&i, &c)]))))
}

/// `POST …/credentials/entp/{credentialId}/certificate/generateAndAssign`: a new key pair whose
/// certificate is bound to the JWT credential, answered as Adobe does — a zip of
/// `certificate_pub.crt` and `private.key`. Gatehouse keeps only the certificate.
async fn generate_and_assign(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, project, workspace, credential)): Path<(String, String, String, String)>,
) -> OpResult<axum::response::Response> {
    let i = credential_in(&state, &caller, &org, &credential).await?;
    let (_, w) = workspace_in(&mut state.store.conn().await?, &caller, &org, &project, &workspace).await?;
    if i.workspace_id != w.id {
        return Err(gatehouse_core::Error::not_found("credential").into());
    }
    let (stored, private_key_pem) = console::certificates::generate(&state, &caller, &i.id).await?;
    let zip = key_pair_zip(&stored.pem, &private_key_pem).map_err(ConsoleError::internal)?;
    Ok((
        StatusCode::OK,
        [
            (axum::http::header::CONTENT_TYPE, "application/zip"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"config.zip\"",
            ),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        zip,
    )
        .into_response())
}

fn key_pair_zip(certificate: &str, private_key: &str) -> zip::result::ZipResult<Vec<u8>> {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("certificate_pub.crt", options)?;
    z.write_all(certificate.as_bytes())?;
    z.start_file("private.key", options)?;
    z.write_all(private_key.as_bytes())?;
    Ok(z.finish()?.into_inner())
}

/// `DELETE …/bindings/{bindingId}`.
async fn unbind(
    State(state): State<AppState>,
    caller: ConsoleApiCaller,
    Path((org, credential, binding)): Path<(String, String, String)>,
) -> OpResult<ApiJson<Value>> {
    let i = credential_in(&state, &caller, &org, &credential).await?;
    console::certificates::remove(&state, &caller, &i.id, &binding).await?;
    Ok(ApiJson(json!({})))
}

pub fn router() -> Router<AppState> {
    const WS: &str = "/console/organizations/{org}/projects/{project}/workspaces/{workspace}";
    Router::new()
        .route(&format!("{WS}/credentials"), get(list))
        .route(
            &format!("{WS}/credentials/oauth-server-to-server"),
            post(create_server_to_server),
        )
        .route(&format!("{WS}/credentials/entp"), post(create_jwt))
        .route(&format!("{WS}/credentials/adobeId"), post(create_adobe_id))
        .route(
            &format!("{WS}/credentials/entp/{{credential}}/certificate/generateAndAssign"),
            post(generate_and_assign),
        )
        .route(&format!("{WS}/credentials/{{credential}}"), delete(remove))
        .route(
            &format!("{WS}/credentials/{{kind}}/{{credential}}/services"),
            put(subscribe_in_workspace),
        )
        .route(
            "/console/organizations/{org}/credentials/oauth-server-to-server/{credential}/services",
            put(subscribe_server_to_server),
        )
        .route(
            "/console/organizations/{org}/credentials/{credential}/secrets",
            get(list_secrets).post(add_secret),
        )
        .route(
            "/console/organizations/{org}/credentials/{credential}/secrets/{secret}",
            delete(delete_secret),
        )
        .route(
            "/console/organizations/{org}/integrations/{credential}",
            get(integration),
        )
        .route(
            "/console/organizations/{org}/integrations/entp/{credential}/bindings",
            get(bindings).post(bind),
        )
        .route(
            "/console/organizations/{org}/integrations/entp/{credential}/bindings/{binding}",
            delete(unbind),
        )
        .route(
            "/console/organizations/{org}/projects_workspaces/credentials/{credential}",
            get(placement),
        )
}
