//! Limits per integration and service: a per-second rate (GCRA) and a daily quota, set on the
//! service and overridden per subscription, announced with `RateLimit-Policy` / `RateLimit` and
//! refused with 429 and `Retry-After` before the upstream is called.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    gateway::{GatewaySettings, Limits},
    service::{ActsFor, ServiceCode},
};
use gatehouse_store::{AuditStore, IntegrationStore};

use super::{SCOPE, World};

#[tokio::test]
async fn the_rate_and_the_daily_quota_answer_429_with_retry_after_and_ratelimit_fields() {
    let w = World::with(
        ActsFor::Organization,
        GatewaySettings {
            path: None,
            limits: Limits {
                per_second: Some(1),
                burst: Some(2),
                per_day: Some(1000),
                per_month: None,
            },
            ..GatewaySettings::default()
        },
    )
    .await;
    let token = w.token(&w.sa, SCOPE).await;
    let sa = Some(w.sa.client_id.as_str());
    let first = w.call(Method::GET, "/", sa, Some(&token), StatusCode::OK).await;
    assert_eq!(
        first.header("ratelimit-policy"),
        Some("\"day\";q=1000;w=86400, \"second\";q=2;w=1")
    );
    let rl = first.header("ratelimit").unwrap();
    assert!(rl.starts_with("\"day\";r=999;t="), "{rl}");
    assert!(rl.contains("\"second\";r=1;t=1"), "{rl}");
    w.call(Method::GET, "/", sa, Some(&token), StatusCode::OK).await;
    let limited = w
        .call(Method::GET, "/", sa, Some(&token), StatusCode::TOO_MANY_REQUESTS)
        .await;
    assert_eq!(limited.json_value()["code"], "rate_limited");
    assert_eq!(limited.header("content-type"), Some("application/problem+json"));
    let retry: i64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(w.upstream.count(), 2, "the refused call did not reach the upstream");
    // Another integration has its own bucket.
    w.call(Method::GET, "/", Some(&w.key.client_id), None, StatusCode::OK)
        .await;

    // A subscription's own daily quota overrides the service's.
    let mut sub = w
        .server
        .store()
        .conn()
        .await
        .unwrap()
        .subscriptions_of(&w.key.integration.id)
        .await
        .unwrap();
    sub[0].limits = Limits {
        per_day: Some(2),
        ..Limits::default()
    };
    let mut tx = w.server.store().begin().await.unwrap();
    tx.upsert_subscription(&sub[0]).await.unwrap();
    tx.append_audit(&gatehouse_domain::audit::AuditEntry::new(
        w.server.state().now(),
        &gatehouse_domain::audit::Actor::System,
        "subscription.limits_changed",
        "test",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(sub[0].service_code, ServiceCode::parse("docs").unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let key = Some(w.key.client_id.as_str());
    let ok = w.call(Method::GET, "/", key, None, StatusCode::OK).await;
    assert!(
        ok.header("ratelimit").unwrap().starts_with("\"day\";r=0;"),
        "the call before counted too"
    );
    let over = w.call(Method::GET, "/", key, None, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(over.json_value()["code"], "quota_exceeded");
    let retry: i64 = over.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry), "until the next UTC day: {retry}");
    assert_eq!(w.upstream.count(), 4);
}

#[tokio::test]
async fn the_daily_quota_starts_from_what_the_store_has_counted() {
    let w = World::with(
        ActsFor::Organization,
        GatewaySettings {
            path: None,
            limits: Limits {
                per_day: Some(3),
                ..Limits::default()
            },
            ..GatewaySettings::default()
        },
    )
    .await;
    // Another node (or this one before a restart) counted two calls today.
    let day = gatehouse_domain::gateway::day_of(w.server.state().now());
    let mut tx = w.server.store().begin().await.unwrap();
    gatehouse_store::GatewayStore::add_usage(
        &mut tx,
        &[gatehouse_store::UsageCount {
            integration_id: w.key.integration.id.clone(),
            service_code: "docs".into(),
            day,
            outcome: "allowed".into(),
            requests: 2,
        }],
    )
    .await
    .unwrap();
    tx.commit_unaudited().await.unwrap();
    let key = Some(w.key.client_id.as_str());
    w.call(Method::GET, "/", key, None, StatusCode::OK).await;
    w.call(Method::GET, "/", key, None, StatusCode::TOO_MANY_REQUESTS).await;
    // Counted elsewhere after this node started counting: picked up at the next flush.
    gatehouse_core::gateway::flush_usage(w.server.state()).await.unwrap();
    let used = gatehouse_store::GatewayStore::allowed_between(
        &mut w.server.store().conn().await.unwrap(),
        &w.key.integration.id,
        "docs",
        day,
        day,
    )
    .await
    .unwrap();
    assert_eq!(used, 3);
}

#[tokio::test]
async fn the_monthly_quota_counts_every_day_of_the_utc_month_and_a_day_refusal_takes_nothing_from_it() {
    use gatehouse_domain::gateway::QuotaPeriod;
    let w = World::with(
        ActsFor::Organization,
        GatewaySettings {
            limits: Limits {
                per_month: Some(4),
                ..Limits::default()
            },
            ..GatewaySettings::default()
        },
    )
    .await;
    let now = w.server.state().now();
    let (first_day, _) = QuotaPeriod::Month.days(QuotaPeriod::Month.index(now));
    // Another node counted three calls on the month's first day, one the month before.
    let mut tx = w.server.store().begin().await.unwrap();
    let count = |day: i64, requests: i64| gatehouse_store::UsageCount {
        integration_id: w.key.integration.id.clone(),
        service_code: "docs".into(),
        day,
        outcome: "allowed".into(),
        requests,
    };
    gatehouse_store::GatewayStore::add_usage(&mut tx, &[count(first_day, 3), count(first_day - 1, 50)])
        .await
        .unwrap();
    tx.commit_unaudited().await.unwrap();
    let key = Some(w.key.client_id.as_str());
    let ok = w.call(Method::GET, "/", key, None, StatusCode::OK).await;
    let window = QuotaPeriod::Month.window(now);
    assert_eq!(
        ok.header("ratelimit-policy").map(str::to_owned),
        Some(format!("\"month\";q=4;w={window}"))
    );
    assert!(
        ok.header("ratelimit").unwrap().starts_with("\"month\";r=0;"),
        "{:?}",
        ok.header("ratelimit")
    );
    let over = w.call(Method::GET, "/", key, None, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(over.json_value()["code"], "quota_exceeded");
    assert!(over.json_value()["detail"].as_str().unwrap().contains("this month"));
    let retry: i64 = over.header("retry-after").unwrap().parse().unwrap();
    assert!(
        retry <= QuotaPeriod::Month.seconds_left(now) + 1 && retry > 0,
        "until the next month: {retry}"
    );
    assert_eq!(w.upstream.count(), 1);

    // With a daily quota too, a call the day refuses is not counted against the month.
    let w = World::with(
        ActsFor::Organization,
        GatewaySettings {
            limits: Limits {
                per_day: Some(1),
                per_month: Some(10),
                ..Limits::default()
            },
            ..GatewaySettings::default()
        },
    )
    .await;
    let key = Some(w.key.client_id.as_str());
    let ok = w.call(Method::GET, "/", key, None, StatusCode::OK).await;
    let rl = ok.header("ratelimit").unwrap().to_owned();
    assert!(rl.starts_with("\"month\";r=9;") && rl.contains("\"day\";r=0;"), "{rl}");
    w.call(Method::GET, "/", key, None, StatusCode::TOO_MANY_REQUESTS).await;
    w.call(Method::GET, "/", key, None, StatusCode::TOO_MANY_REQUESTS).await;
    gatehouse_core::gateway::flush_usage(w.server.state()).await.unwrap();
    let now = w.server.state().now();
    let (first, last) = QuotaPeriod::Month.days(QuotaPeriod::Month.index(now));
    let used = gatehouse_store::GatewayStore::allowed_between(
        &mut w.server.store().conn().await.unwrap(),
        &w.key.integration.id,
        "docs",
        first,
        last,
    )
    .await
    .unwrap();
    assert_eq!(used, 1);
}
