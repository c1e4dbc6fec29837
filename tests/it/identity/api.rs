//! The identity JSON API under /api/v1: session authentication, CSRF header, problem JSON, the
//! same rules as the pages, and the checked-in OpenAPI document.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::helpers::*;
use crate::harness::server::{TestClient, TestServer};

async fn call(c: &TestClient, method: Method, path: &str, body: Option<Value>, expected: StatusCode) -> Value {
    let token = csrf(c).await;
    let mut req = c.request(method, path).header("x-csrf-token", token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = c.send(req, expected).await;
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json_value()
    }
}

#[tokio::test]
async fn the_openapi_document_is_checked_in_and_served() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("api/openapi.json");
    let generated = gatehouse_web::api::openapi_json();
    if std::env::var_os("GATEHOUSE_UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "api/openapi.json is out of date; regenerate it with `cargo run --example openapi > api/openapi.json`"
    );
    let server = TestServer::start().await;
    let served = server.client().get("/api/v1/openapi.json", StatusCode::OK).await;
    assert_eq!(served.text(), generated);
    let doc: Value = served.json();
    assert!(doc["paths"]["/api/v1/orgs/{org}/members/{account}"]["patch"].is_object());
}

#[tokio::test]
async fn the_api_needs_a_session_and_the_csrf_header() {
    let server = TestServer::start().await;
    let anon = server.new_client();
    let res = anon.get("/api/v1/account", StatusCode::UNAUTHORIZED).await;
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert_eq!(res.json_value()["code"], "not_signed_in");

    let (c, a) = signed_in(&server, "ada@example.com").await;
    let me = c.get("/api/v1/account", StatusCode::OK).await.json_value();
    assert_eq!(me["id"], a.id.as_str());
    assert_eq!(me["email"], "ada@example.com");
    let res = c
        .send(
            c.request(Method::PATCH, "/api/v1/account")
                .json(&json!({"display_name": "X"})),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(res.json_value()["code"], "csrf_failed");

    let long = "x".repeat(101);
    let p = call(
        &c,
        Method::PATCH,
        "/api/v1/account",
        Some(json!({"display_name": long})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "too_long");
    assert_eq!(p["detail"], "The display name must be at most 100 characters.");
    let p = call(
        &c,
        Method::PATCH,
        "/api/v1/account",
        Some(json!({"nickname": "x"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "invalid_body");
    let ok = call(
        &c,
        Method::PATCH,
        "/api/v1/account",
        Some(json!({"display_name": "Ada L.", "country": "gb"})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ok["display_name"], "Ada L.");
    assert_eq!(ok["country"], "GB");

    let p = call(
        &c,
        Method::PUT,
        "/api/v1/account/password",
        Some(json!({"current_password": "wrong", "new_password": "granite orchard lantern 7"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "wrong_password");
    let p = call(
        &c,
        Method::PUT,
        "/api/v1/account/password",
        Some(json!({"current_password": PASSWORD, "new_password": "1qaz2wsx3edc"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "password_too_common");

    let sessions = c.get("/api/v1/account/sessions", StatusCode::OK).await.json_value();
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[0]["amr"], json!(["pwd"]));
    let mfa = c.get("/api/v1/account/mfa", StatusCode::OK).await.json_value();
    assert_eq!(mfa["totp"], false);
}

#[tokio::test]
async fn organizations_members_and_invitations_over_the_api() {
    let server = TestServer::start().await;
    let (admin, a) = signed_in(&server, "admin@example.com").await;
    let (bob, b) = signed_in(&server, "bob@example.com").await;
    let p = call(
        &admin,
        Method::POST,
        "/api/v1/orgs",
        Some(json!({"name": ""})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "invalid_org_name");
    let org = call(
        &admin,
        Method::POST,
        "/api/v1/orgs",
        Some(json!({"name": "Acme"})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(org["role"], "admin");
    let id = org["id"].as_str().unwrap().to_owned();

    let p = call(
        &admin,
        Method::POST,
        &format!("/api/v1/orgs/{id}/invitations"),
        Some(json!({"email": "nope", "role": "member"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "invalid_email");
    let inv = call(
        &admin,
        Method::POST,
        &format!("/api/v1/orgs/{id}/invitations"),
        Some(json!({"email": "bob@example.com", "role": "developer"})),
        StatusCode::CREATED,
    )
    .await;
    let list = admin
        .get(&format!("/api/v1/orgs/{id}/invitations"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(list[0]["email"], "bob@example.com");
    // Bob is not a member yet: the org does not exist for him.
    bob.get(&format!("/api/v1/orgs/{id}"), StatusCode::NOT_FOUND).await;
    let link = latest_link(&server, "bob@example.com", "/invitations/").await;
    post(&bob, &format!("{link}/accept"), &[], StatusCode::SEE_OTHER).await;
    let members = bob
        .get(&format!("/api/v1/orgs/{id}/members"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(members.as_array().unwrap().len(), 2);
    let _ = inv;

    // Rules: a developer cannot manage; the last admin cannot go.
    let p = call(
        &bob,
        Method::PATCH,
        &format!("/api/v1/orgs/{id}/members/{}", b.id),
        Some(json!({"role": "admin"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(p["code"], "admin_required");
    let p = call(
        &admin,
        Method::DELETE,
        &format!("/api/v1/orgs/{id}/members/{}", a.id),
        None,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(p["code"], "last_admin");
    let p = call(
        &admin,
        Method::PATCH,
        &format!("/api/v1/orgs/{id}/members/{}", b.id),
        Some(json!({"role": "owner"})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "invalid_role");
    call(
        &admin,
        Method::PATCH,
        &format!("/api/v1/orgs/{id}/members/{}", b.id),
        Some(json!({"role": "admin"})),
        StatusCode::NO_CONTENT,
    )
    .await;
    call(
        &admin,
        Method::DELETE,
        &format!("/api/v1/orgs/{id}/members/{}", a.id),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    admin.get(&format!("/api/v1/orgs/{id}"), StatusCode::NOT_FOUND).await;
    let orgs = bob.get("/api/v1/orgs", StatusCode::OK).await.json_value();
    assert_eq!(orgs[0]["role"], "admin");
}
