//! Showing a new client secret on a page exactly once (POST-redirect-GET). The POST that creates
//! the secret hands its plaintext to [`stash`], which seals it with the master key — bound to the
//! console session and the integration — under a random handle that the redirect carries; the GET
//! that follows opens it with [`open`], once. A reload, another session or a visit after
//! [`SECRET_DISPLAY_TTL`] seconds finds nothing and creates nothing.
//!
//! The JSON API returns a new secret in the response that created it and does not use this.

use base64::{Engine, engine::general_purpose::STANDARD};
use gatehouse_domain::secret;
use gatehouse_store::{OneTimeToken, OneTimeTokenStore};
use serde_json::json;

use super::OpResult;
use crate::{Core, error::Error, identity::SignedIn};

/// How long a new secret waits for its one display, in seconds.
pub const SECRET_DISPLAY_TTL: i64 = 600;

/// The one-time token purpose of a secret waiting to be shown.
pub const PURPOSE: &str = "console.secret_display";
/// The one-time token purpose of a test access token waiting to be shown.
pub const TOKEN_PURPOSE: &str = "console.token_display";

fn aad(digest: &str, session: &str, integration_id: &str) -> Vec<u8> {
    format!("gatehouse.secret-display:{digest}:{session}:{integration_id}").into_bytes()
}

/// A handle is 64 hex digits; anything else is not worth a database read.
fn well_formed(handle: &str) -> bool {
    handle.len() == 64 && handle.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Seals `plaintext` for one display to `who` (this session only) on integration
/// `integration_id`'s pages; returns the handle for the redirect.
pub async fn stash(state: &Core, who: &SignedIn, integration_id: &str, plaintext: &str) -> OpResult<String> {
    stash_as(state, PURPOSE, who, integration_id, plaintext).await
}

/// [`stash`] for another kind of value shown once (`purpose`: [`PURPOSE`] or [`TOKEN_PURPOSE`]).
pub async fn stash_as(
    state: &Core,
    purpose: &'static str,
    who: &SignedIn,
    integration_id: &str,
    plaintext: &str,
) -> OpResult<String> {
    let handle = secret::random_token_hex(&mut rand::thread_rng());
    let digest = secret::digest(&handle);
    let sealed = state.master_key.encrypt(
        &mut rand::rngs::OsRng,
        plaintext.as_bytes(),
        &aad(&digest, &who.session.id_digest, integration_id),
    );
    let now = state.now();
    // Bookkeeping of a change that is audited already (the secret's creation and display).
    state
        .store
        .conn()
        .await?
        .insert_one_time_token(&OneTimeToken {
            digest,
            purpose: purpose.to_owned(),
            account_id: Some(who.account.id.clone()),
            org_id: None,
            payload: json!({"integration_id": integration_id, "sealed": STANDARD.encode(sealed)}),
            created_at: now,
            expires_at: now + SECRET_DISPLAY_TTL,
            used_at: None,
        })
        .await?;
    Ok(handle)
}

/// The secret waiting under `handle` for `who` on integration `integration_id`, once: `None` when
/// it was shown already, expired, belongs to another session or integration, or never existed.
pub async fn open(state: &Core, who: &SignedIn, integration_id: &str, handle: &str) -> OpResult<Option<String>> {
    open_as(state, PURPOSE, who, integration_id, handle).await
}

/// [`open`] for a value stashed with [`stash_as`] under `purpose`.
pub async fn open_as(
    state: &Core,
    purpose: &'static str,
    who: &SignedIn,
    integration_id: &str,
    handle: &str,
) -> OpResult<Option<String>> {
    if !well_formed(handle) {
        return Ok(None);
    }
    let digest = secret::digest(handle);
    let now = state.now();
    let mut conn = state.store.conn().await?;
    let Some(waiting) = conn.peek_one_time_token(&digest, purpose, now).await? else {
        return Ok(None);
    };
    let sealed = waiting.payload["sealed"]
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .unwrap_or_default();
    let mine = waiting.account_id.as_deref() == Some(who.account.id.as_str())
        && waiting.payload["integration_id"].as_str() == Some(integration_id);
    if !mine {
        return Ok(None);
    }
    // Another session of the same person cannot open it (and does not use it up).
    let Ok(plaintext) = state
        .master_key
        .decrypt(&sealed, &aad(&digest, &who.session.id_digest, integration_id))
    else {
        return Ok(None);
    };
    // Single use: of two concurrent requests only one consumes it.
    if conn.consume_one_time_token(&digest, purpose, now).await?.is_none() {
        return Ok(None);
    }
    conn.purge_one_time_tokens(purpose, now).await?;
    String::from_utf8(plaintext).map(Some).map_err(Error::internal)
}
