//! The writing half of every change to integrations, their credentials and subscriptions, and the
//! services catalog — the write, what it implies, and Gatehouse's own event — in the caller's
//! transaction.
//!
//! Two kinds of callers share it: the console's use cases (pages and `/api/v1`), once the policy
//! has let the caller act, and `gatehouse apply`, once the policy has given it leave to provision.
//! So a change has the same consequences whichever surface made it: disabling an integration ends
//! what its client was issued, a withdrawn scope is cut off the tokens already issued, narrowing a
//! service narrows the subscriptions to it, and subscribers hear of each. The audit entry stays
//! with the caller, who knows who acted; these functions return what it should record.

use gatehouse_domain::{
    Timestamp,
    console::{
        catalog::{SubscriptionEffect, effect_on},
        cutoff::{TokenCutoff, withdrawn_scopes},
    },
    events::own::OwnEventKind,
    integration::{Integration, IntegrationStatus, StoredCertificate, StoredSecret},
    service::{Service, ServiceCode, Subscription},
};
use gatehouse_store::{ConsoleStore, IntegrationStore, ServiceStore, StoreError, TokenStore, Tx};
use serde_json::{Value, json};

use super::{OpResult, publish};
use crate::error::Error;

/// A new integration (its first secret, if any, is added with [`secret_added`]).
pub async fn integration_created(tx: &mut Tx, i: &Integration, now: Timestamp) -> OpResult<()> {
    tx.insert_integration(i).await?;
    publish(
        tx,
        OwnEventKind::IntegrationCreated,
        i,
        json!({
            "integration_id": i.id,
            "client_id": i.client_id,
            "name": i.name,
            "integration_type": i.integration_type.as_str(),
        }),
        now,
    )
    .await
}

/// Saves `after` over `before`. Disabling ends everything the client was issued: a token cutoff
/// stops its access tokens at once, its refresh tokens are revoked and its unused authorization
/// codes deleted, so none works again if it is enabled again. Returns the names of the fields
/// that changed and, when it was disabled, what was revoked.
pub async fn integration_changed(
    tx: &mut Tx,
    before: &Integration,
    after: &Integration,
    now: Timestamp,
) -> OpResult<Value> {
    tx.update_integration(after).await?;
    let mut changed = Vec::new();
    for (field, differs) in [
        ("name", before.name != after.name),
        ("description", before.description != after.description),
        ("redirect_uri", before.redirect_uri != after.redirect_uri),
        ("redirect_patterns", before.redirect_patterns != after.redirect_patterns),
        ("status", before.status != after.status),
        (
            "id_token_signed_response_alg",
            before.id_token_signed_response_alg != after.id_token_signed_response_alg,
        ),
        ("may_introspect", before.may_introspect != after.may_introspect),
        ("allowed_domains", before.allowed_domains != after.allowed_domains),
    ] {
        if differs {
            changed.push(field);
        }
    }
    let mut details = json!({ "changed": changed });
    if before.status == IntegrationStatus::Active && after.status == IntegrationStatus::Disabled {
        let ended = end_client_tokens(tx, after, now).await?;
        details["refresh_tokens_revoked"] = ended["refresh_tokens_revoked"].clone();
        details["authorization_codes_revoked"] = ended["authorization_codes_revoked"].clone();
    }
    publish(
        tx,
        OwnEventKind::IntegrationUpdated,
        after,
        json!({"integration_id": after.id, "client_id": after.client_id, "changed": changed,
               "status": after.status.as_str()}),
        now,
    )
    .await?;
    Ok(details)
}

/// Deletes the integration with its credentials and subscriptions after ending what its client
/// was issued; returns what was revoked. The audit trail stays.
pub async fn integration_deleted(tx: &mut Tx, i: &Integration, now: Timestamp) -> OpResult<Value> {
    let ended = end_client_tokens(tx, i, now).await?;
    publish(
        tx,
        OwnEventKind::IntegrationDeleted,
        i,
        json!({"integration_id": i.id, "client_id": i.client_id, "name": i.name}),
        now,
    )
    .await?;
    tx.delete_integration(&i.id).await?;
    Ok(ended)
}

/// Ends every token and grant issued to the integration's client.
async fn end_client_tokens(tx: &mut Tx, i: &Integration, now: Timestamp) -> OpResult<Value> {
    tx.record_token_cutoff(&TokenCutoff {
        client_id: i.client_id.to_string(),
        scope: None,
        at: now,
    })
    .await?;
    let ended = tx.revoke_client_grants(i.client_id.as_str(), now).await?;
    Ok(json!({
        "refresh_tokens_revoked": ended.refresh_tokens,
        "authorization_codes_revoked": ended.authorization_codes,
    }))
}

/// A client secret added to `i` (the rules — at most two active — are checked by the caller).
pub async fn secret_added(tx: &mut Tx, i: &Integration, s: &StoredSecret, now: Timestamp) -> OpResult<()> {
    tx.insert_secret(s).await?;
    publish(
        tx,
        OwnEventKind::CredentialRotated,
        i,
        json!({"integration_id": i.id, "client_id": i.client_id, "credential": "client_secret", "change": "added",
               "hint": s.hint}),
        now,
    )
    .await
}

/// Revokes a secret of `i`; returns its hint, or `None` when `i` has no such active secret.
pub async fn secret_revoked(tx: &mut Tx, i: &Integration, secret_id: &str, now: Timestamp) -> OpResult<Option<String>> {
    let hint = tx
        .secrets_of(&i.id)
        .await?
        .into_iter()
        .find(|s| s.id == secret_id)
        .map(|s| s.hint);
    if !tx.revoke_secret(&i.id, secret_id, now).await? {
        return Ok(None);
    }
    publish(
        tx,
        OwnEventKind::CredentialRotated,
        i,
        json!({"integration_id": i.id, "client_id": i.client_id, "credential": "client_secret", "change": "revoked",
               "hint": hint}),
        now,
    )
    .await?;
    Ok(Some(hint.unwrap_or_default()))
}

/// A certificate added to a service account; a certificate already on it is a conflict.
pub async fn certificate_added(tx: &mut Tx, i: &Integration, c: &StoredCertificate, now: Timestamp) -> OpResult<()> {
    tx.insert_certificate(c).await.map_err(|e| match e {
        StoreError::Conflict(_) => Error::from(gatehouse_domain::DomainError::new(
            "certificate_duplicate",
            format!(
                "This certificate (SHA-256 fingerprint {}) is already on this integration.",
                c.fingerprint
            ),
        )),
        other => other.into(),
    })?;
    publish(
        tx,
        OwnEventKind::CredentialRotated,
        i,
        json!({"integration_id": i.id, "client_id": i.client_id, "credential": "certificate", "change": "added",
               "fingerprint": c.fingerprint, "not_after": c.not_after}),
        now,
    )
    .await
}

/// Revokes a certificate of `i`: assertions signed with its key stop being accepted. Returns its
/// fingerprint, or `None` when `i` has no such certificate in use.
pub async fn certificate_revoked(
    tx: &mut Tx,
    i: &Integration,
    cert_id: &str,
    now: Timestamp,
) -> OpResult<Option<String>> {
    let Some(cert) = tx
        .certificates_of(&i.id)
        .await?
        .into_iter()
        .find(|c| c.id == cert_id && c.revoked_at.is_none())
    else {
        return Ok(None);
    };
    tx.revoke_certificate(&i.id, cert_id, now).await?;
    publish(
        tx,
        OwnEventKind::CredentialRotated,
        i,
        json!({"integration_id": i.id, "client_id": i.client_id, "credential": "certificate", "change": "removed",
               "fingerprint": cert.fingerprint}),
        now,
    )
    .await?;
    Ok(Some(cert.fingerprint))
}

/// Every scope the integration's subscriptions grant, once each.
async fn granted(tx: &mut Tx, integration_id: &str) -> OpResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in tx
        .subscriptions_of(integration_id)
        .await?
        .into_iter()
        .flat_map(|s| s.scopes)
    {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Records a cutoff for each scope of `before` that the integration's subscriptions no longer
/// grant, so tokens already issued lose it at once; returns those scopes.
async fn cut_withdrawn(tx: &mut Tx, i: &Integration, before: &[String], now: Timestamp) -> OpResult<Vec<String>> {
    let after = granted(tx, &i.id).await?;
    let withdrawn = withdrawn_scopes(before, &after);
    for scope in &withdrawn {
        tx.record_token_cutoff(&TokenCutoff {
            client_id: i.client_id.to_string(),
            scope: Some(scope.clone()),
            at: now,
        })
        .await?;
    }
    Ok(withdrawn)
}

/// Saves a subscription of `i` (new, or with other scopes; the type and scope rules are checked
/// by the caller). Returns the scopes withdrawn from the tokens already issued.
pub async fn subscription_saved(
    tx: &mut Tx,
    i: &Integration,
    sub: &Subscription,
    is_new: bool,
    now: Timestamp,
) -> OpResult<Vec<String>> {
    let before = granted(tx, &i.id).await?;
    tx.upsert_subscription(sub).await?;
    let withdrawn = cut_withdrawn(tx, i, &before, now).await?;
    publish(
        tx,
        OwnEventKind::SubscriptionChanged,
        i,
        json!({"integration_id": i.id, "client_id": i.client_id, "service": sub.service_code, "scopes": sub.scopes,
               "change": if is_new { "subscribed" } else { "scopes_changed" }}),
        now,
    )
    .await?;
    Ok(withdrawn)
}

/// Removes the subscription of `i` to `service`. Returns the scopes withdrawn from the tokens
/// already issued, or `None` when there was no such subscription. `reason` tells subscribers why
/// when it was not the integration's own choice (e.g. `service_deleted`).
pub async fn subscription_removed(
    tx: &mut Tx,
    i: &Integration,
    service: &ServiceCode,
    reason: Option<&str>,
    now: Timestamp,
) -> OpResult<Option<Vec<String>>> {
    let before = granted(tx, &i.id).await?;
    if !tx.delete_subscription(&i.id, service).await? {
        return Ok(None);
    }
    let withdrawn = cut_withdrawn(tx, i, &before, now).await?;
    let mut data =
        json!({"integration_id": i.id, "client_id": i.client_id, "service": service, "change": "unsubscribed"});
    if let Some(r) = reason {
        data["reason"] = r.into();
    }
    publish(tx, OwnEventKind::SubscriptionChanged, i, data, now).await?;
    Ok(Some(withdrawn))
}

/// What a change to the catalog did to one integration's subscription.
#[derive(Debug, Clone)]
pub struct SubscriptionAffected {
    pub integration: Integration,
    /// `subscription.updated` (narrowed) or `subscription.deleted`.
    pub action: &'static str,
    /// The scopes the subscription keeps (empty when it was removed).
    pub kept: Vec<String>,
    pub withdrawn: Vec<String>,
}

/// Saves a service. A changed service narrows the subscriptions to it to the scopes it still
/// offers and removes those of integration types it no longer allows, cutting the withdrawn
/// scopes off issued tokens; returns what it did to each subscriber (for their audit trail).
pub async fn service_saved(
    tx: &mut Tx,
    service: &Service,
    created: bool,
    now: Timestamp,
) -> OpResult<Vec<SubscriptionAffected>> {
    tx.upsert_service(service).await?;
    let mut affected = Vec::new();
    if created {
        return Ok(affected);
    }
    for sub in tx.subscriptions_of_service(&service.code).await? {
        let Some(i) = tx.integration_by_id(&sub.integration_id).await? else {
            continue;
        };
        let (action, kept, withdrawn) = match effect_on(service, i.integration_type, &sub) {
            SubscriptionEffect::Unchanged => continue,
            SubscriptionEffect::Narrow(kept) => {
                let narrowed = Subscription {
                    scopes: kept.clone(),
                    updated_at: now,
                    ..sub.clone()
                };
                let withdrawn = subscription_saved(tx, &i, &narrowed, false, now).await?;
                ("subscription.updated", kept, withdrawn)
            }
            SubscriptionEffect::Remove => {
                let withdrawn = subscription_removed(tx, &i, &service.code, Some("service_changed"), now)
                    .await?
                    .unwrap_or_default();
                ("subscription.deleted", Vec::new(), withdrawn)
            }
        };
        affected.push(SubscriptionAffected {
            integration: i,
            action,
            kept,
            withdrawn,
        });
    }
    Ok(affected)
}

/// Deletes a service: every subscription to it is removed as an unsubscribe would be, then the
/// service itself. Returns each former subscriber with the scopes withdrawn from it.
pub async fn service_deleted(
    tx: &mut Tx,
    code: &ServiceCode,
    now: Timestamp,
) -> OpResult<Vec<(Integration, Vec<String>)>> {
    let mut affected = Vec::new();
    for sub in tx.subscriptions_of_service(code).await? {
        let Some(i) = tx.integration_by_id(&sub.integration_id).await? else {
            continue;
        };
        let withdrawn = subscription_removed(tx, &i, code, Some("service_deleted"), now)
            .await?
            .unwrap_or_default();
        affected.push((i, withdrawn));
    }
    tx.delete_service(code).await?;
    Ok(affected)
}
