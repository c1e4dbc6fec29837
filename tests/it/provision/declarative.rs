//! Updates: changed values, and lists (memberships, secrets, certificates, subscriptions) that
//! replace what is stored.

use gatehouse_domain::{account::Email, ids::ClientId, secret};
use gatehouse_store::{AccountStore, IntegrationStore, OrgStore};

use super::*;
use crate::harness::db::TestDatabase;

const BASE: &str = r#"
[[organizations]]
id = "0123456789abcdef01234567@GatehouseOrg"
name = "Acme"

[[organizations]]
id = "fedcba9876543210fedcba98@GatehouseOrg"
name = "Beta"

[[accounts]]
email = "dev@acme.test"
password = "the first password"
type = "enterprise"
memberships = [
  { organization = "Acme", role = "developer" },
  { organization = "Beta", role = "member" },
]

[[services]]
code = "stock_search"
name = "Stock Search"
allowed_types = ["oauth", "service_account", "api_key"]
scopes = ["ent_stocksearch_sdk", "extra"]

[[services]]
code = "pdf_services"
name = "PDF Services"
allowed_types = ["service_account"]
scopes = ["ent_documentcloud_sdk"]

[[integrations]]
name = "Backend"
type = "service_account"
organization = "Acme"
client_id = "cccccccccccccccccccccccccccccccc"
client_secret = "first-secret-0123456789"
certificates = ["certs/rsa2048.crt"]
subscriptions = [
  { service = "pdf_services" },
  { service = "stock_search", scopes = ["ent_stocksearch_sdk"] },
]
"#;

async fn integration(store: &Store) -> gatehouse_domain::integration::Integration {
    store
        .conn()
        .await
        .unwrap()
        .integration_by_client_id(&ClientId::parse("cccccccccccccccccccccccccccccccc").unwrap())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn subscriptions_listed_replace_the_stored_set() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, BASE).await.unwrap();
    let changed = BASE.replace(
        "  { service = \"pdf_services\" },\n  { service = \"stock_search\", scopes = [\"ent_stocksearch_sdk\"] },",
        "  { service = \"stock_search\", scopes = [\"ent_stocksearch_sdk\", \"extra\"] },",
    );
    let report = apply_text(&store, &changed).await.unwrap();
    assert_eq!(
        report.counts(Kind::Integration),
        counts(0, 1, 0),
        "{:?}",
        report.plan_lines()
    );
    let i = integration(&store).await;
    let subs = store.conn().await.unwrap().subscriptions_of(&i.id).await.unwrap();
    assert_eq!(subs.len(), 1, "pdf_services was removed");
    assert_eq!(subs[0].service_code.as_str(), "stock_search");
    assert_eq!(subs[0].scopes, ["ent_stocksearch_sdk", "extra"]);

    // Leaving the key out leaves the subscriptions alone.
    let without = changed.replace(
        "subscriptions = [\n  { service = \"stock_search\", scopes = [\"ent_stocksearch_sdk\", \"extra\"] },\n]",
        "",
    );
    assert!(apply_text(&store, &without).await.unwrap().is_unchanged());
    // An empty list removes them all.
    let empty = format!("{without}subscriptions = []\n");
    apply_text(&store, &empty).await.unwrap();
    assert!(
        store
            .conn()
            .await
            .unwrap()
            .subscriptions_of(&i.id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_changed_password_is_rehashed_and_an_unchanged_one_is_left_alone() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, BASE).await.unwrap();
    let email = Email::parse("dev@acme.test").unwrap();
    let before = store
        .conn()
        .await
        .unwrap()
        .account_by_email(&email)
        .await
        .unwrap()
        .unwrap();

    let report = apply_text(&store, &BASE.replace("the first password", "the second password"))
        .await
        .unwrap();
    assert_eq!(report.counts(Kind::Account), counts(0, 1, 0));
    let after = store
        .conn()
        .await
        .unwrap()
        .account_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(before.password_hash, after.password_hash);
    assert!(gatehouse_domain::password::verify(
        "the second password",
        after.password_hash.as_deref().unwrap()
    ));
}

#[tokio::test]
async fn memberships_listed_replace_the_stored_ones() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, BASE).await.unwrap();
    let changed = BASE.replace(
        "  { organization = \"Acme\", role = \"developer\" },\n  { organization = \"Beta\", role = \"member\" },",
        "  { organization = \"Acme\", role = \"admin\" },",
    );
    let report = apply_text(&store, &changed).await.unwrap();
    assert_eq!(
        report.counts(Kind::Account),
        counts(0, 1, 0),
        "{:?}",
        report.plan_lines()
    );
    let mut c = store.conn().await.unwrap();
    let a = c
        .account_by_email(&Email::parse("dev@acme.test").unwrap())
        .await
        .unwrap()
        .unwrap();
    let ms = c.memberships_of_account(&a.id).await.unwrap();
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].role.as_str(), "admin");
    assert_eq!(ms[0].org_id.as_str(), "0123456789abcdef01234567@GatehouseOrg");
}

#[tokio::test]
async fn secrets_rotate_declaratively() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, BASE).await.unwrap();
    let i = integration(&store).await;

    // Rotation: the new secret and the old one's digest, both active.
    let old_digest = secret::digest("first-secret-0123456789");
    let both = BASE.replace(
        "client_secret = \"first-secret-0123456789\"",
        &format!("client_secret = \"second-secret-0123456789\"\nclient_secret_sha256 = \"{old_digest}\""),
    );
    apply_text(&store, &both).await.unwrap();
    let active =
        |s: &[gatehouse_domain::integration::StoredSecret]| s.iter().filter(|s| s.revoked_at.is_none()).count();
    let secrets = store.conn().await.unwrap().secrets_of(&i.id).await.unwrap();
    assert_eq!(active(&secrets), 2);

    // Then only the new one: the old one is revoked.
    let only_new = BASE.replace("first-secret-0123456789", "second-secret-0123456789");
    let report = apply_text(&store, &only_new).await.unwrap();
    assert_eq!(report.counts(Kind::Integration), counts(0, 1, 0));
    let secrets = store.conn().await.unwrap().secrets_of(&i.id).await.unwrap();
    assert_eq!(active(&secrets), 1);
    assert_eq!(secrets.len(), 2);

    // A revoked secret cannot come back.
    let err = error_text(apply_text(&store, BASE).await);
    assert!(
        err.contains("integrations[0].client_secret:") && err.contains("revoked"),
        "{err}"
    );
}

#[tokio::test]
async fn certificates_are_compared_by_fingerprint() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, BASE).await.unwrap();
    let i = integration(&store).await;

    // The same certificate given inline instead of by path: unchanged.
    let pem = read(&fixtures().join("certs/rsa2048.crt"));
    let inline = BASE.replace("[\"certs/rsa2048.crt\"]", &format!("['''\n{pem}''']"));
    assert!(apply_text(&store, &inline).await.unwrap().is_unchanged());

    // Adding a second one, then dropping the first.
    let two = BASE.replace("[\"certs/rsa2048.crt\"]", "[\"certs/rsa2048.crt\", \"certs/p256.crt\"]");
    apply_text(&store, &two).await.unwrap();
    let only_second = BASE.replace("[\"certs/rsa2048.crt\"]", "[\"certs/p256.crt\"]");
    apply_text(&store, &only_second).await.unwrap();
    let certs = store.conn().await.unwrap().certificates_of(&i.id).await.unwrap();
    let active: Vec<_> = certs.iter().filter(|c| c.revoked_at.is_none()).collect();
    assert_eq!(certs.len(), 2);
    assert_eq!(active.len(), 1);
    assert!(active[0].pem.contains("BEGIN CERTIFICATE"));

    // Bringing back a revoked certificate is refused.
    let err = error_text(apply_text(&store, BASE).await);
    assert!(
        err.contains("integrations[0].certificates[0]:") && err.contains("revoked"),
        "{err}"
    );
}

#[tokio::test]
async fn renaming_an_organization_by_id() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, BASE).await.unwrap();
    let renamed = BASE.replace("name = \"Beta\"", "name = \"Beta Two\"").replace(
        "{ organization = \"Beta\", role = \"member\" }",
        "{ organization = \"Beta Two\", role = \"member\" }",
    );
    let report = apply_text(&store, &renamed).await.unwrap();
    assert_eq!(report.counts(Kind::Organization), counts(0, 1, 1));
    assert_eq!(
        report.counts(Kind::Account),
        counts(0, 0, 1),
        "the membership did not move"
    );
    let orgs = store.conn().await.unwrap().list_orgs().await.unwrap();
    assert!(orgs.iter().any(|o| o.name == "Beta Two"));
}

#[tokio::test]
async fn an_oauth_integration_declares_its_id_token_algorithm_and_the_introspection_permission() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    let web = r#"
[[integrations]]
name = "Web app"
type = "oauth"
organization = "Acme"
client_id = "dddddddddddddddddddddddddddddddd"
platform = "web"
redirect_uri = "https://app.example.com/callback"
id_token_signed_response_alg = "RS256"
may_introspect = true
"#;
    apply_text(&store, &format!("{BASE}{web}")).await.unwrap();
    let i = store
        .conn()
        .await
        .unwrap()
        .integration_by_client_id(&ClientId::parse("dddddddddddddddddddddddddddddddd").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        i.id_token_signed_response_alg,
        Some(gatehouse_domain::token::keys::SigningAlg::RS256)
    );
    assert!(i.may_introspect);
    let exported = gatehouse_app::provision::export(&store).await.unwrap();
    assert!(
        exported.contains("id_token_signed_response_alg = \"RS256\""),
        "{exported}"
    );
    assert!(exported.contains("may_introspect = true"), "{exported}");
    // Applying the same file again changes nothing.
    assert!(
        apply_text(&store, &format!("{BASE}{web}"))
            .await
            .unwrap()
            .is_unchanged()
    );
    // An unknown algorithm is refused, naming the key; a service account takes none.
    let bad = error_text(apply_text(&store, &format!("{BASE}{}", web.replace("RS256", "HS256"))).await);
    assert!(bad.contains("id_token_signed_response_alg"), "{bad}");
    let sa = BASE.replace(
        "client_secret = \"first-secret-0123456789\"",
        "client_secret = \"first-secret-0123456789\"\nid_token_signed_response_alg = \"RS256\"",
    );
    let bad = error_text(apply_text(&store, &sa).await);
    assert!(bad.contains("id_token_signed_response_alg"), "{bad}");
}
