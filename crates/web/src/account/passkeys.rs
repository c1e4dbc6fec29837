//! Passkeys on `/console/account/mfa`: adding one (a WebAuthn registration driven by
//! `/static/passkeys.js`, JSON with the CSRF header), renaming and removing (plain forms).
//! Removing needs the account's password, like turning off the authenticator app needs a code,
//! and is refused for the last second factor of a member of an organization that requires one.
//!
//! ```text
//!  POST /console/account/mfa/passkeys/options {name}        ─▶ registration options; ceremony
//!                                                               bound to this session
//!  navigator.credentials.create(…)
//!  POST /console/account/mfa/passkeys {ceremony,name,credential} ─▶ verified, stored, audited
//!  POST /console/account/mfa/passkeys/{id}/rename  name      ─▶ audited
//!  POST /console/account/mfa/passkeys/{id}/remove  password  ─▶ audited
//! ```

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use gatehouse_core::identity::audit;
use gatehouse_core::identity::{ThrottleKind, throttles};
use gatehouse_domain::{
    audit::Actor,
    identity::passkey::{
        self, CeremonyKind, MAX_PASSKEYS, PasskeyName, PasskeyRegistration, RegisterPublicKeyCredential,
    },
    ids::new_row_id,
};
use gatehouse_store::{AuditStore, PasskeyStore, StoreError, StoredPasskey};
use serde::Deserialize;

use super::{page, when};
use crate::{
    AppState,
    auth::ApiSession,
    csrf::{CsrfForm, CsrfHeader, CsrfToken},
    error::{ApiError, PageError},
    extract::{ApiJson, ClientInfo},
    identity::{
        SignedIn,
        forms::Errors,
        passkeys::{Next, Started, ceremony, parse_passkey},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/account/mfa/passkeys/options", post(register_options))
        .route("/console/account/mfa/passkeys", post(register_finish))
        .route("/console/account/mfa/passkeys/{id}/rename", post(rename))
        .route("/console/account/mfa/passkeys/{id}/remove", post(remove))
}

/// A passkey as the MFA page lists it.
#[derive(Debug, Clone)]
pub struct PasskeyItem {
    pub id: String,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
}

pub async fn items(state: &AppState, account_id: &str) -> Result<Vec<PasskeyItem>, StoreError> {
    Ok(state
        .store
        .conn()
        .await?
        .passkeys_of(account_id)
        .await?
        .into_iter()
        .map(|p| PasskeyItem {
            id: p.id,
            name: p.name,
            created: when(p.created_at),
            last_used: p.last_used_at.map(when),
        })
        .collect())
}

fn session_binding(who: &SignedIn) -> String {
    format!("session:{}", who.session.id_digest)
}

fn name_error(e: gatehouse_domain::DomainError) -> ApiError {
    ApiError::unprocessable(e.code, e.message)
}

#[derive(Debug, Deserialize)]
struct OptionsBody {
    #[serde(default)]
    name: String,
}

async fn register_options(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    _csrf: CsrfHeader,
    ApiJson(body): ApiJson<OptionsBody>,
) -> Result<Response, ApiError> {
    PasskeyName::parse(&body.name).map_err(name_error)?;
    let existing = state
        .store
        .conn()
        .await?
        .passkeys_of(&who.account.id)
        .await?
        .iter()
        .map(parse_passkey)
        .collect::<Result<Vec<_>, _>>()?;
    if existing.len() >= MAX_PASSKEYS {
        return Err(ApiError::unprocessable(
            "too_many_passkeys",
            format!("You can register at most {MAX_PASSKEYS} passkeys. Remove one you no longer use first."),
        ));
    }
    let rp = ceremony::relying_party(&state)?;
    let (options, st) = rp.start_registration(
        &who.account.id,
        who.account.email.as_str(),
        &who.account.display_name,
        &existing,
    )?;
    let token = ceremony::start(&state, CeremonyKind::Registration, &session_binding(&who), &st).await?;
    Ok(ApiJson(Started {
        ceremony: token,
        options,
    })
    .into_response())
}

#[derive(Debug, Deserialize)]
struct FinishBody {
    ceremony: String,
    #[serde(default)]
    name: String,
    credential: RegisterPublicKeyCredential,
}

async fn register_finish(
    State(state): State<AppState>,
    ApiSession(who): ApiSession,
    _csrf: CsrfHeader,
    client: ClientInfo,
    ApiJson(body): ApiJson<FinishBody>,
) -> Result<Response, ApiError> {
    let name = PasskeyName::parse(&body.name).map_err(name_error)?;
    let rp = ceremony::relying_party(&state)?;
    let st: PasskeyRegistration = ceremony::take(
        &state,
        &body.ceremony,
        CeremonyKind::Registration,
        &session_binding(&who),
    )
    .await?;
    let key = rp.finish_registration(&body.credential, &st)?;
    let now = state.now();
    let stored = StoredPasskey {
        id: new_row_id(&mut rand::thread_rng()),
        account_id: who.account.id.clone(),
        credential_id: passkey::passkey_id_text(&key),
        name: name.into_string(),
        passkey: serde_json::to_string(&key).map_err(ApiError::internal)?,
        created_at: now,
        last_used_at: None,
    };
    let mut tx = state.store.begin().await?;
    match tx.insert_passkey(&stored).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::conflict(
                "passkey_already_registered",
                "This passkey is already registered.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let e = audit::entry(
        &state,
        &Actor::Account(who.account.id.clone()),
        "mfa.passkey_added",
        audit::account_target(&who.account.id),
        &client,
    )
    .details(serde_json::json!({ "passkey_id": stored.id, "name": stored.name }));
    tx.append_audit(&e).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(Next {
            redirect: "/console/account/mfa?done=passkey_added".to_owned(),
        }),
    )
        .into_response())
}

/// The MFA page again, with `message` under `field` of the passkey `id`'s form.
async fn refuse_form(
    state: &AppState,
    who: &SignedIn,
    csrf: CsrfToken,
    status: StatusCode,
    (id, field, message): (&str, &'static str, String),
) -> Result<Response, PageError> {
    let mut p = super::mfa::status_view(state, who, &csrf, None, Errors::one(field, message)).await?;
    p.failed_passkey = Some(id.to_owned());
    Ok(page(status, csrf, &p))
}

#[derive(Debug, Deserialize)]
struct RenameForm {
    #[serde(default)]
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RenameForm>,
) -> Result<Response, PageError> {
    let name = match PasskeyName::parse(&form.name) {
        Ok(n) => n,
        Err(e) => {
            let error = (id.as_str(), "passkey-name", e.message);
            return refuse_form(&state, &who, csrf, StatusCode::UNPROCESSABLE_ENTITY, error).await;
        }
    };
    let mut tx = state.store.begin().await?;
    if !tx.rename_passkey(&who.account.id, &id, name.as_str()).await? {
        return Err(PageError::not_found());
    }
    let e = audit::entry(
        &state,
        &Actor::Account(who.account.id.clone()),
        "mfa.passkey_renamed",
        audit::account_target(&who.account.id),
        &client,
    )
    .details(serde_json::json!({ "passkey_id": id, "name": name.as_str() }));
    tx.append_audit(&e).await?;
    tx.commit().await?;
    Ok(Redirect::to("/console/account/mfa?done=passkey_renamed").into_response())
}

#[derive(Debug, Deserialize)]
struct RemoveForm {
    #[serde(default)]
    password: String,
}

/// Seconds since sign-in within which an account without a password may remove a passkey.
const RECENT_SIGNIN: i64 = 600;

async fn remove(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let keys = state.store.conn().await?.passkeys_of(&who.account.id).await?;
    if !keys.iter().any(|k| k.id == id) {
        return Err(PageError::not_found());
    }
    let fail = |status: StatusCode, msg: String| {
        refuse_form(
            &state,
            &who,
            csrf.clone(),
            status,
            (id.as_str(), "passkey-password", msg),
        )
    };
    let throttle_key = format!("reauth:{}", who.account.id);
    if let Err(wait) = throttles::check(&state, ThrottleKind::Account, &throttle_key, now).await? {
        return fail(StatusCode::TOO_MANY_REQUESTS, crate::identity::signin::too_many(wait)).await;
    }
    match who.account.password_hash.clone() {
        Some(hash) => {
            if form.password.is_empty() {
                return fail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Enter your password to remove a passkey.".to_owned(),
                )
                .await;
            }
            let pw = form.password.clone();
            let ok = gatehouse_core::pools::hashing::verify(pw, hash)
                .await
                .map_err(PageError::internal)?;
            if !ok {
                throttles::fail(&state, ThrottleKind::Account, &throttle_key, now).await?;
                return fail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "The password is incorrect.".to_owned(),
                )
                .await;
            }
            throttles::succeed(&state, ThrottleKind::Account, &throttle_key).await?;
        }
        None if who.auth_age(now) > RECENT_SIGNIN => {
            return fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Sign in again to remove a passkey (it needs a sign-in from the last 10 minutes).".to_owned(),
            )
            .await;
        }
        None => {}
    }
    let (totp, _, _) = gatehouse_core::identity::accounts::mfa_status(&state, &who.account.id)
        .await
        .map_err(|e| PageError::new(crate::error::status_of(e.kind), "Error", e.message))?;
    if !totp
        && keys.len() == 1
        && let Some(org) = gatehouse_core::identity::accounts::mfa_required_by(&state, &who.account.id)
            .await
            .map_err(|e| PageError::new(crate::error::status_of(e.kind), "Error", e.message))?
    {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{org} requires two-step verification, and this is your only second factor. Add another passkey or \
                 an authenticator app first."
            ),
        )
        .await;
    }
    let mut tx = state.store.begin().await?;
    if !tx.delete_passkey(&who.account.id, &id).await? {
        return Err(PageError::not_found());
    }
    let e = audit::entry(
        &state,
        &Actor::Account(who.account.id.clone()),
        "mfa.passkey_removed",
        audit::account_target(&who.account.id),
        &client,
    )
    .details(serde_json::json!({ "passkey_id": id }));
    tx.append_audit(&e).await?;
    tx.commit().await?;
    Ok(Redirect::to("/console/account/mfa?done=passkey_removed").into_response())
}
