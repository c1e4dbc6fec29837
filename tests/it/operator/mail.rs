//! Honest mail: with no SMTP server configured, the pages that would say "we sent you a message"
//! say where it went (the outbox folder), and operators read the outbox in the browser and the
//! API; with SMTP configured, the pages say it was sent and there is no outbox to read.

use axum::http::{Method, StatusCode};
use gatehouse_app::config::{SmtpConfig, SmtpTls};
use serde_json::Value;

use super::op_world;
use crate::{
    console::helpers::{api, make_operator},
    harness::server::TestServer,
    identity::helpers::{PASSWORD, outbox, post, signed_in},
};

async fn sign_up(c: &crate::harness::server::TestClient, email: &str) -> String {
    c.get("/signup", StatusCode::OK).await;
    post(
        c,
        "/signup",
        &[
            ("email", email),
            ("display_name", "Newcomer"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
        StatusCode::OK,
    )
    .await
    .text()
}

#[tokio::test]
async fn without_smtp_pages_say_the_message_went_to_the_outbox_and_operators_read_it_there() {
    let o = op_world().await;
    let dir = o.w.server.data_dir().join("outbox").display().to_string();
    let anon = o.w.server.new_client();

    let page = sign_up(&anon, "newcomer@example.test").await;
    assert!(!page.contains("We have sent"), "{page}");
    assert!(page.contains("outbox folder") && page.contains(&dir), "{page}");
    let page = post(
        &anon,
        "/password-reset",
        &[("email", "admin@acme.test")],
        StatusCode::OK,
    )
    .await
    .text();
    assert!(!page.contains("we have sent") && page.contains(&dir), "{page}");
    // The same words whether or not the address has an account.
    let unknown = post(
        &anon,
        "/password-reset",
        &[("email", "nobody@acme.test")],
        StatusCode::OK,
    )
    .await
    .text();
    assert_eq!(
        page.replace("admin@acme.test", "X"),
        unknown.replace("nobody@acme.test", "X"),
        "the page does not tell whether an account exists"
    );
    outbox(&o.w.server).await;

    // The operator reads the outbox: the list and one message with its link.
    let c = &o.op.client;
    let list = api(c, Method::GET, "/api/v1/operator/outbox", None, StatusCode::OK).await;
    assert_eq!(list["dir"], dir);
    let messages = list["messages"].as_array().unwrap();
    let confirm: &Value = messages
        .iter()
        .find(|m| m["to"] == "newcomer@example.test")
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(confirm["subject"], "Confirm your email address for Gatehouse");
    let name = confirm["name"].as_str().unwrap();
    let one = api(
        c,
        Method::GET,
        &format!("/api/v1/operator/outbox/{name}"),
        None,
        StatusCode::OK,
    )
    .await;
    assert!(one["body"].as_str().unwrap().contains("/verify-email/"), "{one}");
    let page = c.get("/operator/outbox", StatusCode::OK).await.text();
    assert!(page.contains("newcomer@example.test") && page.contains(&format!("/operator/outbox/{name}")));
    let shown = c.get(&format!("/operator/outbox/{name}"), StatusCode::OK).await.text();
    assert!(shown.contains("/verify-email/"), "{shown}");
    // Only the outbox's own file names are read.
    for bad in ["..%2Fmaster.key", "master.key", "0-0123.eml"] {
        c.get(&format!("/api/v1/operator/outbox/{bad}"), StatusCode::NOT_FOUND)
            .await;
    }
    // Nobody else reads it.
    o.w.admin
        .client
        .get(&format!("/operator/outbox/{name}"), StatusCode::FORBIDDEN)
        .await;
}

#[tokio::test]
async fn with_smtp_the_pages_say_sent_and_there_is_no_outbox() {
    let server = TestServer::start_with(|cfg| {
        cfg.smtp = Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: 9,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "Gatehouse <no-reply@example.test>".into(),
        });
    })
    .await;
    let anon = server.new_client();
    let page = sign_up(&anon, "newcomer@example.test").await;
    assert!(
        page.contains("We have sent a message to newcomer@example.test"),
        "{page}"
    );
    assert!(!page.contains("outbox"), "{page}");

    let (c, account) = signed_in(&server, "operator@gatehouse.test").await;
    make_operator(&server, &account).await;
    let s = api(&c, Method::GET, "/api/v1/operator/status", None, StatusCode::OK).await;
    assert_eq!(s["mail"]["transport"], "smtp");
    assert_eq!(s["mail"]["host"], "127.0.0.1");
    assert_eq!(s["mail"]["outbox_dir"], Value::Null);
    let none = api(&c, Method::GET, "/api/v1/operator/outbox", None, StatusCode::NOT_FOUND).await;
    assert_eq!(none["code"], "no_outbox");
    let status = c.get("/operator/status", StatusCode::OK).await.text();
    assert!(
        status.contains("127.0.0.1:9") && !status.contains("Development mode"),
        "{status}"
    );
    assert!(!status.contains("href=\"/operator/outbox\""), "no outbox tab");
}
