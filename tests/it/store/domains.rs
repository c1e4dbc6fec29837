//! DomainStore and MailQuotaStore: organizations' email-domain claims, and the mail counters
//! every node shares.

use gatehouse_domain::identity::email_domain::{DomainClaim, DomainName, VerifiedBy};
use gatehouse_store::{DomainStore, MailQuotaStore, OrgStore, StoreError};
use rand::SeedableRng;

use super::fixtures::*;

fn claim(org: &str, domain: &str) -> DomainClaim {
    DomainClaim::new(
        org,
        DomainName::parse(domain).unwrap(),
        &mut rand::rngs::StdRng::seed_from_u64(7),
        T0,
    )
}

#[tokio::test]
async fn store_a_domain_is_claimed_once_per_org_and_verified_by_one_org_only() {
    let (_db, store) = fresh().await;
    let (a, b) = (org("Acme"), org("Squatter"));
    let mut tx = begin(&store).await;
    tx.insert_org(&a).await.unwrap();
    tx.insert_org(&b).await.unwrap();
    commit(tx).await;

    let mut c = conn(&store).await;
    let mine = claim(a.id.as_str(), "acme.example");
    let theirs = claim(b.id.as_str(), "acme.example");
    c.insert_domain_claim(&mine).await.unwrap();
    c.insert_domain_claim(&claim(a.id.as_str(), "zeta.example"))
        .await
        .unwrap();
    c.insert_domain_claim(&theirs).await.unwrap();
    assert!(matches!(
        c.insert_domain_claim(&mine).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        c.domain_claim(a.id.as_str(), "acme.example").await.unwrap(),
        Some(mine.clone())
    );
    let domains: Vec<_> = c
        .domain_claims_of_org(a.id.as_str())
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.domain.to_string())
        .collect();
    assert_eq!(domains, ["acme.example", "zeta.example"]);

    let mut verified = mine.clone();
    verified.verified = Some((T0 + 5, VerifiedBy::Dns));
    assert!(c.mark_domain_verified(&verified).await.unwrap());
    assert_eq!(
        c.domain_claim(a.id.as_str(), "acme.example").await.unwrap(),
        Some(verified)
    );
    // Another organization cannot hold the same domain verified.
    let mut squat = theirs.clone();
    squat.verified = Some((T0 + 6, VerifiedBy::Operator));
    assert!(matches!(
        c.mark_domain_verified(&squat).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(c.list_domain_claims().await.unwrap().len() == 3);

    assert!(c.delete_domain_claim(a.id.as_str(), "acme.example").await.unwrap());
    assert!(!c.delete_domain_claim(a.id.as_str(), "acme.example").await.unwrap());
    // Once released, the other organization may verify it.
    assert!(c.mark_domain_verified(&squat).await.unwrap());
}

#[tokio::test]
async fn store_mail_counters_count_per_key_and_window_and_are_purged() {
    let (_db, store) = fresh().await;
    let mut c = conn(&store).await;
    for expected in 1..=3 {
        assert_eq!(c.count_mail("to:ada@example.com", T0).await.unwrap(), expected);
    }
    assert_eq!(c.count_mail("ip:192.0.2.1", T0).await.unwrap(), 1);
    assert_eq!(c.count_mail("to:ada@example.com", T0 + 3600).await.unwrap(), 1);
    assert_eq!(c.purge_mail_quota(T0 + 1).await.unwrap(), 2);
    assert_eq!(c.count_mail("to:ada@example.com", T0 + 3600).await.unwrap(), 2);
}

#[tokio::test]
async fn store_concurrent_mail_counts_are_all_distinct() {
    let (_db, store) = fresh().await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .conn()
                    .await
                    .unwrap()
                    .count_mail("to:x@example.com", T0)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=16).collect::<Vec<i64>>());
}
