//! ThrottleStore: the sign-in failure counts every node shares.

use gatehouse_store::ThrottleStore;

use super::fixtures::*;

#[tokio::test]
async fn store_throttle_counts_are_per_kind_and_key_forgiven_cleared_and_purged() {
    let (_db, store) = fresh().await;
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.lock_throttle("account", "ada@example.com").await.unwrap(),
        None,
        "a new key counts nothing"
    );
    tx.set_throttle("account", "ada@example.com", 3, 100).await.unwrap();
    tx.set_throttle("ip", "192.0.2.1", 2, 200).await.unwrap();
    assert_eq!(
        tx.lock_throttle("account", "ada@example.com").await.unwrap(),
        Some((3, 100))
    );
    tx.commit_unaudited().await.unwrap();

    let mut c = conn(&store).await;
    assert_eq!(
        c.throttle("ip", "ada@example.com").await.unwrap(),
        None,
        "kinds are apart"
    );
    c.forgive_throttle("ip", "192.0.2.1").await.unwrap();
    assert_eq!(c.throttle("ip", "192.0.2.1").await.unwrap(), Some((1, 200)));
    c.forgive_throttle("ip", "192.0.2.1").await.unwrap();
    c.forgive_throttle("ip", "192.0.2.1").await.unwrap();
    assert_eq!(
        c.throttle("ip", "192.0.2.1").await.unwrap(),
        None,
        "never below nothing"
    );
    c.clear_throttle("account", "ada@example.com").await.unwrap();
    assert_eq!(c.throttle("account", "ada@example.com").await.unwrap(), None);

    c.set_throttle("account", "old", 9, 100).await.unwrap();
    c.set_throttle("account", "recent", 9, 300).await.unwrap();
    assert!(c.purge_throttles(200).await.unwrap() >= 1);
    assert_eq!(c.throttle("account", "old").await.unwrap(), None);
    assert_eq!(c.throttle("account", "recent").await.unwrap(), Some((9, 300)));
}
