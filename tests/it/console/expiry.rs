//! Certificate expiry notices: 30, 7 and 1 day before a service account's certificate expires,
//! one audit entry each (and the `gatehouse.certificate.expiring` event in the same
//! transaction), written once whichever way the check is driven.

use axum::http::{Method, StatusCode};
use gatehouse_app::{cli::KeyAlgorithm, keys};
use gatehouse_core::console::expiry;
use gatehouse_store::AuditStore;
use gatehouse_web::Clock;
use serde_json::json;

use super::helpers::*;
use crate::harness::server::TestServer;

const DAY: i64 = 86_400;

#[tokio::test]
async fn console_certificate_expiry_notices_at_30_7_and_1_days_once_each() {
    let start = 1_800_000_000;
    let server = TestServer::start_with_clock(Clock::manual(start), |_| {}).await;
    let w = world_on(server).await;
    let c = &w.admin.client;
    let sa = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Export", "integration_type": "service_account", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = sa["integration"]["id"].as_str().unwrap().to_owned();
    let pair = keys::generate(
        KeyAlgorithm::EcP256,
        "soon",
        40,
        time::OffsetDateTime::from_unix_timestamp(start - 60).unwrap(),
        &mut rand::thread_rng(),
    )
    .unwrap();
    let cert = api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/certificates"),
        Some(json!({"pem": pair.certificate.pem})),
        StatusCode::CREATED,
    )
    .await;
    let not_after = cert["not_after"].as_i64().unwrap();
    let state = w.server.state().clone();
    let notices = |id: String| {
        let server = &w.server;
        async move {
            let all = server
                .store()
                .conn()
                .await
                .unwrap()
                .recent_audit(None, 1000)
                .await
                .unwrap();
            all.into_iter()
                .filter(|r| r.entry.action == "certificate.expiring" && r.entry.target == format!("integration:{id}"))
                .map(|r| {
                    (
                        r.entry.details["notice_days"].as_i64().unwrap(),
                        r.entry.org_id.clone(),
                        r.entry.actor.clone(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };

    assert_eq!(
        expiry::run_once(&state, start).await.unwrap(),
        0,
        "40 days left: nothing yet"
    );
    for (at, written, days) in [
        (not_after - 30 * DAY, 1, Some(30)),
        (not_after - 30 * DAY + 10, 0, None),
        (not_after - 20 * DAY, 0, None),
        (not_after - 7 * DAY + 1, 1, Some(7)),
        (not_after - 2 * DAY, 0, None),
        (not_after - DAY / 2, 1, Some(1)),
        (not_after - 60, 0, None),
        (not_after + 1, 0, None),
    ] {
        assert_eq!(
            expiry::run_once(&state, at).await.unwrap(),
            written,
            "at {} days before",
            (not_after - at) / DAY
        );
        if let Some(d) = days {
            assert_eq!(notices(id.clone()).await.first().unwrap().0, d);
        }
    }
    let all = notices(id.clone()).await;
    assert_eq!(all.iter().map(|n| n.0).collect::<Vec<_>>(), vec![1, 7, 30]);
    assert!(
        all.iter()
            .all(|n| n.1.as_deref() == Some(w.org_id.as_str()) && n.2 == "system")
    );
}
