//! The session cookie and the extractors other surfaces use to know who is signed in.
//!
//! - [`SignedIn`]: a page handler's argument; without a live session the browser is sent to
//!   `/signin?return_to=<this page>` (GET) or shown a "signed out" page (other methods).
//! - [`OptionalSession`]: `Some(SignedIn)` or `None`, never rejects.
//! - [`ApiSession`]: for `/api/v1`: the session or a person's access token with the console scope.
//! - [`start_session`] / [`end_session`]: a new session (new cookie value, so no fixation) and
//!   its cookie; the end of one.
//!
//! The cookie is `__Host-gatehouse_session` when the public URL is https (`Secure`, `Path=/`, no
//! `Domain`), `gatehouse_session` otherwise; always `HttpOnly` and `SameSite=Lax`. Its value is
//! 256 random bits; the server keeps only their digest.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, IntoResponseParts, Redirect, Response, ResponseParts},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use gatehouse_domain::{
    account::Account,
    identity::session::{AuthMethod, Session, new_session_secret, well_formed_secret},
    secret,
};
use gatehouse_store::{SessionStore, StoreError};

use super::return_to;
use crate::{AppState, error::PageError, extract::ClientInfo};

pub const SECURE_COOKIE: &str = "__Host-gatehouse_session";
pub const PLAIN_COOKIE: &str = "gatehouse_session";

/// The session cookie's name for this deployment.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_COOKIE } else { PLAIN_COOKIE }
}

/// A signed-in person (the core's [`gatehouse_core::identity::SignedIn`]) as an extractor.
#[derive(Debug, Clone)]
pub struct SignedIn(pub gatehouse_core::identity::SignedIn);

impl SignedIn {
    pub fn new(account: Account, session: Session) -> Self {
        Self(gatehouse_core::identity::SignedIn { account, session })
    }
}

impl std::ops::Deref for SignedIn {
    type Target = gatehouse_core::identity::SignedIn;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

fn cookie_value(headers: &HeaderMap, secure: bool) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(cookie_name(secure))
        .map(|c| c.value().to_owned())
        .filter(|v| well_formed_secret(v))
}

/// Looks up the live session the request's cookie names, if any, and records the request.
pub async fn load(state: &AppState, headers: &HeaderMap) -> Result<Option<SignedIn>, StoreError> {
    let Some(value) = cookie_value(headers, state.settings.secure_cookies) else {
        return Ok(None);
    };
    let digest = secret::digest(&value);
    let now = state.now();
    let policy = state.settings.identity.session;
    let mut conn = state.store.conn().await?;
    let Some((session, account)) = conn.session_with_account(&digest).await? else {
        return Ok(None);
    };
    if !session.is_active(&policy, now) {
        conn.delete_session(&digest).await?;
        return Ok(None);
    }
    if account.disabled {
        conn.delete_sessions_of_account(&account.id, None).await?;
        return Ok(None);
    }
    let mut session = session;
    if session.needs_touch(now) {
        conn.touch_session(&digest, now).await?;
        session.last_seen_at = now;
    }
    Ok(Some(SignedIn::new(account, session)))
}

/// Why a page needs a sign-in first.
#[derive(Debug)]
pub enum SignInRequired {
    /// Send the browser to sign in and back to `return_to`.
    Redirect(String),
    /// Not a GET: the form cannot be replayed after sign-in.
    Expired,
    Error(PageError),
}

impl IntoResponse for SignInRequired {
    fn into_response(self) -> Response {
        match self {
            Self::Redirect(to) => Redirect::to(&return_to::signin_url(&to)).into_response(),
            Self::Expired => PageError::new(
                StatusCode::UNAUTHORIZED,
                "You are signed out",
                "Your session has ended, so this was not saved. Sign in again and repeat the change.",
            )
            .into_response(),
            Self::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = SignInRequired;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match load(state, &parts.headers).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) if parts.method == Method::GET || parts.method == Method::HEAD => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
                Err(SignInRequired::Redirect(here))
            }
            Ok(None) => Err(SignInRequired::Expired),
            Err(e) => Err(SignInRequired::Error(e.into())),
        }
    }
}

impl OptionalFromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        Ok(load(state, &parts.headers).await?)
    }
}

/// The signed-in person, if any. Never rejects (a store failure is a 500 page).
#[derive(Debug, Clone)]
pub struct OptionalSession(pub Option<SignedIn>);

impl FromRequestParts<AppState> for OptionalSession {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(load(state, &parts.headers).await?))
    }
}

/// A `Set-Cookie` for the session cookie (a new value, or its removal).
#[derive(Debug, Clone)]
pub struct SessionCookie {
    header: Option<HeaderValue>,
}

impl SessionCookie {
    fn new(value: String, secure: bool, max_age: i64) -> Self {
        let cookie = Cookie::build((cookie_name(secure), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(time::Duration::seconds(max_age))
            .build();
        Self {
            header: HeaderValue::from_str(&cookie.encoded().to_string()).ok(),
        }
    }

    /// Removes the cookie from the browser.
    pub fn clear(secure: bool) -> Self {
        Self::new(String::new(), secure, 0)
    }
}

impl IntoResponseParts for SessionCookie {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(v) = self.header {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
        Ok(res)
    }
}

/// Starts a new session for `account` (always a new cookie value) and returns its cookie.
/// `replaces` is the digest of a session this sign-in supersedes, which ends.
pub async fn start_session(
    state: &AppState,
    account: &Account,
    methods: Vec<AuthMethod>,
    client: &ClientInfo,
    replaces: Option<&str>,
) -> Result<(Session, SessionCookie), StoreError> {
    let (value, digest) = new_session_secret(&mut rand::thread_rng());
    let policy = state.settings.identity.session;
    let session = Session::start(
        digest,
        account.id.clone(),
        methods,
        &policy,
        state.now(),
        client.ip.clone(),
        client.user_agent.clone(),
    );
    let mut conn = state.store.conn().await?;
    if let Some(old) = replaces {
        conn.delete_session(old).await?;
    }
    conn.insert_session(&session).await?;
    let cookie = SessionCookie::new(value, state.settings.secure_cookies, policy.absolute_timeout);
    Ok((session, cookie))
}

/// Ends the request's session, if any, and returns the cookie that clears it.
pub async fn end_session(state: &AppState, headers: &HeaderMap) -> Result<SessionCookie, StoreError> {
    if let Some(value) = cookie_value(headers, state.settings.secure_cookies) {
        state
            .store
            .conn()
            .await?
            .delete_session(&secret::digest(&value))
            .await?;
    }
    Ok(SessionCookie::clear(state.settings.secure_cookies))
}

/// Sends the browser to sign in and then back to `return_to` (one of Gatehouse's own paths,
/// such as the full `/oauth/authorize?...` request). With `force`, the sign-in form is shown
/// even to someone already signed in (`prompt=login`); the new sign-in's `auth_time` is then
/// later than the moment of this call, which [`Session::authenticated_since`] checks.
pub fn redirect_to_signin(return_to: &str, force: bool) -> Redirect {
    let mut url = return_to::signin_url(return_to);
    if force {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("prompt=login");
    }
    Redirect::to(&url)
}
