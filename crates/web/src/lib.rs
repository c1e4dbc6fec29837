//! Gatehouse's HTTP surfaces (axum): the routers of each surface, the extractors that parse and
//! authenticate requests, and the one mapping from errors to responses per surface ([`error`]).
//! Handlers are thin: they parse, call the application core (`gatehouse_core`), and map the
//! result. Nothing here knows about configuration files; the `app` crate builds the core.

pub mod account;
pub mod api;
pub mod auth;
pub mod console;
pub mod csrf;
pub mod error;
pub mod events;
pub mod extract;
pub mod gateway;
pub mod health;
pub mod home;
pub mod identity;
pub mod ims;
pub mod oauth;
pub mod operator;
pub mod pages;
pub mod setup;
pub mod state;
pub mod telemetry;

use axum::{Router, extract::Request, response::IntoResponse};

pub use error::{ApiError, OAuthError, PageError};
pub use gatehouse_core::{Clock, ImsSettings, Settings, TokenLifetimes};
pub use state::AppState;

/// The whole HTTP application: every surface's router merged, the fallbacks, and the request
/// telemetry (request IDs, trace spans, metrics) around all of it.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .merge(health::router())
        .merge(pages::router())
        .merge(home::router())
        .merge(setup::router())
        .merge(identity::router())
        .merge(account::router())
        .merge(console::router())
        .merge(operator::router())
        .merge(api::router())
        .merge(oauth::router())
        .merge(ims::routes())
        .merge(events::router(&state))
        .merge(gateway::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The node's one token service, for every surface that verifies tokens.
        .layer(axum::Extension(state.tokens.clone()))
        .with_state(state);
    telemetry::layer(app)
}

/// The OpenAPI document of `/api/v1` as pretty JSON with a final newline (the checked-in file's
/// form): the identity and console resources (`api`) and the events API (`events`), assembled here
/// at the root so neither surface depends on the other. Its version is the release that serves it.
pub fn openapi_json() -> String {
    use utoipa::OpenApi;
    let mut doc = api::ApiDoc::openapi();
    doc.merge(api::openapi::ConsoleApi::openapi());
    doc.merge(events::api::EventsApi::openapi());
    doc.info.title = "Gatehouse API".to_owned();
    doc.info.description = Some(api::DESCRIPTION.to_owned());
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut s = doc.to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

/// Which surface a path belongs to, so errors outside any route still take that surface's shape.
fn is_json_surface(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/services/")
        || path.starts_with("/events/")
        || path.starts_with("/oauth/")
        || path.starts_with("/ims/")
        || path.starts_with("/.well-known/")
}

async fn not_found(req: Request) -> axum::response::Response {
    if is_json_surface(req.uri().path()) {
        ApiError::not_found("There is no resource at this path.").into_response()
    } else {
        PageError::not_found().into_response()
    }
}

async fn method_not_allowed(req: Request) -> axum::response::Response {
    let status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    if is_json_surface(req.uri().path()) {
        ApiError::new(status, "method_not_allowed", "This method is not allowed on this path.").into_response()
    } else {
        PageError::new(status, "Not allowed", "This page cannot be used that way.").into_response()
    }
}
