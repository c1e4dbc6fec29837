//! Outgoing mail is limited per recipient and per client address (`[mail_limits]`): a flood of
//! requests neither floods an inbox nor revokes the link the person is about to open, and the
//! answers stay the same (they never say whether an address has an account).

use axum::http::StatusCode;

use super::helpers::{PASSWORD, account, latest_link, outbox, post};
use crate::harness::server::TestServer;

#[tokio::test]
async fn password_reset_mail_is_limited_per_recipient() {
    let server = TestServer::start_with(|c| c.mail_limits.per_recipient = 3).await;
    account(&server, "ada@example.com").await;
    let c = server.new_client();
    for _ in 0..3 {
        post(&c, "/password-reset", &[("email", "ada@example.com")], StatusCode::OK).await;
    }
    let link = latest_link(&server, "ada@example.com", "/password-reset/").await;
    for _ in 0..20 {
        let res = post(&c, "/password-reset", &[("email", "ada@example.com")], StatusCode::OK).await;
        assert!(res.text().contains("If an account exists for ada@example.com"));
    }
    assert_eq!(outbox(&server).await.len(), 3);
    // The refused requests issued no link, so the last one mailed still works.
    c.get(&link, StatusCode::OK).await;
}

#[tokio::test]
async fn sign_up_mail_is_limited_per_recipient_and_per_client_address() {
    let server = TestServer::start_with(|c| {
        c.mail_limits.per_recipient = 2;
        c.mail_limits.per_client = 6;
    })
    .await;
    account(&server, "ada@example.com").await;
    let c = server.new_client();
    let signup = |email: &'static str| {
        let c = &c;
        async move {
            let res = post(
                c,
                "/signup",
                &[
                    ("email", email),
                    ("display_name", "Someone"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
                StatusCode::OK,
            )
            .await;
            assert!(res.text().contains("Check the outbox"));
        }
    };
    for _ in 0..5 {
        signup("ada@example.com").await;
    }
    assert_eq!(outbox(&server).await.len(), 2, "per recipient");
    // Five requests from this client so far: the sixth (to a new recipient) is sent, the seventh is not.
    signup("bob@example.com").await;
    signup("eve@example.com").await;
    let mail = outbox(&server).await;
    assert_eq!(mail.len(), 3, "per client: {mail:#?}");
}

#[tokio::test]
async fn the_default_limits_stop_a_flood_of_reset_requests() {
    let server = TestServer::start().await;
    account(&server, "ada@example.com").await;
    let c = server.new_client();
    for _ in 0..25 {
        post(&c, "/password-reset", &[("email", "ada@example.com")], StatusCode::OK).await;
    }
    let n = outbox(&server).await.len();
    assert!((1..=5).contains(&n), "{n} messages");
}
