//! Builders shared by the events tests: providers, registrations, events, and a small org with
//! integrations stored in one go.

#![allow(dead_code)]

use gatehouse_domain::{
    Timestamp,
    events::{
        cloudevent::{CloudEvent, Strictness},
        code::EventCode,
        model::{
            DeliveryMethod, EventOfInterest, EventType, Provider, Registration, RegistrationStatus, SealedSecrets,
        },
        own::{Audience, NewEvent},
    },
    integration::Integration,
    org::Organization,
};
use gatehouse_store::{EventStore, OrgStore, Store};
use serde_json::json;

use crate::store::fixtures::{self as f, T0};

/// An organization with two service-account integrations, and a personal integration of an account.
pub struct World {
    pub org: Organization,
    pub a: Integration,
    pub b: Integration,
    pub other_org: Organization,
    pub c: Integration,
    pub personal: Integration,
}

pub async fn world(store: &Store) -> World {
    let org = f::org("Acme");
    let other_org = f::org("Globex");
    let account = f::account(&format!("{}@example.com", f::new_id()));
    let a = f::service_account_integration(&org, None);
    let b = f::service_account_integration(&org, None);
    let c = f::service_account_integration(&other_org, None);
    let personal = f::api_key_integration(&account);
    let mut tx = f::begin(store).await;
    use gatehouse_store::AccountStore;
    tx.insert_account(&account).await.unwrap();
    tx.insert_org(&org).await.unwrap();
    tx.insert_org(&other_org).await.unwrap();
    for i in [&a, &b, &c, &personal] {
        crate::store::fixtures::insert_integration(&mut tx, i).await.unwrap();
    }
    f::commit(tx).await;
    World {
        org,
        a,
        b,
        other_org,
        c,
        personal,
    }
}

pub fn provider(owner: &Integration) -> Provider {
    Provider {
        id: f::new_id(),
        label: "Invoices".into(),
        description: "Invoice lifecycle".into(),
        docs_url: Some("https://docs.example.com/invoices".into()),
        service_code: None,
        owner_integration_id: Some(owner.id.clone()),
        owner_scope: Some(scope_of(owner)),
        instance_id: None,
        created_at: T0,
        updated_at: T0,
    }
}

/// The visibility scope of an integration's providers: its organization, or `account:<id>`.
pub fn scope_of(i: &Integration) -> String {
    match &i.owner {
        gatehouse_domain::integration::Owner::Organization(o) => o.clone(),
        gatehouse_domain::integration::Owner::Account(a) => format!("account:{a}"),
    }
}

pub fn event_type(provider_id: &str, code: &str) -> EventType {
    EventType {
        provider_id: provider_id.into(),
        event_code: EventCode::parse(code).unwrap(),
        label: format!("Label of {code}"),
        description: String::new(),
        sample: Some(json!({"amount": 1})),
        created_at: T0,
    }
}

pub fn registration(
    integration: &Integration,
    method: DeliveryMethod,
    status: RegistrationStatus,
    interests: &[(&str, &str)],
) -> Registration {
    let id = f::new_id();
    Registration {
        name: format!("Invoice hook {id}"),
        id,
        integration_id: integration.id.clone(),
        description: String::new(),
        delivery_method: method,
        webhook_url: method.pushes().then(|| "https://hooks.example.com/in".to_owned()),
        status,
        unstable_since: None,
        status_reason: None,
        events_of_interest: interests
            .iter()
            .map(|(p, c)| EventOfInterest {
                provider_id: (*p).into(),
                event_code: EventCode::parse(c).unwrap(),
            })
            .collect(),
        created_at: T0,
        updated_at: T0,
    }
}

pub fn sealed() -> SealedSecrets {
    SealedSecrets {
        current: vec![1, 2, 3],
        previous: None,
        previous_expires_at: None,
    }
}

/// A custom event of `provider_id` with type `code` and the given ID.
pub fn event(provider_id: &str, code: &str, id: &str) -> NewEvent {
    let ce = json!({
        "specversion": "1.0",
        "type": code,
        "source": format!("urn:uuid:{provider_id}"),
        "id": id,
        "data": {"n": id},
    });
    NewEvent {
        event: CloudEvent::parse(ce, Strictness::Strict, T0).unwrap(),
        provider_id: provider_id.into(),
        audience: Audience::Everyone,
    }
}

/// Stores a provider with the given event codes, owned by `owner`.
pub async fn stored_provider(store: &Store, owner: &Integration, codes: &[&str]) -> Provider {
    let p = provider(owner);
    let mut tx = f::begin(store).await;
    tx.insert_provider(&p).await.unwrap();
    for c in codes {
        tx.insert_event_type(&event_type(&p.id, c)).await.unwrap();
    }
    f::commit(tx).await;
    p
}

pub async fn stored_registration(store: &Store, r: &Registration) {
    let mut tx = f::begin(store).await;
    tx.insert_registration(r, &sealed()).await.unwrap();
    f::commit(tx).await;
}

/// Publishes in its own transaction, as the API does.
/// An active registration of `owner` for one event type, stored.
pub async fn active_registration(
    store: &Store,
    owner: &Integration,
    method: DeliveryMethod,
    provider_id: &str,
    code: &str,
) -> Registration {
    let r = registration(owner, method, RegistrationStatus::Active, &[(provider_id, code)]);
    stored_registration(store, &r).await;
    r
}

pub async fn publish(store: &Store, e: &NewEvent, now: Timestamp) -> gatehouse_store::Published {
    let mut tx = f::begin(store).await;
    let p = tx.publish_event(e, now, 86_400).await.unwrap();
    tx.commit_unaudited().await.unwrap();
    p
}

/// A registration's journal after `after`, read up to the horizon as the journal API does.
pub async fn read_journal<C: EventStore + Send>(
    c: &mut C,
    registration_id: &str,
    after: i64,
    limit: i64,
) -> Vec<gatehouse_store::JournalEntry> {
    let upto = c.journal_horizon().await.unwrap();
    c.journal_after(registration_id, after, upto, limit).await.unwrap()
}
