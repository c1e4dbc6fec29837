//! Operations endpoints: `/healthz` (the process answers), `/readyz` (the database answers and its
//! schema is current) and `/metrics` (Prometheus text format).

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use gatehouse_store::SchemaStatus;
use serde_json::json;

use gatehouse_core::catalog::record_pool;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Liveness: 200 whenever the process can answer at all.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: 200 when the database answers and has exactly this build's migrations; otherwise 503
/// with a JSON reason, so a load balancer stops sending traffic here.
async fn readyz(State(state): State<AppState>) -> Response {
    let unavailable = |reason: &str, detail: String| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({ "status": "unavailable", "reason": reason, "detail": detail })),
        )
            .into_response()
    };
    if let Err(e) = state.store.ping().await {
        tracing::warn!(error = %e, "readiness: the database does not answer");
        return unavailable("database_unreachable", "the database does not answer".to_owned());
    }
    match state.store.schema_status().await {
        Ok(SchemaStatus::Current) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({ "status": "ready", "schema_version": state.store.known_schema_version() })),
        )
            .into_response(),
        Ok(SchemaStatus::Behind) => unavailable(
            "schema_behind",
            "database migrations are pending; run gatehouse migrate".to_owned(),
        ),
        Ok(SchemaStatus::Ahead { database, known }) => unavailable(
            "schema_ahead",
            format!("the database schema (version {database}) is newer than this build (version {known})"),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: cannot read the schema version");
            unavailable("database_unreachable", "cannot read the schema version".to_owned())
        }
    }
}

/// Prometheus exposition of the process's metrics.
async fn metrics(State(state): State<AppState>) -> Response {
    record_pool(&state.store);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}
