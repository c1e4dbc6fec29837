//! When each credential was last used: a token issued by any grant, a secret or a signed
//! assertion accepted, an API key accepted by the API-key check; recorded in memory and written
//! by the background flush at most once a minute per credential. The migration from a Service
//! Account (JWT) to OAuth Server-to-Server watches these to know when the JWT one is unused.

use axum::http::{Method, StatusCode};
use gatehouse_domain::integration::Platform;
use gatehouse_store::{IntegrationStore, LastUsedStore};
use gatehouse_web::Clock;
use serde_json::json;

use super::{
    assertion,
    flow::{VERIFIER, authorize, authorize_url, oauth_app, redeem, signed_in},
    server_to_server_beside, service_account,
};
use crate::harness::server::TestServer;

/// Writes what the server marked, as its background job would.
async fn flush(server: &TestServer) {
    gatehouse_core::tokens::last_used::flush(&server.state().tokens)
        .await
        .unwrap();
}

async fn last_used(server: &TestServer, integration_id: &str) -> Option<i64> {
    let mut conn = server.store().conn().await.unwrap();
    conn.integrations_last_used(&[integration_id.to_owned()])
        .await
        .unwrap()
        .get(integration_id)
        .copied()
}

async fn secrets_last_used(server: &TestServer, integration_id: &str) -> Vec<Option<i64>> {
    let mut conn = server.store().conn().await.unwrap();
    conn.secrets_of(integration_id)
        .await
        .unwrap()
        .iter()
        .map(|s| s.last_used_at)
        .collect()
}

#[tokio::test]
async fn migrating_from_jwt_to_server_to_server_shows_which_credential_is_still_used() {
    let start = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = Clock::manual(start);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let jwt = service_account(&server).await;
    let s2s = server_to_server_beside(&server, &jwt).await;
    flush(&server).await;
    assert_eq!(last_used(&server, &jwt.integration.id).await, None);
    assert_eq!(last_used(&server, &s2s.integration.id).await, None);

    // The new credential gets a token: it shows as used, the JWT one does not.
    let c = server.client();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", s2s.client_id.as_str()),
        ("client_secret", s2s.secret.as_str()),
        ("scope", "ent_documentcloud_sdk"),
    ];
    c.post_form("/ims/token/v3", &form, StatusCode::OK).await;
    flush(&server).await;
    assert_eq!(last_used(&server, &s2s.integration.id).await, Some(start));
    assert_eq!(secrets_last_used(&server, &s2s.integration.id).await, [Some(start)]);
    assert_eq!(last_used(&server, &jwt.integration.id).await, None);

    // The JWT exchange (client secret and signed assertion) marks the JWT credential.
    clock.advance(10);
    let claims = json!({
        "iss": jwt.org_id,
        "sub": jwt.technical_account_id,
        "aud": format!("{}/c/{}", server.base_url(), jwt.client_id),
        "exp": start + 300,
        "https://ims-na1.adobelogin.com/s/ent_documentcloud_sdk": true,
    });
    let fields = [
        ("client_id", jwt.client_id.as_str()),
        ("client_secret", jwt.secret.as_str()),
        ("jwt_token", &assertion(&jwt, &claims)),
    ];
    c.post_form("/ims/exchange/jwt", &fields, StatusCode::OK).await;
    flush(&server).await;
    assert_eq!(last_used(&server, &jwt.integration.id).await, Some(start + 10));
    assert_eq!(
        secrets_last_used(&server, &jwt.integration.id).await,
        [Some(start + 10)]
    );

    // Within a minute another use writes nothing; a minute on, it is written again.
    clock.advance(30);
    c.post_form("/ims/token/v3", &form, StatusCode::OK).await;
    flush(&server).await;
    assert_eq!(last_used(&server, &s2s.integration.id).await, Some(start));
    clock.advance(30);
    c.post_form("/oauth/token", &form, StatusCode::OK).await;
    flush(&server).await;
    assert_eq!(last_used(&server, &s2s.integration.id).await, Some(start + 70));
}

#[tokio::test]
async fn a_persons_token_and_an_accepted_api_key_are_uses_of_the_integration() {
    let server = TestServer::start().await;
    let app = oauth_app(&server, Platform::Web).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let reply = authorize(&c, &authorize_url("/oauth/authorize", &app, &[])).await;
    flush(&server).await;
    assert_eq!(
        last_used(&server, &app.integration.id).await,
        None,
        "a code is no use yet"
    );
    redeem(&c, "/oauth/token", &app, &reply["code"], Some(VERIFIER), StatusCode::OK).await;
    flush(&server).await;
    let used = last_used(&server, &app.integration.id).await.unwrap();
    assert!((used - server.state().now()).abs() <= 2);
    assert!(secrets_last_used(&server, &app.integration.id).await[0].is_some());

    // An API key the check refuses is no use; one it accepts is.
    let spa = oauth_app(&server, Platform::Spa).await;
    let check = |service: &str| {
        c.request(Method::GET, &format!("/oauth/api-key-check?service={service}"))
            .header("x-api-key", spa.client_id.clone())
    };
    let res = c.send(check("not_subscribed"), StatusCode::OK).await.json_value();
    assert_eq!(res["subscribed"], false);
    flush(&server).await;
    assert_eq!(last_used(&server, &spa.integration.id).await, None);
    let res = c.send(check("pdf_services"), StatusCode::OK).await.json_value();
    assert_eq!(res["subscribed"], true);
    flush(&server).await;
    assert!(last_used(&server, &spa.integration.id).await.is_some());
}
