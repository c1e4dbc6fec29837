//! The event-provider use cases: custom providers an integration owns (create, update, delete).

use super::service;
use gatehouse_domain::events::model::{self, Provider};
use gatehouse_store::{AuditStore, EventStore};
use serde::Deserialize;

use super::Caller;
use crate::{Core, Error, error::OnField};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    pub label: String,
    #[serde(default)]
    pub description: String,
    pub docs_url: Option<String>,
    pub instance_id: Option<String>,
}

/// Checks a provider input; the parts are the label, description and docs URL.
pub fn parse(input: &ProviderInput) -> Result<(String, String, Option<String>), Error> {
    Ok((
        model::parse_label(&input.label).on_field("label")?,
        model::parse_description(&input.description).on_field("description")?,
        input
            .docs_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(model::parse_docs_url)
            .transpose()
            .on_field("docs_url")?,
    ))
}

/// Creates a custom provider owned by the caller.
pub async fn create(state: &Core, caller: &Caller, input: &ProviderInput) -> Result<Provider, Error> {
    let (label, description, docs_url) = parse(input)?;
    let now = state.now();
    let p = Provider {
        id: uuid::Uuid::new_v4().to_string(),
        label,
        description,
        docs_url,
        service_code: None,
        owner_integration_id: Some(caller.id().to_owned()),
        owner_scope: Some(caller.scope()),
        instance_id: input.instance_id.clone().filter(|s| !s.is_empty()),
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.store.begin().await?;
    tx.insert_provider(&p).await?;
    tx.append_audit(&service::audit(
        caller,
        now,
        "event_provider.created",
        format!("event_provider:{}", p.id),
    ))
    .await?;
    tx.commit().await?;
    Ok(p)
}

/// Replaces a provider's label, description and docs URL.
pub async fn update(state: &Core, caller: &Caller, id: &str, input: &ProviderInput) -> Result<Provider, Error> {
    let mut conn = state.store.conn().await?;
    let current = service::owned_provider(&mut conn, caller, id).await?;
    drop(conn);
    let (label, description, docs_url) = parse(input)?;
    let now = state.now();
    let p = Provider {
        label,
        description,
        docs_url,
        updated_at: now,
        ..current
    };
    let mut tx = state.store.begin().await?;
    tx.update_provider(&p).await?;
    tx.append_audit(&service::audit(
        caller,
        now,
        "event_provider.updated",
        format!("event_provider:{id}"),
    ))
    .await?;
    tx.commit().await?;
    Ok(p)
}

/// Deletes a provider the caller owns, with its event types.
pub async fn delete(state: &Core, caller: &Caller, id: &str) -> Result<(), Error> {
    let mut conn = state.store.conn().await?;
    service::owned_provider(&mut conn, caller, id).await?;
    drop(conn);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    tx.delete_provider(id).await?;
    tx.append_audit(&service::audit(
        caller,
        now,
        "event_provider.deleted",
        format!("event_provider:{id}"),
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}
