//! `POST /events/ingress`: publishing as Adobe's client does (CloudEvents 1.0 structured JSON,
//! `Authorization: Bearer` and `x-api-key`). Answers `200` with the text `OK` when the event is
//! stored for at least one registration (or was already, within the deduplication window), `204`
//! when no registration receives it. `x-event-phidata: true` marks the event with `phidata`.

use gatehouse_core::events::service::{self, EventsService};
use std::sync::Arc;

use axum::{
    Extension, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use gatehouse_domain::events::cloudevent::Strictness;
use serde_json::Value;

use crate::{ApiError, AppState, events::auth::Caller};

async fn ingress(
    State(state): State<AppState>,
    Extension(svc): Extension<Arc<EventsService>>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_cloudevent", format!("The body is not a JSON CloudEvent: {e}")))?;
    let mut conn = state.store.conn().await?;
    let mut event = service::check_event(
        &svc,
        &mut conn,
        &caller,
        value,
        Strictness::DefaultSpecVersion,
        state.now(),
    )
    .await?;
    drop(conn);
    let phi = headers
        .get("x-event-phidata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if phi {
        event.event.set_extension("phidata", Value::Bool(true));
    }
    let results = service::publish(&state, std::slice::from_ref(&event)).await?;
    let received = results.first().is_some_and(|r| r.duplicate || r.deliveries > 0);
    if !received {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mut res = (StatusCode::OK, "OK").into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(res)
}

pub fn router() -> Router<AppState> {
    Router::new().route("/events/ingress", post(ingress))
}
