//! AuditStore: the append-only trail, newest first, optionally per organization.

use gatehouse_store::AuditStore;
use serde_json::json;

use super::fixtures::*;

#[tokio::test]
async fn audit_entries_round_trip_with_every_field() {
    let (_db, store) = fresh().await;
    let entry = audit_entry("integration.created")
        .org("0123456789abcdef01234567@GatehouseOrg")
        .from_client(Some("203.0.113.7".into()), Some("curl/8.5".into()))
        .details(json!({"name": "Acme backend", "scopes": ["openid", "read"], "n": 3}));
    let mut tx = begin(&store).await;
    let id = tx.append_audit(&entry).await.unwrap();
    tx.commit().await.unwrap();

    let records = conn(&store).await.recent_audit(None, 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id, id);
    assert_eq!(records[0].entry, entry);
}

#[tokio::test]
async fn audit_entries_without_optional_fields_round_trip() {
    let (_db, store) = fresh().await;
    let entry = audit_entry("signin.failed");
    let mut c = conn(&store).await;
    c.append_audit(&entry).await.unwrap();
    assert_eq!(c.recent_audit(None, 1).await.unwrap()[0].entry, entry);
}

#[tokio::test]
async fn audit_recent_is_newest_first_and_limited() {
    let (_db, store) = fresh().await;
    let mut tx = begin(&store).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(tx.append_audit(&audit_entry(&format!("step.{n}"))).await.unwrap());
    }
    tx.commit().await.unwrap();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "IDs grow in append order: {ids:?}");

    let recent = conn(&store).await.recent_audit(None, 3).await.unwrap();
    let actions: Vec<&str> = recent.iter().map(|r| r.entry.action.as_str()).collect();
    assert_eq!(actions, ["step.4", "step.3", "step.2"]);
}

#[tokio::test]
async fn audit_recent_filters_by_organization() {
    let (_db, store) = fresh().await;
    let acme = "0123456789abcdef01234567@GatehouseOrg";
    let globex = "fedcba9876543210fedcba98@GatehouseOrg";
    let mut tx = begin(&store).await;
    tx.append_audit(&audit_entry("a1").org(acme)).await.unwrap();
    tx.append_audit(&audit_entry("g1").org(globex)).await.unwrap();
    tx.append_audit(&audit_entry("system")).await.unwrap();
    tx.append_audit(&audit_entry("a2").org(acme)).await.unwrap();
    tx.commit().await.unwrap();

    let mut c = conn(&store).await;
    let of_acme: Vec<String> = c
        .recent_audit(Some(acme), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.action)
        .collect();
    assert_eq!(of_acme, ["a2", "a1"]);
    assert_eq!(c.recent_audit(None, 10).await.unwrap().len(), 4);
    assert!(
        c.recent_audit(Some("000000000000000000000000@GatehouseOrg"), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
