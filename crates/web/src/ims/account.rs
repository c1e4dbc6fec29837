//! The Adobe-compatible surface's person-facing endpoints (compat §5.1, §5.2, §5.6, §5.7): what
//! an access token's person or organization looks like, and logout.
//!
//! ```text
//!  apps ──GET /ims/userinfo/v2 (also /v1, /ims/userinfo) + Bearer──▶ userinfo       OIDC Core §5.3 (compat §5.1)
//!  apps ──GET /ims/profile/v1 + Bearer──────────────────────────────▶ profile        (compat §5.2)
//!  aio-lib-ims ──GET /ims/organizations/v6 (also /v5) + Bearer──────▶ organizations  (compat §5.7)
//!  browser ──GET|POST /ims/logout/v1?client_id&redirect_uri─────────▶ logout         (compat §5.6)
//! ```
//!
//! Errors are `{error, error_description}` with the RFC 6750 status (401 for a bad token).

use gatehouse_core::tokens::service::TokenService;
use std::sync::Arc;

use axum::{
    Extension, Json, Router,
    response::{IntoResponse, Response},
    routing::get,
};
use gatehouse_domain::{
    org::Role,
    token::{claims::Flavour, id_token::adobe_account_type},
};
use serde_json::{Value, json};

use crate::{
    AppState,
    oauth::{
        logout,
        params::Params,
        userinfo::{self, BearerError, no_store},
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ims/userinfo", get(userinfo).post(userinfo))
        .route("/ims/userinfo/v1", get(userinfo).post(userinfo))
        .route("/ims/userinfo/v2", get(userinfo).post(userinfo))
        .route("/ims/profile/v1", get(profile).post(profile))
        .route("/ims/organizations/v5", get(organizations))
        .route("/ims/organizations/v6", get(organizations))
        .route("/ims/logout/v1", get(logout::ims_logout).post(logout::ims_logout))
}

fn fail(e: BearerError) -> Response {
    e.into_oauth().into_response()
}

/// compat §5.1: claims projected by scope, with Adobe's `account_type`.
async fn userinfo(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    match userinfo::userinfo_claims(&svc, &params, Flavour::Adobe).await {
        Ok(claims) => no_store(Json(claims).into_response()),
        Err(e) => fail(e),
    }
}

/// compat §5.2: the profile fields typed in Adobe's SDKs. Needs `openid` like userinfo; the
/// email and names follow the `email` and `profile` scopes.
async fn profile(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    let result = async {
        let claims = userinfo::bearer(&svc, &params).await?;
        let account = userinfo::person(&svc, &claims).await?;
        let scopes = claims.scopes();
        let has = |s: &str| scopes.iter().any(|x| x == s);
        let mut body = json!({
            "userId": account.id,
            "authId": account.id,
            "account_type": adobe_account_type(account.account_type),
            "preferred_languages": ["en-us"],
        });
        if has("email") {
            body["email"] = json!(account.email.as_str());
            body["emailVerified"] = json!(account.email_verified.to_string());
        }
        if has("profile") {
            body["name"] = json!(account.display_name);
            body["displayName"] = json!(account.display_name);
            body["first_name"] = json!(account.given_name);
            body["last_name"] = json!(account.family_name);
            body["countryCode"] = json!(account.country);
        }
        Ok::<_, BearerError>(body)
    }
    .await;
    match result {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => fail(e),
    }
}

/// Adobe's role names for a member's role.
fn adobe_role(role: Role) -> &'static str {
    match role {
        Role::Admin => "ORG_ADMIN",
        Role::Developer => "DEVELOPER",
        Role::Member => "USER",
    }
}

/// compat §5.7: a JSON array of the organizations of the token's person (their memberships) or
/// service account (its owner), with `orgRef.ident`/`orgRef.authSrc` from the organization ID.
async fn organizations(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    let result = async {
        let claims = userinfo::bearer(&svc, &params).await?;
        let orgs = userinfo::organizations(&svc, &claims).await?;
        Ok::<_, BearerError>(
            orgs.iter()
                .map(|(org, membership)| {
                    let (ident, auth_src) = org.id.as_str().split_once('@').unwrap_or((org.id.as_str(), ""));
                    let role = membership.as_ref().map(|m| adobe_role(m.role));
                    json!({
                        "orgName": org.name,
                        "orgRef": { "ident": ident, "authSrc": auth_src },
                        "orgType": "Enterprise",
                        "countryCode": "",
                        "role": role,
                        "groups": match role {
                            Some(r) => json!([{ "groupName": r, "groupDisplayName": r, "role": r }]),
                            None => json!([]),
                        },
                    })
                })
                .collect::<Vec<Value>>(),
        )
    }
    .await;
    match result {
        Ok(list) => no_store(Json(list).into_response()),
        Err(e) => fail(e),
    }
}
