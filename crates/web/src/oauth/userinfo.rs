//! What a person's access token may learn about them: the UserInfo endpoint (OIDC Core §5.3) on
//! `/oauth/userinfo`, and the lookups the Adobe-compatible surface builds on it (userinfo,
//! profile and organizations in `crate::ims::account`).
//!
//! ```text
//!  client ──GET|POST /oauth/userinfo  Authorization: Bearer <access token>──▶ userinfo   OIDC Core §5.3
//!            401 invalid_token (RFC 6750 §3.1) · 403 insufficient_scope without `openid`
//! ```

use gatehouse_core::tokens::service::{Inactive, ServiceError, TokenService};
use std::sync::Arc;

use axum::{
    Extension, Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use gatehouse_domain::{
    account::Account,
    ids::OrgId,
    org::{Membership, Organization},
    token::{
        claims::{AccessTokenClaims, Flavour},
        id_token::person_claims,
    },
};
use gatehouse_store::{AccountStore, OrgStore};

use super::params::Params;
use crate::OAuthError;

/// Why a bearer token was not accepted (RFC 6750 §3.1).
#[derive(Debug)]
pub enum BearerError {
    Missing,
    Invalid(Inactive),
    /// The token acts for a client, not a person.
    NotAPerson,
    /// The person's account is disabled or gone.
    AccountGone,
    InsufficientScope(&'static str),
    Internal(ServiceError),
}

impl From<ServiceError> for BearerError {
    fn from(e: ServiceError) -> Self {
        Self::Internal(e)
    }
}

impl From<gatehouse_store::StoreError> for BearerError {
    fn from(e: gatehouse_store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

impl BearerError {
    pub fn into_oauth(self) -> OAuthError {
        match self {
            Self::Missing => OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "an access token is required",
            )
            .with_www_authenticate("Bearer realm=\"gatehouse\""),
            Self::Invalid(why) => {
                OAuthError::invalid_token(format!("the access token is not active ({})", why.reason()))
            }
            Self::NotAPerson => OAuthError::invalid_token("the access token does not act for a person"),
            Self::AccountGone => OAuthError::invalid_token("the account is disabled or no longer exists"),
            Self::InsufficientScope(scope) => {
                let mut e = OAuthError::new(
                    StatusCode::FORBIDDEN,
                    "insufficient_scope",
                    format!("the access token lacks the {scope} scope"),
                );
                e.www_authenticate = Some(format!(
                    "Bearer realm=\"gatehouse\", error=\"insufficient_scope\", scope=\"{scope}\""
                ));
                e
            }
            Self::Internal(e) => OAuthError::server_error(e),
        }
    }
}

/// The active access token of the request: `Authorization: Bearer`, or the `access_token` form
/// or query parameter (RFC 6750 §2.2–2.3).
pub async fn bearer(svc: &TokenService, params: &Params) -> Result<AccessTokenClaims, BearerError> {
    let token = match &params.bearer {
        Some(t) => t.clone(),
        None => params
            .get("access_token")
            .ok()
            .flatten()
            .map(str::to_owned)
            .ok_or(BearerError::Missing)?,
    };
    svc.inspect_access_token(&token).await?.map_err(BearerError::Invalid)
}

/// The person a user token acts for (tokens of the user grants carry a grant ID).
pub async fn person(svc: &TokenService, claims: &AccessTokenClaims) -> Result<Account, BearerError> {
    if claims.grant_id.is_none() {
        return Err(BearerError::NotAPerson);
    }
    let account = svc.store().conn().await?.account_by_id(&claims.sub).await?;
    account.filter(|a| !a.disabled).ok_or(BearerError::AccountGone)
}

/// The organizations a token's subject belongs to: a person's memberships, or a service
/// account's owning organization. Each with the person's role, if any.
pub async fn organizations(
    svc: &TokenService,
    claims: &AccessTokenClaims,
) -> Result<Vec<(Organization, Option<Membership>)>, BearerError> {
    let mut out = Vec::new();
    if claims.grant_id.is_some() {
        let account = person(svc, claims).await?;
        let mut conn = svc.store().conn().await?;
        for m in conn.memberships_of_account(&account.id).await? {
            if let Some(org) = conn.org_by_id(&m.org_id).await? {
                out.push((org, Some(m)));
            }
        }
    } else if let Some(org_id) = &claims.org_id
        && let Ok(id) = OrgId::parse(org_id)
        && let Some(org) = svc.store().conn().await?.org_by_id(&id).await?
    {
        out.push((org, None));
    }
    Ok(out)
}

/// OIDC Core §5.3: the claims about the person that the token's scopes release.
pub async fn userinfo(Extension(svc): Extension<Arc<TokenService>>, params: Params) -> Response {
    match userinfo_claims(&svc, &params, Flavour::Standard).await {
        Ok(claims) => no_store(Json(claims).into_response()),
        Err(e) => e.into_oauth().into_response(),
    }
}

/// The userinfo document of the token in `params`, in the surface's flavour.
pub async fn userinfo_claims(
    svc: &TokenService,
    params: &Params,
    flavour: Flavour,
) -> Result<serde_json::Map<String, serde_json::Value>, BearerError> {
    let claims = bearer(svc, params).await?;
    let scopes = claims.scopes();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(BearerError::InsufficientScope("openid"));
    }
    let account = person(svc, &claims).await?;
    Ok(person_claims(&account, &scopes, flavour))
}

/// Marks a response as not to be cached (it is about one person).
pub fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
