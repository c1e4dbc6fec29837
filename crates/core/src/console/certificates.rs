//! A service account's certificates: upload a PEM certificate, generate a key pair (the private
//! key goes to the caller once and is not kept), remove one.
//!
//! The API hands a generated private key back in the response that created it. Pages cannot do
//! that safely (a reload would generate another pair), so [`generate_for_download`] seals the key
//! with the master key under a one-time download token for [`PENDING_KEY_TTL`] seconds;
//! [`take_private_key`] deletes it as it hands it out, so it can be downloaded exactly once.

use gatehouse_domain::{
    certificate,
    console::{certificates, keypair},
    integration::{Integration, StoredCertificate},
    secret,
};
use gatehouse_store::{AuditStore, IntegrationStore, PendingKeyStore, PendingPrivateKey, Tx};
use serde_json::json;

use super::{OpResult, audit, changes, visible_integration};
use crate::{Core, console::Caller, error::Error};

/// How long a generated private key waits for its download, in seconds.
pub const PENDING_KEY_TTL: i64 = 600;

fn aad(digest: &str) -> Vec<u8> {
    format!("gatehouse.pending-private-key:{digest}").into_bytes()
}

/// Stores `cert` on `i` after the console's checks; the caller commits.
async fn add(
    state: &Core,
    caller: &Caller,
    tx: &mut Tx,
    i: &Integration,
    cert: &certificate::Certificate,
    action: &str,
) -> OpResult<StoredCertificate> {
    let existing = tx.certificates_of(&i.id).await?;
    certificates::check_add(i, &existing, cert)?;
    let stored = certificates::to_stored(cert, &i.id, state.now(), &mut rand::thread_rng());
    changes::certificate_added(tx, i, &stored, state.now()).await?;
    tx.append_audit(&audit(state, caller, action, i).details(json!({
        "certificate_id": stored.id,
        "fingerprint": stored.fingerprint,
        "subject": cert.subject,
        "key": cert.key.to_string(),
        "not_after": stored.not_after,
    })))
    .await?;
    Ok(stored)
}

/// Uploads a PEM certificate. Nothing is written when any check fails.
pub async fn upload(state: &Core, caller: &Caller, integration_id: &str, pem: &str) -> OpResult<StoredCertificate> {
    let mut tx = state.store.begin().await?;
    let i = visible_integration(&mut tx, caller, integration_id).await?;
    certificates::check_type(&i)?;
    let cert = certificate::parse(pem, state.now())?;
    let stored = add(state, caller, &mut tx, &i, &cert, "certificate.uploaded").await?;
    tx.commit().await?;
    Ok(stored)
}

async fn generate_pair(i: &Integration, now: i64) -> OpResult<keypair::GeneratedKeyPair> {
    let name = i.name.clone();
    tokio::task::spawn_blocking(move || keypair::generate(&name, now, &mut rand::rngs::OsRng))
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)
}

/// Checks that a key pair may be added before spending the time to generate one.
async fn precheck(state: &Core, caller: &Caller, integration_id: &str) -> OpResult<Integration> {
    let mut conn = state.store.conn().await?;
    let i = visible_integration(&mut conn, caller, integration_id).await?;
    let existing = conn.certificates_of(&i.id).await?;
    certificates::check_room(&i, &existing)?;
    Ok(i)
}

/// Generates a key pair; returns the stored certificate and the private key (PKCS#8 PEM), which
/// is not kept anywhere.
pub async fn generate(state: &Core, caller: &Caller, integration_id: &str) -> OpResult<(StoredCertificate, String)> {
    let i = precheck(state, caller, integration_id).await?;
    let pair = generate_pair(&i, state.now()).await?;
    let mut tx = state.store.begin().await?;
    let i = visible_integration(&mut tx, caller, &i.id).await?;
    let stored = add(state, caller, &mut tx, &i, &pair.certificate, "certificate.generated").await?;
    tx.commit().await?;
    Ok((stored, pair.private_key_pem))
}

/// Generates a key pair for a page: the private key waits, sealed, for one download with the
/// returned token.
pub async fn generate_for_download(
    state: &Core,
    caller: &Caller,
    integration_id: &str,
) -> OpResult<(StoredCertificate, String)> {
    let i = precheck(state, caller, integration_id).await?;
    let pair = generate_pair(&i, state.now()).await?;
    let token = secret::random_token_hex(&mut rand::thread_rng());
    let digest = secret::digest(&token);
    let sealed = state
        .master_key
        .encrypt(&mut rand::rngs::OsRng, pair.private_key_pem.as_bytes(), &aad(&digest));
    let mut tx = state.store.begin().await?;
    let i = visible_integration(&mut tx, caller, &i.id).await?;
    let stored = add(state, caller, &mut tx, &i, &pair.certificate, "certificate.generated").await?;
    tx.insert_pending_key(&PendingPrivateKey {
        digest,
        integration_id: i.id.clone(),
        certificate_id: stored.id.clone(),
        sealed,
        created_at: state.now(),
        expires_at: state.now() + PENDING_KEY_TTL,
    })
    .await?;
    tx.commit().await?;
    Ok((stored, token))
}

/// Hands out a generated private key once: `None` when it was downloaded already, expired, or
/// never existed.
pub async fn take_private_key(
    state: &Core,
    caller: &Caller,
    integration_id: &str,
    token: &str,
) -> OpResult<Option<String>> {
    let mut conn = state.store.conn().await?;
    let i = visible_integration(&mut conn, caller, integration_id).await?;
    let digest = secret::digest(token);
    let Some(pending) = conn.take_pending_key(&digest, &i.id, state.now()).await? else {
        return Ok(None);
    };
    let pem = state
        .master_key
        .decrypt(&pending.sealed, &aad(&digest))
        .map_err(Error::internal)?;
    conn.append_audit(
        &audit(state, caller, "private_key.downloaded", &i).details(json!({"certificate_id": pending.certificate_id})),
    )
    .await?;
    String::from_utf8(pem).map(Some).map_err(Error::internal)
}

/// Whether a generated private key still waits under `token` (to offer its download, or say it
/// is gone).
pub async fn private_key_waits(state: &Core, caller: &Caller, integration_id: &str, token: &str) -> OpResult<bool> {
    let mut conn = state.store.conn().await?;
    let i = visible_integration(&mut conn, caller, integration_id).await?;
    Ok(conn
        .pending_key_waits(&secret::digest(token), &i.id, state.now())
        .await?)
}

/// Removes (revokes) a certificate: assertions signed with its key stop being accepted.
pub async fn remove(state: &Core, caller: &Caller, integration_id: &str, cert_id: &str) -> OpResult<()> {
    let mut tx = state.store.begin().await?;
    let i = visible_integration(&mut tx, caller, integration_id).await?;
    let fingerprint = changes::certificate_revoked(&mut tx, &i, cert_id, state.now())
        .await?
        .ok_or_else(|| Error::not_found("certificate"))?;
    tx.append_audit(
        &audit(state, caller, "certificate.removed", &i)
            .details(json!({"certificate_id": cert_id, "fingerprint": fingerprint})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
