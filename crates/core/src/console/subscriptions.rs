//! Subscriptions: subscribe an integration to a service with chosen scopes (the service must allow
//! the integration's type), change the scopes, unsubscribe. Scopes no longer granted by any of
//! the integration's subscriptions are left out of future tokens (the token service grants only
//! subscribed scopes) and cut off from the tokens already issued.

use gatehouse_domain::service::{ServiceCode, Subscription, check_subscription};
use gatehouse_store::{AuditStore, IntegrationStore, ServiceStore};
use serde_json::json;

use super::{OpResult, audit, changes, visible_integration};
use crate::{
    Core,
    console::Caller,
    error::{Error, Kind},
};

/// Parses a service code given in a request and finds the service.
pub async fn find_service(db: &mut impl ServiceStore, code: &str) -> OpResult<gatehouse_domain::service::Service> {
    let parsed = ServiceCode::parse(code.trim()).map_err(|e| Error::rule(e).on("service"))?;
    db.service_by_code(&parsed).await?.ok_or_else(|| {
        Error::new(
            Kind::Invalid,
            "unknown_service",
            format!(
                "There is no service with the code {:?} in the catalog.",
                parsed.as_str()
            ),
        )
        .on("service")
    })
}

/// Subscribes (or, with `replace`, changes the scopes of an existing subscription). An empty
/// `scopes` means every scope the service offers. Returns the subscription and whether it is new.
pub async fn subscribe(
    state: &Core,
    caller: &Caller,
    integration_id: &str,
    service_code: &str,
    scopes: &[String],
    replace: bool,
) -> OpResult<(Subscription, bool)> {
    let mut tx = state.store.begin().await?;
    let i = visible_integration(&mut tx, caller, integration_id).await?;
    let service = find_service(&mut tx, service_code).await?;
    let chosen: Vec<String> = scopes
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let granted = check_subscription(&service, i.integration_type, &chosen).map_err(|e| Error::from(e).on("scopes"))?;
    let before = tx.subscriptions_of(&i.id).await?;
    let existing = before.iter().find(|s| s.service_code == service.code);
    match (existing, replace) {
        (Some(_), false) => {
            return Err(Error::new(
                Kind::Conflict,
                "already_subscribed",
                format!(
                    "This integration already subscribes to {}; change its scopes instead.",
                    service.name
                ),
            ));
        }
        (None, true) => return Err(Error::not_found("subscription")),
        _ => {}
    }
    let is_new = existing.is_none();
    let sub = Subscription {
        integration_id: i.id.clone(),
        service_code: service.code.clone(),
        scopes: granted,
        // Limits are the operator's to set (`gatehouse apply`, the operators' API); a developer's
        // change of scopes keeps them.
        limits: existing.map(|s| s.limits).unwrap_or_default(),
        created_at: existing.map_or(state.now(), |s| s.created_at),
        updated_at: state.now(),
    };
    let withdrawn = changes::subscription_saved(&mut tx, &i, &sub, is_new, state.now()).await?;
    let action = if is_new {
        "subscription.created"
    } else {
        "subscription.updated"
    };
    tx.append_audit(&audit(state, caller, action, &i).details(json!({
        "service": service.code,
        "scopes": sub.scopes,
        "withdrawn_scopes": withdrawn,
    })))
    .await?;
    tx.commit().await?;
    Ok((sub, is_new))
}

/// Unsubscribes; the service's scopes that no other subscription grants are revoked from issued tokens.
pub async fn unsubscribe(state: &Core, caller: &Caller, integration_id: &str, service_code: &str) -> OpResult<()> {
    let mut tx = state.store.begin().await?;
    let i = visible_integration(&mut tx, caller, integration_id).await?;
    let code = ServiceCode::parse(service_code).map_err(|_| Error::not_found("subscription"))?;
    let withdrawn = changes::subscription_removed(&mut tx, &i, &code, None, state.now())
        .await?
        .ok_or_else(|| Error::not_found("subscription"))?;
    tx.append_audit(
        &audit(state, caller, "subscription.deleted", &i)
            .details(json!({"service": code, "withdrawn_scopes": withdrawn})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
