//! ServiceStore: the catalog of APIs integrations subscribe to.

use gatehouse_domain::{integration::IntegrationType, service::ActsFor};
use gatehouse_store::ServiceStore;

use super::fixtures::*;

#[tokio::test]
async fn services_round_trip_with_their_rules() {
    let (_db, store) = fresh().await;
    let mut pdf = service("pdf_services", &[IntegrationType::ServiceAccount]);
    pdf.acts_for = ActsFor::Organization;
    pdf.scopes = vec!["ent_documentcloud_sdk".into()];
    pdf.upstream_url = Some("http://127.0.0.1:9000/pdf".into());
    let stock = service("stock_search", &IntegrationType::ALL);
    let mut tx = begin(&store).await;
    tx.upsert_service(&pdf).await.unwrap();
    tx.upsert_service(&stock).await.unwrap();
    commit(tx).await;

    let mut c = conn(&store).await;
    let stored = c.service_by_code(&pdf.code).await.unwrap().unwrap();
    assert_eq!(stored, pdf);
    assert!(stored.allows(IntegrationType::ServiceAccount) && !stored.allows(IntegrationType::Oauth));
    assert_eq!(c.service_by_code(&stock.code).await.unwrap(), Some(stock));
    assert_eq!(c.service_by_code(&code("no_such_service")).await.unwrap(), None);
}

#[tokio::test]
async fn services_upsert_replaces_everything_but_the_creation_time() {
    let (_db, store) = fresh().await;
    let original = service("creative_sdk", &[IntegrationType::Oauth]);
    let mut tx = begin(&store).await;
    tx.upsert_service(&original).await.unwrap();
    commit(tx).await;

    let mut changed = service("creative_sdk", &[IntegrationType::Oauth, IntegrationType::ApiKey]);
    changed.name = "Creative SDK".into();
    changed.description = "Images and fonts".into();
    changed.scopes = vec!["creative_sdk".into()];
    changed.acts_for = ActsFor::Organization;
    changed.upstream_url = Some("https://upstream.example.com".into());
    changed.created_at = T0 + 100;
    changed.updated_at = T0 + 100;
    let mut tx = begin(&store).await;
    tx.upsert_service(&changed).await.unwrap();
    commit(tx).await;

    let stored = conn(&store)
        .await
        .service_by_code(&original.code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.created_at, T0);
    assert_eq!(
        stored,
        gatehouse_domain::service::Service {
            created_at: T0,
            ..changed.clone()
        }
    );

    // And back to no upstream: a replaced field may become empty.
    let mut cleared = changed;
    cleared.upstream_url = None;
    let mut tx = begin(&store).await;
    tx.upsert_service(&cleared).await.unwrap();
    commit(tx).await;
    let stored = conn(&store)
        .await
        .service_by_code(&original.code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.upstream_url, None);
    assert_eq!(conn(&store).await.list_services().await.unwrap().len(), 1);
}

#[tokio::test]
async fn services_are_listed_by_code_in_byte_order() {
    let (_db, store) = fresh().await;
    let mut tx = begin(&store).await;
    for c in ["typekit", "pdfa", "pdf_services", "creative_sdk", "pdf-tools"] {
        tx.upsert_service(&service(c, &[IntegrationType::Oauth])).await.unwrap();
    }
    commit(tx).await;
    let codes: Vec<String> = conn(&store)
        .await
        .list_services()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.code.to_string())
        .collect();
    assert_eq!(codes, ["creative_sdk", "pdf-tools", "pdf_services", "pdfa", "typekit"]);
}
