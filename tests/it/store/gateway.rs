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
        path: None,
        identity: IdentityForwarding::Token,
        limits: Limits {
            per_second: Some(20),
            burst: Some(40),
            per_day: Some(5_000_000_000),
            per_month: None,
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
    crate::store::fixtures::insert_integration(&mut tx, &i).await.unwrap();
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
    crate::store::fixtures::insert_integration(&mut tx, &i).await.unwrap();
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
    assert_eq!(c.allowed_between(&i.id, "docs", 101, 101).await.unwrap(), 7);
    assert_eq!(c.allowed_between(&i.id, "docs", 102, 102).await.unwrap(), 0);
    assert_eq!(
        c.allowed_between(&i.id, "docs", 90, 130).await.unwrap(),
        10,
        "a month's allowed calls add up across its days (refusals not counted)"
    );
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

#[tokio::test]
async fn store_per_second_leases_never_exceed_the_budget_and_old_seconds_are_purged() {
    let (_db, store) = fresh().await;
    let lease = |second: i64, cap: u32, lease: u32| {
        let store = store.clone();
        async move {
            let mut tx = begin(&store).await;
            let got = tx.take_rate_lease("i1", "docs", second, cap, lease).await.unwrap();
            tx.commit_unaudited().await.unwrap();
            got
        }
    };
    // A budget of 10 in second 100, leased 4 at a time: 4, 4, then the 2 left, then nothing.
    assert_eq!(lease(100, 10, 4).await, 4);
    assert_eq!(lease(100, 10, 4).await, 4);
    assert_eq!(lease(100, 10, 4).await, 2);
    assert_eq!(lease(100, 10, 4).await, 0);
    // The next second starts over; a lease larger than the budget gets the budget.
    assert_eq!(lease(101, 3, 5).await, 3);
    assert_eq!(lease(101, 3, 1).await, 0);
    // A budget lowered below what was taken grants nothing (never a negative lease).
    assert_eq!(lease(102, 10, 8).await, 8);
    assert_eq!(lease(102, 5, 1).await, 0);
    // Concurrent leases from many tasks (nodes) add up to the budget exactly.
    let tasks: Vec<_> = (0..20).map(|_| tokio::spawn(lease(200, 25, 2))).collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 25);
    let mut tx = begin(&store).await;
    assert_eq!(tx.purge_rate_windows(102).await.unwrap(), 2);
    tx.commit_unaudited().await.unwrap();
    assert_eq!(lease(100, 10, 4).await, 4, "a purged second starts over");
}
