//! The events use cases both events surfaces share (Gatehouse's API and the Adobe-compatible one)
//! and the console's Events tab: ownership checks, registration create/update with the address
//! check and the challenge, secrets, resends, recovery and publishing. Handlers parse and render;
//! the rules run here and in the domain.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, RwLock},
    time::Duration,
};

use gatehouse_domain::{
    Timestamp,
    audit::AuditEntry,
    crypto::MasterKey,
    events::{
        AddressPolicy, WebhookUrl,
        challenge::{self, CHALLENGE_TIMEOUT_SECS},
        cloudevent::{CloudEvent, Strictness},
        model::{
            DeliveryMethod, EventOfInterest, Provider, Registration, RegistrationStatus, SealedSecrets,
            webhook_secret_aad,
        },
        own::{Audience, NewEvent},
        signature::{ROTATION_OVERLAP, WebhookSecret},
    },
};
use gatehouse_store::{AuditStore, Conn, EventStore, Published, Tx};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::{Caller, keys::DeliveryKeys, outbound::Outbound};
use crate::{Core, Error, Kind, error::OnField, policy};

pub use gatehouse_domain::events::model::{MAX_EVENTS_OF_INTEREST, MAX_REGISTRATIONS_PER_INTEGRATION};

pub use super::DEDUP_WINDOW;

/// The events use cases' shared state: the challenge client, the delivery keys and the cache of
/// providers and event types (one per node, attached to the events routes).
pub struct EventsService {
    /// For challenges (10 s timeout) and address checks.
    pub outbound: Outbound,
    pub keys: Arc<DeliveryKeys>,
    pub master_key: Arc<MasterKey>,
    catalog_generation: watch::Receiver<i64>,
    catalog: RwLock<CatalogCache>,
}

/// Providers and event types publishing has looked up, kept until the catalog generation
/// changes (every audited write bumps it). Only what exists is kept, so a type created a moment
/// ago is found at once; one deleted a moment ago may be accepted until the next generation poll.
#[derive(Default)]
struct CatalogCache {
    generation: i64,
    providers: HashMap<String, Provider>,
    types: HashSet<(String, String)>,
}

impl EventsService {
    pub fn new(state: &Core) -> Result<Self, reqwest::Error> {
        let policy = AddressPolicy::new(state.settings.events_allowed_networks.clone());
        Ok(Self {
            outbound: Outbound::new(policy, Duration::from_secs(CHALLENGE_TIMEOUT_SECS))?,
            keys: Arc::new(DeliveryKeys::new(state.store.clone(), state.master_key.clone())),
            master_key: state.master_key.clone(),
            catalog_generation: state.catalog.clone(),
            catalog: RwLock::new(CatalogCache::default()),
        })
    }

    fn fresh_catalog(&self) -> Option<std::sync::RwLockReadGuard<'_, CatalogCache>> {
        let generation = *self.catalog_generation.borrow();
        let c = self.catalog.read().ok()?;
        (c.generation == generation).then_some(c)
    }

    fn remember(&self, f: impl FnOnce(&mut CatalogCache)) {
        let generation = *self.catalog_generation.borrow();
        if let Ok(mut c) = self.catalog.write() {
            if c.generation != generation {
                *c = CatalogCache {
                    generation,
                    ..CatalogCache::default()
                };
            }
            f(&mut c);
        }
    }

    /// A provider by ID, from the cache or the store.
    async fn provider(&self, conn: &mut Conn, id: &str) -> Result<Option<Provider>, Error> {
        if let Some(p) = self.fresh_catalog().and_then(|c| c.providers.get(id).cloned()) {
            return Ok(Some(p));
        }
        let p = conn.provider_by_id(id).await?;
        if let Some(found) = &p {
            self.remember(|c| {
                c.providers.insert(id.to_owned(), found.clone());
            });
        }
        Ok(p)
    }

    /// Does the provider define this event type? From the cache or the store.
    async fn has_event_type(&self, conn: &mut Conn, provider_id: &str, code: &str) -> Result<bool, Error> {
        let key = (provider_id.to_owned(), code.to_owned());
        if self.fresh_catalog().is_some_and(|c| c.types.contains(&key)) {
            return Ok(true);
        }
        let found = conn.event_type(provider_id, code).await?.is_some();
        if found {
            self.remember(|c| {
                c.types.insert(key);
            });
        }
        Ok(found)
    }
}

/// A provider the caller may see.
pub async fn visible_provider(conn: &mut Conn, caller: &Caller, id: &str) -> Result<Provider, Error> {
    conn.provider_by_id(id)
        .await?
        .filter(|p| policy::sees_provider(&caller.integration, p))
        .ok_or_else(|| {
            Error::new(
                Kind::NotFound,
                "not_found",
                format!("There is no event provider {id:?} you can see."),
            )
        })
}

/// A provider the caller owns (may change, and publish to).
pub async fn owned_provider(conn: &mut Conn, caller: &Caller, id: &str) -> Result<Provider, Error> {
    let p = visible_provider(conn, caller, id).await?;
    if !policy::owns_provider(&caller.integration, &p) {
        return Err(Error::new(
            Kind::Forbidden,
            "forbidden",
            format!("The event provider {id:?} does not belong to your integration."),
        ));
    }
    Ok(p)
}

/// A registration of the caller's integration.
pub async fn owned_registration(conn: &mut Conn, caller: &Caller, id: &str) -> Result<Registration, Error> {
    conn.registration_by_id(id)
        .await?
        .filter(|r| policy::owns_registration(&caller.integration, r))
        .ok_or_else(|| {
            Error::new(
                Kind::NotFound,
                "not_found",
                format!("No registration {id:?} belongs to your integration."),
            )
        })
}

pub fn audit(caller: &Caller, now: Timestamp, action: &str, target: String) -> AuditEntry {
    let mut e = AuditEntry::new(now, &caller.actor, action, target)
        .from_client(caller.client.ip.clone(), caller.client.user_agent.clone());
    if let Some(o) = caller.org_id() {
        e = e.org(o);
    }
    e
}

/// What a client asks a registration to be.
#[derive(Debug, Clone)]
pub struct RegistrationInput {
    pub name: String,
    pub description: String,
    pub delivery_method: DeliveryMethod,
    pub webhook_url: Option<String>,
    pub events_of_interest: Vec<(String, String)>,
    /// `false` creates it disabled.
    pub enabled: bool,
}

/// Validates the input against what the caller may subscribe to. Returns the parsed parts.
async fn validate(
    svc: &EventsService,
    conn: &mut Conn,
    caller: &Caller,
    input: &RegistrationInput,
) -> Result<(String, String, Option<WebhookUrl>, Vec<EventOfInterest>), Error> {
    use gatehouse_domain::events::model;
    // Every field is checked, so a form reports all its problems at once.
    let mut problems: Vec<Error> = Vec::new();
    let keep = |r: Result<String, Error>, problems: &mut Vec<Error>| match r {
        Ok(v) => v,
        Err(e) => {
            problems.push(e);
            String::new()
        }
    };
    let name = keep(
        model::parse_registration_name(&input.name).on_field("name"),
        &mut problems,
    );
    let description = keep(
        model::parse_description(&input.description).on_field("description"),
        &mut problems,
    );
    let url = match (
        input.delivery_method.pushes(),
        input.webhook_url.as_deref().map(str::trim),
    ) {
        (true, Some(u)) if !u.is_empty() => match WebhookUrl::parse(u).on_field("webhook_url") {
            Ok(url) => {
                let resolved = svc.outbound.resolve(&url).await;
                match url.admit(svc.outbound.policy(), &resolved).on_field("webhook_url") {
                    Ok(()) => Some(url),
                    Err(e) => {
                        problems.push(e);
                        None
                    }
                }
            }
            Err(e) => {
                problems.push(e);
                None
            }
        },
        (true, _) => {
            problems.push(
                Error::new(
                    Kind::Invalid,
                    "webhook_url_required",
                    "A webhook or webhook_batch registration needs a webhook_url.",
                )
                .on("webhook_url"),
            );
            None
        }
        (false, _) => None,
    };
    let mut interests = Vec::with_capacity(input.events_of_interest.len());
    if input.events_of_interest.is_empty() || input.events_of_interest.len() > MAX_EVENTS_OF_INTEREST {
        problems.push(
            Error::new(
                Kind::Invalid,
                "invalid_events_of_interest",
                format!("events_of_interest must list 1–{MAX_EVENTS_OF_INTEREST} (provider_id, event_code) pairs."),
            )
            .on("events_of_interest"),
        );
    } else {
        for (provider_id, code) in &input.events_of_interest {
            if let Err(e) = interest(conn, caller, provider_id, code, &mut interests).await {
                problems.push(e);
                break;
            }
        }
    }
    if let Some(e) = Error::together(problems) {
        return Err(e);
    }
    interests.sort();
    interests.dedup();
    Ok((name, description, url, interests))
}

/// Checks one (provider, event code) pair the caller asks for and adds it to `interests`.
async fn interest(
    conn: &mut Conn,
    caller: &Caller,
    provider_id: &str,
    code: &str,
    interests: &mut Vec<EventOfInterest>,
) -> Result<(), Error> {
    let code = gatehouse_domain::events::code::EventCode::parse(code).on_field("events_of_interest")?;
    visible_provider(conn, caller, provider_id)
        .await
        .map_err(|e| Error::new(Kind::Invalid, "unknown_provider", e.message).on("events_of_interest"))?;
    if conn.event_type(provider_id, code.as_str()).await?.is_none() {
        return Err(Error::new(
            Kind::Invalid,
            "unknown_event_code",
            format!("The provider {provider_id:?} has no event type {code}."),
        )
        .on("events_of_interest"));
    }
    interests.push(EventOfInterest {
        provider_id: provider_id.to_owned(),
        event_code: code,
    });
    Ok(())
}

/// Sends the challenge to a webhook URL; `Err(reason)` when it did not pass.
pub async fn run_challenge(svc: &EventsService, url: &WebhookUrl) -> Result<(), String> {
    let value = challenge::new_challenge(&mut rand::thread_rng());
    let target = url.with_challenge(&value);
    let res = svc
        .outbound
        .send(reqwest::Method::GET, &target, url, HeaderMap::new(), Vec::new())
        .await;
    match res.status {
        Some(200) if res.error.is_none() && challenge::echoes(&res.body, &value) => Ok(()),
        status => Err(challenge::describe_failure(status, res.error.as_deref())),
    }
}

fn seal(svc: &EventsService, registration_id: &str, secret: &WebhookSecret) -> Vec<u8> {
    svc.master_key.encrypt(
        &mut rand::rngs::OsRng,
        secret.as_bytes(),
        &webhook_secret_aad(registration_id),
    )
}

fn open(svc: &EventsService, registration_id: &str, sealed: &[u8]) -> Result<WebhookSecret, Error> {
    let raw = svc
        .master_key
        .decrypt(sealed, &webhook_secret_aad(registration_id))
        .map_err(|e| Error::internal(format!("registration {registration_id}: {e}")))?;
    WebhookSecret::from_bytes(raw).map_err(|e| Error::internal(e.message))
}

/// Status after a challenge: active when it passed (or nothing is pushed), else unverified.
async fn status_after_challenge(
    svc: &EventsService,
    url: Option<&WebhookUrl>,
    enabled: bool,
) -> (RegistrationStatus, Option<String>) {
    if !enabled {
        return (RegistrationStatus::Disabled, Some("disabled by its owner".to_owned()));
    }
    match url {
        None => (RegistrationStatus::Active, None),
        Some(u) => match run_challenge(svc, u).await {
            Ok(()) => (RegistrationStatus::Active, None),
            Err(reason) => (RegistrationStatus::Unverified, Some(reason)),
        },
    }
}

/// Creates a registration: validation, the challenge, a new secret; returns it with the secret
/// in its `whsec_` form (shown once here, readable again by its owner).
pub async fn create_registration(
    svc: &EventsService,
    state: &Core,
    caller: &Caller,
    input: RegistrationInput,
) -> Result<(Registration, String), Error> {
    let mut conn = state.store.conn().await?;
    let (name, description, url, interests) = validate(svc, &mut conn, caller, &input).await?;
    // Checked now to refuse before the challenge runs, and again in the inserting transaction.
    check_room(&conn.registrations_of_integration(caller.id()).await?, &name)?;
    drop(conn);
    let (status, status_reason) = status_after_challenge(svc, url.as_ref(), input.enabled).await;
    let now = state.now();
    let registration = Registration {
        id: uuid::Uuid::new_v4().to_string(),
        integration_id: caller.id().to_owned(),
        name,
        description,
        delivery_method: input.delivery_method,
        webhook_url: url.map(|u| u.to_string()),
        status,
        unstable_since: None,
        status_reason,
        events_of_interest: interests,
        created_at: now,
        updated_at: now,
    };
    let secret = WebhookSecret::generate(&mut rand::rngs::OsRng);
    let sealed = SealedSecrets {
        current: seal(svc, &registration.id, &secret),
        previous: None,
        previous_expires_at: None,
    };
    let mut tx = state.store.begin().await?;
    // The name and the quota hold under concurrent creations: the integration's row is held until
    // commit, and a unique index backs the name.
    tx.lock_integration_registrations(caller.id()).await?;
    check_room(&tx.registrations_of_integration(caller.id()).await?, &registration.name)?;
    match tx.insert_registration(&registration, &sealed).await {
        Err(gatehouse_store::StoreError::Conflict(_)) => {
            drop(tx);
            let existing = state
                .store
                .conn()
                .await?
                .registrations_of_integration(caller.id())
                .await?;
            let same = existing.iter().find(|r| r.name == registration.name);
            return Err(same.map_or_else(
                || Error::new(Kind::Conflict, "name_taken", "The name is taken.").on("name"),
                |r| conflict_with(&r.id),
            ));
        }
        other => other?,
    }
    let entry = audit(
        caller,
        now,
        "event_registration.created",
        format!("event_registration:{}", registration.id),
    )
    .details(json!({"name": registration.name, "status": registration.status.as_str()}));
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    Ok((registration, secret.render()))
}

/// Refuses a new registration named `name` next to `existing`: a duplicate name, or the
/// integration's quota reached.
fn check_room(existing: &[Registration], name: &str) -> Result<(), Error> {
    if let Some(same) = existing.iter().find(|r| r.name == name) {
        return Err(conflict_with(&same.id));
    }
    if existing.len() >= MAX_REGISTRATIONS_PER_INTEGRATION {
        return Err(Error::new(
            Kind::Conflict,
            "quota_exceeded",
            format!("An integration may have at most {MAX_REGISTRATIONS_PER_INTEGRATION} registrations."),
        )
        .on("name"));
    }
    Ok(())
}

/// A 409 that names the registration it conflicts with (Adobe's client reads `x-conflicting-id`).
pub fn conflict_with(id: &str) -> Error {
    Error::new(
        Kind::Conflict,
        "name_taken",
        format!("Your integration already has a registration with this name ({id})."),
    )
    .on("name")
}

/// Replaces a registration's settings. A new or changed webhook URL is challenged again.
pub async fn update_registration(
    svc: &EventsService,
    state: &Core,
    caller: &Caller,
    id: &str,
    input: RegistrationInput,
) -> Result<Registration, Error> {
    let mut conn = state.store.conn().await?;
    let current = owned_registration(&mut conn, caller, id).await?;
    let (name, description, url, interests) = validate(svc, &mut conn, caller, &input).await?;
    let others = conn.registrations_of_integration(caller.id()).await?;
    if let Some(same) = others.iter().find(|r| r.name == name && r.id != current.id) {
        return Err(conflict_with(&same.id));
    }
    drop(conn);
    let url_text = url.as_ref().map(|u| u.to_string());
    let url_changed = url_text != current.webhook_url || input.delivery_method != current.delivery_method;
    let (status, status_reason, unstable_since) = if !input.enabled {
        (
            RegistrationStatus::Disabled,
            Some("disabled by its owner".to_owned()),
            None,
        )
    } else if url_changed || current.status == RegistrationStatus::Disabled {
        let (s, r) = status_after_challenge(svc, url.as_ref(), true).await;
        (s, r, None)
    } else {
        (current.status, current.status_reason.clone(), current.unstable_since)
    };
    let now = state.now();
    let updated = Registration {
        name,
        description,
        delivery_method: input.delivery_method,
        webhook_url: url_text,
        status,
        status_reason,
        unstable_since,
        events_of_interest: interests,
        updated_at: now,
        ..current
    };
    let mut tx = state.store.begin().await?;
    tx.update_registration(&updated).await?;
    let entry = audit(
        caller,
        now,
        "event_registration.updated",
        format!("event_registration:{id}"),
    )
    .details(json!({"status": updated.status.as_str(), "url_changed": url_changed}));
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Re-runs the challenge and, when it passes, makes the registration active again.
pub async fn enable_registration(
    svc: &EventsService,
    state: &Core,
    caller: &Caller,
    id: &str,
) -> Result<Registration, Error> {
    let mut conn = state.store.conn().await?;
    let current = owned_registration(&mut conn, caller, id).await?;
    drop(conn);
    let url = current.webhook_url.as_deref().map(WebhookUrl::parse).transpose()?;
    let (status, reason) = status_after_challenge(svc, url.as_ref(), true).await;
    let now = state.now();
    let mut tx = state.store.begin().await?;
    tx.set_registration_status(id, status, reason.as_deref(), None, now)
        .await?;
    let entry = audit(
        caller,
        now,
        "event_registration.enabled",
        format!("event_registration:{id}"),
    )
    .details(json!({"status": status.as_str(), "reason": reason}));
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    if let Some(reason) = reason {
        return Err(Error::new(
            Kind::Invalid,
            "challenge_failed",
            format!("The registration stays unverified: {reason}."),
        ));
    }
    let mut conn = state.store.conn().await?;
    owned_registration(&mut conn, caller, id).await
}

/// Sets a registration's status by its owner's wish (disable).
pub async fn disable_registration(state: &Core, caller: &Caller, id: &str) -> Result<Registration, Error> {
    let mut conn = state.store.conn().await?;
    owned_registration(&mut conn, caller, id).await?;
    drop(conn);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    tx.set_registration_status(
        id,
        RegistrationStatus::Disabled,
        Some("disabled by its owner"),
        None,
        now,
    )
    .await?;
    tx.append_audit(&audit(
        caller,
        now,
        "event_registration.disabled",
        format!("event_registration:{id}"),
    ))
    .await?;
    tx.commit().await?;
    let mut conn = state.store.conn().await?;
    owned_registration(&mut conn, caller, id).await
}

pub async fn delete_registration(state: &Core, caller: &Caller, id: &str) -> Result<(), Error> {
    let mut conn = state.store.conn().await?;
    owned_registration(&mut conn, caller, id).await?;
    drop(conn);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    tx.delete_registration(id).await?;
    tx.append_audit(&audit(
        caller,
        now,
        "event_registration.deleted",
        format!("event_registration:{id}"),
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The registration's secrets as its owner sees them: the current one and, during rotation,
/// the previous one with the instant it stops signing.
pub async fn read_secret(svc: &EventsService, state: &Core, caller: &Caller, id: &str) -> Result<Value, Error> {
    let mut conn = state.store.conn().await?;
    owned_registration(&mut conn, caller, id).await?;
    let sealed = conn
        .registration_secrets(id)
        .await?
        .ok_or_else(|| Error::new(Kind::NotFound, "not_found", "This registration has no webhook secret."))?;
    let current = open(svc, id, &sealed.current)?;
    let now = state.now();
    let previous = match (&sealed.previous, sealed.previous_expires_at) {
        (Some(p), Some(until)) if now < until => Some(json!({
            "webhook_secret": open(svc, id, p)?.render(),
            "expires_at": gatehouse_domain::events::cloudevent::format_time(until),
        })),
        _ => None,
    };
    Ok(json!({ "webhook_secret": current.render(), "previous": previous }))
}

/// Rotates the secret: a new one signs from now on, the old one too for the next 24 hours.
pub async fn rotate_secret(svc: &EventsService, state: &Core, caller: &Caller, id: &str) -> Result<Value, Error> {
    let mut conn = state.store.conn().await?;
    owned_registration(&mut conn, caller, id).await?;
    let sealed = conn.registration_secrets(id).await?;
    drop(conn);
    let now = state.now();
    let new = WebhookSecret::generate(&mut rand::rngs::OsRng);
    let rotated = SealedSecrets {
        current: seal(svc, id, &new),
        previous: sealed.as_ref().map(|s| s.current.clone()),
        previous_expires_at: sealed.as_ref().map(|_| now + ROTATION_OVERLAP),
    };
    let mut tx = state.store.begin().await?;
    tx.set_registration_secrets(id, &rotated, now).await?;
    tx.append_audit(&audit(
        caller,
        now,
        "event_registration.secret_rotated",
        format!("event_registration:{id}"),
    ))
    .await?;
    tx.commit().await?;
    Ok(json!({
        "webhook_secret": new.render(),
        "previous_expires_at": gatehouse_domain::events::cloudevent::format_time(now + ROTATION_OVERLAP),
    }))
}

/// Queues one event of a registration's journal (named by its cursor) again, due now; the
/// dispatcher records a new attempt with trigger `resend`.
pub async fn resend_event(state: &Core, caller: &Caller, id: &str, cursor: &str) -> Result<(), Error> {
    let mut conn = state.store.conn().await?;
    owned_registration(&mut conn, caller, id).await?;
    let p = position(id, cursor)?;
    drop(conn);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    if !tx.resend_delivery(id, p, now).await? {
        return Err(Error::new(
            Kind::NotFound,
            "not_found",
            "This registration's journal has no such event (any more).",
        ));
    }
    tx.append_audit(
        &audit(caller, now, "event_delivery.resent", format!("event_registration:{id}"))
            .details(json!({"position": cursor})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Queues again every failed (or skipped) delivery to a registration of events published at or
/// after `since` (an RFC 3339 instant); returns how many were queued.
pub async fn recover_failed(state: &Core, caller: &Caller, id: &str, since: &str) -> Result<u64, Error> {
    let since_ts = time::OffsetDateTime::parse(since.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            Error::new(
                Kind::Invalid,
                "invalid_since",
                "since must be an RFC 3339 instant such as 2026-01-02T03:04:05Z.",
            )
            .on("since")
        })?
        .unix_timestamp();
    let mut conn = state.store.conn().await?;
    owned_registration(&mut conn, caller, id).await?;
    drop(conn);
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let n = tx.recover_failed(id, since_ts, now).await?;
    tx.append_audit(
        &audit(
            caller,
            now,
            "event_delivery.recovered",
            format!("event_registration:{id}"),
        )
        .details(json!({"since": since.trim(), "queued": n})),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Sends a test event to one registration only (the console's "Send test event"): of its first
/// event type, with data saying it is a test; the dispatcher delivers it like any other. Returns
/// the event's journal position.
pub async fn send_test_event(state: &Core, caller: &Caller, id: &str) -> Result<i64, Error> {
    let mut conn = state.store.conn().await?;
    let r = owned_registration(&mut conn, caller, id).await?;
    drop(conn);
    let leave = policy::send_test_event(&caller.integration, &r)?;
    let now = state.now();
    let event = gatehouse_domain::events::own::test_event(
        &r.id,
        leave.provider_id(),
        leave.event_code(),
        now,
        &mut rand::thread_rng(),
    )
    .map_err(Error::internal)?;
    let _turn = state.events.write_turn(&state.store).await;
    let mut tx: Tx = state.store.begin().await?;
    let position = tx.publish_event(&event, now, 0).await?.position();
    tx.append_audit(
        &audit(
            caller,
            now,
            "event_registration.test_sent",
            format!("event_registration:{id}"),
        )
        .details(json!({
            "event_id": event.event.id(),
            "event_code": leave.event_code(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(position)
}

/// A journal cursor of this registration as an event position.
pub fn position(registration_id: &str, cursor: &str) -> Result<i64, Error> {
    gatehouse_domain::events::journal::parse_cursor(registration_id, cursor)
        .map_err(|e| Error::new(Kind::Malformed, e.code, e.message))
}

/// What publishing one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishResult {
    pub duplicate: bool,
    pub deliveries: u64,
}

/// Checks and parses an event the caller publishes: a CloudEvent from a provider the caller owns,
/// of a type that provider defines.
pub async fn check_event(
    svc: &EventsService,
    conn: &mut Conn,
    caller: &Caller,
    value: Value,
    strictness: Strictness,
    now: Timestamp,
) -> Result<NewEvent, Error> {
    let event =
        CloudEvent::parse(value, strictness, now).map_err(|e| Error::new(Kind::Malformed, e.code, e.message))?;
    let provider_id = event
        .source()
        .strip_prefix("urn:uuid:")
        .ok_or_else(|| {
            Error::new(
                Kind::Invalid,
                "unknown_source",
                "source must be urn:uuid:<provider id> of a provider your integration owns.",
            )
        })?
        .to_owned();
    let provider = svc
        .provider(conn, &provider_id)
        .await?
        .filter(|p| policy::sees_provider(&caller.integration, p))
        .ok_or_else(|| {
            Error::new(
                Kind::NotFound,
                "unknown_provider",
                format!("There is no event provider {provider_id:?} you can see."),
            )
        })?;
    if !policy::owns_provider(&caller.integration, &provider) {
        return Err(Error::new(
            Kind::Forbidden,
            "provider_not_owned",
            format!("The event provider {provider_id:?} does not belong to your integration."),
        ));
    }
    let code = event.event_type().clone();
    if !svc.has_event_type(conn, &provider.id, code.as_str()).await? {
        return Err(Error::new(
            Kind::Invalid,
            "unknown_event_code",
            format!(
                "The provider {:?} has no event type {code}; create it first.",
                provider.id
            ),
        ));
    }
    Ok(NewEvent {
        event,
        provider_id: provider.id,
        audience: Audience::Everyone,
    })
}

/// Publishes checked events in one transaction.
pub async fn publish(state: &Core, events: &[NewEvent]) -> Result<Vec<PublishResult>, Error> {
    let now = state.now();
    let _turn = state.events.write_turn(&state.store).await;
    let mut tx: Tx = state.store.begin().await?;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        out.push(match tx.publish_event(e, now, DEDUP_WINDOW).await? {
            Published::New { deliveries, .. } => PublishResult {
                duplicate: false,
                deliveries,
            },
            Published::Duplicate { .. } => PublishResult {
                duplicate: true,
                deliveries: 0,
            },
        });
    }
    // Publishing is data, not a configuration change: no audit entry, no cache generation bump.
    // Committing wakes this node's dispatcher (Store::deliveries_queued).
    tx.commit_unaudited().await?;
    Ok(out)
}
