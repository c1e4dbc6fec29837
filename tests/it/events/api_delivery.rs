//! Publishing and delivery, the dispatcher driven explicitly: headers and both signature schemes,
//! retries on the schedule, `Retry-After`, `410 Gone`, health, isolation of slow endpoints.

use std::time::Duration;

use axum::http::StatusCode;
use base64::{Engine, engine::general_purpose::STANDARD};
use gatehouse_domain::events::signature::WebhookSecret;
use serde_json::{Value, json};

use super::client::*;
use crate::harness::receiver::{Reply, TestReceiver};

const CODE: &str = "com.acme.invoice.paid";

struct Setup {
    server: crate::harness::server::TestServer,
    a: Caller,
    provider: String,
    receiver: TestReceiver,
    registration: Value,
}

async fn setup(method: &str) -> Setup {
    let server = server().await;
    let a = caller(&server).await;
    let receiver = TestReceiver::start().await;
    let provider = a.provider(&[CODE]).await;
    let registration = a
        .register("Invoices", method, Some(&receiver.url("/hook")), &provider, CODE)
        .await;
    assert_eq!(registration["status"], "active");
    Setup {
        server,
        a,
        provider,
        receiver,
        registration,
    }
}

/// Verifies an RSA-SHA256 signature with the `openssl` command line, as a receiver would.
pub fn verify_adobe(pem: &str, body: &[u8], signature_b64: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let data = dir.path().join("body");
    let sig = dir.path().join("sig");
    std::fs::write(&key, pem).unwrap();
    std::fs::write(&data, body).unwrap();
    std::fs::write(&sig, STANDARD.decode(signature_b64).unwrap()).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&key)
        .arg("-signature")
        .arg(&sig)
        .arg(&data)
        .output()
        .expect("run openssl");
    out.status.success()
}

#[tokio::test]
async fn a_published_event_is_delivered_signed_both_ways() {
    let s = setup("webhook").await;
    let published = s.a.publish(&s.provider, CODE, "evt-1", json!({"amount": 42})).await;
    assert_eq!(published["duplicate"], false);
    assert_eq!(published["deliveries"], 1);
    let d = dispatcher(&s.server, |_| {});
    let now = s.server.state().now();
    let report = dispatch(&d, now).await;
    assert_eq!((report.attempted, report.delivered), (1, 1));
    let got = posts(&s.receiver);
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert_eq!(req.path, "/hook");
    assert_eq!(req.header("content-type"), Some("application/json; charset=utf-8"));
    let body = req.json();
    assert_eq!(body["id"], "evt-1");
    assert_eq!(body["type"], CODE);
    assert_eq!(body["data"]["amount"], 42);
    assert_eq!(body["specversion"], "1.0");
    assert_eq!(body["eventid"], "evt-1");
    assert_eq!(body["event_id"], "evt-1");
    assert_eq!(body["recipientclientid"], s.a.client_id.as_str());
    assert_eq!(body["recipient_client_id"], s.a.client_id.as_str());

    // Standard Webhooks.
    let id = req.header("webhook-id").unwrap();
    let ts: i64 = req.header("webhook-timestamp").unwrap().parse().unwrap();
    assert_eq!(ts, now);
    let secret = WebhookSecret::parse(s.registration["webhook_secret"].as_str().unwrap()).unwrap();
    assert!(secret.verify(id, ts, &req.body, req.header("webhook-signature").unwrap()));

    // Adobe's headers, and signatures that verify with the keys Gatehouse serves.
    assert_eq!(req.header("x-adobe-event-id"), Some("evt-1"));
    assert_eq!(req.header("x-adobe-event-code"), Some(CODE));
    assert_eq!(req.header("x-adobe-provider"), Some(s.provider.as_str()));
    assert!(req.header("x-adobe-delivery-id").is_some());
    assert_eq!(req.header("x-adobe-retry-count"), None, "absent on the first attempt");
    for n in ["1", "2"] {
        let path = req.header(&format!("x-adobe-public-key{n}-path")).unwrap();
        assert!(
            path.starts_with("/events/keys/pub-key-") && path.ends_with(".pem"),
            "{path}"
        );
        let pem = s.a.client.get(path, StatusCode::OK).await.text();
        let sig = req.header(&format!("x-adobe-digital-signature-{n}")).unwrap();
        assert!(verify_adobe(&pem, &req.body, sig), "signature {n}");
        assert!(!verify_adobe(&pem, b"{}", sig));
    }
    assert_ne!(
        req.header("x-adobe-public-key1-path"),
        req.header("x-adobe-public-key2-path")
    );
    s.a.client
        .get(
            "/events/keys/pub-key-00000000-0000-0000-0000-000000000000.pem",
            StatusCode::NOT_FOUND,
        )
        .await;
    s.a.client
        .get("/events/keys/..%2F..%2Fetc%2Fpasswd", StatusCode::NOT_FOUND)
        .await;

    // Nothing more is due.
    assert_eq!(dispatch(&d, now + 3600).await.attempted, 0);
}

#[tokio::test]
async fn a_repeat_of_source_and_id_is_accepted_but_not_delivered_twice() {
    let s = setup("webhook").await;
    s.a.publish(&s.provider, CODE, "same", json!({})).await;
    let again = s.a.publish(&s.provider, CODE, "same", json!({"changed": true})).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["deliveries"], 0);
    let d = dispatcher(&s.server, |_| {});
    dispatch(&d, s.server.state().now()).await;
    assert_eq!(posts(&s.receiver).len(), 1);
}

#[tokio::test]
async fn publishing_refuses_what_it_cannot_deliver() {
    let s = setup("webhook").await;
    let stranger = caller(&s.server).await;
    let mate = colleague(&s.server, &s.a).await;
    let cases = [
        (
            &s.a,
            json!({"type": CODE}),
            StatusCode::BAD_REQUEST,
            "invalid_cloudevent",
        ),
        (
            &s.a,
            json!(["not an event"]),
            StatusCode::BAD_REQUEST,
            "invalid_cloudevent",
        ),
        (
            &s.a,
            event(&s.provider, "com.acme.unknown", "e", json!({})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_event_code",
        ),
        (
            &s.a,
            json!({"specversion": "1.0", "type": CODE, "source": "https://not-a-provider", "id": "e"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_source",
        ),
        (
            &mate,
            event(&s.provider, CODE, "e", json!({})),
            StatusCode::FORBIDDEN,
            "provider_not_owned",
        ),
        (
            &stranger,
            event(&s.provider, CODE, "e", json!({})),
            StatusCode::NOT_FOUND,
            "unknown_provider",
        ),
        (
            &s.a,
            event(
                gatehouse_domain::events::model::GATEHOUSE_PROVIDER_ID,
                "gatehouse.integration.created",
                "e",
                json!({}),
            ),
            StatusCode::FORBIDDEN,
            "provider_not_owned",
        ),
    ];
    for (who, body, status, code) in cases {
        let res = who.post("/api/v1/events/publish", &body, status).await.json_value();
        assert_eq!(res["code"], code, "{body}");
    }
    let res =
        s.a.post_raw(
            "/api/v1/events/publish",
            "application/json",
            "{nope",
            StatusCode::BAD_REQUEST,
        )
        .await
        .json_value();
    assert_eq!(res["code"], "invalid_json");
    let d = dispatcher(&s.server, |_| {});
    assert_eq!(
        dispatch(&d, s.server.state().now()).await.attempted,
        0,
        "nothing was published"
    );
}

#[tokio::test]
async fn failures_are_retried_on_the_schedule_with_a_stable_id() {
    let s = setup("webhook").await;
    s.receiver.respond_with(StatusCode::SERVICE_UNAVAILABLE, 1);
    s.receiver.enqueue(
        Reply::status(StatusCode::FOUND).header("location", "https://elsewhere.example/"),
        1,
    );
    s.a.publish(&s.provider, CODE, "e1", json!({})).await;
    let d = dispatcher(&s.server, |_| {});
    let t0 = s.server.state().now();
    let r = dispatch(&d, t0).await;
    assert_eq!((r.attempted, r.retrying), (1, 1));
    assert_eq!(dispatch(&d, t0 + 3).await.attempted, 0, "not due before ~5 s");
    // A redirect is a failure and is not followed.
    let r = dispatch(&d, t0 + 10).await;
    assert_eq!((r.attempted, r.retrying), (1, 1));
    let r = dispatch(&d, t0 + 100).await;
    assert_eq!((r.attempted, r.delivered), (1, 1));
    let got = posts(&s.receiver);
    assert_eq!(got.len(), 3, "redirect not followed");
    let ids: Vec<&str> = got.iter().map(|q| q.header("webhook-id").unwrap()).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "webhook-id is stable across retries");
    assert_eq!(got[1].header("x-adobe-retry-count"), Some("1"));
    assert_eq!(got[2].header("x-adobe-retry-count"), Some("2"));
    assert_ne!(
        got[1].header("x-adobe-delivery-id"),
        got[2].header("x-adobe-delivery-id")
    );

    // The attempt log shows all three, newest first.
    let id = s.registration["id"].as_str().unwrap();
    let log =
        s.a.get(&format!("/api/v1/events/registrations/{id}/attempts"), StatusCode::OK)
            .await
            .json_value();
    let codes: Vec<i64> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [200, 302, 503]);
}

/// A failed webhook is debugged from the API as from the console: each attempt names its event
/// (type and CloudEvent id), shows the request as sent (signatures apart, the body) and the answer
/// as received; the log filters by outcome and event type; one attempt reads in full; a test event
/// reaches this registration only; and another organization's caller sees none of it.
#[tokio::test]
async fn the_attempt_log_shows_what_was_sent_and_received_and_filters_by_outcome_and_type() {
    let s = setup("webhook").await;
    s.receiver.enqueue(
        Reply::status(StatusCode::SERVICE_UNAVAILABLE).header("x-upstream", "busy"),
        1,
    );
    s.a.publish(&s.provider, CODE, "evt-debug", json!({"amount": 7})).await;
    let d = dispatcher(&s.server, |_| {});
    let t0 = s.server.state().now();
    assert_eq!(dispatch(&d, t0).await.retrying, 1);
    assert_eq!(dispatch(&d, t0 + 100).await.delivered, 1);

    let id = s.registration["id"].as_str().unwrap();
    let log =
        s.a.get(&format!("/api/v1/events/registrations/{id}/attempts"), StatusCode::OK)
            .await
            .json_value();
    let data = log["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    let failed = &data[1];
    assert_eq!(failed["status_code"], 503);
    assert_eq!(failed["event_type"], CODE);
    assert_eq!(failed["event_id"], "evt-debug");
    assert_eq!(failed["trigger"], "scheduled");
    let sent: Value = serde_json::from_str(failed["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["data"]["amount"], 7);
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_ascii_lowercase())
            .collect()
    };
    let signatures = names(&failed["request"]["signatures"]);
    assert!(signatures.iter().any(|n| n == "webhook-signature"), "{signatures:?}");
    let headers = names(&failed["request"]["headers"]);
    assert!(headers.iter().any(|n| n == "content-type"), "{headers:?}");
    assert!(
        !headers.iter().any(|n| n == "webhook-signature"),
        "signatures are apart"
    );
    let answered = &failed["response"]["headers"];
    assert!(
        answered
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"].as_str().unwrap().eq_ignore_ascii_case("x-upstream") && h["value"] == "busy"),
        "{answered}"
    );

    // Filters: by outcome, and by event type.
    let only = |query: &'static str| {
        let a = &s.a;
        let path = format!("/api/v1/events/registrations/{id}/attempts?{query}");
        async move {
            a.get(&path, StatusCode::OK).await.json_value()["data"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(only("outcome=failed").await, 1);
    assert_eq!(only("outcome=succeeded").await, 1);
    assert_eq!(only("event_type=com.acme.invoice.paid").await, 2);
    assert_eq!(only("event_type=com.acme.other").await, 0);
    s.a.get(
        &format!("/api/v1/events/registrations/{id}/attempts?outcome=maybe"),
        StatusCode::BAD_REQUEST,
    )
    .await;

    // One attempt in full; an unknown one is 404.
    let one =
        s.a.get(
            &format!("/api/v1/events/registrations/{id}/attempts/{}", failed["id"]),
            StatusCode::OK,
        )
        .await
        .json_value();
    assert_eq!(one["event_id"], "evt-debug");
    assert_eq!(one["response"]["body"], failed["response"]["body"]);
    s.a.get(
        &format!(
            "/api/v1/events/registrations/{id}/attempts/{}",
            failed["id"].as_i64().unwrap() + 1000
        ),
        StatusCode::NOT_FOUND,
    )
    .await;

    // A test event goes to this registration, and is delivered like any other.
    let queued =
        s.a.post_empty(&format!("/api/v1/events/registrations/{id}/test"), StatusCode::ACCEPTED)
            .await
            .json_value();
    assert!(queued["position"].is_string(), "{queued}");
    assert_eq!(dispatch(&d, t0 + 200).await.delivered, 1);
    let newest =
        s.a.get(
            &format!("/api/v1/events/registrations/{id}/attempts?limit=1"),
            StatusCode::OK,
        )
        .await
        .json_value();
    assert_eq!(newest["data"][0]["status_code"], 200);
    assert_eq!(newest["data"][0]["event_type"], CODE);

    // Another organization's caller reads none of it, and cannot send to it.
    let stranger = caller(&s.server).await;
    stranger
        .get(
            &format!("/api/v1/events/registrations/{id}/attempts"),
            StatusCode::NOT_FOUND,
        )
        .await;
    stranger
        .get(
            &format!("/api/v1/events/registrations/{id}/attempts/{}", failed["id"]),
            StatusCode::NOT_FOUND,
        )
        .await;
    stranger
        .post_empty(
            &format!("/api/v1/events/registrations/{id}/test"),
            StatusCode::NOT_FOUND,
        )
        .await;
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let s = setup("webhook").await;
    s.receiver.enqueue(
        Reply::status(StatusCode::TOO_MANY_REQUESTS).header("retry-after", "45"),
        1,
    );
    s.a.publish(&s.provider, CODE, "e1", json!({})).await;
    let d = dispatcher(&s.server, |_| {});
    let t0 = s.server.state().now();
    dispatch(&d, t0).await;
    assert_eq!(dispatch(&d, t0 + 44).await.attempted, 0, "waits as asked");
    assert_eq!(dispatch(&d, t0 + 45).await.delivered, 1);
}

#[tokio::test]
async fn the_schedule_ends_and_gone_disables() {
    let s = setup("webhook").await;
    s.receiver.set_default(Reply::status(StatusCode::INTERNAL_SERVER_ERROR));
    s.a.publish(&s.provider, CODE, "e1", json!({})).await;
    let d = dispatcher(&s.server, |c| {
        c.retry = gatehouse_domain::events::retry::RetrySchedule::new(vec![0, 1, 1]).unwrap()
    });
    let t0 = s.server.state().now();
    assert_eq!(dispatch(&d, t0).await.retrying, 1);
    assert_eq!(dispatch(&d, t0 + 5).await.retrying, 1);
    assert_eq!(dispatch(&d, t0 + 10).await.failed, 1, "three attempts in all");
    assert_eq!(dispatch(&d, t0 + 100).await.attempted, 0);

    s.receiver.set_default(Reply::status(StatusCode::GONE));
    s.a.publish(&s.provider, CODE, "e2", json!({})).await;
    s.a.publish(&s.provider, CODE, "e3", json!({})).await;
    let r = dispatch(&d, t0 + 200).await;
    assert!(r.failed >= 1);
    let id = s.registration["id"].as_str().unwrap();
    let reg =
        s.a.get(&format!("/api/v1/events/registrations/{id}"), StatusCode::OK)
            .await
            .json_value();
    assert_eq!(reg["status"], "disabled");
    assert!(reg["status_reason"].as_str().unwrap().contains("410"));
    // Nothing more is pushed while disabled, but the journal still fills.
    s.a.publish(&s.provider, CODE, "e4", json!({})).await;
    let before = posts(&s.receiver).len();
    assert_eq!(dispatch(&d, t0 + 300).await.attempted, 0);
    assert_eq!(posts(&s.receiver).len(), before);
    let j =
        s.a.get(&format!("/api/v1/events/registrations/{id}/journal"), StatusCode::OK)
            .await
            .json_value();
    assert_eq!(j["events"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_failing_endpoint_becomes_unstable_then_disabled_and_its_org_is_told() {
    let s = setup("webhook").await;
    // Another registration of the organization listens for Gatehouse's registration events.
    let mate = colleague(&s.server, &s.a).await;
    let gh = gatehouse_domain::events::model::GATEHOUSE_PROVIDER_ID;
    let watcher = mate
        .register("Watcher", "journal", None, gh, "gatehouse.registration.disabled")
        .await;
    let outsider = caller(&s.server).await;
    let outside = outsider
        .register("Outsider", "journal", None, gh, "gatehouse.registration.disabled")
        .await;

    s.receiver.set_default(Reply::status(StatusCode::INTERNAL_SERVER_ERROR));
    for i in 0..10 {
        s.a.publish(&s.provider, CODE, &format!("e{i}"), json!({})).await;
    }
    let d = dispatcher(&s.server, |_| {});
    let t0 = s.server.state().now();
    let r = dispatch(&d, t0).await;
    assert_eq!(r.attempted, 10);
    assert_eq!(r.health.changed.len(), 1);
    let id = s.registration["id"].as_str().unwrap();
    let reg =
        s.a.get(&format!("/api/v1/events/registrations/{id}"), StatusCode::OK)
            .await
            .json_value();
    assert_eq!(reg["status"], "unstable");
    // Still delivering while unstable; judged again a day later.
    let r = dispatch(&d, t0 + 10).await;
    assert_eq!(r.attempted, 10);
    assert!(r.health.changed.is_empty());
    for i in 10..20 {
        s.a.publish(&s.provider, CODE, &format!("e{i}"), json!({})).await;
    }
    let r = dispatch(&d, t0 + 86_400 + 60).await;
    assert!(r.attempted >= 10);
    let reg =
        s.a.get(&format!("/api/v1/events/registrations/{id}"), StatusCode::OK)
            .await
            .json_value();
    assert_eq!(reg["status"], "disabled", "{reg}");

    let wid = watcher["id"].as_str().unwrap();
    let j = mate
        .get(&format!("/api/v1/events/registrations/{wid}/journal"), StatusCode::OK)
        .await
        .json_value();
    let events = j["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"]["type"], "gatehouse.registration.disabled");
    assert_eq!(events[0]["event"]["data"]["registration_id"], id);
    let oid = outside["id"].as_str().unwrap();
    outsider
        .get(
            &format!("/api/v1/events/registrations/{oid}/journal"),
            StatusCode::NO_CONTENT,
        )
        .await;

    // Re-enabling runs the challenge again.
    s.receiver.set_default(Reply::status(StatusCode::OK));
    let reg =
        s.a.post_empty(&format!("/api/v1/events/registrations/{id}/enable"), StatusCode::OK)
            .await
            .json_value();
    assert_eq!(reg["status"], "active");
}

#[tokio::test]
async fn a_slow_endpoint_does_not_delay_others() {
    let server = server().await;
    let a = caller(&server).await;
    let provider = a.provider(&[CODE]).await;
    let slow = TestReceiver::start().await;
    let fast = TestReceiver::start().await;
    a.register("Slow", "webhook", Some(&slow.url("/slow")), &provider, CODE)
        .await;
    a.register("Fast", "webhook", Some(&fast.url("/fast")), &provider, CODE)
        .await;
    slow.set_default(Reply::status(StatusCode::OK).delay(Duration::from_secs(20)));
    for i in 0..5 {
        a.publish(&provider, CODE, &format!("e{i}"), json!({})).await;
    }
    // Adobe signatures off: creating the signing keys is not what this measures.
    let d = dispatcher(&server, |c| {
        c.per_endpoint = 1;
        c.adobe_signatures = false;
    });
    let now = server.state().now();
    let pass = tokio::spawn({
        let d = d.clone();
        async move { d.dispatch_due(now).await.unwrap() }
    });
    // The fast endpoint gets all five while the slow one is still on its first.
    let got = fast.wait_for(5 + 1, Duration::from_secs(10)).await;
    assert_eq!(got.iter().filter(|q| q.method == axum::http::Method::POST).count(), 5);
    assert!(posts(&slow).len() <= 1);
    pass.abort();
}

#[tokio::test]
async fn batch_registrations_get_json_arrays_of_at_most_twenty() {
    let s = setup("webhook_batch").await;
    for i in 0..25 {
        s.a.publish(&s.provider, CODE, &format!("e{i}"), json!({"i": i})).await;
    }
    // One request at a time, so the two batches arrive in order.
    let d = dispatcher(&s.server, |c| c.per_endpoint = 1);
    let r = dispatch(&d, s.server.state().now()).await;
    assert_eq!((r.requests, r.delivered), (2, 25));
    let got = posts(&s.receiver);
    let sizes: Vec<usize> = got.iter().map(|q| q.json().as_array().unwrap().len()).collect();
    assert_eq!(sizes, [20, 5]);
    let first = &got[0];
    let secret = WebhookSecret::parse(s.registration["webhook_secret"].as_str().unwrap()).unwrap();
    let ts: i64 = first.header("webhook-timestamp").unwrap().parse().unwrap();
    assert!(secret.verify(
        first.header("webhook-id").unwrap(),
        ts,
        &first.body,
        first.header("webhook-signature").unwrap()
    ));
    assert_eq!(first.json()[0]["recipient_client_id"], s.a.client_id.as_str());
}

#[tokio::test]
async fn rotated_secrets_sign_deliveries_with_both_for_a_day() {
    let s = setup("webhook").await;
    let id = s.registration["id"].as_str().unwrap();
    let old = WebhookSecret::parse(s.registration["webhook_secret"].as_str().unwrap()).unwrap();
    let rotated =
        s.a.post_empty(
            &format!("/api/v1/events/registrations/{id}/secret/rotate"),
            StatusCode::OK,
        )
        .await
        .json_value();
    let new = WebhookSecret::parse(rotated["webhook_secret"].as_str().unwrap()).unwrap();
    s.a.publish(&s.provider, CODE, "e1", json!({})).await;
    s.a.publish(&s.provider, CODE, "e2", json!({})).await;
    let d = dispatcher(&s.server, |_| {});
    let now = s.server.state().now();
    dispatch(&d, now).await;
    let during = &posts(&s.receiver)[0];
    let sig = during.header("webhook-signature").unwrap();
    assert_eq!(sig.split(' ').count(), 2);
    let msg = during.header("webhook-id").unwrap();
    assert!(old.verify(msg, now, &during.body, sig) && new.verify(msg, now, &during.body, sig));
}

#[tokio::test]
async fn a_running_dispatcher_makes_its_signing_keys_before_anything_is_due() {
    use gatehouse_store::EventStore;
    let s = setup("webhook").await;
    let mut c = s.server.store().conn().await.unwrap();
    assert!(
        c.list_delivery_keys().await.unwrap().is_empty(),
        "no key before the dispatcher runs"
    );
    // Nothing is published: the keys come from the dispatcher's start, not from a first delivery
    // (which would otherwise wait for RSA key generation).
    let single_process = s.server.store().backend() == gatehouse_store::Backend::Sqlite;
    let running = dispatcher(&s.server, |_| {}).spawn(single_process);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let keys = loop {
        let keys = c.list_delivery_keys().await.unwrap();
        if !keys.is_empty() || std::time::Instant::now() > deadline {
            break keys;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    running.abort();
    assert!(
        !keys.is_empty(),
        "the dispatcher started without making its signing keys"
    );
    assert!(posts(&s.receiver).is_empty());
}

#[tokio::test]
async fn a_running_dispatcher_is_woken_by_publications_and_retries_not_by_its_poll() {
    let s = setup("webhook").await;
    s.receiver.respond_with(StatusCode::INTERNAL_SERVER_ERROR, 1);
    let single_process = s.server.store().backend() == gatehouse_store::Backend::Sqlite;
    let running = dispatcher(&s.server, |c| {
        // Its next look would be an hour away: only a wake-up can bring the work below.
        c.idle_poll = Duration::from_secs(3600);
        c.idle_poll_max = Duration::from_secs(3600);
        c.retry = gatehouse_domain::events::retry::RetrySchedule::new(vec![0, 0, 3600]).unwrap();
    })
    .spawn(single_process);

    // The receiver has had the registration's challenge so far.
    let before = s.receiver.count();
    s.a.publish(&s.provider, CODE, "first", json!({})).await;
    // The 500, then the retry that its recorded attempt made due at once.
    let got = s.receiver.wait_for(before + 2, Duration::from_secs(30)).await;
    s.a.publish(&s.provider, CODE, "second", json!({})).await;
    let got_all = s.receiver.wait_for(before + 3, Duration::from_secs(30)).await;
    running.abort();
    let ids = |reqs: &[crate::harness::receiver::ReceivedRequest]| -> Vec<String> {
        reqs.iter()
            .filter(|q| q.method == axum::http::Method::POST)
            .map(|q| q.json()["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(ids(&got), ["first", "first"], "the retry was not woken");
    assert_eq!(
        ids(&got_all),
        ["first", "first", "second"],
        "the publication was not woken"
    );
}
