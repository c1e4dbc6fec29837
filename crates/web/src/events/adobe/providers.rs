//! Providers on the compatible surface: `GET /events/{org}/providers`,
//! `GET /events/providers/{id}`, `POST/PUT/DELETE /events/{org}/{project}/{workspace}/providers…`
//! and `GET /events/providermetadata`.

use axum::{
    Router,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
    routing::{get, post, put},
};
use gatehouse_core::events::providers as shared;
use gatehouse_core::events::service;
use gatehouse_domain::events::model::{GATEHOUSE_PROVIDER_ID, Provider};
use gatehouse_store::{Conn, EventStore};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{check_org, check_workspace, eventmetadata, hal, href, workspace_base};
use crate::{
    ApiError, AppState,
    events::auth::Caller,
    extract::{ApiJson, ApiQuery},
};

/// `provider_metadata` of custom providers, and of Gatehouse's own.
pub const CUSTOM_METADATA: &str = "3rd_party_custom_events";
pub const GATEHOUSE_METADATA: &str = "gatehouse";

fn metadata_of(p: &Provider) -> &'static str {
    if p.id == GATEHOUSE_PROVIDER_ID {
        GATEHOUSE_METADATA
    } else {
        CUSTOM_METADATA
    }
}

/// A provider as Adobe's API shows it, with its event metadata when `with_metadata`.
pub async fn view(
    state: &AppState,
    conn: &mut Conn,
    caller: &Caller,
    p: &Provider,
    with_metadata: bool,
) -> Result<Value, ApiError> {
    let mut links = json!({
        "rel:eventmetadata": href(state, &format!("/events/providers/{}/eventmetadata", p.id)),
        "self": href(state, &format!("/events/providers/{}", p.id)),
    });
    if gatehouse_core::policy::owns_provider(&caller.integration, p) {
        links["rel:update"] = href(
            state,
            &format!("{}/providers/{}", workspace_base(state, caller).await?, p.id),
        );
    }
    let mut v = json!({
        "id": p.id,
        "label": p.label,
        "description": p.description,
        "source": p.source(),
        "docs_url": p.docs_url,
        "publisher": p.owner_scope.clone().unwrap_or_else(|| "Gatehouse".to_owned()),
        "provider_metadata": metadata_of(p),
        "instance_id": p.instance_id,
        "event_delivery_format": "cloud_events",
        "_links": links,
    });
    if with_metadata {
        let types = conn.event_types_of(&p.id).await?;
        let caller_owns = gatehouse_core::policy::owns_provider(&caller.integration, p);
        let base = workspace_base(state, caller).await?;
        let list: Vec<Value> = types
            .iter()
            .map(|t| eventmetadata::view(state, &base, t, caller_owns))
            .collect();
        v["_embedded"] = json!({ "eventmetadata": list });
    }
    Ok(v)
}

/// The list's filters. `providerMetadataIds` may repeat, so the query is read as pairs.
#[derive(Debug, Default)]
struct ListQuery {
    eventmetadata: bool,
    provider_metadata_id: Option<String>,
    instance_id: Option<String>,
    provider_metadata_ids: Vec<String>,
}

impl ListQuery {
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?;
        let mut q = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "eventmetadata" => q.eventmetadata = v == "true",
                "providerMetadataId" => q.provider_metadata_id = Some(v),
                "instanceId" => q.instance_id = Some(v),
                "providerMetadataIds" => q.provider_metadata_ids.extend(v.split(',').map(str::to_owned)),
                _ => {}
            }
        }
        Ok(q)
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    check_org(&caller, &org)?;
    let q = ListQuery::parse(raw.as_deref())?;
    let mut conn = state.store.conn().await?;
    let all = conn.list_providers(Some(&caller.scope())).await?;
    let mut out = Vec::new();
    for p in &all {
        let meta = metadata_of(p);
        if q.provider_metadata_id.as_deref().is_some_and(|m| m != meta) {
            continue;
        }
        if !q.provider_metadata_ids.is_empty() && !q.provider_metadata_ids.iter().any(|m| m == meta) {
            continue;
        }
        if q.instance_id
            .as_deref()
            .is_some_and(|i| Some(i) != p.instance_id.as_deref())
        {
            continue;
        }
        out.push(view(&state, &mut conn, &caller, p, q.eventmetadata).await?);
    }
    Ok(hal(
        StatusCode::OK,
        json!({
            "_links": { "self": href(&state, &format!("/events/{org}/providers")) },
            "_embedded": { "providers": out },
        }),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct OneQuery {
    eventmetadata: Option<bool>,
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<OneQuery>,
) -> Result<Response, ApiError> {
    let mut conn = state.store.conn().await?;
    let p = service::visible_provider(&mut conn, &caller, &id).await?;
    Ok(hal(
        StatusCode::OK,
        view(&state, &mut conn, &caller, &p, q.eventmetadata.unwrap_or(false)).await?,
    ))
}

/// Adobe's create/update model; fields Gatehouse does not use are accepted and ignored.
#[derive(Debug, Deserialize)]
struct Input {
    label: String,
    #[serde(default)]
    description: Option<String>,
    docs_url: Option<String>,
    instance_id: Option<String>,
}

impl Input {
    fn shared(self) -> shared::ProviderInput {
        shared::ProviderInput {
            label: self.label,
            description: self.description.unwrap_or_default(),
            docs_url: self.docs_url,
            instance_id: self.instance_id,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, project, workspace)): Path<(String, String, String)>,
    ApiJson(input): ApiJson<Input>,
) -> Result<Response, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    let p = shared::create(&state, &caller, &input.shared()).await?;
    let mut conn = state.store.conn().await?;
    Ok(hal(
        StatusCode::CREATED,
        view(&state, &mut conn, &caller, &p, false).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, project, workspace, id)): Path<(String, String, String, String)>,
    ApiJson(input): ApiJson<Input>,
) -> Result<Response, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    let p = shared::update(&state, &caller, &id, &input.shared()).await?;
    let mut conn = state.store.conn().await?;
    Ok(hal(StatusCode::OK, view(&state, &mut conn, &caller, &p, false).await?))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, project, workspace, id)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    shared::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn provider_metadata(State(state): State<AppState>, _caller: Caller) -> Response {
    hal(
        StatusCode::OK,
        json!({
            "_links": { "self": href(&state, "/events/providermetadata") },
            "_embedded": { "providermetadata": [
                {
                    "id": CUSTOM_METADATA,
                    "group": "Custom",
                    "label": "Custom events",
                    "description": "Events your integrations publish.",
                    "has_multiple_providers": true,
                },
                {
                    "id": GATEHOUSE_METADATA,
                    "group": "Gatehouse",
                    "label": "Gatehouse",
                    "description": "Changes to organizations, integrations and their credentials.",
                    "has_multiple_providers": false,
                },
            ]},
        }),
    )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events/{org}/providers", get(list))
        .route("/events/providers/{id}", get(get_one))
        .route("/events/providermetadata", get(provider_metadata))
        .route("/events/{org}/{project}/{workspace}/providers", post(create))
        .route(
            "/events/{org}/{project}/{workspace}/providers/{id}",
            put(update).delete(delete),
        )
}
