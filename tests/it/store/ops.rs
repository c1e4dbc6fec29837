//! OpsStore: what the operator's status page reads of the database — the delivery backlog and
//! recent attempts, registrations by status, the applied migrations.

use gatehouse_domain::events::model::{DeliveryMethod, DeliveryState, RegistrationStatus};
use gatehouse_store::{AttemptOutcome, EventStore, OpsStore};

use super::fixtures::{self as f, T0};
use crate::events::fixtures::*;

#[tokio::test]
async fn the_backlog_counts_pending_due_and_recent_attempts() {
    let (_db, store) = f::fresh().await;
    let mut c = f::conn(&store).await;
    let empty = c.dispatcher_backlog(T0, T0 - 3600).await.unwrap();
    assert_eq!((empty.pending, empty.due, empty.oldest_due_at), (0, 0, None));

    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.paid"]).await;
    let active = registration(
        &w.a,
        DeliveryMethod::Webhook,
        RegistrationStatus::Active,
        &[(&p.id, "com.acme.paid")],
    );
    stored_registration(&store, &active).await;
    let disabled = registration(
        &w.a,
        DeliveryMethod::Webhook,
        RegistrationStatus::Disabled,
        &[(&p.id, "com.acme.paid")],
    );
    stored_registration(&store, &disabled).await;
    for i in 0..3 {
        publish(&store, &event(&p.id, "com.acme.paid", &format!("e{i}")), T0).await;
    }
    let b = c.dispatcher_backlog(T0 + 10, T0 - 3600).await.unwrap();
    assert_eq!(b.pending, 3, "only the active registration's deliveries wait: {b:?}");
    assert_eq!(b.due, 3);
    assert_eq!(b.oldest_due_at, Some(T0));

    // One delivered, one retried later, one left due.
    let claimed = c.claim_deliveries(T0 + 10, T0 + 40, 2, &[]).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let outcome = |i: usize, status: u16, state: DeliveryState, next: Option<i64>| AttemptOutcome {
        delivery_id: claimed[i].id,
        registration_id: claimed[i].registration_id.clone(),
        event_position: claimed[i].event_position,
        attempted_at: T0 + 11,
        status_code: Some(status),
        success: status == 200,
        latency_ms: 5,
        request_headers: Vec::new(),
        request_body: String::new(),
        response_headers: Vec::new(),
        response_body: String::new(),
        error: None,
        cause: claimed[i].cause.clone(),
        next_attempt_at: next,
        state_after: state,
    };
    c.record_attempt(&outcome(0, 200, DeliveryState::Delivered, None))
        .await
        .unwrap();
    c.record_attempt(&outcome(1, 503, DeliveryState::Pending, Some(T0 + 600)))
        .await
        .unwrap();
    let b = c.dispatcher_backlog(T0 + 20, T0).await.unwrap();
    assert_eq!((b.pending, b.due), (2, 1), "{b:?}");
    assert_eq!((b.succeeded, b.failed), (1, 1));
    let later = c.dispatcher_backlog(T0 + 20, T0 + 12).await.unwrap();
    assert_eq!(
        (later.succeeded, later.failed),
        (0, 0),
        "attempts before `since` are not counted"
    );

    let by_status = c.registrations_by_status().await.unwrap();
    assert_eq!(by_status, [("active".to_owned(), 1), ("disabled".to_owned(), 1)]);
}

#[tokio::test]
async fn the_applied_migrations_are_listed_in_order() {
    let (_db, store) = f::fresh().await;
    let applied = f::conn(&store).await.applied_migrations().await.unwrap();
    assert_eq!(
        applied.last().map(|m| m.version),
        Some(store.known_schema_version()),
        "a fresh database has every migration of this build"
    );
    assert!(applied.windows(2).all(|w| w[0].version < w[1].version));
    assert_eq!(applied[0].version, 1);
    assert!(!applied[0].description.is_empty());
}
