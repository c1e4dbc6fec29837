//! API keys restricted to allowed domains (at the gateway and in the API-key check), and services
//! reached at a gateway path of their own.

use axum::http::{Method, StatusCode};
use gatehouse_domain::gateway::GatewaySettings;
use gatehouse_store::{AuditStore, IntegrationStore, ServiceStore};

use super::{SCOPE, World, docs_service};
use gatehouse_domain::service::ActsFor;

/// Restricts the API Key integration of `w` to `domains` (an audited change, so every cache sees it).
async fn restrict(w: &World, domains: &[&str]) {
    let mut tx = w.server.store().begin().await.unwrap();
    let mut i = tx.integration_by_id(&w.key.integration.id).await.unwrap().unwrap();
    i.allowed_domains = domains.iter().map(|d| (*d).to_owned()).collect();
    tx.update_integration(&i).await.unwrap();
    tx.append_audit(&gatehouse_domain::audit::AuditEntry::new(
        w.server.state().now(),
        &gatehouse_domain::audit::Actor::System,
        "integration.updated",
        "test",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    w.server.state().refresh_caches().await.unwrap();
}

async fn call_from(w: &World, origin: Option<&str>, referer: Option<&str>, status: StatusCode) -> serde_json::Value {
    let c = w.server.new_client();
    let mut req = c
        .request(Method::GET, "/services/docs/x")
        .header("x-api-key", &w.key.client_id);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(r) = referer {
        req = req.header("referer", r);
    }
    let res = c.send(req, status).await;
    if status == StatusCode::FORBIDDEN {
        let challenge = res.header("www-authenticate").unwrap_or_default().to_owned();
        assert!(
            challenge.starts_with("APIKey ") && challenge.contains("error=\"domain_not_allowed\""),
            "{challenge}"
        );
        res.json_value()
    } else {
        serde_json::Value::Null
    }
}

#[tokio::test]
async fn a_key_restricted_to_domains_is_refused_elsewhere_and_without_an_origin() {
    let w = World::new().await;
    // Unrestricted: no origin needed.
    call_from(&w, None, None, StatusCode::OK).await;
    restrict(&w, &["app.example.com", "*.example.org"]).await;
    let refused = call_from(&w, None, None, StatusCode::FORBIDDEN).await;
    assert_eq!(refused["code"], "domain_not_allowed");
    assert!(
        refused["detail"].as_str().unwrap().contains("names no web origin"),
        "{refused}"
    );
    let refused = call_from(&w, Some("https://evil.example"), None, StatusCode::FORBIDDEN).await;
    assert_eq!(refused["code"], "domain_not_allowed");
    call_from(
        &w,
        Some("https://app.example.com.evil.example"),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    call_from(&w, Some("https://example.org"), None, StatusCode::FORBIDDEN).await;
    // The Origin wins over a Referer naming an allowed page.
    call_from(
        &w,
        Some("https://evil.example"),
        Some("https://app.example.com/"),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(w.upstream.count(), 1, "no refused call reached the upstream");

    call_from(&w, Some("https://app.example.com"), None, StatusCode::OK).await;
    call_from(&w, Some("https://eu.cdn.example.org"), None, StatusCode::OK).await;
    call_from(&w, None, Some("https://app.example.com/page?x=1"), StatusCode::OK).await;
    assert_eq!(w.upstream.count(), 4);

    // Refusals are counted under their reason.
    gatehouse_core::gateway::flush_usage(w.server.state()).await.unwrap();
    let mut conn = w.server.store().conn().await.unwrap();
    let usage = gatehouse_store::GatewayStore::usage_of(&mut conn, &w.key.integration.id, 0)
        .await
        .unwrap();
    let refused: i64 = usage
        .iter()
        .filter(|u| u.outcome == "domain_not_allowed")
        .map(|u| u.requests)
        .sum();
    assert_eq!(refused, 5);
}

#[tokio::test]
async fn the_api_key_check_reports_a_domain_outside_the_allowed_ones() {
    let w = World::new().await;
    restrict(&w, &["app.example.com"]).await;
    let c = w.server.new_client();
    let check = |origin: Option<&'static str>| {
        let mut req = c
            .request(Method::GET, "/oauth/api-key-check?service=docs")
            .header("x-api-key", &w.key.client_id);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req
    };
    let elsewhere = c
        .send(check(Some("https://evil.example")), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(elsewhere["valid"], true);
    assert_eq!(elsewhere["domain_allowed"], false);
    assert_eq!(elsewhere["subscribed"], false, "{elsewhere}");
    let nowhere = c.send(check(None), StatusCode::OK).await.json_value();
    assert_eq!(nowhere["subscribed"], false, "{nowhere}");
    let allowed = c
        .send(check(Some("https://app.example.com")), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(allowed["domain_allowed"], true);
    assert_eq!(allowed["subscribed"], true, "{allowed}");
}

#[tokio::test]
async fn a_service_is_reached_at_its_own_gateway_path_too() {
    let w = World::with(
        ActsFor::Organization,
        GatewaySettings {
            path: Some("/docs-api/v2".into()),
            ..GatewaySettings::default()
        },
    )
    .await;
    let token = w.token(&w.sa, SCOPE).await;
    let c = w.server.new_client();
    let call = |path: &str| {
        c.request(Method::GET, path)
            .header("x-api-key", &w.sa.client_id)
            .bearer_auth(&token)
    };
    c.send(call("/docs-api/v2/items/7?full=1"), StatusCode::OK).await;
    c.send(call("/docs-api/v2"), StatusCode::OK).await;
    c.send(call("/services/docs/items/8"), StatusCode::OK).await;
    let paths: Vec<String> = w.upstream.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, vec!["/base/items/7?full=1", "/base", "/base/items/8"]);
    // Only whole segments match; what is not a service's path is Gatehouse's 404.
    let res = c.send(call("/docs-api/v2x/items"), StatusCode::NOT_FOUND).await;
    assert!(res.header("content-type").unwrap_or_default().contains("text/html"));
    c.send(call("/docs-api"), StatusCode::NOT_FOUND).await;
    // The same checks as under /services: no API key, no call.
    let refused = c
        .send(c.request(Method::GET, "/docs-api/v2/items"), StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(refused.json_value()["code"], "api_key_required");
    c.send(call("/docs-api/v2/a%2f..%2fadmin"), StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(w.upstream.count(), 3);

    // Moving the path moves the service; Gatehouse's own paths stay its own.
    let mut tx = w.server.store().begin().await.unwrap();
    let mut docs = docs_service(&w.upstream, ActsFor::Organization, GatewaySettings::default(), 0);
    docs.gateway.path = Some("/d".into());
    tx.upsert_service(&docs).await.unwrap();
    tx.append_audit(&gatehouse_domain::audit::AuditEntry::new(
        w.server.state().now(),
        &gatehouse_domain::audit::Actor::System,
        "service.updated",
        "docs",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    w.server.state().refresh_caches().await.unwrap();
    c.send(call("/docs-api/v2/items"), StatusCode::NOT_FOUND).await;
    c.send(call("/d/items"), StatusCode::OK).await;
    c.send(c.request(Method::GET, "/healthz"), StatusCode::OK).await;
}
