//! Gatehouse's HTTP surfaces (axum): the routers of each surface, the extractors that parse and
//! authenticate requests, and the one mapping from errors to responses per surface ([`error`]).
//! Handlers are thin: they parse, call the application core (`gatehouse_core`), and map the
//! result. Nothing here knows about configuration files; the `app` crate builds the core.

pub mod account;
pub mod adobe_console;
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
        .merge(adobe_console::router())
        .merge(events::router(&state))
        .merge(gateway::router())
        .fallback(gateway::own_path_or_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The node's one token service, for every surface that verifies tokens.
        .layer(axum::Extension(state.tokens.clone()))
        .layer(gateway::upstreams());
    // Served over https: browsers are told to use nothing else for a year (RFC 6797).
    let app = if state.settings.secure_cookies {
        app.layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        app
    };
    let app = app.with_state(state);
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
    let mut value = serde_json::to_value(&doc).unwrap_or_default();
    document_errors(&mut value);
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}

/// The errors every operation shares, documented once here rather than on each handler: every
/// error is `application/problem+json` (as served); an operation that needs authentication may
/// answer 401 (with `WWW-Authenticate`) and 403 (the policy refuses the caller, or the token lacks
/// the scope); one with path parameters 404 (no such resource, or not visible to the caller); one
/// with query parameters 400 (a malformed one); one that takes a JSON body 400 (not JSON), 415
/// (not `Content-Type: application/json`) and 422 (JSON of the wrong shape).
fn document_errors(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
        })
    };
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|ops| ops.values_mut())
    {
        let needs_auth = op
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty() && s.iter().all(|r| r.as_object().is_some_and(|r| !r.is_empty())));
        let json_body = op.pointer("/requestBody/content/application~1json").is_some();
        let params_in = |place: &str| {
            op.get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == place))
        };
        let (path_params, query_params) = (params_in("path"), params_in("query"));
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for (status, response) in responses.iter_mut() {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
                && let Some(media) = content.remove("application/json")
            {
                content.insert("application/problem+json".to_owned(), media);
            }
        }
        if needs_auth {
            responses.entry("401").or_insert_with(|| {
                problem("Not signed in, or the access token is missing, invalid or expired (see `WWW-Authenticate`)")
            });
            responses.entry("403").or_insert_with(|| {
                problem("Not allowed: the caller may not do this, or the access token lacks the scope")
            });
        }
        if path_params {
            responses
                .entry("404")
                .or_insert_with(|| problem("No such resource, or not visible to the caller"));
        }
        if query_params {
            responses
                .entry("400")
                .or_insert_with(|| problem("A query parameter is malformed (`invalid_query`)"));
        }
        if json_body {
            responses
                .entry("400")
                .or_insert_with(|| problem("The body is not JSON (`invalid_json`)"));
            responses
                .entry("415")
                .or_insert_with(|| problem("The body is not sent as `Content-Type: application/json`"));
            responses
                .entry("422")
                .or_insert_with(|| problem("The JSON does not have the expected shape, or a field is not valid"));
        }
    }
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
