//! The services catalog (APIs that integrations subscribe to) and subscriptions. The seed's rules —
//! which integration types a service allows — are data on each service, not code.

use crate::{
    DomainError, Timestamp,
    gateway::{GatewaySettings, Limits},
    integration::IntegrationType,
};

/// A service code: lowercase letters, digits and `_`, 1–64 characters (e.g. `pdf_services`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceCode(String);

impl ServiceCode {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::new(
                "invalid_service_code",
                format!("service code {s:?} must be 1–64 characters of lowercase letters, digits, '_', '-' or '.'"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ServiceCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}

impl From<ServiceCode> for String {
    fn from(v: ServiceCode) -> String {
        v.0
    }
}

impl std::fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An OAuth scope or metascope: visible ASCII without spaces, commas or quotes (RFC 6749 §3.3,
/// minus ',' because Adobe's surface separates scopes by commas).
pub fn parse_scope(s: &str) -> Result<String, DomainError> {
    let ok = (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && !matches!(b, b',' | b'"' | b'\\'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(DomainError::new(
            "invalid_scope",
            format!("scope {s:?} must be 1–128 visible characters without spaces, commas, quotes or backslashes"),
        ))
    }
}

/// Whether a service acts for a signed-in user or for an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActsFor {
    User,
    Organization,
}

impl ActsFor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Organization => "organization",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "user" => Ok(Self::User),
            "organization" => Ok(Self::Organization),
            _ => Err(DomainError::new(
                "invalid_acts_for",
                format!("acts_for {s:?} must be \"user\" or \"organization\""),
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub code: ServiceCode,
    pub name: String,
    pub description: String,
    pub allowed_types: Vec<IntegrationType>,
    pub scopes: Vec<String>,
    pub acts_for: ActsFor,
    pub upstream_url: Option<String>,
    /// How the gateway calls the upstream, and the default limits of subscribed integrations.
    pub gateway: GatewaySettings,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Service {
    pub fn allows(&self, t: IntegrationType) -> bool {
        self.allowed_types.contains(&t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub integration_id: String,
    pub service_code: ServiceCode,
    pub scopes: Vec<String>,
    /// This integration's limits on the service, overriding the service's defaults kind by kind.
    pub limits: Limits,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Why a subscription was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// Named as people read them: "PDF Services allows Service Account integrations only; this is
    /// an OAuth integration."
    #[error("{service} allows {allowed} integrations only; this is {integration_type} integration")]
    ServiceNotAllowedForIntegrationType {
        /// The service's name.
        service: String,
        /// The types it allows, as labels ("OAuth and API Key").
        allowed: String,
        /// The integration's type with its article ("a Service Account").
        integration_type: &'static str,
    },
    #[error("{service} does not offer the scope {scope:?}")]
    ScopeNotOffered { service: String, scope: String },
}

impl SubscriptionError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::ServiceNotAllowedForIntegrationType { .. } => "service_not_allowed_for_integration_type",
            Self::ScopeNotOffered { .. } => "scope_not_offered",
        }
    }
}

/// The rule for subscribing: the service must allow the integration's type, and every chosen
/// scope must be one the service offers. An empty choice means "all the service's scopes".
pub fn check_subscription(
    service: &Service,
    t: IntegrationType,
    chosen: &[String],
) -> Result<Vec<String>, SubscriptionError> {
    if !service.allows(t) {
        return Err(SubscriptionError::ServiceNotAllowedForIntegrationType {
            service: service.name.clone(),
            allowed: IntegrationType::labels(&service.allowed_types),
            integration_type: t.with_article(),
        });
    }
    if chosen.is_empty() {
        return Ok(service.scopes.clone());
    }
    for s in chosen {
        if !service.scopes.contains(s) {
            return Err(SubscriptionError::ScopeNotOffered {
                service: service.name.clone(),
                scope: s.clone(),
            });
        }
    }
    let mut out = chosen.to_vec();
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf() -> Service {
        Service {
            code: ServiceCode::parse("pdf_services").unwrap(),
            name: "PDF Services".into(),
            description: String::new(),
            allowed_types: vec![IntegrationType::ServiceAccount],
            scopes: vec!["ent_documentcloud_sdk".into()],
            acts_for: ActsFor::Organization,
            upstream_url: None,
            gateway: GatewaySettings::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_service_refuses_types_it_does_not_allow() {
        let err = check_subscription(&pdf(), IntegrationType::Oauth, &[]).unwrap_err();
        assert_eq!(err.code(), "service_not_allowed_for_integration_type");
        assert_eq!(
            err.to_string(),
            "PDF Services allows Service Account integrations only; this is an OAuth integration"
        );
        let mut both = pdf();
        both.allowed_types = vec![IntegrationType::Oauth, IntegrationType::ServiceAccount];
        let err = check_subscription(&both, IntegrationType::ApiKey, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "PDF Services allows OAuth and Service Account integrations only; this is an API Key integration"
        );
    }

    #[test]
    fn scopes_must_be_offered_and_default_to_all() {
        assert_eq!(
            check_subscription(&pdf(), IntegrationType::ServiceAccount, &[]).unwrap(),
            vec!["ent_documentcloud_sdk"]
        );
        let err = check_subscription(&pdf(), IntegrationType::ServiceAccount, &["admin".into()]).unwrap_err();
        assert_eq!(err.code(), "scope_not_offered");
    }

    #[test]
    fn scope_syntax() {
        assert!(parse_scope("openid").is_ok());
        assert!(parse_scope("a b").is_err());
        assert!(parse_scope("a,b").is_err());
        assert!(parse_scope("").is_err());
    }
}
