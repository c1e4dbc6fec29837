//! The Adobe-compatible surface, with the requests Adobe's clients send (compat §2, §3, §5):
//! multipart bodies with both boundary spellings, query parameters, Adobe's claims and units.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use super::{ServiceAccount, assertion, decode, multipart, now, server_to_server, service_account};
use crate::harness::server::{TestResponse, TestServer};

/// What jwt-auth builds: iss = org, sub = technical account, aud = <base>/c/<client>, a metascope.
fn adobe_claims(server: &TestServer, sa: &ServiceAccount) -> Value {
    json!({
        "iss": sa.org_id,
        "sub": sa.technical_account_id,
        "aud": format!("{}/c/{}", server.base_url(), sa.client_id),
        "exp": now(server) + 300,
        "iat": now(server),
        "https://ims-na1.adobelogin.com/s/ent_documentcloud_sdk": true,
    })
}

async fn post_multipart(
    server: &TestServer,
    path: &str,
    fields: &[(&str, &str)],
    spaced: bool,
    expected: StatusCode,
) -> TestResponse {
    let (content_type, body) = multipart(fields, spaced);
    let c = server.client();
    let req = c
        .request(Method::POST, path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body);
    c.send(req, expected).await
}

async fn exchange(server: &TestServer, sa: &ServiceAccount, jwt: &str, expected: StatusCode) -> Value {
    let fields = [
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
        ("jwt_token", jwt),
    ];
    post_multipart(server, "/ims/exchange/jwt/", &fields, true, expected)
        .await
        .json_value()
}

#[tokio::test]
async fn the_jwt_exchange_answers_like_adobe_and_the_token_validates_until_invalidated() {
    let server = TestServer::start().await;
    let sa = service_account(&server).await;
    let body = exchange(
        &server,
        &sa,
        &assertion(&sa, &adobe_claims(&server, &sa)),
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 86_400_000, "milliseconds on the exchange");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let (_, claims) = decode(&token);
    assert_eq!(claims["type"], "access_token");
    assert_eq!(claims["client_id"], sa.client_id.as_str());
    assert_eq!(claims["user_id"], sa.technical_account_id.as_str());
    assert_eq!(claims["as"], "ims-na1");
    assert_eq!(claims["expires_in"], "86400000");
    let created: i64 = claims["created_at"].as_str().unwrap().parse().unwrap();
    assert!(
        (created - now(&server) * 1000).abs() <= 2_000,
        "created_at is epoch milliseconds"
    );
    assert_eq!(claims["scope"], "ent_documentcloud_sdk");

    // aio-lib-ims validates with multipart `type` + `client_id` and a Bearer header.
    let (content_type, mp) = multipart(&[("type", "access_token"), ("client_id", &sa.client_id)], false);
    let c = server.client();
    let validate = || {
        c.request(Method::POST, "/ims/validate_token/v1")
            .bearer_auth(&token)
            .header(header::CONTENT_TYPE, content_type.clone())
            .body(mp.clone())
    };
    let v = c.send(validate(), StatusCode::OK).await.json_value();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["token"]["client_id"], sa.client_id.as_str());

    let fields = [
        ("token_type", "access_token"),
        ("token", token.as_str()),
        ("cascading", "all"),
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
    ];
    post_multipart(&server, "/ims/invalidate_token/v2", &fields, false, StatusCode::OK).await;
    let v = c.send(validate(), StatusCode::OK).await.json_value();
    assert_eq!(v, json!({"valid": false, "reason": "revoked"}));
}

#[tokio::test]
async fn every_exchange_path_works() {
    let server = TestServer::start().await;
    let sa = service_account(&server).await;
    for (i, path) in ["/ims/exchange/jwt", "/ims/exchange/jwt/", "/ims/exchange/v1/jwt"]
        .iter()
        .enumerate()
    {
        let jwt = assertion(&sa, &adobe_claims(&server, &sa));
        let form = [
            ("client_id", sa.client_id.as_str()),
            ("client_secret", sa.secret.as_str()),
            ("jwt_token", jwt.as_str()),
        ];
        let body = server
            .client()
            .post_form(path, &form, StatusCode::OK)
            .await
            .json_value();
        assert!(body["access_token"].is_string(), "{i} {path}");
    }
}

#[tokio::test]
async fn exchange_errors_use_adobe_codes() {
    let server = TestServer::start().await;
    let sa = service_account(&server).await;
    let good = adobe_claims(&server, &sa);

    let mut unsubscribed = good.clone();
    unsubscribed["https://ims-na1.adobelogin.com/s/ent_user_sdk"] = json!(true);
    let e = exchange(&server, &sa, &assertion(&sa, &unsubscribed), StatusCode::BAD_REQUEST).await;
    assert_eq!(e["error"], "invalid_scope");
    assert!(e["error_description"].is_string());

    let mut expired = good.clone();
    expired["exp"] = json!(now(&server) - 3_600);
    let e = exchange(&server, &sa, &assertion(&sa, &expired), StatusCode::BAD_REQUEST).await;
    assert_eq!(e["error"], "invalid_token");

    let mut too_long = good.clone();
    too_long["exp"] = json!(now(&server) + 2 * 86_400);
    let e = exchange(&server, &sa, &assertion(&sa, &too_long), StatusCode::BAD_REQUEST).await;
    assert_eq!(e["error"], "invalid_token");

    let mut other_client = good.clone();
    other_client["aud"] = json!(format!("{}/c/ffffffffffffffffffffffffffffffff", server.base_url()));
    let e = exchange(&server, &sa, &assertion(&sa, &other_client), StatusCode::BAD_REQUEST).await;
    assert_eq!(e["error"], "invalid_client");

    let e = exchange(&server, &sa, "not.a.jwt", StatusCode::BAD_REQUEST).await;
    assert_eq!(e["error"], "invalid_token");
    let fields = [
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
        ("jwt_token", "x"),
    ];
    let res = post_multipart(&server, "/ims/exchange/jwt", &fields, true, StatusCode::BAD_REQUEST).await;
    assert!(res.header("x-debug-id").is_some(), "Adobe clients log x-debug-id");

    let fields = [
        ("client_id", sa.client_id.as_str()),
        ("client_secret", "ghs_wrong"),
        ("jwt_token", "x.y.z"),
    ];
    let e = post_multipart(&server, "/ims/exchange/jwt", &fields, true, StatusCode::UNAUTHORIZED)
        .await
        .json_value();
    assert_eq!(e["error"], "invalid_client");
}

#[tokio::test]
async fn client_credentials_on_every_token_path_with_its_expires_in_unit() {
    let server = TestServer::start().await;
    let sa = server_to_server(&server).await;
    // aio-lib-ims: /ims/token/v2, multipart without a space before boundary, comma scopes, org_id.
    let fields = [
        ("grant_type", "client_credentials"),
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
        ("org_id", sa.org_id.as_str()),
        ("scope", "openid,AdobeID,pdf_read"),
    ];
    let body = post_multipart(&server, "/ims/token/v2", &fields, false, StatusCode::OK)
        .await
        .json_value();
    assert_eq!(body["expires_in"], 86_400);
    let (_, claims) = decode(body["access_token"].as_str().unwrap());
    assert_eq!(claims["scope"], "pdf_read");
    assert_eq!(claims["type"], "access_token");

    // aio-lib-java: client_id in the query, the rest urlencoded.
    let c = server.client();
    let path = format!("/ims/token/v3?client_id={}", sa.client_id);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_secret", sa.secret.as_str()),
    ];
    let body = c.post_form(&path, &form, StatusCode::OK).await.json_value();
    assert_eq!(body["expires_in"], 86_400);

    for (path, unit) in [("/ims/token", 1000), ("/ims/token/v1", 1000), ("/ims/token/v2/", 1)] {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", sa.client_id.as_str()),
            ("client_secret", sa.secret.as_str()),
        ];
        let body = c.post_form(path, &form, StatusCode::OK).await.json_value();
        assert_eq!(body["expires_in"], 86_400 * unit, "{path}");
    }

    let wrong_org = [
        ("grant_type", "client_credentials"),
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
        ("org_id", "ffffffffffffffffffffffff@GatehouseOrg"),
    ];
    let e = c
        .post_form("/ims/token/v3", &wrong_org, StatusCode::BAD_REQUEST)
        .await
        .json_value();
    assert_eq!(e["error"], "invalid_request");
}

/// What an OAuth Server-to-Server token answer must be, as Adobe documents it: a bearer token
/// whose lifetime is in seconds, and nothing else (no refresh token, no ID token).
fn assert_server_to_server_answer(body: &Value) {
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 3, "{body}");
    for k in ["access_token", "token_type", "expires_in"] {
        assert!(keys.contains(&k), "{body}");
    }
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 86_400, "seconds on /ims/token/v3");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
}

#[tokio::test]
async fn server_to_server_gets_a_token_on_ims_token_v3_from_body_or_query_parameters() {
    let server = TestServer::start().await;
    let s2s = server_to_server(&server).await;
    let c = server.client();
    // As Adobe's documentation sends it: everything in the urlencoded body, scopes comma-separated.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", s2s.client_id.as_str()),
        ("client_secret", s2s.secret.as_str()),
        ("scope", "openid,AdobeID,pdf_read,ent_documentcloud_sdk"),
    ];
    let res = c.post_form("/ims/token/v3", &form, StatusCode::OK).await;
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let body = res.json_value();
    assert_server_to_server_answer(&body);
    let (_, claims) = decode(body["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], s2s.client_id.as_str());
    assert_eq!(claims["user_id"], s2s.technical_account_id.as_str());
    assert_eq!(claims["scope"], "pdf_read,ent_documentcloud_sdk", "{claims}");
    assert_eq!(claims["type"], "access_token");
    assert_eq!(claims["expires_in"], "86400000", "{claims}");

    // Every parameter in the query, nothing in the body.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
    let res = c
        .send(
            c.request(Method::POST, &format!("/ims/token/v3?{query}")),
            StatusCode::OK,
        )
        .await;
    let body = res.json_value();
    assert_server_to_server_answer(&body);

    // And the token works where a token is checked.
    let validate = [
        ("token", body["access_token"].as_str().unwrap()),
        ("client_id", s2s.client_id.as_str()),
        ("type", "access_token"),
    ];
    let v = c
        .post_form("/ims/validate_token/v1", &validate, StatusCode::OK)
        .await
        .json_value();
    assert_eq!(v["valid"], true, "{v}");
}

#[tokio::test]
async fn validate_token_answers_200_for_bad_tokens() {
    let server = TestServer::start().await;
    let sa = service_account(&server).await;
    let c = server.client();
    let form = [
        ("token", "garbage"),
        ("type", "access_token"),
        ("client_id", sa.client_id.as_str()),
    ];
    let v = c
        .post_form("/ims/validate_token/v1", &form, StatusCode::OK)
        .await
        .json_value();
    assert_eq!(v["valid"], false);
}

#[tokio::test]
async fn an_assertion_signed_by_a_removed_certificate_is_refused() {
    use gatehouse_domain::audit::{Actor, AuditEntry};
    use gatehouse_store::{AuditStore, IntegrationStore};

    let server = TestServer::start().await;
    let sa = service_account(&server).await;
    exchange(
        &server,
        &sa,
        &assertion(&sa, &adobe_claims(&server, &sa)),
        StatusCode::OK,
    )
    .await;

    let mut tx = server.store().begin().await.unwrap();
    for cert in tx.certificates_of(&sa.integration.id).await.unwrap() {
        tx.revoke_certificate(&sa.integration.id, &cert.id, now(&server))
            .await
            .unwrap();
    }
    tx.append_audit(&AuditEntry::new(now(&server), &Actor::System, "test.remove", "test"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Once the server has seen the new catalog generation, the certificate no longer verifies.
    let mut last = Value::Null;
    for _ in 0..40 {
        let jwt = assertion(&sa, &adobe_claims(&server, &sa));
        let form = [
            ("client_id", sa.client_id.as_str()),
            ("client_secret", sa.secret.as_str()),
            ("jwt_token", jwt.as_str()),
        ];
        let res = server
            .client()
            .request(Method::POST, "/ims/exchange/jwt")
            .form(&form)
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::BAD_REQUEST {
            last = res.json().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(last["error"], "invalid_token", "{last}");
}
