//! The example file, export, and idempotency.

use gatehouse_app::provision::{self, ProvisionFile, Settings};
use gatehouse_domain::{ids::ClientId, secret};
use gatehouse_store::{AccountStore, IntegrationStore, OrgStore, ServiceStore};
use rand::{SeedableRng, rngs::StdRng};

use super::*;
use crate::harness::db::TestDatabase;

#[tokio::test]
async fn the_example_creates_the_catalogue() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let report = apply_example(&store).await;
    assert_counts(
        &report,
        [counts(1, 0, 0), counts(2, 0, 0), counts(6, 0, 0), counts(4, 0, 0)],
    );
    // The OAuth web app, the server-to-server integration and the service account had no secret
    // in the file: one each, shown once.
    assert_eq!(report.generated_secrets.len(), 3);
    assert!(report.generated_secrets.iter().all(|s| s.secret.starts_with("ghs_")));

    let mut c = store.conn().await.unwrap();
    let services = c.list_services().await.unwrap();
    let codes: Vec<&str> = services.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "creative_sdk",
            "launch",
            "pdf_services",
            "stock_search",
            "target",
            "typekit"
        ]
    );
    let sa = c
        .integration_by_client_id(&ClientId::parse("e053e1a87cf74c68a6ec8e71d4a82662").unwrap())
        .await
        .unwrap()
        .expect("the service account keeps its given client ID");
    assert!(
        sa.technical_account_id
            .as_deref()
            .unwrap()
            .ends_with("@techacct.gatehouse")
    );
    assert_eq!(c.certificates_of(&sa.id).await.unwrap().len(), 1);
    let subs: Vec<String> = c
        .subscriptions_of(&sa.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.service_code.to_string())
        .collect();
    assert_eq!(subs, ["launch", "pdf_services", "stock_search", "target"]);
    // The generated secret is stored only as its digest.
    let generated = report
        .generated_secrets
        .iter()
        .find(|s| s.client_id == sa.client_id.as_str())
        .unwrap();
    let stored = c.secrets_of(&sa.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].digest, secret::digest(&generated.secret));
    assert_ne!(stored[0].digest, generated.secret);

    let orgs = c.list_orgs().await.unwrap();
    assert_eq!(orgs.len(), 1);
    let admin = c
        .account_by_email(&gatehouse_domain::account::Email::parse("admin@acme.example").unwrap())
        .await
        .unwrap()
        .unwrap();
    let m = c.membership(&orgs[0].id, &admin.id).await.unwrap().unwrap();
    assert_eq!(m.role.as_str(), "admin");
    assert!(gatehouse_domain::password::verify(
        "correct horse battery staple",
        admin.password_hash.as_deref().unwrap()
    ));
}

#[tokio::test]
async fn applying_twice_changes_nothing() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let first = apply_example(&store).await;
    assert!(first.writes > 0);
    let audits = audit_count(&store).await;
    assert_eq!(audits, first.writes, "one audit entry per write");
    let generation = store.catalog_generation().await.unwrap();

    let second = apply_example(&store).await;
    assert_counts(
        &second,
        [counts(0, 0, 1), counts(0, 0, 2), counts(0, 0, 6), counts(0, 0, 4)],
    );
    assert!(second.is_unchanged());
    assert!(second.generated_secrets.is_empty(), "no new secrets");
    assert_eq!(audit_count(&store).await, audits, "no new audit entries");
    assert_eq!(
        store.catalog_generation().await.unwrap(),
        generation,
        "nothing committed"
    );
}

#[tokio::test]
async fn export_then_apply_changes_nothing_and_exports_identically() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_example(&store).await;
    let e1 = provision::export(&store).await.unwrap();
    assert!(e1.contains("client_secret_sha256 = \""));
    assert!(e1.contains("-----BEGIN CERTIFICATE-----"));
    assert!(e1.contains("password_hash = \"$argon2id$"));
    assert!(!e1.contains("ghs_"), "no plaintext secret in an export");
    assert!(!e1.contains("correct horse"), "no plaintext password in an export");

    let audits = audit_count(&store).await;
    let exported = ProvisionFile::parse("e1.toml", &e1, &fixtures()).unwrap();
    let again = apply_file(&store, &exported).await.unwrap();
    assert!(again.is_unchanged(), "{:?}", again.plan_lines());
    assert_eq!(audit_count(&store).await, audits);

    let e2 = provision::export(&store).await.unwrap();
    assert_eq!(e1, e2);
}

#[tokio::test]
async fn an_export_recreates_the_same_state_in_an_empty_database() {
    let source = TestDatabase::fresh().await;
    let source_store = source.store().await;
    apply_example(&source_store).await;
    let e1 = provision::export(&source_store).await.unwrap();

    let target = TestDatabase::fresh().await;
    let target_store = target.store().await;
    let file = ProvisionFile::parse("e1.toml", &e1, &fixtures()).unwrap();
    let report = apply_file(&target_store, &file).await.unwrap();
    assert!(
        report.generated_secrets.is_empty(),
        "digests are carried over, not regenerated"
    );
    assert_eq!(provision::export(&target_store).await.unwrap(), e1);
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let file = ProvisionFile::load(&example()).unwrap();
    let settings = Settings {
        dry_run: true,
        ..settings()
    };
    let report = provision::apply(&store, &file, now(), &mut StdRng::from_entropy(), &settings)
        .await
        .unwrap();
    assert!(report.dry_run);
    assert_eq!(report.counts(Kind::Integration).created, 4);
    assert!(
        report
            .plan_lines()
            .iter()
            .any(|l| l.starts_with("+ integration Acme marketing automation"))
    );
    assert!(report.generated_secrets.is_empty(), "a dry run shows no secret");
    assert_eq!(audit_count(&store).await, 0);
    assert!(store.conn().await.unwrap().list_orgs().await.unwrap().is_empty());
}

#[tokio::test]
async fn given_client_id_secret_and_technical_account_are_honoured() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let text = r#"
        [[organizations]]
        id = "aaaaaaaaaaaaaaaaaaaaaaaa@GatehouseOrg"
        name = "Given"

        [[integrations]]
        name = "Given credentials"
        type = "service_account"
        organization = "aaaaaaaaaaaaaaaaaaaaaaaa@GatehouseOrg"
        client_id = "0123456789abcdef0123456789abcdef"
        client_secret = "p8e-a-known-secret-for-ci-only"
        technical_account_id = "bbbbbbbbbbbbbbbbbbbbbbbb@techacct.gatehouse"
        technical_account_email = "ci-bot@techacct.gatehouse"
        certificates = ["certs/rsa2048.crt"]
    "#;
    let report = apply_text(&store, text).await.unwrap();
    assert!(report.generated_secrets.is_empty(), "the given secret is used");
    let mut c = store.conn().await.unwrap();
    let i = c
        .integration_by_client_id(&ClientId::parse("0123456789abcdef0123456789abcdef").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        i.technical_account_id.as_deref(),
        Some("bbbbbbbbbbbbbbbbbbbbbbbb@techacct.gatehouse")
    );
    assert_eq!(i.technical_account_email.as_deref(), Some("ci-bot@techacct.gatehouse"));
    let secrets = c.secrets_of(&i.id).await.unwrap();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].digest, secret::digest("p8e-a-known-secret-for-ci-only"));
    assert!(secrets[0].revoked_at.is_none());
    let export = provision::export(&store).await.unwrap();
    assert!(!export.contains("p8e-a-known-secret"), "plaintext never exported");
    assert!(export.contains(&secret::digest("p8e-a-known-secret-for-ci-only")));

    // The same file again: the secret already verifies, nothing changes.
    let again = apply_text(&store, text).await.unwrap();
    assert!(again.is_unchanged(), "{:?}", again.plan_lines());
}

#[tokio::test]
async fn an_organization_without_id_is_matched_by_name() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let text = r#"
        [[organizations]]
        name = "Nameless Inc"

        [[accounts]]
        email = "someone@nameless.test"
        type = "enterprise"
        organization = "Nameless Inc"
        role = "member"
    "#;
    apply_text(&store, text).await.unwrap();
    let again = apply_text(&store, text).await.unwrap();
    assert!(again.is_unchanged());
    let orgs = store.conn().await.unwrap().list_orgs().await.unwrap();
    assert_eq!(orgs.len(), 1, "no duplicate organization");
    assert!(orgs[0].id.as_str().ends_with("@GatehouseOrg"));
}

#[tokio::test]
async fn a_file_written_before_server_to_server_keeps_working_and_its_services_take_the_new_kind() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    // A service for service accounts only, as files said before OAuth Server-to-Server existed.
    let text = r#"
        [[organizations]]
        id = "aaaaaaaaaaaaaaaaaaaaaaaa@GatehouseOrg"
        name = "Given"

        [[services]]
        code = "reports"
        name = "Reports"
        allowed_types = ["service_account"]
        scopes = ["reports.read"]

        [[integrations]]
        name = "JWT robot"
        type = "service_account"
        organization = "Given"
        client_secret = "p8e-a-known-secret-for-ci-only"
        subscriptions = [{ service = "reports" }]
    "#;
    apply_text(&store, text).await.unwrap();
    let mut c = store.conn().await.unwrap();
    let reports = c
        .service_by_code(&gatehouse_domain::service::ServiceCode::parse("reports").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reports.allowed_types,
        [
            gatehouse_domain::integration::IntegrationType::ServerToServer,
            gatehouse_domain::integration::IntegrationType::ServiceAccount
        ]
    );
    assert_eq!(reports.acts_for.as_str(), "organization");
    // Applying it again changes nothing; its replacement subscribes to the same service.
    assert!(apply_text(&store, text).await.unwrap().is_unchanged());
    let with_replacement = format!(
        "{text}
        [[integrations]]
        name = \"OAuth robot\"
        type = \"server_to_server\"
        organization = \"Given\"
        client_id = \"0123456789abcdef0123456789abcdef\"
        subscriptions = [{{ service = \"reports\" }}]
        "
    );
    let report = apply_text(&store, &with_replacement).await.unwrap();
    assert_eq!(report.generated_secrets.len(), 1);
    let s2s = c
        .integration_by_client_id(&ClientId::parse("0123456789abcdef0123456789abcdef").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(s2s.technical_account_id.is_some() && s2s.technical_account_email.is_some());
    let exported = provision::export(&store).await.unwrap();
    assert!(exported.contains("type = \"server_to_server\""), "{exported}");
    assert!(
        exported.contains("allowed_types = [\"server_to_server\", \"service_account\"]"),
        "{exported}"
    );
    let again = ProvisionFile::parse("e.toml", &exported, &fixtures()).unwrap();
    assert!(apply_file(&store, &again).await.unwrap().is_unchanged());
}

#[tokio::test]
async fn an_export_leaves_out_expired_secrets() {
    use gatehouse_domain::{
        audit::{Actor, AuditEntry},
        integration::StoredSecret,
    };
    use gatehouse_store::AuditStore;
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let text = r#"
        [[organizations]]
        id = "aaaaaaaaaaaaaaaaaaaaaaaa@GatehouseOrg"
        name = "Given"

        [[integrations]]
        name = "Backend"
        type = "server_to_server"
        organization = "Given"
        client_id = "0123456789abcdef0123456789abcdef"
        client_secret = "p8e-a-known-secret-for-ci-only"
    "#;
    apply_text(&store, text).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let i = tx
        .integration_by_client_id(&ClientId::parse("0123456789abcdef0123456789abcdef").unwrap())
        .await
        .unwrap()
        .unwrap();
    let expired = "ghs_an-expired-secret-of-this-backend";
    tx.insert_secret(&StoredSecret {
        id: uuid::Uuid::new_v4().to_string(),
        integration_id: i.id.clone(),
        digest: secret::digest(expired),
        hint: secret::hint(expired),
        created_at: now() - 100,
        revoked_at: None,
        expires_at: Some(now() - 10),
        last_used_at: None,
    })
    .await
    .unwrap();
    tx.append_audit(&AuditEntry::new(now(), &Actor::System, "test.secret", "test"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let exported = provision::export(&store).await.unwrap();
    assert!(
        exported.contains(&secret::digest("p8e-a-known-secret-for-ci-only")),
        "{exported}"
    );
    assert!(!exported.contains(&secret::digest(expired)), "{exported}");
}
