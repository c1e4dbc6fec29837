//! ConsoleStore on both backends: integrations by owner, subscriptions by service, token
//! cutoffs and certificate expiry notices.

use gatehouse_domain::{console::cutoff::TokenCutoff, integration::IntegrationType};
use gatehouse_store::{AccountStore, ConsoleStore, IntegrationStore, OrgStore, ServiceStore};

use super::fixtures::*;

#[tokio::test]
async fn console_store_lists_integrations_by_owner_and_subscriptions_by_service() {
    let (_db, store) = fresh().await;
    let ada = account("ada@example.com");
    let bob = account("bob@example.com");
    let acme = org("Acme");
    let pdf = service("pdf_services", &[IntegrationType::ServiceAccount]);
    let mut tx = begin(&store).await;
    tx.insert_account(&ada).await.unwrap();
    tx.insert_account(&bob).await.unwrap();
    tx.insert_org(&acme).await.unwrap();
    tx.upsert_service(&pdf).await.unwrap();
    let mine = api_key_integration(&ada);
    let mut later = oauth_integration(&ada);
    later.created_at = mine.created_at + 10;
    let theirs = api_key_integration(&bob);
    let sa = service_account_integration(&acme, Some(&bob));
    for i in [&later, &mine, &theirs, &sa] {
        crate::store::fixtures::insert_integration(&mut tx, i).await.unwrap();
    }
    tx.upsert_subscription(&subscription(&sa, &pdf, &["ent_documentcloud_sdk"]))
        .await
        .unwrap();
    commit(tx).await;

    let mut c = conn(&store).await;
    let ids = |v: Vec<gatehouse_domain::integration::Integration>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(c.integrations_of_account(&ada.id).await.unwrap()),
        vec![mine.id.clone(), later.id.clone()]
    );
    assert_eq!(
        ids(c.integrations_of_org(acme.id.as_str()).await.unwrap()),
        vec![sa.id.clone()]
    );
    assert!(c.integrations_of_org("nobody").await.unwrap().is_empty());
    let subs = c.subscriptions_of_service(&pdf.code).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].integration_id, sa.id);
    assert!(c.subscriptions_of_service(&code("other")).await.unwrap().is_empty());
}

#[tokio::test]
async fn console_store_keeps_the_latest_token_cutoff_and_purges_old_ones() {
    let (_db, store) = fresh().await;
    let cut = |scope: Option<&str>, at| TokenCutoff {
        client_id: "client-1".into(),
        scope: scope.map(str::to_owned),
        at,
    };
    let mut c = conn(&store).await;
    c.record_token_cutoff(&cut(Some("pdf"), T0)).await.unwrap();
    c.record_token_cutoff(&cut(Some("pdf"), T0 - 5)).await.unwrap();
    c.record_token_cutoff(&cut(None, T0 + 1)).await.unwrap();
    c.record_token_cutoff(&cut(Some("b"), T0 - 100)).await.unwrap();
    assert_eq!(
        c.token_cutoffs_of("client-1").await.unwrap(),
        vec![cut(None, T0 + 1), cut(Some("b"), T0 - 100), cut(Some("pdf"), T0)]
    );
    c.record_token_cutoff(&cut(Some("pdf"), T0 + 9)).await.unwrap();
    assert!(
        c.token_cutoffs_of("client-1")
            .await
            .unwrap()
            .contains(&cut(Some("pdf"), T0 + 9))
    );
    assert!(c.token_cutoffs_of("client-2").await.unwrap().is_empty());
    assert_eq!(c.purge_token_cutoffs(T0).await.unwrap(), 1);
    assert_eq!(c.token_cutoffs_of("client-1").await.unwrap().len(), 2);
}

#[tokio::test]
async fn console_store_finds_expiring_certificates_and_records_each_notice_once() {
    let (_db, store) = fresh().await;
    let acme = org("Acme");
    let sa = service_account_integration(&acme, None);
    let mut soon = certificate(&sa, "aa", T0);
    soon.not_after = T0 + 5 * 86_400;
    let mut later = certificate(&sa, "bb", T0);
    later.not_after = T0 + 60 * 86_400;
    let mut revoked = certificate(&sa, "cc", T0);
    revoked.not_after = T0 + 86_400;
    revoked.revoked_at = Some(T0);
    let mut expired = certificate(&sa, "dd", T0);
    expired.not_after = T0 - 1;
    let mut tx = begin(&store).await;
    tx.insert_org(&acme).await.unwrap();
    crate::store::fixtures::insert_integration(&mut tx, &sa).await.unwrap();
    for cert in [&soon, &later, &revoked, &expired] {
        tx.insert_certificate(cert).await.unwrap();
    }
    commit(tx).await;

    let mut c = conn(&store).await;
    let found = c.certificates_expiring(T0, T0 + 30 * 86_400).await.unwrap();
    assert_eq!(
        found.iter().map(|x| x.id.clone()).collect::<Vec<_>>(),
        vec![soon.id.clone()]
    );
    assert_eq!(c.certificates_expiring(T0, T0 + 90 * 86_400).await.unwrap().len(), 2);

    assert!(c.certificate_notices(&soon.id).await.unwrap().is_empty());
    assert!(c.record_certificate_notice(&soon.id, 7, T0).await.unwrap());
    assert!(!c.record_certificate_notice(&soon.id, 7, T0 + 1).await.unwrap());
    assert!(c.record_certificate_notice(&soon.id, 30, T0).await.unwrap());
    assert_eq!(c.certificate_notices(&soon.id).await.unwrap(), vec![7, 30]);
}

#[tokio::test]
async fn console_store_hands_out_a_pending_private_key_once() {
    use gatehouse_store::{PendingKeyStore, PendingPrivateKey};
    let (_db, store) = fresh().await;
    let acme = org("Acme");
    let sa = service_account_integration(&acme, None);
    let mut tx = begin(&store).await;
    tx.insert_org(&acme).await.unwrap();
    crate::store::fixtures::insert_integration(&mut tx, &sa).await.unwrap();
    commit(tx).await;
    let key = |digest: &str, expires_at| PendingPrivateKey {
        digest: digest.into(),
        integration_id: sa.id.clone(),
        certificate_id: "cert".into(),
        sealed: vec![1, 2, 3],
        created_at: T0,
        expires_at,
    };
    let mut c = conn(&store).await;
    c.insert_pending_key(&key("d1", T0 + 600)).await.unwrap();
    c.insert_pending_key(&key("d2", T0 + 10)).await.unwrap();
    c.insert_pending_key(&key("d3", T0 + 10)).await.unwrap();
    assert_eq!(c.take_pending_key("d1", "other-integration", T0).await.unwrap(), None);
    assert_eq!(
        c.take_pending_key("d1", &sa.id, T0).await.unwrap(),
        Some(key("d1", T0 + 600))
    );
    assert_eq!(c.take_pending_key("d1", &sa.id, T0).await.unwrap(), None);
    // Expired: not handed out.
    assert_eq!(c.take_pending_key("d2", &sa.id, T0 + 10).await.unwrap(), None);
    assert_eq!(c.purge_pending_keys(T0 + 10).await.unwrap(), 1);
    assert_eq!(c.take_pending_key("d3", &sa.id, T0).await.unwrap(), None);
}
