//! The workspace file: a workspace with its credentials and services in the shape of Adobe's
//! Developer Console download (`project.org`, `project.workspace.details.credentials[]`), so
//! Adobe's tools (`aio app use`, `@adobe/aio-lib-ims` contexts, `@adobe/aio-lib-events`) read it
//! and a configuration written against Adobe points at Gatehouse by changing hosts only.
//!
//! Client secrets are never in it: Gatehouse keeps only their digests and shows a secret once,
//! when it is created. Each credential's `client_secrets` is empty; the developer adds the secret
//! they saved (Adobe's own download carries the values).

use serde_json::{Value, json};

use crate::{
    integration::{Integration, IntegrationType, Platform},
    project::{Project, Workspace},
    service::{Service, Subscription},
};

/// The organization as the file names it (`None` for a personal project).
#[derive(Debug, Clone, Copy)]
pub struct OrgRef<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

/// Adobe's `integration_type` of a credential.
pub fn adobe_integration_type(i: &Integration) -> &'static str {
    match (i.integration_type, i.platform) {
        (IntegrationType::ServerToServer, _) => "oauth_server_to_server",
        (IntegrationType::ServiceAccount, _) => "service",
        (IntegrationType::ApiKey, _) => "apikey",
        (IntegrationType::Oauth, Some(Platform::Spa)) => "oauthsinglepageapp",
        (IntegrationType::Oauth, Some(Platform::Native)) => "oauthnativeapp",
        (IntegrationType::Oauth, _) => "oauthwebapp",
    }
}

fn scopes_of(subs: &[Subscription]) -> Vec<String> {
    let mut scopes: Vec<String> = subs.iter().flat_map(|s| s.scopes.iter().cloned()).collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// A credential as the file lists it: the integration, its subscriptions, and whether it still
/// holds the JWT of the Service Account it is being migrated from.
#[derive(Debug, Clone)]
pub struct Credential {
    pub integration: Integration,
    pub subscriptions: Vec<Subscription>,
    pub jwt_retained: bool,
}

/// One credential's entry: its ID, name, Adobe type and the block of that type — both blocks,
/// as `oauth_server_to_server_migrate`, for a credential in mid-migration (Adobe's shape).
pub fn credential_entry(c: &Credential) -> Value {
    let (i, subs) = (&c.integration, c.subscriptions.as_slice());
    let client_id = i.client_id.as_str();
    let (key, block) = match i.integration_type {
        IntegrationType::ServerToServer => (
            "oauth_server_to_server",
            json!({
                "client_id": client_id,
                "client_secrets": [],
                "technical_account_email": i.technical_account_email,
                "technical_account_id": i.technical_account_id,
                "scopes": scopes_of(subs),
            }),
        ),
        IntegrationType::ServiceAccount => (
            "jwt",
            json!({
                "client_id": client_id,
                "client_secret": null,
                "technical_account_email": i.technical_account_email,
                "technical_account_id": i.technical_account_id,
                "meta_scopes": scopes_of(subs),
            }),
        ),
        IntegrationType::ApiKey => ("api_key", json!({ "client_id": client_id })),
        IntegrationType::Oauth => (
            "oauth2",
            json!({
                "client_id": client_id,
                "client_secret": null,
                "redirect_uri": i.redirect_patterns,
                "defaultRedirectUri": i.redirect_uri,
            }),
        ),
    };
    let mut entry = json!({
        "id": i.id,
        "name": i.name,
        "integration_type": adobe_integration_type(i),
    });
    entry[key] = block;
    if c.jwt_retained && i.integration_type == IntegrationType::ServerToServer {
        entry["integration_type"] = json!("oauth_server_to_server_migrate");
        entry["jwt"] = json!({
            "client_id": client_id,
            "client_secret": null,
            "technical_account_email": i.technical_account_email,
            "technical_account_id": i.technical_account_id,
            "meta_scopes": scopes_of(subs),
        });
    }
    entry
}

/// The whole file of `workspace`: `credentials` with their subscriptions, and the services they
/// subscribe to, named from `catalog`.
pub fn workspace_file(
    org: Option<OrgRef<'_>>,
    project: &Project,
    workspace: &Workspace,
    credentials: &[Credential],
    catalog: &[Service],
) -> Value {
    let mut codes: Vec<&str> = credentials
        .iter()
        .flat_map(|c| c.subscriptions.iter().map(|s| s.service_code.as_str()))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let services: Vec<Value> = codes
        .iter()
        .map(|code| {
            let name = catalog
                .iter()
                .find(|s| s.code.as_str() == *code)
                .map_or(*code, |s| s.name.as_str());
            json!({ "code": code, "name": name })
        })
        .collect();
    json!({
        "project": {
            "id": project.id,
            "name": project.name,
            "title": project.title,
            "description": project.description,
            "org": org.map(|o| json!({ "id": o.id, "name": o.name, "ims_org_id": o.id })),
            "workspace": {
                "id": workspace.id,
                "name": workspace.name,
                "title": workspace.title,
                "description": workspace.description,
                "details": {
                    "credentials": credentials.iter().map(credential_entry).collect::<Vec<_>>(),
                    "services": services,
                    "runtime": { "namespaces": [] },
                    "events": { "registrations": [] },
                    "mesh": {},
                },
            },
        },
    })
}
