//! The Adobe-IMS-compatible surface of the token service (compat §0–§2, §5): the same rules as
//! `/oauth`, rendered the way Adobe's clients expect — Adobe-flavoured token claims, `expires_in`
//! in the unit each path uses, `{error, error_description}` with Adobe's codes, HTTP 200 for
//! every success. Parameters come from the query and a urlencoded or multipart body alike.
//!
//! ```text
//!  jwt-auth, aio-lib-ims ──POST /ims/exchange/jwt[/], /ims/exchange/v1/jwt──▶ exchange   RFC 7523 §2.1 (compat §2)
//!  aio-lib-ims, ims-go ───POST /ims/token[/v1|/v2|/v3] client_credentials──▶ token      RFC 6749 §4.4 (compat §3.1)
//!  aio-lib-ims, ims-go ───POST /ims/token[/vN] authorization_code, refresh──▶ token      RFC 6749 §4.1.3, §6 (compat §3.2-3)
//!  aio-lib-ims ───────────POST /ims/validate_token/v1───────────────────────▶ validate   (compat §5.3)
//!  aio-lib-ims ───────────POST /ims/invalidate_token/v2─────────────────────▶ invalidate RFC 7009 §2 (compat §5.4)
//!  web apps ──────────────POST /ims/revoke──────────────────────────────────▶ revoke     RFC 7009 §2 (compat §5.5)
//!  anyone ────────────────GET  /ims/keys, /ims/.well-known/…────────────────▶ keys, discovery
//! ```
//!
//! The browser's endpoints (`/ims/authorize*`) live with the standard ones in
//! `crate::oauth::authorize`; userinfo, profile, organizations and logout in [`account`].

pub mod account;

use gatehouse_core::tokens::service::{Failure, TokenService};
use std::sync::Arc;

use axum::{
    Extension, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use gatehouse_core::tokens::grants::{self, authenticate_client};
use gatehouse_domain::token::{
    TokenError,
    claims::{ExpiresInUnit, Flavour},
    client_auth::GrantType,
    keys::SigningAlg,
};
use serde_json::json;

use crate::{
    AppState,
    oauth::{
        endpoints::{self, Outcome},
        params::Params,
        responses::{ims_error, token_response},
    },
};

/// The `/ims/...` routes; the caller attaches the shared `TokenService`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ims/exchange/jwt", post(exchange))
        .route("/ims/exchange/jwt/", post(exchange))
        .route("/ims/exchange/v1/jwt", post(exchange))
        .route("/ims/token", post(token_unversioned))
        .route("/ims/token/v1", post(token_v1))
        .route("/ims/token/v2", post(token_v2))
        .route("/ims/token/v2/", post(token_v2))
        .route("/ims/token/v3", post(token_v3))
        .route("/ims/validate_token/v1", get(validate).post(validate))
        .route("/ims/invalidate_token/v2", post(invalidate))
        .route("/ims/revoke", post(revoke))
        .route("/ims/keys", get(endpoints::jwks))
        .route("/ims/.well-known/openid-configuration", get(discovery))
        .merge(account::routes())
        .layer(axum::middleware::from_fn(debug_id))
}

/// Echoes the request ID as `x-debug-id`, the header Adobe's clients log with errors (compat §0).
async fn debug_id(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let id = req.headers().get(crate::telemetry::REQUEST_ID_HEADER).cloned();
    let mut res = next.run(req).await;
    if let Some(id) = id {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-debug-id"), id);
    }
    res
}

/// Adobe's service-account JWT exchange (compat §2); `expires_in` is in milliseconds.
async fn exchange(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    let result = async {
        let (client, _) = authenticate_client(&svc, &params, None).await?;
        let jwt = params.require("jwt_token")?;
        grants::jwt_bearer(&svc, &client, jwt, None, Flavour::Adobe).await
    }
    .await;
    match result {
        Ok(issued) => token_response(json!({
            "token_type": "bearer",
            "access_token": issued.access_token,
            "expires_in": ExpiresInUnit::Milliseconds.render(issued.lifetime),
        })),
        Err(f) => ims_error(f).into_response(),
    }
}

async fn token_unversioned(svc: Extension<Arc<TokenService>>, params: Params) -> Response {
    ims_token(svc, params, None).await
}

async fn token_v1(svc: Extension<Arc<TokenService>>, params: Params) -> Response {
    ims_token(svc, params, Some(1)).await
}

async fn token_v2(svc: Extension<Arc<TokenService>>, params: Params) -> Response {
    ims_token(svc, params, Some(2)).await
}

async fn token_v3(svc: Extension<Arc<TokenService>>, params: Params) -> Response {
    ims_token(svc, params, Some(3)).await
}

/// `/ims/token[/vN]` (compat §3): every grant of `/oauth/token`; `expires_in` per compat §0.1.
async fn ims_token(Extension(svc): Extension<Arc<TokenService>>, params: Params, version: Option<u8>) -> Response {
    let result = async {
        let grant = GrantType::parse(params.require("grant_type")?)?;
        let (client, _) = authenticate_client(&svc, &params, Some(grant)).await?;
        if let (Some(asked), Some(own)) = (params.get("org_id")?, client.integration.org_id())
            && asked != own
        {
            return Err(TokenError::InvalidParameter {
                name: "org_id",
                detail: "the client does not belong to this organization".into(),
            }
            .into());
        }
        endpoints::run_grant(&svc, &client, grant, &params, Flavour::Adobe).await
    }
    .await;
    let unit = ExpiresInUnit::for_ims_token(version);
    match result {
        Ok(Outcome::Client(issued)) => token_response(json!({
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": unit.render(issued.lifetime),
        })),
        Ok(Outcome::User(t)) => {
            let mut body = json!({
                "access_token": t.access_token,
                "token_type": "bearer",
                "expires_in": unit.render(t.lifetime),
                "sub": t.claims.sub,
            });
            if let Some(r) = t.refresh_token {
                body["refresh_token"] = json!(r);
            }
            if let Some(i) = t.id_token {
                body["id_token"] = json!(i);
            }
            token_response(body)
        }
        Err(f) => ims_error(f).into_response(),
    }
}

/// `/ims/revoke` (compat §5.5): an access or refresh token, Basic auth or `?client_id=` for
/// public clients; HTTP 200 with no body either way.
async fn revoke(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    match endpoints::revoke_inner(&svc, &params).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(f) => ims_error(f).into_response(),
    }
}

/// `/ims/.well-known/openid-configuration` (compat §5.8): the same service, described with the
/// `/ims` paths Adobe's clients use.
async fn discovery(State(state): State<AppState>) -> Response {
    let s = &state.settings;
    endpoints::cached_json(json!({
        "issuer": s.public_url,
        "authorization_endpoint": s.url("/ims/authorize/v2"),
        "token_endpoint": s.url("/ims/token/v3"),
        "userinfo_endpoint": s.url("/ims/userinfo/v2"),
        "revocation_endpoint": s.url("/ims/revoke"),
        "end_session_endpoint": s.url("/ims/logout/v1"),
        "jwks_uri": s.url("/ims/keys"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": SigningAlg::ALL.map(SigningAlg::as_str),
        "scopes_supported": ["openid", "email", "profile", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "claims_supported": endpoints::CLAIMS_SUPPORTED,
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

/// `/ims/validate_token/v1` (compat §5): always HTTP 200 with `valid` true or false.
async fn validate(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    let result = async {
        let token = match params.get("token")? {
            Some(t) => t.to_owned(),
            None => params.bearer.clone().ok_or(TokenError::MissingParameter("token"))?,
        };
        let client_id = params.require("client_id")?;
        if params.get("type")?.is_some_and(|t| t != "access_token") {
            return Ok(json!({ "valid": false, "reason": "unsupported_token_type" }));
        }
        Ok::<_, Failure>(match svc.inspect_access_token(&token).await? {
            Ok(claims) if claims.client_id == client_id => json!({
                "valid": true,
                "expires_at": claims.exp.saturating_mul(1000),
                "token": claims,
            }),
            Ok(_) => json!({ "valid": false, "reason": "client_id_mismatch" }),
            Err(inactive) => json!({ "valid": false, "reason": inactive.reason() }),
        })
    }
    .await;
    match result {
        Ok(body) => token_response(body),
        Err(f) => ims_error(f).into_response(),
    }
}

/// `/ims/invalidate_token/v2` (compat §5.4): revokes one of the caller's access tokens, or a
/// refresh token with every access token minted from it; HTTP 200 with an empty body either way.
async fn invalidate(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    let result = async {
        let (caller, _) = authenticate_client(&svc, &params, None).await?;
        let token = params.require("token")?;
        gatehouse_core::tokens::introspection::revoke(&svc, &caller, token).await
    }
    .await;
    match result {
        Ok(_) => StatusCode::OK.into_response(),
        Err(f) => ims_error(f).into_response(),
    }
}
