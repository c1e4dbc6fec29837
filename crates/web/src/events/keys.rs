//! `GET /events/keys/{file}`: the delivery-signing public keys (the key ring is the core's,
//! `gatehouse_core::events::keys`).

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use gatehouse_core::events::keys::DeliveryKeys;
use gatehouse_domain::events::adobe::key_id_from_file_name;

use crate::{ApiError, AppState};

/// `GET /events/keys/{file}`: a delivery-signing public key as PEM.
pub async fn serve_public_key(
    State(state): State<AppState>,
    axum::Extension(keys): axum::Extension<Arc<DeliveryKeys>>,
    Path(file): Path<String>,
) -> Response {
    let Some(id) = key_id_from_file_name(&file) else {
        return ApiError::not_found("There is no such key.").into_response();
    };
    match keys.public_pem(id, state.now()).await {
        Ok(Some(pem)) => {
            let mut res = (StatusCode::OK, pem).into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
            res
        }
        Ok(None) => ApiError::not_found("There is no such key.").into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
