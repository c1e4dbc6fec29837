//! Hosted sign-in: email, then password, then a second factor when one is enrolled (TOTP or a
//! passkey; passkey ceremonies and passwordless sign-in are in [`super::passkeys`]).
//!
//! ```text
//!  GET  /signin[?return_to=/path][&prompt=login] ─▶ signin_page   (signed in and no prompt=login:
//!                                                                  "continue / different user")
//!  POST /signin  email                          ─▶ signin_submit  → password page (for any email,
//!                                                                  known or not: no enumeration)
//!  POST /signin  email+password                 ─▶ signin_submit  → throttles, argon2id verify
//!        ├─ no second factor ─▶ new session, audit signin.succeeded ─303─▶ return_to
//!        └─ TOTP or passkey  ─▶ sealed pending cookie ─303─▶ GET /signin/mfa (code form and/or
//!                                                                  passkey button)
//!  POST /signin/mfa  code | recovery code       ─▶ mfa_submit     → code used once ─▶ new session
//!  POST /signin/mfa/passkey[/options]           ─▶ passkeys::second_factor_*   (JSON, script)
//!  POST /signout                                ─▶ signout        → session row deleted, cookie cleared
//! ```
//!
//! Every failure says only "email or password is incorrect" and takes about as long for unknown
//! emails (a dummy hash is verified), and is counted per email and per IP with growing delays.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use gatehouse_core::identity::throttles;
use gatehouse_core::identity::{audit, emails, failure_events};
use gatehouse_domain::{
    account::{Account, AccountType, Email},
    audit::Actor,
    identity::{
        mfa,
        session::{AuthMethod, amr},
        throttle::ThrottlePolicy,
    },
    password, secret,
};
use gatehouse_store::{AccountStore, MfaKind, MfaStore, OrgStore, PasskeyStore};
use serde::Deserialize;

use super::{
    forms::Errors,
    pending::{PendingCookie, PendingSignIn},
    return_to,
    session::{self, OptionalSession, SessionCookie},
};
use crate::{
    AppState,
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    pages,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(signin_page).post(signin_submit))
        .route("/signin/mfa", get(mfa_page).post(mfa_submit))
        .route("/signout", post(signout))
}

const INCORRECT: &str = "The email address or password is incorrect.";

#[derive(Template)]
#[template(path = "identity/signin_email.html")]
struct EmailPage<'a> {
    csrf_token: &'a str,
    return_to: &'a str,
    email: &'a str,
    notice: Option<&'a str>,
    signup_enabled: bool,
    /// Whether to offer "Sign in with a passkey".
    passkeys: bool,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "identity/signin_password.html")]
struct PasswordPage<'a> {
    csrf_token: &'a str,
    return_to: &'a str,
    email: &'a str,
    change_email_url: String,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "identity/signin_mfa.html")]
struct MfaPage<'a> {
    csrf_token: &'a str,
    errors: Errors,
    /// Which second factors the account has: the code form and the passkey button are shown
    /// only for those.
    totp: bool,
    passkey: bool,
}

#[derive(Template)]
#[template(path = "identity/signed_in.html")]
struct SignedInPage<'a> {
    csrf_token: &'a str,
    display_name: &'a str,
    email: &'a str,
    return_to: &'a str,
    switch_url: String,
}

/// A page with a title, paragraphs and an optional button link.
#[derive(Template)]
#[template(path = "identity/message.html")]
pub struct MessagePage {
    pub title: String,
    pub paragraphs: Vec<String>,
    pub link: Option<(String, String)>,
}

impl MessagePage {
    pub fn new(title: &str, paragraphs: &[&str], link: Option<(&str, &str)>) -> Self {
        Self {
            title: title.to_owned(),
            paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
            link: link.map(|(h, l)| (h.to_owned(), l.to_owned())),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct SigninQuery {
    return_to: Option<String>,
    prompt: Option<String>,
    signed_out: Option<String>,
    email: Option<String>,
}

fn email_page(
    state: &AppState,
    csrf: CsrfToken,
    rt: &str,
    email: &str,
    notice: Option<&str>,
    errors: Errors,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = EmailPage {
        csrf_token: csrf.value(),
        return_to: rt,
        email,
        notice,
        signup_enabled: state.settings.signup_enabled,
        passkeys: super::passkeys::ceremony::available(state),
        errors,
    };
    let html = pages::render(&page);
    (status, csrf, html).into_response()
}

fn password_page(csrf: CsrfToken, rt: &str, email: &str, status: StatusCode, errors: Errors) -> Response {
    let change_email_url = if rt == return_to::DEFAULT {
        "/signin?prompt=login".to_owned()
    } else {
        format!("{}&prompt=login", return_to::signin_url(rt))
    };
    let page = PasswordPage {
        csrf_token: csrf.value(),
        return_to: rt,
        email,
        change_email_url,
        errors,
    };
    let html = pages::render(&page);
    (status, csrf, html).into_response()
}

async fn signin_page(
    State(state): State<AppState>,
    Query(q): Query<SigninQuery>,
    csrf: CsrfToken,
    OptionalSession(current): OptionalSession,
) -> Response {
    let rt = return_to::or_default(q.return_to.as_deref());
    let forced = q.prompt.as_deref() == Some("login");
    if let (Some(s), false) = (current, forced) {
        let page = SignedInPage {
            csrf_token: csrf.value(),
            display_name: &s.account.display_name,
            email: s.account.email.as_str(),
            return_to: &rt,
            switch_url: format!(
                "{}{}prompt=login",
                return_to::signin_url(&rt),
                if rt == return_to::DEFAULT { "?" } else { "&" }
            ),
        };
        let html = pages::render(&page);
        return (csrf, html).into_response();
    }
    let notice = q.signed_out.is_some().then_some("You have signed out.");
    email_page(
        &state,
        csrf,
        &rt,
        q.email.as_deref().unwrap_or(""),
        notice,
        Errors::none(),
    )
}

#[derive(Debug, Deserialize)]
struct SigninForm {
    #[serde(default)]
    email: String,
    password: Option<String>,
    #[serde(default)]
    return_to: String,
}

/// Throttle keys: the address as typed, normalised, so unknown and known emails count alike.
fn account_key(email: &str) -> String {
    Email::parse(email).map_or_else(|_| email.trim().to_lowercase(), |e| e.as_str().to_owned())
}

pub(crate) fn too_many(seconds: i64) -> String {
    let wait = if seconds < 60 {
        format!("{seconds} second{}", if seconds == 1 { "" } else { "s" })
    } else {
        let m = (seconds + 59) / 60;
        format!("{m} minute{}", if m == 1 { "" } else { "s" })
    };
    format!("Too many failed attempts. Wait {wait} before trying again.")
}

async fn signin_submit(
    State(state): State<AppState>,
    csrf: CsrfToken,
    client: ClientInfo,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<SigninForm>,
) -> Result<Response, PageError> {
    let rt = return_to::or_default(Some(&form.return_to));
    let email = match Email::parse(&form.email) {
        Ok(e) => e,
        Err(e) => {
            let msg = if form.email.trim().is_empty() {
                "Enter your email address.".to_owned()
            } else {
                format!("Enter a valid email address, like name@example.com ({}).", e.message)
            };
            return Ok(email_page(
                &state,
                csrf,
                &rt,
                &form.email,
                None,
                Errors::one("email", msg),
            ));
        }
    };
    let Some(pw) = form.password else {
        return Ok(password_page(csrf, &rt, email.as_str(), StatusCode::OK, Errors::none()));
    };
    if pw.is_empty() {
        let errors = Errors::one("password", "Enter your password.");
        return Ok(password_page(
            csrf,
            &rt,
            email.as_str(),
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        ));
    }
    let now = state.now();
    let key = account_key(email.as_str());
    let ip = client.ip.clone().unwrap_or_default();
    let rt_ = state.identity.clone();
    let failures = match throttles::begin_attempt(&state, &key, &ip, now).await? {
        Ok(n) => n,
        Err(wait) => {
            let entry = audit::entry(
                &state,
                &Actor::System,
                "signin.failed",
                format!("email:{email}"),
                &client,
            )
            .details(serde_json::json!({ "reason": "throttled", "retry_after": wait }));
            audit::record(&state, &entry).await?;
            let errors = Errors::one("password", too_many(wait));
            return Ok(password_page(
                csrf,
                &rt,
                email.as_str(),
                StatusCode::TOO_MANY_REQUESTS,
                errors,
            ));
        }
    };

    let account = state.store.conn().await?.account_by_email(&email).await?;
    let stored = account
        .as_ref()
        .and_then(|a| a.password_hash.clone())
        .unwrap_or_else(|| rt_.dummy_hash().to_owned());
    let pw_check = pw.clone();
    let ok = gatehouse_core::pools::hashing::verify(pw_check, stored)
        .await
        .map_err(PageError::internal)?;
    let failure = match &account {
        None => Some("unknown_email"),
        Some(a) if a.password_hash.is_none() => Some("no_password"),
        Some(_) if !ok => Some("wrong_password"),
        Some(a) if a.disabled => Some("account_disabled"),
        Some(_) => None,
    };
    if let Some(reason) = failure {
        let n = failures;
        let (actor, target) = match &account {
            Some(a) => (Actor::Account(a.id.clone()), audit::account_target(&a.id)),
            None => (Actor::System, format!("email:{email}")),
        };
        let entry = audit::entry(&state, &actor, "signin.failed", target, &client)
            .details(serde_json::json!({ "reason": reason, "email": email.as_str(), "failures": n }));
        match &account {
            Some(a) if ThrottlePolicy::ACCOUNT.alerts_at(n) => {
                failure_events::record_with_events(&state, &entry, a, n, &client).await?;
            }
            _ => audit::record(&state, &entry).await?,
        }
        if reason == "account_disabled" {
            // The password was right: say why, rather than let the person retry in vain.
            let errors = Errors::one(
                "password",
                "This account has been disabled by the organization that manages it. Ask one of its admins to re-enable it.",
            );
            return Ok(password_page(csrf, &rt, email.as_str(), StatusCode::FORBIDDEN, errors));
        }
        let errors = Errors::one("password", INCORRECT);
        return Ok(password_page(
            csrf,
            &rt,
            email.as_str(),
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        ));
    }
    let Some(mut account) = account else {
        return Err(PageError::internal("sign-in passed without an account"));
    };
    throttles::succeeded(&state, &key, &ip).await?;

    if account.account_type == AccountType::Personal && !account.email_verified && !account.operator {
        emails::send_verification(&state, &account, &client).await?;
        let entry = audit::entry(
            &state,
            &Actor::Account(account.id.clone()),
            "signin.failed",
            audit::account_target(&account.id),
            &client,
        )
        .details(serde_json::json!({ "reason": "email_not_verified" }));
        audit::record(&state, &entry).await?;
        let sent = match super::mail_note(&state) {
            Some(note) => format!("A new confirmation link for {} {note}", account.email),
            None => format!("We have sent a new confirmation link to {}.", account.email),
        };
        let page = MessagePage::new(
            "Confirm your email address first",
            &[&sent, "Open it, then sign in again. The link works for 48 hours."],
            None,
        );
        return Ok((StatusCode::FORBIDDEN, pages::render(&page)).into_response());
    }

    if password::needs_rehash(account.password_hash.as_deref().unwrap_or_default()) {
        let hash = gatehouse_core::pools::hashing::hash(pw)
            .await
            .map_err(PageError::internal)?
            .map_err(PageError::internal)?;
        account.password_hash = Some(hash);
        account.updated_at = now;
        state.store.conn().await?.update_account(&account).await?;
    }

    let replaces = current_digest(&state, &headers).await?;
    let mut conn = state.store.conn().await?;
    let has_totp = conn
        .mfa_factors_of(&account.id)
        .await?
        .iter()
        .any(|f| f.kind == MfaKind::Totp);
    // A passkey is a usable second factor only while the public URL can host passkeys.
    let has_passkey = super::passkeys::ceremony::available(&state) && !conn.passkeys_of(&account.id).await?.is_empty();
    drop(conn);
    if has_totp || has_passkey {
        let pending = PendingSignIn {
            account_id: account.id.clone(),
            return_to: rt,
            expires_at: now + super::pending::LIFETIME,
            replaces,
        };
        let cookie = PendingCookie::set(pending.seal(&state.master_key), state.settings.secure_cookies);
        return Ok((cookie, Redirect::to("/signin/mfa")).into_response());
    }
    finish(
        &state,
        &account,
        vec![AuthMethod::Password],
        &client,
        &rt,
        replaces.as_deref(),
    )
    .await
}

/// The digest of the session the request already has, if any (a new sign-in replaces it).
pub(crate) async fn current_digest(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, PageError> {
    Ok(session::load(state, headers).await?.map(|s| s.0.session.id_digest))
}

/// Completes a sign-in: new session, audit entry, and the way on. Members of an organization
/// that requires two-step verification who signed in without it are sent to set it up.
async fn finish(
    state: &AppState,
    account: &Account,
    methods: Vec<AuthMethod>,
    client: &ClientInfo,
    rt: &str,
    replaces: Option<&str>,
) -> Result<Response, PageError> {
    let (cookie, to) = complete(state, account, methods, client, rt, replaces).await?;
    Ok((
        cookie,
        PendingCookie::clear(state.settings.secure_cookies),
        Redirect::to(&to),
    )
        .into_response())
}

/// [`finish`] without the response: the new session's cookie and where to go next (the passkey
/// endpoints answer scripts with JSON instead of a redirect).
pub(crate) async fn complete(
    state: &AppState,
    account: &Account,
    methods: Vec<AuthMethod>,
    client: &ClientInfo,
    rt: &str,
    replaces: Option<&str>,
) -> Result<(SessionCookie, String), PageError> {
    let (session, cookie) = session::start_session(state, account, methods, client, replaces).await?;
    let entry = audit::entry(
        state,
        &Actor::Account(account.id.clone()),
        "signin.succeeded",
        audit::account_target(&account.id),
        client,
    )
    .details(serde_json::json!({ "amr": amr(&session.auth_methods) }));
    audit::record(state, &entry).await?;
    let mut conn = state.store.conn().await?;
    let mut mfa_required = false;
    if !session.used_second_factor() {
        for m in conn.memberships_of_account(&account.id).await? {
            if conn.org_by_id(&m.org_id).await?.is_some_and(|o| o.require_mfa) {
                mfa_required = true;
                break;
            }
        }
    }
    let to = if mfa_required {
        "/console/account/mfa?required=1".to_owned()
    } else {
        rt.to_owned()
    };
    Ok((cookie, to))
}

async fn mfa_render(
    state: &AppState,
    account_id: &str,
    csrf: CsrfToken,
    status: StatusCode,
    errors: Errors,
) -> Result<Response, PageError> {
    let mut conn = state.store.conn().await?;
    let totp = conn
        .mfa_factors_of(account_id)
        .await?
        .iter()
        .any(|f| f.kind != MfaKind::Passkey);
    let passkey = !conn.passkeys_of(account_id).await?.is_empty() && super::passkeys::ceremony::available(state);
    let page = MfaPage {
        csrf_token: csrf.value(),
        errors,
        totp,
        passkey,
    };
    let html = pages::render(&page);
    Ok((status, csrf, html).into_response())
}

pub(crate) fn pending_expired() -> Response {
    Redirect::to("/signin?prompt=login").into_response()
}

async fn mfa_page(State(state): State<AppState>, headers: HeaderMap, csrf: CsrfToken) -> Result<Response, PageError> {
    let Some(pending) = PendingSignIn::from_headers(&state.master_key, &headers, state.now()) else {
        return Ok(pending_expired());
    };
    mfa_render(&state, &pending.account_id, csrf, StatusCode::OK, Errors::none()).await
}

#[derive(Debug, Deserialize)]
struct MfaForm {
    #[serde(default)]
    code: String,
}

/// The AES-GCM associated data of a TOTP factor's sealed seed.
pub fn totp_aad(factor_id: &str) -> Vec<u8> {
    format!("mfa_factor:{factor_id}").into_bytes()
}

async fn mfa_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<MfaForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let Some(pending) = PendingSignIn::from_headers(&state.master_key, &headers, now) else {
        return Ok(pending_expired());
    };
    let Some(account) = state.store.conn().await?.account_by_id(&pending.account_id).await? else {
        return Ok(pending_expired());
    };
    if account.disabled {
        return Ok(pending_expired());
    }
    if form.code.trim().is_empty() {
        let errors = Errors::one(
            "code",
            "Enter the 6-digit code from your authenticator app, or a recovery code.",
        );
        return mfa_render(&state, &account.id, csrf, StatusCode::UNPROCESSABLE_ENTITY, errors).await;
    }
    let key = format!("mfa:{}", account.id);
    let ip = client.ip.clone().unwrap_or_default();
    let failures = match throttles::begin_attempt(&state, &key, &ip, now).await? {
        Ok(n) => n,
        Err(wait) => {
            return mfa_render(
                &state,
                &account.id,
                csrf,
                StatusCode::TOO_MANY_REQUESTS,
                Errors::one("code", too_many(wait)),
            )
            .await;
        }
    };
    let result = check_second_factor(&state, &account, &form.code, now).await?;
    match result {
        Ok(method) => {
            throttles::succeeded(&state, &key, &ip).await?;
            if method == AuthMethod::RecoveryCode {
                let entry = audit::entry(
                    &state,
                    &Actor::Account(account.id.clone()),
                    "mfa.recovery_code_used",
                    audit::account_target(&account.id),
                    &client,
                );
                audit::record(&state, &entry).await?;
            }
            finish(
                &state,
                &account,
                vec![AuthMethod::Password, method],
                &client,
                &pending.return_to,
                pending.replaces.as_deref(),
            )
            .await
        }
        Err(e) => {
            let n = failures;
            let entry = audit::entry(
                &state,
                &Actor::Account(account.id.clone()),
                "signin.failed",
                audit::account_target(&account.id),
                &client,
            )
            .details(serde_json::json!({ "reason": e.code, "step": "second_factor", "failures": n }));
            if ThrottlePolicy::ACCOUNT.alerts_at(n) {
                failure_events::record_with_events(&state, &entry, &account, n, &client).await?;
            } else {
                audit::record(&state, &entry).await?;
            }
            mfa_render(
                &state,
                &account.id,
                csrf,
                StatusCode::UNPROCESSABLE_ENTITY,
                Errors::one("code", e.message),
            )
            .await
        }
    }
}

/// Checks a TOTP or recovery code for `account`; a code is accepted once.
pub async fn check_second_factor(
    state: &AppState,
    account: &Account,
    code: &str,
    now: i64,
) -> Result<Result<AuthMethod, gatehouse_domain::DomainError>, PageError> {
    let mut conn = state.store.conn().await?;
    if let Some(digest) =
        mfa::recovery_code_digest(code).filter(|_| mfa::looks_like_recovery_code(code) && code.trim().len() > 8)
    {
        return Ok(if conn.use_recovery_code(&account.id, &digest, now).await? {
            Ok(AuthMethod::RecoveryCode)
        } else {
            Err(gatehouse_domain::DomainError::new(
                "wrong_recovery_code",
                "That recovery code is not correct or has been used already.",
            ))
        });
    }
    let factors = conn.mfa_factors_of(&account.id).await?;
    let Some(factor) = factors.iter().find(|f| f.kind == MfaKind::Totp) else {
        return Ok(Err(gatehouse_domain::DomainError::new(
            "no_totp",
            "Two-step verification with an app is not set up for this account.",
        )));
    };
    let seed = state
        .master_key
        .decrypt(factor.secret.as_deref().unwrap_or_default(), &totp_aad(&factor.id))
        .map_err(PageError::internal)?;
    let step = match mfa::verify_totp(&seed, code, now, factor.last_used_at) {
        Ok(step) => step,
        Err(e) => return Ok(Err(e)),
    };
    if !conn.record_totp_step(&factor.id, step).await? {
        return Ok(Err(gatehouse_domain::DomainError::new(
            "code_already_used",
            "That code has already been used. Wait for the next code in your authenticator app.",
        )));
    }
    Ok(Ok(AuthMethod::Totp))
}

#[derive(Debug, Deserialize)]
struct SignoutForm {
    return_to: Option<String>,
}

async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<SignoutForm>,
) -> Result<Response, PageError> {
    if let Some(s) = session::load(&state, &headers).await? {
        let entry = audit::entry(
            &state,
            &Actor::Account(s.account.id.clone()),
            "signout",
            audit::account_target(&s.account.id),
            &client,
        );
        audit::record(&state, &entry).await?;
    }
    let cookie: SessionCookie = session::end_session(&state, &headers).await?;
    let to = form
        .return_to
        .as_deref()
        .and_then(return_to::safe)
        .map_or_else(|| "/signin?signed_out=1".to_owned(), str::to_owned);
    Ok((cookie, Redirect::to(&to)).into_response())
}

/// Digest helper re-exported for the other identity modules.
pub fn digest(token: &str) -> String {
    secret::digest(token)
}
