//! `/console/account/mfa`: turning TOTP two-step verification on (QR code as inline SVG, a
//! confirmation code, then ten recovery codes shown once) and off, and replacing the recovery
//! codes. The secret being set up travels in the form sealed with the master key, so nothing is
//! stored until the person proves their app produces the right codes.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use gatehouse_core::identity::audit;
use gatehouse_domain::{
    audit::Actor,
    identity::mfa::{self, new_recovery_codes, new_totp_secret, otpauth_uri, recovery_code_digest, totp_secret_base32},
    ids::new_row_id,
};
use gatehouse_store::{AuditStore, MfaFactor, MfaKind, MfaStore};
use serde::Deserialize;

use super::{Nav, page};
use crate::{
    AppState,
    csrf::{CsrfForm, CsrfToken},
    error::PageError,
    extract::ClientInfo,
    identity::{
        SignedIn,
        forms::Errors,
        signin::{check_second_factor, totp_aad},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/account/mfa", get(status_page))
        .route("/console/account/mfa/totp", get(setup_page).post(setup_submit))
        .route("/console/account/mfa/recovery-codes", post(manage))
}

#[derive(Template)]
#[template(path = "console/mfa.html")]
pub(super) struct StatusPage {
    nav: Nav,
    tab: &'static str,
    notice: Option<&'static str>,
    errors: Errors,
    /// TOTP is enrolled.
    enrolled: bool,
    recovery_left: usize,
    required_by: Option<String>,
    passkeys: Vec<super::passkeys::PasskeyItem>,
    /// Whether new passkeys can be added here (the public URL has a domain name).
    passkeys_available: bool,
    /// The passkey whose rename or remove form the errors belong to.
    pub(super) failed_passkey: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct StatusQuery {
    done: Option<String>,
    required: Option<String>,
}

pub(super) async fn status_view(
    state: &AppState,
    who: &SignedIn,
    csrf: &CsrfToken,
    notice: Option<&'static str>,
    errors: Errors,
) -> Result<StatusPage, PageError> {
    let (enrolled, recovery_left, _) = gatehouse_core::identity::accounts::mfa_status(state, &who.account.id)
        .await
        .map_err(|e| PageError::new(crate::error::status_of(e.kind), "Error", e.message))?;
    let passkeys = super::passkeys::items(state, &who.account.id).await?;
    let required_by = gatehouse_core::identity::accounts::mfa_required_by(state, &who.account.id)
        .await
        .map_err(|e| PageError::new(crate::error::status_of(e.kind), "Error", e.message))?;
    Ok(StatusPage {
        nav: Nav::new(who, csrf, "account"),
        tab: "mfa",
        notice,
        errors,
        enrolled,
        recovery_left,
        required_by,
        passkeys,
        passkeys_available: crate::identity::passkeys::ceremony::available(state),
        failed_passkey: None,
    })
}

async fn status_page(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    Query(q): Query<StatusQuery>,
) -> Result<Response, PageError> {
    let notice = match q.done.as_deref() {
        Some("on") => {
            Some("Two-step verification is on. Sign in again with a code to reach organizations that require it.")
        }
        Some("off") => Some("Two-step verification is off."),
        Some("codes") => Some("New recovery codes have been created; the old ones no longer work."),
        Some("passkey_added") => {
            Some("The passkey has been added. You can use it to sign in, with or without your password.")
        }
        Some("passkey_renamed") => Some("The passkey has been renamed."),
        Some("passkey_removed") => Some("The passkey has been removed; it no longer signs you in."),
        _ => None,
    };
    let _ = q.required;
    let p = status_view(&state, &who, &csrf, notice, Errors::none()).await?;
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Template)]
#[template(path = "console/mfa_setup.html")]
struct SetupPage {
    nav: Nav,
    errors: Errors,
    qr_svg: String,
    secret_base32: String,
    /// The key in groups of four, for typing it into an app.
    secret_groups: Vec<String>,
    sealed: String,
}

fn enrolment_aad(account_id: &str) -> Vec<u8> {
    format!("totp_enrolment:{account_id}").into_bytes()
}

/// The QR code of `text` as an inline SVG element.
fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(192, 192)
                .quiet_zone(true)
                .build();
            svg.find("<svg").map_or(svg.clone(), |i| svg[i..].to_owned())
        }
        Err(_) => String::new(),
    }
}

fn setup_view(state: &AppState, who: &SignedIn, csrf: &CsrfToken, secret: &[u8], errors: Errors) -> SetupPage {
    let uri = otpauth_uri(secret, &state.settings.identity.totp_issuer, who.account.email.as_str());
    let sealed = URL_SAFE_NO_PAD.encode(state.master_key.encrypt(
        &mut rand::thread_rng(),
        secret,
        &enrolment_aad(&who.account.id),
    ));
    SetupPage {
        nav: Nav::new(who, csrf, "account"),
        errors,
        qr_svg: qr_svg(&uri),
        secret_groups: totp_secret_base32(secret)
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect(),
        secret_base32: totp_secret_base32(secret),
        sealed,
    }
}

async fn setup_page(State(state): State<AppState>, who: SignedIn, csrf: CsrfToken) -> Result<Response, PageError> {
    let (enrolled, _, _) = gatehouse_core::identity::accounts::mfa_status(&state, &who.account.id)
        .await
        .map_err(|e| PageError::new(crate::error::status_of(e.kind), "Error", e.message))?;
    if enrolled {
        return Ok(Redirect::to("/console/account/mfa").into_response());
    }
    let secret = new_totp_secret(&mut rand::thread_rng());
    let p = setup_view(&state, &who, &csrf, &secret, Errors::none());
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Debug, Deserialize)]
struct SetupForm {
    #[serde(default)]
    sealed: String,
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "console/recovery_codes.html")]
struct CodesPage {
    nav: Nav,
    codes: Vec<String>,
}

fn recovery_factors(account_id: &str, codes: &[String], now: i64) -> Vec<MfaFactor> {
    codes
        .iter()
        .filter_map(|c| recovery_code_digest(c))
        .map(|d| MfaFactor {
            id: new_row_id(&mut rand::thread_rng()),
            account_id: account_id.to_owned(),
            kind: MfaKind::RecoveryCode,
            label: String::new(),
            secret: Some(d.into_bytes()),
            data: serde_json::json!({}),
            last_used_at: None,
            created_at: now,
        })
        .collect()
}

async fn setup_submit(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> Result<Response, PageError> {
    let secret = URL_SAFE_NO_PAD
        .decode(form.sealed.as_bytes())
        .ok()
        .and_then(|b| state.master_key.decrypt(&b, &enrolment_aad(&who.account.id)).ok())
        .ok_or_else(|| PageError::bad_request("The set-up form is damaged. Start the set-up again."))?;
    let now = state.now();
    let step = match mfa::verify_totp(&secret, &form.code, now, None) {
        Ok(step) => step,
        Err(e) => {
            let p = setup_view(&state, &who, &csrf, &secret, Errors::one("code", e.message));
            return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, csrf, &p));
        }
    };
    let factor_id = new_row_id(&mut rand::thread_rng());
    let sealed = state
        .master_key
        .encrypt(&mut rand::thread_rng(), &secret, &totp_aad(&factor_id));
    let codes = new_recovery_codes(&mut rand::thread_rng());
    let mut tx = state.store.begin().await?;
    if tx
        .mfa_factors_of(&who.account.id)
        .await?
        .iter()
        .any(|f| f.kind == MfaKind::Totp)
    {
        return Ok(Redirect::to("/console/account/mfa").into_response());
    }
    tx.insert_mfa_factor(&MfaFactor {
        id: factor_id,
        account_id: who.account.id.clone(),
        kind: MfaKind::Totp,
        label: "Authenticator app".to_owned(),
        secret: Some(sealed),
        data: serde_json::json!({}),
        // The code just typed is spent: it cannot also be used to sign in.
        last_used_at: Some(step),
        created_at: now,
    })
    .await?;
    tx.delete_mfa_factors(&who.account.id, Some(MfaKind::RecoveryCode))
        .await?;
    for f in recovery_factors(&who.account.id, &codes, now) {
        tx.insert_mfa_factor(&f).await?;
    }
    let e = audit::entry(
        &state,
        &Actor::Account(who.account.id.clone()),
        "mfa.totp_enabled",
        audit::account_target(&who.account.id),
        &client,
    );
    tx.append_audit(&e).await?;
    tx.commit().await?;
    let p = CodesPage {
        nav: Nav::new(&who, &csrf, "account"),
        codes,
    };
    Ok(page(StatusCode::OK, csrf, &p))
}

#[derive(Debug, Deserialize)]
struct ManageForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    action: String,
}

/// Replaces the recovery codes or turns TOTP off; both need a current code.
async fn manage(
    State(state): State<AppState>,
    who: SignedIn,
    csrf: CsrfToken,
    client: ClientInfo,
    CsrfForm(form): CsrfForm<ManageForm>,
) -> Result<Response, PageError> {
    let now = state.now();
    let fail = |msg: String| async {
        let p = status_view(&state, &who, &csrf, None, Errors::one("code", msg)).await?;
        Ok::<_, PageError>(page(StatusCode::UNPROCESSABLE_ENTITY, csrf.clone(), &p))
    };
    if form.code.trim().is_empty() {
        return fail("Enter the current code from your authenticator app.".to_owned()).await;
    }
    let (_, _, passkeys) = gatehouse_core::identity::accounts::mfa_status(&state, &who.account.id)
        .await
        .map_err(|e| PageError::new(crate::error::status_of(e.kind), "Error", e.message))?;
    if form.action == "remove"
        && passkeys == 0
        && let Some(org) = gatehouse_core::identity::accounts::mfa_required_by(&state, &who.account.id)
            .await
            .map_err(|e| PageError::new(crate::error::status_of(e.kind), "Error", e.message))?
    {
        return fail(format!(
            "{org} requires two-step verification, so it cannot be turned off while you are a member."
        ))
        .await;
    }
    match check_second_factor(&state, &who.account, &form.code, now).await? {
        Err(e) => fail(e.message).await,
        Ok(_) if form.action == "remove" => {
            let mut tx = state.store.begin().await?;
            tx.delete_mfa_factors(&who.account.id, None).await?;
            let e = audit::entry(
                &state,
                &Actor::Account(who.account.id.clone()),
                "mfa.totp_disabled",
                audit::account_target(&who.account.id),
                &client,
            );
            tx.append_audit(&e).await?;
            tx.commit().await?;
            Ok(Redirect::to("/console/account/mfa?done=off").into_response())
        }
        Ok(_) => {
            let codes = new_recovery_codes(&mut rand::thread_rng());
            let mut tx = state.store.begin().await?;
            tx.delete_mfa_factors(&who.account.id, Some(MfaKind::RecoveryCode))
                .await?;
            for f in recovery_factors(&who.account.id, &codes, now) {
                tx.insert_mfa_factor(&f).await?;
            }
            let e = audit::entry(
                &state,
                &Actor::Account(who.account.id.clone()),
                "mfa.recovery_codes_replaced",
                audit::account_target(&who.account.id),
                &client,
            );
            tx.append_audit(&e).await?;
            tx.commit().await?;
            let p = CodesPage {
                nav: Nav::new(&who, &csrf, "account"),
                codes,
            };
            Ok(page(StatusCode::OK, csrf, &p))
        }
    }
}
