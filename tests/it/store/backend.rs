//! Store-level behaviour: reachability, schema status, transactions (audit enforcement, rollback,
//! isolation), the catalog generation that drives cache invalidation, and constraint errors.

use gatehouse_domain::{Timestamp, ids::OrgId};
use gatehouse_store::{AccountStore, AuditStore, OneTimeToken, OneTimeTokenStore, OrgStore, SchemaStatus, StoreError};

use super::fixtures::*;
use crate::harness::db::{TestDatabase, backend_name};

async fn org_exists(store: &gatehouse_store::Store, id: &OrgId) -> bool {
    conn(store).await.org_by_id(id).await.unwrap().is_some()
}

#[tokio::test]
async fn store_runs_on_the_backend_the_test_run_selected() {
    let (_db, store) = fresh().await;
    assert_eq!(store.schema_status().await.unwrap(), SchemaStatus::Current);
    let backend = format!("{:?}", store.backend()).to_lowercase();
    assert_eq!(backend, backend_name());
    store.ping().await.unwrap();
}

#[tokio::test]
async fn store_schema_is_behind_before_migrating_and_current_after() {
    let db = TestDatabase::fresh().await;
    let store = db.connect().await;
    assert_eq!(store.schema_status().await.unwrap(), SchemaStatus::Behind);
    store.migrate().await.unwrap();
    assert_eq!(store.schema_status().await.unwrap(), SchemaStatus::Current);
    // Migrating again (every start does) changes nothing.
    store.migrate().await.unwrap();
    assert_eq!(store.schema_status().await.unwrap(), SchemaStatus::Current);
}

#[tokio::test]
async fn store_audited_commit_persists_and_bumps_the_catalog_generation() {
    let (_db, store) = fresh().await;
    let before = store.catalog_generation().await.unwrap();
    let o = org("Acme");
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    commit(tx).await;
    assert!(org_exists(&store, &o.id).await);
    assert_eq!(store.catalog_generation().await.unwrap(), before + 1);
}

#[tokio::test]
async fn store_generation_is_seen_by_every_node_sharing_the_database() {
    let db = TestDatabase::fresh().await;
    let node_a = db.store().await;
    let node_b = db.store().await;
    let seen_by_b = node_b.catalog_generation().await.unwrap();
    let mut tx = begin(&node_a).await;
    tx.insert_org(&org("Acme")).await.unwrap();
    commit(tx).await;
    assert!(node_b.catalog_generation().await.unwrap() > seen_by_b);
}

#[tokio::test]
async fn store_commit_without_an_audit_entry_is_refused_and_nothing_is_kept() {
    let (_db, store) = fresh().await;
    let before = store.catalog_generation().await.unwrap();
    let o = org("Acme");
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    assert!(matches!(tx.commit().await, Err(StoreError::Unaudited)));
    assert!(
        !org_exists(&store, &o.id).await,
        "an unaudited change must not be committed"
    );
    assert_eq!(store.catalog_generation().await.unwrap(), before);
}

#[tokio::test]
async fn store_dropping_a_transaction_rolls_back_everything_in_it() {
    let (_db, store) = fresh().await;
    let before = store.catalog_generation().await.unwrap();
    let o = org("Acme");
    let a = account("ada@example.com");
    {
        let mut tx = begin(&store).await;
        tx.insert_org(&o).await.unwrap();
        tx.insert_account(&a).await.unwrap();
        tx.append_audit(&audit_entry("org.created")).await.unwrap();
        // Dropped here without commit, as when a handler returns early with an error.
    }
    assert!(!org_exists(&store, &o.id).await);
    assert!(conn(&store).await.account_by_id(&a.id).await.unwrap().is_none());
    assert!(conn(&store).await.recent_audit(None, 10).await.unwrap().is_empty());
    assert_eq!(store.catalog_generation().await.unwrap(), before);
    // The database is usable afterwards: the write lock (SQLite) and the connection were released.
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    commit(tx).await;
    assert!(org_exists(&store, &o.id).await);
}

#[tokio::test]
async fn store_uncommitted_writes_are_invisible_to_other_connections() {
    let (_db, store) = fresh().await;
    let o = org("Acme");
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    assert!(
        tx.org_by_id(&o.id).await.unwrap().is_some(),
        "a transaction sees its own writes"
    );
    assert!(!org_exists(&store, &o.id).await);
    commit(tx).await;
    assert!(org_exists(&store, &o.id).await);
}

#[tokio::test]
async fn store_unaudited_commit_is_for_bookkeeping_and_leaves_the_generation_alone() {
    let (_db, store) = fresh().await;
    let before = store.catalog_generation().await.unwrap();
    let now: Timestamp = T0;
    let token = OneTimeToken {
        digest: "d".repeat(64),
        purpose: "bootstrap".into(),
        account_id: None,
        org_id: None,
        payload: serde_json::json!({}),
        created_at: now,
        expires_at: now + 3600,
        used_at: None,
    };
    let mut tx = begin(&store).await;
    tx.insert_one_time_token(&token).await.unwrap();
    tx.commit_unaudited().await.unwrap();
    let peeked = conn(&store)
        .await
        .peek_one_time_token(&token.digest, "bootstrap", now)
        .await
        .unwrap();
    assert_eq!(peeked, Some(token));
    assert_eq!(store.catalog_generation().await.unwrap(), before);
}

#[tokio::test]
async fn store_unique_violation_is_a_conflict() {
    let (_db, store) = fresh().await;
    let o = org("Acme");
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    commit(tx).await;
    let mut tx = begin(&store).await;
    let err = tx.insert_org(&o).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
}

#[tokio::test]
async fn store_foreign_key_violation_is_a_missing_reference() {
    let (_db, store) = fresh().await;
    let o = org("Acme");
    let ghost = account("ghost@example.com"); // never inserted
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    let err = tx
        .upsert_membership(&membership(&o, &ghost, gatehouse_domain::org::Role::Member))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "got {err:?}");
}

#[tokio::test]
async fn store_works_normally_after_a_refused_write() {
    // After a constraint error inside a transaction, the caller drops the transaction; the
    // store must then work normally for the next request.
    let (_db, store) = fresh().await;
    let a = account("ada@example.com");
    let mut tx = begin(&store).await;
    tx.insert_account(&a).await.unwrap();
    commit(tx).await;
    {
        let mut tx = begin(&store).await;
        let mut twin = account("ADA@example.com");
        twin.id = new_id();
        assert!(matches!(tx.insert_account(&twin).await, Err(StoreError::Conflict(_))));
    }
    let mut tx = begin(&store).await;
    tx.insert_account(&account("grace@example.com")).await.unwrap();
    commit(tx).await;
    assert_eq!(conn(&store).await.list_accounts().await.unwrap().len(), 2);
}

#[tokio::test]
async fn store_unreadable_rows_are_reported_as_corrupt_not_skipped() {
    use gatehouse_domain::integration::IntegrationType;
    use gatehouse_store::{IntegrationStore, ServiceStore};

    let (_db, store) = fresh().await;
    let ada = account("ada@example.com");
    let (pdf, stock) = (
        service("pdf_services", &[IntegrationType::ServiceAccount]),
        service("stock_search", &IntegrationType::ALL),
    );
    let i = oauth_integration(&ada);
    let o = org("Acme");
    let mut tx = begin(&store).await;
    tx.insert_account(&ada).await.unwrap();
    tx.upsert_service(&pdf).await.unwrap();
    tx.upsert_service(&stock).await.unwrap();
    crate::store::fixtures::insert_integration(&mut tx, &i).await.unwrap();
    tx.insert_org(&o).await.unwrap();
    commit(tx).await;

    // A type this build does not know, a list that is not JSON, an ID of the wrong shape.
    exec_raw(
        &store,
        "UPDATE services SET allowed_types = '[\"carrier_pigeon\"]' WHERE code = 'pdf_services'",
    )
    .await;
    exec_raw(
        &store,
        "UPDATE services SET scopes = 'openid read' WHERE code = 'stock_search'",
    )
    .await;
    exec_raw(&store, "UPDATE integrations SET redirect_patterns = '{' ").await;
    exec_raw(&store, "UPDATE organizations SET id = 'not-an-org-id'").await;

    let mut c = conn(&store).await;
    let corrupt = |r: Result<_, StoreError>| matches!(r, Err(StoreError::Corrupt(_)));
    assert!(corrupt(c.service_by_code(&pdf.code).await.map(drop)));
    assert!(corrupt(c.service_by_code(&stock.code).await.map(drop)));
    assert!(
        corrupt(c.list_services().await.map(drop)),
        "a list does not silently drop bad rows"
    );
    assert!(corrupt(c.integration_by_id(&i.id).await.map(drop)));
    assert!(corrupt(c.list_integrations().await.map(drop)));
    assert!(corrupt(c.list_orgs().await.map(drop)));
}

#[tokio::test]
async fn store_checkpoints_sqlite_in_the_background_not_in_commits() {
    let (_db, store) = fresh().await;
    let mut tx = begin(&store).await;
    tx.insert_org(&org("Acme")).await.unwrap();
    commit(tx).await;
    let checkpoint = store.checkpoint().await.unwrap();
    if backend_name() != "sqlite" {
        assert_eq!(checkpoint, None, "PostgreSQL has no SQLite log to checkpoint");
        return;
    }
    let mut c = conn(&store).await;
    let gatehouse_store::Db::Sqlite(raw) = gatehouse_store::AsDb::db(&mut c) else {
        unreachable!()
    };
    // Commits checkpoint only past the backstop, far above SQLite's default of 1,000 pages.
    let auto: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(&mut *raw)
        .await
        .unwrap();
    assert_eq!(auto, i64::from(gatehouse_store::WAL_AUTOCHECKPOINT_PAGES));
    let (log, done) = checkpoint.unwrap();
    assert!(log > 0, "the commit went to the write-ahead log");
    assert_eq!(done, log, "a checkpoint with no reader in the way copies the whole log");
}
