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

fn by(actor: &str, action: &str) -> gatehouse_domain::audit::AuditEntry {
    let mut e = audit_entry(action);
    e.actor = actor.to_owned();
    e
}

fn actions(records: &[gatehouse_domain::audit::AuditRecord]) -> Vec<&str> {
    records.iter().map(|r| r.entry.action.as_str()).collect()
}

#[tokio::test]
async fn audit_search_combines_actor_organization_target_action_and_time() {
    use gatehouse_domain::audit::AuditQuery;
    let (_db, store) = fresh().await;
    let acme = "0123456789abcdef01234567@GatehouseOrg";
    let mut tx = begin(&store).await;
    let mut e = by("account:ada", "integration.created").org(acme);
    e.target = "integration:i1".into();
    e.at = 1_000;
    tx.append_audit(&e).await.unwrap();
    let mut e = by("account:ada", "integration.updated").org(acme);
    e.target = "integration:i1".into();
    e.at = 2_000;
    tx.append_audit(&e).await.unwrap();
    let mut e = by("account:bob", "integration.created");
    e.target = "integration:i2".into();
    e.at = 3_000;
    tx.append_audit(&e).await.unwrap();
    let mut e = by("system", "integrations_x.purged");
    e.at = 4_000;
    tx.append_audit(&e).await.unwrap();
    let mut e = by("account:ada", "account.disabled");
    e.at = 5_000;
    tx.append_audit(&e).await.unwrap();
    tx.commit().await.unwrap();

    let mut c = conn(&store).await;
    let q = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        };
        f(&mut q);
        q
    };
    let all = c.search_audit(&q(|_| {})).await.unwrap();
    assert_eq!(
        actions(&all),
        [
            "account.disabled",
            "integrations_x.purged",
            "integration.created",
            "integration.updated",
            "integration.created"
        ]
    );
    let ada = c
        .search_audit(&q(|q| q.actor = Some("account:ada".into())))
        .await
        .unwrap();
    assert_eq!(
        actions(&ada),
        ["account.disabled", "integration.updated", "integration.created"]
    );
    let of_acme = c
        .search_audit(&q(|q| q.org_id = Some("0123456789abcdef01234567@GatehouseOrg".into())))
        .await
        .unwrap();
    assert_eq!(of_acme.len(), 2);
    let i1 = c
        .search_audit(&q(|q| q.target = Some("integration:i1".into())))
        .await
        .unwrap();
    assert_eq!(actions(&i1), ["integration.updated", "integration.created"]);
    // An exact action, and a family: "integration" is integration.* and not integrations_x.* (the
    // underscore is not a wildcard).
    let exact = c
        .search_audit(&q(|q| q.action = Some("integration.created".into())))
        .await
        .unwrap();
    assert_eq!(exact.len(), 2);
    let family = c
        .search_audit(&q(|q| q.action = Some("integration".into())))
        .await
        .unwrap();
    assert_eq!(family.len(), 3);
    let underscore = c
        .search_audit(&q(|q| q.action = Some("integrations_x".into())))
        .await
        .unwrap();
    assert_eq!(actions(&underscore), ["integrations_x.purged"]);
    let wildcard = c
        .search_audit(&q(|q| q.action = Some("integration%".into())))
        .await
        .unwrap();
    assert!(wildcard.is_empty(), "% in a filter matches itself only");
    // Since is inclusive, until exclusive.
    let window = c
        .search_audit(&q(|q| {
            q.since = Some(2_000);
            q.until = Some(4_000);
        }))
        .await
        .unwrap();
    assert_eq!(actions(&window), ["integration.created", "integration.updated"]);
    // Filters combine.
    let both = c
        .search_audit(&q(|q| {
            q.actor = Some("account:ada".into());
            q.action = Some("integration".into());
            q.since = Some(1_500);
        }))
        .await
        .unwrap();
    assert_eq!(actions(&both), ["integration.updated"]);
    // Pages: a limit and "older than this ID".
    let first = c.search_audit(&q(|q| q.limit = 2)).await.unwrap();
    assert_eq!(first.len(), 2);
    let mut next = AuditQuery {
        limit: 2,
        before_id: Some(first[1].id),
        ..AuditQuery::default()
    };
    let second = c.search_audit(&next).await.unwrap();
    assert_eq!(actions(&second), ["integration.created", "integration.updated"]);
    next.before_id = Some(second[1].id);
    assert_eq!(actions(&c.search_audit(&next).await.unwrap()), ["integration.created"]);
}
