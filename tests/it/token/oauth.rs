//! The standard surface: discovery, JWKS, the token endpoint (client credentials for OAuth
//! Server-to-Server, JWT bearer and `private_key_jwt` for service accounts, each kind refused the
//! other's grants), introspection and revocation.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{assertion, decode, now, server_to_server, service_account};
use crate::harness::server::TestServer;

#[tokio::test]
async fn discovery_and_jwks_describe_the_service() {
    let server = TestServer::start().await;
    let c = server.client();
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let d = c.get(path, StatusCode::OK).await.json_value();
        assert_eq!(d["issuer"], server.base_url());
        assert_eq!(d["token_endpoint"], server.url("/oauth/token"));
        assert_eq!(d["jwks_uri"], server.url("/oauth/jwks"));
    }
    let jwks = c.get("/oauth/jwks", StatusCode::OK).await.json_value();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "the current and the next key: {jwks}");
    assert!(
        keys.iter()
            .all(|k| k["alg"] == "ES256" && k["use"] == "sig" && k.get("d").is_none())
    );
    assert_eq!(c.get("/ims/keys", StatusCode::OK).await.json_value(), jwks);
}

#[tokio::test]
async fn client_credentials_issue_an_rfc_9068_token_that_introspects_until_revoked() {
    let server = TestServer::start().await;
    let sa = server_to_server(&server).await;
    let c = server.client();
    let basic = (sa.client_id.as_str(), Some(sa.secret.as_str()));
    let req = c
        .request(Method::POST, "/oauth/token")
        .basic_auth(basic.0, basic.1)
        .form(&[("grant_type", "client_credentials"), ("scope", "pdf_read admin")]);
    let res = c.send(req, StatusCode::OK).await;
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let body = res.json_value();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "pdf_read");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let (header, claims) = decode(token);
    assert_eq!(header["typ"], "at+jwt");
    let jwks = c.get("/oauth/jwks", StatusCode::OK).await.json_value();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == header["kid"])
    );
    assert_eq!(claims["iss"], server.base_url());
    assert_eq!(claims["sub"], sa.technical_account_id.as_str());
    assert_eq!(claims["client_id"], sa.client_id.as_str());
    assert_eq!(claims["org_id"], sa.org_id.as_str());
    assert_eq!(claims["aud"], "pdf_services");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    assert!(claims.get("type").is_none(), "no Adobe claims on the standard surface");

    let introspect = |t: String| {
        c.request(Method::POST, "/oauth/introspect")
            .basic_auth(basic.0, basic.1)
            .form(&[("token", t)])
    };
    let active = c.send(introspect(token.to_owned()), StatusCode::OK).await.json_value();
    assert_eq!(active["active"], true);
    assert_eq!(active["scope"], "pdf_read");
    assert_eq!(active["sub"], sa.technical_account_id.as_str());

    let revoke = c.request(Method::POST, "/oauth/revoke").form(&[
        ("token", token),
        ("client_id", &sa.client_id),
        ("client_secret", &sa.secret),
    ]);
    c.send(revoke, StatusCode::OK).await;
    let inactive = c.send(introspect(token.to_owned()), StatusCode::OK).await.json_value();
    assert_eq!(inactive, json!({"active": false}));
    // A forged token is simply inactive.
    let forged = format!("{}x", &token[..token.len() - 1]);
    let inactive = c.send(introspect(forged), StatusCode::OK).await.json_value();
    assert_eq!(inactive["active"], false);
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_with_a_challenge() {
    let server = TestServer::start().await;
    let sa = server_to_server(&server).await;
    let c = server.client();
    let req = c
        .request(Method::POST, "/oauth/token")
        .basic_auth(&sa.client_id, Some("ghs_wrong"))
        .form(&[("grant_type", "client_credentials")]);
    let res = c.send(req, StatusCode::UNAUTHORIZED).await;
    assert!(res.header("www-authenticate").is_some());
    assert_eq!(res.json_value()["error"], "invalid_client");
    // Introspection needs an authenticated caller too.
    let req = c
        .request(Method::POST, "/oauth/introspect")
        .form(&[("token", "x"), ("client_id", sa.client_id.as_str())]);
    assert_eq!(
        c.send(req, StatusCode::UNAUTHORIZED).await.json_value()["error"],
        "invalid_client"
    );
}

#[tokio::test]
async fn request_errors_use_rfc_6749_codes() {
    let server = TestServer::start().await;
    let sa = server_to_server(&server).await;
    let c = server.client();
    let post = |form: Vec<(&'static str, String)>| c.request(Method::POST, "/oauth/token").form(&form);
    let res = c
        .send(post(vec![("client_id", sa.client_id.clone())]), StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(res.json_value()["error"], "invalid_request");
    let res = c
        .send(post(vec![("grant_type", "password".into())]), StatusCode::BAD_REQUEST)
        .await;
    assert_eq!(res.json_value()["error"], "unsupported_grant_type");
    let creds = || {
        vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", sa.client_id.clone()),
            ("client_secret", sa.secret.clone()),
        ]
    };
    let mut scoped = creds();
    scoped.push(("scope", "admin".into()));
    let res = c.send(post(scoped), StatusCode::BAD_REQUEST).await;
    assert_eq!(res.json_value()["error"], "invalid_scope");
    let unknown = vec![
        ("grant_type", "client_credentials".to_owned()),
        ("client_id", "ffffffffffffffffffffffffffffffff".to_owned()),
        ("client_secret", "x".to_owned()),
    ];
    assert_eq!(
        c.send(post(unknown), StatusCode::UNAUTHORIZED).await.json_value()["error"],
        "invalid_client"
    );
    // Basic and form secrets at once are two methods.
    let req = c
        .request(Method::POST, "/oauth/token")
        .basic_auth(&sa.client_id, Some(&sa.secret))
        .form(&creds());
    assert_eq!(
        c.send(req, StatusCode::BAD_REQUEST).await.json_value()["error"],
        "invalid_request"
    );
}

fn bearer_claims(server: &TestServer, sa: &super::ServiceAccount, jti: &str) -> Value {
    json!({
        "iss": sa.client_id, "sub": sa.technical_account_id, "aud": server.url("/oauth/token"),
        "exp": now(server) + 300, "iat": now(server), "jti": jti,
    })
}

#[tokio::test]
async fn the_jwt_bearer_grant_issues_once_per_jti() {
    let server = TestServer::start().await;
    let sa = service_account(&server).await;
    let c = server.client();
    let jwt = assertion(&sa, &bearer_claims(&server, &sa, "one"));
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", jwt.as_str()),
        ("scope", "pdf_read"),
    ];
    let body = c.post_form("/oauth/token", &form, StatusCode::OK).await.json_value();
    assert_eq!(body["scope"], "pdf_read");
    let (_, claims) = decode(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], sa.technical_account_id.as_str());
    // The same assertion again is a replay.
    let res = c
        .post_form("/oauth/token", &form, StatusCode::BAD_REQUEST)
        .await
        .json_value();
    assert_eq!(res["error"], "invalid_grant");
    // So is alg "none".
    let header = base64_url(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = base64_url(&bearer_claims(&server, &sa, "two").to_string());
    let none = format!("{header}.{payload}.");
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", none.as_str()),
    ];
    let res = c
        .post_form("/oauth/token", &form, StatusCode::BAD_REQUEST)
        .await
        .json_value();
    assert_eq!(res["error"], "invalid_grant");
}

#[tokio::test]
async fn private_key_jwt_authenticates_a_service_account() {
    let server = TestServer::start().await;
    let sa = service_account(&server).await;
    let c = server.client();
    let client_auth = |jti: &str| {
        let claims = json!({
            "iss": sa.client_id, "sub": sa.client_id, "aud": server.url("/oauth/token"),
            "exp": now(&server) + 60, "jti": jti,
        });
        assertion(&sa, &claims)
    };
    let bearer = assertion(&sa, &bearer_claims(&server, &sa, "grant-1"));
    let jwt = client_auth("client-auth-1");
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", bearer.as_str()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", jwt.as_str()),
    ];
    let body = c.post_form("/oauth/token", &form, StatusCode::OK).await.json_value();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let res = c
        .post_form("/oauth/token", &form, StatusCode::UNAUTHORIZED)
        .await
        .json_value();
    assert_eq!(res["error"], "invalid_client", "a replayed client assertion");
    // It authenticates at introspection too.
    let jwt = client_auth("client-auth-2");
    let form = [
        ("token", token.as_str()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", jwt.as_str()),
    ];
    let v = c
        .post_form("/oauth/introspect", &form, StatusCode::OK)
        .await
        .json_value();
    assert_eq!(v["active"], true);
}

#[tokio::test]
async fn each_kind_of_credential_is_refused_the_grants_of_the_others() {
    let server = TestServer::start().await;
    let sa = service_account(&server).await;
    let s2s = super::server_to_server_beside(&server, &sa).await;
    let web = super::flow::oauth_app(&server, gatehouse_domain::integration::Platform::Web).await;
    let c = server.client();
    let refused = |body: Value, kind: &str| {
        assert_eq!(body["error"], "unauthorized_client", "{body}");
        assert!(body["error_description"].as_str().unwrap().starts_with(kind), "{body}");
    };
    // A JWT credential authenticates with its signed assertion: not with client_credentials,
    // whether it sends its secret or a client assertion.
    let secret = [
        ("grant_type", "client_credentials"),
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
    ];
    let body = c
        .post_form("/oauth/token", &secret, StatusCode::BAD_REQUEST)
        .await
        .json_value();
    refused(body, "service_account");
    let jwt = assertion(
        &sa,
        &json!({
            "iss": sa.client_id, "sub": sa.client_id, "aud": server.url("/oauth/token"),
            "exp": now(&server) + 60, "jti": "cc-by-assertion",
        }),
    );
    let by_assertion = [
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", jwt.as_str()),
    ];
    let body = c
        .post_form("/oauth/token", &by_assertion, StatusCode::BAD_REQUEST)
        .await
        .json_value();
    refused(body, "service_account");
    // An OAuth web app acts for people: its secret gets no token of its own.
    let body = c
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", web.client_id.as_str()),
                ("client_secret", web.secret.as_deref().unwrap()),
            ],
            StatusCode::BAD_REQUEST,
        )
        .await
        .json_value();
    refused(body, "oauth");
    // OAuth Server-to-Server has no certificate, no code flow and no refresh token.
    let body = c
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", "gh_code_x"),
                ("client_id", s2s.client_id.as_str()),
                ("client_secret", s2s.secret.as_str()),
            ],
            StatusCode::BAD_REQUEST,
        )
        .await
        .json_value();
    refused(body, "server_to_server");
    let body = c
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_id", s2s.client_id.as_str()),
                ("client_secret", s2s.secret.as_str()),
            ],
            StatusCode::BAD_REQUEST,
        )
        .await
        .json_value();
    refused(body, "server_to_server");
    let bearer = assertion(&sa, &bearer_claims(&server, &sa, "not-for-s2s"));
    let body = c
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", bearer.as_str()),
                ("client_id", s2s.client_id.as_str()),
                ("client_secret", s2s.secret.as_str()),
            ],
            StatusCode::BAD_REQUEST,
        )
        .await
        .json_value();
    refused(body, "server_to_server");
    // The same refusals on the Adobe-compatible path.
    let body = c
        .post_form("/ims/token/v3", &secret, StatusCode::BAD_REQUEST)
        .await
        .json_value();
    assert_eq!(body["error"], "unauthorized_client", "{body}");
}

#[tokio::test]
async fn server_to_server_cannot_ask_people_to_sign_in() {
    let server = TestServer::start().await;
    let s2s = server_to_server(&server).await;
    let c = server.client();
    for path in ["/oauth/authorize", "/ims/authorize/v2"] {
        let url = format!(
            "{path}?response_type=code&client_id={}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&scope=openid\
             &state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
            s2s.client_id
        );
        let res = c.get(&url, StatusCode::BAD_REQUEST).await;
        assert!(
            res.header("location").is_none(),
            "nothing is sent to an unregistered URI"
        );
        let text = res.text();
        assert!(text.contains("unauthorized_client"), "{text}");
        assert!(text.contains("server_to_server"), "{text}");
    }
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn a_disabled_integration_gets_no_tokens_and_its_tokens_stop_validating() {
    use gatehouse_domain::{
        audit::{Actor, AuditEntry},
        integration::IntegrationStatus,
    };
    use gatehouse_store::{AuditStore, IntegrationStore};

    let server = TestServer::start().await;
    let sa = server_to_server(&server).await;
    let c = server.client();
    let creds = [
        ("grant_type", "client_credentials"),
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
    ];
    let body = c.post_form("/oauth/token", &creds, StatusCode::OK).await.json_value();
    let token = body["access_token"].as_str().unwrap().to_owned();

    let mut disabled = sa.integration.clone();
    disabled.status = IntegrationStatus::Disabled;
    let mut tx = server.store().begin().await.unwrap();
    tx.update_integration(&disabled).await.unwrap();
    tx.append_audit(&AuditEntry::new(now(&server), &Actor::System, "test.disable", "test"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // The cache follows the catalog generation, which the server polls every 250 ms.
    let mut status = None;
    for _ in 0..40 {
        let res = c
            .request(Method::POST, "/oauth/token")
            .form(&creds)
            .send()
            .await
            .unwrap();
        status = Some(res.status());
        if res.status() == StatusCode::UNAUTHORIZED {
            assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_client");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        status,
        Some(StatusCode::UNAUTHORIZED),
        "the disabled integration is refused"
    );
    let validate = [("token", token.as_str()), ("client_id", sa.client_id.as_str())];
    let v = c
        .post_form("/ims/validate_token/v1", &validate, StatusCode::OK)
        .await
        .json_value();
    assert_eq!(v, json!({"valid": false, "reason": "client_disabled"}));
}

#[tokio::test]
async fn a_revocation_made_by_another_node_is_honoured_within_seconds() {
    use gatehouse_store::TokenStore;

    let server = TestServer::start().await;
    let sa = server_to_server(&server).await;
    let c = server.client();
    let creds = [
        ("grant_type", "client_credentials"),
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
    ];
    let body = c.post_form("/oauth/token", &creds, StatusCode::OK).await.json_value();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let (_, claims) = decode(&token);
    let introspect = [
        ("token", token.as_str()),
        ("client_id", sa.client_id.as_str()),
        ("client_secret", sa.secret.as_str()),
    ];
    let active = c
        .post_form("/oauth/introspect", &introspect, StatusCode::OK)
        .await
        .json_value();
    assert_eq!(active["active"], true);

    // Another node writes the deny-list directly.
    let mut conn = server.store().conn().await.unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    conn.revoke_access_token(claims["jti"].as_str().unwrap(), &sa.client_id, now(&server), exp)
        .await
        .unwrap();
    let mut seen = false;
    for _ in 0..40 {
        let v = c
            .post_form("/oauth/introspect", &introspect, StatusCode::OK)
            .await
            .json_value();
        if v["active"] == false {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "the in-memory deny-list caught up with the store");
}
