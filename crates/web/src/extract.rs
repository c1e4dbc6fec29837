//! Extractors shared by every surface: request bodies whose rejections take the surface's error
//! shape ([`ApiJson`], [`ApiQuery`], [`OAuthForm`]), and [`ClientInfo`] for audit entries.

use std::net::SocketAddr;

use axum::{
    body::{Body, Bytes},
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{ApiError, OAuthError};

/// A JSON body for the APIs; malformed input is answered as problem JSON. Also a JSON response.
/// Every request body of the APIs is an object (or `null` where it is optional): an array is
/// refused, because serde would otherwise read a struct from it by position (`[null, null]`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|e| ApiError::new(e.status(), "invalid_body", e.body_text()))?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::unprocessable(
                "invalid_body",
                "The body must be a JSON object, not an array.",
            ));
        }
        let axum::Json(value) =
            axum::Json::<T>::from_request(Request::from_parts(parts, Body::from(bytes)), state).await?;
        Ok(Self(value))
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A JSON array body, for the few operations that take a list (Adobe's Console API subscribes a
/// credential with an array of services); malformed input is answered as problem JSON.
#[derive(Debug, Clone, Default)]
pub struct ApiJsonList<T>(pub Vec<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJsonList<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(list) = axum::Json::<Vec<T>>::from_request(req, state).await?;
        Ok(Self(list))
    }
}

/// A query string for the APIs; malformed input is answered as problem JSON.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Path parameters for the APIs; one that does not parse (an ID that is not a number) is answered
/// as problem JSON, 404.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// A urlencoded body for the token service; malformed input is answered as `invalid_request`.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Form), rejection(OAuthError))]
pub struct OAuthForm<T>(pub T);

/// Where a request came from (the core's [`gatehouse_core::ClientInfo`]) as an extractor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo(pub gatehouse_core::ClientInfo);

impl std::ops::Deref for ClientInfo {
    type Target = gatehouse_core::ClientInfo;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl From<ClientInfo> for gatehouse_core::ClientInfo {
    fn from(c: ClientInfo) -> Self {
        c.0
    }
}

const MAX_USER_AGENT: usize = 512;

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
        Ok(Self(gatehouse_core::ClientInfo { ip, user_agent }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{
        Router,
        body::{Body, to_bytes},
        http::{Request, StatusCode},
        routing::post,
    };
    use tower::ServiceExt;

    #[derive(Debug, serde::Deserialize)]
    struct Input {
        #[allow(dead_code)]
        name: String,
    }

    async fn api(ApiJson(_): ApiJson<Input>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    async fn token(OAuthForm(_): OAuthForm<Input>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    async fn call(uri: &str, content_type: Option<&str>, body: &str) -> (StatusCode, String, serde_json::Value) {
        let app = Router::new().route("/api", post(api)).route("/token", post(token));
        let mut req = Request::post(uri);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let res = app
            .oneshot(req.body(Body::from(body.to_owned())).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        let bytes = to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, ct, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn malformed_json_gets_the_problem_shape() {
        let (status, ct, body) = call("/api", Some("application/json"), "{not json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(body["code"], "invalid_json");

        let (status, _, body) = call("/api", Some("application/json"), r#"{"other": 1}"#).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["code"], "invalid_body");
        assert!(body["detail"].as_str().unwrap().contains("name"), "{body}");

        // A struct is not read from an array by position.
        let (status, ct, body) = call("/api", Some("application/json"), r#" ["x"]"#).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(body["code"], "invalid_body");

        let (status, _, body) = call("/api", None, r#"{"name": "x"}"#).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(body["code"], "unsupported_media_type");
    }

    #[tokio::test]
    async fn malformed_token_requests_get_the_oauth_shape() {
        let (status, _, body) = call("/token", Some("application/x-www-form-urlencoded"), "nothing=here").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_request");
    }
}
