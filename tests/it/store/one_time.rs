//! OneTimeTokenStore: single-use links (bootstrap, verification, invitation, password reset).

use gatehouse_domain::Timestamp;
use gatehouse_store::{AccountStore, OneTimeToken, OneTimeTokenStore, OrgStore, Store, StoreError};
use serde_json::json;

use super::fixtures::*;

fn token(purpose: &str, expires_at: Timestamp) -> OneTimeToken {
    OneTimeToken {
        digest: new_id().replace('-', "").repeat(2),
        purpose: purpose.into(),
        account_id: None,
        org_id: None,
        payload: json!({"email": "new-admin@example.com", "role": "admin"}),
        created_at: T0,
        expires_at,
        used_at: None,
    }
}

async fn insert(store: &Store, tokens: &[&OneTimeToken]) {
    let mut c = conn(store).await;
    for t in tokens {
        c.insert_one_time_token(t).await.unwrap();
    }
}

#[tokio::test]
async fn one_time_token_is_used_exactly_once() {
    let (_db, store) = fresh().await;
    let t = token("password_reset", T0 + 3600);
    insert(&store, &[&t]).await;
    let now = T0 + 10;
    let mut c = conn(&store).await;

    let used = c
        .consume_one_time_token(&t.digest, "password_reset", now)
        .await
        .unwrap();
    assert_eq!(
        used,
        Some(OneTimeToken {
            used_at: Some(now),
            ..t.clone()
        })
    );
    assert_eq!(
        c.consume_one_time_token(&t.digest, "password_reset", now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        c.consume_one_time_token(&t.digest, "password_reset", now + 1)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        c.peek_one_time_token(&t.digest, "password_reset", now).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn one_time_token_peek_does_not_use_it() {
    let (_db, store) = fresh().await;
    let t = token("invitation", T0 + 3600);
    insert(&store, &[&t]).await;
    let mut c = conn(&store).await;
    for _ in 0..2 {
        assert_eq!(
            c.peek_one_time_token(&t.digest, "invitation", T0).await.unwrap(),
            Some(t.clone())
        );
    }
    assert!(
        c.consume_one_time_token(&t.digest, "invitation", T0)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn one_time_token_expires_at_its_expiry_instant() {
    let (_db, store) = fresh().await;
    let t = token("email_verification", T0 + 100);
    insert(&store, &[&t]).await;
    let mut c = conn(&store).await;
    for now in [T0 + 100, T0 + 101, T0 + 100_000] {
        assert_eq!(
            c.peek_one_time_token(&t.digest, "email_verification", now)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            c.consume_one_time_token(&t.digest, "email_verification", now)
                .await
                .unwrap(),
            None
        );
    }
    // An expired attempt did not use it up: a moment earlier it still worked.
    let used = c
        .consume_one_time_token(&t.digest, "email_verification", T0 + 99)
        .await
        .unwrap();
    assert_eq!(used.map(|u| u.used_at), Some(Some(T0 + 99)));
}

#[tokio::test]
async fn one_time_token_only_opens_for_its_own_purpose() {
    let (_db, store) = fresh().await;
    let t = token("invitation", T0 + 3600);
    insert(&store, &[&t]).await;
    let mut c = conn(&store).await;
    assert_eq!(
        c.peek_one_time_token(&t.digest, "password_reset", T0).await.unwrap(),
        None
    );
    assert_eq!(
        c.consume_one_time_token(&t.digest, "password_reset", T0).await.unwrap(),
        None
    );
    assert_eq!(
        c.consume_one_time_token("unknown-digest", "invitation", T0)
            .await
            .unwrap(),
        None
    );
    // The wrong-purpose attempt did not use it up.
    assert!(
        c.consume_one_time_token(&t.digest, "invitation", T0)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn one_time_token_concurrent_consumers_get_it_once() {
    let (_db, store) = fresh().await;
    let t = token("bootstrap", T0 + 3600);
    insert(&store, &[&t]).await;
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (store, digest) = (store.clone(), t.digest.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = store.conn().await.unwrap();
            c.consume_one_time_token(&digest, "bootstrap", T0 + 1).await.unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap().is_some());
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn one_time_token_consumed_in_a_rolled_back_transaction_stays_usable() {
    let (_db, store) = fresh().await;
    let t = token("password_reset", T0 + 3600);
    insert(&store, &[&t]).await;
    {
        let mut tx = begin(&store).await;
        assert!(
            tx.consume_one_time_token(&t.digest, "password_reset", T0)
                .await
                .unwrap()
                .is_some()
        );
        // The password change failed; the transaction is dropped.
    }
    let again = conn(&store)
        .await
        .consume_one_time_token(&t.digest, "password_reset", T0)
        .await
        .unwrap();
    assert!(again.is_some());
}

#[tokio::test]
async fn one_time_tokens_revoked_by_purpose() {
    let (_db, store) = fresh().await;
    let (old_link, older_link) = (token("bootstrap", T0 + 3600), token("bootstrap", T0 - 10));
    let used_link = token("bootstrap", T0 + 3600);
    let reset = token("password_reset", T0 + 3600);
    insert(&store, &[&old_link, &older_link, &used_link, &reset]).await;
    let mut c = conn(&store).await;
    c.consume_one_time_token(&used_link.digest, "bootstrap", T0)
        .await
        .unwrap();

    // Every unused bootstrap token, expired or not; the used one is not counted again.
    assert_eq!(c.revoke_one_time_tokens("bootstrap", T0 + 5).await.unwrap(), 2);
    assert_eq!(
        c.peek_one_time_token(&old_link.digest, "bootstrap", T0 + 6)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        c.consume_one_time_token(&old_link.digest, "bootstrap", T0 + 6)
            .await
            .unwrap(),
        None
    );
    assert!(
        c.peek_one_time_token(&reset.digest, "password_reset", T0 + 6)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(c.revoke_one_time_tokens("bootstrap", T0 + 7).await.unwrap(), 0);

    // A new link issued after the revocation works.
    let new_link = token("bootstrap", T0 + 7200);
    insert(&store, &[&new_link]).await;
    assert!(
        c.consume_one_time_token(&new_link.digest, "bootstrap", T0 + 8)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn one_time_token_keeps_its_account_org_and_payload() {
    let (_db, store) = fresh().await;
    let (ada, acme) = (account("ada@example.com"), org("Acme"));
    let mut tx = begin(&store).await;
    tx.insert_account(&ada).await.unwrap();
    tx.insert_org(&acme).await.unwrap();
    commit(tx).await;
    let mut t = token("invitation", T0 + 3600);
    t.account_id = Some(ada.id.clone());
    t.org_id = Some(acme.id.to_string());
    t.payload = json!({"role": "developer", "invited_by": ada.id, "nested": {"list": [1, 2, 3]}});
    insert(&store, &[&t]).await;
    let got = conn(&store)
        .await
        .consume_one_time_token(&t.digest, "invitation", T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, OneTimeToken { used_at: Some(T0), ..t });
}

#[tokio::test]
async fn one_time_token_refers_to_existing_rows_and_digests_are_unique() {
    let (_db, store) = fresh().await;
    let mut c = conn(&store).await;
    let mut for_ghost = token("password_reset", T0 + 3600);
    for_ghost.account_id = Some("no-such-account".into());
    let err = c.insert_one_time_token(&for_ghost).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "got {err:?}");
    let mut for_ghost_org = token("invitation", T0 + 3600);
    for_ghost_org.org_id = Some(org_id().to_string());
    let err = c.insert_one_time_token(&for_ghost_org).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "got {err:?}");

    let t = token("bootstrap", T0 + 3600);
    c.insert_one_time_token(&t).await.unwrap();
    let err = c.insert_one_time_token(&t).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
}
