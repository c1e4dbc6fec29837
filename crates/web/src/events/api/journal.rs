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

async fn read(
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
