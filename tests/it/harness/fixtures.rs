//! One builder for the integrations tests provision behind the API's back: the integration, its
//! client secret and certificate, its owner organization, the services it subscribes to, written in
//! one transaction with an audit entry, as every real write is.
//!
//! ```ignore
//! let app = Fixtures::new(server.store())
//!     .at(server.state().now())
//!     .oauth(Platform::Web, "Example App")
//!     .org(&org_id)
//!     .secret()
//!     .subscribe("pdf_services", &["pdf_read"])
//!     .insert()
//!     .await;
//! ```
//!
//! The store conformance tests (`store::`) call the store's insert methods themselves: that is what
//! they test.

// Test code: a failed expectation should stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_domain::{
    Timestamp,
    audit::{Actor, AuditEntry},
    ids::ClientId,
    integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform, StoredCertificate, StoredSecret},
    org::Organization,
    secret,
    service::{Service, ServiceCode, Subscription},
};
use gatehouse_store::{AuditStore, IntegrationStore, OrgStore, ServiceStore, Store};

/// Starts a provisioning: pick the kind of integration (or a given one) to get a [`Provision`].
pub struct Fixtures<'s> {
    store: &'s Store,
    now: Timestamp,
}

/// What a provisioned integration's client holds.
#[derive(Clone, Debug)]
pub struct Provisioned {
    pub integration: Integration,
    /// `integration.client_id` as a string, as clients send it.
    pub client_id: String,
    /// The plain client secret, when one was stored.
    pub secret: Option<String>,
}

impl Provisioned {
    /// The plain client secret; panics when the fixture stored none.
    pub fn secret(&self) -> &str {
        self.secret.as_deref().expect("the fixture has a client secret")
    }
}

fn hex32() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl<'s> Fixtures<'s> {
    /// Provisioning into `store`, with rows dated by the wall clock (see [`Fixtures::at`]).
    pub fn new(store: &'s Store) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_secs();
        Self {
            store,
            now: Timestamp::try_from(now).expect("a timestamp in range"),
        }
    }

    /// Dates every row at `now` (a server's `state().now()`, so that its clock agrees).
    pub fn at(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    fn build(self, name: &str, integration_type: IntegrationType, platform: Option<Platform>) -> Provision<'s> {
        let integration = Integration {
            id: uuid::Uuid::new_v4().to_string(),
            client_id: ClientId::parse(&hex32()).expect("32 hex digits are a client ID"),
            name: name.into(),
            description: String::new(),
            integration_type,
            platform,
            owner: Owner::Organization(String::new()),
            created_by: None,
            redirect_uri: None,
            redirect_patterns: Vec::new(),
            technical_account_id: None,
            technical_account_email: None,
            id_token_signed_response_alg: None,
            may_introspect: false,
            allowed_domains: Vec::new(),
            workspace_id: uuid::Uuid::new_v4().to_string(),
            status: IntegrationStatus::Active,
            created_at: self.now,
            updated_at: self.now,
        };
        Provision::of(self, integration, true)
    }

    /// An OAuth integration of `platform`.
    pub fn oauth(self, platform: Platform, name: &str) -> Provision<'s> {
        self.build(name, IntegrationType::Oauth, Some(platform))
    }

    /// A service account integration, with its technical account.
    pub fn service_account(self, name: &str) -> Provision<'s> {
        let mut p = self.build(name, IntegrationType::ServiceAccount, None);
        p.integration.technical_account_id = Some(format!("{}@techacct.gatehouse", &hex32()[..24]));
        p.integration.technical_account_email = Some(format!("{}@techacct.gatehouse", uuid::Uuid::new_v4()));
        p
    }

    /// An OAuth Server-to-Server integration, with its technical account (it authenticates with
    /// a client secret: add one with [`Provision::secret`]).
    pub fn server_to_server(self, name: &str) -> Provision<'s> {
        let mut p = self.build(name, IntegrationType::ServerToServer, None);
        p.integration.technical_account_id = Some(format!("{}@techacct.gatehouse", &hex32()[..24]));
        p.integration.technical_account_email = Some(format!("{}@techacct.gatehouse", uuid::Uuid::new_v4()));
        p
    }

    /// `integration` exactly as given (its owner must exist).
    pub fn integration(self, integration: Integration) -> Provision<'s> {
        Provision::of(self, integration, true)
    }

    /// An integration already stored: only what is added to it (secrets, services, subscriptions)
    /// is written.
    pub fn existing(self, integration: &Integration) -> Provision<'s> {
        Provision::of(self, integration.clone(), false)
    }
}

/// An integration being provisioned: set what it needs, then [`Provision::insert`].
#[must_use = "nothing is stored until insert().await"]
pub struct Provision<'s> {
    store: &'s Store,
    now: Timestamp,
    integration: Integration,
    insert_integration: bool,
    new_org: Option<Organization>,
    services: Vec<Service>,
    secret: Option<String>,
    secret_expires_at: Option<Timestamp>,
    certificates: Vec<StoredCertificate>,
    subscriptions: Vec<(ServiceCode, Vec<String>)>,
}

impl<'s> Provision<'s> {
    fn of(f: Fixtures<'s>, integration: Integration, insert_integration: bool) -> Self {
        Self {
            store: f.store,
            now: f.now,
            integration,
            insert_integration,
            new_org: None,
            services: Vec::new(),
            secret: None,
            secret_expires_at: None,
            certificates: Vec::new(),
            subscriptions: Vec::new(),
        }
    }

    /// Owned by the organization `org_id`, which exists.
    pub fn org(mut self, org_id: impl ToString) -> Self {
        self.integration.owner = Owner::Organization(org_id.to_string());
        self
    }

    /// Owned by `org`, which is stored in the same transaction.
    pub fn new_org(mut self, org: &Organization) -> Self {
        self.integration.owner = Owner::Organization(org.id.to_string());
        self.new_org = Some(org.clone());
        self
    }

    /// The default redirect URI and the redirect patterns (regular expressions).
    pub fn redirect(mut self, uri: &str, patterns: &[&str]) -> Self {
        self.integration.redirect_uri = Some(uri.into());
        self.integration.redirect_patterns = patterns.iter().map(|p| (*p).to_owned()).collect();
        self
    }

    /// A new random client secret, returned in [`Provisioned::secret`].
    pub fn secret(self) -> Self {
        let value = secret::new_client_secret(&mut rand::thread_rng());
        self.secret_value(&value)
    }

    /// The client secret `value` (its digest and hint are stored).
    pub fn secret_value(mut self, value: &str) -> Self {
        self.secret = Some(value.into());
        self
    }

    /// The client secret expires at `at` (it authenticates until then).
    pub fn secret_expires_at(mut self, at: Timestamp) -> Self {
        self.secret_expires_at = Some(at);
        self
    }

    /// A certificate for assertions (private_key_jwt, JWT bearer).
    pub fn certificate(mut self, fingerprint: &str, pem: &str, not_before: Timestamp, not_after: Timestamp) -> Self {
        self.certificates.push(StoredCertificate {
            id: uuid::Uuid::new_v4().to_string(),
            integration_id: self.integration.id.clone(),
            fingerprint: fingerprint.into(),
            pem: pem.into(),
            not_before,
            not_after,
            created_at: self.now,
            revoked_at: None,
        });
        self
    }

    /// Stores (or updates) `service` before the subscriptions.
    pub fn service(mut self, service: &Service) -> Self {
        self.services.push(service.clone());
        self
    }

    /// A subscription to the service `code` (stored, or added with [`Provision::service`]) with
    /// `scopes`.
    pub fn subscribe(mut self, code: &str, scopes: &[impl AsRef<str>]) -> Self {
        let code = ServiceCode::parse(code).expect("a valid service code");
        let scopes = scopes.iter().map(|s| s.as_ref().to_owned()).collect();
        self.subscriptions.push((code, scopes));
        self
    }

    /// Writes everything in one transaction, with an audit entry, and commits.
    pub async fn insert(self) -> Provisioned {
        let Self {
            store,
            now,
            integration,
            insert_integration,
            new_org,
            services,
            secret: secret_value,
            secret_expires_at,
            certificates,
            subscriptions,
        } = self;
        let mut tx = store.begin().await.expect("begin a transaction");
        if let Some(org) = &new_org {
            tx.insert_org(org).await.expect("insert the organization");
        }
        for service in &services {
            tx.upsert_service(service).await.expect("store the service");
        }
        if insert_integration {
            crate::store::fixtures::insert_integration(&mut tx, &integration)
                .await
                .expect("insert the integration");
        }
        if let Some(value) = &secret_value {
            tx.insert_secret(&StoredSecret {
                id: uuid::Uuid::new_v4().to_string(),
                integration_id: integration.id.clone(),
                digest: secret::digest(value),
                hint: secret::hint(value),
                created_at: now,
                revoked_at: None,
                expires_at: secret_expires_at,
                last_used_at: None,
            })
            .await
            .expect("insert the client secret");
        }
        for cert in &certificates {
            tx.insert_certificate(cert).await.expect("insert the certificate");
        }
        for (service_code, scopes) in subscriptions {
            tx.upsert_subscription(&Subscription {
                integration_id: integration.id.clone(),
                service_code,
                scopes,
                limits: Default::default(),
                created_at: now,
                updated_at: now,
            })
            .await
            .expect("store the subscription");
        }
        tx.append_audit(&AuditEntry::new(now, &Actor::System, "test.provision", "test"))
            .await
            .expect("append the audit entry");
        tx.commit().await.expect("commit the fixtures");
        Provisioned {
            client_id: integration.client_id.to_string(),
            integration,
            secret: secret_value,
        }
    }
}
