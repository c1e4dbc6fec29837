//! EventStore conformance: claiming under leases, recording attempts, health, recovery.

use std::collections::HashSet;

use gatehouse_domain::events::model::{DeliveryMethod, DeliveryState, RegistrationStatus};
use gatehouse_store::{AttemptFilter, AttemptOutcome, Backlog, ClaimedDelivery, EventStore, Store};

use super::fixtures::{self as f, T0};
use crate::events::fixtures::*;

/// A provider, one active webhook registration subscribed to `com.acme.paid`, and `n` events.
async fn with_events(store: &Store, n: usize) -> (World, String, Vec<i64>) {
    let w = world(store).await;
    let p = stored_provider(store, &w.a, &["com.acme.paid"]).await;
    let r = registration(
        &w.a,
        DeliveryMethod::Webhook,
        RegistrationStatus::Active,
        &[(&p.id, "com.acme.paid")],
    );
    stored_registration(store, &r).await;
    let mut positions = Vec::new();
    for i in 0..n {
        positions.push(
            publish(store, &event(&p.id, "com.acme.paid", &format!("e{i}")), T0)
                .await
                .position(),
        );
    }
    (w, r.id, positions)
}

fn outcome(d: &ClaimedDelivery, at: i64, status: u16, state: DeliveryState, next: Option<i64>) -> AttemptOutcome {
    AttemptOutcome {
        delivery_id: d.id,
        registration_id: d.registration_id.clone(),
        event_position: d.event_position,
        attempted_at: at,
        status_code: Some(status),
        success: (200..300).contains(&status),
        latency_ms: 12,
        response_body: "ok".into(),
        error: None,
        cause: d.cause.clone(),
        request_headers: vec![("webhook-id".into(), format!("msg_{}", d.id))],
        request_body: d.payload.clone(),
        response_headers: vec![("content-type".into(), "text/plain".into())],
        next_attempt_at: next,
        state_after: state,
    }
}

#[tokio::test]
async fn claims_carry_what_sending_needs_and_hold_a_lease() {
    let (_db, store) = f::fresh().await;
    let (w, reg, positions) = with_events(&store, 3).await;
    let mut c = f::conn(&store).await;
    assert!(
        c.claim_deliveries(T0 - 1, T0 + 30, 10, &[]).await.unwrap().is_empty(),
        "nothing is due yet"
    );
    let claimed = c.claim_deliveries(T0, T0 + 30, 2, &[]).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let d = &claimed[0];
    assert_eq!(d.registration_id, reg);
    assert_eq!(d.event_position, positions[0]);
    assert_eq!(d.attempts, 0);
    assert_eq!(d.cause, "scheduled");
    assert_eq!(d.event_code, "com.acme.paid");
    assert_eq!(d.client_id, w.a.client_id.as_str());
    assert_eq!(d.delivery_method, DeliveryMethod::Webhook);
    assert_eq!(d.webhook_url.as_deref(), Some("https://hooks.example.com/in"));
    assert_eq!(d.secrets, Some(sealed()));
    let payload: serde_json::Value = serde_json::from_str(&d.payload).unwrap();
    assert_eq!(payload["id"], "e0");

    // Leased rows are not claimed again until the lease runs out.
    let rest = c.claim_deliveries(T0 + 1, T0 + 31, 10, &[]).await.unwrap();
    assert_eq!(
        rest.iter().map(|d| d.event_position).collect::<Vec<_>>(),
        [positions[2]]
    );
    assert!(c.claim_deliveries(T0 + 29, T0 + 60, 10, &[]).await.unwrap().is_empty());
    let again = c.claim_deliveries(T0 + 31, T0 + 60, 10, &[]).await.unwrap();
    assert_eq!(again.len(), 3, "expired leases make deliveries claimable again");

    // Released rows are claimable at once; release_all clears every lease.
    c.release_deliveries(&[again[0].id]).await.unwrap();
    assert_eq!(c.claim_deliveries(T0 + 32, T0 + 90, 10, &[]).await.unwrap().len(), 1);
    assert_eq!(c.release_all_leases().await.unwrap(), 3);
    assert_eq!(c.claim_deliveries(T0 + 32, T0 + 90, 10, &[]).await.unwrap().len(), 3);
}

#[tokio::test]
async fn excluded_and_inactive_registrations_are_not_claimed() {
    let (_db, store) = f::fresh().await;
    let (_w, reg, _) = with_events(&store, 2).await;
    let mut c = f::conn(&store).await;
    assert!(
        c.claim_deliveries(T0, T0 + 30, 10, std::slice::from_ref(&reg))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        c.claim_deliveries(T0, T0 + 30, 10, &["other".into()])
            .await
            .unwrap()
            .len(),
        2
    );
    c.release_all_leases().await.unwrap();
    assert!(
        c.set_registration_status(&reg, RegistrationStatus::Disabled, Some("by test"), None, T0)
            .await
            .unwrap()
    );
    assert!(c.claim_deliveries(T0, T0 + 30, 10, &[]).await.unwrap().is_empty());
    let r = c.registration_by_id(&reg).await.unwrap().unwrap();
    assert_eq!(r.status_reason.as_deref(), Some("by test"));
}

#[tokio::test]
async fn concurrent_claims_never_share_a_delivery() {
    let (_db, store) = f::fresh().await;
    let (_w, _reg, _) = with_events(&store, 60).await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let mut c = store.conn().await.unwrap();
                let batch = c.claim_deliveries(T0, T0 + 30, 5, &[]).await.unwrap();
                if batch.is_empty() {
                    break got;
                }
                got.extend(batch.into_iter().map(|d| d.id));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "every delivery claimed once");
    assert_eq!(unique.len(), 60, "no delivery claimed twice");
}

#[tokio::test]
async fn attempts_move_deliveries_and_feed_health() {
    let (_db, store) = f::fresh().await;
    let (_w, reg, positions) = with_events(&store, 2).await;
    let mut c = f::conn(&store).await;
    let claimed = c.claim_deliveries(T0, T0 + 30, 10, &[]).await.unwrap();
    c.record_attempt(&outcome(&claimed[0], T0 + 1, 200, DeliveryState::Delivered, None))
        .await
        .unwrap();
    c.record_attempt(&outcome(&claimed[1], T0 + 1, 503, DeliveryState::Pending, Some(T0 + 6)))
        .await
        .unwrap();
    assert_eq!(
        c.delivery_state(&reg, positions[0]).await.unwrap(),
        Some((DeliveryState::Delivered, 1))
    );
    assert_eq!(
        c.delivery_state(&reg, positions[1]).await.unwrap(),
        Some((DeliveryState::Pending, 1))
    );
    assert!(
        c.claim_deliveries(T0 + 5, T0 + 30, 10, &[]).await.unwrap().is_empty(),
        "retry not due yet"
    );
    let retry = c.claim_deliveries(T0 + 6, T0 + 40, 10, &[]).await.unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].attempts, 1);
    c.record_attempt(&outcome(&retry[0], T0 + 7, 500, DeliveryState::Failed, None))
        .await
        .unwrap();
    assert_eq!(
        c.delivery_state(&reg, positions[1]).await.unwrap(),
        Some((DeliveryState::Failed, 2))
    );

    let w = c.health_window(&reg, T0).await.unwrap();
    assert_eq!((w.attempts, w.failures), (3, 2));
    let w = c.health_window(&reg, T0 + 1).await.unwrap();
    assert_eq!((w.attempts, w.failures), (1, 1), "the window starts after `since`");

    let log = c
        .attempts_of_registration(&reg, None, 10, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        log.iter().map(|a| a.status_code).collect::<Vec<_>>(),
        [Some(500), Some(503), Some(200)]
    );
    assert_eq!(log[0].response_body, "ok");
    let older = c
        .attempts_of_registration(&reg, Some(log[0].id), 1, &Default::default())
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].id, log[1].id);
    let per_event = c.attempts_of_event(&reg, positions[1]).await.unwrap();
    assert_eq!(
        per_event.iter().map(|a| a.status_code).collect::<Vec<_>>(),
        [Some(503), Some(500)]
    );
}

#[tokio::test]
async fn disabling_skips_pending_and_recovery_queues_them_again() {
    let (_db, store) = f::fresh().await;
    let (_w, reg, positions) = with_events(&store, 3).await;
    let mut c = f::conn(&store).await;
    let claimed = c.claim_deliveries(T0, T0 + 30, 1, &[]).await.unwrap();
    c.record_attempt(&outcome(&claimed[0], T0 + 1, 500, DeliveryState::Failed, None))
        .await
        .unwrap();
    c.set_registration_status(&reg, RegistrationStatus::Disabled, None, None, T0 + 2)
        .await
        .unwrap();
    assert_eq!(
        c.delivery_state(&reg, positions[1]).await.unwrap(),
        Some((DeliveryState::Skipped, 0))
    );
    c.set_registration_status(&reg, RegistrationStatus::Active, None, None, T0 + 3)
        .await
        .unwrap();
    assert!(
        c.claim_deliveries(T0 + 3, T0 + 30, 10, &[]).await.unwrap().is_empty(),
        "skipped stays skipped"
    );

    assert_eq!(
        c.recover_failed(&reg, T0 + 1, T0 + 4).await.unwrap(),
        0,
        "nothing published since then"
    );
    assert_eq!(c.recover_failed(&reg, T0, T0 + 4).await.unwrap(), 3);
    let again = c.claim_deliveries(T0 + 4, T0 + 30, 10, &[]).await.unwrap();
    assert_eq!(again.len(), 3);
    assert!(again.iter().all(|d| d.cause == "recover"));
    c.record_attempt(&outcome(&again[0], T0 + 5, 200, DeliveryState::Delivered, None))
        .await
        .unwrap();
    assert_eq!(
        c.attempts_of_event(&reg, positions[0]).await.unwrap()[1].trigger,
        "recover"
    );

    // Resend queues one event again, even a delivered one.
    assert!(c.resend_delivery(&reg, positions[0], T0 + 6).await.unwrap());
    assert!(!c.resend_delivery(&reg, 9_999_999, T0 + 6).await.unwrap());
    c.release_all_leases().await.unwrap();
    let resent = c.claim_deliveries(T0 + 6, T0 + 30, 10, &[]).await.unwrap();
    let one = resent.iter().find(|d| d.event_position == positions[0]).unwrap();
    assert_eq!(one.cause, "resend");
}

#[tokio::test]
async fn an_attempt_finishing_after_disable_leaves_the_delivery_skipped() {
    let (_db, store) = f::fresh().await;
    let (_w, reg, positions) = with_events(&store, 1).await;
    let mut c = f::conn(&store).await;
    let claimed = c.claim_deliveries(T0, T0 + 30, 1, &[]).await.unwrap();
    c.set_registration_status(&reg, RegistrationStatus::Disabled, None, None, T0 + 1)
        .await
        .unwrap();
    c.record_attempt(&outcome(&claimed[0], T0 + 2, 503, DeliveryState::Pending, Some(T0 + 7)))
        .await
        .unwrap();
    assert_eq!(
        c.delivery_state(&reg, positions[0]).await.unwrap(),
        Some((DeliveryState::Skipped, 1))
    );
}

#[tokio::test]
async fn attempts_recorded_together_have_the_same_effect() {
    let (_db, store) = f::fresh().await;
    let (_w, reg, positions) = with_events(&store, 4).await;
    let mut c = f::conn(&store).await;
    let claimed = c.claim_deliveries(T0, T0 + 30, 10, &[]).await.unwrap();
    let outcomes = [
        outcome(&claimed[0], T0 + 1, 200, DeliveryState::Delivered, None),
        outcome(&claimed[1], T0 + 1, 204, DeliveryState::Delivered, None),
        outcome(&claimed[2], T0 + 1, 503, DeliveryState::Pending, Some(T0 + 6)),
        outcome(&claimed[3], T0 + 1, 410, DeliveryState::Failed, None),
    ];
    c.record_attempts(&outcomes).await.unwrap();
    let states: Vec<_> = futures_states(&mut c, &reg, &positions).await;
    assert_eq!(
        states,
        [
            Some((DeliveryState::Delivered, 1)),
            Some((DeliveryState::Delivered, 1)),
            Some((DeliveryState::Pending, 1)),
            Some((DeliveryState::Failed, 1)),
        ]
    );
    let log = c
        .attempts_of_registration(&reg, None, 10, &Default::default())
        .await
        .unwrap();
    assert_eq!(log.len(), 4);
    assert!(
        c.claim_deliveries(T0 + 2, T0 + 30, 10, &[]).await.unwrap().is_empty(),
        "leases cleared, retry later"
    );
    assert_eq!(c.claim_deliveries(T0 + 6, T0 + 30, 10, &[]).await.unwrap().len(), 1);
    let w = c.health_window(&reg, T0).await.unwrap();
    assert_eq!((w.attempts, w.failures), (4, 2));
}

async fn futures_states(
    c: &mut gatehouse_store::Conn,
    reg: &str,
    positions: &[i64],
) -> Vec<Option<(DeliveryState, i64)>> {
    let mut out = Vec::new();
    for p in positions {
        out.push(c.delivery_state(reg, *p).await.unwrap());
    }
    out
}

/// Whether the store has signalled `deliveries_queued` since the last look (consuming it).
async fn woken(store: &Store) -> bool {
    tokio::time::timeout(std::time::Duration::ZERO, store.deliveries_queued())
        .await
        .is_ok()
}

#[tokio::test]
async fn writes_that_make_deliveries_due_wake_the_dispatcher_once_committed() {
    let (_db, store) = f::fresh().await;
    let (w, reg, positions) = with_events(&store, 1).await;
    assert!(woken(&store).await, "a committed publication with a delivery wakes it");
    assert!(!woken(&store).await, "one signal per wake-up, not a standing one");

    // Not before the commit, and not at all when the transaction rolls back.
    let p = stored_provider(&store, &w.a, &["com.acme.other"]).await;
    active_registration(&store, &w.a, DeliveryMethod::Webhook, &p.id, "com.acme.other").await;
    let mut tx = f::begin(&store).await;
    tx.publish_event(&event(&p.id, "com.acme.other", "rolled-back"), T0, 86_400)
        .await
        .unwrap();
    assert!(!woken(&store).await, "not while the transaction is open");
    drop(tx);
    assert!(!woken(&store).await, "a rolled-back publication wakes nothing");
    let mut tx = f::begin(&store).await;
    tx.publish_event(&event(&p.id, "com.acme.other", "kept"), T0, 86_400)
        .await
        .unwrap();
    tx.commit_unaudited().await.unwrap();
    assert!(woken(&store).await);

    // A publication nobody is subscribed to queues nothing.
    let quiet = stored_provider(&store, &w.a, &["com.acme.unheard"]).await;
    publish(&store, &event(&quiet.id, "com.acme.unheard", "x"), T0).await;
    assert!(!woken(&store).await, "no delivery, no wake-up");

    // A failed attempt with a retry scheduled, recovery, resend, re-enabling.
    let mut c = f::conn(&store).await;
    let claimed = c.claim_deliveries(T0, T0 + 30, 1, &[]).await.unwrap();
    c.record_attempt(&outcome(&claimed[0], T0 + 1, 500, DeliveryState::Pending, Some(T0 + 1)))
        .await
        .unwrap();
    assert!(woken(&store).await, "a retry may be due at once");
    assert!(c.resend_delivery(&reg, positions[0], T0 + 2).await.unwrap());
    assert!(woken(&store).await, "a resend");
    c.set_registration_status(&reg, RegistrationStatus::Disabled, None, None, T0 + 3)
        .await
        .unwrap();
    assert!(!woken(&store).await, "disabling queues nothing");
    c.set_registration_status(&reg, RegistrationStatus::Active, None, None, T0 + 4)
        .await
        .unwrap();
    assert!(woken(&store).await, "re-enabling");
    assert!(c.recover_failed(&reg, T0, T0 + 5).await.unwrap() > 0);
    assert!(woken(&store).await, "a recovery");
}

#[tokio::test]
async fn a_node_without_a_dispatcher_wakes_the_others_through_postgres() {
    use std::time::Duration;
    let (db, node_a) = f::fresh().await;
    if node_a.backend() == gatehouse_store::Backend::Sqlite {
        // One process sees every write: there is nobody to tell, and both return at once.
        let at_once = Duration::from_secs(5);
        assert!(
            tokio::time::timeout(at_once, node_a.announce_deliveries_to_other_nodes())
                .await
                .is_ok()
        );
        assert!(
            tokio::time::timeout(at_once, node_a.relay_other_nodes_deliveries())
                .await
                .is_ok()
        );
        return;
    }
    // Node B runs the dispatcher; node A (no dispatcher) publishes.
    let node_b = db.connect().await;
    let w = world(&node_a).await;
    let p = stored_provider(&node_a, &w.a, &["com.acme.paid"]).await;
    active_registration(&node_a, &w.a, DeliveryMethod::Webhook, &p.id, "com.acme.paid").await;
    let relay = tokio::spawn({
        let b = node_b.clone();
        async move { b.relay_other_nodes_deliveries().await }
    });
    let deadline = Duration::from_secs(20);
    // B's relay looks once as it starts listening, for what it could not hear before.
    tokio::time::timeout(deadline, node_b.deliveries_queued())
        .await
        .expect("the relay started listening");
    let announce = tokio::spawn({
        let a = node_a.clone();
        async move { a.announce_deliveries_to_other_nodes().await }
    });
    publish(&node_a, &event(&p.id, "com.acme.paid", "from-a"), T0).await;
    let heard = tokio::time::timeout(deadline, node_b.deliveries_queued()).await;
    relay.abort();
    announce.abort();
    assert!(heard.is_ok(), "node A's publication did not wake node B's dispatcher");
}

#[tokio::test]
async fn attempts_keep_what_was_sent_filter_by_outcome_and_type_and_the_backlog_counts_what_waits() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.paid", "com.acme.refunded"]).await;
    let r = registration(
        &w.a,
        DeliveryMethod::Webhook,
        RegistrationStatus::Active,
        &[(&p.id, "com.acme.paid"), (&p.id, "com.acme.refunded")],
    );
    stored_registration(&store, &r).await;
    publish(&store, &event(&p.id, "com.acme.paid", "evt-paid"), T0).await;
    publish(&store, &event(&p.id, "com.acme.refunded", "evt-refunded"), T0).await;
    let mut c = f::conn(&store).await;
    assert_eq!(
        c.delivery_backlog(&r.id).await.unwrap(),
        Backlog {
            pending: 2,
            next_attempt_at: Some(T0)
        }
    );
    let claimed = c.claim_deliveries(T0, T0 + 30, 10, &[]).await.unwrap();
    let paid = claimed.iter().find(|d| d.event_code == "com.acme.paid").unwrap();
    let refunded = claimed.iter().find(|d| d.event_code == "com.acme.refunded").unwrap();
    let mut failed = outcome(paid, T0 + 1, 500, DeliveryState::Pending, Some(T0 + 60));
    failed
        .request_headers
        .push(("x-adobe-digital-signature-1".into(), "c2ln".into()));
    failed.response_headers = vec![
        ("set-cookie".into(), "••••••".into()),
        ("retry-after".into(), "60".into()),
    ];
    c.record_attempts(&[failed, outcome(refunded, T0 + 1, 200, DeliveryState::Delivered, None)])
        .await
        .unwrap();
    assert_eq!(
        c.delivery_backlog(&r.id).await.unwrap(),
        Backlog {
            pending: 1,
            next_attempt_at: Some(T0 + 60)
        },
        "the retry waits"
    );

    let all = c
        .attempts_of_registration(&r.id, None, 10, &AttemptFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let a = all.iter().find(|a| a.status_code == Some(500)).unwrap();
    assert_eq!(
        (a.event_code.as_str(), a.event_id.as_str()),
        ("com.acme.paid", "evt-paid")
    );
    assert_eq!(
        a.request_headers,
        [
            ("webhook-id".to_owned(), format!("msg_{}", paid.id)),
            ("x-adobe-digital-signature-1".to_owned(), "c2ln".to_owned())
        ]
    );
    assert_eq!(a.request_body, paid.payload);
    assert_eq!(a.response_headers[1], ("retry-after".to_owned(), "60".to_owned()));
    assert_eq!(c.attempt_of_registration(&r.id, a.id).await.unwrap().as_ref(), Some(a));
    assert_eq!(
        c.attempt_of_registration("another", a.id).await.unwrap(),
        None,
        "only through its registration"
    );

    let failures = AttemptFilter {
        success: Some(false),
        event_code: None,
    };
    let only = c.attempts_of_registration(&r.id, None, 10, &failures).await.unwrap();
    assert_eq!(
        only.iter().map(|a| a.event_id.as_str()).collect::<Vec<_>>(),
        ["evt-paid"]
    );
    let refunds = AttemptFilter {
        success: None,
        event_code: Some("com.acme.refunded".into()),
    };
    let only = c.attempts_of_registration(&r.id, None, 10, &refunds).await.unwrap();
    assert_eq!(
        only.iter().map(|a| a.event_id.as_str()).collect::<Vec<_>>(),
        ["evt-refunded"]
    );
    let none = AttemptFilter {
        success: Some(false),
        event_code: Some("com.acme.refunded".into()),
    };
    assert!(
        c.attempts_of_registration(&r.id, None, 10, &none)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_event_for_one_registration_reaches_that_registration_only() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.paid"]).await;
    let mut ids = Vec::new();
    for owner in [&w.a, &w.b] {
        let r = registration(
            owner,
            DeliveryMethod::Webhook,
            RegistrationStatus::Active,
            &[(&p.id, "com.acme.paid")],
        );
        stored_registration(&store, &r).await;
        ids.push(r.id);
    }
    let mut e = event(&p.id, "com.acme.paid", "evt-test");
    e.audience = gatehouse_domain::events::own::Audience::Registration(ids[1].clone());
    let published = publish(&store, &e, T0).await;
    assert!(
        matches!(published, gatehouse_store::Published::New { deliveries: 1, .. }),
        "{published:?}"
    );
    let mut c = f::conn(&store).await;
    assert_eq!(c.delivery_backlog(&ids[0]).await.unwrap().pending, 0);
    assert_eq!(c.delivery_backlog(&ids[1]).await.unwrap().pending, 1);
}
