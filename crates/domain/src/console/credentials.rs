//! The credentials file a developer downloads: everything a client needs to get tokens for an
//! integration — client ID, organization, technical account, endpoints, scopes or metascopes —
//! and never a client secret (secrets are shown once, when made, and not kept). It lists only the
//! endpoints and scopes that apply to the integration's type and subscriptions.
//!
//! The field names follow the credential blocks of Adobe's console export (`client_id`,
//! `technical_account_id`, `technical_account_email`, `scopes`, `meta_scopes`, `ims_org_id`), so
//! scripts written for that export read this one too.

use serde::Serialize;

use crate::{
    Timestamp,
    integration::{Integration, IntegrationType, StoredCertificate, StoredSecret},
    service::Subscription,
    token::{client_auth::grants_of, scope::IDENTITY_SCOPES},
};

/// The token endpoints of this deployment that the integration's type uses, absolute. An API Key
/// integration gets no token, so it lists none of them; only an OAuth integration sends people
/// to the authorization endpoint; only a service account (JWT) exchanges a JWT; introspection
/// needs a client that authenticates (one with a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoints {
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorize: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introspect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ims_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ims_authorize: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ims_jwt_exchange: Option<String>,
    /// The `aud` a service account's JWT assertion names (`<base>/c/<client_id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_audience: Option<String>,
    /// For API Key integrations: where services are called, with the client ID in `x-api-key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<String>,
}

impl Endpoints {
    /// The endpoints under `base` (the public URL, without a trailing slash) that `integration` uses.
    pub fn under(base: &str, integration: &Integration) -> Self {
        let t = integration.integration_type;
        let tokens = t != IntegrationType::ApiKey;
        let oauth = t == IntegrationType::Oauth;
        let sa = t == IntegrationType::ServiceAccount;
        let at = |on: bool, path: &str| on.then(|| format!("{base}{path}"));
        Self {
            issuer: base.to_owned(),
            token: at(tokens, "/oauth/token"),
            authorize: at(oauth, "/oauth/authorize"),
            jwks: at(tokens, "/oauth/jwks"),
            introspect: at(integration.has_secret(), "/oauth/introspect"),
            revoke: at(tokens, "/oauth/revoke"),
            ims_token: at(tokens, "/ims/token/v3"),
            ims_authorize: at(oauth, "/ims/authorize/v2"),
            ims_jwt_exchange: at(sa, "/ims/exchange/jwt"),
            jwt_audience: sa.then(|| format!("{base}/c/{}", integration.client_id)),
            services: at(!tokens, "/services/"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateSummary {
    pub fingerprint_sha256: String,
    pub not_after: i64,
}

/// The downloadable credentials of one integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialsFile {
    pub name: String,
    pub integration_id: String,
    pub integration_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<&'static str>,
    pub client_id: String,
    /// The owning organization (Adobe's `ims_org_id`), for organization-owned integrations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ims_org_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technical_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technical_account_email: Option<String>,
    /// The grants its type may use at the token endpoints (`client_credentials` for OAuth
    /// Server-to-Server, the JWT bearer grant for a service account, `authorization_code` and
    /// `refresh_token` for OAuth); none for an API Key.
    pub grant_types: Vec<&'static str>,
    /// The scopes the integration may request.
    pub scopes: Vec<String>,
    /// For service accounts: the metascopes of their JWT assertions (the same list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_scopes: Option<Vec<String>>,
    pub services: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirect_uri_patterns: Vec<String>,
    /// Whether the client authenticates with a secret. The secret itself is never in this file.
    pub uses_client_secret: bool,
    /// The last four characters of each active secret (neither revoked nor expired), to tell them
    /// apart.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_secret_hints: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertificateSummary>,
    pub endpoints: Endpoints,
}

/// Builds the credentials file at `now`. `base` is the public URL without a trailing slash.
pub fn credentials_file(
    base: &str,
    integration: &Integration,
    subscriptions: &[Subscription],
    secrets: &[StoredSecret],
    certificates: &[StoredCertificate],
    now: Timestamp,
) -> CredentialsFile {
    let t = integration.integration_type;
    let mut scopes: Vec<String> = Vec::new();
    if t == IntegrationType::Oauth {
        scopes.extend(IDENTITY_SCOPES.iter().map(|s| (*s).to_owned()));
    }
    // An API Key integration's calls are anonymous: it requests no scope.
    if t != IntegrationType::ApiKey {
        for s in subscriptions.iter().flat_map(|s| s.scopes.iter()) {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
    }
    let sa = t == IntegrationType::ServiceAccount;
    CredentialsFile {
        name: integration.name.clone(),
        integration_id: integration.id.clone(),
        integration_type: t.as_str(),
        platform: integration.platform.map(|p| p.as_str()),
        client_id: integration.client_id.to_string(),
        ims_org_id: integration.org_id().map(str::to_owned),
        technical_account_id: integration.technical_account_id.clone(),
        technical_account_email: integration.technical_account_email.clone(),
        meta_scopes: sa.then(|| scopes.clone()),
        grant_types: grants_of(t).iter().map(|g| g.as_str()).collect(),
        scopes,
        services: subscriptions.iter().map(|s| s.service_code.to_string()).collect(),
        redirect_uri: integration.redirect_uri.clone(),
        redirect_uri_patterns: integration.redirect_patterns.clone(),
        uses_client_secret: integration.has_secret(),
        client_secret_hints: crate::console::secrets::active(secrets, now)
            .map(|s| s.hint.clone())
            .collect(),
        certificates: certificates
            .iter()
            .filter(|c| c.revoked_at.is_none())
            .map(|c| CertificateSummary {
                fingerprint_sha256: c.fingerprint.clone(),
                not_after: c.not_after,
            })
            .collect(),
        endpoints: Endpoints::under(base, integration),
    }
}
