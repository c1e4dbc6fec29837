//! Session timeouts come from `[sessions]` in the configuration.

use axum::http::StatusCode;
use gatehouse_store::SessionStore;
use gatehouse_web::Clock;

use super::helpers::*;
use crate::harness::server::TestServer;

#[tokio::test]
async fn a_shortened_idle_timeout_ends_a_session() {
    let clock = Clock::manual(time::OffsetDateTime::now_utc().unix_timestamp());
    let server = TestServer::start_with_clock(clock.clone(), |c| {
        c.sessions.idle_timeout = 120;
        c.sessions.absolute_timeout = 600;
    })
    .await;
    assert_eq!(server.state().settings.identity.session.idle_timeout, 120);
    let (c, _) = signed_in(&server, "ada@example.com").await;
    clock.advance(119);
    c.get("/api/v1/account", StatusCode::OK).await;
    // Each request counts as activity (recorded at most once a minute).
    clock.advance(110);
    c.get("/api/v1/account", StatusCode::OK).await;
    clock.advance(120);
    c.get("/api/v1/account", StatusCode::UNAUTHORIZED).await;

    // And the absolute timeout ends a busy one.
    let (busy, _) = signed_in(&server, "bob@example.com").await;
    for _ in 0..5 {
        clock.advance(100);
        busy.get("/api/v1/account", StatusCode::OK).await;
    }
    clock.advance(99);
    busy.get("/api/v1/account", StatusCode::OK).await;
    clock.advance(1);
    busy.get("/api/v1/account", StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn the_hourly_housekeeping_deletes_sessions_past_their_timeouts() {
    let clock = Clock::manual(time::OffsetDateTime::now_utc().unix_timestamp());
    let server = TestServer::start_with_clock(clock.clone(), |c| {
        c.sessions.idle_timeout = 120;
        c.sessions.absolute_timeout = 600;
    })
    .await;
    let (_idle, ada) = signed_in(&server, "ada@example.com").await;
    clock.advance(100);
    let (active, bob) = signed_in(&server, "bob@example.com").await;
    let count = || async {
        let mut conn = server.store().conn().await.unwrap();
        (
            conn.sessions_of_account(&ada.id).await.unwrap().len(),
            conn.sessions_of_account(&bob.id).await.unwrap().len(),
        )
    };
    assert_eq!(count().await, (1, 1));
    clock.advance(30);
    // Ada's session has been idle for 130 s (> 120), Bob's for 30 s.
    gatehouse_core::console::expiry::run_once(server.state(), server.state().now())
        .await
        .unwrap();
    assert_eq!(count().await, (0, 1), "only the idle session is gone");
    active.get("/api/v1/account", StatusCode::OK).await;
}
