//! The identity API with an access token instead of the console session: a token issued to a
//! person with the `gatehouse.console` scope acts as that person (no CSRF header needed); without
//! the scope 403; revoked, expired, or its account disabled: 401.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    audit::Actor,
    integration::{IntegrationType, Platform},
    service::{ActsFor, Service, ServiceCode},
};
use gatehouse_store::AuditStore;
use gatehouse_web::Clock;
use serde_json::{Value, json};

use super::enterprise::{admin_with_org, api, managed_account};
use super::helpers::*;
use crate::{
    harness::{
        fixtures::Fixtures,
        server::{TestClient, TestServer},
    },
    token::flow::{
        OAuthApp, VERIFIER, authorize, authorize_again, authorize_url, introspect, oauth_app, redeem, refresh,
    },
};

/// An OAuth app that may also ask for `gatehouse.console` on behalf of people.
pub(crate) async fn console_app(server: &TestServer) -> OAuthApp {
    let app = oauth_app(server, Platform::Web).await;
    let now = server.state().now();
    let service = Service {
        code: ServiceCode::parse("gatehouse_console").unwrap(),
        name: "Gatehouse Console".into(),
        description: String::new(),
        allowed_types: vec![IntegrationType::Oauth],
        scopes: vec!["gatehouse.console".into()],
        acts_for: ActsFor::User,
        upstream_url: None,
        gateway: Default::default(),
        created_at: now,
        updated_at: now,
    };
    Fixtures::new(server.store())
        .at(now)
        .existing(&app.integration)
        .service(&service)
        .subscribe(service.code.as_str(), &service.scopes)
        .insert()
        .await;
    app
}

/// The code flow for the signed-in `c` with `scope` (`again`: consent was given before); returns
/// the token response.
async fn tokens(c: &TestClient, app: &OAuthApp, scope: &str, again: bool) -> Value {
    let url = authorize_url("/oauth/authorize", app, &[("scope", scope)]);
    let reply = if again {
        authorize_again(c, &url).await
    } else {
        authorize(c, &url).await
    };
    redeem(c, "/oauth/token", app, &reply["code"], Some(VERIFIER), StatusCode::OK).await
}

async fn bearer(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    expected: StatusCode,
) -> Value {
    let c = server.new_client();
    let mut req = c.request(method, path).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = c.send(req, expected).await;
    if res.body.is_empty() {
        Value::Null
    } else {
        if !res.status.is_success() {
            assert_eq!(res.header("content-type"), Some("application/problem+json"));
        }
        res.json_value()
    }
}

#[tokio::test]
async fn a_persons_console_token_works_and_one_without_the_scope_is_refused() {
    let server = TestServer::start().await;
    let app = console_app(&server).await;
    let (c, a) = signed_in(&server, "ada@example.com").await;
    let t = tokens(&c, &app, "openid offline_access gatehouse.console", false).await;
    let token = t["access_token"].as_str().unwrap();

    let me = bearer(&server, Method::GET, "/api/v1/account", token, None, StatusCode::OK).await;
    assert_eq!(me["id"], a.id.as_str());
    // State-changing calls need no CSRF header with a token.
    let org = bearer(
        &server,
        Method::POST,
        "/api/v1/orgs",
        token,
        Some(json!({"name": "Token Org"})),
        StatusCode::CREATED,
    )
    .await;
    let org_id = org["id"].as_str().unwrap();
    let members = bearer(
        &server,
        Method::GET,
        &format!("/api/v1/orgs/{org_id}/members"),
        token,
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(members[0]["account_id"], a.id.as_str());
    bearer(
        &server,
        Method::POST,
        &format!("/api/v1/orgs/{org_id}/invitations"),
        token,
        Some(json!({"email": "bob@example.com", "role": "member"})),
        StatusCode::CREATED,
    )
    .await;
    let audit = server
        .store()
        .conn()
        .await
        .unwrap()
        .recent_audit(Some(org_id), 10)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.entry.action == "org.created" && r.entry.actor == Actor::Account(a.id.clone()).render())
    );

    let plain = tokens(&c, &app, "openid pdf_read", false).await;
    let p = bearer(
        &server,
        Method::GET,
        "/api/v1/account",
        plain["access_token"].as_str().unwrap(),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["code"], "insufficient_scope");
    assert!(p["detail"].as_str().unwrap().contains("gatehouse.console"), "{p}");

    let p = bearer(
        &server,
        Method::GET,
        "/api/v1/orgs",
        "not-a-token",
        None,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(p["code"], "invalid_token");
}

#[tokio::test]
async fn revoked_and_expired_tokens_get_401() {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = Clock::manual(now);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let app = console_app(&server).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let revoked = tokens(&c, &app, "openid gatehouse.console", false).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let expiring = tokens(&c, &app, "openid gatehouse.console", true).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    bearer(&server, Method::GET, "/api/v1/orgs", &revoked, None, StatusCode::OK).await;

    let anon = server.new_client();
    anon.send(
        anon.request(Method::POST, "/oauth/revoke")
            .basic_auth(&app.client_id, app.secret.as_deref())
            .form(&[("token", revoked.as_str())]),
        StatusCode::OK,
    )
    .await;
    clock.advance(2); // every node's deny-list catches up within a second
    let p = bearer(
        &server,
        Method::GET,
        "/api/v1/orgs",
        &revoked,
        None,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(p["code"], "invalid_token");
    bearer(&server, Method::GET, "/api/v1/orgs", &expiring, None, StatusCode::OK).await;

    clock.advance(3600);
    let p = bearer(
        &server,
        Method::GET,
        "/api/v1/orgs",
        &expiring,
        None,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(p["code"], "invalid_token");
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
}

#[tokio::test]
async fn disabling_an_account_ends_its_access_and_refresh_tokens() {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = Clock::manual(now);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let app = console_app(&server).await;
    let (admin, _, org) = admin_with_org(&server, "boss@acme.test", "Acme").await;
    managed_account(&server, &org, "worker@acme.test").await;
    let worker = server.new_client();
    assert_eq!(sign_in(&worker, "worker@acme.test", PASSWORD).await, "/console");
    let t = tokens(&worker, &app, "openid offline_access gatehouse.console", false).await;
    let access = t["access_token"].as_str().unwrap();
    let refresh_token = t["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&worker, &app, access).await["active"], true);
    bearer(&server, Method::GET, "/api/v1/account", access, None, StatusCode::OK).await;

    let me = bearer(&server, Method::GET, "/api/v1/account", access, None, StatusCode::OK).await;
    clock.advance(1);
    api(
        &admin,
        Method::POST,
        &format!("/api/v1/orgs/{org}/accounts/{}/disable", me["id"].as_str().unwrap()),
        None,
        StatusCode::OK,
    )
    .await;
    clock.advance(2);
    assert_eq!(introspect(&worker, &app, access).await["active"], false);
    let p = bearer(
        &server,
        Method::GET,
        "/api/v1/account",
        access,
        None,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(p["code"], "invalid_token");
    let r = refresh(&worker, &app, refresh_token, StatusCode::BAD_REQUEST).await;
    assert_eq!(r["error"], "invalid_grant");

    // Re-enabled, the person signs in and gets tokens that work; the old ones stay dead.
    api(
        &admin,
        Method::POST,
        &format!("/api/v1/orgs/{org}/accounts/{}/enable", me["id"].as_str().unwrap()),
        None,
        StatusCode::OK,
    )
    .await;
    clock.advance(1);
    assert_eq!(sign_in(&worker, "worker@acme.test", PASSWORD).await, "/console");
    let fresh = tokens(&worker, &app, "openid gatehouse.console", true).await;
    bearer(
        &server,
        Method::GET,
        "/api/v1/account",
        fresh["access_token"].as_str().unwrap(),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(introspect(&worker, &app, access).await["active"], false);
}

#[tokio::test]
async fn a_service_accounts_console_token_has_no_person_to_act_for() {
    let server = TestServer::start().await;
    let sa = crate::token::server_to_server(&server).await;
    let now = server.state().now();
    let service = Service {
        code: ServiceCode::parse("gatehouse_management").unwrap(),
        name: "Gatehouse Management".into(),
        description: String::new(),
        allowed_types: vec![IntegrationType::ServerToServer, IntegrationType::ServiceAccount],
        scopes: vec!["gatehouse.console".into()],
        acts_for: ActsFor::Organization,
        upstream_url: None,
        gateway: Default::default(),
        created_at: now,
        updated_at: now,
    };
    Fixtures::new(server.store())
        .at(now)
        .existing(&sa.integration)
        .service(&service)
        .subscribe(service.code.as_str(), &service.scopes)
        .insert()
        .await;
    let c = server.new_client();
    let t = c
        .send(
            c.request(Method::POST, "/oauth/token")
                .basic_auth(&sa.client_id, Some(&sa.secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "gatehouse.console")]),
            StatusCode::OK,
        )
        .await
        .json_value();
    let token = t["access_token"].as_str().unwrap();
    // The console API accepts it as the organization's admin ...
    bearer(
        &server,
        Method::GET,
        "/api/v1/integrations",
        token,
        None,
        StatusCode::OK,
    )
    .await;
    // ... the identity API, which acts for a person, refuses it with a reason.
    let p = bearer(&server, Method::GET, "/api/v1/orgs", token, None, StatusCode::FORBIDDEN).await;
    assert_eq!(p["code"], "token_not_allowed");
}
