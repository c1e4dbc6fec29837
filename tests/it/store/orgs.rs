//! OrgStore: organizations and their members' roles.

use gatehouse_domain::org::Role;
use gatehouse_store::{AccountStore, OrgStore, StoreError};

use super::fixtures::*;

#[tokio::test]
async fn orgs_round_trip_and_unknown_ids_are_none() {
    let (_db, store) = fresh().await;
    let mut o = org("Acme");
    o.require_mfa = true;
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    commit(tx).await;
    let mut c = conn(&store).await;
    assert_eq!(c.org_by_id(&o.id).await.unwrap(), Some(o));
    assert_eq!(c.org_by_id(&org_id()).await.unwrap(), None);
}

#[tokio::test]
async fn orgs_update_changes_name_and_policy_but_keeps_creation_time() {
    let (_db, store) = fresh().await;
    let o = org("Acme");
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    commit(tx).await;

    let mut changed = o.clone();
    changed.name = "Acme Corporation".into();
    changed.require_mfa = true;
    changed.updated_at = T0 + 10;
    changed.created_at = T0 + 999; // not a mutable field
    let mut tx = begin(&store).await;
    tx.update_org(&changed).await.unwrap();
    commit(tx).await;

    let stored = conn(&store).await.org_by_id(&o.id).await.unwrap().unwrap();
    assert_eq!(stored.name, "Acme Corporation");
    assert!(stored.require_mfa);
    assert_eq!(stored.updated_at, T0 + 10);
    assert_eq!(stored.created_at, T0);
}

#[tokio::test]
async fn orgs_ids_are_unique() {
    let (_db, store) = fresh().await;
    let o = org("Acme");
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    let mut twin = org("Other");
    twin.id = o.id.clone();
    assert!(matches!(tx.insert_org(&twin).await, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn orgs_are_listed_by_name_then_id_in_byte_order() {
    let (_db, store) = fresh().await;
    let mut twins = [org("Twin"), org("Twin")];
    twins.sort_by(|a, b| a.id.cmp(&b.id));
    // Byte order on every backend: uppercase before lowercase, '_' before letters.
    let (beta, acme, acme_x) = (org("Beta"), org("acme"), org("acme_x"));
    let mut tx = begin(&store).await;
    for o in [&acme_x, &twins[1], &beta, &acme, &twins[0]] {
        tx.insert_org(o).await.unwrap();
    }
    commit(tx).await;
    let listed = conn(&store).await.list_orgs().await.unwrap();
    let expected = vec![beta, twins[0].clone(), twins[1].clone(), acme, acme_x];
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn orgs_upsert_membership_adds_then_changes_the_role() {
    let (_db, store) = fresh().await;
    let o = org("Acme");
    let ada = account("ada@example.com");
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    tx.insert_account(&ada).await.unwrap();
    tx.upsert_membership(&membership(&o, &ada, Role::Developer))
        .await
        .unwrap();
    commit(tx).await;
    let mut c = conn(&store).await;
    assert_eq!(
        c.membership(&o.id, &ada.id).await.unwrap(),
        Some(membership(&o, &ada, Role::Developer))
    );

    let mut promoted = membership(&o, &ada, Role::Admin);
    promoted.created_at = T0 + 500; // a re-upsert must not pretend the member joined later
    let mut tx = begin(&store).await;
    tx.upsert_membership(&promoted).await.unwrap();
    commit(tx).await;
    let stored = c.membership(&o.id, &ada.id).await.unwrap().unwrap();
    assert_eq!(stored.role, Role::Admin);
    assert_eq!(stored.created_at, T0);
    assert_eq!(
        c.memberships_of_org(&o.id).await.unwrap().len(),
        1,
        "still one membership"
    );
}

#[tokio::test]
async fn orgs_memberships_are_listed_per_org_and_per_account() {
    let (_db, store) = fresh().await;
    let (acme, globex) = (org("Acme"), org("Globex"));
    let (ada, grace) = (account("ada@example.com"), account("grace@example.com"));
    let mut ada_acme = membership(&acme, &ada, Role::Admin);
    ada_acme.created_at = T0 + 1;
    let mut grace_acme = membership(&acme, &grace, Role::Member);
    grace_acme.created_at = T0 + 2;
    let mut ada_globex = membership(&globex, &ada, Role::Developer);
    ada_globex.created_at = T0 + 3;
    let mut tx = begin(&store).await;
    tx.insert_org(&acme).await.unwrap();
    tx.insert_org(&globex).await.unwrap();
    tx.insert_account(&ada).await.unwrap();
    tx.insert_account(&grace).await.unwrap();
    // Inserted out of order; listed by when they joined.
    for m in [&ada_globex, &grace_acme, &ada_acme] {
        tx.upsert_membership(m).await.unwrap();
    }
    commit(tx).await;

    let mut c = conn(&store).await;
    assert_eq!(
        c.memberships_of_org(&acme.id).await.unwrap(),
        vec![ada_acme.clone(), grace_acme.clone()]
    );
    assert_eq!(
        c.memberships_of_org(&globex.id).await.unwrap(),
        vec![ada_globex.clone()]
    );
    assert_eq!(
        c.memberships_of_account(&ada.id).await.unwrap(),
        vec![ada_acme, ada_globex]
    );
    assert_eq!(c.memberships_of_account(&grace.id).await.unwrap(), vec![grace_acme]);
    assert!(c.memberships_of_org(&org_id()).await.unwrap().is_empty());
    assert!(c.memberships_of_account("nobody").await.unwrap().is_empty());
}

#[tokio::test]
async fn orgs_delete_membership_reports_whether_there_was_one() {
    let (_db, store) = fresh().await;
    let o = org("Acme");
    let (ada, grace) = (account("ada@example.com"), account("grace@example.com"));
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    tx.insert_account(&ada).await.unwrap();
    tx.insert_account(&grace).await.unwrap();
    tx.upsert_membership(&membership(&o, &ada, Role::Admin)).await.unwrap();
    tx.upsert_membership(&membership(&o, &grace, Role::Member))
        .await
        .unwrap();
    commit(tx).await;

    let mut tx = begin(&store).await;
    assert!(tx.delete_membership(&o.id, &grace.id).await.unwrap());
    assert!(!tx.delete_membership(&o.id, &grace.id).await.unwrap());
    commit(tx).await;
    let mut c = conn(&store).await;
    assert_eq!(c.membership(&o.id, &grace.id).await.unwrap(), None);
    assert!(
        c.membership(&o.id, &ada.id).await.unwrap().is_some(),
        "other members stay"
    );
}

#[tokio::test]
async fn orgs_membership_needs_an_existing_org_and_account() {
    let (_db, store) = fresh().await;
    let o = org("Acme");
    let ada = account("ada@example.com");
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    tx.insert_account(&ada).await.unwrap();
    commit(tx).await;

    let mut tx = begin(&store).await;
    let ghost_account = account("ghost@example.com");
    let err = tx
        .upsert_membership(&membership(&o, &ghost_account, Role::Member))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "got {err:?}");
    drop(tx);
    let mut tx = begin(&store).await;
    let err = tx
        .upsert_membership(&membership(&org("Ghost"), &ada, Role::Member))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "got {err:?}");
}
