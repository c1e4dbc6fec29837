//! Gatehouse's own events: what Gatehouse publishes about itself as the provider
//! [`GATEHOUSE_PROVIDER_ID`], and the [`NewEvent`] every publication (own or custom) becomes.
//!
//! An own event concerns one organization (or, for personal integrations, one account): only
//! registrations of integrations owned by that organization (or account) receive it. Code that
//! changes something builds one with [`own_event`] and publishes it in the same transaction as the
//! change (`EventStore::publish`), so the event exists if and only if the change committed.

use rand::RngCore;
use serde_json::Value;

use super::{
    cloudevent::{CloudEvent, Strictness},
    model::{GATEHOUSE_PROVIDER_ID, provider_source},
};
use crate::{DomainError, Timestamp};

/// Every event Gatehouse publishes about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OwnEventKind {
    IntegrationCreated,
    IntegrationUpdated,
    IntegrationDeleted,
    CredentialRotated,
    CertificateExpiring,
    SubscriptionChanged,
    SigninFailed,
    MemberAdded,
    MemberRemoved,
    RegistrationDisabled,
}

impl OwnEventKind {
    pub const ALL: [Self; 10] = [
        Self::IntegrationCreated,
        Self::IntegrationUpdated,
        Self::IntegrationDeleted,
        Self::CredentialRotated,
        Self::CertificateExpiring,
        Self::SubscriptionChanged,
        Self::SigninFailed,
        Self::MemberAdded,
        Self::MemberRemoved,
        Self::RegistrationDisabled,
    ];

    /// The event code (CloudEvents `type`).
    pub fn code(self) -> &'static str {
        match self {
            Self::IntegrationCreated => "gatehouse.integration.created",
            Self::IntegrationUpdated => "gatehouse.integration.updated",
            Self::IntegrationDeleted => "gatehouse.integration.deleted",
            Self::CredentialRotated => "gatehouse.credential.rotated",
            Self::CertificateExpiring => "gatehouse.certificate.expiring",
            Self::SubscriptionChanged => "gatehouse.subscription.changed",
            Self::SigninFailed => "gatehouse.signin.failed",
            Self::MemberAdded => "gatehouse.member.added",
            Self::MemberRemoved => "gatehouse.member.removed",
            Self::RegistrationDisabled => "gatehouse.registration.disabled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::IntegrationCreated => "Integration created",
            Self::IntegrationUpdated => "Integration updated",
            Self::IntegrationDeleted => "Integration deleted",
            Self::CredentialRotated => "Credential rotated",
            Self::CertificateExpiring => "Certificate expiring",
            Self::SubscriptionChanged => "Subscription changed",
            Self::SigninFailed => "Sign-in failed",
            Self::MemberAdded => "Member added",
            Self::MemberRemoved => "Member removed",
            Self::RegistrationDisabled => "Event registration disabled",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::IntegrationCreated => "An integration of the organization was created.",
            Self::IntegrationUpdated => "An integration's settings changed.",
            Self::IntegrationDeleted => "An integration was deleted.",
            Self::CredentialRotated => "A client secret or certificate of an integration was added or revoked.",
            Self::CertificateExpiring => "A service account certificate expires soon.",
            Self::SubscriptionChanged => "An integration subscribed to a service, or its scopes changed.",
            Self::SigninFailed => "Sign-in to a member's account failed repeatedly.",
            Self::MemberAdded => "Someone joined the organization, or their role changed.",
            Self::MemberRemoved => "Someone left the organization.",
            Self::RegistrationDisabled => "An event registration was disabled because its endpoint kept failing.",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Who may receive an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every registration subscribed to the event type (custom providers' events).
    Everyone,
    /// Registrations of integrations owned by this organization.
    Organization(String),
    /// Registrations of integrations owned by this account (personal integrations).
    Account(String),
    /// This one registration only (a test event sent from the console).
    Registration(String),
}

impl Audience {
    /// The stored form: `*`, `org:<id>`, `account:<id>` or `registration:<id>`.
    pub fn render(&self) -> String {
        match self {
            Self::Everyone => "*".to_owned(),
            Self::Organization(o) => format!("org:{o}"),
            Self::Account(a) => format!("account:{a}"),
            Self::Registration(r) => format!("registration:{r}"),
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s == "*" {
            return Ok(Self::Everyone);
        }
        match s.split_once(':') {
            Some(("org", o)) if !o.is_empty() => Ok(Self::Organization(o.to_owned())),
            Some(("account", a)) if !a.is_empty() => Ok(Self::Account(a.to_owned())),
            Some(("registration", r)) if !r.is_empty() => Ok(Self::Registration(r.to_owned())),
            _ => Err(DomainError::new(
                "invalid_audience",
                format!("{s:?} is not an event audience"),
            )),
        }
    }
}

/// An event ready to be published: the CloudEvent, its provider, who may receive it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event: CloudEvent,
    pub provider_id: String,
    pub audience: Audience,
}

/// Builds one of Gatehouse's own events at `now`: a CloudEvent with a random ID, source
/// `urn:uuid:<Gatehouse provider>`, `subject` naming the object it concerns, and `data`.
pub fn own_event(
    kind: OwnEventKind,
    audience: Audience,
    subject: &str,
    data: Value,
    now: Timestamp,
    rng: &mut impl RngCore,
) -> Result<NewEvent, DomainError> {
    let event = serde_json::json!({
        "specversion": "1.0",
        "type": kind.code(),
        "source": provider_source(GATEHOUSE_PROVIDER_ID),
        "id": crate::ids::new_row_id(rng),
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
    });
    Ok(NewEvent {
        event: CloudEvent::parse(event, Strictness::Strict, now)?,
        provider_id: GATEHOUSE_PROVIDER_ID.to_owned(),
        audience,
    })
}

/// A test event for one registration, sent from the console: of the registration's first event
/// type (`provider_id`, `code`), with a random ID, subject `event_registration:<id>` and data that
/// says it is a test.
pub fn test_event(
    registration_id: &str,
    provider_id: &str,
    code: &str,
    now: Timestamp,
    rng: &mut impl RngCore,
) -> Result<NewEvent, DomainError> {
    let event = serde_json::json!({
        "specversion": "1.0",
        "type": code,
        "source": provider_source(provider_id),
        "id": crate::ids::new_row_id(rng),
        "subject": format!("event_registration:{registration_id}"),
        "datacontenttype": "application/json",
        "data": {
            "test": true,
            "message": "A test event sent from the Gatehouse console to check this webhook.",
        },
    });
    Ok(NewEvent {
        event: CloudEvent::parse(event, Strictness::Strict, now)?,
        provider_id: provider_id.to_owned(),
        audience: Audience::Registration(registration_id.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::code::EventCode;
    use rand::{SeedableRng, rngs::StdRng};
    use serde_json::json;

    #[test]
    fn every_code_is_a_valid_reverse_dns_code_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for k in OwnEventKind::ALL {
            EventCode::parse(k.code()).unwrap();
            assert!(k.code().starts_with("gatehouse."));
            assert!(seen.insert(k.code()));
            assert_eq!(OwnEventKind::from_code(k.code()), Some(k));
            assert!(!k.label().is_empty() && !k.description().is_empty());
        }
        assert_eq!(OwnEventKind::from_code("gatehouse.nope"), None);
    }

    #[test]
    fn own_events_are_cloudevents_from_gatehouse() {
        let e = own_event(
            OwnEventKind::IntegrationCreated,
            Audience::Organization("abc@GatehouseOrg".into()),
            "integration:42",
            json!({"integration_id": "42"}),
            1_800_000_000,
            &mut StdRng::seed_from_u64(1),
        )
        .unwrap();
        assert_eq!(e.provider_id, GATEHOUSE_PROVIDER_ID);
        assert_eq!(e.event.event_type().as_str(), "gatehouse.integration.created");
        assert_eq!(e.event.source(), format!("urn:uuid:{GATEHOUSE_PROVIDER_ID}"));
        assert_eq!(e.event.attributes()["subject"], "integration:42");
        assert_eq!(e.event.attributes()["time"], "2027-01-15T08:00:00Z");
        assert_eq!(e.audience.render(), "org:abc@GatehouseOrg");
    }

    #[test]
    fn audiences_round_trip() {
        for a in [
            Audience::Everyone,
            Audience::Organization("o@GatehouseOrg".into()),
            Audience::Account("acc-1".into()),
        ] {
            assert_eq!(Audience::parse(&a.render()).unwrap(), a);
        }
        for bad in ["", "org:", "team:x", "all"] {
            assert!(Audience::parse(bad).is_err(), "{bad}");
        }
    }
}
