//! Configuring the gateway: `gatehouse apply` (and export), `/api/v1/services` and the operators'
//! per-integration limits.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    gateway::{IdentityForwarding, Limits},
    ids::ClientId,
    service::ServiceCode,
};
use gatehouse_store::{IntegrationStore, ServiceStore};
use serde_json::json;

use crate::{
    console::helpers::{api, make_operator, world},
    harness::db::TestDatabase,
    provision::apply_text,
};

const FILE: &str = r#"
[[organizations]]
id = "0123456789abcdef01234567@GatehouseOrg"
name = "Acme"

[[services]]
code = "docs"
name = "Docs"
allowed_types = ["oauth", "service_account", "api_key"]
scopes = ["docs.read"]
upstream_url = "http://docs.internal:8080/v1"
identity = "token"
gateway_path = "/docs-api/v1"
limits = { per_second = 50, burst = 100, per_day = 100000, per_month = 2000000 }

[[integrations]]
name = "Web"
type = "oauth"
platform = "web"
organization = "Acme"
client_id = "dddddddddddddddddddddddddddddddd"
client_secret = "first-secret-0123456789"
redirect_uri = "https://app.example.com/cb"
allowed_domains = ["App.example.com", "*.example.org"]
subscriptions = [{ service = "docs", limits = { per_day = 10 } }]
"#;

#[tokio::test]
async fn gateway_settings_and_limits_are_provisioned_exported_and_applied_idempotently() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    apply_text(&store, FILE).await.unwrap();
    let mut conn = store.conn().await.unwrap();
    let docs = conn
        .service_by_code(&ServiceCode::parse("docs").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(docs.gateway.identity, IdentityForwarding::Token);
    assert_eq!(
        docs.gateway.limits,
        Limits {
            per_second: Some(50),
            burst: Some(100),
            per_day: Some(100_000),
            per_month: Some(2_000_000),
        }
    );
    assert_eq!(docs.gateway.path.as_deref(), Some("/docs-api/v1"));
    let web = conn
        .integration_by_client_id(&ClientId::parse("dddddddddddddddddddddddddddddddd").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        web.allowed_domains,
        vec!["app.example.com", "*.example.org"],
        "normalized"
    );
    let subs = conn.subscriptions_of(&web.id).await.unwrap();
    assert_eq!(subs[0].limits.per_day, Some(10));

    let exported = gatehouse_app::provision::export(&store).await.unwrap();
    assert!(exported.contains("identity = \"token\""), "{exported}");
    assert!(
        exported.contains("limits = { per_second = 50, burst = 100, per_day = 100000, per_month = 2000000 }"),
        "{exported}"
    );
    assert!(exported.contains("gateway_path = \"/docs-api/v1\""), "{exported}");
    assert!(
        exported.contains("allowed_domains = [\"app.example.com\", \"*.example.org\"]"),
        "{exported}"
    );
    assert!(exported.contains("limits = { per_day = 10 }"), "{exported}");
    let again = apply_text(&store, FILE).await.unwrap();
    assert_eq!(
        again.writes, 0,
        "applying the same file changes nothing: {:?}",
        again.changes
    );

    let bad = FILE
        .replace("burst = 100, ", "burst = 0, ")
        .replace("identity = \"token\"", "identity = \"x\"")
        .replace("/docs-api/v1", "/oauth/v1")
        .replace("*.example.org", "https://example.org");
    let err = apply_text(&store, &bad).await.unwrap_err().to_string();
    assert!(err.contains("services[0].gateway_path"), "{err}");
    assert!(err.contains("integrations[0].allowed_domains"), "{err}");
    assert!(err.contains("services[0].limits") && err.contains("burst"), "{err}");
    assert!(err.contains("services[0].identity"), "{err}");
}

#[tokio::test]
async fn operators_set_gateway_settings_and_per_integration_limits_over_the_api() {
    let w = world().await;
    make_operator(&w.server, &w.admin.account).await;
    let c = &w.admin.client;
    let created = api(
        c,
        Method::POST,
        "/api/v1/services",
        Some(json!({
            "code": "docs", "name": "Docs", "allowed_types": ["oauth", "api_key"], "scopes": ["docs.read"],
            "acts_for": "organization", "upstream_url": "http://127.0.0.1:9/v1",
            "identity": "token", "limits": {"per_second": 5, "per_day": 1000, "per_month": 20000},
            "gateway_path": "/docs/v1"
        })),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["identity"], "token");
    assert_eq!(created["gateway_path"], "/docs/v1");
    assert_eq!(
        created["limits"],
        json!({"per_second": 5, "per_day": 1000, "per_month": 20000})
    );
    let reserved = api(
        c,
        Method::PUT,
        "/api/v1/services/docs",
        Some(json!({
            "name": "Docs", "allowed_types": ["oauth"], "acts_for": "organization",
            "gateway_path": "/api/docs"
        })),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(reserved["code"], "invalid_gateway_path", "{reserved}");
    let bad = api(
        c,
        Method::PUT,
        "/api/v1/services/docs",
        Some(json!({
            "name": "Docs", "allowed_types": ["oauth"], "acts_for": "organization",
            "limits": {"burst": 3}
        })),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(bad["code"], "invalid_limits", "{bad}");

    let i = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Key", "integration_type": "api_key", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = i["integration"]["id"].as_str().unwrap().to_owned();
    let restricted = api(
        c,
        Method::PATCH,
        &format!("/api/v1/integrations/{id}"),
        Some(json!({"allowed_domains": ["App.Example.com", "localhost:3000"]})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        restricted["allowed_domains"],
        json!(["app.example.com", "localhost:3000"])
    );
    let bad_domain = api(
        c,
        Method::PATCH,
        &format!("/api/v1/integrations/{id}"),
        Some(json!({"allowed_domains": ["https://app.example.com/"]})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(bad_domain["code"], "invalid_allowed_domain", "{bad_domain}");
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "docs"})),
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/api/v1/integrations/{id}/subscriptions/docs/limits");
    let sub = api(c, Method::PUT, &path, Some(json!({"per_day": 5})), StatusCode::OK).await;
    assert_eq!(sub["limits"], json!({"per_day": 5}));
    let listed = api(
        c,
        Method::GET,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed[0]["limits"], json!({"per_day": 5}));
    // A developer changing the scopes keeps the operator's limits; a developer cannot set them.
    let dev = &w.dev.client;
    let problem = api(
        dev,
        Method::PUT,
        &path,
        Some(json!({"per_day": 1_000_000})),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(problem["code"], "operator_required", "{problem}");
}

#[tokio::test]
async fn operators_edit_gateway_settings_on_the_console_service_page() {
    use crate::identity::helpers::post;
    let w = world().await;
    make_operator(&w.server, &w.outsider.account).await;
    let op = &w.outsider.client;
    let fields = |per_day: &'static str| {
        [
            ("code", "docs"),
            ("name", "Docs"),
            ("allowed_types", "api_key"),
            ("acts_for", "organization"),
            ("upstream_url", "http://127.0.0.1:9/v1"),
            ("identity", "token"),
            ("per_second", "5"),
            ("burst", ""),
            ("per_day", per_day),
        ]
    };
    let page = post(
        op,
        "/console/services",
        &fields("many"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    assert!(
        page.contains("id=\"limits-error\""),
        "the limits' error is shown by its fields: {page}"
    );
    post(op, "/console/services", &fields("1000"), StatusCode::SEE_OTHER).await;
    let page = op.get("/console/services/docs", StatusCode::OK).await.text();
    assert!(
        page.contains("id=\"identity-token\" name=\"identity\" value=\"token\" checked"),
        "{page}"
    );
    assert!(
        page.contains("name=\"per_day\" type=\"text\" inputmode=\"numeric\" value=\"1000\""),
        "{page}"
    );
    let stored = w
        .server
        .store()
        .conn()
        .await
        .unwrap()
        .service_by_code(&ServiceCode::parse("docs").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.gateway.identity, IdentityForwarding::Token);
    assert_eq!(
        stored.gateway.limits,
        Limits {
            per_second: Some(5),
            burst: None,
            per_day: Some(1000),
            per_month: None,
        }
    );
}

#[tokio::test]
async fn an_integrations_overview_charts_its_gateway_calls_of_the_last_30_days() {
    let w = world().await;
    make_operator(&w.server, &w.admin.account).await;
    let upstream = crate::harness::receiver::TestReceiver::start().await;
    let c = &w.admin.client;
    api(
        c,
        Method::POST,
        "/api/v1/services",
        Some(json!({
            "code": "docs", "name": "Docs", "allowed_types": ["api_key"], "acts_for": "organization",
            "upstream_url": upstream.url("/"), "limits": {"per_second": 2, "burst": 2}
        })),
        StatusCode::CREATED,
    )
    .await;
    let i = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Key", "integration_type": "api_key", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = i["integration"]["id"].as_str().unwrap().to_owned();
    let key = i["integration"]["client_id"].as_str().unwrap().to_owned();
    let page = c
        .get(&format!("/console/integrations/{id}"), StatusCode::OK)
        .await
        .text();
    assert!(
        page.contains("No calls through the gateway in the last 30 days"),
        "{page}"
    );
    api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "docs"})),
        StatusCode::CREATED,
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = w
            .server
            .client()
            .request(Method::GET, "/services/docs/x")
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    let allowed = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = statuses.len() - allowed;
    assert!(limited >= 1, "{statuses:?}");
    gatehouse_core::gateway::flush_usage(w.server.state()).await.unwrap();
    let page = c
        .get(&format!("/console/integrations/{id}"), StatusCode::OK)
        .await
        .text();
    assert!(
        page.contains(&format!("{allowed} let through, {limited} refused")),
        "the totals: {page}"
    );
    assert!(
        page.contains("<svg") && page.contains("class=\"bar-refused\""),
        "the chart: {page}"
    );
    assert!(
        page.contains(&format!("<code>rate_limited</code> {limited}")),
        "the refusals by reason: {page}"
    );
    // Someone outside the organization sees neither the page nor the usage.
    w.outsider
        .client
        .get(&format!("/console/integrations/{id}"), StatusCode::NOT_FOUND)
        .await;
    api(
        &w.outsider.client,
        Method::GET,
        &format!("/api/v1/integrations/{id}/usage"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
}
