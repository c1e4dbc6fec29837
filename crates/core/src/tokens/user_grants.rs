//! The grants that act for a person, shared by both surfaces: `authorization_code` (RFC 6749
//! §4.1.3, RFC 7636 §4.5) and `refresh_token` (RFC 6749 §6, rotated on every use as RFC 9700
//! §4.14.2 advises), with ID tokens (OIDC Core §3.1.3.3) when `openid` was granted.
//!
//! ```text
//!  code ──consume once (records the jti and grant it is about to issue)──┬─ first use: check
//!                                                                        │  client, expiry,
//!                                                                        │  redirect URI, PKCE
//!                                                                        └─ reuse: revoke the
//!                                                                           grant, refuse
//!  refresh token ──rotate (old one marked, new one stored in the family)─┬─ current: new tokens
//!                                                                        └─ rotated before: reuse,
//!                                                                           revoke the grant
//! ```
//!
//! Every token of one code shares its grant ID (see `gatehouse_domain::token::grant`); revoking
//! the grant revokes the refresh tokens and, through the deny-list, the access tokens.

use super::service::{Client, Failure, TokenService};
use gatehouse_domain::{
    account::Account,
    secret,
    token::{
        TokenError,
        claims::{AccessTokenClaims, AccessTokenRequest, Flavour, new_jti},
        client_auth::{self, GrantType},
        grant::{
            self, CODE_PREFIX, CodeRedemption, GrantTokenKind, REFRESH_PREFIX, adobe_grant_claims, check_code,
            refreshed_scopes,
        },
        id_token::{IdTokenRequest, id_token_claims, releases_person_claims},
        records::{CodeConsumption, RefreshRotation, RefreshTokenRecord},
        scope::parse_scope_list,
    },
};
use gatehouse_store::{AccountStore, TokenStore};

use super::params::Params;

/// Tokens issued for a person.
#[derive(Debug)]
pub struct UserTokens {
    pub access_token: String,
    pub claims: AccessTokenClaims,
    pub lifetime: i64,
    pub scopes: Vec<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
}

fn has(scopes: &[String], s: &str) -> bool {
    scopes.iter().any(|x| x == s)
}

/// A new code or refresh token value in the surface's shape: opaque on the standard surface,
/// JWT-shaped with a `type` claim on the Adobe-compatible one (compat §1).
#[allow(clippy::too_many_arguments)]
pub async fn new_grant_token(
    svc: &TokenService,
    kind: GrantTokenKind,
    flavour: Flavour,
    client_id: &str,
    account_id: &str,
    scopes: &[String],
    lifetime: i64,
) -> Result<String, Failure> {
    match flavour {
        Flavour::Standard => Ok(grant::opaque(
            match kind {
                GrantTokenKind::AuthorizationCode => CODE_PREFIX,
                GrantTokenKind::RefreshToken => REFRESH_PREFIX,
            },
            &mut rand::thread_rng(),
        )),
        Flavour::Adobe => {
            let claims = adobe_grant_claims(
                kind,
                &svc.settings.issuer,
                client_id,
                account_id,
                scopes,
                svc.now(),
                lifetime,
                &mut rand::thread_rng(),
            );
            Ok(svc.sign_jwt("JWT", &claims).await?)
        }
    }
}

/// The facts of the grant a token request redeems.
struct GrantFacts<'a> {
    account_id: &'a str,
    /// Read when the scopes release claims about the person, or to check the account is live.
    account: Option<&'a Account>,
    scopes: Vec<String>,
    auth_time: Option<i64>,
    amr: &'a [String],
    nonce: Option<&'a str>,
    grant_id: String,
}

/// Signs the access token (with `jti`), and the ID token when `openid` was granted.
async fn issue(
    svc: &TokenService,
    client: &Client,
    facts: &GrantFacts<'_>,
    jti: String,
    refresh_token: Option<String>,
    flavour: Flavour,
) -> Result<UserTokens, Failure> {
    let lifetime = svc.access_lifetime(flavour);
    let services: Vec<String> = client
        .subscriptions
        .iter()
        .filter(|s| s.scopes.iter().any(|x| facts.scopes.contains(x)))
        .map(|s| s.service_code.as_str().to_owned())
        .collect();
    let req = AccessTokenRequest {
        subject: facts.account_id.to_owned(),
        client_id: client.client_id().to_owned(),
        org_id: None,
        audience: services,
        scopes: facts.scopes.clone(),
        lifetime,
        auth_time: facts.auth_time,
        grant_id: Some(facts.grant_id.clone()),
        flavour,
    };
    let (access_token, claims) = svc.issue_access_token(&req, Some(jti)).await?;
    let id_token = if has(&facts.scopes, "openid") {
        let c = id_token_claims(
            &IdTokenRequest {
                issuer: &svc.settings.issuer.issuer,
                client_id: client.client_id(),
                subject: facts.account_id,
                account: facts.account,
                scopes: &facts.scopes,
                auth_time: facts.auth_time.unwrap_or(claims.iat),
                nonce: facts.nonce,
                amr: facts.amr,
                access_token: Some(&access_token),
                lifetime: svc.settings.lifetimes.access_token,
            },
            claims.iat,
        );
        Some(
            svc.sign_id_token(&c, client.integration.id_token_signed_response_alg)
                .await?,
        )
    } else {
        None
    };
    svc.last_used.mark(&client.integration.id, None, svc.now());
    Ok(UserTokens {
        access_token,
        claims,
        lifetime,
        scopes: facts.scopes.clone(),
        refresh_token,
        id_token,
    })
}

/// The account a grant acts for, if it still exists and is not disabled.
async fn live_account(svc: &TokenService, account_id: &str) -> Result<Account, Failure> {
    let account = svc.store().conn().await?.account_by_id(account_id).await?;
    account
        .filter(|a| !a.disabled)
        .ok_or(Failure::Token(TokenError::AccountUnavailable))
}

/// RFC 6749 §4.1.3: redeems an authorization code once.
pub async fn authorization_code(
    svc: &TokenService,
    client: &Client,
    params: &Params,
    flavour: Flavour,
) -> Result<UserTokens, Failure> {
    client_auth::check_grant_allowed(&client.integration, GrantType::AuthorizationCode)?;
    let code = params.require("code")?;
    let redirect_uri = params.get("redirect_uri")?;
    let code_verifier = params.get("code_verifier")?;
    let now = svc.now();
    // What this redemption will issue is recorded in the consuming statement itself, so a second
    // use always finds it to revoke.
    let jti = new_jti(&mut rand::thread_rng());
    let grant_id = gatehouse_domain::ids::new_row_id(&mut rand::thread_rng());
    let consumed = svc
        .store()
        .conn()
        .await?
        .consume_authorization_code(&secret::digest(code), now, &jti, Some(&grant_id))
        .await?;
    let record = match consumed {
        CodeConsumption::Consumed(r) => r,
        CodeConsumption::NotFound => return Err(TokenError::InvalidAuthorizationCode.into()),
        CodeConsumption::AlreadyConsumed(r) => {
            // RFC 6749 §4.1.2: deny, and revoke what the first use issued — whoever asks.
            if let Some(first_jti) = &r.issued_jti {
                let until = now + svc.settings.lifetimes.longest_access_token();
                svc.revoke_jti(first_jti, &r.client_id, until).await?;
            }
            if let Some(first_grant) = &r.issued_family_id {
                svc.revoke_grant(first_grant, &r.client_id).await?;
            }
            tracing::warn!(client_id = %r.client_id, "an authorization code was used twice; its tokens are revoked");
            return Err(TokenError::AuthorizationCodeReused.into());
        }
    };
    check_code(
        &record,
        &CodeRedemption {
            client_id: client.client_id(),
            redirect_uri,
            code_verifier,
            now,
        },
    )?;
    let scopes = parse_scope_list(&record.scope)?;
    // The account was checked live when the code was issued, at most a code lifetime ago; it is
    // read again only for the claims the scopes release about the person.
    let account = if releases_person_claims(&scopes) {
        Some(live_account(svc, &record.account_id).await?)
    } else {
        None
    };
    let refresh_token = if has(&scopes, "offline_access") {
        let lifetime = svc.settings.lifetimes.refresh_token;
        let value = new_grant_token(
            svc,
            GrantTokenKind::RefreshToken,
            flavour,
            client.client_id(),
            &record.account_id,
            &scopes,
            lifetime,
        )
        .await?;
        let row = RefreshTokenRecord {
            digest: secret::digest(&value),
            family_id: grant_id.clone(),
            client_id: client.client_id().to_owned(),
            account_id: Some(record.account_id.clone()),
            scope: record.scope.clone(),
            auth_time: Some(record.auth_time),
            amr: record.amr.clone(),
            created_at: now,
            expires_at: now + lifetime,
            rotated_at: None,
            revoked_at: None,
        };
        svc.store().conn().await?.insert_refresh_token(&row).await?;
        Some(value)
    } else {
        None
    };
    let facts = GrantFacts {
        account_id: &record.account_id,
        account: account.as_ref(),
        scopes,
        auth_time: Some(record.auth_time),
        amr: &record.amr,
        nonce: record.nonce.as_deref(),
        grant_id,
    };
    issue(svc, client, &facts, jti, refresh_token, flavour).await
}

/// RFC 6749 §6: a new access token (and a new refresh token: rotation) for a current refresh
/// token. Presenting one that was already rotated revokes the whole grant.
pub async fn refresh_token(
    svc: &TokenService,
    client: &Client,
    params: &Params,
    flavour: Flavour,
) -> Result<UserTokens, Failure> {
    client_auth::check_grant_allowed(&client.integration, GrantType::RefreshToken)?;
    let presented = params.require("refresh_token")?;
    let requested = parse_scope_list(params.get("scope")?.unwrap_or(""))?;
    let now = svc.now();
    let lifetime = svc.settings.lifetimes.refresh_token;
    // Read the row first: a request this token cannot satisfy (a scope beyond its grant) is
    // refused before rotation, so the token stays usable and a retry is no reuse. Rotation below
    // still decides atomically whether this use is the first.
    let row = svc
        .store()
        .conn()
        .await?
        .refresh_token_by_digest(&secret::digest(presented))
        .await?
        .filter(|r| r.client_id == client.client_id());
    // Only a current token is spared: one rotated before is reuse whatever it asks for.
    if let Some(r) = row
        .as_ref()
        .filter(|r| r.rotated_at.is_none() && r.revoked_at.is_none())
    {
        refreshed_scopes(&parse_scope_list(&r.scope)?, &requested)?;
    }
    let new_value = match flavour {
        Flavour::Standard => grant::opaque(REFRESH_PREFIX, &mut rand::thread_rng()),
        Flavour::Adobe => {
            // The Adobe shape carries the account and scope.
            let (account_id, scopes) = match &row {
                Some(r) => (r.account_id.clone().unwrap_or_default(), parse_scope_list(&r.scope)?),
                None => (String::new(), Vec::new()),
            };
            new_grant_token(
                svc,
                GrantTokenKind::RefreshToken,
                flavour,
                client.client_id(),
                &account_id,
                &scopes,
                lifetime,
            )
            .await?
        }
    };
    let old = rotate(svc, client, presented, &new_value, now + lifetime).await?;
    let account = match old.account_id.as_deref() {
        Some(id) => live_account(svc, id).await?,
        None => return Err(TokenError::InvalidRefreshToken.into()),
    };
    let original = parse_scope_list(&old.scope)?;
    let scopes = refreshed_scopes(&original, &requested)?;
    let facts = GrantFacts {
        account_id: &account.id,
        account: Some(&account),
        scopes,
        auth_time: old.auth_time,
        amr: &old.amr,
        nonce: None,
        grant_id: old.family_id.clone(),
    };
    let jti = new_jti(&mut rand::thread_rng());
    issue(svc, client, &facts, jti, Some(new_value), flavour).await
}

/// Rotates `presented` to `new_value`; reuse revokes the grant.
async fn rotate(
    svc: &TokenService,
    client: &Client,
    presented: &str,
    new_value: &str,
    new_expires_at: i64,
) -> Result<RefreshTokenRecord, Failure> {
    let now = svc.now();
    // One transaction: the rotation mark and the new token land together or not at all.
    let mut tx = svc.store().begin().await?;
    let rotation = tx
        .rotate_refresh_token(
            &secret::digest(presented),
            client.client_id(),
            &secret::digest(new_value),
            new_expires_at,
            now,
        )
        .await?;
    tx.commit_unaudited().await?;
    match rotation {
        RefreshRotation::Rotated(old) => Ok(old),
        RefreshRotation::Reused { family_id, client_id } => {
            svc.revoke_grant(&family_id, &client_id).await?;
            tracing::warn!(client_id = %client_id, "a rotated refresh token was used again; its grant is revoked");
            Err(TokenError::RefreshTokenReused.into())
        }
        RefreshRotation::Invalid => Err(TokenError::InvalidRefreshToken.into()),
    }
}

/// Revokes the grant of a refresh token presented by `client_id` (RFC 7009 §2.1: revoking a
/// refresh token revokes its access tokens too). `false` when it is not one of the client's.
pub async fn revoke_refresh_token(svc: &TokenService, client_id: &str, token: &str) -> Result<bool, Failure> {
    let row = svc
        .store()
        .conn()
        .await?
        .refresh_token_by_digest(&secret::digest(token))
        .await?;
    match row {
        Some(r) if r.client_id == client_id => {
            svc.revoke_grant(&r.family_id, client_id).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}
