//! `GET /api/v1/events/registrations/{id}/journal`: a registration's journal, in the same wire
//! format as the compatible journal API (see [`crate::events::journal`]).

use axum::{
    Router,
    extract::{Path, State},
    response::Response,
    routing::get,
};
use gatehouse_core::events::service;

use crate::{
    ApiError, AppState,
    events::{
        auth::Caller,
        journal::{self, JournalParams},
        view,
    },
    extract::ApiQuery,
};

/// Reads a registration's journal from a position (since, limit, latest, seek); Link headers name the next page.
#[utoipa::path(get, path = "/api/v1/events/registrations/{id}/journal", tag = "events",
    params(("id" = String, Path, description = "Registration ID")),
    responses((status = 200, description = "Events from the journal (204 when there are none)", body = serde_json::Value), (status = 400, description = "Malformed request", body = crate::error::Problem), (status = 401, description = "No valid access token", body = crate::error::Problem), (status = 403, description = "Not the caller's to use or change", body = crate::error::Problem), (status = 404, description = "No such resource, or not visible to the caller", body = crate::error::Problem), (status = 410, description = "No longer available", body = crate::error::Problem), (status = 503, description = "Busy; try again", body = crate::error::Problem)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<JournalParams>,
) -> Result<Response, ApiError> {
    let mut conn = state.store.conn().await?;
    let r = service::owned_registration(&mut conn, &caller, &id).await?;
    drop(conn);
    journal::read(&state, &r, caller.client_id(), &view::journal_path(&r.id), &params).await
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/events/registrations/{id}/journal", get(read))
}
