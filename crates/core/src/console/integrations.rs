//! Integrations: list what the caller may see, create (with the first client secret, shown
//! once), edit, enable or disable, delete, and the credentials file.
//!
//! Disabling and deleting end everything the client was issued: a token cutoff makes its access
//! tokens stop validating at once, and its refresh tokens are revoked and its unused authorization
//! codes deleted — so none of them works again if it is enabled again (or its client ID reused).

use std::collections::HashMap;

use crate::policy;
use gatehouse_domain::{
    Timestamp,
    console::{
        credentials::{CredentialsFile, credentials_file},
        integration::{self, CreateContext, IntegrationChanges, IntegrationInput},
    },
    integration::{Integration, IntegrationStatus, StoredCertificate, StoredSecret},
    org::Role,
    project,
    service::Subscription,
};
use gatehouse_store::{AuditStore, ConsoleStore, IntegrationStore, LastUsedStore};
use serde_json::json;

use super::{OpResult, audit, changes, projects, visible_integration};
use crate::{Core, console::Caller};

/// What the caller may see, oldest first, each with its subscriptions.
pub async fn list(state: &Core, caller: &Caller) -> OpResult<Vec<(Integration, Vec<Subscription>)>> {
    let mut conn = state.store.conn().await?;
    let p = &caller.principal;
    let mut all = Vec::new();
    if let Some(account) = p.account_id() {
        all.extend(conn.integrations_of_account(account).await?);
    }
    for r in &p.roles {
        if matches!(r.role, Role::Admin | Role::Developer) {
            all.extend(conn.integrations_of_org(&r.org_id).await?);
        }
    }
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let mut out = Vec::new();
    for i in policy::visible_integrations(p, all) {
        let subs = conn.subscriptions_of(&i.id).await?;
        out.push((i, subs));
    }
    Ok(out)
}

/// A new integration and, for types with one, its first client secret in plain text (shown once).
///
/// In the workspace the input names (the caller must manage its project, and the integration takes
/// the project's owner); without one, in a new project of its own with a Production workspace.
pub async fn create(
    state: &Core,
    caller: &Caller,
    mut input: IntegrationInput,
) -> OpResult<(Integration, Option<String>)> {
    let mut tx = state.store.begin().await?;
    let (workspace_id, own_project) = match input.workspace.take() {
        Some(id) => {
            let (m, w) = projects::workspace_by_id(&mut tx, caller, &id)
                .await
                .map_err(|e| e.on("workspace_id"))?;
            input.owner = m.project().owner.clone();
            (w.id, None)
        }
        None => {
            let (p, w) = project::own_project(
                input.name.trim(),
                input.description.trim(),
                input.owner.clone(),
                caller.principal.account_id(),
                state.now(),
                &mut rand::thread_rng(),
            );
            (w.id.clone(), Some((p, w)))
        }
    };
    let allowed = policy::create_integration(&caller.principal, input.integration_type, &input.owner);
    let ctx = CreateContext {
        creator: caller.principal.account_id(),
        now: state.now(),
        technical_account_domain: &state.settings.technical_account_domain,
        workspace_id: &workspace_id,
    };
    let created = match (allowed, integration::create(input, ctx, &mut rand::thread_rng())) {
        (Ok(_), Ok(created)) => created,
        (Ok(_), Err(fields)) => return Err(fields.into()),
        // The refusal is about the owner the form chose: it stands, with every field's problem,
        // so the form is fixed in one round.
        (Err(refusal), Err(fields)) if fields.iter().any(|f| f.field == "owner") => {
            let mut e = crate::Error::from(refusal);
            e.fields = crate::Error::from(fields).fields;
            return Err(e);
        }
        (Err(refusal), _) => return Err(refusal.into()),
    };
    let i = created.integration;
    if let Some((p, w)) = &own_project {
        let mut p = p.clone();
        // Its title follows the integration's name as validated (the input's may be too long).
        p.title.clone_from(&i.name);
        p.description.clone_from(&i.description);
        projects::insert_project(&mut tx, &p, w).await?;
    }
    changes::integration_created(&mut tx, &i, state.now()).await?;
    tx.append_audit(&audit(state, caller, "integration.created", &i).details(json!({
        "name": i.name,
        "client_id": i.client_id,
        "integration_type": i.integration_type.as_str(),
        "platform": i.platform.map(|p| p.as_str()),
        "technical_account_id": i.technical_account_id,
        "workspace_id": i.workspace_id,
    })))
    .await?;
    let secret = match created.secret {
        Some(s) => {
            changes::secret_added(&mut tx, &i, &s.stored, state.now()).await?;
            let details = json!({"secret_id": s.stored.id, "hint": s.stored.hint});
            tx.append_audit(&audit(state, caller, "client_secret.created", &i).details(details.clone()))
                .await?;
            tx.append_audit(&audit(state, caller, "client_secret.displayed", &i).details(details))
                .await?;
            Some(s.plaintext)
        }
        None => None,
    };
    tx.commit().await?;
    Ok((i, secret))
}

/// Everything shown about one integration.
#[derive(Debug, Clone)]
pub struct Details {
    pub integration: Integration,
    pub secrets: Vec<StoredSecret>,
    pub certificates: Vec<StoredCertificate>,
    pub subscriptions: Vec<Subscription>,
    /// When it was last used, as stored (`crate::tokens::last_used`); `None`: never.
    pub last_used_at: Option<Timestamp>,
}

pub async fn details(state: &Core, caller: &Caller, id: &str) -> OpResult<Details> {
    let mut conn = state.store.conn().await?;
    let integration = visible_integration(&mut conn, caller, id).await?;
    let last_used_at = conn
        .integrations_last_used(std::slice::from_ref(&integration.id))
        .await?
        .remove(&integration.id);
    Ok(Details {
        secrets: conn.secrets_of(&integration.id).await?,
        certificates: conn.certificates_of(&integration.id).await?,
        subscriptions: conn.subscriptions_of(&integration.id).await?,
        last_used_at,
        integration,
    })
}

/// When each of `listed` (integrations [`list`] returned to this caller) was last used; those
/// never used are absent.
pub async fn last_used(state: &Core, listed: &[Integration]) -> OpResult<HashMap<String, Timestamp>> {
    let ids: Vec<String> = listed.iter().map(|i| i.id.clone()).collect();
    Ok(state.store.conn().await?.integrations_last_used(&ids).await?)
}

/// Applies an edit (name, description, redirect settings).
pub async fn update(state: &Core, caller: &Caller, id: &str, edits: &IntegrationChanges) -> OpResult<Integration> {
    let mut tx = state.store.begin().await?;
    let current = visible_integration(&mut tx, caller, id).await?;
    if edits.may_introspect.is_some_and(|m| m != current.may_introspect) {
        policy::grant_introspection(&caller.principal)?;
    }
    let next = integration::edit(&current, edits, state.now())?;
    let changed = changes::integration_changed(&mut tx, &current, &next, state.now()).await?;
    tx.append_audit(&audit(state, caller, "integration.updated", &next).details(json!({
        "changed": changed["changed"],
        "name": next.name,
        "redirect_uri": next.redirect_uri,
        "redirect_patterns": next.redirect_patterns,
        "id_token_signed_response_alg": next.id_token_signed_response_alg.map(|a| a.as_str()),
        "may_introspect": next.may_introspect,
        "allowed_domains": next.allowed_domains,
    })))
    .await?;
    tx.commit().await?;
    Ok(next)
}

/// Enables or disables. Disabling ends the client's issued access tokens, refresh tokens and
/// unused authorization codes at once; enabling again does not revive them.
pub async fn set_status(state: &Core, caller: &Caller, id: &str, status: IntegrationStatus) -> OpResult<Integration> {
    let mut tx = state.store.begin().await?;
    let current = visible_integration(&mut tx, caller, id).await?;
    if current.status == status {
        return Ok(current);
    }
    let next = integration::set_status(&current, status, state.now());
    let done = changes::integration_changed(&mut tx, &current, &next, state.now()).await?;
    let entry = match status {
        IntegrationStatus::Active => audit(state, caller, "integration.enabled", &next),
        IntegrationStatus::Disabled => audit(state, caller, "integration.disabled", &next).details(json!({
            "refresh_tokens_revoked": done["refresh_tokens_revoked"],
            "authorization_codes_revoked": done["authorization_codes_revoked"],
        })),
    };
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    Ok(next)
}

/// Deletes the integration with its credentials and subscriptions; its issued tokens are revoked
/// and the audit trail stays.
pub async fn delete(state: &Core, caller: &Caller, id: &str) -> OpResult<Integration> {
    let mut tx = state.store.begin().await?;
    let current = visible_integration(&mut tx, caller, id).await?;
    let ended = changes::integration_deleted(&mut tx, &current, state.now()).await?;
    tx.append_audit(&audit(state, caller, "integration.deleted", &current).details(json!({
        "name": current.name,
        "client_id": current.client_id,
        "integration_type": current.integration_type.as_str(),
        "refresh_tokens_revoked": ended["refresh_tokens_revoked"],
        "authorization_codes_revoked": ended["authorization_codes_revoked"],
    })))
    .await?;
    tx.commit().await?;
    Ok(current)
}

/// The credentials file (never a secret). Its download is recorded in the audit log.
pub async fn credentials(state: &Core, caller: &Caller, id: &str) -> OpResult<CredentialsFile> {
    let d = details(state, caller, id).await?;
    let file = credentials_file(
        &state.settings.public_url,
        &d.integration,
        &d.subscriptions,
        &d.secrets,
        &d.certificates,
        state.now(),
    );
    // A download changes nothing cached: recorded on its own, without bumping the catalog.
    state
        .store
        .conn()
        .await?
        .append_audit(&audit(state, caller, "credentials.downloaded", &d.integration))
        .await?;
    Ok(file)
}
