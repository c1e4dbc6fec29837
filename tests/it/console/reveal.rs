//! New client secrets and generated private keys on the pages: POST-redirect-GET, so the page
//! that shows a secret can be reloaded without creating another, and shows it once — to this
//! session, within ten minutes, never cached — and a downloaded private key is not offered again.

use axum::http::{Method, StatusCode};
use gatehouse_web::Clock;

use super::helpers::*;
use crate::{
    harness::server::{TestClient, TestResponse, TestServer},
    identity::helpers::{PASSWORD, sign_in},
};

fn location(res: &TestResponse) -> String {
    res.header("location").unwrap().to_owned()
}

async fn secret_count(c: &TestClient, id: &str) -> usize {
    let v = api(
        c,
        Method::GET,
        &format!("/api/v1/integrations/{id}/secrets"),
        None,
        StatusCode::OK,
    )
    .await;
    v.as_array()
        .map(Vec::len)
        .unwrap_or_else(|| v["secrets"].as_array().unwrap().len())
}

/// Creates a service account through the page; returns its ID and where the POST redirected.
async fn create_on_page(w: &World) -> (String, String) {
    let res = post(
        &w.admin.client,
        "/console/integrations",
        &[
            ("integration_type", "service_account"),
            ("name", "Nightly export"),
            ("owner", &w.org_id),
        ],
        StatusCode::SEE_OTHER,
    )
    .await;
    let to = location(&res);
    assert!(to.contains("/created?secret="), "{to}");
    let id = to.split('/').nth(3).unwrap().to_owned();
    (id, to)
}

#[tokio::test]
async fn console_a_new_secret_is_shown_once_and_a_reload_creates_nothing() {
    let w = world().await;
    let c = &w.admin.client;
    let (id, to) = create_on_page(&w).await;
    // Someone else with the link sees nothing (and does not use it up).
    w.outsider.client.get(&to, StatusCode::NOT_FOUND).await;
    // Another session of the same person neither.
    let other = w.server.new_client();
    sign_in(&other, "admin@acme.test", PASSWORD).await;
    let elsewhere = other.get(&to, StatusCode::OK).await.text();
    assert!(
        !elsewhere.contains("ghs_") && elsewhere.contains("was shown once"),
        "{elsewhere}"
    );

    let first = c.get(&to, StatusCode::OK).await;
    assert_eq!(first.header("cache-control"), Some("no-store"));
    let html = first.text();
    assert!(
        html.contains("ghs_") && html.contains("only time it is shown"),
        "{html}"
    );
    // The reload: no secret, a clear message, nothing created.
    let again = c.get(&to, StatusCode::OK).await;
    assert_eq!(again.header("cache-control"), Some("no-store"));
    let again = again.text();
    assert!(!again.contains("ghs_"), "shown twice:\n{again}");
    assert!(again.contains("The client secret was shown once"), "{again}");
    let dash = c.get("/console/integrations", StatusCode::OK).await.text();
    assert_eq!(dash.matches("Nightly export").count(), 1, "created once");
    assert_eq!(secret_count(c, &id).await, 1);

    // Adding a secret: the same, on the credentials page.
    let res = post(
        c,
        &format!("/console/integrations/{id}/secrets"),
        &[],
        StatusCode::SEE_OTHER,
    )
    .await;
    let to = location(&res);
    assert!(to.contains("/credentials?secret="), "{to}");
    let page = c.get(&to, StatusCode::OK).await;
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page.text().contains("New client secret") && page.text().contains("ghs_"));
    let page = c.get(&to, StatusCode::OK).await.text();
    assert!(
        !page.contains("ghs_") && page.contains("The new client secret was shown once"),
        "{page}"
    );
    assert_eq!(secret_count(c, &id).await, 2);
    // A made-up or malformed handle is the same message, not an error.
    for bad in ["0".repeat(64), "nothex".into()] {
        let page = c
            .get(
                &format!("/console/integrations/{id}/credentials?secret={bad}"),
                StatusCode::OK,
            )
            .await
            .text();
        assert!(!page.contains("ghs_") && page.contains("was shown once"));
    }
    // The API still returns a new secret in its response.
    let created = api(
        c,
        Method::POST,
        &format!("/api/v1/integrations/{id}/secrets"),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(created["code"], "too_many_secrets", "{created}");
}

#[tokio::test]
async fn console_a_new_secret_not_seen_within_ten_minutes_is_gone() {
    let w = world_on(TestServer::start_with_clock(Clock::manual(1_800_000_000), |_| {}).await).await;
    let (_, to) = create_on_page(&w).await;
    w.server.state().clock.advance(601);
    let page = w.admin.client.get(&to, StatusCode::OK).await.text();
    assert!(!page.contains("ghs_") && page.contains("was shown once"), "{page}");
}

#[tokio::test]
async fn console_a_downloaded_private_key_is_not_offered_again() {
    let w = world().await;
    let c = &w.admin.client;
    let (id, _) = create_on_page(&w).await;
    let res = post(
        c,
        &format!("/console/integrations/{id}/certificates/generate"),
        &[],
        StatusCode::SEE_OTHER,
    )
    .await;
    let to = location(&res);
    let token = to.split("key=").nth(1).unwrap().to_owned();
    let page = c.get(&to, StatusCode::OK).await;
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page.text().contains("id=\"download-private-key\""));
    c.get(
        &format!("/console/integrations/{id}/private-key/{token}"),
        StatusCode::OK,
    )
    .await;
    // The reload offers nothing, says why, and generated nothing more.
    let page = c.get(&to, StatusCode::OK).await.text();
    assert!(!page.contains("download-private-key"), "{page}");
    assert!(page.contains("This private key is no longer available"), "{page}");
    assert_eq!(page.matches("class=\"small fingerprint\"").count(), 1);
}
