//! EventStore conformance: providers, event types, registrations, publishing and the journal.

use gatehouse_domain::events::{
    model::{DeliveryMethod, DeliveryState, GATEHOUSE_PROVIDER_ID, RegistrationStatus, SealedSecrets},
    own::{Audience, OwnEventKind, own_event},
};
use gatehouse_store::{EventStore, Published, StoreError, StoredDeliveryKey};
use serde_json::json;

use super::fixtures::{self as f, T0};
use crate::events::fixtures::*;

#[tokio::test]
async fn gatehouse_is_a_provider_with_its_own_event_types() {
    let (_db, store) = f::fresh().await;
    let mut c = f::conn(&store).await;
    let p = c.provider_by_id(GATEHOUSE_PROVIDER_ID).await.unwrap().unwrap();
    assert_eq!(p.label, "Gatehouse");
    assert_eq!(p.owner_scope, None);
    let types = c.event_types_of(GATEHOUSE_PROVIDER_ID).await.unwrap();
    let codes: Vec<&str> = types.iter().map(|t| t.event_code.as_str()).collect();
    let mut expected: Vec<&str> = OwnEventKind::ALL.iter().map(|k| k.code()).collect();
    expected.sort();
    assert_eq!(codes, expected);
}

#[tokio::test]
async fn providers_are_visible_within_their_scope_only() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let mine = stored_provider(&store, &w.a, &[]).await;
    let theirs = stored_provider(&store, &w.c, &[]).await;
    let personal = stored_provider(&store, &w.personal, &[]).await;
    let mut c = f::conn(&store).await;

    let ids = |v: Vec<gatehouse_domain::events::model::Provider>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
    let acme = ids(c.list_providers(Some(w.org.id.as_str())).await.unwrap());
    assert!(acme.contains(&mine.id) && acme.contains(&GATEHOUSE_PROVIDER_ID.to_owned()));
    assert!(!acme.contains(&theirs.id) && !acme.contains(&personal.id));
    let own = ids(c.list_providers(Some(&scope_of(&w.personal))).await.unwrap());
    assert!(own.contains(&personal.id) && !own.contains(&mine.id));
    assert_eq!(c.list_providers(None).await.unwrap().len(), 4);

    let mut changed = mine.clone();
    changed.label = "Renamed".into();
    changed.docs_url = None;
    changed.updated_at = T0 + 5;
    assert!(c.update_provider(&changed).await.unwrap());
    assert_eq!(c.provider_by_id(&mine.id).await.unwrap().unwrap(), changed);
    assert!(c.delete_provider(&mine.id).await.unwrap());
    assert!(!c.delete_provider(&mine.id).await.unwrap());
    assert_eq!(c.provider_by_id(&mine.id).await.unwrap(), None);
    let mut ghost = changed;
    ghost.id = f::new_id();
    assert!(!c.update_provider(&ghost).await.unwrap());
}

#[tokio::test]
async fn event_types_are_unique_per_provider_and_need_their_provider() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.invoice.paid"]).await;
    let mut c = f::conn(&store).await;
    let e = c
        .insert_event_type(&event_type(&p.id, "com.acme.invoice.paid"))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    let e = c
        .insert_event_type(&event_type(&f::new_id(), "com.acme.x"))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::MissingReference(_)), "{e:?}");

    c.insert_event_type(&event_type(&p.id, "com.acme.invoice.created"))
        .await
        .unwrap();
    let codes: Vec<String> = c
        .event_types_of(&p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.event_code.to_string())
        .collect();
    assert_eq!(codes, ["com.acme.invoice.created", "com.acme.invoice.paid"]);

    let mut t = event_type(&p.id, "com.acme.invoice.paid");
    t.label = "Paid".into();
    t.sample = None;
    assert!(c.update_event_type(&t).await.unwrap());
    assert_eq!(
        c.event_type(&p.id, "com.acme.invoice.paid")
            .await
            .unwrap()
            .unwrap()
            .label,
        "Paid"
    );
    assert!(c.delete_event_type(&p.id, "com.acme.invoice.paid").await.unwrap());
    assert_eq!(c.event_type(&p.id, "com.acme.invoice.paid").await.unwrap(), None);
    assert_eq!(c.delete_event_types_of(&p.id).await.unwrap(), 1);
}

#[tokio::test]
async fn registrations_round_trip_with_interests_and_secrets() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.a", "com.acme.b"]).await;
    let r = registration(
        &w.b,
        DeliveryMethod::Webhook,
        RegistrationStatus::Active,
        &[(&p.id, "com.acme.b"), (&p.id, "com.acme.a")],
    );
    stored_registration(&store, &r).await;
    let mut c = f::conn(&store).await;
    let got = c.registration_by_id(&r.id).await.unwrap().unwrap();
    let mut expected = r.clone();
    expected.events_of_interest.sort();
    assert_eq!(got, expected);
    assert_eq!(
        c.registrations_of_integration(&w.b.id).await.unwrap(),
        vec![expected.clone()]
    );
    assert_eq!(c.registrations_of_org(w.org.id.as_str()).await.unwrap().len(), 1);
    assert!(
        c.registrations_of_org(w.other_org.id.as_str())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(c.registration_secrets(&r.id).await.unwrap(), Some(sealed()));

    let rotated = SealedSecrets {
        current: vec![9; 40],
        previous: Some(vec![1, 2, 3]),
        previous_expires_at: Some(T0 + 86_400),
    };
    assert!(c.set_registration_secrets(&r.id, &rotated, T0 + 1).await.unwrap());
    assert_eq!(c.registration_secrets(&r.id).await.unwrap(), Some(rotated));

    let mut changed = expected;
    changed.name = "Renamed".into();
    changed.delivery_method = DeliveryMethod::Journal;
    changed.webhook_url = None;
    changed.events_of_interest.truncate(1);
    changed.updated_at = T0 + 2;
    assert!(c.update_registration(&changed).await.unwrap());
    assert_eq!(c.registration_by_id(&r.id).await.unwrap().unwrap(), changed);
    assert!(c.delete_registration(&r.id).await.unwrap());
    assert_eq!(c.registration_by_id(&r.id).await.unwrap(), None);
    assert_eq!(c.registration_secrets(&r.id).await.unwrap(), None);
}

#[tokio::test]
async fn a_registrations_name_is_unique_within_its_integration_and_its_row_can_be_held() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.a"]).await;
    let first = registration(
        &w.b,
        DeliveryMethod::Journal,
        RegistrationStatus::Active,
        &[(&p.id, "com.acme.a")],
    );
    stored_registration(&store, &first).await;
    let mut same_name = registration(
        &w.b,
        DeliveryMethod::Journal,
        RegistrationStatus::Active,
        &[(&p.id, "com.acme.a")],
    );
    same_name.name = first.name.clone();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.lock_integration_registrations(&w.b.id).await.unwrap());
    assert!(!tx.lock_integration_registrations("no-such-integration").await.unwrap());
    let e = tx.insert_registration(&same_name, &sealed()).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    drop(tx);
    // Another integration may use the name.
    let mut elsewhere = registration(
        &w.a,
        DeliveryMethod::Journal,
        RegistrationStatus::Active,
        &[(&p.id, "com.acme.a")],
    );
    elsewhere.name = first.name.clone();
    stored_registration(&store, &elsewhere).await;
}

#[tokio::test]
async fn publishing_fans_out_to_subscribed_registrations_by_state() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.paid", "com.acme.other"]).await;
    let hook = registration(
        &w.a,
        DeliveryMethod::Webhook,
        RegistrationStatus::Active,
        &[(&p.id, "com.acme.paid")],
    );
    let journal = registration(
        &w.b,
        DeliveryMethod::Journal,
        RegistrationStatus::Active,
        &[(&p.id, "com.acme.paid")],
    );
    let unverified = registration(
        &w.b,
        DeliveryMethod::Webhook,
        RegistrationStatus::Unverified,
        &[(&p.id, "com.acme.paid")],
    );
    let elsewhere = registration(
        &w.a,
        DeliveryMethod::Webhook,
        RegistrationStatus::Active,
        &[(&p.id, "com.acme.other")],
    );
    for r in [&hook, &journal, &unverified, &elsewhere] {
        stored_registration(&store, r).await;
    }
    let published = publish(&store, &event(&p.id, "com.acme.paid", "e1"), T0).await;
    let Published::New { position, deliveries } = published else {
        panic!("{published:?}")
    };
    assert_eq!(deliveries, 3);
    let mut c = f::conn(&store).await;
    assert_eq!(
        c.delivery_state(&hook.id, position).await.unwrap(),
        Some((DeliveryState::Pending, 0))
    );
    assert_eq!(
        c.delivery_state(&journal.id, position).await.unwrap(),
        Some((DeliveryState::Journal, 0))
    );
    assert_eq!(
        c.delivery_state(&unverified.id, position).await.unwrap(),
        Some((DeliveryState::Skipped, 0))
    );
    assert_eq!(c.delivery_state(&elsewhere.id, position).await.unwrap(), None);
    // Every registration's journal has it, whatever the push state.
    for r in [&hook, &journal, &unverified] {
        let j = read_journal(&mut c, &r.id, 0, 10).await;
        assert_eq!(j.len(), 1);
        assert_eq!(j[0].position, position);
        let payload: serde_json::Value = serde_json::from_str(&j[0].payload).unwrap();
        assert_eq!(payload["id"], "e1");
    }
    assert!(read_journal(&mut c, &elsewhere.id, 0, 10).await.is_empty());
}

#[tokio::test]
async fn own_events_reach_only_the_organization_concerned() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let code = OwnEventKind::IntegrationCreated.code();
    let interest = [(GATEHOUSE_PROVIDER_ID, code)];
    let acme = registration(&w.a, DeliveryMethod::Journal, RegistrationStatus::Active, &interest);
    let globex = registration(&w.c, DeliveryMethod::Journal, RegistrationStatus::Active, &interest);
    let personal = registration(
        &w.personal,
        DeliveryMethod::Journal,
        RegistrationStatus::Active,
        &interest,
    );
    for r in [&acme, &globex, &personal] {
        stored_registration(&store, r).await;
    }
    let mut rng = rand::thread_rng();
    let to_acme = own_event(
        OwnEventKind::IntegrationCreated,
        Audience::Organization(w.org.id.to_string()),
        "integration:x",
        json!({}),
        T0,
        &mut rng,
    )
    .unwrap();
    let Published::New { deliveries, .. } = publish(&store, &to_acme, T0).await else {
        panic!()
    };
    assert_eq!(deliveries, 1);
    let owner = match &w.personal.owner {
        gatehouse_domain::integration::Owner::Account(a) => a.clone(),
        _ => unreachable!(),
    };
    let to_account = own_event(
        OwnEventKind::IntegrationCreated,
        Audience::Account(owner),
        "integration:y",
        json!({}),
        T0,
        &mut rng,
    )
    .unwrap();
    let Published::New { deliveries, .. } = publish(&store, &to_account, T0).await else {
        panic!()
    };
    assert_eq!(deliveries, 1);
    let mut c = f::conn(&store).await;
    assert_eq!(read_journal(&mut c, &acme.id, 0, 10).await.len(), 1);
    assert_eq!(read_journal(&mut c, &personal.id, 0, 10).await.len(), 1);
    assert!(
        read_journal(&mut c, &globex.id, 0, 10).await.is_empty(),
        "another organization's event leaked"
    );
}

#[tokio::test]
async fn a_repeat_within_the_window_is_not_stored_again() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.paid"]).await;
    let r = active_registration(&store, &w.a, DeliveryMethod::Webhook, &p.id, "com.acme.paid").await;
    let e = event(&p.id, "com.acme.paid", "same");
    let first = publish(&store, &e, T0).await;
    assert!(matches!(first, Published::New { deliveries: 1, .. }));
    let again = publish(&store, &e, T0 + 86_399).await;
    assert_eq!(
        again,
        Published::Duplicate {
            position: first.position()
        }
    );
    // Another source with the same id is another event.
    let mut other = e.clone();
    other.event.set_extension("source", json!("urn:uuid:someone-else"));
    assert!(matches!(publish(&store, &other, T0 + 10).await, Published::New { .. }));
    // After the window the same source + id is new again.
    let later = publish(&store, &e, T0 + 86_400).await;
    assert!(matches!(later, Published::New { .. }), "{later:?}");
    assert!(later.position() > first.position());
    let mut c = f::conn(&store).await;
    assert_eq!(read_journal(&mut c, &r.id, 0, 10).await.len(), 3);
}

#[tokio::test]
async fn an_event_exists_only_if_its_transaction_commits() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.paid"]).await;
    let r = active_registration(&store, &w.a, DeliveryMethod::Webhook, &p.id, "com.acme.paid").await;
    {
        let mut tx = f::begin(&store).await;
        tx.publish_event(&event(&p.id, "com.acme.paid", "rolled-back"), T0, 86_400)
            .await
            .unwrap();
        // Dropped without commit.
    }
    let mut c = f::conn(&store).await;
    assert_eq!(c.first_event_position().await.unwrap(), 0, "no event is stored");
    assert!(read_journal(&mut c, &r.id, 0, 10).await.is_empty());
    drop(c);
    // The deduplication record went with it: publishing the same event now stores it.
    let again = publish(&store, &event(&p.id, "com.acme.paid", "rolled-back"), T0 + 1).await;
    assert!(matches!(again, Published::New { deliveries: 1, .. }), "{again:?}");
}

#[tokio::test]
async fn the_journal_never_passes_a_publication_still_in_flight() {
    use std::time::Duration;
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.paid"]).await;
    let r = active_registration(&store, &w.a, DeliveryMethod::Journal, &p.id, "com.acme.paid").await;
    let mut first = f::begin(&store).await;
    let a = first
        .publish_event(&event(&p.id, "com.acme.paid", "a"), T0, 86_400)
        .await
        .unwrap();
    // A second publisher draws a larger position. On PostgreSQL it commits while the first is
    // still open (publishers do not wait for each other); on SQLite it waits for the one writer.
    let (store2, pid) = (store.clone(), p.id.clone());
    let mut second = tokio::spawn(async move {
        let mut tx = store2.begin().await.unwrap();
        let b = tx
            .publish_event(&event(&pid, "com.acme.paid", "b"), T0, 86_400)
            .await
            .unwrap();
        tx.commit_unaudited().await.unwrap();
        b
    });
    let postgres = crate::harness::db::backend_name() == "postgres";
    // (SQLite's writer gives up after 5 s of waiting, so it is not kept waiting that long.)
    let wait = Duration::from_millis(if postgres { 5_000 } else { 300 });
    let early = tokio::time::timeout(wait, &mut second).await;
    if postgres {
        assert!(early.is_ok(), "a publisher waited for another one to commit");
    }
    // A reader now must not return b while a, smaller, may still commit.
    let (store3, rid) = (store.clone(), r.id.clone());
    let mut reader = tokio::spawn(async move {
        let mut c = f::conn(&store3).await;
        read_journal(&mut c, &rid, 0, 10)
            .await
            .into_iter()
            .map(|e| e.position)
            .collect::<Vec<_>>()
    });
    let read_early = tokio::time::timeout(Duration::from_millis(300), &mut reader).await;
    first.commit_unaudited().await.unwrap();
    let b = match early {
        Ok(done) => done.unwrap(),
        Err(_) => second.await.unwrap(),
    };
    assert!(b.position() > a.position());
    let read = match read_early {
        Ok(done) => done.unwrap(),
        Err(_) => reader.await.unwrap(),
    };
    assert!(
        read.is_empty() || read == [a.position(), b.position()],
        "the reader saw {read:?} while {} was in flight",
        a.position()
    );
    let mut c = f::conn(&store).await;
    let all: Vec<i64> = read_journal(&mut c, &r.id, 0, 10)
        .await
        .into_iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(all, [a.position(), b.position()]);
    assert_eq!(c.journal_horizon().await.unwrap(), b.position());
}

#[tokio::test]
async fn a_publication_stuck_in_flight_makes_journal_reads_busy_not_wrong() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.paid"]).await;
    let mut stuck = f::begin(&store).await;
    stuck
        .publish_event(&event(&p.id, "com.acme.paid", "stuck"), T0, 86_400)
        .await
        .unwrap();
    let mut c = f::conn(&store).await;
    let horizon = c.journal_horizon().await;
    if crate::harness::db::backend_name() == "postgres" {
        // The reader waited for the open publisher, then gave up rather than read past it.
        assert!(matches!(horizon, Err(StoreError::Busy(_))), "{horizon:?}");
    } else {
        // SQLite's one writer has not committed it: nothing is readable yet.
        assert_eq!(horizon.unwrap(), 0);
    }
    stuck.commit_unaudited().await.unwrap();
    assert!(c.journal_horizon().await.unwrap() >= 1);
}

#[tokio::test]
async fn the_journal_pages_by_position_and_seeks_by_time() {
    let (_db, store) = f::fresh().await;
    let w = world(&store).await;
    let p = stored_provider(&store, &w.a, &["com.acme.paid", "com.acme.other"]).await;
    let r = active_registration(&store, &w.a, DeliveryMethod::Journal, &p.id, "com.acme.paid").await;
    let mut positions = Vec::new();
    for i in 0..5 {
        positions.push(
            publish(&store, &event(&p.id, "com.acme.paid", &format!("e{i}")), T0 + i * 100)
                .await
                .position(),
        );
        // Events of other types interleave in the global sequence.
        publish(&store, &event(&p.id, "com.acme.other", &format!("o{i}")), T0 + i * 100).await;
    }
    let mut c = f::conn(&store).await;
    let page = read_journal(&mut c, &r.id, 0, 2).await;
    assert_eq!(page.iter().map(|e| e.position).collect::<Vec<_>>(), positions[..2]);
    let page = read_journal(&mut c, &r.id, positions[1], 10).await;
    assert_eq!(page.iter().map(|e| e.position).collect::<Vec<_>>(), positions[2..]);
    assert!(read_journal(&mut c, &r.id, positions[4], 10).await.is_empty());
    assert_eq!(page[0].created_at, T0 + 200);

    assert_eq!(
        c.journal_position_before(&r.id, T0 + 200).await.unwrap(),
        positions[2] - 1
    );
    assert_eq!(c.journal_position_before(&r.id, T0).await.unwrap(), positions[0] - 1);
    let last = c.journal_horizon().await.unwrap();
    assert!(last > positions[4]);
    assert_eq!(c.journal_position_before(&r.id, T0 + 10_000).await.unwrap(), last);
    assert_eq!(c.event_published_at(positions[3]).await.unwrap(), Some(T0 + 300));
    assert_eq!(c.event_published_at(last + 1).await.unwrap(), None);

    // Retention removes old events with their journal entries.
    let gone = c.purge_events(T0 + 200, T0 + 1_000_000).await.unwrap();
    assert_eq!(gone, 4);
    let left = read_journal(&mut c, &r.id, 0, 10).await;
    assert_eq!(left.iter().map(|e| e.position).collect::<Vec<_>>(), positions[2..]);
    assert_eq!(c.first_event_position().await.unwrap(), positions[2]);
    // Retention never takes the newest event: the last position never goes backwards.
    assert_eq!(c.purge_events(T0 + 1_000_000, T0 + 1_000_000).await.unwrap(), 5);
    assert_eq!(c.journal_horizon().await.unwrap(), last);
    assert_eq!(c.first_event_position().await.unwrap(), last);
    assert_eq!(c.event_published_at(positions[0]).await.unwrap(), None);
}

#[tokio::test]
async fn delivery_keys_are_stored_and_retired() {
    let (_db, store) = f::fresh().await;
    let mut c = f::conn(&store).await;
    for (id, at) in [("k2", T0 + 10), ("k1", T0)] {
        c.insert_delivery_key(&StoredDeliveryKey {
            id: id.into(),
            private_key_enc: vec![7; 16],
            public_pem: format!("PEM {id}"),
            created_at: at,
        })
        .await
        .unwrap();
    }
    let keys = c.list_delivery_keys().await.unwrap();
    assert_eq!(keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["k1", "k2"]);
    assert_eq!(keys[1].public_pem, "PEM k2");
    assert_eq!(c.delete_delivery_keys_before(T0 + 10).await.unwrap(), 1);
    assert_eq!(c.list_delivery_keys().await.unwrap().len(), 1);
}
