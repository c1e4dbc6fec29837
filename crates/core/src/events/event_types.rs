//! The event-type use cases: the event types a provider's owner defines (create, update, delete).

use super::service;
use gatehouse_domain::events::{
    code::EventCode,
    model::{self, EventType},
};
use gatehouse_store::{AuditStore, EventStore, StoreError};
use serde::Deserialize;
use serde_json::Value;

use super::Caller;
use crate::{Core, Error, Kind, error::OnField};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTypeInput {
    pub event_code: Option<String>,
    pub label: String,
    #[serde(default)]
    pub description: String,
    pub sample: Option<Value>,
}

/// Defines an event type on a provider the caller owns.
pub async fn create(
    state: &Core,
    caller: &Caller,
    provider_id: &str,
    input: &EventTypeInput,
) -> Result<EventType, Error> {
    let mut conn = state.store.conn().await?;
    service::owned_provider(&mut conn, caller, provider_id).await?;
    drop(conn);
    let code = input
        .event_code
        .as_deref()
        .ok_or_else(|| Error::new(Kind::Invalid, "invalid_event_code", "event_code is required.").on("event_code"))?;
    let now = state.now();
    let t = EventType {
        provider_id: provider_id.to_owned(),
        event_code: EventCode::parse(code).on_field("event_code")?,
        label: model::parse_label(&input.label).on_field("label")?,
        description: model::parse_description(&input.description).on_field("description")?,
        sample: input.sample.clone(),
        created_at: now,
    };
    let mut tx = state.store.begin().await?;
    match tx.insert_event_type(&t).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(Error::new(
                Kind::Conflict,
                "event_code_taken",
                format!("The provider already has the event type {}.", t.event_code),
            )
            .on("event_code"));
        }
        Err(e) => return Err(e.into()),
    }
    let target = format!("event_type:{provider_id}/{}", t.event_code);
    tx.append_audit(&service::audit(caller, now, "event_type.created", target))
        .await?;
    tx.commit().await?;
    Ok(t)
}

/// Replaces an event type's label, description and sample.
pub async fn update(
    state: &Core,
    caller: &Caller,
    provider_id: &str,
    code: &str,
    input: &EventTypeInput,
) -> Result<EventType, Error> {
    let mut conn = state.store.conn().await?;
    service::owned_provider(&mut conn, caller, provider_id).await?;
    let current = conn.event_type(provider_id, code).await?.ok_or_else(|| {
        Error::new(
            Kind::NotFound,
            "not_found",
            format!("The provider has no event type {code:?}."),
        )
    })?;
    drop(conn);
    let t = EventType {
        label: model::parse_label(&input.label).on_field("label")?,
        description: model::parse_description(&input.description).on_field("description")?,
        sample: input.sample.clone(),
        ..current
    };
    let now = state.now();
    let mut tx = state.store.begin().await?;
    tx.update_event_type(&t).await?;
    tx.append_audit(&service::audit(
        caller,
        now,
        "event_type.updated",
        format!("event_type:{provider_id}/{code}"),
    ))
    .await?;
    tx.commit().await?;
    Ok(t)
}

/// Deletes one event type (`Some(code)`) or all of a provider's.
pub async fn delete(state: &Core, caller: &Caller, provider_id: &str, code: Option<&str>) -> Result<(), Error> {
    let mut conn = state.store.conn().await?;
    service::owned_provider(&mut conn, caller, provider_id).await?;
    drop(conn);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    match code {
        Some(code) => {
            if !tx.delete_event_type(provider_id, code).await? {
                return Err(Error::new(
                    Kind::NotFound,
                    "not_found",
                    format!("The provider has no event type {code:?}."),
                ));
            }
        }
        None => {
            tx.delete_event_types_of(provider_id).await?;
        }
    }
    let target = format!("event_type:{provider_id}/{}", code.unwrap_or("*"));
    tx.append_audit(&service::audit(caller, now, "event_type.deleted", target))
        .await?;
    tx.commit().await?;
    Ok(())
}
