//! What an authenticated client may learn about a token (RFC 7662) and revoke (RFC 7009), shared
//! by `/oauth/introspect`, `/oauth/revoke` and the Adobe-compatible `/ims` paths.
//!
//! Access tokens are Gatehouse's signed JWTs; refresh tokens are looked up by digest. Whose token
//! it is decides the rest, through the policy: a client introspects and revokes its own tokens,
//! and introspects other clients' only when an operator allowed it (`policy::introspects`).

use gatehouse_domain::{
    integration::IntegrationStatus,
    secret,
    token::{TokenError, claims::AccessTokenClaims, records::RefreshTokenRecord},
};
use gatehouse_store::TokenStore;

use super::{
    service::{Client, Failure, TokenService},
    user_grants,
};
use crate::policy;

/// What introspection says about a token the caller may see.
#[derive(Debug)]
pub enum Introspection {
    Access(AccessTokenClaims),
    Refresh(RefreshTokenRecord),
    /// Unknown, expired, revoked, or a token the caller may not see (RFC 7662 §2.2, §4).
    Inactive,
}

/// RFC 7662 §2: the token's state, for `caller`.
pub async fn introspect(svc: &TokenService, caller: &Client, token: &str) -> Result<Introspection, Failure> {
    if let Ok(claims) = svc.inspect_access_token(token).await? {
        return Ok(if policy::introspects(&caller.integration, &claims.client_id) {
            Introspection::Access(claims)
        } else {
            Introspection::Inactive
        });
    }
    match live_refresh_token(svc, token).await? {
        Some(r) if policy::introspects(&caller.integration, &r.client_id) => Ok(Introspection::Refresh(r)),
        _ => Ok(Introspection::Inactive),
    }
}

/// A refresh token that would be accepted now: current (not rotated, not revoked, unexpired) and
/// of an active integration.
async fn live_refresh_token(svc: &TokenService, token: &str) -> Result<Option<RefreshTokenRecord>, Failure> {
    let row = svc
        .store()
        .conn()
        .await?
        .refresh_token_by_digest(&secret::digest(token))
        .await?;
    let Some(r) = row.filter(|r| r.rotated_at.is_none() && r.revoked_at.is_none() && r.expires_at > svc.now()) else {
        return Ok(None);
    };
    let active_client = svc
        .client(&r.client_id)
        .await?
        .is_some_and(|c| c.integration.status == IntegrationStatus::Active);
    Ok(active_client.then_some(r))
}

/// What a revocation request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// The caller's token is revoked (a refresh token with its whole grant).
    Revoked,
    /// Not a token Gatehouse knows (or already invalid): nothing to do (RFC 7009 §2.2).
    Unknown,
}

/// RFC 7009 §2.1: revokes `token` if it was issued to `caller`; another client's token is refused
/// (`unauthorized_client`) and stays valid.
pub async fn revoke(svc: &TokenService, caller: &Client, token: &str) -> Result<Revocation, Failure> {
    if let Ok(claims) = svc.inspect_access_token(token).await? {
        if !policy::revokes(&caller.integration, &claims.client_id) {
            return Err(TokenError::TokenOfAnotherClient.into());
        }
        svc.revoke_access_token(&claims).await?;
        return Ok(Revocation::Revoked);
    }
    let row = svc
        .store()
        .conn()
        .await?
        .refresh_token_by_digest(&secret::digest(token))
        .await?;
    match row {
        Some(r) if !policy::revokes(&caller.integration, &r.client_id) => Err(TokenError::TokenOfAnotherClient.into()),
        Some(_) => {
            user_grants::revoke_refresh_token(svc, caller.client_id(), token).await?;
            Ok(Revocation::Revoked)
        }
        None => Ok(Revocation::Unknown),
    }
}
