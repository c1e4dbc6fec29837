//! The standard surface's handlers: discovery, JWKS, token, introspection and revocation.
//!
//! ```text
//!  client ──POST /oauth/token (authorization_code | refresh_token)▶ token          RFC 6749 §4.1.3, §6
//!  client ──POST /oauth/token (client_credentials | jwt-bearer)──▶ token          RFC 6749 §4.4, RFC 7523 §2.1
//!  resource server ──POST /oauth/introspect (authenticated)──────▶ introspect     RFC 7662 §2
//!  client ──POST /oauth/revoke (authenticated)───────────────────▶ revoke         RFC 7009 §2
//!  anyone ──GET /oauth/jwks, /.well-known/…──────────────────────▶ jwks, discovery RFC 7517 §5, RFC 8414 §3
//! ```

use gatehouse_core::tokens::service::{Client, Failure, TokenService};
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
    keys::SigningAlg,
};
use serde_json::json;

use gatehouse_core::tokens::{
    grants::{self, authenticate_client},
    introspection::{self, Introspection},
    user_grants::UserTokens,
};

use super::{
    params::Params,
    responses::{oauth_error, token_response},
};
use crate::{AppState, OAuthError};

/// Authorization-server metadata (RFC 8414 §2, OIDC Discovery §3), served at both discovery paths.
pub async fn discovery(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let s = &state.settings;
    let body = json!({
        "issuer": s.public_url,
        "authorization_endpoint": s.url("/oauth/authorize"),
        "token_endpoint": s.url("/oauth/token"),
        "userinfo_endpoint": s.url("/oauth/userinfo"),
        "jwks_uri": s.url("/oauth/jwks"),
        "introspection_endpoint": s.url("/oauth/introspect"),
        "revocation_endpoint": s.url("/oauth/revoke"),
        "end_session_endpoint": s.url("/oauth/logout"),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", GrantType::JWT_BEARER],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment"],
        "scopes_supported": ["openid", "email", "profile", "offline_access"],
        "claims_supported": CLAIMS_SUPPORTED,
        // No `select_account`: a browser holds one Gatehouse session, so there is no account to choose.
        "prompt_values_supported": ["none", "login", "consent"],
        "token_endpoint_auth_methods_supported": ClientAuthMethod::SUPPORTED,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        // Introspection needs an authenticated client (RFC 7662 §2.1), so `none` is not offered there.
        "introspection_endpoint_auth_methods_supported": INTROSPECTION_AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": ClientAuthMethod::SUPPORTED,
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": SigningAlg::ALL.map(SigningAlg::as_str),
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    cached_json(body)
}

/// The algorithms of the `private_key_jwt` assertions every endpoint that authenticates clients
/// accepts (RFC 8414 §2: listed for each endpoint that lists `private_key_jwt`).
pub const ASSERTION_ALGS: [&str; 4] = ["RS256", "RS384", "RS512", "ES256"];

/// The client authentication methods of the introspection endpoint: every one but `none`.
pub const INTROSPECTION_AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "private_key_jwt"];

/// Claims Gatehouse may release about a person.
pub const CLAIMS_SUPPORTED: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "amr",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
];

/// A JSON document relying parties may cache for an hour.
pub fn cached_json(body: serde_json::Value) -> Response {
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

/// What the token endpoint issued: a client's own token or a person's tokens.
#[derive(Debug)]
pub enum Outcome {
    Client(grants::Issued),
    User(UserTokens),
}

/// RFC 6749 §3.2 token endpoint: `authorization_code` (§4.1.3), `refresh_token` (§6),
/// `client_credentials` (§4.4) and the JWT-bearer grant (RFC 7523 §2.1).
pub async fn token(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    match token_inner(&svc, &params, Flavour::Standard).await {
        Ok(Outcome::Client(issued)) => token_response(json!({
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.lifetime,
            "scope": issued.scopes.join(" "),
        })),
        Ok(Outcome::User(t)) => {
            let mut body = json!({
                "access_token": t.access_token,
                "token_type": "Bearer",
                "expires_in": t.lifetime,
                "scope": t.scopes.join(" "),
            });
            if let Some(r) = t.refresh_token {
                body["refresh_token"] = json!(r);
            }
            if let Some(i) = t.id_token {
                body["id_token"] = json!(i);
            }
            token_response(body)
        }
        Err(f) => oauth_error(f).into_response(),
    }
}

/// Authenticates the client and runs the grant; shared with `/ims/token`.
pub async fn token_inner(svc: &TokenService, params: &Params, flavour: Flavour) -> Result<Outcome, Failure> {
    let grant = GrantType::parse(params.require("grant_type")?)?;
    let (client, _) = authenticate_client(svc, params, Some(grant)).await?;
    run_grant(svc, &client, grant, params, flavour).await
}

/// Runs `grant` for an authenticated client.
pub async fn run_grant(
    svc: &TokenService,
    client: &Client,
    grant: GrantType,
    params: &Params,
    flavour: Flavour,
) -> Result<Outcome, Failure> {
    match grant {
        GrantType::ClientCredentials => Ok(Outcome::Client(
            grants::client_credentials(svc, client, params, flavour).await?,
        )),
        GrantType::JwtBearer => {
            let jwt = params.require("assertion")?;
            Ok(Outcome::Client(
                grants::jwt_bearer(svc, client, jwt, params.get("scope")?, flavour).await?,
            ))
        }
        GrantType::AuthorizationCode => Ok(Outcome::User(
            gatehouse_core::tokens::user_grants::authorization_code(svc, client, params, flavour).await?,
        )),
        GrantType::RefreshToken => Ok(Outcome::User(
            gatehouse_core::tokens::user_grants::refresh_token(svc, client, params, flavour).await?,
        )),
    }
}

/// RFC 7662 §2: token introspection for an authenticated integration: access and refresh
/// tokens, its own or (when an operator allowed it) other clients'.
pub async fn introspect(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    let result = async {
        let (caller, method) = authenticate_client(&svc, &params, None).await?;
        if method == ClientAuthMethod::None {
            return Err(TokenError::ClientAuthenticationRequired.into());
        }
        let token = params.require("token")?;
        introspection::introspect(&svc, &caller, token).await
    }
    .await;
    match result {
        Ok(Introspection::Access(c)) => {
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
        Ok(Introspection::Refresh(r)) => token_response(json!({
            "active": true,
            "scope": r.scope,
            "client_id": r.client_id,
            "sub": r.account_id,
            "iss": svc.settings.issuer.issuer,
            "exp": r.expires_at,
            "iat": r.created_at,
        })),
        Ok(Introspection::Inactive) => token_response(json!({ "active": false })),
        Err(f) => oauth_error(f).into_response(),
    }
}

/// RFC 7009 §2: revocation of an access token (deny-list) or a refresh token (its whole grant).
/// Answers 200 whether or not the token was valid (§2.2); another client's token is refused.
pub async fn revoke(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    match revoke_inner(&svc, &params).await {
        Ok(()) => token_response(json!({})),
        Err(f) => oauth_error(f).into_response(),
    }
}

/// Authenticates the caller and revokes the token if it is one of the caller's; shared with `/ims`.
pub async fn revoke_inner(svc: &TokenService, params: &Params) -> Result<(), Failure> {
    let (caller, _) = authenticate_client(svc, params, None).await?;
    let token = params.require("token")?;
    introspection::revoke(svc, &caller, token).await?;
    Ok(())
}
