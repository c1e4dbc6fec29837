//! The events part of an integration in a provisioning file, checked: its custom event providers
//! (with their event types) and its event registrations, every value parsed by the same domain
//! functions the events API uses. References between them (a registration's provider and event
//! code) need the database and are checked while planning ([`super::event_plan`]).

use std::collections::BTreeSet;

use gatehouse_domain::events::model::{MAX_EVENTS_OF_INTEREST, MAX_REGISTRATIONS_PER_INTEGRATION};
use gatehouse_domain::events::{
    WebhookUrl,
    code::EventCode,
    model::{self, DeliveryMethod},
};

use super::{
    Problem,
    file::{RawDeliveryMethod, RawEventProvider, RawEventType, RawRegistration, RawStatus},
};

#[derive(Debug)]
pub struct DProvider {
    pub path: String,
    pub id: Option<String>,
    pub label: String,
    pub description: Option<String>,
    pub docs_url: Option<String>,
    /// `None`: the file says nothing about the provider's event types.
    pub types: Option<Vec<DEventType>>,
}

#[derive(Debug)]
pub struct DEventType {
    pub code: EventCode,
    pub label: String,
    pub description: Option<String>,
    pub sample: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct DInterest {
    pub path: String,
    /// A provider ID, or the label of one of the integration's providers in the file.
    pub provider: String,
    pub code: EventCode,
}

#[derive(Debug)]
pub struct DRegistration {
    pub path: String,
    pub name: String,
    pub description: Option<String>,
    pub method: DeliveryMethod,
    pub webhook_url: Option<String>,
    pub events: Vec<DInterest>,
    /// `Some(false)`: disabled; `Some(true)`: active; `None`: as stored (active when new).
    pub enabled: Option<bool>,
}

fn ok<T>(problems: &mut Vec<Problem>, path: &str, r: Result<T, gatehouse_domain::DomainError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(Problem::new(path, e.message));
            None
        }
    }
}

/// Checks `event_providers` of the integration at `path`.
pub fn providers(problems: &mut Vec<Problem>, path: &str, list: Vec<RawEventProvider>) -> Vec<DProvider> {
    let mut out = Vec::new();
    let mut labels = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for (i, p) in list.into_iter().enumerate() {
        let ppath = format!("{path}.event_providers[{i}]");
        let before = problems.len();
        let id = p.id.map(|id| id.trim().to_ascii_lowercase());
        if let Some(id) = &id {
            if uuid::Uuid::parse_str(id).is_err() {
                problems.push(Problem::new(
                    format!("{ppath}.id"),
                    format!("{id:?} is not a provider ID (a UUID such as 6f1c2c3e-0b7a-4c1e-9a51-0f3f1f2b8c4d)"),
                ));
            } else if !ids.insert(id.clone()) {
                problems.push(Problem::new(
                    format!("{ppath}.id"),
                    format!("provider {id} is listed twice"),
                ));
            }
        }
        let label = ok(problems, &format!("{ppath}.label"), model::parse_label(&p.label));
        if let Some(l) = &label
            && id.is_none()
            && !labels.insert(l.clone())
        {
            problems.push(Problem::new(
                format!("{ppath}.label"),
                format!("two providers are labelled {l:?}; give each an id to tell them apart"),
            ));
        }
        let description = p
            .description
            .and_then(|d| ok(problems, &format!("{ppath}.description"), model::parse_description(&d)));
        let docs_url = p
            .docs_url
            .filter(|u| !u.trim().is_empty())
            .and_then(|u| ok(problems, &format!("{ppath}.docs_url"), model::parse_docs_url(&u)));
        let types = p.event_types.map(|t| event_types(problems, &ppath, t));
        if problems.len() == before
            && let Some(label) = label
        {
            out.push(DProvider {
                path: ppath,
                id,
                label,
                description,
                docs_url,
                types,
            });
        }
    }
    out
}

fn event_types(problems: &mut Vec<Problem>, ppath: &str, list: Vec<RawEventType>) -> Vec<DEventType> {
    let mut out = Vec::new();
    let mut codes = BTreeSet::new();
    for (j, t) in list.into_iter().enumerate() {
        let tpath = format!("{ppath}.event_types[{j}]");
        let before = problems.len();
        let code = ok(problems, &format!("{tpath}.code"), EventCode::parse(t.code.trim()));
        if let Some(c) = &code
            && !codes.insert(c.as_str().to_owned())
        {
            problems.push(Problem::new(
                format!("{tpath}.code"),
                format!("event type {c} is listed twice"),
            ));
        }
        let label = ok(problems, &format!("{tpath}.label"), model::parse_label(&t.label));
        let description = t
            .description
            .and_then(|d| ok(problems, &format!("{tpath}.description"), model::parse_description(&d)));
        let sample = match t.sample.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => match serde_json::from_str::<serde_json::Value>(s) {
                Ok(v) => Some(v),
                Err(e) => {
                    problems.push(Problem::new(
                        format!("{tpath}.sample"),
                        format!("is not valid JSON: {e}"),
                    ));
                    None
                }
            },
        };
        if problems.len() == before
            && let (Some(code), Some(label)) = (code, label)
        {
            out.push(DEventType {
                code,
                label,
                description,
                sample,
            });
        }
    }
    out
}

/// Checks `event_registrations` of the integration at `path`.
pub fn registrations(problems: &mut Vec<Problem>, path: &str, list: Vec<RawRegistration>) -> Vec<DRegistration> {
    if list.len() > MAX_REGISTRATIONS_PER_INTEGRATION {
        problems.push(Problem::new(
            format!("{path}.event_registrations"),
            format!("an integration may have at most {MAX_REGISTRATIONS_PER_INTEGRATION} registrations"),
        ));
    }
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for (i, r) in list.into_iter().enumerate() {
        let rpath = format!("{path}.event_registrations[{i}]");
        let before = problems.len();
        let name = ok(
            problems,
            &format!("{rpath}.name"),
            model::parse_registration_name(&r.name),
        );
        if let Some(n) = &name
            && !names.insert(n.clone())
        {
            problems.push(Problem::new(
                format!("{rpath}.name"),
                format!("registration {n:?} is listed twice"),
            ));
        }
        let description = r
            .description
            .and_then(|d| ok(problems, &format!("{rpath}.description"), model::parse_description(&d)));
        let method = match r.delivery_method {
            RawDeliveryMethod::Webhook => DeliveryMethod::Webhook,
            RawDeliveryMethod::WebhookBatch => DeliveryMethod::WebhookBatch,
            RawDeliveryMethod::Journal => DeliveryMethod::Journal,
        };
        let url_path = format!("{rpath}.webhook_url");
        let webhook_url = match (method.pushes(), r.webhook_url.as_deref().map(str::trim)) {
            (true, Some(u)) if !u.is_empty() => ok(problems, &url_path, WebhookUrl::parse(u)).map(|u| u.to_string()),
            (true, _) => {
                problems.push(Problem::new(
                    url_path,
                    "a webhook or webhook_batch registration needs a webhook_url",
                ));
                None
            }
            (false, Some(u)) if !u.is_empty() => {
                problems.push(Problem::new(
                    url_path,
                    "a journal registration is not pushed, so it takes no webhook_url",
                ));
                None
            }
            (false, _) => None,
        };
        if r.events.is_empty() || r.events.len() > MAX_EVENTS_OF_INTEREST {
            problems.push(Problem::new(
                format!("{rpath}.events"),
                format!("list 1–{MAX_EVENTS_OF_INTEREST} event types: {{ provider = \"…\", code = \"…\" }}"),
            ));
        }
        let mut events: Vec<DInterest> = Vec::new();
        for (j, e) in r.events.into_iter().enumerate() {
            let epath = format!("{rpath}.events[{j}]");
            let provider = e.provider.trim().to_owned();
            if provider.is_empty() {
                problems.push(Problem::new(
                    format!("{epath}.provider"),
                    "must name a provider (its ID, or the label of one of this integration's providers)",
                ));
            }
            if let Some(code) = ok(problems, &format!("{epath}.code"), EventCode::parse(e.code.trim())) {
                if events.iter().any(|x| x.provider == provider && x.code == code) {
                    problems.push(Problem::new(epath, format!("{provider} {code} is listed twice")));
                    continue;
                }
                events.push(DInterest {
                    path: epath,
                    provider,
                    code,
                });
            }
        }
        if problems.len() == before
            && let Some(name) = name
        {
            out.push(DRegistration {
                path: rpath,
                name,
                description,
                method,
                webhook_url,
                events,
                enabled: r.status.map(|s| s == RawStatus::Active),
            });
        }
    }
    out
}
