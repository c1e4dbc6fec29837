//! Sign-in with a passkey, called by `/static/passkeys.js` with JSON (CSRF token in the
//! `x-csrf-token` header; errors as problem JSON). Two ways in:
//!
//! ```text
//!  passwordless (first sign-in page, "Sign in with a passkey"):
//!   POST /signin/passkey/options      ─▶ passwordless_options → ceremony bound to this browser's
//!                                                               CSRF cookie; discoverable, UV required
//!   navigator.credentials.get(…)
//!   POST /signin/passkey              ─▶ passwordless_finish  → throttles, verify, counter recorded
//!                                                               ─▶ new session (amr hwk) {redirect}
//!  second factor (after the password, beside TOTP):
//!   POST /signin/mfa/passkey/options  ─▶ second_factor_options → needs the pending sign-in cookie;
//!                                                               the account's passkeys allowed
//!   navigator.credentials.get(…)
//!   POST /signin/mfa/passkey          ─▶ second_factor_finish → new session (pwd + hwk) {redirect}
//! ```
//!
//! The ceremony state (the challenge) is stored server-side by [`ceremony`], used once and
//! expires after five minutes.

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use gatehouse_core::identity::audit;
use gatehouse_core::identity::{ThrottleKind, throttles};
use gatehouse_domain::{
    account::Account,
    audit::Actor,
    identity::{
        passkey::{self, CeremonyKind, Passkey, PublicKeyCredential},
        session::AuthMethod,
    },
    secret,
};
use gatehouse_store::{AccountStore, PasskeyStore, StoredPasskey};
use serde::{Deserialize, Serialize};

use super::{
    pending::PendingSignIn,
    return_to,
    signin::{complete, current_digest, too_many},
};
use crate::{
    AppState,
    csrf::{CsrfHeader, CsrfToken},
    error::{ApiError, PageError},
    extract::{ApiJson, ClientInfo},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin/passkey/options", post(passwordless_options))
        .route("/signin/passkey", post(passwordless_finish))
        .route("/signin/mfa/passkey/options", post(second_factor_options))
        .route("/signin/mfa/passkey", post(second_factor_finish))
}

/// Server-side ceremony state: start, then take once.
pub mod ceremony {
    use gatehouse_domain::identity::passkey::{CEREMONY_LIFETIME, CeremonyKind, RelyingParty};
    use gatehouse_store::{PasskeyCeremony, PasskeyStore};
    use serde::{Serialize, de::DeserializeOwned};

    use crate::{AppState, error::ApiError};

    /// Whether this deployment can use passkeys at all (its public URL has a domain name); pages
    /// show no passkey controls when it cannot.
    pub fn available(state: &AppState) -> bool {
        RelyingParty::for_public_url(&state.settings.public_url, &state.settings.identity.totp_issuer).is_ok()
    }

    /// Gatehouse as a relying party, from the public URL.
    pub fn relying_party(state: &AppState) -> Result<RelyingParty, ApiError> {
        RelyingParty::for_public_url(&state.settings.public_url, &state.settings.identity.totp_issuer)
            .map_err(|e| ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, e.code, e.message))
    }

    /// Stores `state_value` for a ceremony of `kind` started by `binding`; returns the value the
    /// browser sends back to finish it (only its digest is stored). Expired ceremonies are purged.
    pub async fn start(
        app: &AppState,
        kind: CeremonyKind,
        binding: &str,
        state_value: &impl Serialize,
    ) -> Result<String, ApiError> {
        let now = app.now();
        let token = gatehouse_domain::secret::random_token_hex(&mut rand::thread_rng());
        let mut conn = app.store.conn().await?;
        conn.purge_passkey_ceremonies(now).await?;
        conn.insert_passkey_ceremony(&PasskeyCeremony {
            id_digest: gatehouse_domain::secret::digest(&token),
            kind: kind.as_str().to_owned(),
            binding: binding.to_owned(),
            state: serde_json::to_string(state_value).map_err(ApiError::internal)?,
            created_at: now,
            expires_at: now + CEREMONY_LIFETIME,
        })
        .await?;
        Ok(token)
    }

    /// Takes the ceremony `token` names, once, if it is of `kind`, was started by `binding` and
    /// has not expired.
    pub async fn take<T: DeserializeOwned>(
        app: &AppState,
        token: &str,
        kind: CeremonyKind,
        binding: &str,
    ) -> Result<T, ApiError> {
        let taken = app
            .store
            .conn()
            .await?
            .take_passkey_ceremony(
                &gatehouse_domain::secret::digest(token),
                kind.as_str(),
                binding,
                app.now(),
            )
            .await?;
        let Some(c) = taken else {
            return Err(ApiError::bad_request(
                "passkey_request_expired",
                "This passkey request has expired or was used already. Try again.",
            ));
        };
        serde_json::from_str(&c.state).map_err(ApiError::internal)
    }
}

/// The stored passkey as `webauthn-rs` uses it.
pub fn parse_passkey(stored: &StoredPasskey) -> Result<Passkey, ApiError> {
    serde_json::from_str(&stored.passkey).map_err(ApiError::internal)
}

/// Options for `navigator.credentials.create/get`, with the ceremony to send back.
#[derive(Debug, Serialize)]
pub struct Started<T: Serialize> {
    pub ceremony: String,
    #[serde(flatten)]
    pub options: T,
}

/// Where the script goes next.
#[derive(Debug, Serialize)]
pub struct Next {
    pub redirect: String,
}

#[derive(Debug, Deserialize)]
struct FinishBody {
    ceremony: String,
    credential: PublicKeyCredential,
    #[serde(default)]
    return_to: String,
}

fn page_error(e: PageError) -> ApiError {
    ApiError::new(e.status, "error", e.message)
}

/// A passwordless ceremony is bound to the browser that started it through its CSRF cookie.
fn browser_binding(csrf: &CsrfToken) -> String {
    format!("browser:{}", secret::digest(csrf.value()))
}

fn pending_binding(p: &PendingSignIn) -> String {
    format!("pending:{}:{}", p.account_id, p.expires_at)
}

async fn passwordless_options(
    State(state): State<AppState>,
    _csrf: CsrfHeader,
    csrf: CsrfToken,
) -> Result<Response, ApiError> {
    let rp = ceremony::relying_party(&state)?;
    let (options, st) = rp.start_passwordless()?;
    let token = ceremony::start(&state, CeremonyKind::Passwordless, &browser_binding(&csrf), &st).await?;
    Ok(ApiJson(Started {
        ceremony: token,
        options,
    })
    .into_response())
}

/// Why a passkey sign-in failed, for the audit log and the person.
struct Refusal {
    account: Option<String>,
    reason: &'static str,
    error: ApiError,
    /// Another throttle key the failure counts against (the second-factor step's).
    also: Option<String>,
}

impl Refusal {
    fn new(account: Option<&str>, reason: &'static str, error: ApiError) -> Self {
        Self {
            account: account.map(str::to_owned),
            reason,
            error,
            also: None,
        }
    }

    fn counting(mut self, key: &str) -> Self {
        self.also = Some(key.to_owned());
        self
    }
}

/// Records a failed passkey sign-in (audit, throttles) and returns its error.
async fn refuse(state: &AppState, client: &ClientInfo, step: &str, r: Refusal) -> ApiError {
    let now = state.now();
    let ip = client.ip.clone().unwrap_or_default();
    if let Err(e) = throttles::fail(state, ThrottleKind::Ip, &ip, now).await {
        return ApiError::from(e);
    }
    let (actor, target) = match &r.account {
        Some(id) => {
            let keys = std::iter::once(format!("passkey:{id}")).chain(r.also.clone());
            for key in keys {
                if let Err(e) = throttles::fail(state, ThrottleKind::Account, &key, now).await {
                    return ApiError::from(e);
                }
            }
            (Actor::Account(id.clone()), audit::account_target(id))
        }
        None => (Actor::System, "passkey".to_owned()),
    };
    let entry = audit::entry(state, &actor, "signin.failed", target, client)
        .details(serde_json::json!({ "reason": r.reason, "step": step }));
    if let Err(e) = audit::record(state, &entry).await {
        return ApiError::from(e);
    }
    r.error
}

fn throttled(wait: i64) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", too_many(wait))
}

/// Verifies an authentication result against the stored passkey and records the use with a
/// compare-and-set, so a counter value is accepted once and a passkey removed meanwhile fails.
async fn record_use(
    state: &AppState,
    stored: &StoredPasskey,
    result: &passkey::AuthenticationResult,
) -> Result<bool, ApiError> {
    let mut key = parse_passkey(stored)?;
    passkey::record_use(&mut key, result);
    let updated = serde_json::to_string(&key).map_err(ApiError::internal)?;
    Ok(state
        .store
        .conn()
        .await?
        .record_passkey_use(&stored.id, &stored.passkey, &updated, state.now())
        .await?)
}

fn unknown_passkey() -> ApiError {
    ApiError::unprocessable("passkey_unknown", "This passkey is not registered here.")
}

async fn passwordless_finish(
    State(state): State<AppState>,
    _csrf: CsrfHeader,
    csrf: CsrfToken,
    client: ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FinishBody>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let ip = client.ip.clone().unwrap_or_default();
    if let Err(wait) = throttles::check(&state, ThrottleKind::Ip, &ip, now).await? {
        return Err(throttled(wait));
    }
    let rp = ceremony::relying_party(&state)?;
    let st = ceremony::take(
        &state,
        &body.ceremony,
        CeremonyKind::Passwordless,
        &browser_binding(&csrf),
    )
    .await?;
    let (account, stored) = match identify(&state, &rp, &body.credential).await? {
        Ok(found) => found,
        Err(r) => return Err(refuse(&state, &client, "passwordless", r).await),
    };
    if let Err(wait) = throttles::check(&state, ThrottleKind::Account, &format!("passkey:{}", account.id), now).await? {
        return Err(throttled(wait));
    }
    let key = parse_passkey(&stored)?;
    let result = match rp.finish_passwordless(&body.credential, st, &key) {
        Ok(r) => r,
        Err(e) => {
            let r = Refusal::new(Some(&account.id), e.code, ApiError::from(e));
            return Err(refuse(&state, &client, "passwordless", r).await);
        }
    };
    if !record_use(&state, &stored, &result).await? {
        let r = Refusal::new(Some(&account.id), "passkey_replayed", unknown_passkey());
        return Err(refuse(&state, &client, "passwordless", r).await);
    }
    throttles::succeed(&state, ThrottleKind::Account, &format!("passkey:{}", account.id)).await?;
    let rt = return_to::or_default(Some(&body.return_to));
    let replaces = current_digest(&state, &headers).await.map_err(page_error)?;
    let (cookie, to) = complete(
        &state,
        &account,
        vec![AuthMethod::Passkey],
        &client,
        &rt,
        replaces.as_deref(),
    )
    .await
    .map_err(page_error)?;
    Ok((cookie, ApiJson(Next { redirect: to })).into_response())
}

/// The account and stored passkey a passwordless answer names: the credential must be
/// registered, to the account its user handle names, which must be able to sign in.
async fn identify(
    state: &AppState,
    rp: &passkey::RelyingParty,
    credential: &PublicKeyCredential,
) -> Result<Result<(Account, StoredPasskey), Refusal>, ApiError> {
    let (user, cred_id) = match rp.identify(credential) {
        Ok(x) => x,
        Err(e) => return Ok(Err(Refusal::new(None, e.code, ApiError::from(e)))),
    };
    let mut conn = state.store.conn().await?;
    let Some(stored) = conn.passkey_by_credential_id(&cred_id).await? else {
        return Ok(Err(Refusal::new(None, "passkey_unknown", unknown_passkey())));
    };
    if stored.account_id != user {
        return Ok(Err(Refusal::new(
            Some(&stored.account_id),
            "passkey_user_mismatch",
            unknown_passkey(),
        )));
    }
    let account = conn.account_by_id(&stored.account_id).await?;
    match account {
        Some(a) if !a.disabled => Ok(Ok((a, stored))),
        Some(a) => Ok(Err(Refusal::new(
            Some(&a.id),
            "account_disabled",
            ApiError::forbidden("This account is disabled."),
        ))),
        None => Ok(Err(Refusal::new(None, "passkey_unknown", unknown_passkey()))),
    }
}

fn pending_missing() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "signin_expired",
        "The sign-in has expired. Start again with your email address.",
    )
}

/// The pending sign-in and its account, if both are still good.
async fn pending_account(state: &AppState, headers: &HeaderMap) -> Result<(PendingSignIn, Account), ApiError> {
    let pending = PendingSignIn::from_headers(&state.master_key, headers, state.now()).ok_or_else(pending_missing)?;
    let account = state.store.conn().await?.account_by_id(&pending.account_id).await?;
    match account {
        Some(a) if !a.disabled => Ok((pending, a)),
        _ => Err(pending_missing()),
    }
}

async fn second_factor_options(
    State(state): State<AppState>,
    _csrf: CsrfHeader,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (pending, account) = pending_account(&state, &headers).await?;
    let keys = state
        .store
        .conn()
        .await?
        .passkeys_of(&account.id)
        .await?
        .iter()
        .map(parse_passkey)
        .collect::<Result<Vec<_>, _>>()?;
    let rp = ceremony::relying_party(&state)?;
    let (options, st) = rp.start_authentication(&keys)?;
    let token = ceremony::start(&state, CeremonyKind::SecondFactor, &pending_binding(&pending), &st).await?;
    Ok(ApiJson(Started {
        ceremony: token,
        options,
    })
    .into_response())
}

async fn second_factor_finish(
    State(state): State<AppState>,
    _csrf: CsrfHeader,
    client: ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FinishBody>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let (pending, account) = pending_account(&state, &headers).await?;
    let key = format!("mfa:{}", account.id);
    let ip = client.ip.clone().unwrap_or_default();
    if let Err(wait) = throttles::check(&state, ThrottleKind::Account, &key, now)
        .await?
        .and(throttles::check(&state, ThrottleKind::Ip, &ip, now).await?)
    {
        return Err(throttled(wait));
    }
    let rp = ceremony::relying_party(&state)?;
    let st = ceremony::take(
        &state,
        &body.ceremony,
        CeremonyKind::SecondFactor,
        &pending_binding(&pending),
    )
    .await?;
    let fail = |reason: &'static str, error: ApiError| Refusal::new(Some(&account.id), reason, error).counting(&key);
    let result = match rp.finish_authentication(&body.credential, &st) {
        Ok(r) => r,
        Err(e) => {
            let r = fail(e.code, ApiError::from(e));
            return Err(refuse(&state, &client, "second_factor", r).await);
        }
    };
    let cred_id = passkey::credential_id_text(result.cred_id());
    let stored = state.store.conn().await?.passkey_by_credential_id(&cred_id).await?;
    let Some(stored) = stored.filter(|s| s.account_id == account.id) else {
        let r = fail("passkey_unknown", unknown_passkey());
        return Err(refuse(&state, &client, "second_factor", r).await);
    };
    if !record_use(&state, &stored, &result).await? {
        let r = fail("passkey_replayed", unknown_passkey());
        return Err(refuse(&state, &client, "second_factor", r).await);
    }
    throttles::succeed(&state, ThrottleKind::Account, &key).await?;
    let (cookie, to) = complete(
        &state,
        &account,
        vec![AuthMethod::Password, AuthMethod::Passkey],
        &client,
        &pending.return_to,
        pending.replaces.as_deref(),
    )
    .await
    .map_err(page_error)?;
    Ok((
        cookie,
        super::pending::PendingCookie::clear(state.settings.secure_cookies),
        ApiJson(Next { redirect: to }),
    )
        .into_response())
}
