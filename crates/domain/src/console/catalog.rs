//! The services catalog as operators edit it: what a valid service is, and what a change to a
//! service does to the subscriptions that already use it (scopes it no longer offers are taken
//! away; integrations of a type it no longer allows lose the subscription).

use crate::{
    DomainError, Timestamp,
    gateway::{GatewaySettings, IdentityForwarding, Limits},
    identity::{FieldError, FieldErrors},
    integration::IntegrationType,
    service::{ActsFor, Service, ServiceCode, Subscription, parse_scope},
};

/// Most scopes one service offers.
pub const MAX_SCOPES: usize = 50;
const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 2000;
const MAX_URL: usize = 2048;

/// A submitted service, before validation (strings as they arrive from a form or JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceInput {
    pub code: String,
    pub name: String,
    pub description: String,
    pub allowed_types: Vec<String>,
    pub scopes: Vec<String>,
    pub acts_for: String,
    pub upstream_url: Option<String>,
    /// `signed` (the default when empty) or `token`: see [`IdentityForwarding`].
    pub identity: String,
    /// The service's own gateway path prefix (empty: only `/services/{code}`).
    pub gateway_path: String,
    /// The default limits of every subscribed integration.
    pub limits: Limits,
}

fn printable(s: &str, max: usize, multiline: bool) -> bool {
    s.chars().count() <= max
        && !s
            .chars()
            .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r')))
}

/// An upstream URL for the gateway: absolute `http` or `https`, no user information or fragment.
pub fn parse_upstream_url(s: &str) -> Result<String, DomainError> {
    let bad = |why: &str| DomainError::new("invalid_upstream_url", format!("upstream URL {s:?} {why}"));
    if s.len() > MAX_URL {
        return Err(bad("is too long"));
    }
    let url = url::Url::parse(s).map_err(|e| bad(&format!("is not an absolute URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("must be an http or https URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not contain user information"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a #fragment"));
    }
    Ok(s.to_owned())
}

/// Validates a service. `existing` is the stored service with the same code, if any (its
/// `created_at` is kept).
pub fn parse_service(input: &ServiceInput, existing: Option<&Service>, now: Timestamp) -> Result<Service, FieldErrors> {
    let mut errors = FieldErrors::new();
    let code = ServiceCode::parse(input.code.trim()).map_err(|e| {
        errors.push(FieldError {
            field: "code",
            error: e,
        })
    });
    let name = input.name.trim();
    if name.is_empty() || !printable(name, MAX_NAME, false) {
        errors.push(FieldError::new(
            "name",
            "invalid_name",
            format!("a service name must be 1–{MAX_NAME} printable characters"),
        ));
    }
    let description = input.description.trim().replace("\r\n", "\n");
    if !printable(&description, MAX_DESCRIPTION, true) {
        errors.push(FieldError::new(
            "description",
            "invalid_description",
            format!("a description must be at most {MAX_DESCRIPTION} characters without control characters"),
        ));
    }
    let mut allowed_types = Vec::new();
    for t in input.allowed_types.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        match IntegrationType::parse(t) {
            Ok(t) if !allowed_types.contains(&t) => allowed_types.push(t),
            Ok(_) => {}
            Err(e) => errors.push(FieldError {
                field: "allowed_types",
                error: e,
            }),
        }
    }
    if allowed_types.is_empty() && !errors.iter().any(|e| e.field == "allowed_types") {
        errors.push(FieldError::new(
            "allowed_types",
            "allowed_types_required",
            "choose at least one integration type that may subscribe",
        ));
    }
    allowed_types.sort();
    let mut scopes: Vec<String> = Vec::new();
    for s in input.scopes.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match parse_scope(s) {
            Ok(s) if !scopes.contains(&s) => scopes.push(s),
            Ok(_) => {}
            Err(e) => errors.push(FieldError {
                field: "scopes",
                error: e,
            }),
        }
    }
    if scopes.len() > MAX_SCOPES {
        errors.push(FieldError::new(
            "scopes",
            "too_many_scopes",
            format!("a service offers at most {MAX_SCOPES} scopes"),
        ));
    }
    let acts_for = ActsFor::parse(input.acts_for.trim()).map_err(|e| {
        errors.push(FieldError {
            field: "acts_for",
            error: e,
        })
    });
    let upstream_url = match input.upstream_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => match parse_upstream_url(u) {
            Ok(u) => Some(u),
            Err(e) => {
                errors.push(FieldError {
                    field: "upstream_url",
                    error: e,
                });
                None
            }
        },
    };
    let identity = match input.identity.trim() {
        "" => IdentityForwarding::default(),
        s => IdentityForwarding::parse(s).unwrap_or_else(|e| {
            errors.push(FieldError {
                field: "identity",
                error: e,
            });
            IdentityForwarding::default()
        }),
    };
    if let Err(e) = input.limits.validate() {
        errors.push(FieldError {
            field: "limits",
            error: e,
        });
    }
    let gateway_path = match input.gateway_path.trim() {
        "" => None,
        p => match crate::gateway::validate_gateway_path(p) {
            Ok(()) => Some(p.to_owned()),
            Err(e) => {
                errors.push(FieldError {
                    field: "gateway_path",
                    error: e,
                });
                None
            }
        },
    };
    let (Ok(code), Ok(acts_for)) = (code, acts_for) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Service {
        code,
        name: name.to_owned(),
        description,
        allowed_types,
        scopes,
        acts_for,
        upstream_url,
        gateway: GatewaySettings {
            path: gateway_path,
            identity,
            limits: input.limits,
        },
        created_at: existing.map_or(now, |s| s.created_at),
        updated_at: now,
    })
}

/// What a changed service does to one existing subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionEffect {
    Unchanged,
    /// Keep the subscription with fewer scopes.
    Narrow(Vec<String>),
    /// The service no longer allows the integration's type.
    Remove,
}

/// The effect of `service` (as changed) on a subscription of an integration of type `t`.
pub fn effect_on(service: &Service, t: IntegrationType, sub: &Subscription) -> SubscriptionEffect {
    if !service.allows(t) {
        return SubscriptionEffect::Remove;
    }
    let kept: Vec<String> = sub
        .scopes
        .iter()
        .filter(|s| service.scopes.contains(s))
        .cloned()
        .collect();
    if kept.len() == sub.scopes.len() {
        SubscriptionEffect::Unchanged
    } else {
        SubscriptionEffect::Narrow(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ServiceInput {
        ServiceInput {
            code: "pdf_services".into(),
            name: "PDF Services".into(),
            description: "Documents".into(),
            allowed_types: vec!["service_account".into()],
            scopes: vec!["ent_documentcloud_sdk".into(), " ".into()],
            acts_for: "organization".into(),
            upstream_url: Some("https://pdf.internal.example/".into()),
            identity: String::new(),
            gateway_path: String::new(),
            limits: Limits::default(),
        }
    }

    #[test]
    fn a_valid_service_parses() {
        let s = parse_service(&input(), None, 5).unwrap();
        assert_eq!(s.code.as_str(), "pdf_services");
        assert_eq!(s.allowed_types, vec![IntegrationType::ServiceAccount]);
        assert_eq!(s.scopes, vec!["ent_documentcloud_sdk"]);
        assert_eq!((s.created_at, s.updated_at), (5, 5));
        let again = parse_service(&input(), Some(&s), 9).unwrap();
        assert_eq!((again.created_at, again.updated_at), (5, 9));
        let both = ServiceInput {
            allowed_types: vec!["service_account".into(), "server_to_server".into()],
            ..input()
        };
        assert_eq!(
            parse_service(&both, None, 5).unwrap().allowed_types,
            vec![IntegrationType::ServerToServer, IntegrationType::ServiceAccount]
        );
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = ServiceInput {
            code: "PDF Services".into(),
            name: String::new(),
            description: String::new(),
            allowed_types: vec!["robot".into()],
            scopes: vec!["a b".into()],
            acts_for: "everyone".into(),
            upstream_url: Some("ftp://x".into()),
            identity: "pigeon".into(),
            gateway_path: "/oauth/x".into(),
            limits: Limits {
                burst: Some(3),
                ..Limits::default()
            },
        };
        let e = parse_service(&bad, None, 0).unwrap_err();
        let fields: Vec<_> = e.iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            vec![
                "code",
                "name",
                "allowed_types",
                "scopes",
                "acts_for",
                "upstream_url",
                "identity",
                "limits",
                "gateway_path"
            ]
        );
        let none = ServiceInput {
            allowed_types: vec![],
            ..input()
        };
        assert_eq!(
            parse_service(&none, None, 0).unwrap_err()[0].error.code,
            "allowed_types_required"
        );
    }

    #[test]
    fn changes_narrow_or_remove_subscriptions() {
        let s = parse_service(&input(), None, 0).unwrap();
        let sub = Subscription {
            integration_id: "i".into(),
            service_code: s.code.clone(),
            scopes: vec!["ent_documentcloud_sdk".into(), "gone".into()],
            limits: Limits::default(),
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(
            effect_on(&s, IntegrationType::ServiceAccount, &sub),
            SubscriptionEffect::Narrow(vec!["ent_documentcloud_sdk".into()])
        );
        assert_eq!(effect_on(&s, IntegrationType::Oauth, &sub), SubscriptionEffect::Remove);
    }
}
