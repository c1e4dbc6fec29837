//! Client secrets: add one (shown once, in plain text, to the caller), optionally expiring, and
//! revoke one. At most two are active at once and the last one cannot be revoked
//! (`gatehouse_domain::console::secrets`).

use gatehouse_domain::{Timestamp, console::secrets, integration::StoredSecret};
use gatehouse_store::{AuditStore, IntegrationStore};
use serde_json::json;

use super::{OpResult, audit, changes, visible_integration};
use crate::{Core, console::Caller, error::Error};

/// Adds a secret that stops authenticating at `expires_at` (`None`: never); returns it as stored
/// and in plain text (to show once).
pub async fn add(
    state: &Core,
    caller: &Caller,
    integration_id: &str,
    expires_at: Option<Timestamp>,
) -> OpResult<(StoredSecret, String)> {
    let mut tx = state.store.begin().await?;
    let i = visible_integration(&mut tx, caller, integration_id).await?;
    let existing = tx.secrets_of(&i.id).await?;
    let new = secrets::add(&i, &existing, state.now(), expires_at, &mut rand::thread_rng()).map_err(|e| {
        let about_expiry = e.code.starts_with("expiry_");
        let e = Error::from(e);
        if about_expiry { e.on("expires_at") } else { e }
    })?;
    changes::secret_added(&mut tx, &i, &new.stored, state.now()).await?;
    let details = json!({"secret_id": new.stored.id, "hint": new.stored.hint, "expires_at": new.stored.expires_at});
    tx.append_audit(&audit(state, caller, "client_secret.created", &i).details(details.clone()))
        .await?;
    tx.append_audit(&audit(state, caller, "client_secret.displayed", &i).details(details))
        .await?;
    tx.commit().await?;
    Ok((new.stored, new.plaintext))
}

/// Revokes an active secret (never the last one).
pub async fn revoke(state: &Core, caller: &Caller, integration_id: &str, secret_id: &str) -> OpResult<()> {
    let mut tx = state.store.begin().await?;
    let i = visible_integration(&mut tx, caller, integration_id).await?;
    let existing = tx.secrets_of(&i.id).await?;
    secrets::check_revoke(&existing, secret_id, state.now()).map_err(|e| match e.code {
        "secret_not_found" => Error::not_found("client secret"),
        _ => e.into(),
    })?;
    let hint = changes::secret_revoked(&mut tx, &i, secret_id, state.now())
        .await?
        .ok_or_else(|| Error::not_found("client secret"))?;
    tx.append_audit(
        &audit(state, caller, "client_secret.revoked", &i).details(json!({"secret_id": secret_id, "hint": hint})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
