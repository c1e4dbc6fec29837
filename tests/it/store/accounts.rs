//! AccountStore: people who sign in, found by ID or by (case-insensitive) email.

use gatehouse_domain::account::{AccountType, Email};
use gatehouse_store::{AccountStore, StoreError};

use super::fixtures::*;

#[tokio::test]
async fn accounts_round_trip_by_id_and_by_email() {
    let (_db, store) = fresh().await;
    let a = account("ada@example.com");
    let mut tx = begin(&store).await;
    tx.insert_account(&a).await.unwrap();
    commit(tx).await;

    let mut c = conn(&store).await;
    assert_eq!(c.account_by_id(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(c.account_by_email(&a.email).await.unwrap(), Some(a.clone()));
    // Emails are normalised when parsed, so any spelling finds the account.
    let shouted = Email::parse("ADA@Example.COM").unwrap();
    assert_eq!(c.account_by_email(&shouted).await.unwrap(), Some(a));
    assert_eq!(c.account_by_id("no-such-id").await.unwrap(), None);
    let other = Email::parse("grace@example.com").unwrap();
    assert_eq!(c.account_by_email(&other).await.unwrap(), None);
}

#[tokio::test]
async fn accounts_without_password_round_trip() {
    let (_db, store) = fresh().await;
    let mut a = account("invited@example.com");
    a.password_hash = None;
    a.account_type = AccountType::Enterprise;
    let mut tx = begin(&store).await;
    tx.insert_account(&a).await.unwrap();
    commit(tx).await;
    assert_eq!(conn(&store).await.account_by_id(&a.id).await.unwrap(), Some(a));
}

#[tokio::test]
async fn accounts_email_is_unique_whatever_its_case() {
    let (_db, store) = fresh().await;
    let mut tx = begin(&store).await;
    tx.insert_account(&account("ada@example.com")).await.unwrap();
    commit(tx).await;
    let mut tx = begin(&store).await;
    let err = tx.insert_account(&account("Ada@Example.com")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
}

#[tokio::test]
async fn accounts_update_replaces_every_mutable_field() {
    let (_db, store) = fresh().await;
    let a = account("ada@example.com");
    let mut tx = begin(&store).await;
    tx.insert_account(&a).await.unwrap();
    commit(tx).await;

    let mut changed = a.clone();
    changed.email = Email::parse("countess@example.org").unwrap();
    changed.account_type = AccountType::Enterprise;
    changed.display_name = "Countess of Lovelace".into();
    changed.given_name = "Augusta Ada".into();
    changed.family_name = "King".into();
    changed.country = "FR".into();
    changed.email_verified = true;
    changed.password_hash = None;
    changed.operator = true;
    changed.disabled = true;
    changed.updated_at = T0 + 60;
    let mut tx = begin(&store).await;
    tx.update_account(&changed).await.unwrap();
    commit(tx).await;

    let mut c = conn(&store).await;
    assert_eq!(c.account_by_id(&a.id).await.unwrap(), Some(changed.clone()));
    assert_eq!(
        c.account_by_email(&a.email).await.unwrap(),
        None,
        "the old email is free again"
    );
    assert_eq!(c.account_by_email(&changed.email).await.unwrap(), Some(changed));
}

#[tokio::test]
async fn accounts_update_cannot_take_another_accounts_email() {
    let (_db, store) = fresh().await;
    let ada = account("ada@example.com");
    let grace = account("grace@example.com");
    let mut tx = begin(&store).await;
    tx.insert_account(&ada).await.unwrap();
    tx.insert_account(&grace).await.unwrap();
    commit(tx).await;
    let mut stolen = grace.clone();
    stolen.email = ada.email.clone();
    let mut tx = begin(&store).await;
    assert!(matches!(tx.update_account(&stolen).await, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn accounts_are_listed_by_email() {
    let (_db, store) = fresh().await;
    let mut tx = begin(&store).await;
    for email in ["carol@example.com", "alice@example.com", "bob@example.com"] {
        tx.insert_account(&account(email)).await.unwrap();
    }
    commit(tx).await;
    let emails: Vec<String> = conn(&store)
        .await
        .list_accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.email.to_string())
        .collect();
    assert_eq!(emails, ["alice@example.com", "bob@example.com", "carol@example.com"]);
}

#[tokio::test]
async fn accounts_count_operators_counts_only_enabled_operators() {
    let (_db, store) = fresh().await;
    assert_eq!(conn(&store).await.count_operators().await.unwrap(), 0);
    let mut op = account("op@example.com");
    op.operator = true;
    let mut disabled_op = account("former-op@example.com");
    disabled_op.operator = true;
    disabled_op.disabled = true;
    let mut tx = begin(&store).await;
    tx.insert_account(&op).await.unwrap();
    tx.insert_account(&disabled_op).await.unwrap();
    tx.insert_account(&account("dev@example.com")).await.unwrap();
    commit(tx).await;
    assert_eq!(conn(&store).await.count_operators().await.unwrap(), 1);
}

#[tokio::test]
async fn enterprise_accounts_keep_their_owning_org_which_must_exist() {
    use gatehouse_store::OrgStore;
    let (_db, store) = fresh().await;
    let o = org("Acme");
    let mut a = account("worker@acme.test");
    a.account_type = AccountType::Enterprise;
    a.owner_org_id = Some(o.id.as_str().to_owned());
    let mut tx = begin(&store).await;
    tx.insert_org(&o).await.unwrap();
    tx.insert_account(&a).await.unwrap();
    commit(tx).await;
    assert_eq!(conn(&store).await.account_by_id(&a.id).await.unwrap(), Some(a.clone()));

    // Disabling is an update like any other; the owner is kept.
    a.disabled = true;
    let mut tx = begin(&store).await;
    tx.update_account(&a).await.unwrap();
    commit(tx).await;
    assert_eq!(conn(&store).await.account_by_id(&a.id).await.unwrap(), Some(a.clone()));

    // An owner that does not exist is refused.
    let mut stray = account("stray@acme.test");
    stray.owner_org_id = Some("ffffffffffffffffffffffff@GatehouseOrg".into());
    let mut tx = begin(&store).await;
    assert!(tx.insert_account(&stray).await.is_err());
}
