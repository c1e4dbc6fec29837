//! Event metadata (event types) on the compatible surface:
//! `GET /events/providers/{id}/eventmetadata[/{code}[/sample_event]]` and
//! `POST/PUT/DELETE /events/{org}/{project}/{workspace}/providers/{id}/eventmetadata[/{code}]`.
//! Adobe carries a sample as `sample_event_template`, base64 of its JSON.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post, put},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use gatehouse_core::events::event_types as shared;
use gatehouse_core::events::service;
use gatehouse_domain::events::model::EventType;
use gatehouse_store::EventStore;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{check_workspace, hal, href, workspace_base};
use crate::{ApiError, AppState, events::auth::Caller, extract::ApiJson};

/// An event type as Adobe's API shows it.
/// `base` is the caller's [`workspace_base`], for the update link of the types it owns.
pub fn view(state: &AppState, base_path: &str, t: &EventType, caller_owns: bool) -> Value {
    let base = format!("/events/providers/{}/eventmetadata/{}", t.provider_id, t.event_code);
    let mut links = json!({
        "rel:sample_event": href(state, &format!("{base}/sample_event")),
        "self": href(state, &base),
    });
    if caller_owns {
        links["rel:update"] = href(
            state,
            &format!("{base_path}/providers/{}/eventmetadata/{}", t.provider_id, t.event_code),
        );
    }
    let mut v = json!({
        "event_code": t.event_code.as_str(),
        "label": t.label,
        "description": t.description,
        "_links": links,
    });
    if let Some(sample) = &t.sample {
        v["sample_event_template"] = json!(STANDARD.encode(sample.to_string()));
    }
    v
}

async fn list(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let mut conn = state.store.conn().await?;
    let p = service::visible_provider(&mut conn, &caller, &id).await?;
    let owns = gatehouse_core::policy::owns_provider(&caller.integration, &p);
    let types = conn.event_types_of(&id).await?;
    let base = workspace_base(&state, &caller).await?;
    Ok(hal(
        StatusCode::OK,
        json!({
            "_links": { "self": href(&state, &format!("/events/providers/{id}/eventmetadata")) },
            "_embedded": { "eventmetadata": types.iter().map(|t| view(&state, &base, t, owns)).collect::<Vec<_>>() },
        }),
    ))
}

async fn one(state: &AppState, caller: &Caller, id: &str, code: &str) -> Result<(EventType, bool), ApiError> {
    let mut conn = state.store.conn().await?;
    let p = service::visible_provider(&mut conn, caller, id).await?;
    let t = conn
        .event_type(id, code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("The provider has no event metadata {code:?}.")))?;
    Ok((t, gatehouse_core::policy::owns_provider(&caller.integration, &p)))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, code)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (t, owns) = one(&state, &caller, &id, &code).await?;
    Ok(hal(
        StatusCode::OK,
        view(&state, &workspace_base(&state, &caller).await?, &t, owns),
    ))
}

async fn sample(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, code)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (t, _) = one(&state, &caller, &id, &code).await?;
    let sample = t
        .sample
        .ok_or_else(|| ApiError::not_found("This event type has no sample."))?;
    Ok(hal(
        StatusCode::OK,
        json!({ "format": "cloud_events", "sample_payload": sample.to_string() }),
    ))
}

/// Adobe's input model; unknown fields are accepted and ignored.
#[derive(Debug, Deserialize)]
struct Input {
    event_code: Option<String>,
    label: String,
    #[serde(default)]
    description: Option<String>,
    sample_event_template: Option<String>,
}

impl Input {
    fn shared(self) -> Result<shared::EventTypeInput, ApiError> {
        let sample = match self.sample_event_template.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(b64) => {
                let bytes = STANDARD.decode(b64).map_err(|_| {
                    ApiError::bad_request(
                        "invalid_sample",
                        "sample_event_template must be base64 of a JSON document.",
                    )
                })?;
                Some(serde_json::from_slice::<Value>(&bytes).map_err(|_| {
                    ApiError::bad_request(
                        "invalid_sample",
                        "sample_event_template must be base64 of a JSON document.",
                    )
                })?)
            }
        };
        Ok(shared::EventTypeInput {
            event_code: self.event_code,
            label: self.label,
            description: self.description.unwrap_or_default(),
            sample,
        })
    }
}

type WsPath = (String, String, String, String);

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, project, workspace, id)): Path<WsPath>,
    ApiJson(input): ApiJson<Input>,
) -> Result<Response, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    let t = shared::create(&state, &caller, &id, &input.shared()?).await?;
    Ok(hal(
        StatusCode::CREATED,
        view(&state, &workspace_base(&state, &caller).await?, &t, true),
    ))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, project, workspace, id, code)): Path<(String, String, String, String, String)>,
    ApiJson(input): ApiJson<Input>,
) -> Result<Response, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    let t = shared::update(&state, &caller, &id, &code, &input.shared()?).await?;
    Ok(hal(
        StatusCode::OK,
        view(&state, &workspace_base(&state, &caller).await?, &t, true),
    ))
}

async fn delete_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, project, workspace, id, code)): Path<(String, String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    shared::delete(&state, &caller, &id, Some(&code)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_all(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, project, workspace, id)): Path<WsPath>,
) -> Result<StatusCode, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    shared::delete(&state, &caller, &id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events/providers/{id}/eventmetadata", get(list))
        .route("/events/providers/{id}/eventmetadata/{code}", get(get_one))
        .route("/events/providers/{id}/eventmetadata/{code}/sample_event", get(sample))
        .route(
            "/events/{org}/{project}/{workspace}/providers/{id}/eventmetadata",
            post(create).delete(delete_all),
        )
        .route(
            "/events/{org}/{project}/{workspace}/providers/{id}/eventmetadata/{code}",
            put(update).delete(delete_one),
        )
}
