//! Every refusal of the gateway, each next to its positive control; none reaches the upstream.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{audit::Actor, audit::AuditEntry, integration::IntegrationStatus};
use gatehouse_store::{AuditStore, IntegrationStore};

use super::{SCOPE, World};
use crate::harness::server::TestResponse;

/// The refusal's code, after checking its shape: problem+JSON, and a challenge on 401 and 403.
fn refused(res: &TestResponse, scheme: &str) -> String {
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    let challenge = res
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("no challenge: {}", res.text()));
    assert!(challenge.starts_with(scheme), "{challenge}");
    res.json_value()["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_refusal_names_what_is_missing_and_never_reaches_the_upstream() {
    let w = World::new().await;
    let sa = w.sa.client_id.as_str();
    let token = w.token(&w.sa, SCOPE).await;
    let outsider_token = w.token(&w.outsider, "").await;
    let narrow = w.sa_token(&["docs.write", "openid"]).await;
    let get = |key, token, status| w.call(Method::GET, "/v1/x", key, token, status);

    let res = get(None, Some(&token), StatusCode::UNAUTHORIZED).await;
    assert_eq!(refused(&res, "APIKey"), "api_key_required");
    let res = get(
        Some("0123456789abcdef0123456789abcdef"),
        Some(&token),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(refused(&res, "APIKey"), "invalid_api_key");
    let res = get(Some(sa), None, StatusCode::UNAUTHORIZED).await;
    assert_eq!(refused(&res, "Bearer realm"), "token_required");
    let res = get(Some(sa), Some("not.a.token"), StatusCode::UNAUTHORIZED).await;
    assert_eq!(refused(&res, "Bearer"), "invalid_token");
    assert!(
        res.header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    let res = get(Some(sa), Some(&outsider_token), StatusCode::FORBIDDEN).await;
    assert_eq!(refused(&res, "Bearer"), "token_of_another_integration");
    let res = get(
        Some(&w.outsider.client_id),
        Some(&outsider_token),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(refused(&res, "APIKey"), "not_subscribed");
    let res = get(Some(sa), Some(&narrow), StatusCode::FORBIDDEN).await;
    assert_eq!(refused(&res, "Bearer"), "insufficient_scope");
    let person = w.person_token(&w.web, "acct-ada", &[SCOPE]).await;
    let res = get(Some(&w.web.client_id), Some(&person), StatusCode::FORBIDDEN).await;
    assert_eq!(
        refused(&res, "Bearer"),
        "integration_token_required",
        "the service acts for organizations"
    );
    let c = w.server.new_client();
    let res = c
        .send(
            c.request(Method::GET, "/services/nothing/x").header("x-api-key", sa),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(res.json_value()["code"], "service_not_found");
    let res = w
        .call(
            Method::GET,
            "/a%2f..%2f..%2fadmin",
            Some(sa),
            Some(&token),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert_eq!(res.json_value()["code"], "invalid_path");
    assert_eq!(w.upstream.count(), 0, "refused calls never reach the upstream");

    // The positive controls: the same calls with what was missing.
    get(Some(sa), Some(&token), StatusCode::OK).await;
    get(Some(&w.key.client_id), None, StatusCode::OK).await;
    assert_eq!(w.upstream.count(), 2);
}

#[tokio::test]
async fn a_revoked_token_and_a_disabled_integration_are_refused_at_once() {
    let w = World::new().await;
    let sa = w.sa.client_id.as_str();
    let token = w.token(&w.sa, SCOPE).await;
    w.call(Method::GET, "/", Some(sa), Some(&token), StatusCode::OK).await;
    let c = w.server.new_client();
    c.send(
        c.request(Method::POST, "/oauth/revoke")
            .basic_auth(sa, w.sa.secret.as_deref())
            .form(&[("token", token.as_str())]),
        StatusCode::OK,
    )
    .await;
    let res = w
        .call(Method::GET, "/", Some(sa), Some(&token), StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(refused(&res, "Bearer"), "invalid_token");

    let live = w.token(&w.sa, SCOPE).await;
    w.call(Method::GET, "/", Some(sa), Some(&live), StatusCode::OK).await;
    let mut disabled = w.sa.integration.clone();
    disabled.status = IntegrationStatus::Disabled;
    let mut tx = w.server.store().begin().await.unwrap();
    tx.update_integration(&disabled).await.unwrap();
    tx.append_audit(&AuditEntry::new(
        w.server.state().now(),
        &Actor::System,
        "integration.disabled",
        "test",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let res = w
        .call(Method::GET, "/", Some(sa), Some(&live), StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(
        refused(&res, "Bearer"),
        "invalid_token",
        "the verifier refuses a disabled integration's token"
    );
    // An API Key integration has no token: its disabling is refused by the policy.
    let mut key = w.key.integration.clone();
    w.call(Method::GET, "/", Some(&w.key.client_id), None, StatusCode::OK)
        .await;
    key.status = IntegrationStatus::Disabled;
    let mut tx = w.server.store().begin().await.unwrap();
    tx.update_integration(&key).await.unwrap();
    tx.append_audit(&AuditEntry::new(
        w.server.state().now(),
        &Actor::System,
        "integration.disabled",
        "test",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let res = w
        .call(Method::GET, "/", Some(&w.key.client_id), None, StatusCode::FORBIDDEN)
        .await;
    assert_eq!(refused(&res, "APIKey"), "integration_disabled");
    assert_eq!(w.upstream.count(), 3, "only the positive controls reached the upstream");
}

#[tokio::test]
async fn an_upstream_that_does_not_answer_is_a_bad_gateway() {
    let w = World::new().await;
    let token = w.token(&w.sa, SCOPE).await;
    w.upstream.stop().await;
    let res = w
        .call(
            Method::GET,
            "/",
            Some(&w.sa.client_id),
            Some(&token),
            StatusCode::BAD_GATEWAY,
        )
        .await;
    assert_eq!(res.json_value()["code"], "upstream_unavailable");
}
