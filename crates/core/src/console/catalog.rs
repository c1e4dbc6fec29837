//! The services catalog: anyone signed in reads it; operators create, change and delete services.
//! A change that drops scopes or integration types narrows or removes the subscriptions that used
//! them, and deleting a service removes every subscription to it — in both cases with their tokens
//! cut off exactly as for an unsubscribe.

use crate::policy;
use gatehouse_domain::{
    audit::AuditEntry,
    console::catalog::{ServiceInput, parse_service},
    integration::Integration,
    service::{Service, ServiceCode},
};
use gatehouse_store::{AuditStore, ConsoleStore, IntegrationStore, ServiceStore};
use serde_json::json;

use super::{OpResult, audit, changes};
use crate::{
    Core,
    console::Caller,
    error::{Error, Kind},
};

pub async fn list(state: &Core) -> OpResult<Vec<Service>> {
    Ok(state.store.conn().await?.list_services().await?)
}

pub async fn get(state: &Core, code: &str) -> OpResult<Service> {
    let code = ServiceCode::parse(code).map_err(|_| Error::not_found("service"))?;
    state
        .store
        .conn()
        .await?
        .service_by_code(&code)
        .await?
        .ok_or_else(|| Error::not_found("service"))
}

/// Creates a service (`path_code` `None`) or replaces the one with code `path_code`.
pub async fn save(
    state: &Core,
    caller: &Caller,
    input: &ServiceInput,
    path_code: Option<&str>,
) -> OpResult<(Service, bool)> {
    policy::catalog_admin(&caller.principal)?;
    let mut input = input.clone();
    if let Some(code) = path_code {
        input.code = code.to_owned();
    }
    let mut tx = state.store.begin().await?;
    let existing = match ServiceCode::parse(input.code.trim()) {
        Ok(code) => tx.service_by_code(&code).await?,
        Err(_) => None,
    };
    match (&existing, path_code) {
        (Some(s), None) => {
            return Err(Error::new(
                Kind::Conflict,
                "service_exists",
                format!(
                    "A service with the code {:?} already exists; change it instead.",
                    s.code.as_str()
                ),
            )
            .on("code"));
        }
        (None, Some(_)) => return Err(Error::not_found("service")),
        _ => {}
    }
    let service = parse_service(&input, existing.as_ref(), state.now())?;
    let created = existing.is_none();
    let mut affected = Vec::new();
    for a in changes::service_saved(&mut tx, &service, created, state.now()).await? {
        tx.append_audit(&audit(state, caller, a.action, &a.integration).details(json!({
            "service": service.code,
            "scopes": a.kept,
            "withdrawn_scopes": a.withdrawn,
            "reason": "service_changed",
        })))
        .await?;
        affected.push(a.integration.id);
    }
    let entry = AuditEntry::new(
        state.now(),
        &caller.actor,
        if created { "service.created" } else { "service.updated" },
        format!("service:{}", service.code),
    )
    .from_client(caller.client.ip.clone(), caller.client.user_agent.clone())
    .details(json!({
        "name": service.name,
        "allowed_types": service.allowed_types,
        "scopes": service.scopes,
        "acts_for": service.acts_for,
        "upstream_url": service.upstream_url,
        "affected_integrations": affected,
    }));
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    Ok((service, created))
}

/// The integrations subscribed to `code`, for the confirmation before deleting it (operators only).
pub async fn subscribers(state: &Core, caller: &Caller, code: &str) -> OpResult<(Service, Vec<Integration>)> {
    policy::catalog_admin(&caller.principal)?;
    let service = get(state, code).await?;
    let mut conn = state.store.conn().await?;
    let mut out = Vec::new();
    for sub in conn.subscriptions_of_service(&service.code).await? {
        if let Some(i) = conn.integration_by_id(&sub.integration_id).await? {
            out.push(i);
        }
    }
    Ok((service, out))
}

/// Deletes a service (operators only): every subscription to it is removed as an unsubscribe
/// would — the scopes no other subscription of the integration grants are cut off from its issued
/// tokens, each integration's audit trail and own event record it — then the service itself.
/// Returns the service and how many subscriptions were removed.
pub async fn delete(state: &Core, caller: &Caller, code: &str) -> OpResult<(Service, usize)> {
    policy::catalog_admin(&caller.principal)?;
    let code = ServiceCode::parse(code).map_err(|_| Error::not_found("service"))?;
    let mut tx = state.store.begin().await?;
    let service = tx
        .service_by_code(&code)
        .await?
        .ok_or_else(|| Error::not_found("service"))?;
    let mut affected = Vec::new();
    for (i, withdrawn) in changes::service_deleted(&mut tx, &code, state.now()).await? {
        tx.append_audit(&audit(state, caller, "subscription.deleted", &i).details(json!({
            "service": code,
            "withdrawn_scopes": withdrawn,
            "reason": "service_deleted",
        })))
        .await?;
        affected.push(i.id);
    }
    let entry = AuditEntry::new(state.now(), &caller.actor, "service.deleted", format!("service:{code}"))
        .from_client(caller.client.ip.clone(), caller.client.user_agent.clone())
        .details(json!({
            "name": service.name,
            "scopes": service.scopes,
            "affected_integrations": affected,
        }));
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    Ok((service, affected.len()))
}
