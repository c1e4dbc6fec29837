//! Who is calling the console API: a person with a console session (state-changing calls must
//! repeat the CSRF cookie in `x-csrf-token`), or a client with an access token carrying
//! [`API_SCOPE`] — a service account's token acts as an admin of its organization, a token issued
//! to a person acts as that person. Pages use [`principal_of`] with the [`SignedIn`] extractor.

use gatehouse_core::Kind;
use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{Method, header, request::Parts},
};
use gatehouse_core::policy::Principal;
use gatehouse_domain::{
    audit::Actor,
    console::{API_SCOPE, cutoff::is_cut_off},
    identity::session::{AuthMethod, Session},
    integration::{IntegrationStatus, IntegrationType},
    token::claims::AccessTokenClaims,
};
use gatehouse_store::{AccountStore, ConsoleStore};

use crate::error::ConsoleError;
use crate::{AppState, csrf::CsrfHeader, extract::ClientInfo, identity::SignedIn};
use gatehouse_core::TokenService;

/// The caller of a console use case ([`gatehouse_core::console::Caller`]) as an extractor. The
/// person, when one is calling, is their console session or — for a token issued to them — their
/// account with a session that stands for the token ([`token_session`]).
#[derive(Debug, Clone)]
pub struct Caller(pub gatehouse_core::console::Caller);

impl std::ops::Deref for Caller {
    type Target = gatehouse_core::console::Caller;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// What a person's access token stands for where a session is expected: no cookie (an empty
/// digest, so no stored session is "the current one"), authenticated when the token says, and with
/// no second factor on record (a token does not say how its sign-in went), so organizations that
/// require two-step verification stay closed to it.
pub fn token_session(claims: &AccessTokenClaims, now: gatehouse_domain::Timestamp) -> Session {
    Session {
        id_digest: String::new(),
        account_id: claims.sub.clone(),
        auth_methods: vec![AuthMethod::Password],
        auth_time: claims.auth_time.unwrap_or(claims.iat),
        created_at: claims.iat,
        last_seen_at: now,
        expires_at: claims.exp,
        ip: None,
        user_agent: None,
    }
}

/// The principal of a signed-in person: their memberships, operator flag and second factor.
pub async fn principal_of(state: &AppState, who: &SignedIn) -> Result<Principal, ConsoleError> {
    Ok(gatehouse_core::policy::load_person(&state.store, &who.account, who.session.used_second_factor(), None).await?)
}

/// A signed-in person as a [`Caller`] (console pages).
pub async fn caller_of(state: &AppState, who: &SignedIn, client: ClientInfo) -> Result<Caller, ConsoleError> {
    Ok(Caller(gatehouse_core::console::Caller {
        principal: principal_of(state, who).await?,
        actor: Actor::Account(who.account.id.clone()),
        client: client.0,
        person: Some(who.0.clone()),
    }))
}

fn unauthorized(code: &'static str, message: &str) -> ConsoleError {
    ConsoleError::new(Kind::Unauthorized, code, message)
}

async fn from_token(
    state: &AppState,
    svc: &TokenService,
    token: &str,
) -> Result<(Principal, Actor, Option<SignedIn>), ConsoleError> {
    let claims = match svc.inspect_access_token(token).await.map_err(ConsoleError::internal)? {
        Ok(c) => c,
        Err(why) => {
            return Err(unauthorized(
                "invalid_token",
                &format!("The access token is not valid ({}).", why.reason()),
            ));
        }
    };
    let scopes = claims.scopes();
    if !scopes.iter().any(|s| s == API_SCOPE) {
        return Err(ConsoleError::new(
            Kind::Forbidden,
            "insufficient_scope",
            format!("The access token lacks the scope {API_SCOPE} that this API requires."),
        ));
    }
    let mut conn = state.store.conn().await?;
    if is_cut_off(&conn.token_cutoffs_of(&claims.client_id).await?, claims.iat, &scopes) {
        return Err(unauthorized("invalid_token", "The access token has been revoked."));
    }
    let client = svc
        .client(&claims.client_id)
        .await
        .map_err(ConsoleError::internal)?
        .filter(|c| c.integration.status == IntegrationStatus::Active)
        .ok_or_else(|| unauthorized("invalid_token", "The access token's client is disabled or gone."))?;
    let i = &client.integration;
    if i.integration_type == IntegrationType::ServiceAccount
        && i.technical_account_id.as_deref() == Some(claims.sub.as_str())
        && i.org_id().is_some()
    {
        return Ok((
            Principal::integration(i.clone()),
            Actor::Integration(i.id.clone()),
            None,
        ));
    }
    if claims.sub != claims.client_id
        && let Some(account) = conn.account_by_id(&claims.sub).await?
        && !account.disabled
    {
        drop(conn);
        let session = token_session(&claims, state.now());
        // A token does not say how its sign-in went: no second factor counts as used.
        let principal =
            gatehouse_core::policy::load_person(&state.store, &account, false, Some(claims.client_id.clone())).await?;
        return Ok((
            principal,
            Actor::Account(account.id.clone()),
            Some(SignedIn::new(account, session)),
        ));
    }
    Err(ConsoleError::new(
        Kind::Forbidden,
        "token_not_allowed",
        "Only a service account's token or a token issued to a person can call this API.",
    ))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let client = ClientInfo::from_request_parts(parts, state).await.unwrap_or_default();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_owned());
        if let Some(token) = bearer {
            let svc = parts
                .extensions
                .get::<Arc<TokenService>>()
                .cloned()
                .ok_or_else(|| ConsoleError::internal("the console API has no token service"))?;
            let (principal, actor, person) = from_token(state, &svc, &token).await?;
            return Ok(Self(gatehouse_core::console::Caller {
                principal,
                actor,
                client: client.0,
                person: person.map(|p| p.0),
            }));
        }
        let Some(who) = crate::identity::session::load(state, &parts.headers).await? else {
            return Err(unauthorized(
                "not_signed_in",
                "Sign in first, or send an access token with the gatehouse.console scope as a Bearer token.",
            ));
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            CsrfHeader::from_request_parts(parts, state).await?;
        }
        caller_of(state, &who, client).await
    }
}

/// The person calling the identity JSON API: the console session (state-changing calls repeat
/// the CSRF cookie in `x-csrf-token`), or an access token issued to the person that carries the
/// `gatehouse.console` scope — the console API's extractor ([`Caller`]),
/// so both APIs accept the same credentials and refuse with the same problems (401 without a
/// session or with an invalid, expired or revoked token; 403 without the scope). A service
/// account's token has no person to act for and is refused (403 `token_not_allowed`).
#[derive(Debug, Clone)]
pub struct ApiSession(pub SignedIn);

impl FromRequestParts<AppState> for ApiSession {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.0.person.map(|p| Self(SignedIn(p))).ok_or_else(|| {
            ConsoleError::new(
                Kind::Forbidden,
                "token_not_allowed",
                "This API acts for a person: use the console session or a token issued to a person. \
                 A service account's token cannot use it.",
            )
        })
    }
}
