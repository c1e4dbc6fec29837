//! PasskeyStore on whichever backend the run selects: credential IDs unique across accounts,
//! rename and remove only one's own, uses recorded by compare-and-set, and ceremonies taken once,
//! before expiry, by the kind and binding that started them.

use gatehouse_store::{AccountStore, PasskeyCeremony, PasskeyStore, Store, StoreError, StoredPasskey};

use super::fixtures::*;

async fn with_account(store: &Store, email: &str) -> String {
    let a = account(email);
    conn(store).await.insert_account(&a).await.unwrap();
    a.id
}

fn passkey(account_id: &str, credential_id: &str, created_at: i64) -> StoredPasskey {
    StoredPasskey {
        id: new_id(),
        account_id: account_id.into(),
        credential_id: credential_id.into(),
        name: "Laptop".into(),
        passkey: format!(r#"{{"cred":{{"counter":0,"id":"{credential_id}"}}}}"#),
        created_at,
        last_used_at: None,
    }
}

fn ceremony(digest: &str, kind: &str, binding: &str) -> PasskeyCeremony {
    PasskeyCeremony {
        id_digest: digest.into(),
        kind: kind.into(),
        binding: binding.into(),
        state: r#"{"challenge":"abc"}"#.into(),
        created_at: T0,
        expires_at: T0 + 300,
    }
}

#[tokio::test]
async fn passkey_store_keeps_credential_ids_unique_and_scoped_to_their_account() {
    let (_db, store) = fresh().await;
    let ada = with_account(&store, "ada@example.com").await;
    let bob = with_account(&store, "bob@example.com").await;
    let mut c = conn(&store).await;
    let first = passkey(&ada, "cred-1", T0);
    let second = passkey(&ada, "cred-2", T0 + 1);
    c.insert_passkey(&first).await.unwrap();
    c.insert_passkey(&second).await.unwrap();
    // The same credential cannot be registered again, to the same or another account.
    for owner in [&ada, &bob] {
        let dup = passkey(owner, "cred-1", T0 + 2);
        assert!(matches!(c.insert_passkey(&dup).await, Err(StoreError::Conflict(_))));
    }
    assert_eq!(c.passkeys_of(&ada).await.unwrap(), vec![first.clone(), second.clone()]);
    assert!(c.passkeys_of(&bob).await.unwrap().is_empty());
    assert_eq!(
        c.passkey_by_credential_id("cred-2").await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(c.passkey_by_credential_id("nope").await.unwrap(), None);

    // Another account can neither rename nor remove it.
    assert!(!c.rename_passkey(&bob, &first.id, "Mine now").await.unwrap());
    assert!(!c.delete_passkey(&bob, &first.id).await.unwrap());
    assert!(c.rename_passkey(&ada, &first.id, "Work laptop").await.unwrap());
    assert_eq!(c.passkeys_of(&ada).await.unwrap()[0].name, "Work laptop");
    assert!(c.delete_passkey(&ada, &first.id).await.unwrap());
    assert!(!c.delete_passkey(&ada, &first.id).await.unwrap());
    assert_eq!(c.passkeys_of(&ada).await.unwrap(), vec![second]);
}

#[tokio::test]
async fn passkey_store_records_a_use_only_over_the_state_it_read() {
    let (_db, store) = fresh().await;
    let ada = with_account(&store, "ada@example.com").await;
    let mut c = conn(&store).await;
    let p = passkey(&ada, "cred-1", T0);
    c.insert_passkey(&p).await.unwrap();
    let after = p.passkey.replace("\"counter\":0", "\"counter\":1");
    assert!(c.record_passkey_use(&p.id, &p.passkey, &after, T0 + 10).await.unwrap());
    // A second use computed from the same old state (a replayed or cloned counter) loses.
    assert!(!c.record_passkey_use(&p.id, &p.passkey, &after, T0 + 11).await.unwrap());
    let stored = c.passkey_by_credential_id("cred-1").await.unwrap().unwrap();
    assert_eq!(stored.passkey, after);
    assert_eq!(stored.last_used_at, Some(T0 + 10));
    // A removed passkey cannot be used.
    assert!(c.delete_passkey(&ada, &p.id).await.unwrap());
    assert!(!c.record_passkey_use(&p.id, &after, &after, T0 + 12).await.unwrap());
    // Passkeys go with their account.
    let q = passkey(&ada, "cred-2", T0);
    c.insert_passkey(&q).await.unwrap();
    exec_raw(&store, &format!("DELETE FROM accounts WHERE id = '{ada}'")).await;
    assert_eq!(c.passkey_by_credential_id("cred-2").await.unwrap(), None);
}

#[tokio::test]
async fn passkey_ceremonies_are_taken_once_before_expiry_by_their_starter() {
    let (_db, store) = fresh().await;
    let mut c = conn(&store).await;
    let x = ceremony("d1", "registration", "session:s1");
    c.insert_passkey_ceremony(&x).await.unwrap();
    // Wrong kind or binding: not taken (and still there for its owner).
    assert_eq!(
        c.take_passkey_ceremony("d1", "passwordless", "session:s1", T0)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        c.take_passkey_ceremony("d1", "registration", "session:s2", T0)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        c.take_passkey_ceremony("d1", "registration", "session:s1", T0 + 299)
            .await
            .unwrap(),
        Some(x)
    );
    // Single use.
    assert_eq!(
        c.take_passkey_ceremony("d1", "registration", "session:s1", T0 + 1)
            .await
            .unwrap(),
        None
    );

    // Expired at expires_at, and purged.
    let y = ceremony("d2", "second_factor", "pending:a");
    c.insert_passkey_ceremony(&y).await.unwrap();
    assert_eq!(
        c.take_passkey_ceremony("d2", "second_factor", "pending:a", T0 + 300)
            .await
            .unwrap(),
        None
    );
    let z = PasskeyCeremony {
        id_digest: "d3".into(),
        expires_at: T0 + 600,
        ..y.clone()
    };
    c.insert_passkey_ceremony(&z).await.unwrap();
    assert_eq!(c.purge_passkey_ceremonies(T0 + 300).await.unwrap(), 1);
    assert_eq!(
        c.take_passkey_ceremony("d3", "second_factor", "pending:a", T0 + 301)
            .await
            .unwrap(),
        Some(z)
    );
}

#[tokio::test]
async fn passkey_ceremony_taken_concurrently_goes_to_one_caller() {
    let (_db, store) = fresh().await;
    conn(&store)
        .await
        .insert_passkey_ceremony(&ceremony("race", "passwordless", "browser:b"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            conn(&store)
                .await
                .take_passkey_ceremony("race", "passwordless", "browser:b", T0)
                .await
                .unwrap()
                .is_some()
        }));
    }
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}
