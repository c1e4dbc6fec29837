//! Who is calling the console and identity APIs: a person with a console session (state-changing
//! calls must repeat the CSRF cookie in `x-csrf-token`), or an access token checked by the node's
//! one token verifier. Whether a token may call them is the policy's decision
//! (`gatehouse_core::policy::console_api_token`, `person_api`): the `gatehouse.console` scope, and a
//! service account's own token (acting as an admin of its organization) or a person's. Pages use
//! [`principal_of`] with the [`SignedIn`] extractor.

use gatehouse_core::Kind;

use axum::{
    extract::FromRequestParts,
    http::{Method, header, request::Parts},
};
use gatehouse_core::policy::Principal;
use gatehouse_domain::{
    audit::Actor,
    identity::session::{AuthMethod, Session},
    token::claims::AccessTokenClaims,
};
use gatehouse_store::AccountStore;

use crate::error::ConsoleError;
use crate::{AppState, csrf::CsrfHeader, extract::ClientInfo, identity::SignedIn};

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

/// Who an access token stands for, as the node's one token verifier and the policy see it. The
/// verifier has checked the signature, lifetime, deny-list, cutoffs and that the client is active.
async fn from_token(state: &AppState, token: &str) -> Result<(Principal, Actor, Option<SignedIn>), ConsoleError> {
    let svc = &state.tokens;
    let claims = match svc.inspect_access_token(token).await.map_err(ConsoleError::internal)? {
        Ok(c) => c,
        Err(why) => {
            return Err(unauthorized(
                "invalid_token",
                &format!("The access token is not valid ({}).", why.reason()),
            ));
        }
    };
    let client = svc
        .client(&claims.client_id)
        .await
        .map_err(ConsoleError::internal)?
        .ok_or_else(|| unauthorized("invalid_token", "The access token's client is gone."))?;
    let (principal, actor, person) = if claims.sub == client.own_subject() {
        let i = client.integration.clone();
        (Principal::integration(i.clone()), Actor::Integration(i.id), None)
    } else {
        let account = state
            .store
            .conn()
            .await?
            .account_by_id(&claims.sub)
            .await?
            .filter(|a| !a.disabled)
            .ok_or_else(|| unauthorized("invalid_token", "The access token's account is disabled or gone."))?;
        let session = token_session(&claims, state.now());
        // A token does not say how its sign-in went: no second factor counts as used.
        let principal =
            gatehouse_core::policy::load_person(&state.store, &account, false, Some(claims.client_id.clone())).await?;
        (
            principal,
            Actor::Account(account.id.clone()),
            Some(SignedIn::new(account, session)),
        )
    };
    gatehouse_core::policy::console_api_token(&principal, &claims.scopes())?;
    Ok((principal, actor, person))
}

/// The token of an `Authorization: Bearer …` value; the scheme is case-insensitive (RFC 7235 §2.1).
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let client = ClientInfo::from_request_parts(parts, state).await.unwrap_or_default();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .map(str::to_owned);
        if let Some(token) = bearer {
            let (principal, actor, person) = from_token(state, &token).await?;
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
        gatehouse_core::policy::person_api(&caller.principal)?;
        let person = caller
            .0
            .person
            .ok_or_else(|| ConsoleError::internal("a person's caller without a person"))?;
        Ok(Self(SignedIn(person)))
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_matched_case_insensitively() {
        for v in ["Bearer t0k", "bearer t0k", "BEARER t0k", "bEaReR  t0k "] {
            assert_eq!(bearer_token(v), Some("t0k"), "{v}");
        }
        assert_eq!(bearer_token("Basic dXNlcjpwdw=="), None);
        assert_eq!(bearer_token("Bearer"), None);
    }
}
