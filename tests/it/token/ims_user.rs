//! The user grants on the Adobe-compatible surface (compat §1, §3.2–3.3, §4, §5): JWT-shaped
//! codes and refresh tokens with a `type` claim, `/ims/token/v1` in milliseconds, userinfo,
//! profile, organizations, validation, invalidation, revocation and logout.

use axum::http::{Method, StatusCode};
use gatehouse_domain::{
    integration::Platform,
    org::{Membership, Role},
};
use gatehouse_store::OrgStore;
use serde_json::Value;

use super::{
    decode,
    flow::{OAuthApp, REDIRECT, authorize, location, oauth_app, reply_params, signed_in},
    multipart,
};
use crate::harness::server::{TestClient, TestServer};

/// `/ims/authorize/v1` as aio-lib-ims's `getSusiUrl` builds it: no PKCE, comma-separated scopes.
fn susi_url(app: &OAuthApp) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", app.client_id.as_str()),
        ("scope", "openid,AdobeID,offline_access,email,profile"),
        ("redirect_uri", REDIRECT),
        ("state", "abc"),
    ];
    format!("/ims/authorize/v1?{}", serde_urlencoded::to_string(params).unwrap())
}

async fn ims_post(c: &TestClient, path: &str, fields: &[(&str, &str)], expected: StatusCode) -> Value {
    let (content_type, body) = multipart(fields, false);
    let req = c
        .request(Method::POST, path)
        .header("content-type", content_type)
        .body(body);
    let res = c.send(req, expected).await;
    if res.body.is_empty() {
        Value::Null
    } else {
        res.json_value()
    }
}

#[tokio::test]
async fn codes_and_refresh_tokens_on_the_ims_surface_are_jwt_shaped_with_a_type() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, account) = signed_in(&server, "ada@example.com").await;
    let reply = authorize(&c, &susi_url(&app)).await;
    assert_eq!(reply["state"], "abc");
    let code = reply["code"].clone();
    let (_, claims) = decode(&code);
    assert_eq!(claims["type"], "authorization_code");
    assert_eq!(claims["client_id"], app.client_id.as_str());
    assert_eq!(claims["expires_in"], "60000");
    // AdobeID is not a scope of this integration: it is simply not granted.
    assert_eq!(claims["scope"], "openid,offline_access,email,profile");

    let secret = app.secret.clone().unwrap();
    let tokens = ims_post(
        &c,
        "/ims/token/v1",
        &[
            ("client_id", &app.client_id),
            ("client_secret", &secret),
            ("scope", "openid,AdobeID,offline_access"),
            ("grant_type", "authorization_code"),
            ("code", &code),
        ],
        StatusCode::OK,
    )
    .await;
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 86_400_000);
    assert_eq!(tokens["sub"], account.id.as_str());
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let (_, at) = decode(&access);
    assert_eq!(at["type"], "access_token");
    assert_eq!(at["user_id"], account.id.as_str());
    assert_eq!(at["as"], "ims-na1");
    assert!(at["created_at"].is_string() && at["expires_in"] == "86400000");
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (_, rc) = decode(&rt);
    assert_eq!(rc["type"], "refresh_token");
    assert_eq!(rc["user_id"], account.id.as_str());

    let refreshed = ims_post(
        &c,
        "/ims/token/v3",
        &[
            ("client_id", &app.client_id),
            ("client_secret", &secret),
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
        ],
        StatusCode::OK,
    )
    .await;
    assert_eq!(refreshed["expires_in"], 86_400);
    let rt2 = refreshed["refresh_token"].as_str().unwrap();
    assert_eq!(decode(rt2).1["type"], "refresh_token");
    // The old refresh token is spent; reuse gives Adobe's error shape.
    let reuse = ims_post(
        &c,
        "/ims/token/v3",
        &[
            ("client_id", &app.client_id),
            ("client_secret", &secret),
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
        ],
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(reuse["error"], "invalid_grant");
    assert!(reuse["error_description"].is_string());
}

#[tokio::test]
async fn userinfo_profile_organizations_and_validation_for_a_person() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, account) = signed_in(&server, "ada@example.com").await;
    let org_id = match &app.integration.owner {
        gatehouse_domain::integration::Owner::Organization(o) => o.clone(),
        gatehouse_domain::integration::Owner::Account(_) => unreachable!(),
    };
    server
        .store()
        .conn()
        .await
        .unwrap()
        .upsert_membership(&Membership {
            org_id: gatehouse_domain::ids::OrgId::parse(&org_id).unwrap(),
            account_id: account.id.clone(),
            role: Role::Developer,
            created_at: 0,
        })
        .await
        .unwrap();
    let reply = authorize(&c, &susi_url(&app)).await;
    let secret = app.secret.clone().unwrap();
    let tokens = ims_post(
        &c,
        "/ims/token/v3",
        &[
            ("client_id", &app.client_id),
            ("client_secret", &secret),
            ("grant_type", "authorization_code"),
            ("code", &reply["code"]),
        ],
        StatusCode::OK,
    )
    .await;
    let access = tokens["access_token"].as_str().unwrap();
    let bearer = |path: &str| c.request(Method::GET, path).bearer_auth(access);

    for path in ["/ims/userinfo/v2", "/ims/userinfo/v1", "/ims/userinfo"] {
        let info = c.send(bearer(path), StatusCode::OK).await.json_value();
        assert_eq!(info["sub"], account.id.as_str(), "{path}");
        assert_eq!(info["account_type"], "ind");
        assert_eq!(info["email"], "ada@example.com");
        assert_eq!(info["email_verified"], true);
    }
    let profile = c.send(bearer("/ims/profile/v1"), StatusCode::OK).await.json_value();
    assert_eq!(profile["userId"], account.id.as_str());
    assert_eq!(profile["first_name"], "Ada");
    assert_eq!(profile["emailVerified"], "true");

    let orgs = c
        .send(bearer("/ims/organizations/v6"), StatusCode::OK)
        .await
        .json_value();
    let (ident, src) = org_id.split_once('@').unwrap();
    assert_eq!(orgs[0]["orgRef"]["ident"], ident);
    assert_eq!(orgs[0]["orgRef"]["authSrc"], src);
    assert_eq!(orgs[0]["orgName"], "Example Apps");
    assert_eq!(orgs[0]["role"], "DEVELOPER");
    assert_eq!(
        c.send(bearer("/ims/organizations/v5"), StatusCode::OK)
            .await
            .json_value(),
        orgs
    );

    let valid = ims_post(
        &c,
        "/ims/validate_token/v1",
        &[
            ("type", "access_token"),
            ("client_id", &app.client_id),
            ("token", access),
        ],
        StatusCode::OK,
    )
    .await;
    assert_eq!(valid["valid"], true);
    assert_eq!(valid["token"]["user_id"], account.id.as_str());

    // Invalidating the refresh token takes the access token with it.
    let rt = tokens["refresh_token"].as_str().unwrap();
    let done = ims_post(
        &c,
        "/ims/invalidate_token/v2",
        &[
            ("token_type", "refresh_token"),
            ("token", rt),
            ("cascading", "all"),
            ("client_id", &app.client_id),
            ("client_secret", &secret),
        ],
        StatusCode::OK,
    )
    .await;
    assert_eq!(done, Value::Null);
    let gone = ims_post(
        &c,
        "/ims/validate_token/v1",
        &[
            ("type", "access_token"),
            ("client_id", &app.client_id),
            ("token", access),
        ],
        StatusCode::OK,
    )
    .await;
    assert_eq!(gone["valid"], false);
    c.send(bearer("/ims/userinfo/v2"), StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn ims_revoke_and_logout() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let reply = authorize(&c, &susi_url(&app)).await;
    let secret = app.secret.clone().unwrap();
    let tokens = ims_post(
        &c,
        "/ims/token/v3",
        &[
            ("client_id", &app.client_id),
            ("client_secret", &secret),
            ("grant_type", "authorization_code"),
            ("code", &reply["code"]),
        ],
        StatusCode::OK,
    )
    .await;
    let access = tokens["access_token"].as_str().unwrap();
    let req = c
        .request(Method::POST, "/ims/revoke")
        .basic_auth(&app.client_id, Some(&secret))
        .form(&[("token", access)]);
    let res = c.send(req, StatusCode::OK).await;
    assert!(res.body.is_empty());
    let req = c.request(Method::GET, "/ims/userinfo/v2").bearer_auth(access);
    c.send(req, StatusCode::UNAUTHORIZED).await;

    // Logout to an unregistered URI is refused; to the registered one it ends the session.
    let bad = format!(
        "/ims/logout/v1?client_id={}&redirect_uri=https%3A%2F%2Fevil.example%2F",
        app.client_id
    );
    c.get(&bad, StatusCode::BAD_REQUEST).await;
    let url = format!(
        "/ims/logout/v1?client_id={}&redirect_uri={}",
        app.client_id,
        serde_urlencoded::to_string([("v", REDIRECT)])
            .unwrap()
            .trim_start_matches("v=")
    );
    let res = c.get(&url, StatusCode::SEE_OTHER).await;
    assert_eq!(location(&res), REDIRECT);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let again = c.get(&susi_url(&app), StatusCode::SEE_OTHER).await;
    assert!(location(&again).starts_with("/signin"));
    let _ = reply_params;
}
