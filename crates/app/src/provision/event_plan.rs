//! Planning for the events part of integrations: their custom event providers with event types,
//! and their event registrations. Runs after every integration is planned, providers first (a
//! registration may subscribe to another integration's provider of the same organization), and
//! adds what changes to the integration's line of the report.
//!
//! Lists are declarative like the rest: the listed providers, event types and registrations
//! become exactly the integration's; others are deleted. New registrations start `active` (the
//! operator vouches for the URLs in the file, as for email addresses; no challenge is sent) with a
//! new webhook secret sealed with the master key; the secret is never written to the report or to
//! an export — its owner reads it in the console or through the API.

use std::collections::{BTreeSet, HashMap};

use gatehouse_domain::events::{
    model::{
        EventOfInterest, EventType, Provider, Registration, RegistrationStatus, SealedSecrets, provider_scope,
        webhook_secret_aad,
    },
    signature::WebhookSecret,
};
use gatehouse_domain::integration::Owner;
use rand::{CryptoRng, RngCore};
use serde_json::json;

use super::{
    event_file::{DProvider, DRegistration},
    plan::{Action, Planner, Write},
    validate::DIntegration,
};

/// An integration of the file as planned, for the events pass.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub path: String,
    pub integration_id: String,
    /// Where its providers are visible (see [`provider_scope`]).
    pub scope: String,
    pub org: Option<String>,
    /// Its entry in the plan's changes.
    pub change: usize,
    pub created: bool,
}

impl Resolved {
    pub fn new(path: &str, integration_id: &str, owner: &Owner, change: usize, created: bool) -> Self {
        Self {
            path: path.to_owned(),
            integration_id: integration_id.to_owned(),
            scope: provider_scope(owner),
            org: match owner {
                Owner::Organization(o) => Some(o.clone()),
                Owner::Account(_) => None,
            },
            change,
            created,
        }
    }
}

/// What every provider will be after this apply: who sees it, and its event codes.
type Catalog = HashMap<String, (Option<String>, BTreeSet<String>)>;

fn new_id(rng: &mut (impl RngCore + CryptoRng)) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

const DISABLED_BY_OWNER: &str = "disabled by its owner";

impl<R: RngCore + CryptoRng> Planner<'_, R> {
    pub(super) fn events(&mut self, list: &[DIntegration]) {
        let mut catalog: Catalog = self
            .cur
            .providers
            .iter()
            .map(|p| {
                let codes = self
                    .cur
                    .event_types
                    .get(&p.id)
                    .map(|ts| ts.iter().map(|t| t.event_code.as_str().to_owned()).collect())
                    .unwrap_or_default();
                (p.id.clone(), (p.owner_scope.clone(), codes))
            })
            .collect();
        let resolved = std::mem::take(&mut self.resolved);
        let mut labels: HashMap<String, HashMap<String, String>> = HashMap::new();
        for r in &resolved {
            let Some(x) = list.iter().find(|x| x.path == r.path) else {
                continue;
            };
            let mut details = Vec::new();
            let own = self.providers(x.event_providers.as_deref(), r, &mut catalog, &mut details);
            labels.insert(r.integration_id.clone(), own);
            self.add_details(r, details);
        }
        for r in &resolved {
            let Some(x) = list.iter().find(|x| x.path == r.path) else {
                continue;
            };
            if let Some(regs) = &x.event_registrations {
                let mut details = Vec::new();
                self.registrations(regs, r, &catalog, labels.get(&r.integration_id), &mut details);
                self.add_details(r, details);
            }
        }
    }

    fn add_details(&mut self, r: &Resolved, details: Vec<String>) {
        if details.is_empty() {
            return;
        }
        if let Some(ch) = self.plan.changes.get_mut(r.change) {
            ch.details.extend(details);
            if ch.action == Action::Unchanged {
                ch.action = Action::Updated;
            }
        }
    }

    /// Plans the integration's providers; returns their labels → IDs after this apply.
    fn providers(
        &mut self,
        list: Option<&[DProvider]>,
        r: &Resolved,
        catalog: &mut Catalog,
        details: &mut Vec<String>,
    ) -> HashMap<String, String> {
        let current: Vec<Provider> = if r.created {
            Vec::new()
        } else {
            self.cur
                .providers
                .iter()
                .filter(|p| p.owner_integration_id.as_deref() == Some(r.integration_id.as_str()))
                .cloned()
                .collect()
        };
        let Some(list) = list else {
            return current.iter().map(|p| (p.label.clone(), p.id.clone())).collect();
        };
        let mut kept: BTreeSet<String> = BTreeSet::new();
        let mut labels = HashMap::new();
        for d in list {
            let existing = match &d.id {
                Some(id) => match self.cur.providers.iter().find(|p| &p.id == id) {
                    Some(p) if p.owner_integration_id.as_deref() == Some(r.integration_id.as_str()) => Some(p.clone()),
                    Some(_) => {
                        self.bad(
                            format!("{}.id", d.path),
                            format!("the event provider {id} belongs to another integration"),
                        );
                        continue;
                    }
                    None => None,
                },
                None => {
                    let same: Vec<&Provider> = current
                        .iter()
                        .filter(|p| p.label == d.label && !kept.contains(&p.id))
                        .collect();
                    if same.len() > 1 {
                        self.bad(
                            format!("{}.label", d.path),
                            format!(
                                "{} of the integration's providers are labelled {:?}; add id to say which one",
                                same.len(),
                                d.label
                            ),
                        );
                        continue;
                    }
                    same.first().map(|p| (*p).clone())
                }
            };
            let created = existing.is_none();
            let target_of = |id: &str| format!("event_provider:{id}");
            let provider = match existing {
                None => {
                    let p = Provider {
                        id: d.id.clone().unwrap_or_else(|| new_id(self.rng)),
                        label: d.label.clone(),
                        description: d.description.clone().unwrap_or_default(),
                        docs_url: d.docs_url.clone(),
                        service_code: None,
                        owner_integration_id: Some(r.integration_id.clone()),
                        owner_scope: Some(r.scope.clone()),
                        instance_id: None,
                        created_at: self.now,
                        updated_at: self.now,
                    };
                    details.push(format!("event provider {:?} created", p.label));
                    let (target, det) = (target_of(&p.id), json!({ "label": p.label }));
                    self.step(
                        Write::InsertProvider(p.clone()),
                        "event_provider.created",
                        target,
                        r.org.as_deref(),
                        det,
                    );
                    p
                }
                Some(e) => {
                    let mut p = e.clone();
                    let mut changed = Vec::new();
                    if p.label != d.label {
                        changed.push(format!("label → {:?}", d.label));
                        p.label = d.label.clone();
                    }
                    if let Some(desc) = &d.description
                        && &p.description != desc
                    {
                        changed.push("description".to_owned());
                        p.description = desc.clone();
                    }
                    if d.docs_url.is_some() && p.docs_url != d.docs_url {
                        changed.push("docs_url".to_owned());
                        p.docs_url = d.docs_url.clone();
                    }
                    if !changed.is_empty() {
                        p.updated_at = self.now;
                        details.push(format!("event provider {:?}: {}", p.label, changed.join(", ")));
                        let fields: Vec<&str> = changed
                            .iter()
                            .map(|c| c.split(' ').next().unwrap_or_default())
                            .collect();
                        let det = json!({ "changed": fields });
                        self.step(
                            Write::UpdateProvider(p.clone()),
                            "event_provider.updated",
                            target_of(&p.id),
                            r.org.as_deref(),
                            det,
                        );
                    }
                    p
                }
            };
            if !kept.insert(provider.id.clone()) {
                self.bad(
                    format!("{}.id", d.path),
                    format!("the event provider {} is listed twice", provider.id),
                );
                continue;
            }
            labels.insert(provider.label.clone(), provider.id.clone());
            let codes = self.event_types(d, &provider, created, r, details);
            catalog.insert(provider.id.clone(), (Some(r.scope.clone()), codes));
        }
        for p in current.iter().filter(|p| !kept.contains(&p.id)) {
            details.push(format!("event provider {:?} removed", p.label));
            catalog.remove(&p.id);
            self.step(
                Write::DeleteProvider(p.id.clone()),
                "event_provider.deleted",
                format!("event_provider:{}", p.id),
                r.org.as_deref(),
                json!({ "label": p.label }),
            );
        }
        labels
    }

    /// Plans a provider's event types; returns its event codes after this apply.
    fn event_types(
        &mut self,
        d: &DProvider,
        p: &Provider,
        created: bool,
        r: &Resolved,
        details: &mut Vec<String>,
    ) -> BTreeSet<String> {
        let current: Vec<EventType> = if created {
            Vec::new()
        } else {
            self.cur.event_types.get(&p.id).cloned().unwrap_or_default()
        };
        let Some(list) = &d.types else {
            return current.iter().map(|t| t.event_code.as_str().to_owned()).collect();
        };
        for t in list {
            let target = format!("event_type:{}/{}", p.id, t.code);
            match current.iter().find(|c| c.event_code == t.code) {
                None => {
                    details.push(format!("event type {} added", t.code));
                    let et = EventType {
                        provider_id: p.id.clone(),
                        event_code: t.code.clone(),
                        label: t.label.clone(),
                        description: t.description.clone().unwrap_or_default(),
                        sample: t.sample.clone(),
                        created_at: self.now,
                    };
                    self.step(
                        Write::InsertEventType(et),
                        "event_type.created",
                        target,
                        r.org.as_deref(),
                        json!({ "label": t.label }),
                    );
                }
                Some(c) => {
                    let mut et = c.clone();
                    let mut changed = Vec::new();
                    if et.label != t.label {
                        changed.push("label");
                        et.label = t.label.clone();
                    }
                    if let Some(desc) = &t.description
                        && &et.description != desc
                    {
                        changed.push("description");
                        et.description = desc.clone();
                    }
                    if t.sample.is_some() && et.sample != t.sample {
                        changed.push("sample");
                        et.sample = t.sample.clone();
                    }
                    if !changed.is_empty() {
                        details.push(format!("event type {}: {}", t.code, changed.join(", ")));
                        self.step(
                            Write::UpdateEventType(et),
                            "event_type.updated",
                            target,
                            r.org.as_deref(),
                            json!({ "changed": changed }),
                        );
                    }
                }
            }
        }
        for c in current.iter().filter(|c| !list.iter().any(|t| t.code == c.event_code)) {
            details.push(format!("event type {} removed", c.event_code));
            self.step(
                Write::DeleteEventType {
                    provider_id: p.id.clone(),
                    code: c.event_code.as_str().to_owned(),
                },
                "event_type.deleted",
                format!("event_type:{}/{}", p.id, c.event_code),
                r.org.as_deref(),
                json!({}),
            );
        }
        list.iter().map(|t| t.code.as_str().to_owned()).collect()
    }

    fn registrations(
        &mut self,
        list: &[DRegistration],
        r: &Resolved,
        catalog: &Catalog,
        labels: Option<&HashMap<String, String>>,
        details: &mut Vec<String>,
    ) {
        let current: Vec<Registration> = if r.created {
            Vec::new()
        } else {
            self.cur
                .registrations
                .get(&r.integration_id)
                .cloned()
                .unwrap_or_default()
        };
        let mut kept: BTreeSet<String> = BTreeSet::new();
        for d in list {
            let before = self.problems.len();
            let mut interests = Vec::new();
            for e in &d.events {
                let pid = labels
                    .and_then(|m| m.get(&e.provider))
                    .cloned()
                    .unwrap_or_else(|| e.provider.clone());
                match catalog.get(&pid) {
                    Some((scope, codes)) if scope.is_none() || scope.as_deref() == Some(r.scope.as_str()) => {
                        if codes.contains(e.code.as_str()) {
                            interests.push(EventOfInterest {
                                provider_id: pid,
                                event_code: e.code.clone(),
                            });
                        } else {
                            self.bad(
                                format!("{}.code", e.path),
                                format!("the event provider {:?} has no event type {}", e.provider, e.code),
                            );
                        }
                    }
                    _ => self.bad(
                        format!("{}.provider", e.path),
                        format!(
                            "no event provider {:?} this integration can see (give a provider ID, or the label of one \
                             of this integration's event_providers)",
                            e.provider
                        ),
                    ),
                }
            }
            if self.problems.len() != before {
                continue;
            }
            interests.sort();
            interests.dedup();
            match current.iter().find(|c| c.name == d.name) {
                None => self.new_registration(d, r, interests, &mut kept, details),
                Some(e) => {
                    kept.insert(e.id.clone());
                    let mut reg = e.clone();
                    let mut changed: Vec<String> = Vec::new();
                    if let Some(desc) = &d.description
                        && &reg.description != desc
                    {
                        changed.push("description".into());
                        reg.description = desc.clone();
                    }
                    if reg.delivery_method != d.method {
                        changed.push(format!("delivery_method → {}", d.method.as_str()));
                        reg.delivery_method = d.method;
                    }
                    if reg.webhook_url != d.webhook_url {
                        changed.push("webhook_url".into());
                        reg.webhook_url = d.webhook_url.clone();
                    }
                    let mut have = reg.events_of_interest.clone();
                    have.sort();
                    if have != interests {
                        changed.push("events".into());
                        reg.events_of_interest = interests;
                    }
                    match d.enabled {
                        Some(false) if reg.status != RegistrationStatus::Disabled => {
                            changed.push("status → disabled".into());
                            reg.status = RegistrationStatus::Disabled;
                            reg.status_reason = Some(DISABLED_BY_OWNER.to_owned());
                            reg.unstable_since = None;
                        }
                        Some(true)
                            if matches!(
                                reg.status,
                                RegistrationStatus::Disabled | RegistrationStatus::Unverified
                            ) =>
                        {
                            changed.push("status → active".into());
                            reg.status = RegistrationStatus::Active;
                            reg.status_reason = None;
                            reg.unstable_since = None;
                        }
                        _ => {}
                    }
                    if !changed.is_empty() {
                        reg.updated_at = self.now;
                        details.push(format!("event registration {:?}: {}", reg.name, changed.join(", ")));
                        let fields: Vec<&str> = changed
                            .iter()
                            .map(|c| c.split(' ').next().unwrap_or_default())
                            .collect();
                        let det = json!({ "changed": fields });
                        let target = format!("event_registration:{}", reg.id);
                        self.step(
                            Write::UpdateRegistration(reg),
                            "event_registration.updated",
                            target,
                            r.org.as_deref(),
                            det,
                        );
                    }
                }
            }
        }
        for c in current.iter().filter(|c| !kept.contains(&c.id)) {
            details.push(format!("event registration {:?} removed", c.name));
            self.step(
                Write::DeleteRegistration(c.id.clone()),
                "event_registration.deleted",
                format!("event_registration:{}", c.id),
                r.org.as_deref(),
                json!({ "name": c.name }),
            );
        }
    }

    fn new_registration(
        &mut self,
        d: &DRegistration,
        r: &Resolved,
        interests: Vec<EventOfInterest>,
        kept: &mut BTreeSet<String>,
        details: &mut Vec<String>,
    ) {
        let Some(key) = self.settings.master_key.clone() else {
            self.bad(
                d.path.clone(),
                "creating an event registration needs the master key, to seal its webhook secret",
            );
            return;
        };
        let disabled = d.enabled == Some(false);
        let reg = Registration {
            id: new_id(self.rng),
            integration_id: r.integration_id.clone(),
            name: d.name.clone(),
            description: d.description.clone().unwrap_or_default(),
            delivery_method: d.method,
            webhook_url: d.webhook_url.clone(),
            status: if disabled {
                RegistrationStatus::Disabled
            } else {
                RegistrationStatus::Active
            },
            unstable_since: None,
            status_reason: disabled.then(|| DISABLED_BY_OWNER.to_owned()),
            events_of_interest: interests,
            created_at: self.now,
            updated_at: self.now,
        };
        let secret = WebhookSecret::generate(self.rng);
        let sealed = SealedSecrets {
            current: key.encrypt(self.rng, secret.as_bytes(), &webhook_secret_aad(&reg.id)),
            previous: None,
            previous_expires_at: None,
        };
        kept.insert(reg.id.clone());
        details.push(format!("event registration {:?} created", reg.name));
        let target = format!("event_registration:{}", reg.id);
        let det = json!({ "name": reg.name, "status": reg.status.as_str() });
        self.step(
            Write::InsertRegistration(Box::new((reg, sealed))),
            "event_registration.created",
            target,
            r.org.as_deref(),
            det,
        );
    }
}
