//! The standard surface's handlers: discovery, JWKS, token, introspection and revocation.
//!
//! ```text
//!  client ──POST /oauth/token (client_credentials | jwt-bearer)──▶ token          RFC 6749 §4.4, RFC 7523 §2.1
//!  resource server ──POST /oauth/introspect (authenticated)──────▶ introspect     RFC 7662 §2
//!  client ──POST /oauth/revoke (authenticated)───────────────────▶ revoke         RFC 7009 §2
//!  anyone ──GET /oauth/jwks, /.well-known/…──────────────────────▶ jwks, discovery RFC 7517 §5, RFC 8414 §3
//! ```

use std::sync::Arc;

use axum::{
    Extension, Json,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use gatehouse_domain::token::{
    TokenError,
    claims::{Audience, Flavour},
    client_auth::{ClientAuthMethod, GrantType},
};
use serde_json::json;

use super::{
    grants::{self, authenticate_client, oauth_error, token_response},
    params::Params,
    service::{Failure, TokenService},
};
use crate::{AppState, OAuthError};

/// Authorization-server metadata (RFC 8414 §2), served at both discovery paths (OIDC Discovery §3).
pub async fn discovery(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let s = &state.settings;
    let body = json!({
        "issuer": s.public_url,
        "token_endpoint": s.url("/oauth/token"),
        "jwks_uri": s.url("/oauth/jwks"),
        "introspection_endpoint": s.url("/oauth/introspect"),
        "revocation_endpoint": s.url("/oauth/revoke"),
        "grant_types_supported": ["client_credentials", GrantType::JWT_BEARER],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid", "email", "profile", "offline_access"],
        "token_endpoint_auth_methods_supported": ClientAuthMethod::SUPPORTED,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512", "ES256"],
        "introspection_endpoint_auth_methods_supported": ClientAuthMethod::SUPPORTED,
        "revocation_endpoint_auth_methods_supported": ClientAuthMethod::SUPPORTED,
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
    });
    let mut res = Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    res
}

/// The published signing keys: next, current and previous (RFC 7517 §5).
pub async fn jwks(Extension(svc): Extension<Arc<TokenService>>) -> Response {
    match svc.key_ring().await {
        Ok(ring) => {
            let mut res = Json(&ring.jwks).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            res
        }
        Err(e) => OAuthError::from(e).into_response(),
    }
}

/// RFC 6749 §3.2 token endpoint: `client_credentials` (§4.4) and the JWT-bearer grant (RFC 7523 §2.1).
pub async fn token(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    match token_inner(&svc, &params).await {
        Ok(issued) => token_response(json!({
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.lifetime,
            "scope": issued.scopes.join(" "),
        })),
        Err(f) => oauth_error(f).into_response(),
    }
}

async fn token_inner(svc: &TokenService, params: &Params) -> Result<grants::Issued, Failure> {
    let grant = GrantType::parse(params.require("grant_type")?)?;
    let (client, _) = authenticate_client(svc, params, Some(grant)).await?;
    match grant {
        GrantType::ClientCredentials => grants::client_credentials(svc, &client, params, Flavour::Standard).await,
        GrantType::JwtBearer => {
            let jwt = params.require("assertion")?;
            grants::jwt_bearer(svc, &client, jwt, params.get("scope")?, Flavour::Standard).await
        }
        GrantType::AuthorizationCode | GrantType::RefreshToken => {
            Err(TokenError::UnsupportedGrantType(grant.as_str().to_owned()).into())
        }
    }
}

/// RFC 7662 §2: token introspection for an authenticated integration.
pub async fn introspect(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    let result = async {
        let (_caller, method) = authenticate_client(&svc, &params, None).await?;
        if method == ClientAuthMethod::None {
            return Err(TokenError::ClientAuthenticationRequired.into());
        }
        let token = params.require("token")?;
        Ok::<_, Failure>(svc.inspect_access_token(token).await?)
    }
    .await;
    match result {
        Ok(Ok(c)) => {
            let mut body = json!({
                "active": true,
                "scope": c.scopes().join(" "),
                "client_id": c.client_id,
                "sub": c.sub,
                "iss": c.iss,
                "exp": c.exp,
                "iat": c.iat,
                "jti": c.jti,
                "token_type": "Bearer",
                "aud": match &c.aud { Audience::One(a) => json!(a), Audience::Many(v) => json!(v) },
            });
            if let Some(org) = &c.org_id {
                body["org_id"] = json!(org);
            }
            token_response(body)
        }
        Ok(Err(_)) => token_response(json!({ "active": false })),
        Err(f) => oauth_error(f).into_response(),
    }
}

/// RFC 7009 §2: revocation. Answers 200 whether or not the token was valid (§2.2).
pub async fn revoke(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    let result = async {
        let (caller, _) = authenticate_client(&svc, &params, None).await?;
        let token = params.require("token")?;
        if let Ok(claims) = svc.inspect_access_token(token).await?
            && claims.client_id == caller.client_id()
        {
            svc.revoke_access_token(&claims).await?;
        }
        Ok::<_, Failure>(())
    }
    .await;
    match result {
        Ok(()) => token_response(json!({})),
        Err(f) => oauth_error(f).into_response(),
    }
}
