//! Registrations on the compatible surface: `…/{org}/{project}/{workspace}/registrations[/{id}]`,
//! `GET /events/{org}/registrations` (paginated), the owner's `…/registrations/{id}/secret`, and
//! the journal at `/events/organizations/{org}/integrations/{integration}/{registration}`.

use gatehouse_core::events::service::{self, EventsService, RegistrationInput};
use std::sync::Arc;

use axum::{
    Extension, Router,
    extract::{Path, State},
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use gatehouse_domain::events::{
    cloudevent::format_time,
    model::{DeliveryMethod, Registration, RegistrationStatus},
};
use gatehouse_store::{Conn, EventStore, IntegrationStore};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{check_org, check_workspace, hal, href, placement};
use crate::{
    ApiError, AppState,
    events::{
        auth::Caller,
        journal::{self, JournalParams},
    },
    extract::{ApiJson, ApiQuery},
};

/// The journal path of a registration on this surface.
pub fn journal_path(org: &str, integration_id: &str, registration_id: &str) -> String {
    format!("/events/organizations/{org}/integrations/{integration_id}/{registration_id}")
}

/// Adobe's numeric `id`: a stable number derived from the registration ID (below 2^53, so
/// JavaScript reads it exactly).
fn numeric_id(id: &str) -> u64 {
    let hex: String = id.chars().filter(char::is_ascii_hexdigit).take(13).collect();
    u64::from_str_radix(&hex, 16).unwrap_or(0)
}

fn webhook_status(r: &Registration) -> &'static str {
    match r.status {
        RegistrationStatus::Active => "verified",
        RegistrationStatus::Unverified => "hook_unreachable",
        RegistrationStatus::Unstable => "unstable",
        RegistrationStatus::Disabled => "disabled",
    }
}

/// A registration as Adobe's API shows it.
pub async fn view(
    state: &AppState,
    conn: &mut Conn,
    org: &str,
    client_id: &str,
    r: &Registration,
) -> Result<Value, ApiError> {
    let mut interests = Vec::with_capacity(r.events_of_interest.len());
    for e in &r.events_of_interest {
        let provider = conn.provider_by_id(&e.provider_id).await?;
        let t = conn.event_type(&e.provider_id, e.event_code.as_str()).await?;
        interests.push(json!({
            "event_code": e.event_code.as_str(),
            "event_label": t.as_ref().map(|t| t.label.clone()),
            "event_description": t.as_ref().map(|t| t.description.clone()),
            "provider_id": e.provider_id,
            "provider": e.provider_id,
            "provider_label": provider.as_ref().map(|p| p.label.clone()),
            "event_delivery_format": "cloud_events",
        }));
    }
    let (project_id, workspace_id) = match conn.integration_by_id(&r.integration_id).await? {
        Some(i) => placement(state, &i).await?,
        None => return Err(ApiError::not_found("registration")),
    };
    let base = format!("/events/{org}/{project_id}/{workspace_id}/registrations/{}", r.id);
    Ok(json!({
        "id": numeric_id(&r.id),
        "registration_id": r.id,
        "name": r.name,
        "description": r.description,
        "client_id": client_id,
        "events_of_interest": interests,
        "webhook_status": webhook_status(r),
        "status_reason": r.status_reason,
        "created_date": format_time(r.created_at),
        "updated_date": format_time(r.updated_at),
        "consumer_id": org,
        "project_id": project_id,
        "workspace_id": workspace_id,
        "webhook_url": r.webhook_url,
        "runtime_action": null,
        "delivery_type": r.delivery_method.as_str(),
        "enabled": r.status != RegistrationStatus::Disabled,
        "subscriber_filters": [],
        "_links": {
            "rel:events": href(state, &journal_path(org, &r.integration_id, &r.id)),
            "rel:trace": href(state, &format!("/api/v1/events/registrations/{}/attempts", r.id)),
            "self": href(state, &base),
        },
    }))
}

/// Adobe's create and update models (`client_id` only on create); unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct Input {
    client_id: Option<String>,
    name: String,
    #[serde(default)]
    description: Option<String>,
    webhook_url: Option<String>,
    events_of_interest: Vec<Interest>,
    delivery_type: String,
    enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Interest {
    provider_id: String,
    event_code: String,
}

impl Input {
    fn shared(self) -> Result<RegistrationInput, ApiError> {
        Ok(RegistrationInput {
            name: self.name,
            description: self.description.unwrap_or_default(),
            delivery_method: DeliveryMethod::parse(&self.delivery_type)?,
            webhook_url: self.webhook_url,
            events_of_interest: self
                .events_of_interest
                .into_iter()
                .map(|e| (e.provider_id, e.event_code))
                .collect(),
            enabled: self.enabled.unwrap_or(true),
        })
    }
}

/// A 409 carrying `x-conflicting-id` when the name is taken.
async fn with_conflicting_id(state: &AppState, caller: &Caller, name: &str, e: ApiError) -> Response {
    let mut res = e.clone().into_response();
    if e.code == "name_taken"
        && let Ok(mut conn) = state.store.conn().await
        && let Ok(regs) = conn.registrations_of_integration(caller.id()).await
        && let Some(same) = regs.iter().find(|r| r.name == name.trim())
        && let Ok(v) = HeaderValue::from_str(&same.id)
    {
        res.headers_mut().insert("x-conflicting-id", v);
    }
    res
}

type WsPath = (String, String, String);

async fn create(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    caller: Caller,
    Path((org, project, workspace)): Path<WsPath>,
    ApiJson(input): ApiJson<Input>,
) -> Result<Response, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    if input.client_id.as_deref().is_some_and(|c| c != caller.client_id()) {
        return Err(ApiError::forbidden(
            "client_id must be your integration's client ID (events are delivered to it).",
        ));
    }
    let name = input.name.clone();
    let (r, secret) = match service::create_registration(&svc, &state, &caller, input.shared()?).await {
        Ok(ok) => ok,
        Err(e) => return Ok(with_conflicting_id(&state, &caller, &name, e.into()).await),
    };
    let mut conn = state.store.conn().await?;
    let mut body = view(&state, &mut conn, &org, caller.client_id(), &r).await?;
    body["webhook_secret"] = json!(secret);
    Ok(hal(StatusCode::CREATED, body))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, project, workspace)): Path<WsPath>,
) -> Result<Response, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    let mut conn = state.store.conn().await?;
    let regs = conn.registrations_of_integration(caller.id()).await?;
    let mut out = Vec::with_capacity(regs.len());
    for r in &regs {
        out.push(view(&state, &mut conn, &org, caller.client_id(), r).await?);
    }
    Ok(hal(
        StatusCode::OK,
        json!({
            "_links": { "self": href(&state, &format!("/events/{org}/{project}/{workspace}/registrations")) },
            "_embedded": { "registrations": out },
        }),
    ))
}

async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, project, workspace, id)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    let mut conn = state.store.conn().await?;
    let r = service::owned_registration(&mut conn, &caller, &id).await?;
    Ok(hal(
        StatusCode::OK,
        view(&state, &mut conn, &org, caller.client_id(), &r).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    caller: Caller,
    Path((org, project, workspace, id)): Path<(String, String, String, String)>,
    ApiJson(input): ApiJson<Input>,
) -> Result<Response, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    let name = input.name.clone();
    let r = match service::update_registration(&svc, &state, &caller, &id, input.shared()?).await {
        Ok(r) => r,
        Err(e) => return Ok(with_conflicting_id(&state, &caller, &name, e.into()).await),
    };
    let mut conn = state.store.conn().await?;
    Ok(hal(
        StatusCode::OK,
        view(&state, &mut conn, &org, caller.client_id(), &r).await?,
    ))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, project, workspace, id)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    service::delete_registration(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn secret(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    caller: Caller,
    Path((org, project, workspace, id)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    check_workspace(&state, &caller, &org, &project, &workspace).await?;
    Ok(hal(
        StatusCode::OK,
        service::read_secret(&svc, &state, &caller, &id).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<usize>,
    size: Option<usize>,
}

async fn list_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(org): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    check_org(&caller, &org)?;
    let size = q.size.unwrap_or(10).clamp(1, 100);
    let number = q.page.unwrap_or(0);
    let mut conn = state.store.conn().await?;
    let all = match caller.org_id() {
        Some(o) => conn.registrations_of_org(o).await?,
        None => conn.registrations_of_integration(caller.id()).await?,
    };
    let total = all.len();
    let pages = total.div_ceil(size).max(1);
    let mut out = Vec::new();
    for r in all.iter().skip(number * size).take(size) {
        let client = gatehouse_store::IntegrationStore::integration_by_id(&mut conn, &r.integration_id)
            .await?
            .map(|i| i.client_id.to_string())
            .unwrap_or_default();
        out.push(view(&state, &mut conn, &org, &client, r).await?);
    }
    let page_href = |n: usize| href(&state, &format!("/events/{org}/registrations?page={n}&size={size}"));
    let mut links = json!({
        "first": page_href(0),
        "last": page_href(pages - 1),
        "self": page_href(number),
    });
    if number + 1 < pages {
        links["next"] = page_href(number + 1);
    }
    if number > 0 {
        links["prev"] = page_href(number - 1);
    }
    Ok(hal(
        StatusCode::OK,
        json!({
            "_links": links,
            "_embedded": { "registrations": out },
            "page": { "size": size, "number": number, "numberOfElements": out.len(), "totalElements": total, "totalPages": pages },
        }),
    ))
}

async fn read_journal(
    State(state): State<AppState>,
    caller: Caller,
    Path((org, integration, id)): Path<(String, String, String)>,
    ApiQuery(params): ApiQuery<JournalParams>,
) -> Result<Response, ApiError> {
    check_org(&caller, &org)?;
    if integration != caller.id() {
        return Err(ApiError::not_found(format!(
            "No registration {id:?} belongs to your integration."
        )));
    }
    let mut conn = state.store.conn().await?;
    let r = service::owned_registration(&mut conn, &caller, &id).await?;
    drop(conn);
    let path = journal_path(&org, &integration, &id);
    journal::read(&state, &r, caller.client_id(), &path, &params).await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/events/{org}/{project}/{workspace}/registrations",
            get(list).post(create),
        )
        .route(
            "/events/{org}/{project}/{workspace}/registrations/{id}",
            get(get_one).put(update).delete(delete),
        )
        .route(
            "/events/{org}/{project}/{workspace}/registrations/{id}/secret",
            get(secret),
        )
        .route("/events/{org}/registrations", get(list_org))
        .route(
            "/events/organizations/{org}/integrations/{integration}/{id}",
            get(read_journal),
        )
}
