//! The token service over HTTP, driven through the real server: the standard surface (`/oauth`)
//! and the Adobe-compatible one (`/ims`), client grants and user grants (with a real sign-in
//! through the hosted pages), and the attacks on them. Integrations are provisioned through the
//! store.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;
pub mod flow;
mod ims;
mod ims_user;
mod interop;
mod last_used;
mod oauth;
mod security;
mod user;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use gatehouse_app::{cli::KeyAlgorithm, keys};
use gatehouse_domain::{
    Timestamp,
    ids::OrgId,
    integration::{Integration, IntegrationType},
    org::Organization,
    service::{ActsFor, Service, ServiceCode},
    token::keys::{SigningAlg, SigningKey},
};
use serde_json::Value;

use crate::harness::{fixtures::Fixtures, server::TestServer};

/// A provisioned service account with everything a client holds.
pub struct ServiceAccount {
    pub integration: Integration,
    pub client_id: String,
    pub secret: String,
    pub org_id: String,
    pub technical_account_id: String,
    /// Signs assertions with the private key of the stored certificate.
    pub key: SigningKey,
    /// The same private key as PKCS#8 PEM, for third-party clients.
    pub private_key_pem: String,
}

fn hex24() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..24].to_owned()
}

/// Creates an organization, the `pdf_services` service (metascope `ent_documentcloud_sdk`, scope
/// `pdf_read`), and a service account subscribed to it with a secret and an RSA certificate
/// (through the harness's [`Fixtures`]).
pub async fn service_account(server: &TestServer) -> ServiceAccount {
    let now = server.state().now();
    let org = Organization {
        id: OrgId::parse(&format!("{}@GatehouseOrg", hex24())).unwrap(),
        name: "Acme".into(),
        require_mfa: false,
        created_at: now,
        updated_at: now,
    };
    let service = Service {
        code: ServiceCode::parse("pdf_services").unwrap(),
        name: "PDF Services".into(),
        description: String::new(),
        allowed_types: vec![
            IntegrationType::ServiceAccount,
            IntegrationType::ServerToServer,
            IntegrationType::Oauth,
        ],
        scopes: vec!["ent_documentcloud_sdk".into(), "pdf_read".into()],
        acts_for: ActsFor::Organization,
        upstream_url: None,
        gateway: Default::default(),
        created_at: now,
        updated_at: now,
    };
    let generated = keys::generate(
        KeyAlgorithm::Rsa2048,
        "nightly-export",
        365,
        time::OffsetDateTime::from_unix_timestamp(now - 60).unwrap(),
        &mut rand::thread_rng(),
    )
    .unwrap();
    let cert = &generated.certificate;
    let sa = Fixtures::new(server.store())
        .at(now)
        .service_account("Nightly export")
        .new_org(&org)
        .service(&service)
        .secret()
        .certificate(&cert.fingerprint, &cert.pem, cert.not_before, cert.not_after)
        .subscribe(service.code.as_str(), &service.scopes)
        .insert()
        .await;

    let der = pem_body(&generated.private_key_pem);
    ServiceAccount {
        secret: sa.secret().to_owned(),
        client_id: sa.client_id,
        org_id: org.id.to_string(),
        technical_account_id: sa.integration.technical_account_id.clone().unwrap(),
        key: SigningKey::load(SigningAlg::RS256, &der, "client-key").unwrap(),
        private_key_pem: generated.private_key_pem.clone(),
        integration: sa.integration,
    }
}

/// A provisioned OAuth Server-to-Server integration: a backend that gets tokens with its client ID
/// and secret (`client_credentials`).
#[derive(Clone)]
pub struct ServerToServer {
    pub integration: Integration,
    pub client_id: String,
    pub secret: String,
    pub org_id: String,
    pub technical_account_id: String,
}

/// Creates an organization, the `pdf_services` service (as [`service_account`] does) and an OAuth
/// Server-to-Server integration subscribed to it, with a client secret.
pub async fn server_to_server(server: &TestServer) -> ServerToServer {
    let sa = service_account(server).await;
    server_to_server_beside(server, &sa).await
}

/// An OAuth Server-to-Server integration in the organization of `sa`, subscribed to the same
/// services with the same scopes, with a client secret: the replacement of a JWT credential.
pub async fn server_to_server_beside(server: &TestServer, sa: &ServiceAccount) -> ServerToServer {
    use gatehouse_store::IntegrationStore;
    let subscriptions = server
        .store()
        .conn()
        .await
        .unwrap()
        .subscriptions_of(&sa.integration.id)
        .await
        .unwrap();
    let mut p = Fixtures::new(server.store())
        .at(server.state().now())
        .server_to_server("Nightly export (OAuth)")
        .org(&sa.org_id)
        .secret();
    for s in &subscriptions {
        p = p.subscribe(s.service_code.as_str(), &s.scopes);
    }
    let s2s = p.insert().await;
    ServerToServer {
        secret: s2s.secret().to_owned(),
        client_id: s2s.client_id,
        org_id: sa.org_id.clone(),
        technical_account_id: s2s.integration.technical_account_id.clone().unwrap(),
        integration: s2s.integration,
    }
}

fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap()
}

/// A JWT signed by the service account's private key (RS256, `typ: JWT`).
pub fn assertion(sa: &ServiceAccount, claims: &Value) -> String {
    sa.key.sign("JWT", claims).unwrap()
}

/// The decoded header and payload of a JWT (not verified).
pub fn decode(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut next = || serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    (next(), next())
}

pub fn now(server: &TestServer) -> Timestamp {
    server.state().now()
}

/// A multipart/form-data body; `spaced` picks `; boundary=` (jwt-auth) or `;boundary=` (aio-lib-ims).
pub fn multipart(fields: &[(&str, &str)], spaced: bool) -> (String, Vec<u8>) {
    let boundary = "----gatehouse-test-boundary-7d9a";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let content_type = if spaced {
        format!("multipart/form-data; boundary={boundary}")
    } else {
        format!("multipart/form-data;boundary={boundary}")
    };
    (content_type, body.into_bytes())
}
