//! Debugging a webhook from the console: the delivery log names each event's type and CloudEvent
//! ID and filters by outcome and type; an attempt's page shows the request as sent (headers,
//! signatures, body) and the response (status, headers with credentials masked, body excerpt),
//! latency and error; the registration shows its backlog and next retry; "Send test event"
//! delivers a test to that registration only; the registration form reports all its problems at once.

use axum::http::StatusCode;
use gatehouse_store::{AuditStore, EventStore};
use serde_json::{Value, json};

use super::{
    client::{dispatch, dispatcher, posts},
    console::{CODE, setup},
};
use crate::{console::helpers::post, harness::receiver::Reply};

#[tokio::test]
async fn events_pages_show_what_an_attempt_sent_and_received_with_the_backlog_and_filters() {
    let s = setup().await;
    let p = s.provider().await;
    let (rid, _) = s.register("Invoices hook", &p).await;
    let reg = format!("{}/registrations/{rid}", s.base());
    s.receiver.enqueue(
        Reply::status(StatusCode::INTERNAL_SERVER_ERROR)
            .header("x-trace", "trace-77")
            .header("set-cookie", "session=do-not-show")
            .body("database is down"),
        1,
    );
    s.publisher.publish(&p, CODE, "evt-1", json!({"amount": 42})).await;
    let d = dispatcher(&s.w.server, |_| {});
    let report = dispatch(&d, s.w.server.state().now()).await;
    assert_eq!((report.attempted, report.delivered), (1, 0));

    let log = s.admin().get(&reg, StatusCode::OK).await.text();
    assert!(
        log.contains(&format!("<code class=\"small event-type\">{CODE}</code>")),
        "{log}"
    );
    assert!(log.contains("<code class=\"small event-id\">evt-1</code>"), "{log}");
    assert!(
        log.contains("id=\"backlog\">1 delivery waiting; next attempt at <span id=\"next-retry\">"),
        "{log}"
    );
    let failed = s
        .admin()
        .get(&format!("{reg}?status=failed"), StatusCode::OK)
        .await
        .text();
    assert!(failed.contains("event-id\">evt-1<"), "{failed}");
    let succeeded = s
        .admin()
        .get(&format!("{reg}?status=succeeded"), StatusCode::OK)
        .await
        .text();
    assert!(!succeeded.contains("event-id\">evt-1<") && succeeded.contains("No attempt matches these filters"));
    let other_type = s
        .admin()
        .get(&format!("{reg}?type=com.acme.other"), StatusCode::OK)
        .await
        .text();
    assert!(!other_type.contains("event-id\">evt-1<"));

    let mut conn = s.w.server.store().conn().await.unwrap();
    let attempt = conn
        .attempts_of_registration(&rid, None, 10, &Default::default())
        .await
        .unwrap()
        .remove(0);
    drop(conn);
    let html = s
        .admin()
        .get(&format!("{reg}/attempts/{}", attempt.id), StatusCode::OK)
        .await
        .text();
    let received = posts(&s.receiver).remove(0);
    // The request as the receiver got it: its headers, its signatures, its body.
    let webhook_id = received.header("webhook-id").unwrap();
    assert!(
        html.contains(&format!(
            "<code>webhook-id</code></td><td><code class=\"small\">{webhook_id}</code>"
        )),
        "{html}"
    );
    let signature = received.header("webhook-signature").unwrap();
    let signatures = &html[html.find("id=\"signatures\"").expect("the signatures")..];
    assert!(signatures.contains(signature), "{html}");
    let body: Value = received.json();
    let shown = &html[html.find("id=\"request-body\">").unwrap() + 18..];
    let shown = crate::console::get_a_token::unescape(&shown[..shown.find("</code>").unwrap()]);
    assert_eq!(serde_json::from_str::<Value>(&shown).unwrap(), body);
    assert_eq!(body["id"], "evt-1");
    // The response: status, headers (the cookie masked), body excerpt; latency.
    assert!(html.contains("id=\"attempt-status\">500<"), "{html}");
    assert!(
        html.contains("<code>x-trace</code></td><td><code class=\"small\">trace-77</code>"),
        "{html}"
    );
    assert!(!html.contains("do-not-show"), "credentials are masked");
    assert!(html.contains("id=\"response-body\">database is down<"), "{html}");
    assert!(html.contains("id=\"attempt-latency\">"));
    assert!(html.contains("id=\"attempt-event-id\">evt-1<"));
    // Another registration's attempt, or one that does not exist: not found.
    s.admin()
        .get(&format!("{reg}/attempts/{}", attempt.id + 1000), StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test]
async fn events_pages_send_a_test_event_to_one_registration_only() {
    let s = setup().await;
    let p = s.provider().await;
    let (rid, _) = s.register("Invoices hook", &p).await;
    let (other, _) = s.register("Second hook", &p).await;
    let reg = format!("{}/registrations/{rid}", s.base());
    let res = post(s.admin(), &format!("{reg}/test"), &[], StatusCode::SEE_OTHER).await;
    assert!(res.header("location").unwrap().ends_with("?done=test-sent"));
    let d = dispatcher(&s.w.server, |_| {});
    let report = dispatch(&d, s.w.server.state().now()).await;
    assert_eq!(
        (report.attempted, report.delivered),
        (1, 1),
        "the other registration gets nothing"
    );
    let got: Value = posts(&s.receiver).remove(0).json();
    assert_eq!(got["type"], CODE);
    assert_eq!(got["data"]["test"], true);
    let log = s
        .admin()
        .get(&format!("{reg}?done=test-sent"), StatusCode::OK)
        .await
        .text();
    assert!(
        log.contains(&format!("event-id\">{}<", got["id"].as_str().unwrap())),
        "{log}"
    );
    let mut conn = s.w.server.store().conn().await.unwrap();
    assert!(
        conn.attempts_of_registration(&other, None, 10, &Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    let audit = conn.recent_audit(None, 100).await.unwrap();
    assert!(
        audit.iter().any(|e| e.entry.action == "event_registration.test_sent"
            && e.entry.target == format!("event_registration:{rid}"))
    );
    drop(conn);

    // Someone who does not manage the integration cannot; a disabled registration is re-enabled first.
    post(&s.w.dev.client, &format!("{reg}/test"), &[], StatusCode::NOT_FOUND).await;
    post(s.admin(), &format!("{reg}/disable"), &[], StatusCode::SEE_OTHER).await;
    let refused = post(s.admin(), &format!("{reg}/test"), &[], StatusCode::FORBIDDEN)
        .await
        .text();
    assert!(refused.contains("re-enable it"), "{refused}");
    assert_eq!(dispatch(&d, s.w.server.state().now()).await.attempted, 0);
}

#[tokio::test]
async fn events_pages_report_every_problem_of_the_registration_form_at_once() {
    let s = setup().await;
    s.provider().await;
    let html = post(
        s.admin(),
        &s.base(),
        &[("name", "x"), ("delivery_method", "webhook"), ("webhook_url", "")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
    .text();
    for field in ["name-error", "webhook_url-error", "events-error"] {
        assert!(html.contains(&format!("id=\"{field}\"")), "{field}: {html}");
    }
    let summary = &html[html.find("id=\"error-summary\"").unwrap()..];
    assert_eq!(summary[..summary.find("</ul>").unwrap()].matches("<li>").count(), 3);
}
