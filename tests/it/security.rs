//! Regression tests for the authorization rules the policy (`gatehouse_core::policy`) decides for
//! every surface; docs/security.md lists them. Each runs on both backends.

// Test helpers fail the test loudly when their set-up cannot be done.
#![allow(clippy::unwrap_used)]

mod attacks;

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    audit::{Actor, AuditEntry},
    ids::OrgId,
    integration::Platform,
};
use gatehouse_store::{AuditStore, OrgStore};
use serde_json::{Value, json};

use crate::{
    console::helpers::{World, api, world},
    events::client::token as client_token,
    harness::server::TestServer,
    identity::helpers::signed_in,
    token::flow::{VERIFIER, authorize, authorize_url, oauth_app, redeem},
};

/// A call with a bearer token; returns (status, body).
async fn bearer(
    server: &TestServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let c = server.new_client();
    let mut req = c.request(method, path).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn the_events_apis_refuse_a_persons_token_issued_through_the_integration() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let org = app.integration.org_id().unwrap().to_owned();
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let reply = authorize(&c, &authorize_url("/oauth/authorize", &app, &[("scope", "openid")])).await;
    let person = redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // An OAuth web app gets people's tokens only; a technical account of the same organization
    // gets its own.
    let backend = crate::harness::fixtures::Fixtures::new(server.store())
        .at(server.state().now())
        .server_to_server("Backend")
        .org(&org)
        .secret()
        .insert()
        .await;
    let own = client_token(&server, &backend.client_id, backend.secret()).await;

    let (status, _) = bearer(&server, Method::GET, "/api/v1/events/providers", &own, None).await;
    assert_eq!(status, StatusCode::OK, "an integration's own token is accepted");

    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/events/providers".into(), None),
        (
            Method::POST,
            "/api/v1/events/providers".into(),
            Some(json!({"label": "Mine"})),
        ),
        (Method::GET, "/api/v1/events/registrations".into(), None),
        (
            Method::POST,
            "/api/v1/events/registrations".into(),
            Some(json!({"name": "x", "delivery_type": "journal", "events_of_interest": []})),
        ),
        (Method::GET, format!("/events/{org}/providers"), None),
        (Method::POST, "/events/ingress".into(), Some(json!({"id": "1"}))),
    ];
    for (method, path, body) in attempts {
        let (status, problem) = bearer(&server, method.clone(), &path, &person, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {problem}");
        assert_eq!(
            problem["code"], "integration_token_required",
            "{method} {path}: {problem}"
        );
    }
}

/// Makes the world's organization require two-step verification.
async fn require_mfa(w: &World) {
    let mut tx = w.server.store().begin().await.unwrap();
    let mut org = tx.org_by_id(&OrgId::parse(&w.org_id).unwrap()).await.unwrap().unwrap();
    org.require_mfa = true;
    tx.update_org(&org).await.unwrap();
    tx.append_audit(&AuditEntry::new(0, &Actor::System, "test.require_mfa", "test"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_organization_that_requires_mfa_is_closed_to_password_only_sessions_on_every_surface() {
    let w = world().await;
    let created = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Nightly", "integration_type": "service_account", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["integration"]["id"].as_str().unwrap().to_owned();
    require_mfa(&w).await;

    // The list leaves the organization's integrations out.
    let list = api(
        &w.admin.client,
        Method::GET,
        "/api/v1/integrations",
        None,
        StatusCode::OK,
    )
    .await;
    assert!(
        !list.to_string().contains(&id),
        "a password-only session lists none of the organization's integrations: {list}"
    );
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/integrations/{id}"), None),
        (Method::GET, format!("/api/v1/integrations/{id}/credentials"), None),
        (
            Method::POST,
            format!("/api/v1/integrations/{id}/secrets"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/integrations/{id}/subscriptions"), None),
        (
            Method::POST,
            "/api/v1/integrations".to_owned(),
            Some(json!({"name": "Another", "integration_type": "service_account", "org_id": w.org_id})),
        ),
        (Method::GET, format!("/api/v1/orgs/{}/members", w.org_id), None),
    ] {
        let problem = api(&w.admin.client, method.clone(), &path, body, StatusCode::FORBIDDEN).await;
        assert_eq!(problem["code"], "mfa_required", "{method} {path}: {problem}");
    }
    // The console pages say the same.
    let page = w
        .admin
        .client
        .send(
            w.admin
                .client
                .request(Method::GET, &format!("/console/integrations/{id}")),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert!(page.text().contains("two-step verification"), "{}", page.text());
}

#[tokio::test]
async fn a_revoked_token_and_a_disabled_integration_are_refused_by_every_surface_at_once() {
    let w = world().await;
    let created = api(
        &w.admin.client,
        Method::POST,
        "/api/v1/integrations",
        Some(json!({"name": "Robot", "integration_type": "server_to_server", "org_id": w.org_id})),
        StatusCode::CREATED,
    )
    .await;
    let id = created["integration"]["id"].as_str().unwrap().to_owned();
    let client_id = created["integration"]["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let server = &w.server;

    // Revocation: no wait between the revocation and the next use.
    let revoked = client_token(server, &client_id, &secret).await;
    assert_eq!(
        bearer(server, Method::GET, "/api/v1/events/providers", &revoked, None)
            .await
            .0,
        StatusCode::OK
    );
    let c = server.new_client();
    c.send(
        c.request(Method::POST, "/oauth/revoke")
            .basic_auth(&client_id, Some(&secret))
            .form(&[("token", revoked.as_str())]),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        bearer(server, Method::GET, "/api/v1/events/providers", &revoked, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "the events API"
    );

    // Disabling: the integration's other token stops at once everywhere.
    let live = client_token(server, &client_id, &secret).await;
    assert_eq!(
        bearer(server, Method::GET, "/api/v1/events/providers", &live, None)
            .await
            .0,
        StatusCode::OK
    );
    api(
        &w.admin.client,
        Method::PATCH,
        &format!("/api/v1/integrations/{id}"),
        Some(json!({"status": "disabled"})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        bearer(server, Method::GET, "/api/v1/events/providers", &live, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "the events API"
    );
    let introspected = c
        .send(
            c.request(Method::POST, "/oauth/introspect")
                .basic_auth(&client_id, Some(&secret))
                .form(&[("token", live.as_str())]),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    assert_eq!(
        introspected.json_value()["error"],
        "invalid_client",
        "a disabled client cannot introspect"
    );
}

#[tokio::test]
async fn a_refusal_never_names_an_account_of_another_organization() {
    let w = world().await;
    // The outsider's personal account, and an admin of the world's organization who tries it.
    let outsider_id = w.outsider.account.id.clone();
    let email = w.outsider.account.email.as_str().to_owned();
    let problem = api(
        &w.admin.client,
        Method::POST,
        &format!("/api/v1/orgs/{}/accounts/{outsider_id}/password-reset", w.org_id),
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(!problem.to_string().contains(&email), "{problem}");
}

#[tokio::test]
async fn concurrent_registrations_never_exceed_the_quota() {
    let server = crate::events::client::server().await;
    let caller = crate::events::client::caller(&server).await;
    let provider = caller.provider(&["com.acme.paid"]).await;
    let limit = gatehouse_domain::events::model::MAX_REGISTRATIONS_PER_INTEGRATION;
    for i in 0..limit - 1 {
        caller
            .register(&format!("hook {i}"), "journal", None, &provider, "com.acme.paid")
            .await;
    }
    // Five at once for the last place: exactly one gets it.
    let attempts = (0..5).map(|i| {
        let body = json!({
            "name": format!("last {i}"),
            "delivery_method": "journal",
            "events_of_interest": [{"provider_id": provider, "event_code": "com.acme.paid"}],
        });
        let c = server.new_client();
        let token = caller.token.clone();
        async move {
            c.request(Method::POST, "/api/v1/events/registrations")
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let mut running = tokio::task::JoinSet::new();
    for attempt in attempts {
        running.spawn(attempt);
    }
    let statuses = running.join_all().await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CREATED).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn over_https_every_answer_carries_hsts_and_the_csrf_cookie_is_host_bound() {
    // The public URL says https (a TLS-terminating proxy in front); the test talks to the node itself.
    let server = TestServer::start_with(|c| c.public_url = "https://id.example.com".into()).await;
    let c = server.new_client();
    for path in ["/healthz", "/signin", "/oauth/jwks", "/api/v1/me"] {
        let res = c.request(Method::GET, path).send().await.unwrap();
        assert_eq!(
            res.headers()
                .get("strict-transport-security")
                .and_then(|v| v.to_str().ok()),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    let signin = c.request(Method::GET, "/signin").send().await.unwrap();
    let cookies: Vec<String> = signin
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-gatehouse_csrf=") && c.contains("Secure") && c.contains("Path=/")),
        "{cookies:?}"
    );
    // A form posted with a cookie under the plain name (planted by a neighbouring subdomain) is refused.
    let planted = "d".repeat(64);
    let res = c
        .request(Method::POST, "/signin")
        .header("cookie", format!("gatehouse_csrf={planted}"))
        .form(&[
            ("csrf_token", planted.as_str()),
            ("email", "a@example.com"),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Plain http (a development install): no HSTS, the plain cookie name.
    let plain = TestServer::start().await;
    let res = plain.new_client().request(Method::GET, "/signin").send().await.unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());
    let set = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(set.starts_with("gatehouse_csrf="), "{set}");
}

#[tokio::test]
async fn an_expired_client_secret_is_refused_at_every_endpoint_that_authenticates_clients() {
    let server = TestServer::start().await;
    let sa = crate::token::service_account(&server).await;
    let now = server.state().now();
    let expired = crate::harness::fixtures::Fixtures::new(server.store())
        .at(now - 3_600)
        .server_to_server("Expired")
        .org(&sa.org_id)
        .secret()
        .secret_expires_at(now)
        .subscribe("pdf_services", &["pdf_read"])
        .insert()
        .await;
    let (client_id, secret) = (expired.client_id.as_str(), expired.secret());
    let c = server.client();
    for path in ["/oauth/token", "/ims/token/v3", "/ims/token"] {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ];
        let e = c.post_form(path, &form, StatusCode::UNAUTHORIZED).await.json_value();
        assert_eq!(e["error"], "invalid_client", "{path}: {e}");
        let basic = c
            .request(Method::POST, path)
            .basic_auth(client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")]);
        assert_eq!(
            c.send(basic, StatusCode::UNAUTHORIZED).await.json_value()["error"],
            "invalid_client",
            "{path} with Basic"
        );
    }
    for path in ["/oauth/introspect", "/oauth/revoke", "/ims/invalidate_token/v2"] {
        let form = [("token", "x"), ("client_id", client_id), ("client_secret", secret)];
        let e = c.post_form(path, &form, StatusCode::UNAUTHORIZED).await.json_value();
        assert_eq!(e["error"], "invalid_client", "{path}: {e}");
    }
    // A refused secret is no use of the credential.
    gatehouse_core::tokens::last_used::flush(&server.state().tokens)
        .await
        .unwrap();
    let used = gatehouse_store::LastUsedStore::integrations_last_used(
        &mut server.store().conn().await.unwrap(),
        std::slice::from_ref(&expired.integration.id),
    )
    .await
    .unwrap();
    assert!(used.is_empty(), "{used:?}");
}
