//! OpenID Connect and OAuth to the letter: each test tries one rule of the specifications the way
//! a certified relying party or a conformance suite would — ID-token algorithms, POST
//! authorization requests, `redirect_uri` at the token endpoint, refresh-token introspection and
//! scope, client authentication errors, discovery metadata, bearer challenges, who may introspect
//! and revoke whose tokens, and sign-out without confirmation.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    integration::Platform,
    token::keys::{self, SigningAlg, VerifyingKey},
};
use gatehouse_store::{AuditStore, IntegrationStore};
use serde_json::{Value, json};

use super::{
    decode,
    flow::{
        OAuthApp, REDIRECT, VERIFIER, authorize, authorize_again, authorize_url, introspect, location, oauth_app,
        redeem, refresh, reply_params, signed_in,
    },
};
use crate::harness::server::{TestClient, TestServer};

/// Registers `alg` as the integration's ID-token algorithm, as the console or `apply` would.
async fn register_id_token_alg(server: &TestServer, app: &OAuthApp, alg: Option<SigningAlg>) {
    let mut i = app.integration.clone();
    i.id_token_signed_response_alg = alg;
    let mut tx = server.store().begin().await.unwrap();
    tx.update_integration(&i).await.unwrap();
    tx.append_audit(&gatehouse_domain::audit::AuditEntry::new(
        server.state().now(),
        &gatehouse_domain::audit::Actor::System,
        "integration.updated",
        format!("integration:{}", i.id),
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// The code flow for a signed-in `c` (the consent screen every time): the token response.
async fn code_flow(c: &TestClient, app: &OAuthApp) -> Value {
    let reply = authorize(c, &authorize_url("/oauth/authorize", app, &[("prompt", "consent")])).await;
    redeem(c, "/oauth/token", app, &reply["code"], Some(VERIFIER), StatusCode::OK).await
}

/// Verifies an ID token's signature with the published keys; returns its header's `alg`.
async fn verified_alg(c: &TestClient, id_token: &str) -> String {
    let jwks = c.get("/oauth/jwks", StatusCode::OK).await.json_value();
    let (header, _) = decode(id_token);
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap_or_else(|| panic!("the ID token's key is not published: {header} {jwks}"));
    let alg = SigningAlg::parse(jwk["alg"].as_str().unwrap()).unwrap();
    let key = VerifyingKey::from_jwk(alg, serde_json::from_value(jwk.clone()).unwrap()).unwrap();
    keys::verify_own(id_token, "JWT", &[key]).expect("the ID token verifies with its published key");
    header["alg"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn discovery_offers_rs256_id_tokens_honest_prompts_and_every_endpoints_assertion_algorithms() {
    let server = TestServer::start().await;
    let c = server.client();
    let d = c
        .get("/.well-known/openid-configuration", StatusCode::OK)
        .await
        .json_value();
    let algs = d["id_token_signing_alg_values_supported"].as_array().unwrap();
    assert!(algs.contains(&json!("RS256")) && algs.contains(&json!("ES256")), "{d}");
    assert_eq!(d["prompt_values_supported"], json!(["none", "login", "consent"]));
    for endpoint in ["token", "introspection", "revocation"] {
        let methods = &d[format!("{endpoint}_endpoint_auth_methods_supported")];
        assert!(methods.as_array().unwrap().contains(&json!("private_key_jwt")), "{d}");
        assert_eq!(
            d[format!("{endpoint}_endpoint_auth_signing_alg_values_supported")],
            json!(["RS256", "RS384", "RS512", "ES256"]),
            "{endpoint}"
        );
    }
    // Introspection refuses unauthenticated clients, so it does not offer `none`.
    let methods = d["introspection_endpoint_auth_methods_supported"].as_array().unwrap();
    assert!(!methods.contains(&json!("none")), "{d}");
    let ims = c
        .get("/ims/.well-known/openid-configuration", StatusCode::OK)
        .await
        .json_value();
    assert!(
        ims["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("RS256"))
    );
}

#[tokio::test]
async fn id_tokens_are_signed_with_the_algorithm_the_integration_registered() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    // Nothing registered: the configured algorithm (ES256 by default).
    let tokens = code_flow(&c, &app).await;
    assert_eq!(verified_alg(&c, tokens["id_token"].as_str().unwrap()).await, "ES256");

    register_id_token_alg(&server, &app, Some(SigningAlg::RS256)).await;
    let tokens = code_flow(&c, &app).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(verified_alg(&c, id_token).await, "RS256");
    // Access tokens keep the configured algorithm, and still introspect.
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(decode(access).0["alg"], "ES256");
    assert_eq!(introspect(&c, &app, access).await["active"], true);
    // A refresh brings an ID token in the registered algorithm too, and the hint verifies.
    let refreshed = refresh(&c, &app, tokens["refresh_token"].as_str().unwrap(), StatusCode::OK).await;
    assert_eq!(verified_alg(&c, refreshed["id_token"].as_str().unwrap()).await, "RS256");
    let ask = format!("/oauth/logout?id_token_hint={id_token}");
    let res = c.get(&ask, StatusCode::SEE_OTHER).await;
    assert_eq!(location(&res), "/signin?signed_out=1");

    // On an RS256 server, a client may still ask for ES256.
    let rsa = TestServer::start_with(|c| c.tokens.signing_algorithm = "RS256".into()).await;
    let app = oauth_app(&rsa, Platform::Web).await;
    register_id_token_alg(&rsa, &app, Some(SigningAlg::ES256)).await;
    let (c, _) = signed_in(&rsa, "ada@example.com").await;
    let tokens = code_flow(&c, &app).await;
    assert_eq!(verified_alg(&c, tokens["id_token"].as_str().unwrap()).await, "ES256");
    assert_eq!(decode(tokens["access_token"].as_str().unwrap()).0["alg"], "RS256");
}

#[tokio::test]
async fn a_post_authorization_request_is_answered_like_a_get() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let url = authorize_url("/oauth/authorize", &app, &[]);
    let query = url.split_once('?').unwrap().1;
    let form: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    // First the consent screen, as for a GET; then, once approved, a code straight away.
    let page = c.post_form("/oauth/authorize", &form, StatusCode::OK).await;
    assert!(page.text().contains("Allow"), "{}", page.text());
    authorize(&c, &url).await;
    let res = c.post_form("/oauth/authorize", &form, StatusCode::FOUND).await;
    let reply = reply_params(&location(&res));
    assert_eq!(reply["state"], "st-123");
    redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;
    // Without a session, the POST goes to sign-in like a GET.
    let anonymous = server.new_client();
    let res = anonymous
        .post_form("/oauth/authorize", &form, StatusCode::SEE_OTHER)
        .await;
    assert!(location(&res).starts_with("/signin?return_to="), "{}", location(&res));
    // An answer to the consent form still needs the CSRF token.
    let mut forged = form.clone();
    forged.push(("decision".into(), "allow".into()));
    c.post_form("/oauth/authorize", &forged, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_code_whose_request_sent_a_redirect_uri_is_redeemed_only_with_it() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let without_uri = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("code_verifier", VERIFIER.to_owned()),
            ("client_id", app.client_id.clone()),
            ("client_secret", app.secret.clone().unwrap()),
        ]
    };
    let reply = authorize(&c, &authorize_url("/oauth/authorize", &app, &[])).await;
    let refused = c
        .post_form("/oauth/token", &without_uri(&reply["code"]), StatusCode::BAD_REQUEST)
        .await
        .json_value();
    assert_eq!(refused["error"], "invalid_grant");
    // A request that sent none (the default redirect URI) need not repeat one.
    let reply = authorize_again(&c, &authorize_url("/oauth/authorize", &app, &[("redirect_uri", "")])).await;
    c.post_form("/oauth/token", &without_uri(&reply["code"]), StatusCode::OK)
        .await;
}

#[tokio::test]
async fn a_refresh_token_introspects_as_active_until_it_is_rotated() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, account) = signed_in(&server, "ada@example.com").await;
    let tokens = code_flow(&c, &app).await;
    let r1 = tokens["refresh_token"].as_str().unwrap();
    let active = introspect(&c, &app, r1).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["client_id"], app.client_id.as_str());
    assert_eq!(active["sub"], account.id.as_str());
    assert_eq!(active["scope"], "openid email profile offline_access pdf_read");
    assert!(active["exp"].as_i64().unwrap() > active["iat"].as_i64().unwrap());
    refresh(&c, &app, r1, StatusCode::OK).await;
    assert_eq!(introspect(&c, &app, r1).await, json!({"active": false}));
}

#[tokio::test]
async fn a_refresh_asking_for_more_scope_is_invalid_scope_and_leaves_the_token_usable() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let url = authorize_url("/oauth/authorize", &app, &[("scope", "openid offline_access")]);
    let reply = authorize(&c, &url).await;
    let tokens = redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;
    let r1 = tokens["refresh_token"].as_str().unwrap();
    let wider = [
        ("grant_type", "refresh_token"),
        ("refresh_token", r1),
        ("scope", "openid pdf_read"),
        ("client_id", &app.client_id),
        ("client_secret", app.secret.as_deref().unwrap()),
    ];
    let refused = c
        .post_form("/oauth/token", &wider, StatusCode::BAD_REQUEST)
        .await
        .json_value();
    assert_eq!(refused["error"], "invalid_scope");
    // Not consumed: the same token still refreshes, and its grant was not revoked as reused.
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(introspect(&c, &app, access).await["active"], true);
    let next = refresh(&c, &app, r1, StatusCode::OK).await;
    assert_eq!(next["scope"], "openid offline_access");
    // Narrowing is still allowed.
    let narrower = [
        ("grant_type", "refresh_token"),
        ("refresh_token", next["refresh_token"].as_str().unwrap()),
        ("scope", "openid"),
        ("client_id", &app.client_id),
        ("client_secret", app.secret.as_deref().unwrap()),
    ];
    let narrowed = c
        .post_form("/oauth/token", &narrower, StatusCode::OK)
        .await
        .json_value();
    assert_eq!(narrowed["scope"], "openid");
}

#[tokio::test]
async fn a_token_request_without_client_authentication_is_invalid_client() {
    let server = TestServer::start().await;
    let c = server.client();
    for path in ["/oauth/token", "/oauth/introspect", "/oauth/revoke"] {
        let res = c
            .post_form(
                path,
                &[("grant_type", "client_credentials"), ("token", "x")],
                StatusCode::UNAUTHORIZED,
            )
            .await;
        assert_eq!(res.json_value()["error"], "invalid_client", "{path}");
        assert!(res.header("www-authenticate").is_some(), "{path}");
    }
    // HTTP authentication that cannot even be read: 401 with a challenge (RFC 6749 §5.2).
    let req = c
        .request(Method::POST, "/oauth/token")
        .header("authorization", "Basic not-base64!")
        .form(&[("grant_type", "client_credentials")]);
    let res = c.send(req, StatusCode::UNAUTHORIZED).await;
    assert_eq!(res.json_value()["error"], "invalid_client");
    assert_eq!(res.header("www-authenticate"), Some("Basic realm=\"gatehouse\""));
}

#[tokio::test]
async fn api_401s_carry_a_bearer_challenge_and_the_scheme_is_case_insensitive() {
    let server = TestServer::start().await;
    let c = server.client();
    let res = c.get("/api/v1/integrations", StatusCode::UNAUTHORIZED).await;
    assert_eq!(res.header("www-authenticate"), Some("Bearer realm=\"gatehouse\""));
    assert_eq!(res.json_value()["code"], "not_signed_in");
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let req = c
            .request(Method::GET, "/api/v1/account")
            .header("authorization", format!("{scheme} not-a-token"));
        let res = c.send(req, StatusCode::UNAUTHORIZED).await;
        assert_eq!(res.json_value()["code"], "invalid_token", "{scheme}");
        assert_eq!(
            res.header("www-authenticate"),
            Some("Bearer realm=\"gatehouse\", error=\"invalid_token\""),
            "{scheme}"
        );
    }
}

#[tokio::test]
async fn a_client_introspects_and_revokes_only_its_own_tokens_unless_allowed_to_introspect() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let other = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let tokens = code_flow(&c, &app).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    for t in [access, refresh_token] {
        assert_eq!(introspect(&c, &other, t).await, json!({"active": false}));
    }
    // Revoking another client's token is refused and leaves it working.
    for t in [access, refresh_token] {
        let req = c
            .request(Method::POST, "/oauth/revoke")
            .basic_auth(&other.client_id, other.secret.as_deref())
            .form(&[("token", t)]);
        let res = c.send(req, StatusCode::BAD_REQUEST).await.json_value();
        assert_eq!(res["error"], "unauthorized_client");
    }
    assert_eq!(introspect(&c, &app, access).await["active"], true);
    assert_eq!(introspect(&c, &app, refresh_token).await["active"], true);

    // An integration an operator allowed to introspect (a resource server) sees other clients' tokens.
    let mut rs = other.integration.clone();
    rs.may_introspect = true;
    let mut tx = server.store().begin().await.unwrap();
    tx.update_integration(&rs).await.unwrap();
    tx.append_audit(&gatehouse_domain::audit::AuditEntry::new(
        server.state().now(),
        &gatehouse_domain::audit::Actor::System,
        "integration.updated",
        format!("integration:{}", rs.id),
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let seen = introspect(&c, &other, access).await;
    assert_eq!(seen["active"], true);
    assert_eq!(seen["client_id"], app.client_id.as_str());
    // It still may not revoke them.
    let req = c
        .request(Method::POST, "/oauth/revoke")
        .basic_auth(&other.client_id, other.secret.as_deref())
        .form(&[("token", access)]);
    c.send(req, StatusCode::BAD_REQUEST).await;
    assert_eq!(introspect(&c, &app, access).await["active"], true);
}

#[tokio::test]
async fn ims_logout_with_a_session_asks_unless_the_client_or_an_id_token_names_the_person() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let tokens = code_flow(&c, &app).await;
    let signed_in_url = authorize_url("/oauth/authorize", &app, &[]);
    // A bare link (any site can make one) only asks.
    for url in [
        "/ims/logout/v1".to_owned(),
        format!("/ims/logout/v1?client_id={}", app.client_id),
        "/ims/logout/v1?id_token_hint=not.a.token".to_owned(),
    ] {
        let page = c.get(&url, StatusCode::OK).await;
        assert!(page.text().contains("Sign out of Gatehouse?"), "{url}");
        // Still signed in: the consent given earlier answers with a code at once.
        c.get(&signed_in_url, StatusCode::FOUND).await;
    }
    // A valid ID token for this person signs out at once.
    let url = format!("/ims/logout/v1?id_token_hint={}", tokens["id_token"].as_str().unwrap());
    c.get(&url, StatusCode::OK).await;
    let again = c
        .get(&authorize_url("/oauth/authorize", &app, &[]), StatusCode::SEE_OTHER)
        .await;
    assert!(location(&again).starts_with("/signin"));
    let _ = REDIRECT;
}
