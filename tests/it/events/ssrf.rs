//! The address filter at delivery time: an endpoint that was allowed when it was registered is
//! checked again on every connection (DNS answers change; allow-lists shrink), for names that
//! resolve to private addresses and for IP literals alike.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;

use super::client::*;
use crate::harness::receiver::TestReceiver;

const CODE: &str = "com.acme.ssrf";

#[tokio::test]
async fn deliveries_are_refused_when_the_address_is_no_longer_allowed() {
    let server = server().await;
    let a = caller(&server).await;
    let receiver = TestReceiver::start().await;
    let port = receiver.base_url().rsplit(':').next().unwrap().to_owned();
    let p = a.provider(&[CODE]).await;
    // Allowed while loopback is allow-listed.
    for (name, url) in [
        ("By name", format!("http://localhost:{port}/named")),
        ("By literal", format!("http://127.0.0.1:{port}/literal")),
    ] {
        let r = a.register(name, "webhook", Some(&url), &p, CODE).await;
        assert!(r["id"].is_string(), "{r}");
    }
    let challenges = receiver.count();
    a.publish(&p, CODE, "e1", json!({})).await;

    // A dispatcher of a node whose allow-list is empty.
    let mut state = gatehouse_core::Core::clone(&server.state().core);
    let mut settings = (*state.settings).clone();
    settings.events_allowed_networks = Vec::new();
    state.settings = Arc::new(settings);
    let d = gatehouse_core::events::Dispatcher::new(&state, Default::default()).unwrap();
    let report = d.dispatch_due(server.state().now()).await.unwrap();
    assert_eq!(report.attempted, 2);
    assert_eq!(report.delivered, 0);
    assert_eq!(receiver.count(), challenges, "no request reached the loopback receiver");

    for r in a.get("/api/v1/events/registrations", StatusCode::OK).await.json_value()["data"]
        .as_array()
        .unwrap()
    {
        let id = r["id"].as_str().unwrap();
        let log = a
            .get(&format!("/api/v1/events/registrations/{id}/attempts"), StatusCode::OK)
            .await
            .json_value();
        let attempt = &log["data"][0];
        assert!(attempt["status_code"].is_null(), "{attempt}");
        let error = attempt["error"].as_str().unwrap();
        assert!(error.contains("loopback"), "{}: {error}", r["name"]);
    }
}
