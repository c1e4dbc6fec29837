//! `/`: signed out it sends the browser to sign in; signed in it is a dashboard of the person's
//! integrations, organizations and own recent activity, with the next step for an empty account.
//! The logo links home and the "not found" page links somewhere useful.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::op_world;
use crate::console::helpers::api;

#[tokio::test]
async fn the_home_page_signs_in_or_shows_the_persons_dashboard() {
    let o = op_world().await;
    let w = &o.w;
    let anon = w.server.new_client();
    let res = anon.get("/", StatusCode::SEE_OTHER).await;
    assert_eq!(res.header("location"), Some("/signin"));

    // An empty account is told what to do next.
    let empty = w.outsider.client.get("/", StatusCode::OK).await.text();
    assert!(
        empty.contains("Start here") && empty.contains("/console/integrations/new"),
        "{empty}"
    );
    assert!(empty.contains("<a class=\"brand\" href=\"/\">Gatehouse</a>"));

    // The admin's: the organization with the role, an integration with its type and services,
    // and what they did — not what others did.
    let created = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Acme backend", "integration_type": "api_key", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["integration"]["id"].as_str().unwrap();
    api(
        &w.admin.client,
        Method::POST,
        &format!("/api/v1/integrations/{id}/subscriptions"),
        Some(json!({"service": "stock_search", "scopes": ["stock_search"]})),
        StatusCode::CREATED,
    )
    .await;
    api(
        &w.outsider.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Side project", "integration_type": "api_key"})),
        StatusCode::CREATED,
    )
    .await;
    let home = w.admin.client.get("/", StatusCode::OK).await.text();
    assert!(!home.contains("Start here"), "{home}");
    assert!(
        home.contains(&format!("href=\"/console/integrations/{id}\">Acme backend</a>")),
        "{home}"
    );
    assert!(home.contains("API Key") && home.contains("stock_search"), "{home}");
    assert!(home.contains(&format!("href=\"/console/orgs/{}\">Acme</a>", w.org_id)) && home.contains("(admin)"));
    assert!(
        home.contains("integration.created") && home.contains("subscription.created"),
        "{home}"
    );
    assert!(!home.contains("Side project"));
    assert!(home.contains("Never"), "not used yet: {home}");
    // A recorded use (a token, an accepted secret, a gateway call) shows as its last use.
    let now = w.server.state().now();
    w.server.state().tokens.last_used.mark(id, None, now);
    gatehouse_core::tokens::last_used::flush(&w.server.state().tokens)
        .await
        .unwrap();
    let when = time::OffsetDateTime::from_unix_timestamp(now)
        .unwrap()
        .date()
        .to_string();
    let home = w.admin.client.get("/", StatusCode::OK).await.text();
    assert!(
        home.contains(&format!("<td class=\"nowrap\">{when} ")),
        "{when} in {home}"
    );
    // The developer's activity is only what they did (their sign-in), not the admin's changes.
    let dev = w.dev.client.get("/", StatusCode::OK).await.text();
    assert!(
        dev.contains("signin.succeeded") && !dev.contains("integration.created"),
        "{dev}"
    );

    // /console and a sign-in without a destination land here.
    let res = w.admin.client.get("/console", StatusCode::SEE_OTHER).await;
    assert_eq!(res.header("location"), Some("/"));
}

#[tokio::test]
async fn the_not_found_page_links_home_and_onwards() {
    let o = op_world().await;
    let res =
        o.w.server
            .new_client()
            .get("/no/such/page", StatusCode::NOT_FOUND)
            .await
            .text();
    for link in ["href=\"/\"", "href=\"/console/integrations\"", "href=\"/signin\""] {
        assert!(res.contains(link), "{link} in {res}");
    }
}
