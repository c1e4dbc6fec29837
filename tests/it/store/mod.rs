//! The backend conformance suite: every storage operation, run on whichever backend
//! `GATEHOUSE_TEST_BACKEND` selects.

use crate::harness::db::{TestDatabase, backend_name};

#[tokio::test]
async fn fresh_database_is_reachable_and_current() {
    let db = TestDatabase::fresh().await;
    let store = db.store().await;
    store.ping().await.unwrap();
    assert_eq!(
        store.schema_status().await.unwrap(),
        gatehouse_store::SchemaStatus::Current,
        "on {}",
        backend_name()
    );
}
