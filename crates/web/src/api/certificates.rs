//! `/api/v1/integrations/{id}/certificates`: a service account's public key certificates —
//! upload a PEM certificate (JSON `{"pem": …}` or the raw PEM as `application/x-pem-file`),
//! generate a key pair (the private key is in that response only and is not kept), remove one.

use crate::error::OpResult;
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
    routing::{delete, get, post},
};
use gatehouse_core::Kind;
use gatehouse_core::console;
use gatehouse_domain::integration::StoredCertificate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    auth::Caller,
    error::{ConsoleError, ConsoleProblem as Problem},
    extract::ApiJson,
};

/// Largest upload accepted, in bytes. A certificate is a few KB; anything much larger is a
/// mistake (a wrong file) and is refused before it is read.
pub const MAX_UPLOAD: usize = 256 * 1024;

/// A certificate as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateOut {
    pub id: String,
    /// SHA-256 of the DER encoding, lowercase hex.
    pub fingerprint_sha256: String,
    pub pem: String,
    pub not_before: i64,
    pub not_after: i64,
    pub created_at: i64,
    /// When it was removed; removed certificates no longer verify assertions.
    pub revoked_at: Option<i64>,
}

impl From<&StoredCertificate> for CertificateOut {
    fn from(c: &StoredCertificate) -> Self {
        Self {
            id: c.id.clone(),
            fingerprint_sha256: c.fingerprint.clone(),
            pem: c.pem.clone(),
            not_before: c.not_before,
            not_after: c.not_after,
            created_at: c.created_at,
            revoked_at: c.revoked_at,
        }
    }
}

/// A certificate to upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadCertificate {
    /// One PEM certificate (`-----BEGIN CERTIFICATE-----`), RSA ≥ 2048 bits or EC P-256, not expired.
    pub pem: String,
}

/// A generated key pair. `private_key_pem` is in this response only: Gatehouse keeps the
/// certificate and forgets the key.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyPairCreated {
    pub certificate: CertificateOut,
    pub private_key_pem: String,
}

/// The PEM text of an upload: JSON `{"pem": …}` or the raw body.
fn pem_of(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> OpResult<String> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ConsoleError::new(
                Kind::TooLarge,
                "payload_too_large",
                format!(
                    "The upload is larger than {} KB. A certificate is a few KB: upload only the certificate \
                     (the file that starts with -----BEGIN CERTIFICATE-----).",
                    MAX_UPLOAD / 1024
                ),
            )
        } else {
            ConsoleError::from(crate::ApiError::new(r.status(), "invalid_body", r.body_text()))
        }
    })?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        let upload: UploadCertificate = serde_json::from_slice(&body).map_err(|e| {
            ConsoleError::new(
                Kind::Invalid,
                "invalid_json",
                format!("The body is not the expected JSON: {e}"),
            )
        })?;
        Ok(upload.pem)
    } else {
        String::from_utf8(body.to_vec()).map_err(|_| {
            ConsoleError::new(Kind::Invalid,
                "certificate_not_pem",
                "This is not a PEM certificate: the upload is not text (a DER file? convert it with openssl x509 -inform der).",
            )
            .on("certificate")
        })
    }
}

/// The integration's certificates, removed ones included, oldest first.
#[utoipa::path(get, path = "/api/v1/integrations/{id}/certificates", tag = "credentials",
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 200, body = [CertificateOut]), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<ApiJson<Vec<CertificateOut>>> {
    let d = console::integrations::details(&state, &caller, &id).await?;
    Ok(ApiJson(d.certificates.iter().map(CertificateOut::from).collect()))
}

/// Uploads a certificate: at most 5 active, no duplicates, no private keys, not expired.
#[utoipa::path(post, path = "/api/v1/integrations/{id}/certificates", tag = "credentials",
    request_body(content = UploadCertificate, description = "JSON, or the raw PEM as application/x-pem-file"),
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 201, body = CertificateOut), (status = 409, body = Problem), (status = 413, body = Problem),
        (status = 422, body = Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> OpResult<impl IntoResponse> {
    let pem = pem_of(&headers, body)?;
    let stored = console::certificates::upload(&state, &caller, &id, &pem).await?;
    Ok((StatusCode::CREATED, ApiJson(CertificateOut::from(&stored))))
}

/// Generates an RSA 2048 key pair and a one-year self-signed certificate; the certificate is
/// kept, the private key returned once.
#[utoipa::path(post, path = "/api/v1/integrations/{id}/certificates/generate", tag = "credentials",
    params(("id" = String, Path, description = "Integration ID")),
    responses((status = 201, body = KeyPairCreated), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn generate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> OpResult<impl IntoResponse> {
    let (stored, private_key_pem) = console::certificates::generate(&state, &caller, &id).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        ApiJson(KeyPairCreated {
            certificate: CertificateOut::from(&stored),
            private_key_pem,
        }),
    ))
}

/// Removes a certificate: assertions signed with its key are refused from now on.
#[utoipa::path(delete, path = "/api/v1/integrations/{id}/certificates/{certificate_id}", tag = "credentials",
    params(("id" = String, Path, description = "Integration ID"),
        ("certificate_id" = String, Path, description = "Certificate ID")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, cert_id)): Path<(String, String)>,
) -> OpResult<StatusCode> {
    console::certificates::remove(&state, &caller, &id, &cert_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/integrations/{id}/certificates",
            get(list).post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/api/v1/integrations/{id}/certificates/generate", post(generate))
        .route(
            "/api/v1/integrations/{id}/certificates/{certificate_id}",
            delete(remove),
        )
}
