//! Integrations: a developer's registered application, of one of four types, with its
//! credentials (client ID, client secrets, certificates) and — for OAuth — its redirect rules.

use crate::{DomainError, Timestamp, ids::ClientId, token::keys::SigningAlg};

/// The integration types (credential kinds). Each kind uses its own grants
/// ([`crate::token::client_auth::check_grant_allowed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationType {
    /// Acts for a signed-in user.
    Oauth,
    /// Acts for its organization as a technical account; gets tokens with its client ID and a
    /// client secret (`client_credentials`), Adobe's "OAuth Server-to-Server".
    ServerToServer,
    /// Acts for its organization as a technical account; gets tokens by exchanging a JWT signed by
    /// its private key (Adobe's "Service Account (JWT)", deprecated there in favour of
    /// [`IntegrationType::ServerToServer`]).
    ServiceAccount,
    /// Anonymous: client ID only.
    ApiKey,
}

impl IntegrationType {
    pub const ALL: [Self; 4] = [Self::Oauth, Self::ServerToServer, Self::ServiceAccount, Self::ApiKey];

    /// How people read the type: "OAuth", "OAuth Server-to-Server", "Service Account", "API Key".
    pub fn label(self) -> &'static str {
        match self {
            Self::Oauth => "OAuth",
            Self::ServerToServer => "OAuth Server-to-Server",
            Self::ServiceAccount => "Service Account",
            Self::ApiKey => "API Key",
        }
    }

    /// The label with its indefinite article: "an OAuth", "a Service Account", "an API Key".
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Oauth => "an OAuth",
            Self::ServerToServer => "an OAuth Server-to-Server",
            Self::ServiceAccount => "a Service Account",
            Self::ApiKey => "an API Key",
        }
    }

    /// Does an integration of this type act for its organization as a technical account (with a
    /// technical account ID and email, owned by an organization, acting there as an admin)? The
    /// Service Account (JWT) and its replacement, OAuth Server-to-Server.
    pub fn is_technical_account(self) -> bool {
        matches!(self, Self::ServiceAccount | Self::ServerToServer)
    }

    /// Labels joined for a sentence: "OAuth", "OAuth and API Key", "OAuth, Service Account and API Key".
    pub fn labels(types: &[Self]) -> String {
        let labels: Vec<&str> = types.iter().map(|t| t.label()).collect();
        match labels.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oauth => "oauth",
            Self::ServiceAccount => "service_account",
            Self::ApiKey => "api_key",
            Self::ServerToServer => "server_to_server",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "oauth" => Ok(Self::Oauth),
            "service_account" => Ok(Self::ServiceAccount),
            "api_key" => Ok(Self::ApiKey),
            "server_to_server" => Ok(Self::ServerToServer),
            _ => Err(DomainError::new(
                "invalid_integration_type",
                format!(
                    "integration type {s:?} must be one of \"oauth\", \"server_to_server\", \"service_account\", \
                     \"api_key\""
                ),
            )),
        }
    }
}

/// Where an OAuth integration runs. `web` is confidential (has a client secret); `spa` and
/// `native` are public clients that must use PKCE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Web,
    Spa,
    Native,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Spa => "spa",
            Self::Native => "native",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "web" => Ok(Self::Web),
            "spa" => Ok(Self::Spa),
            "native" => Ok(Self::Native),
            _ => Err(DomainError::new(
                "invalid_platform",
                format!("platform {s:?} must be one of \"web\", \"spa\", \"native\""),
            )),
        }
    }

    pub fn is_confidential(self) -> bool {
        matches!(self, Self::Web)
    }
}

/// Lifecycle state. A disabled integration's tokens stop validating at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationStatus {
    Active,
    Disabled,
}

impl IntegrationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            _ => Err(DomainError::new(
                "invalid_status",
                format!("status {s:?} must be \"active\" or \"disabled\""),
            )),
        }
    }
}

/// Who owns an integration: a personal account, or an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Account(String),
    Organization(String),
}

/// A stored integration. Type-specific fields are `None`/empty where the type has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    pub id: String,
    pub client_id: ClientId,
    pub name: String,
    pub description: String,
    pub integration_type: IntegrationType,
    pub platform: Option<Platform>,
    pub owner: Owner,
    /// The account that created it (developers see the integrations they created).
    pub created_by: Option<String>,
    pub redirect_uri: Option<String>,
    pub redirect_patterns: Vec<String>,
    pub technical_account_id: Option<String>,
    pub technical_account_email: Option<String>,
    /// OAuth: the algorithm its ID tokens are signed with (OpenID Connect Registration
    /// `id_token_signed_response_alg`); `None` signs them with the configured algorithm.
    pub id_token_signed_response_alg: Option<SigningAlg>,
    /// May introspect tokens issued to other clients (a resource server); only operators grant it.
    pub may_introspect: bool,
    /// The web domains its API key may be used from ([`crate::allowed_domains`]); empty: any.
    pub allowed_domains: Vec<String>,
    /// The workspace (of a project, [`crate::project`]) it lives in.
    pub workspace_id: String,
    pub status: IntegrationStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Integration {
    pub fn org_id(&self) -> Option<&str> {
        match &self.owner {
            Owner::Organization(o) => Some(o),
            Owner::Account(_) => None,
        }
    }

    /// Does this integration type carry a client secret?
    pub fn has_secret(&self) -> bool {
        match self.integration_type {
            IntegrationType::Oauth => self.platform.is_some_and(Platform::is_confidential),
            IntegrationType::ServiceAccount | IntegrationType::ServerToServer => true,
            IntegrationType::ApiKey => false,
        }
    }
}

/// A client secret as stored: only its SHA-256 digest and a 4-character hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSecret {
    pub id: String,
    pub integration_id: String,
    pub digest: String,
    pub hint: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// When it stops authenticating; `None`: never.
    pub expires_at: Option<Timestamp>,
    /// When it last authenticated a client (recorded at most once a minute; see
    /// `gatehouse_core::tokens::last_used`); `None`: never.
    pub last_used_at: Option<Timestamp>,
}

impl StoredSecret {
    /// Does it authenticate at `now`: not revoked (a revocation scheduled later does not count
    /// yet) and not expired?
    pub fn is_active_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none_or(|r| r > now) && self.expires_at.is_none_or(|e| e > now)
    }

    /// Has it expired at `now`?
    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

/// A service account's public key certificate (PEM), with the facts parsed from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    pub id: String,
    pub integration_id: String,
    /// SHA-256 of the DER encoding, lowercase hex.
    pub fingerprint: String,
    pub pem: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// At most this many active certificates per service account, so keys can rotate.
pub const MAX_CERTIFICATES: usize = 5;
/// At most this many active client secrets: the current one and the one being rotated out.
pub const MAX_ACTIVE_SECRETS: usize = 2;

/// Integration names: 1–100 printable characters.
pub fn parse_name(s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(DomainError::new(
            "invalid_name",
            "integration name must be 1–100 printable characters",
        ));
    }
    Ok(s.to_owned())
}
