//! Copy written for the integration's type and its owner: owners by name, help texts that fit
//! the type (no refresh-token wording where there are none), correct articles.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::helpers::*;

#[tokio::test]
async fn console_pages_name_the_owner_and_speak_of_the_integration_as_its_type() {
    let w = world().await;
    let c = &w.admin.client;
    let sa = api(
        c,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Nightly export", "integration_type": "service_account", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = sa["integration"]["id"].as_str().unwrap();
    let page = c
        .get(&format!("/console/integrations/{id}"), StatusCode::OK)
        .await
        .text();
    assert!(page.contains("<span id=\"owner-name\">Acme</span>"), "{page}");
    assert!(
        !page.contains("refresh token"),
        "a service account has no refresh tokens: {page}"
    );
    assert!(page.contains("refuses new ones asked with a signed JWT"), "{page}");
    let subs = c
        .get(&format!("/console/integrations/{id}/subscriptions"), StatusCode::OK)
        .await
        .text();
    assert!(subs.contains("This is a Service Account integration"), "{subs}");

    let key = api(
        &w.dev.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Key", "integration_type": "api_key"})),
        StatusCode::CREATED,
    )
    .await;
    let kid = key["integration"]["id"].as_str().unwrap();
    let page = w
        .dev
        .client
        .get(&format!("/console/integrations/{kid}/subscriptions"), StatusCode::OK)
        .await
        .text();
    assert!(page.contains("This is an API Key integration"), "{page}");
    let overview = w
        .dev
        .client
        .get(&format!("/console/integrations/{kid}"), StatusCode::OK)
        .await
        .text();
    assert!(
        overview.contains("Personal (yours)") && !overview.contains("refresh token"),
        "{overview}"
    );
}
