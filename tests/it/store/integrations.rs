//! IntegrationStore: integrations of the three types, their client secrets and certificates, and
//! their subscriptions to services.

use gatehouse_domain::{
    account::Account,
    integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform},
    org::Organization,
    service::Service,
    token::keys::SigningAlg,
};
use gatehouse_store::{AccountStore, IntegrationStore, OrgStore, ServiceStore, Store, StoreError};

use super::fixtures::*;

/// An account, an organization and two services to hang integrations on.
struct World {
    ada: Account,
    acme: Organization,
    pdf: Service,
    stock: Service,
}

async fn world(store: &Store) -> World {
    let w = World {
        ada: account("ada@example.com"),
        acme: org("Acme"),
        pdf: service("pdf_services", &[IntegrationType::ServiceAccount]),
        stock: service("stock_search", &IntegrationType::ALL),
    };
    let mut tx = begin(store).await;
    tx.insert_account(&w.ada).await.unwrap();
    tx.insert_org(&w.acme).await.unwrap();
    tx.upsert_service(&w.pdf).await.unwrap();
    tx.upsert_service(&w.stock).await.unwrap();
    commit(tx).await;
    w
}

async fn insert(store: &Store, integrations: &[&Integration]) {
    let mut tx = begin(store).await;
    for i in integrations {
        crate::store::fixtures::insert_integration(&mut tx, i).await.unwrap();
    }
    commit(tx).await;
}

#[tokio::test]
async fn integrations_of_every_type_round_trip_by_id_and_client_id() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let mut spa = oauth_integration(&w.ada);
    spa.platform = Some(Platform::Spa);
    spa.redirect_patterns.clear();
    let all = [
        oauth_integration(&w.ada),
        spa,
        service_account_integration(&w.acme, Some(&w.ada)),
        service_account_integration(&w.acme, None),
        api_key_integration(&w.ada),
    ];
    insert(&store, &all.iter().collect::<Vec<_>>()).await;

    let mut c = conn(&store).await;
    for i in &all {
        assert_eq!(c.integration_by_id(&i.id).await.unwrap().as_ref(), Some(i));
        assert_eq!(
            c.integration_by_client_id(&i.client_id).await.unwrap().as_ref(),
            Some(i)
        );
    }
    let sa = c.integration_by_id(&all[2].id).await.unwrap().unwrap();
    assert_eq!(sa.org_id(), Some(w.acme.id.as_str()));
    assert_eq!(c.integration_by_id("no-such-id").await.unwrap(), None);
    assert_eq!(c.integration_by_client_id(&client_id()).await.unwrap(), None);
}

#[tokio::test]
async fn integrations_client_id_and_technical_account_are_unique() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let first = service_account_integration(&w.acme, None);
    insert(&store, &[&first]).await;

    let mut same_client_id = oauth_integration(&w.ada);
    same_client_id.client_id = first.client_id.clone();
    let mut same_tech_id = service_account_integration(&w.acme, None);
    same_tech_id.technical_account_id = first.technical_account_id.clone();
    let mut same_tech_email = service_account_integration(&w.acme, None);
    same_tech_email.technical_account_email = first.technical_account_email.clone();
    for dup in [same_client_id, same_tech_id, same_tech_email] {
        let mut tx = begin(&store).await;
        let err = crate::store::fixtures::insert_integration(&mut tx, &dup)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
    }
}

#[tokio::test]
async fn integrations_need_an_existing_owner() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let ghost = account("ghost@example.com");
    let ghost_org = org("Ghost");
    for orphan in [
        oauth_integration(&ghost),
        service_account_integration(&ghost_org, None),
        service_account_integration(&w.acme, Some(&ghost)),
    ] {
        let mut tx = begin(&store).await;
        let err = crate::store::fixtures::insert_integration(&mut tx, &orphan)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::MissingReference(_)), "got {err:?}");
    }
}

#[tokio::test]
async fn integrations_update_replaces_mutable_fields_only() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let original = oauth_integration(&w.ada);
    insert(&store, &[&original]).await;

    let mut changed = original.clone();
    changed.name = "Photo editor 2".into();
    changed.description = String::new();
    changed.platform = Some(Platform::Native);
    changed.redirect_uri = None;
    changed.redirect_patterns = vec!["com.example.app:/callback".into()];
    changed.status = IntegrationStatus::Disabled;
    changed.updated_at = T0 + 30;
    // Not mutable: a changed ID-like field must be ignored, not applied.
    let mut attempt = changed.clone();
    attempt.client_id = client_id();
    attempt.integration_type = IntegrationType::ApiKey;
    attempt.owner = Owner::Organization(w.acme.id.to_string());
    attempt.created_at = T0 + 999;
    let mut tx = begin(&store).await;
    tx.update_integration(&attempt).await.unwrap();
    commit(tx).await;

    let mut c = conn(&store).await;
    assert_eq!(c.integration_by_id(&original.id).await.unwrap(), Some(changed));
    assert_eq!(c.integration_by_client_id(&attempt.client_id).await.unwrap(), None);
}

#[tokio::test]
async fn integrations_keep_their_id_token_algorithm_and_introspection_permission() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let mut original = oauth_integration(&w.ada);
    original.id_token_signed_response_alg = Some(SigningAlg::RS256);
    original.may_introspect = true;
    insert(&store, &[&original]).await;
    let mut c = conn(&store).await;
    assert_eq!(c.integration_by_id(&original.id).await.unwrap(), Some(original.clone()));
    drop(c);
    let mut changed = original.clone();
    changed.id_token_signed_response_alg = None;
    changed.may_introspect = false;
    let mut tx = begin(&store).await;
    tx.update_integration(&changed).await.unwrap();
    commit(tx).await;
    let mut c = conn(&store).await;
    assert_eq!(
        c.integration_by_client_id(&original.client_id).await.unwrap(),
        Some(changed)
    );
}

#[tokio::test]
async fn integrations_update_can_set_a_technical_account() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let mut original = service_account_integration(&w.acme, None);
    original.technical_account_id = None;
    original.technical_account_email = None;
    insert(&store, &[&original]).await;
    let mut changed = original.clone();
    changed.technical_account_id = Some("0123456789abcdef01234567@techacct.gatehouse".into());
    changed.technical_account_email = Some("c0ffee@techacct.gatehouse".into());
    let mut tx = begin(&store).await;
    tx.update_integration(&changed).await.unwrap();
    commit(tx).await;
    assert_eq!(
        conn(&store).await.integration_by_id(&original.id).await.unwrap(),
        Some(changed)
    );
}

#[tokio::test]
async fn integrations_are_listed_by_creation_then_id() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let mut newest = api_key_integration(&w.ada);
    newest.created_at = T0 + 20;
    let mut oldest = oauth_integration(&w.ada);
    oldest.created_at = T0 - 20;
    let mut same_a = service_account_integration(&w.acme, None);
    let mut same_b = service_account_integration(&w.acme, None);
    same_a.id = format!("a-{}", same_a.id);
    same_b.id = format!("b-{}", same_b.id);
    insert(&store, &[&newest, &same_b, &oldest, &same_a]).await;
    let listed: Vec<String> = conn(&store)
        .await
        .list_integrations()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, [oldest.id, same_a.id, same_b.id, newest.id]);
}

#[tokio::test]
async fn integrations_delete_cascades_to_credentials_and_subscriptions() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let doomed = service_account_integration(&w.acme, Some(&w.ada));
    let kept = service_account_integration(&w.acme, Some(&w.ada));
    insert(&store, &[&doomed, &kept]).await;
    let mut tx = begin(&store).await;
    for i in [&doomed, &kept] {
        tx.insert_secret(&secret(i, T0)).await.unwrap();
        tx.insert_certificate(&certificate(i, "ab".repeat(32).as_str(), T0))
            .await
            .unwrap();
        tx.upsert_subscription(&subscription(i, &w.pdf, &["openid"]))
            .await
            .unwrap();
    }
    commit(tx).await;

    let mut tx = begin(&store).await;
    assert!(tx.delete_integration(&doomed.id).await.unwrap());
    assert!(!tx.delete_integration(&doomed.id).await.unwrap(), "already gone");
    commit(tx).await;

    let mut c = conn(&store).await;
    assert_eq!(c.integration_by_id(&doomed.id).await.unwrap(), None);
    assert_eq!(c.integration_by_client_id(&doomed.client_id).await.unwrap(), None);
    assert!(c.secrets_of(&doomed.id).await.unwrap().is_empty());
    assert!(c.certificates_of(&doomed.id).await.unwrap().is_empty());
    assert!(c.subscriptions_of(&doomed.id).await.unwrap().is_empty());
    // The other integration and the service are untouched.
    assert_eq!(c.secrets_of(&kept.id).await.unwrap().len(), 1);
    assert_eq!(c.certificates_of(&kept.id).await.unwrap().len(), 1);
    assert_eq!(c.subscriptions_of(&kept.id).await.unwrap().len(), 1);
    assert!(c.service_by_code(&w.pdf.code).await.unwrap().is_some());
    // Its client ID and technical account may be used again.
    let mut reborn = service_account_integration(&w.acme, None);
    reborn.client_id = doomed.client_id.clone();
    reborn.technical_account_id = doomed.technical_account_id.clone();
    insert(&store, &[&reborn]).await;
}

#[tokio::test]
async fn secrets_are_listed_oldest_first_with_revoked_ones() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let i = oauth_integration(&w.ada);
    insert(&store, &[&i]).await;
    let current = secret(&i, T0 + 100);
    let old = secret(&i, T0);
    let mut tx = begin(&store).await;
    tx.insert_secret(&current).await.unwrap();
    tx.insert_secret(&old).await.unwrap();
    commit(tx).await;
    assert_eq!(
        conn(&store).await.secrets_of(&i.id).await.unwrap(),
        vec![old.clone(), current.clone()]
    );

    let mut tx = begin(&store).await;
    assert!(tx.revoke_secret(&i.id, &old.id, T0 + 200).await.unwrap());
    assert!(
        !tx.revoke_secret(&i.id, &old.id, T0 + 300).await.unwrap(),
        "already revoked"
    );
    commit(tx).await;
    let secrets = conn(&store).await.secrets_of(&i.id).await.unwrap();
    assert_eq!(secrets.len(), 2, "revoked secrets stay listed");
    assert_eq!(
        secrets[0].revoked_at,
        Some(T0 + 200),
        "the first revocation time is kept"
    );
    assert_eq!(secrets[1], current);
}

#[tokio::test]
async fn secrets_are_revoked_only_through_their_own_integration() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let (mine, theirs) = (oauth_integration(&w.ada), oauth_integration(&w.ada));
    insert(&store, &[&mine, &theirs]).await;
    let s = secret(&mine, T0);
    let mut tx = begin(&store).await;
    tx.insert_secret(&s).await.unwrap();
    assert!(!tx.revoke_secret(&theirs.id, &s.id, T0).await.unwrap());
    assert!(!tx.revoke_secret(&mine.id, "no-such-secret", T0).await.unwrap());
    commit(tx).await;
    assert_eq!(conn(&store).await.secrets_of(&mine.id).await.unwrap(), vec![s]);
    assert!(conn(&store).await.secrets_of(&theirs.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn secrets_and_certificates_need_an_existing_integration() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let ghost = service_account_integration(&w.acme, None); // never inserted
    let mut tx = begin(&store).await;
    let err = tx.insert_secret(&secret(&ghost, T0)).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "got {err:?}");
    drop(tx);
    let mut tx = begin(&store).await;
    let err = tx.insert_certificate(&certificate(&ghost, "ff", T0)).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "got {err:?}");
}

#[tokio::test]
async fn certificates_round_trip_oldest_first_and_revoke_once() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let i = service_account_integration(&w.acme, None);
    insert(&store, &[&i]).await;
    let newer = certificate(&i, &"b".repeat(64), T0 + 50);
    let older = certificate(&i, &"a".repeat(64), T0);
    let mut tx = begin(&store).await;
    tx.insert_certificate(&newer).await.unwrap();
    tx.insert_certificate(&older).await.unwrap();
    commit(tx).await;
    assert_eq!(
        conn(&store).await.certificates_of(&i.id).await.unwrap(),
        vec![older.clone(), newer.clone()]
    );

    let mut tx = begin(&store).await;
    assert!(tx.revoke_certificate(&i.id, &older.id, T0 + 60).await.unwrap());
    assert!(!tx.revoke_certificate(&i.id, &older.id, T0 + 70).await.unwrap());
    assert!(
        !tx.revoke_certificate("another-integration", &newer.id, T0 + 70)
            .await
            .unwrap()
    );
    commit(tx).await;
    let certs = conn(&store).await.certificates_of(&i.id).await.unwrap();
    assert_eq!(certs[0].revoked_at, Some(T0 + 60));
    assert_eq!(certs[1], newer);
}

#[tokio::test]
async fn certificates_fingerprint_is_unique_per_integration_only() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let (one, two) = (
        service_account_integration(&w.acme, None),
        service_account_integration(&w.acme, None),
    );
    insert(&store, &[&one, &two]).await;
    let fp = "c".repeat(64);
    let mut tx = begin(&store).await;
    tx.insert_certificate(&certificate(&one, &fp, T0)).await.unwrap();
    // The same key may serve two integrations.
    tx.insert_certificate(&certificate(&two, &fp, T0)).await.unwrap();
    commit(tx).await;
    let mut tx = begin(&store).await;
    let err = tx
        .insert_certificate(&certificate(&one, &fp, T0 + 1))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
}

#[tokio::test]
async fn subscriptions_upsert_then_replace_scopes_keeping_creation_time() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let i = service_account_integration(&w.acme, None);
    insert(&store, &[&i]).await;
    let first = subscription(&i, &w.pdf, &["openid"]);
    let mut tx = begin(&store).await;
    tx.upsert_subscription(&first).await.unwrap();
    commit(tx).await;
    assert_eq!(
        conn(&store).await.subscriptions_of(&i.id).await.unwrap(),
        vec![first.clone()]
    );

    let mut wider = subscription(&i, &w.pdf, &["openid", "read"]);
    wider.created_at = T0 + 40;
    wider.updated_at = T0 + 40;
    let mut tx = begin(&store).await;
    tx.upsert_subscription(&wider).await.unwrap();
    commit(tx).await;
    let subs = conn(&store).await.subscriptions_of(&i.id).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].scopes, ["openid", "read"]);
    assert_eq!(subs[0].created_at, T0);
    assert_eq!(subs[0].updated_at, T0 + 40);

    // Scopes may be emptied too.
    let mut none = wider.clone();
    none.scopes.clear();
    let mut tx = begin(&store).await;
    tx.upsert_subscription(&none).await.unwrap();
    commit(tx).await;
    assert!(
        conn(&store).await.subscriptions_of(&i.id).await.unwrap()[0]
            .scopes
            .is_empty()
    );
}

#[tokio::test]
async fn subscriptions_are_listed_by_service_code_and_deleted_one_by_one() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let i = service_account_integration(&w.acme, None);
    insert(&store, &[&i]).await;
    let pdf_tools = service("pdf-tools", &IntegrationType::ALL);
    let mut tx = begin(&store).await;
    tx.upsert_service(&pdf_tools).await.unwrap();
    for s in [&w.stock, &w.pdf, &pdf_tools] {
        tx.upsert_subscription(&subscription(&i, s, &["read"])).await.unwrap();
    }
    commit(tx).await;
    let codes = |subs: Vec<gatehouse_domain::service::Subscription>| -> Vec<String> {
        subs.into_iter().map(|s| s.service_code.to_string()).collect()
    };
    let listed = codes(conn(&store).await.subscriptions_of(&i.id).await.unwrap());
    assert_eq!(listed, ["pdf-tools", "pdf_services", "stock_search"]);

    let mut tx = begin(&store).await;
    assert!(tx.delete_subscription(&i.id, &w.pdf.code).await.unwrap());
    assert!(!tx.delete_subscription(&i.id, &w.pdf.code).await.unwrap());
    assert!(
        !tx.delete_subscription("no-such-integration", &w.stock.code)
            .await
            .unwrap()
    );
    commit(tx).await;
    let listed = codes(conn(&store).await.subscriptions_of(&i.id).await.unwrap());
    assert_eq!(listed, ["pdf-tools", "stock_search"]);
}

#[tokio::test]
async fn subscriptions_need_an_existing_integration_and_service() {
    let (_db, store) = fresh().await;
    let w = world(&store).await;
    let i = service_account_integration(&w.acme, None);
    insert(&store, &[&i]).await;
    let unknown_service = service("not_in_catalog", &IntegrationType::ALL);
    let ghost = service_account_integration(&w.acme, None);
    for sub in [
        subscription(&i, &unknown_service, &[]),
        subscription(&ghost, &w.pdf, &[]),
    ] {
        let mut tx = begin(&store).await;
        let err = tx.upsert_subscription(&sub).await.unwrap_err();
        assert!(matches!(err, StoreError::MissingReference(_)), "got {err:?}");
    }
}
