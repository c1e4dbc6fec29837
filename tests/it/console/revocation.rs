//! Disabling or deleting an integration ends everything its client was issued: access tokens,
//! refresh tokens and unused authorization codes — and enabling it again, or provisioning its
//! client ID again, revives none of them.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    audit::{Actor, AuditEntry},
    ids::OrgId,
    org::{Membership, Role},
};
use gatehouse_store::{AuditStore, OrgStore, TokenStore};
use serde_json::{Value, json};

use super::helpers::api;
use crate::{
    harness::{
        fixtures::Fixtures,
        server::{TestClient, TestServer},
    },
    token::flow::{
        OAuthApp, VERIFIER, authorize, authorize_again, authorize_url, oauth_app, redeem, refresh, signed_in,
    },
};
use gatehouse_domain::integration::Platform;

/// A person who has authorized the app (offline_access), administers the app's organization,
/// holds a refresh token and an authorization code not yet redeemed.
struct Granted {
    client: TestClient,
    refresh_token: String,
    access_token: String,
    unused_code: String,
}

async fn granted(server: &TestServer, app: &OAuthApp) -> Granted {
    let (c, account) = signed_in(server, "ada@example.com").await;
    let now = server.state().now();
    let mut tx = server.store().begin().await.unwrap();
    tx.upsert_membership(&Membership {
        org_id: OrgId::parse(app.integration.org_id().unwrap()).unwrap(),
        account_id: account.id.clone(),
        role: Role::Admin,
        created_at: now,
    })
    .await
    .unwrap();
    tx.append_audit(&AuditEntry::new(now, &Actor::System, "test.membership", "test"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let reply = authorize(&c, &authorize_url("/oauth/authorize", app, &[])).await;
    let tokens = redeem(&c, "/oauth/token", app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;
    assert!(tokens["scope"].as_str().unwrap().contains("offline_access"));
    let unused = authorize_again(&c, &authorize_url("/oauth/authorize", app, &[("state", "two")])).await;
    Granted {
        client: c,
        refresh_token: tokens["refresh_token"].as_str().unwrap().to_owned(),
        access_token: tokens["access_token"].as_str().unwrap().to_owned(),
        unused_code: unused["code"].clone(),
    }
}

async fn set_status(c: &TestClient, app: &OAuthApp, status: &str) {
    let path = format!("/api/v1/integrations/{}", app.integration.id);
    let v = api(
        c,
        Method::PATCH,
        &path,
        Some(json!({ "status": status })),
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["status"], status);
}

async fn refresh_row_revoked(server: &TestServer, token: &str) -> bool {
    let digest = gatehouse_domain::secret::digest(token);
    let mut conn = server.store().conn().await.unwrap();
    match conn.refresh_token_by_digest(&digest).await.unwrap() {
        Some(r) => r.revoked_at.is_some(),
        None => true,
    }
}

fn last_details(entries: &[gatehouse_domain::audit::AuditRecord], action: &str) -> Value {
    entries
        .iter()
        .find(|r| r.entry.action == action)
        .map(|r| r.entry.details.clone())
        .unwrap_or_else(|| panic!("no {action} entry"))
}

#[tokio::test]
async fn console_disabling_revokes_refresh_tokens_and_codes_for_good() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let g = granted(&server, &app).await;
    // Still working before anything happens.
    let fresh = refresh(&g.client, &app, &g.refresh_token, StatusCode::OK).await;
    let refresh_token = fresh["refresh_token"].as_str().unwrap().to_owned();

    set_status(&g.client, &app, "disabled").await;
    // While disabled the client itself is refused (RFC 6749 §5.2 invalid_client, as for every
    // request of a disabled client).
    let res = refresh(&g.client, &app, &refresh_token, StatusCode::UNAUTHORIZED).await;
    assert_eq!(res["error"], "invalid_client");
    assert!(
        refresh_row_revoked(&server, &refresh_token).await,
        "revoked in the store"
    );

    set_status(&g.client, &app, "active").await;
    // Enabled again: the client authenticates, but what it held before is dead (invalid_grant).
    let res = refresh(&g.client, &app, &refresh_token, StatusCode::BAD_REQUEST).await;
    assert_eq!(res["error"], "invalid_grant", "{res}");
    let res = redeem(
        &g.client,
        "/oauth/token",
        &app,
        &g.unused_code,
        Some(VERIFIER),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(res["error"], "invalid_grant", "{res}");
    let req = g
        .client
        .request(Method::GET, "/oauth/userinfo")
        .bearer_auth(&g.access_token);
    g.client.send(req, StatusCode::UNAUTHORIZED).await;
    // A new authorization works again.
    let reply = authorize_again(&g.client, &authorize_url("/oauth/authorize", &app, &[("state", "3")])).await;
    let tokens = redeem(
        &g.client,
        "/oauth/token",
        &app,
        &reply["code"],
        Some(VERIFIER),
        StatusCode::OK,
    )
    .await;
    refresh(
        &g.client,
        &app,
        tokens["refresh_token"].as_str().unwrap(),
        StatusCode::OK,
    )
    .await;

    let mut conn = server.store().conn().await.unwrap();
    let entries = conn.recent_audit(None, 100).await.unwrap();
    let details = last_details(&entries, "integration.disabled");
    assert_eq!(details["refresh_tokens_revoked"], 1, "{details}");
    assert_eq!(details["authorization_codes_revoked"], 1, "{details}");
}

#[tokio::test]
async fn console_deleting_revokes_refresh_tokens_and_codes_even_if_the_client_id_returns() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let g = granted(&server, &app).await;
    let path = format!("/api/v1/integrations/{}", app.integration.id);
    api(&g.client, Method::DELETE, &path, None, StatusCode::NO_CONTENT).await;
    let res = refresh(&g.client, &app, &g.refresh_token, StatusCode::UNAUTHORIZED).await;
    assert_eq!(res["error"], "invalid_client");
    assert!(refresh_row_revoked(&server, &g.refresh_token).await);

    // The same client ID and secret provisioned again (as `gatehouse apply` may with fixed client
    // IDs): the old refresh token and code stay dead.
    let again = {
        let mut i = app.integration.clone();
        i.id = uuid::Uuid::new_v4().to_string();
        // In a project of its own: the deleted one's project and workspace remain.
        i.workspace_id = uuid::Uuid::new_v4().to_string();
        i
    };
    Fixtures::new(server.store())
        .at(server.state().now())
        .integration(again)
        .secret_value(app.secret.as_deref().unwrap())
        .insert()
        .await;
    let res = refresh(&g.client, &app, &g.refresh_token, StatusCode::BAD_REQUEST).await;
    assert_eq!(res["error"], "invalid_grant", "{res}");
    let res = redeem(
        &g.client,
        "/oauth/token",
        &app,
        &g.unused_code,
        Some(VERIFIER),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(res["error"], "invalid_grant", "{res}");
}
