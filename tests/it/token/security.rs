//! Attacks on the user grants, each of which must fail: code reuse (and the first use's tokens
//! revoked), refresh-token reuse (the family revoked), PKCE mismatch, missing verifier and the
//! plain method, redirect URIs that differ by trailing path, case, port or userinfo, prompt=none
//! without a session, a disabled integration, max_age, expiry, and a consent form without CSRF.

use axum::http::{Method, StatusCode};
use gatehouse_domain::integration::{IntegrationStatus, Platform};
use gatehouse_store::{AuditStore, IntegrationStore};
use gatehouse_web::Clock;

use super::flow::{
    CHALLENGE, OAuthApp, REDIRECT, VERIFIER, authorize, authorize_again, authorize_url, introspect, location,
    oauth_app, redeem, refresh, reply_params, signed_in,
};
use crate::harness::server::TestServer;

async fn tokens_for(server: &TestServer, app: &OAuthApp) -> (crate::harness::server::TestClient, String) {
    let (c, _) = signed_in(server, "ada@example.com").await;
    let reply = authorize(&c, &authorize_url("/oauth/authorize", app, &[])).await;
    (c, reply["code"].clone())
}

#[tokio::test]
async fn a_code_used_twice_is_refused_and_revokes_what_the_first_use_issued() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, code) = tokens_for(&server, &app).await;
    let first = redeem(&c, "/oauth/token", &app, &code, Some(VERIFIER), StatusCode::OK).await;
    let access = first["access_token"].as_str().unwrap();
    let refresh_token = first["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&c, &app, access).await["active"], true);

    let second = redeem(&c, "/oauth/token", &app, &code, Some(VERIFIER), StatusCode::BAD_REQUEST).await;
    assert_eq!(second["error"], "invalid_grant");
    assert_eq!(introspect(&c, &app, access).await["active"], false);
    let refused = refresh(&c, &app, refresh_token, StatusCode::BAD_REQUEST).await;
    assert_eq!(refused["error"], "invalid_grant");
}

#[tokio::test]
async fn a_rotated_refresh_token_used_again_revokes_the_whole_family() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, code) = tokens_for(&server, &app).await;
    let first = redeem(&c, "/oauth/token", &app, &code, Some(VERIFIER), StatusCode::OK).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();
    let second = refresh(&c, &app, &r1, StatusCode::OK).await;
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    let a2 = second["access_token"].as_str().unwrap().to_owned();

    // The attacker replays the old one: refused, and the current one dies with it.
    let replay = refresh(&c, &app, &r1, StatusCode::BAD_REQUEST).await;
    assert_eq!(replay["error"], "invalid_grant");
    assert_eq!(
        refresh(&c, &app, &r2, StatusCode::BAD_REQUEST).await["error"],
        "invalid_grant"
    );
    assert_eq!(introspect(&c, &app, &a2).await["active"], false);
    assert_eq!(
        introspect(&c, &app, first["access_token"].as_str().unwrap()).await["active"],
        false
    );
}

#[tokio::test]
async fn refresh_tokens_are_bound_to_their_client() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let other = oauth_app(&server, Platform::Web).await;
    let (c, code) = tokens_for(&server, &app).await;
    let first = redeem(&c, "/oauth/token", &app, &code, Some(VERIFIER), StatusCode::OK).await;
    let stolen = first["refresh_token"].as_str().unwrap();
    assert_eq!(
        refresh(&c, &other, stolen, StatusCode::BAD_REQUEST).await["error"],
        "invalid_grant"
    );
    // Still good for its own client.
    refresh(&c, &app, stolen, StatusCode::OK).await;
}

#[tokio::test]
async fn pkce_verifier_mismatch_and_a_missing_verifier_are_refused() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Spa).await;
    let (c, code) = tokens_for(&server, &app).await;
    let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX";
    let res = redeem(&c, "/oauth/token", &app, &code, Some(wrong), StatusCode::BAD_REQUEST).await;
    assert_eq!(res["error"], "invalid_grant");
    // The code is spent by that attempt; a fresh one without a verifier fails too.
    let reply = authorize_again(&c, &authorize_url("/oauth/authorize", &app, &[])).await;
    let res = redeem(&c, "/oauth/token", &app, &reply["code"], None, StatusCode::BAD_REQUEST).await;
    assert_eq!(res["error"], "invalid_grant");
    assert!(res["error_description"].as_str().unwrap().contains("code_verifier"));
}

#[tokio::test]
async fn the_plain_pkce_method_and_a_verifier_without_challenge_are_refused() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = tokens_for(&server, &app).await;
    for method in ["plain", ""] {
        let url = authorize_url(
            "/oauth/authorize",
            &app,
            &[("code_challenge", VERIFIER), ("code_challenge_method", method)],
        );
        let reply = reply_params(&location(&c.get(&url, StatusCode::FOUND).await));
        assert_eq!(reply["error"], "invalid_request", "{method:?}");
        assert!(!reply.contains_key("code"));
    }
    // A confidential client may skip PKCE, but then cannot send a verifier (downgrade).
    let url = authorize_url(
        "/oauth/authorize",
        &app,
        &[("code_challenge", ""), ("code_challenge_method", "")],
    );
    let reply = authorize_again(&c, &url).await;
    let res = redeem(
        &c,
        "/oauth/token",
        &app,
        &reply["code"],
        Some(VERIFIER),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(res["error"], "invalid_grant");
}

#[tokio::test]
async fn redirect_uris_that_differ_in_any_way_are_refused_on_a_page() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = tokens_for(&server, &app).await;
    for bad in [
        "https://app.example.com/callback/",
        "https://app.example.com/callback/x",
        "https://app.example.com/Callback",
        "https://app.example.com:444/callback",
        "https://app.example.com:443@evil.example/callback",
        "https://user@app.example.com/callback",
        "https://app.example.com.evil.example/callback",
        "http://app.example.com/callback",
        "https://app.example.com/cb/abc/",
        "https://app.example.com/cb/ABC",
    ] {
        for path in ["/oauth/authorize", "/ims/authorize/v1"] {
            let url = authorize_url(path, &app, &[("redirect_uri", bad)]);
            let res = c.get(&url, StatusCode::BAD_REQUEST).await;
            assert!(res.header("location").is_none(), "{bad} was redirected");
            assert!(res.text().contains("not registered"), "{bad}: {}", res.text());
        }
    }
    // The registered URI and a pattern match work (consent already given).
    authorize_again(&c, &authorize_url("/oauth/authorize", &app, &[])).await;
    let url = authorize_url(
        "/oauth/authorize",
        &app,
        &[("redirect_uri", "https://app.example.com/cb/abc")],
    );
    let res = c.get(&url, StatusCode::FOUND).await;
    assert!(location(&res).starts_with("https://app.example.com/cb/abc?code="));
    // At the token endpoint the redirect URI must match the code's.
    let reply = reply_params(&location(&res));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", reply["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", &app.client_id),
        ("client_secret", app.secret.as_deref().unwrap()),
    ];
    let res = c.post_form("/oauth/token", &form, StatusCode::BAD_REQUEST).await;
    assert_eq!(res.json_value()["error"], "invalid_grant");
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let c = server.new_client();
    let url = authorize_url("/oauth/authorize", &app, &[("prompt", "none")]);
    let reply = reply_params(&location(&c.get(&url, StatusCode::FOUND).await));
    assert_eq!(reply["error"], "login_required");
    assert_eq!(reply["state"], "st-123");
    // Signed in but never consented: consent_required.
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let reply = reply_params(&location(&c.get(&url, StatusCode::FOUND).await));
    assert_eq!(reply["error"], "consent_required");
}

#[tokio::test]
async fn a_disabled_integration_gets_no_code_and_its_codes_and_tokens_stop_working() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, code) = tokens_for(&server, &app).await;
    let tokens = redeem(&c, "/oauth/token", &app, &code, Some(VERIFIER), StatusCode::OK).await;
    let reply = authorize_again(&c, &authorize_url("/oauth/authorize", &app, &[])).await;

    let mut disabled = app.integration.clone();
    disabled.status = IntegrationStatus::Disabled;
    let mut tx = server.store().begin().await.unwrap();
    tx.update_integration(&disabled).await.unwrap();
    tx.append_audit(&gatehouse_domain::audit::AuditEntry::new(
        server.state().now(),
        &gatehouse_domain::audit::Actor::System,
        "integration.disabled",
        "test",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let res = c
        .get(&authorize_url("/oauth/authorize", &app, &[]), StatusCode::BAD_REQUEST)
        .await;
    assert!(res.text().contains("disabled"));
    let res = redeem(
        &c,
        "/oauth/token",
        &app,
        &reply["code"],
        Some(VERIFIER),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(res["error"], "invalid_client");
    let res = refresh(
        &c,
        &app,
        tokens["refresh_token"].as_str().unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(res["error"], "invalid_client");
    let req = c
        .request(Method::GET, "/oauth/userinfo")
        .bearer_auth(tokens["access_token"].as_str().unwrap());
    c.send(req, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn max_age_and_prompt_login_force_a_new_sign_in() {
    let server = TestServer::start_with_clock(Clock::manual(1_800_000_000), |_| {}).await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, code) = tokens_for(&server, &app).await;
    let _ = code;
    server.state().clock.advance(120);
    let url = authorize_url("/oauth/authorize", &app, &[("max_age", "60")]);
    let res = c.get(&url, StatusCode::SEE_OTHER).await;
    let to = location(&res);
    assert!(
        to.starts_with("/signin?return_to=") && to.ends_with("&prompt=login"),
        "{to}"
    );
    let with_none = authorize_url("/oauth/authorize", &app, &[("max_age", "60"), ("prompt", "none")]);
    let reply = reply_params(&location(&c.get(&with_none, StatusCode::FOUND).await));
    assert_eq!(reply["error"], "login_required");
    // A long enough max_age is satisfied by the existing session.
    authorize_again(&c, &authorize_url("/oauth/authorize", &app, &[("max_age", "600")])).await;

    // prompt=login: sent to sign in although signed in; after signing in again, a code whose
    // ID token says when.
    let url = authorize_url("/oauth/authorize", &app, &[("prompt", "login")]);
    let to = location(&c.get(&url, StatusCode::SEE_OTHER).await);
    let return_to = reply_params(&to)["return_to"].clone();
    assert!(return_to.contains("gh_login_after="), "{return_to}");
    // Coming back without signing in again is sent to sign in again.
    let still = c.get(&return_to, StatusCode::SEE_OTHER).await;
    assert!(location(&still).starts_with("/signin"));
    server.state().clock.advance(5);
    let back = super::flow::sign_in(&c, "ada@example.com", Some(&return_to)).await;
    let reply = authorize_again(&c, &back).await;
    let tokens = redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;
    let (_, id) = super::decode(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["auth_time"].as_i64().unwrap(), 1_800_000_000 + 125);

    // prompt=login in a browser with no session: one sign-in is enough.
    let fresh = server.new_client();
    let to = location(&fresh.get(&url, StatusCode::SEE_OTHER).await);
    let return_to = reply_params(&to)["return_to"].clone();
    let back = super::flow::sign_in(&fresh, "ada@example.com", Some(&return_to)).await;
    assert!(authorize_again(&fresh, &back).await.contains_key("code"));
}

#[tokio::test]
async fn codes_expire_after_sixty_seconds_and_belong_to_their_client() {
    let server = TestServer::start_with_clock(Clock::manual(1_800_000_000), |_| {}).await;
    let app = oauth_app(&server, Platform::Web).await;
    let other = oauth_app(&server, Platform::Web).await;
    let (c, code) = tokens_for(&server, &app).await;
    server.state().clock.advance(61);
    let res = redeem(&c, "/oauth/token", &app, &code, Some(VERIFIER), StatusCode::BAD_REQUEST).await;
    assert_eq!(res["error"], "invalid_grant");
    let reply = authorize_again(&c, &authorize_url("/oauth/authorize", &app, &[])).await;
    let res = redeem(
        &c,
        "/oauth/token",
        &other,
        &reply["code"],
        Some(VERIFIER),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(res["error"], "invalid_grant");
}

#[tokio::test]
async fn the_consent_form_needs_its_csrf_token() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let url = authorize_url("/oauth/authorize", &app, &[]);
    let page = c.get(&url, StatusCode::OK).await;
    let mut form: Vec<(String, String)> = super::flow::hidden_fields(&page.text())
        .into_iter()
        .filter(|(k, _)| k != "csrf_token")
        .collect();
    form.push(("decision".into(), "allow".into()));
    c.post_form("/oauth/authorize", &form, StatusCode::FORBIDDEN).await;
    // The challenge on the page is the one sent.
    assert!(page.text().contains(CHALLENGE));
}
