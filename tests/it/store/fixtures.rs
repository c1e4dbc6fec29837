//! Builders for domain values and small helpers shared by the conformance tests.

use gatehouse_domain::{
    Timestamp,
    account::{Account, AccountType, Email},
    audit::{Actor, AuditEntry},
    ids::{ClientId, OrgId},
    integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform, StoredCertificate, StoredSecret},
    org::{Membership, Organization, Role},
    service::{ActsFor, Service, ServiceCode, Subscription},
};
use gatehouse_store::{AuditStore, Conn, Store, Tx};

use crate::harness::db::TestDatabase;

/// An instant well inside the range every backend stores exactly.
pub const T0: Timestamp = 1_700_000_000;

/// A fresh, migrated database. Keep the `TestDatabase` alive for as long as the store is used.
pub async fn fresh() -> (TestDatabase, Store) {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    (db, store)
}

pub async fn conn(store: &Store) -> Conn {
    store.conn().await.unwrap()
}

pub async fn begin(store: &Store) -> Tx {
    store.begin().await.unwrap()
}

/// Records an audit entry describing the test's change and commits, as every real write does.
pub async fn commit(mut tx: Tx) {
    tx.append_audit(&audit_entry("test.change")).await.unwrap();
    tx.commit().await.unwrap();
}

pub fn audit_entry(action: &str) -> AuditEntry {
    AuditEntry::new(T0, &Actor::System, action, "test:target")
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn account(email: &str) -> Account {
    Account {
        id: new_id(),
        email: Email::parse(email).unwrap(),
        account_type: AccountType::Personal,
        display_name: "Ada Lovelace".into(),
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        country: "GB".into(),
        email_verified: false,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        operator: false,
        disabled: false,
        owner_org_id: None,
        created_at: T0,
        updated_at: T0,
    }
}

pub fn org_id() -> OrgId {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    OrgId::parse(&format!("{}@GatehouseOrg", &hex[..24])).unwrap()
}

pub fn org(name: &str) -> Organization {
    Organization {
        id: org_id(),
        name: name.into(),
        require_mfa: false,
        created_at: T0,
        updated_at: T0,
    }
}

pub fn membership(org: &Organization, account: &Account, role: Role) -> Membership {
    Membership {
        org_id: org.id.clone(),
        account_id: account.id.clone(),
        role,
        created_at: T0,
    }
}

pub fn code(s: &str) -> ServiceCode {
    ServiceCode::parse(s).unwrap()
}

pub fn service(code_: &str, allowed: &[IntegrationType]) -> Service {
    Service {
        code: code(code_),
        name: format!("Service {code_}"),
        description: "An API integrations subscribe to".into(),
        allowed_types: allowed.to_vec(),
        scopes: vec!["openid".into(), "read".into()],
        acts_for: ActsFor::User,
        upstream_url: None,
        gateway: Default::default(),
        created_at: T0,
        updated_at: T0,
    }
}

pub fn client_id() -> ClientId {
    ClientId::parse(&uuid::Uuid::new_v4().simple().to_string()).unwrap()
}

/// A confidential OAuth integration owned by an account.
pub fn oauth_integration(owner: &Account) -> Integration {
    Integration {
        id: new_id(),
        client_id: client_id(),
        name: "Photo editor".into(),
        description: "Edits photos for a signed-in user".into(),
        integration_type: IntegrationType::Oauth,
        platform: Some(Platform::Web),
        owner: Owner::Account(owner.id.clone()),
        created_by: Some(owner.id.clone()),
        redirect_uri: Some("https://app.example.com/callback".into()),
        redirect_patterns: vec![
            r"https://app\.example\.com/.*".into(),
            r"https://staging\.example\.com/cb".into(),
        ],
        technical_account_id: None,
        technical_account_email: None,
        id_token_signed_response_alg: None,
        may_introspect: false,
        allowed_domains: Vec::new(),
        workspace_id: new_id(),
        status: IntegrationStatus::Active,
        created_at: T0,
        updated_at: T0,
    }
}

/// A service account integration owned by an organization, with its technical account.
pub fn service_account_integration(org: &Organization, created_by: Option<&Account>) -> Integration {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    Integration {
        id: new_id(),
        client_id: client_id(),
        name: "Nightly export".into(),
        description: String::new(),
        integration_type: IntegrationType::ServiceAccount,
        platform: None,
        owner: Owner::Organization(org.id.to_string()),
        created_by: created_by.map(|a| a.id.clone()),
        redirect_uri: None,
        redirect_patterns: Vec::new(),
        technical_account_id: Some(format!("{}@techacct.gatehouse", &hex[..24])),
        technical_account_email: Some(format!("{}@techacct.gatehouse", new_id())),
        id_token_signed_response_alg: None,
        may_introspect: false,
        allowed_domains: Vec::new(),
        workspace_id: new_id(),
        status: IntegrationStatus::Active,
        created_at: T0,
        updated_at: T0,
    }
}

pub fn api_key_integration(owner: &Account) -> Integration {
    Integration {
        id: new_id(),
        client_id: client_id(),
        name: "Stock search widget".into(),
        description: String::new(),
        integration_type: IntegrationType::ApiKey,
        platform: None,
        owner: Owner::Account(owner.id.clone()),
        created_by: Some(owner.id.clone()),
        redirect_uri: None,
        redirect_patterns: Vec::new(),
        technical_account_id: None,
        technical_account_email: None,
        id_token_signed_response_alg: None,
        may_introspect: false,
        allowed_domains: Vec::new(),
        workspace_id: new_id(),
        status: IntegrationStatus::Active,
        created_at: T0,
        updated_at: T0,
    }
}

pub fn secret(integration: &Integration, created_at: Timestamp) -> StoredSecret {
    let id = new_id();
    StoredSecret {
        digest: format!("{:0>64}", id.replace('-', "")),
        hint: id[..4].to_owned(),
        id,
        integration_id: integration.id.clone(),
        created_at,
        revoked_at: None,
        expires_at: None,
        last_used_at: None,
    }
}

pub fn certificate(integration: &Integration, fingerprint: &str, created_at: Timestamp) -> StoredCertificate {
    StoredCertificate {
        id: new_id(),
        integration_id: integration.id.clone(),
        fingerprint: fingerprint.into(),
        pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
        not_before: created_at,
        not_after: created_at + 365 * 86_400,
        created_at,
        revoked_at: None,
    }
}

pub fn subscription(integration: &Integration, service: &Service, scopes: &[&str]) -> Subscription {
    Subscription {
        integration_id: integration.id.clone(),
        service_code: service.code.clone(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        limits: Default::default(),
        created_at: T0,
        updated_at: T0,
    }
}

/// Runs SQL behind the store's back, to plant rows no Gatehouse code path would write.
pub async fn exec_raw(store: &Store, sql: &str) -> u64 {
    let mut c = conn(store).await;
    match gatehouse_store::AsDb::db(&mut c) {
        gatehouse_store::Db::Sqlite(c) => sqlx::query(sql).execute(c).await.unwrap().rows_affected(),
        gatehouse_store::Db::Postgres(c) => sqlx::query(sql).execute(c).await.unwrap().rows_affected(),
    }
}

/// Stores `i` with a project of its own (ID `i.id`, owned like it) and the workspace `i.workspace_id`
/// in that project, as an integration created without naming a workspace gets. A workspace that
/// exists already (the integration is stored again after being deleted) is kept.
pub async fn insert_integration(tx: &mut Tx, i: &Integration) -> Result<(), gatehouse_store::StoreError> {
    use gatehouse_store::{IntegrationStore, ProjectStore};
    if tx.workspace_by_id(&i.workspace_id).await?.is_some() {
        return tx.insert_integration(i).await;
    }
    let project = gatehouse_domain::project::Project {
        id: i.id.clone(),
        name: format!("p{}", i.id.replace('-', "")),
        title: i.name.clone(),
        description: String::new(),
        owner: i.owner.clone(),
        created_by: i.created_by.clone(),
        created_at: i.created_at,
        updated_at: i.created_at,
    };
    tx.insert_project(&project).await?;
    tx.insert_workspace(&gatehouse_domain::project::Workspace {
        id: i.workspace_id.clone(),
        project_id: project.id.clone(),
        name: gatehouse_domain::project::PRODUCTION.into(),
        title: gatehouse_domain::project::PRODUCTION.into(),
        description: String::new(),
        created_at: i.created_at,
        updated_at: i.created_at,
    })
    .await?;
    tx.insert_integration(i).await
}
