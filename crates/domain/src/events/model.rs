//! The events aggregate's records: providers, event types, registrations, deliveries and attempts,
//! with the small enumerations they use and the validation of their free-text fields.

use serde::{Deserialize, Serialize};

use super::code::EventCode;
use crate::{DomainError, Timestamp, service::ServiceCode};

/// The provider Gatehouse itself publishes as (`gatehouse.*` events). Fixed, so every installation
/// and every receiver knows its `source`: `urn:uuid:<this>`.
pub const GATEHOUSE_PROVIDER_ID: &str = "8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21";

/// The CloudEvents `source` of a provider's events.
pub fn provider_source(provider_id: &str) -> String {
    format!("urn:uuid:{provider_id}")
}

/// How a registration receives events. Every registration also has a journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// One event per POST.
    Webhook,
    /// A JSON array of up to [`MAX_BATCH_EVENTS`] events and [`MAX_BATCH_BYTES`] per POST.
    WebhookBatch,
    /// Nothing is pushed; the receiver reads the journal.
    Journal,
}

/// Most events in one batch delivery.
pub const MAX_BATCH_EVENTS: usize = 20;
/// Largest batch body in bytes.
pub const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;

impl DeliveryMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::WebhookBatch => "webhook_batch",
            Self::Journal => "journal",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "webhook" => Ok(Self::Webhook),
            "webhook_batch" => Ok(Self::WebhookBatch),
            "journal" => Ok(Self::Journal),
            _ => Err(DomainError::new(
                "invalid_delivery_type",
                format!("delivery type {s:?} must be one of \"webhook\", \"webhook_batch\", \"journal\""),
            )),
        }
    }

    pub fn pushes(self) -> bool {
        !matches!(self, Self::Journal)
    }
}

/// A registration's state. Only `active` and `unstable` registrations receive pushed deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// The webhook URL has not answered its challenge yet; nothing is pushed.
    Unverified,
    Active,
    /// Most recent attempts failed; deliveries continue while it is watched.
    Unstable,
    /// Disabled by health, by `410 Gone`, or by its owner; nothing is pushed.
    Disabled,
}

impl RegistrationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unverified => "unverified",
            Self::Active => "active",
            Self::Unstable => "unstable",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "unverified" => Ok(Self::Unverified),
            "active" => Ok(Self::Active),
            "unstable" => Ok(Self::Unstable),
            "disabled" => Ok(Self::Disabled),
            _ => Err(DomainError::new(
                "invalid_status",
                format!("registration status {s:?} is not one Gatehouse knows"),
            )),
        }
    }

    /// Are deliveries pushed to this registration?
    pub fn receives_pushes(self) -> bool {
        matches!(self, Self::Active | Self::Unstable)
    }
}

/// Where one event stands for one registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    Delivered,
    /// Every attempt failed (or the endpoint is gone); recoverable.
    Failed,
    /// Journal only: never pushed.
    Journal,
    /// Not pushed because the registration was not receiving pushes; recoverable.
    Skipped,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Journal => "journal",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "pending" => Ok(Self::Pending),
            "delivered" => Ok(Self::Delivered),
            "failed" => Ok(Self::Failed),
            "journal" => Ok(Self::Journal),
            "skipped" => Ok(Self::Skipped),
            _ => Err(DomainError::new(
                "invalid_delivery_state",
                format!("delivery state {s:?} is not one Gatehouse knows"),
            )),
        }
    }
}

/// An event provider: Gatehouse itself, a service of the catalog, or a custom provider owned by an
/// integration (which alone may publish its events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub id: String,
    pub label: String,
    pub description: String,
    pub docs_url: Option<String>,
    pub service_code: Option<ServiceCode>,
    pub owner_integration_id: Option<String>,
    /// The organization (or, for personal integrations, `account:<id>`) that may see it; `None`
    /// for providers everyone sees (Gatehouse, services).
    pub owner_scope: Option<String>,
    pub instance_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Provider {
    pub fn source(&self) -> String {
        provider_source(&self.id)
    }
}

/// An event type a provider publishes.
#[derive(Debug, Clone, PartialEq)]
pub struct EventType {
    pub provider_id: String,
    pub event_code: EventCode,
    pub label: String,
    pub description: String,
    /// An example event, shown to people choosing what to subscribe to.
    pub sample: Option<serde_json::Value>,
    pub created_at: Timestamp,
}

/// One `(provider, event code)` a registration subscribes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventOfInterest {
    pub provider_id: String,
    pub event_code: EventCode,
}

/// A registration: an integration's subscription to event types, with how it receives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: String,
    pub integration_id: String,
    pub name: String,
    pub description: String,
    pub delivery_method: DeliveryMethod,
    pub webhook_url: Option<String>,
    pub status: RegistrationStatus,
    /// When it became unstable (health is re-judged a day later).
    pub unstable_since: Option<Timestamp>,
    /// Why it is unverified or disabled, for people reading the console.
    pub status_reason: Option<String>,
    pub events_of_interest: Vec<EventOfInterest>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A registration's Standard Webhooks secrets, sealed with the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecrets {
    pub current: Vec<u8>,
    pub previous: Option<Vec<u8>>,
    /// Until when the previous secret still signs (rotation overlap).
    pub previous_expires_at: Option<Timestamp>,
}

/// Where an integration's custom event providers are visible: its organization's ID, or
/// `account:<id>` for a personal integration.
pub fn provider_scope(owner: &crate::integration::Owner) -> String {
    match owner {
        crate::integration::Owner::Organization(o) => o.clone(),
        crate::integration::Owner::Account(a) => format!("account:{a}"),
    }
}

/// What the master key's associated data is for a registration's webhook secret.
pub fn webhook_secret_aad(registration_id: &str) -> Vec<u8> {
    format!("webhook_secret:{registration_id}").into_bytes()
}

/// One delivery attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub delivery_id: i64,
    pub registration_id: String,
    pub event_position: i64,
    pub attempted_at: Timestamp,
    /// HTTP status, or `None` when no response came (see `error`).
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// The first 4 KB of the response body.
    pub response_body: String,
    pub error: Option<String>,
    /// `scheduled`, `resend` or `recover`.
    pub trigger: String,
    /// The event's type (its code) and its CloudEvent `id`.
    pub event_code: String,
    pub event_id: String,
    /// The request as sent: headers (credentials masked, signatures kept) and body (bounded; see
    /// [`super::debug`]). Empty for attempts recorded before Gatehouse kept them.
    pub request_headers: Vec<(String, String)>,
    pub request_body: String,
    /// The response's headers (credentials masked).
    pub response_headers: Vec<(String, String)>,
}

/// Most bytes of a response body kept with an attempt.
pub const MAX_RESPONSE_BODY: usize = 4096;

/// A person-facing name: 3–255 printable characters (registrations).
pub fn parse_registration_name(s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    let n = s.chars().count();
    if !(3..=255).contains(&n) || s.chars().any(char::is_control) {
        return Err(DomainError::new(
            "invalid_name",
            "a registration name must be 3–255 printable characters",
        ));
    }
    Ok(s.to_owned())
}

/// A provider or event-type label: 1–255 printable characters.
pub fn parse_label(s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    let n = s.chars().count();
    if !(1..=255).contains(&n) || s.chars().any(char::is_control) {
        return Err(DomainError::new(
            "invalid_label",
            "a label must be 1–255 printable characters",
        ));
    }
    Ok(s.to_owned())
}

/// A description: at most 5,000 characters.
pub fn parse_description(s: &str) -> Result<String, DomainError> {
    if s.chars().count() > 5000 {
        return Err(DomainError::new(
            "invalid_description",
            "a description must be at most 5,000 characters",
        ));
    }
    Ok(s.trim().to_owned())
}

/// A documentation link: an absolute http(s) URL.
pub fn parse_docs_url(s: &str) -> Result<String, DomainError> {
    match url::Url::parse(s.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && s.len() <= 2000 => Ok(u.to_string()),
        _ => Err(DomainError::new(
            "invalid_docs_url",
            format!("docs_url {s:?} must be an absolute http(s) URL"),
        )),
    }
}

/// Most registrations one integration may have (Adobe's per-client quota).
pub const MAX_REGISTRATIONS_PER_INTEGRATION: usize = 30;
/// Most event types one registration may subscribe to.
pub const MAX_EVENTS_OF_INTEREST: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerations_round_trip() {
        for m in [
            DeliveryMethod::Webhook,
            DeliveryMethod::WebhookBatch,
            DeliveryMethod::Journal,
        ] {
            assert_eq!(DeliveryMethod::parse(m.as_str()).unwrap(), m);
        }
        for s in [
            RegistrationStatus::Unverified,
            RegistrationStatus::Active,
            RegistrationStatus::Unstable,
            RegistrationStatus::Disabled,
        ] {
            assert_eq!(RegistrationStatus::parse(s.as_str()).unwrap(), s);
        }
        for s in [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
            DeliveryState::Journal,
            DeliveryState::Skipped,
        ] {
            assert_eq!(DeliveryState::parse(s.as_str()).unwrap(), s);
        }
        assert_eq!(
            DeliveryMethod::parse("aws_eventbridge").unwrap_err().code,
            "invalid_delivery_type"
        );
        assert!(RegistrationStatus::parse("ACTIVE").is_err());
    }

    #[test]
    fn only_active_and_unstable_registrations_receive_pushes() {
        assert!(RegistrationStatus::Active.receives_pushes());
        assert!(RegistrationStatus::Unstable.receives_pushes());
        assert!(!RegistrationStatus::Unverified.receives_pushes());
        assert!(!RegistrationStatus::Disabled.receives_pushes());
        assert!(!DeliveryMethod::Journal.pushes());
    }

    #[test]
    fn free_text_fields_are_bounded() {
        assert!(parse_registration_name("ab").is_err());
        assert!(parse_registration_name(&"x".repeat(256)).is_err());
        assert!(parse_registration_name("bad\u{7}name").is_err());
        assert_eq!(parse_registration_name("  My hook ").unwrap(), "My hook");
        assert!(parse_label("").is_err());
        assert!(parse_description(&"d".repeat(5001)).is_err());
        assert!(parse_docs_url("not a url").is_err());
        assert!(parse_docs_url("ftp://x/y").is_err());
        assert_eq!(
            parse_docs_url("https://docs.example.com/x").unwrap(),
            "https://docs.example.com/x"
        );
    }

    #[test]
    fn provider_sources_are_urn_uuids() {
        assert_eq!(
            provider_source(GATEHOUSE_PROVIDER_ID),
            "urn:uuid:8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21"
        );
    }
}
