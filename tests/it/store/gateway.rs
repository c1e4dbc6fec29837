//! The gateway's storage: a service's gateway settings and a subscription's limits round-trip, and
//! usage counts add up per integration, service, day and outcome.

use gatehouse_domain::{
    gateway::{GatewaySettings, IdentityForwarding, Limits},
    integration::IntegrationType,
};
use gatehouse_store::{AccountStore, GatewayStore, IntegrationStore, ServiceStore, UsageCount};

use super::fixtures::*;

fn count(integration: &str, service: &str, day: i64, outcome: &str, requests: i64) -> UsageCount {
    UsageCount {
        integration_id: integration.to_owned(),
        service_code: service.to_owned(),
        day,
        outcome: outcome.to_owned(),
        requests,
    }
}

#[tokio::test]
async fn store_gateway_settings_and_subscription_limits_round_trip() {
    let (_db, store) = fresh().await;
    let owner = account("ada@example.com");
    let mut docs = service("docs", &IntegrationType::ALL);
    docs.upstream_url = Some("http://127.0.0.1:9/docs".into());
    docs.gateway = GatewaySettings {
        identity: IdentityForwarding::Token,
        limits: Limits {
            per_second: Some(20),
            burst: Some(40),
            per_day: Some(5_000_000_000),
        },
    };
    let plain = service("plain", &IntegrationType::ALL);
    let i = oauth_integration(&owner);
    let mut sub = subscription(&i, &docs, &[]);
    sub.limits = Limits {
        per_day: Some(10),
        ..Limits::default()
    };
    let mut tx = begin(&store).await;
    tx.insert_account(&owner).await.unwrap();
    tx.upsert_service(&docs).await.unwrap();
    tx.upsert_service(&plain).await.unwrap();
    tx.insert_integration(&i).await.unwrap();
    tx.upsert_subscription(&sub).await.unwrap();
    commit(tx).await;

    let mut c = conn(&store).await;
    assert_eq!(c.service_by_code(&docs.code).await.unwrap().unwrap(), docs);
    let stored_plain = c.service_by_code(&plain.code).await.unwrap().unwrap();
    assert_eq!(
        stored_plain.gateway,
        GatewaySettings::default(),
        "the defaults: signed, no limits"
    );
    assert_eq!(c.subscriptions_of(&i.id).await.unwrap(), vec![sub]);
}

#[tokio::test]
async fn store_usage_counts_add_up_and_old_days_are_purged() {
    let (_db, store) = fresh().await;
    let owner = account("ada@example.com");
    let docs = service("docs", &IntegrationType::ALL);
    let i = oauth_integration(&owner);
    let mut tx = begin(&store).await;
    tx.insert_account(&owner).await.unwrap();
    tx.upsert_service(&docs).await.unwrap();
    tx.insert_integration(&i).await.unwrap();
    commit(tx).await;

    let mut tx = begin(&store).await;
    tx.add_usage(&[
        count(&i.id, "docs", 100, "allowed", 3),
        count(&i.id, "docs", 100, "rate_limited", 1),
        count(&i.id, "docs", 101, "allowed", 5),
        // Counts of an integration or service deleted meanwhile are dropped, not an error.
        count("gone", "docs", 101, "allowed", 7),
        count(&i.id, "gone", 101, "allowed", 7),
    ])
    .await
    .unwrap();
    tx.commit_unaudited().await.unwrap();
    let mut tx = begin(&store).await;
    tx.add_usage(&[count(&i.id, "docs", 101, "allowed", 2)]).await.unwrap();
    tx.commit_unaudited().await.unwrap();

    let mut c = conn(&store).await;
    assert_eq!(c.allowed_on(&i.id, "docs", 101).await.unwrap(), 7);
    assert_eq!(c.allowed_on(&i.id, "docs", 102).await.unwrap(), 0);
    assert_eq!(
        c.usage_of(&i.id, 100).await.unwrap(),
        vec![
            count(&i.id, "docs", 100, "allowed", 3),
            count(&i.id, "docs", 100, "rate_limited", 1),
            count(&i.id, "docs", 101, "allowed", 7),
        ]
    );
    assert_eq!(c.usage_of(&i.id, 101).await.unwrap().len(), 1);
    assert_eq!(c.purge_usage(101).await.unwrap(), 2);
    assert_eq!(
        c.usage_of(&i.id, 0).await.unwrap(),
        vec![count(&i.id, "docs", 101, "allowed", 7)]
    );
}
