//! The events API: providers, event types and registrations, with the rules on who may do what
//! and the challenge and address checks on webhook URLs.

use axum::http::StatusCode;
use gatehouse_domain::events::model::GATEHOUSE_PROVIDER_ID;
use serde_json::json;

use super::client::*;
use crate::harness::{
    receiver::{Reply, TestReceiver},
    server::TestServer,
};

#[tokio::test]
async fn callers_need_a_valid_token_matching_their_api_key() {
    let server = server().await;
    let a = caller(&server).await;
    let c = server.client();
    let res = c.get("/api/v1/events/providers", StatusCode::UNAUTHORIZED).await;
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert!(res.header("www-authenticate").unwrap().starts_with("Bearer"));
    let req = c
        .request(axum::http::Method::GET, "/api/v1/events/providers")
        .bearer_auth("not-a-token");
    c.send(req, StatusCode::UNAUTHORIZED).await;
    let req = c
        .request(axum::http::Method::GET, "/api/v1/events/providers")
        .bearer_auth(&a.token)
        .header("x-api-key", "someone-else");
    let res = c.send(req, StatusCode::FORBIDDEN).await.json_value();
    assert_eq!(res["code"], "api_key_mismatch");
    a.get("/api/v1/events/providers", StatusCode::OK).await;
}

#[tokio::test]
async fn providers_and_event_types_belong_to_their_integration() {
    let server = server().await;
    let a = caller(&server).await;
    let mate = colleague(&server, &a).await;
    let stranger = caller(&server).await;
    let p = a.provider(&["com.acme.invoice.paid"]).await;

    let listed = a.get("/api/v1/events/providers", StatusCode::OK).await.json_value();
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&p.as_str()) && ids.contains(&GATEHOUSE_PROVIDER_ID));
    // The same organization sees it; another organization does not.
    mate.get(&format!("/api/v1/events/providers/{p}"), StatusCode::OK).await;
    let other = stranger
        .get("/api/v1/events/providers", StatusCode::OK)
        .await
        .json_value();
    assert!(!other["data"].as_array().unwrap().iter().any(|x| x["id"] == p.as_str()));
    stranger
        .get(&format!("/api/v1/events/providers/{p}"), StatusCode::NOT_FOUND)
        .await;
    // Only the owner changes it or its types.
    let res = mate
        .put(
            &format!("/api/v1/events/providers/{p}"),
            &json!({"label": "Mine now"}),
            StatusCode::FORBIDDEN,
        )
        .await
        .json_value();
    assert_eq!(res["code"], "forbidden");
    mate.post(
        &format!("/api/v1/events/providers/{p}/event-types"),
        &json!({"event_code": "com.acme.x", "label": "x"}),
        StatusCode::FORBIDDEN,
    )
    .await;
    a.put(
        &format!("/api/v1/events/providers/{p}"),
        &json!({"label": "Billing"}),
        StatusCode::OK,
    )
    .await;

    // Event types: reverse-DNS codes, unique per provider.
    let res = a
        .post(
            &format!("/api/v1/events/providers/{p}/event-types"),
            &json!({"event_code": "nodots", "label": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
        .json_value();
    assert_eq!(res["code"], "invalid_event_code");
    let res = a
        .post(
            &format!("/api/v1/events/providers/{p}/event-types"),
            &json!({"event_code": "com.acme.invoice.paid", "label": "again"}),
            StatusCode::CONFLICT,
        )
        .await
        .json_value();
    assert_eq!(res["code"], "event_code_taken");
    let types = mate
        .get(&format!("/api/v1/events/providers/{p}/event-types"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(types["data"][0]["event_code"], "com.acme.invoice.paid");
    // Gatehouse's own provider cannot be changed by anyone.
    a.put(
        &format!("/api/v1/events/providers/{GATEHOUSE_PROVIDER_ID}"),
        &json!({"label": "x"}),
        StatusCode::FORBIDDEN,
    )
    .await;
    a.delete(
        &format!("/api/v1/events/providers/{p}/event-types/com.acme.invoice.paid"),
        StatusCode::NO_CONTENT,
    )
    .await;
    a.delete(&format!("/api/v1/events/providers/{p}"), StatusCode::NO_CONTENT)
        .await;
    a.get(&format!("/api/v1/events/providers/{p}"), StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test]
async fn a_webhook_that_answers_the_challenge_is_active_and_its_secret_is_shown_to_its_owner() {
    let server = server().await;
    let a = caller(&server).await;
    let mate = colleague(&server, &a).await;
    let receiver = TestReceiver::start().await;
    let p = a.provider(&["com.acme.invoice.paid"]).await;
    let r = a
        .register(
            "Invoices",
            "webhook",
            Some(&receiver.url("/hook?tenant=1")),
            &p,
            "com.acme.invoice.paid",
        )
        .await;
    assert_eq!(r["status"], "active", "{r}");
    let challenge = &receiver.requests()[0];
    assert_eq!(challenge.method, axum::http::Method::GET);
    assert!(
        challenge.path.starts_with("/hook?tenant=1&challenge="),
        "{}",
        challenge.path
    );
    let secret = r["webhook_secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    let id = r["id"].as_str().unwrap();
    // Not in reads of the registration; readable again at …/secret by its owner only.
    let again = a
        .get(&format!("/api/v1/events/registrations/{id}"), StatusCode::OK)
        .await
        .json_value();
    assert!(again.get("webhook_secret").is_none());
    let s = a
        .get(&format!("/api/v1/events/registrations/{id}/secret"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(s["webhook_secret"], secret);
    assert!(s["previous"].is_null());
    mate.get(
        &format!("/api/v1/events/registrations/{id}/secret"),
        StatusCode::NOT_FOUND,
    )
    .await;
    mate.get(&format!("/api/v1/events/registrations/{id}"), StatusCode::NOT_FOUND)
        .await;

    // Rotation: a new secret, the old one still listed until it stops signing.
    let rotated = a
        .post_empty(
            &format!("/api/v1/events/registrations/{id}/secret/rotate"),
            StatusCode::OK,
        )
        .await
        .json_value();
    assert_ne!(rotated["webhook_secret"], secret);
    let s = a
        .get(&format!("/api/v1/events/registrations/{id}/secret"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(s["webhook_secret"], rotated["webhook_secret"]);
    assert_eq!(s["previous"]["webhook_secret"], secret);

    // Names are unique per integration.
    let dup = json!({
        "name": "Invoices", "delivery_method": "journal",
        "events_of_interest": [{"provider_id": p, "event_code": "com.acme.invoice.paid"}],
    });
    let res = a
        .post("/api/v1/events/registrations", &dup, StatusCode::CONFLICT)
        .await
        .json_value();
    assert_eq!(res["code"], "name_taken");
}

#[tokio::test]
async fn a_webhook_that_fails_the_challenge_is_unverified_until_a_recheck_passes() {
    let server = server().await;
    let a = caller(&server).await;
    let receiver = TestReceiver::start().await;
    receiver.enqueue(Reply::status(StatusCode::OK).body("not the challenge"), 1);
    let p = a.provider(&["com.acme.paid"]).await;
    let r = a
        .register("Hook", "webhook", Some(&receiver.url("/in")), &p, "com.acme.paid")
        .await;
    assert_eq!(r["status"], "unverified");
    assert!(r["status_reason"].as_str().unwrap().contains("echo"), "{r}");
    let id = r["id"].as_str().unwrap();
    receiver.enqueue(Reply::status(StatusCode::NOT_FOUND), 1);
    let res = a
        .post_empty(
            &format!("/api/v1/events/registrations/{id}/enable"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
        .json_value();
    assert_eq!(res["code"], "challenge_failed");
    assert!(res["detail"].as_str().unwrap().contains("404"), "{res}");
    let r = a
        .post_empty(&format!("/api/v1/events/registrations/{id}/enable"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(r["status"], "active");
    // A receiver that never echoes stays unverified.
    let quoted = TestReceiver::start().await;
    quoted.stop_echoing_challenges();
    quoted.set_default(Reply::status(StatusCode::OK).body("wrong"));
    let r = a
        .register("Quoted", "webhook", Some(&quoted.url("/in")), &p, "com.acme.paid")
        .await;
    assert_eq!(r["status"], "unverified");
    // Disable and re-enable by the owner.
    let r = a
        .post_empty(&format!("/api/v1/events/registrations/{id}/disable"), StatusCode::OK)
        .await
        .json_value();
    assert_eq!(r["status"], "disabled");
}

#[tokio::test]
async fn registrations_refuse_precisely_what_they_cannot_accept() {
    let server = server().await;
    let a = caller(&server).await;
    let stranger = caller(&server).await;
    let p = a.provider(&["com.acme.paid"]).await;
    let theirs = stranger.provider(&["com.globex.x"]).await;
    let base = |m: &str, url: Option<&str>, provider: &str, code: &str| {
        json!({
            "name": "Hook", "delivery_method": m, "webhook_url": url,
            "events_of_interest": [{"provider_id": provider, "event_code": code}],
        })
    };
    for (body, status, code) in [
        (
            base("webhook", None, &p, "com.acme.paid"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "webhook_url_required",
        ),
        (
            base("webhook", Some("not a url"), &p, "com.acme.paid"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_webhook_url",
        ),
        (
            base("webhook", Some("ftp://x.example/in"), &p, "com.acme.paid"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_webhook_url",
        ),
        (
            base("carrier_pigeon", None, &p, "com.acme.paid"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_delivery_type",
        ),
        (
            base("journal", None, &p, "com.acme.unknown"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_event_code",
        ),
        (
            base("journal", None, &theirs, "com.globex.x"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_provider",
        ),
        (
            base("journal", None, &p, "bad code"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event_code",
        ),
        (
            json!({"name": "x", "delivery_method": "journal", "events_of_interest": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
        ),
        (
            json!({"name": "Hook", "delivery_method": "journal", "events_of_interest": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_events_of_interest",
        ),
    ] {
        let res = a.post("/api/v1/events/registrations", &body, status).await.json_value();
        assert_eq!(res["code"], code, "{body}");
    }
    let list = a.get("/api/v1/events/registrations", StatusCode::OK).await.json_value();
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "nothing was created");
    a.get("/api/v1/events/registrations/no-such-id", StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test]
async fn webhook_urls_to_private_addresses_are_refused_without_allow_listing() {
    // No allowed networks: the default configuration.
    let server = TestServer::start().await;
    let a = caller(&server).await;
    let receiver = TestReceiver::start().await;
    let p = a.provider(&["com.acme.paid"]).await;
    let port = receiver.base_url().rsplit(':').next().unwrap().to_owned();
    for url in [
        format!("https://127.0.0.1:{port}/hook"),
        format!("http://127.0.0.1:{port}/hook"),
        "https://10.0.0.1/hook".to_owned(),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        format!("https://[::1]:{port}/hook"),
        "https://[::ffff:127.0.0.1]/hook".to_owned(),
        // A name that resolves to a private (loopback) address.
        format!("https://localhost:{port}/hook"),
    ] {
        let body = json!({
            "name": "Hook", "delivery_method": "webhook", "webhook_url": url,
            "events_of_interest": [{"provider_id": p, "event_code": "com.acme.paid"}],
        });
        let res = a
            .post("/api/v1/events/registrations", &body, StatusCode::UNPROCESSABLE_ENTITY)
            .await
            .json_value();
        assert_eq!(res["code"], "address_not_allowed", "{url}: {res}");
    }
    // Plain http to a public address is refused too (https only).
    let body = json!({
        "name": "Hook", "delivery_method": "webhook", "webhook_url": "http://93.184.216.34/hook",
        "events_of_interest": [{"provider_id": p, "event_code": "com.acme.paid"}],
    });
    let res = a
        .post("/api/v1/events/registrations", &body, StatusCode::UNPROCESSABLE_ENTITY)
        .await
        .json_value();
    assert_eq!(res["code"], "invalid_webhook_url");
    assert!(receiver.requests().is_empty(), "no request reached the private address");
}
