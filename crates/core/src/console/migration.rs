//! The guided migration of a Service Account (JWT) credential to OAuth Server-to-Server
//! (`gatehouse_domain::console::migration`): start it (the credential becomes Server-to-Server in
//! place and its JWTs keep working), then, once its JWT is no longer used, delete the JWT
//! credential (its certificates go, and the JWT grant with them). Each step is audited.

use crate::policy;
use gatehouse_domain::{console::migration, integration::Integration};
use gatehouse_store::{AuditStore, IntegrationStore, ServiceStore};
use serde_json::json;

use super::{OpResult, audit, changes, visible_integration};
use crate::{Core, console::Caller};

/// Starts the migration. Only whoever may create a Server-to-Server credential for its
/// organization (an admin) may.
pub async fn start(state: &Core, caller: &Caller, id: &str) -> OpResult<Integration> {
    let mut tx = state.store.begin().await?;
    let current = visible_integration(&mut tx, caller, id).await?;
    policy::create_integration(
        &caller.principal,
        gatehouse_domain::integration::IntegrationType::ServerToServer,
        &current.owner,
    )?;
    let mut services = Vec::new();
    for sub in tx.subscriptions_of(&current.id).await? {
        if let Some(s) = tx.service_by_code(&sub.service_code).await? {
            services.push(s);
        }
    }
    let next = migration::start(&current, &services, state.now())?;
    tx.set_integration_type(&next).await?;
    tx.append_audit(
        &audit(state, caller, "integration.migration_started", &next).details(json!({
            "from": current.integration_type.as_str(),
            "to": next.integration_type.as_str(),
            "client_id": next.client_id,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Deletes the JWT credential of a migrated credential: its certificates are removed, so its
/// JWTs are refused from now on; its client secrets keep working.
pub async fn delete_jwt_credential(state: &Core, caller: &Caller, id: &str) -> OpResult<Integration> {
    let mut tx = state.store.begin().await?;
    let i = visible_integration(&mut tx, caller, id).await?;
    policy::create_integration(&caller.principal, i.integration_type, &i.owner)?;
    let active: Vec<String> = tx
        .certificates_of(&i.id)
        .await?
        .into_iter()
        .filter(|c| c.revoked_at.is_none())
        .map(|c| c.id)
        .collect();
    migration::check_finish(&i, active.len())?;
    for cert in &active {
        changes::certificate_revoked(&mut tx, &i, cert, state.now()).await?;
    }
    tx.append_audit(
        &audit(state, caller, "integration.migration_finished", &i)
            .details(json!({"certificates_removed": active.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(i)
}
