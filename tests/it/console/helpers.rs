//! A small world for the console tests: an organization with an admin, a developer and a
//! member, an outsider, the seed's services, signed-in clients, and API calls that carry the
//! CSRF header.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    account::Account,
    audit::{Actor, AuditEntry},
    ids::OrgId,
    integration::IntegrationType,
    org::{Membership, Organization, Role},
    service::{ActsFor, Service, ServiceCode},
};
use gatehouse_store::{AccountStore, AuditStore, OrgStore, ServiceStore};
use serde_json::Value;

pub use crate::identity::helpers::{csrf, post};
use crate::{
    harness::server::{TestClient, TestServer},
    identity::helpers,
};

pub struct Person {
    pub client: TestClient,
    pub account: Account,
}

pub struct World {
    pub server: TestServer,
    pub org_id: String,
    pub admin: Person,
    pub dev: Person,
    pub member: Person,
    pub outsider: Person,
}

fn service(code: &str, name: &str, types: &[IntegrationType], scopes: &[&str], acts_for: ActsFor, now: i64) -> Service {
    Service {
        code: ServiceCode::parse(code).unwrap(),
        name: name.into(),
        description: format!("{name} for tests."),
        allowed_types: types.to_vec(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        acts_for,
        upstream_url: None,
        gateway: Default::default(),
        created_at: now,
        updated_at: now,
    }
}

/// The seed's rules as data: user-based (OAuth only), organization-based (OAuth Server-to-Server
/// and Service Account, as migration 0016 leaves them), Stock Search (all four); plus a service
/// granting the console API scope to technical accounts.
pub fn seed_services(now: i64) -> Vec<Service> {
    use IntegrationType::*;
    vec![
        service(
            "creative_sdk",
            "Creative SDK",
            &[Oauth],
            &["creative_sdk", "cc_files"],
            ActsFor::User,
            now,
        ),
        service(
            "pdf_services",
            "PDF Services",
            &[ServerToServer, ServiceAccount],
            &["ent_documentcloud_sdk"],
            ActsFor::Organization,
            now,
        ),
        service(
            "stock_search",
            "Stock Search",
            &[Oauth, ServerToServer, ServiceAccount, ApiKey],
            &["stock_search"],
            ActsFor::User,
            now,
        ),
        service(
            "gatehouse_management",
            "Gatehouse Management",
            &[ServerToServer, ServiceAccount],
            &["gatehouse.console", "read_organizations"],
            ActsFor::Organization,
            now,
        ),
    ]
}

async fn person(server: &TestServer, email: &str) -> Person {
    let (client, account) = helpers::signed_in(server, email).await;
    Person { client, account }
}

/// A server with the world in it.
pub async fn world() -> World {
    world_on(TestServer::start().await).await
}

pub async fn world_on(server: TestServer) -> World {
    let now = server.state().now();
    let admin = person(&server, "admin@acme.test").await;
    let dev = person(&server, "dev@acme.test").await;
    let member = person(&server, "member@acme.test").await;
    let outsider = person(&server, "outsider@other.test").await;
    let org = Organization {
        id: OrgId::parse("0123456789abcdef01234567@GatehouseOrg").unwrap(),
        name: "Acme".into(),
        require_mfa: false,
        created_at: now,
        updated_at: now,
    };
    let mut tx = server.store().begin().await.unwrap();
    tx.insert_org(&org).await.unwrap();
    for (p, role) in [(&admin, Role::Admin), (&dev, Role::Developer), (&member, Role::Member)] {
        tx.upsert_membership(&Membership {
            org_id: org.id.clone(),
            account_id: p.account.id.clone(),
            role,
            created_at: now,
        })
        .await
        .unwrap();
    }
    for s in seed_services(now) {
        tx.upsert_service(&s).await.unwrap();
    }
    tx.append_audit(&AuditEntry::new(now, &Actor::System, "test.world", "test"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    World {
        server,
        org_id: org.id.to_string(),
        admin,
        dev,
        member,
        outsider,
    }
}

/// Makes the account a Gatehouse operator.
pub async fn make_operator(server: &TestServer, account: &Account) {
    let mut a = account.clone();
    a.operator = true;
    server.store().conn().await.unwrap().update_account(&a).await.unwrap();
}

/// A JSON API call with the CSRF header; returns the body (Null when empty).
pub async fn api(c: &TestClient, method: Method, path: &str, body: Option<Value>, expected: StatusCode) -> Value {
    let token = csrf(c).await;
    let mut req = c.request(method, path).header("x-csrf-token", token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = c.send(req, expected).await;
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json_value()
    }
}

/// Every audit action recorded for an integration, oldest first.
pub async fn audit_actions(server: &TestServer, integration_id: &str) -> Vec<String> {
    let mut all = server
        .store()
        .conn()
        .await
        .unwrap()
        .recent_audit(None, 1000)
        .await
        .unwrap();
    all.reverse();
    all.into_iter()
        .filter(|r| r.entry.target == format!("integration:{integration_id}"))
        .map(|r| r.entry.action)
        .collect()
}

/// A PEM certificate from the provisioning fixtures.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/provision/certs")
            .join(name),
    )
    .unwrap()
}
