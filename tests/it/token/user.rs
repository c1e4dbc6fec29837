//! The user grants end to end over HTTP: authorize (sign-in, consent), the code and refresh
//! grants, ID tokens, userinfo, consent withdrawal, logout and the API-key check.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{integration::Platform, token::id_token::at_hash};
use serde_json::json;

use super::{
    decode,
    flow::{
        REDIRECT, VERIFIER, authorize, authorize_again, authorize_url, introspect, location, oauth_app, redeem,
        refresh, reply_params, sign_in, signed_in,
    },
};
use crate::harness::server::TestServer;

#[tokio::test]
async fn the_code_flow_issues_an_access_token_a_refresh_token_and_an_oidc_id_token() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, account) = signed_in(&server, "ada@example.com").await;

    let reply = authorize(&c, &authorize_url("/oauth/authorize", &app, &[])).await;
    assert_eq!(reply["state"], "st-123");
    assert_eq!(reply["iss"], server.base_url());
    let code = &reply["code"];
    assert!(code.starts_with("ghc_"), "{code}");

    let tokens = redeem(&c, "/oauth/token", &app, code, Some(VERIFIER), StatusCode::OK).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid email profile offline_access pdf_read");
    let access = tokens["access_token"].as_str().unwrap();
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("ghr_"));
    let (_, at) = decode(access);
    assert_eq!(at["sub"], account.id.as_str());
    assert_eq!(at["client_id"], app.client_id.as_str());
    assert_eq!(at["aud"], "pdf_services");

    let (header, id) = decode(tokens["id_token"].as_str().unwrap());
    assert_eq!(header["alg"], "ES256");
    assert_eq!(id["iss"], server.base_url());
    assert_eq!(id["aud"], app.client_id.as_str());
    assert_eq!(id["sub"], account.id.as_str());
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["at_hash"], at_hash(access));
    assert_eq!(id["amr"], json!(["pwd"]));
    assert_eq!(id["email"], "ada@example.com");
    assert!(id["auth_time"].as_i64().unwrap() <= id["iat"].as_i64().unwrap());

    let active = introspect(&c, &app, access).await;
    assert_eq!(active["active"], true);
    assert_eq!(active["sub"], account.id.as_str());

    let info = c
        .send(
            c.request(Method::GET, "/oauth/userinfo").bearer_auth(access),
            StatusCode::OK,
        )
        .await
        .json_value();
    assert_eq!(info["sub"], account.id.as_str());
    assert_eq!(info["email"], "ada@example.com");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Ada Lovelace");

    // The consent is remembered: the next request goes straight back with a code.
    let again = authorize_again(&c, &authorize_url("/oauth/authorize", &app, &[("state", "two")])).await;
    assert_eq!(again["state"], "two");
    assert!(again.contains_key("code"));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_id_tokens_come_along() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let reply = authorize(&c, &authorize_url("/oauth/authorize", &app, &[])).await;
    let first = redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let second = refresh(&c, &app, r1, StatusCode::OK).await;
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    assert!(second["id_token"].is_string());
    let (_, a1) = decode(first["access_token"].as_str().unwrap());
    let (_, a2) = decode(second["access_token"].as_str().unwrap());
    assert_eq!(a1["grant_id"], a2["grant_id"], "one grant");
    // Narrowing the scope on refresh (widening is `invalid_scope`: see token::conformance).
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", r2),
        ("scope", "pdf_read"),
        ("client_id", &app.client_id),
        ("client_secret", app.secret.as_deref().unwrap()),
    ];
    let third = c.post_form("/oauth/token", &form, StatusCode::OK).await.json_value();
    assert_eq!(third["scope"], "pdf_read");
    assert!(third.get("id_token").is_none());
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token_and_without_openid_no_id_token() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let url = authorize_url("/oauth/authorize", &app, &[("scope", "pdf_read")]);
    let reply = authorize(&c, &url).await;
    let tokens = redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;
    assert_eq!(tokens["scope"], "pdf_read");
    assert!(tokens.get("refresh_token").is_none());
    assert!(tokens.get("id_token").is_none());
    // Userinfo needs openid.
    let access = tokens["access_token"].as_str().unwrap();
    let res = c
        .send(
            c.request(Method::GET, "/oauth/userinfo").bearer_auth(access),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert_eq!(res.json_value()["error"], "insufficient_scope");
}

#[tokio::test]
async fn public_clients_redeem_with_pkce_and_no_secret() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Spa).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let reply = authorize(&c, &authorize_url("/oauth/authorize", &app, &[])).await;
    let tokens = redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;
    assert!(tokens["access_token"].is_string());
    // A public client cannot ask without a challenge.
    let no_pkce = authorize_url(
        "/oauth/authorize",
        &app,
        &[("code_challenge", ""), ("code_challenge_method", "")],
    );
    let reply = reply_params(&location(&c.get(&no_pkce, StatusCode::FOUND).await));
    assert_eq!(reply["error"], "invalid_request");
    assert_eq!(reply["state"], "st-123");
}

#[tokio::test]
async fn sign_in_happens_on_the_hosted_pages_and_comes_back() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    super::flow::account(&server, "ada@example.com").await;
    let c = server.new_client();
    let url = authorize_url("/oauth/authorize", &app, &[]);
    let res = c.get(&url, StatusCode::SEE_OTHER).await;
    let to_signin = location(&res);
    assert!(to_signin.starts_with("/signin?return_to="), "{to_signin}");
    let return_to: String = reply_params(&to_signin)["return_to"].clone();
    assert_eq!(return_to, url);
    let back = sign_in(&c, "ada@example.com", Some(&return_to)).await;
    assert_eq!(back, url);
    let reply = authorize(&c, &back).await;
    assert!(reply.contains_key("code"));
}

#[tokio::test]
async fn declining_consent_answers_access_denied() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let url = authorize_url("/oauth/authorize", &app, &[]);
    let page = c.get(&url, StatusCode::OK).await;
    let res = super::flow::answer_consent(&c, &page, "/oauth/authorize", false).await;
    let reply = reply_params(&location(&res));
    assert_eq!(reply["error"], "access_denied");
    assert_eq!(reply["state"], "st-123");
    // prompt=consent shows the screen even after approval.
    authorize(&c, &url).await;
    let forced = authorize_url("/oauth/authorize", &app, &[("prompt", "consent")]);
    let page = c.get(&forced, StatusCode::OK).await;
    assert!(page.text().contains("Allow"));
}

#[tokio::test]
async fn withdrawing_consent_revokes_the_grant_and_asks_again() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let url = authorize_url("/oauth/authorize", &app, &[]);
    let reply = authorize(&c, &url).await;
    let tokens = redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;

    let page = c.get("/console/account/connected-apps", StatusCode::OK).await.text();
    assert!(page.contains("Example App") && page.contains(&app.client_id), "{page}");
    let listed = c.get("/api/v1/account/consents", StatusCode::OK).await.json_value();
    assert_eq!(listed[0]["client_id"], app.client_id.as_str());
    assert_eq!(listed[0]["scopes"][0], "openid");

    let csrf = c.cookie("gatehouse_csrf").unwrap();
    let res = c
        .post_form(
            "/console/account/connected-apps/revoke",
            &[("client_id", app.client_id.as_str()), ("csrf_token", &csrf)],
            StatusCode::SEE_OTHER,
        )
        .await;
    assert_eq!(location(&res), "/console/account/connected-apps?done=revoked");
    assert_eq!(
        introspect(&c, &app, tokens["access_token"].as_str().unwrap()).await["active"],
        false
    );
    let refused = refresh(
        &c,
        &app,
        tokens["refresh_token"].as_str().unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(refused["error"], "invalid_grant");
    // The consent screen shows again.
    let page = c.get(&url, StatusCode::OK).await;
    assert!(page.text().contains("Allow"));
    // The API withdraws too (and says 404 when there is nothing to withdraw).
    let req = c
        .request(Method::DELETE, &format!("/api/v1/account/consents/{}", app.client_id))
        .header("x-csrf-token", csrf);
    c.send(req, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn rp_initiated_logout_ends_the_session_and_returns_to_a_registered_uri() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let reply = authorize(&c, &authorize_url("/oauth/authorize", &app, &[])).await;
    let tokens = redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;
    let id_token = tokens["id_token"].as_str().unwrap();

    // An unregistered post_logout_redirect_uri is refused on a page.
    let bad = format!(
        "/oauth/logout?id_token_hint={id_token}&post_logout_redirect_uri={}",
        "https%3A%2F%2Fevil.example%2F"
    );
    c.get(&bad, StatusCode::BAD_REQUEST).await;
    // Without a hint, the person is asked.
    let ask = format!("/oauth/logout?client_id={}", app.client_id);
    let page = c.get(&ask, StatusCode::OK).await;
    assert!(page.text().contains("Sign out of Gatehouse?"));

    let url = format!(
        "/oauth/logout?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye",
        serde_urlencoded::to_string([("v", REDIRECT)])
            .unwrap()
            .trim_start_matches("v=")
    );
    let res = c.get(&url, StatusCode::SEE_OTHER).await;
    assert_eq!(location(&res), format!("{REDIRECT}?state=bye"));
    // Signed out: authorize sends the browser to sign in again.
    let again = c
        .get(&authorize_url("/oauth/authorize", &app, &[]), StatusCode::SEE_OTHER)
        .await;
    assert!(location(&again).starts_with("/signin"));
}

#[tokio::test]
async fn discovery_describes_the_user_grants() {
    let server = TestServer::start().await;
    let c = server.client();
    let d = c
        .get("/.well-known/openid-configuration", StatusCode::OK)
        .await
        .json_value();
    assert_eq!(d["authorization_endpoint"], server.url("/oauth/authorize"));
    assert_eq!(d["userinfo_endpoint"], server.url("/oauth/userinfo"));
    assert_eq!(d["end_session_endpoint"], server.url("/oauth/logout"));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["response_types_supported"], json!(["code"]));
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    let ims = c
        .get("/ims/.well-known/openid-configuration", StatusCode::OK)
        .await
        .json_value();
    assert_eq!(ims["issuer"], server.base_url());
    assert_eq!(ims["authorization_endpoint"], server.url("/ims/authorize/v2"));
    assert_eq!(ims["token_endpoint"], server.url("/ims/token/v3"));
    assert_eq!(ims["jwks_uri"], server.url("/ims/keys"));
}

#[tokio::test]
async fn rs256_is_configurable() {
    let server = TestServer::start_with(|c| c.tokens.signing_algorithm = "RS256".into()).await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let jwks = c.get("/oauth/jwks", StatusCode::OK).await.json_value();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["alg"] == "RS256" && k["kty"] == "RSA")
    );
    let reply = authorize(&c, &authorize_url("/oauth/authorize", &app, &[])).await;
    let tokens = redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;
    for t in ["access_token", "id_token"] {
        assert_eq!(decode(tokens[t].as_str().unwrap()).0["alg"], "RS256", "{t}");
    }
    let d = c
        .get("/.well-known/openid-configuration", StatusCode::OK)
        .await
        .json_value();
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["RS256", "ES256"]));
    assert_eq!(
        introspect(&c, &app, tokens["access_token"].as_str().unwrap()).await["active"],
        true
    );
}

#[tokio::test]
async fn the_api_key_check_says_valid_active_and_subscribed() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let c = server.client();
    let check = |key: String, service: &str| {
        c.request(Method::GET, &format!("/oauth/api-key-check?service={service}"))
            .header("x-api-key", key)
    };
    let ok = c
        .send(check(app.client_id.clone(), "pdf_services"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["active"], true);
    assert_eq!(ok["subscribed"], true);
    assert_eq!(ok["scopes"], json!(["pdf_read"]));
    let other = c
        .send(check(app.client_id.clone(), "stock"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(other["subscribed"], false);
    let unknown = c
        .send(
            check("ffffffffffffffffffffffffffffffff".into(), "pdf_services"),
            StatusCode::OK,
        )
        .await
        .json_value();
    assert_eq!(unknown, json!({"valid": false, "active": false, "subscribed": false}));
    c.get("/oauth/api-key-check?service=pdf_services", StatusCode::BAD_REQUEST)
        .await;
}

#[tokio::test]
async fn a_consent_withdrawn_on_another_node_is_asked_for_again_within_seconds() {
    use gatehouse_store::{ConsentStore, TokenStore};

    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, account) = signed_in(&server, "ada@example.com").await;
    let url = authorize_url("/oauth/authorize", &app, &[]);
    authorize(&c, &url).await;
    authorize_again(&c, &url).await;
    // Another node withdraws the consent: the row goes, and a marker lands on the deny-list.
    let mut conn = server.store().conn().await.unwrap();
    assert!(conn.delete_consent(&account.id, &app.integration.id).await.unwrap());
    let now = server.state().now();
    let marker = format!("consent:{}:{}", account.id, app.integration.id);
    conn.revoke_access_token(&marker, &app.client_id, now, now + 3600)
        .await
        .unwrap();
    let session = c.cookie("gatehouse_session").unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut asked = false;
    for _ in 0..40 {
        let res = http
            .get(server.url(&url))
            .header("cookie", format!("gatehouse_session={session}"))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::OK {
            asked = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(asked, "the consent screen comes back within seconds");
}
