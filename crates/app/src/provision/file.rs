//! The provisioning file as written: serde structs for the TOML format that `gatehouse apply`
//! reads and `gatehouse export` writes, and the parse step that turns syntax and shape errors into
//! messages naming the file, the key path and the line.
//!
//! Only the shape is checked here (unknown keys, types, enum values). The values themselves are
//! checked in [`super::validate`], and references to the database in [`super::plan`].

use gatehouse_domain::gateway::Limits;
use serde::Deserialize;

use super::Problem;

/// The whole file. Every section is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    #[serde(default)]
    pub organizations: Vec<RawOrganization>,
    #[serde(default)]
    pub accounts: Vec<RawAccount>,
    #[serde(default)]
    pub services: Vec<RawService>,
    #[serde(default)]
    pub integrations: Vec<RawIntegration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrganization {
    /// `<24 hex>@<suffix>`; generated when absent (the organization is then matched by name).
    pub id: Option<String>,
    pub name: String,
    pub require_mfa: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawAccountType {
    Personal,
    Enterprise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawRole {
    Admin,
    Developer,
    Member,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub email: String,
    pub password: Option<String>,
    pub password_hash: Option<String>,
    #[serde(rename = "type")]
    pub account_type: Option<RawAccountType>,
    /// Shorthand for one membership: `organization` + `role`.
    pub organization: Option<String>,
    pub role: Option<RawRole>,
    pub memberships: Option<Vec<RawMembership>>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub country: Option<String>,
    pub operator: Option<bool>,
    pub disabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMembership {
    pub organization: String,
    pub role: RawRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawIntegrationType {
    Oauth,
    ServerToServer,
    ServiceAccount,
    ApiKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawActsFor {
    User,
    Organization,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub allowed_types: Vec<RawIntegrationType>,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub acts_for: Option<RawActsFor>,
    pub upstream_url: Option<String>,
    /// What the gateway tells the upstream: `signed` (a JWT Gatehouse signs) or `token`.
    pub identity: Option<String>,
    /// A gateway path prefix of the service's own (`/stock/v2`), besides `/services/{code}`.
    pub gateway_path: Option<String>,
    /// The default gateway limits of every subscribed integration.
    pub limits: Option<Limits>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawPlatform {
    Web,
    Spa,
    Native,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawStatus {
    Active,
    Disabled,
}

/// A key that takes one string or a list of strings (`client_secret_sha256`).
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "a SHA-256 digest (64 hex digits) or a list of them")]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings, and whether they were written as a list.
    pub fn to_list(&self) -> (Vec<String>, bool) {
        match self {
            Self::One(s) => (vec![s.clone()], false),
            Self::Many(v) => (v.clone(), true),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntegration {
    pub name: String,
    #[serde(rename = "type")]
    pub integration_type: RawIntegrationType,
    pub organization: Option<String>,
    pub owner: Option<String>,
    pub created_by: Option<String>,
    pub description: Option<String>,
    pub status: Option<RawStatus>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// The project (by name, among its owner's) and workspace (default `Production`) it lives in;
    /// none: a project of its own.
    pub project: Option<String>,
    pub workspace: Option<String>,
    pub client_secret_sha256: Option<OneOrMany>,
    pub technical_account_id: Option<String>,
    pub technical_account_email: Option<String>,
    pub certificates: Option<Vec<String>>,
    pub subscriptions: Option<Vec<RawSubscription>>,
    pub platform: Option<RawPlatform>,
    pub redirect_uri: Option<String>,
    pub redirect_patterns: Option<Vec<String>>,
    /// OAuth: `"RS256"` or `"ES256"` for its ID tokens (absent: the configured algorithm).
    pub id_token_signed_response_alg: Option<String>,
    /// May introspect tokens issued to other clients (a resource server).
    pub may_introspect: Option<bool>,
    /// The web domains its API key may be used from (`[]`: any).
    pub allowed_domains: Option<Vec<String>>,
    /// The custom event providers this integration owns (a declarative list).
    pub event_providers: Option<Vec<RawEventProvider>>,
    /// This integration's event registrations (a declarative list).
    pub event_registrations: Option<Vec<RawRegistration>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEventProvider {
    /// Fixed provider ID (the CloudEvents source is `urn:uuid:<id>`); generated when absent
    /// (the provider is then matched by its label among the integration's providers).
    pub id: Option<String>,
    pub label: String,
    pub description: Option<String>,
    pub docs_url: Option<String>,
    pub event_types: Option<Vec<RawEventType>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEventType {
    pub code: String,
    pub label: String,
    pub description: Option<String>,
    /// A sample payload, as JSON text.
    pub sample: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawDeliveryMethod {
    Webhook,
    WebhookBatch,
    Journal,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegistration {
    pub name: String,
    pub description: Option<String>,
    pub delivery_method: RawDeliveryMethod,
    pub webhook_url: Option<String>,
    pub events: Vec<RawInterest>,
    pub status: Option<RawStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInterest {
    /// A provider ID, or the label of one of this integration's providers in the file.
    pub provider: String,
    pub code: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubscription {
    pub service: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// This integration's gateway limits on the service, overriding the service's kind by kind.
    pub limits: Option<Limits>,
}

/// Parses the TOML text. Syntax errors carry line and column; shape errors (unknown keys, wrong
/// types, bad enum values, missing keys) carry the key path as well.
pub fn parse(text: &str) -> Result<RawFile, Problem> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize::<_, RawFile>(de).map_err(|e| {
        let inner = e.inner();
        let mut path = if e.path().iter().next().is_some() {
            e.path().to_string()
        } else {
            String::new()
        };
        let message = inner.message().trim().replace('\n', "; ");
        // serde reports a missing key at its table; name the key itself.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            path = if path.is_empty() {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
        }
        let location = inner.span().map(|span| line_column(text, span.start));
        Problem {
            path,
            message,
            location,
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named_with_their_path_and_line() {
        let p =
            parse("[[integrations]]\nname = 'a'\ntype = 'api_key'\nsubscriptions = [{ service = 'x', colour = 1 }]\n")
                .unwrap_err();
        assert_eq!(p.path, "integrations[0].subscriptions[0].colour");
        assert!(p.message.contains("unknown field `colour`"), "{}", p.message);
        assert_eq!(p.location, Some((4, 35)));
    }

    #[test]
    fn bad_enum_values_are_named() {
        let p = parse("[[integrations]]\nname = 'a'\ntype = 'oauht'\n").unwrap_err();
        assert_eq!(p.path, "integrations[0].type");
        assert!(p.message.contains("unknown variant `oauht`"), "{}", p.message);
    }

    #[test]
    fn missing_keys_are_named() {
        let p = parse("[[services]]\ncode = 'x'\nallowed_types = ['oauth']\n").unwrap_err();
        assert_eq!(p.path, "services[0].name");
    }

    #[test]
    fn syntax_errors_have_a_line_and_column() {
        let p = parse("[[organizations]]\nname = \n").unwrap_err();
        assert_eq!(p.path, "");
        assert_eq!(p.location, Some((2, 8)));
    }

    #[test]
    fn secret_digests_take_one_or_many() {
        let f = parse(
            "[[integrations]]\nname='a'\ntype='oauth'\nclient_secret_sha256 = 'ab'\n\
             [[integrations]]\nname='b'\ntype='oauth'\nclient_secret_sha256 = ['ab', 'cd']\n",
        )
        .unwrap();
        let lens: Vec<usize> = f
            .integrations
            .into_iter()
            .map(|i| i.client_secret_sha256.map_or(0, |d| d.to_list().0.len()))
            .collect();
        assert_eq!(lens, vec![1, 2]);
    }
}
