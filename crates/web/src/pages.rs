//! Server-rendered pages: askama templates (in `crates/web/templates/`, HTML-escaped by default),
//! the response headers every page carries, the one stylesheet at `/static/gatehouse.css` and the
//! passkey script at `/static/passkeys.js` (progressive enhancement: pages work without it).
//! Page handlers live with their feature (e.g. [`crate::setup`]); this module only renders.

use askama::Template;
use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::AppState;

const STYLESHEET: &str = include_str!("../static/gatehouse.css");
const PASSKEY_SCRIPT: &str = include_str!("../static/passkeys.js");
const FAVICON: &str = include_str!("../static/favicon.svg");

/// Pages never load anything from elsewhere, never run inline script (scripts come from this
/// server's `/static/`), post and `fetch` only to this server and are never framed; they send no `Referer`
/// (links may carry one-time tokens) and are not cached.
const PAGE_HEADERS: [(header::HeaderName, &str); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CACHE_CONTROL, "no-store"),
];

/// Renders a template into an HTML response with the page headers. A template that fails to
/// render (a bug) is logged and answered with a plain 500.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut res = (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                )],
                html,
            )
                .into_response();
            for (name, value) in PAGE_HEADERS {
                res.headers_mut().insert(name, HeaderValue::from_static(value));
            }
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "a page template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The page every [`crate::error::PageError`] renders.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        STYLESHEET,
    )
}

async fn passkey_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PASSKEY_SCRIPT,
    )
}

/// The icon browsers show in the tab (linked from every page, so they do not ask for a missing
/// `/favicon.ico`).
async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        FAVICON,
    )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route("/static/gatehouse.css", get(stylesheet))
        .route("/static/passkeys.js", get(passkey_script))
}
