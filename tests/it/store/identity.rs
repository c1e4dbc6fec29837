//! SessionStore, MfaStore and the invitation queries of OneTimeTokenStore, on whichever backend
//! the run selects.

use gatehouse_domain::identity::session::{AuthMethod, Session, SessionPolicy, new_session_secret};
use gatehouse_store::{
    AccountStore, MfaFactor, MfaKind, MfaStore, OneTimeToken, OneTimeTokenStore, OrgStore, SessionStore, Store,
};
use serde_json::json;

use super::fixtures::*;

async fn with_account(store: &Store, email: &str) -> String {
    let a = account(email);
    conn(store).await.insert_account(&a).await.unwrap();
    a.id
}

fn session(account_id: &str, now: i64) -> Session {
    let (_, digest) = new_session_secret(&mut rand::thread_rng());
    Session::start(
        digest,
        account_id.into(),
        vec![AuthMethod::Password, AuthMethod::Totp],
        &SessionPolicy::default(),
        now,
        Some("127.0.0.1".into()),
        Some("Firefox".into()),
    )
}

#[tokio::test]
async fn sessions_round_trip_and_are_found_by_digest() {
    let (_db, store) = fresh().await;
    let acc = with_account(&store, "ada@example.com").await;
    let s = session(&acc, T0);
    let mut c = conn(&store).await;
    c.insert_session(&s).await.unwrap();
    assert_eq!(c.session_by_digest(&s.id_digest).await.unwrap(), Some(s.clone()));
    assert_eq!(c.session_by_digest("nope").await.unwrap(), None);
    // The joined lookup returns the same session with its account, and nothing for unknown digests.
    let (joined, account) = c.session_with_account(&s.id_digest).await.unwrap().unwrap();
    assert_eq!(joined, s);
    assert_eq!(Some(account), c.account_by_id(&acc).await.unwrap());
    assert_eq!(c.session_with_account("nope").await.unwrap(), None);
    // Touching moves last_seen_at forward only.
    assert!(c.touch_session(&s.id_digest, T0 + 100).await.unwrap());
    assert!(c.touch_session(&s.id_digest, T0 + 50).await.unwrap());
    assert_eq!(
        c.session_by_digest(&s.id_digest).await.unwrap().unwrap().last_seen_at,
        T0 + 100
    );
    assert!(!c.touch_session("nope", T0).await.unwrap());
    assert!(c.delete_session(&s.id_digest).await.unwrap());
    assert!(!c.delete_session(&s.id_digest).await.unwrap());
}

#[tokio::test]
async fn sign_out_everywhere_keeps_only_the_current_session() {
    let (_db, store) = fresh().await;
    let acc = with_account(&store, "ada@example.com").await;
    let other = with_account(&store, "bob@example.com").await;
    let mut c = conn(&store).await;
    let mine: Vec<Session> = (0..3).map(|i| session(&acc, T0 + i)).collect();
    for s in &mine {
        c.insert_session(s).await.unwrap();
    }
    let bobs = session(&other, T0);
    c.insert_session(&bobs).await.unwrap();

    let listed = c.sessions_of_account(&acc).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.created_at).collect::<Vec<_>>(),
        [T0 + 2, T0 + 1, T0],
        "most recently used first"
    );
    // Another account's session cannot be ended through mine.
    assert!(!c.delete_session_of_account(&acc, &bobs.id_digest).await.unwrap());
    assert!(c.delete_session_of_account(&acc, &mine[0].id_digest).await.unwrap());
    assert_eq!(
        c.delete_sessions_of_account(&acc, Some(&mine[1].id_digest))
            .await
            .unwrap(),
        1
    );
    let left = c.sessions_of_account(&acc).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id_digest, mine[1].id_digest);
    assert_eq!(c.delete_sessions_of_account(&acc, None).await.unwrap(), 1);
    assert_eq!(c.sessions_of_account(&other).await.unwrap().len(), 1);
}

#[tokio::test]
async fn expired_and_idle_sessions_are_purged() {
    let (_db, store) = fresh().await;
    let acc = with_account(&store, "ada@example.com").await;
    let mut c = conn(&store).await;
    let mut expired = session(&acc, T0);
    expired.expires_at = T0 + 10;
    let idle = session(&acc, T0);
    let mut fresh_one = session(&acc, T0);
    fresh_one.last_seen_at = T0 + 500;
    for s in [&expired, &idle, &fresh_one] {
        c.insert_session(s).await.unwrap();
    }
    assert_eq!(c.purge_sessions(T0 + 600, 200).await.unwrap(), 2);
    let left = c.sessions_of_account(&acc).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id_digest, fresh_one.id_digest);
}

#[tokio::test]
async fn deleting_an_account_deletes_its_sessions_and_factors() {
    let (_db, store) = fresh().await;
    let acc = with_account(&store, "ada@example.com").await;
    let mut c = conn(&store).await;
    let s = session(&acc, T0);
    c.insert_session(&s).await.unwrap();
    c.insert_mfa_factor(&totp_factor(&acc)).await.unwrap();
    // There is no account deletion in the store API yet; the cascade is part of the schema and
    // is exercised by removing the row directly.
    let mut c2 = conn(&store).await;
    match gatehouse_store::AsDb::db(&mut c2) {
        gatehouse_store::Db::Sqlite(x) => {
            sqlx::query("DELETE FROM accounts WHERE id = $1")
                .bind(&acc)
                .execute(&mut *x)
                .await
                .unwrap();
        }
        gatehouse_store::Db::Postgres(x) => {
            sqlx::query("DELETE FROM accounts WHERE id = $1")
                .bind(&acc)
                .execute(&mut *x)
                .await
                .unwrap();
        }
    }
    assert_eq!(c.session_by_digest(&s.id_digest).await.unwrap(), None);
    assert!(c.mfa_factors_of(&acc).await.unwrap().is_empty());
}

fn totp_factor(account_id: &str) -> MfaFactor {
    MfaFactor {
        id: new_id(),
        account_id: account_id.into(),
        kind: MfaKind::Totp,
        label: "Authenticator app".into(),
        secret: Some(vec![1, 2, 3, 0, 255]),
        data: json!({}),
        last_used_at: None,
        created_at: T0,
    }
}

fn recovery_factor(account_id: &str, digest: &str) -> MfaFactor {
    MfaFactor {
        id: new_id(),
        account_id: account_id.into(),
        kind: MfaKind::RecoveryCode,
        label: String::new(),
        secret: Some(digest.as_bytes().to_vec()),
        data: json!({}),
        last_used_at: None,
        created_at: T0 + 1,
    }
}

#[tokio::test]
async fn a_totp_step_is_accepted_once_even_when_raced() {
    let (_db, store) = fresh().await;
    let acc = with_account(&store, "ada@example.com").await;
    let f = totp_factor(&acc);
    conn(&store).await.insert_mfa_factor(&f).await.unwrap();
    assert_eq!(conn(&store).await.mfa_factors_of(&acc).await.unwrap(), vec![f.clone()]);

    let step = T0 - T0 % 30;
    let results = futures_race(&store, |s| {
        let id = f.id.clone();
        async move { conn(&s).await.record_totp_step(&id, step).await.unwrap() }
    })
    .await;
    assert_eq!(results.iter().filter(|r| **r).count(), 1, "{results:?}");
    let mut c = conn(&store).await;
    assert!(
        !c.record_totp_step(&f.id, step - 30).await.unwrap(),
        "an older step is a replay"
    );
    assert!(c.record_totp_step(&f.id, step + 30).await.unwrap());
    assert_eq!(c.mfa_factors_of(&acc).await.unwrap()[0].last_used_at, Some(step + 30));
}

/// Runs `op` eight times concurrently and collects the results.
async fn futures_race<F, Fut>(store: &Store, op: F) -> Vec<bool>
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let handles: Vec<_> = (0..8).map(|_| tokio::spawn(op(store.clone()))).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_recovery_code_works_once_and_only_for_its_account() {
    let (_db, store) = fresh().await;
    let acc = with_account(&store, "ada@example.com").await;
    let other = with_account(&store, "bob@example.com").await;
    let digest = "ab".repeat(32);
    let mut c = conn(&store).await;
    c.insert_mfa_factor(&totp_factor(&acc)).await.unwrap();
    c.insert_mfa_factor(&recovery_factor(&acc, &digest)).await.unwrap();
    assert!(!c.use_recovery_code(&other, &digest, T0).await.unwrap());
    let results = futures_race(&store, |s| {
        let (acc, digest) = (acc.clone(), digest.clone());
        async move { conn(&s).await.use_recovery_code(&acc, &digest, T0 + 5).await.unwrap() }
    })
    .await;
    assert_eq!(results.iter().filter(|r| **r).count(), 1, "{results:?}");
    let factors = c.mfa_factors_of(&acc).await.unwrap();
    assert_eq!(factors[1].last_used_at, Some(T0 + 5));

    assert_eq!(
        c.delete_mfa_factors(&acc, Some(MfaKind::RecoveryCode)).await.unwrap(),
        1
    );
    assert_eq!(c.mfa_factors_of(&acc).await.unwrap().len(), 1);
    assert_eq!(c.delete_mfa_factors(&acc, None).await.unwrap(), 1);
    assert!(c.mfa_factors_of(&acc).await.unwrap().is_empty());
}

fn invitation(org: &str, n: i64, expires_at: i64) -> OneTimeToken {
    OneTimeToken {
        digest: format!("{n:064}"),
        purpose: "invitation".into(),
        account_id: None,
        org_id: Some(org.into()),
        payload: json!({"email": format!("p{n}@example.com"), "role": "member", "invited_by": "x"}),
        created_at: T0 + n,
        expires_at,
        used_at: None,
    }
}

#[tokio::test]
async fn pending_invitations_are_listed_and_cancelled_per_organization() {
    let (_db, store) = fresh().await;
    let (o1, o2) = (org("One"), org("Two"));
    let mut c = conn(&store).await;
    c.insert_org(&o1).await.unwrap();
    c.insert_org(&o2).await.unwrap();
    let (a, b, expired, elsewhere) = (
        invitation(o1.id.as_str(), 1, T0 + 100),
        invitation(o1.id.as_str(), 2, T0 + 100),
        invitation(o1.id.as_str(), 3, T0 + 10),
        invitation(o2.id.as_str(), 4, T0 + 100),
    );
    for t in [&a, &b, &expired, &elsewhere] {
        c.insert_one_time_token(t).await.unwrap();
    }
    let now = T0 + 50;
    let pending = c.org_tokens(o1.id.as_str(), "invitation", now).await.unwrap();
    assert_eq!(pending, vec![a.clone(), b.clone()]);
    // Cancelling through the wrong organization does nothing.
    assert!(
        !c.revoke_org_token(o2.id.as_str(), &a.digest, "invitation", now)
            .await
            .unwrap()
    );
    assert!(
        c.revoke_org_token(o1.id.as_str(), &a.digest, "invitation", now)
            .await
            .unwrap()
    );
    assert!(
        !c.revoke_org_token(o1.id.as_str(), &a.digest, "invitation", now)
            .await
            .unwrap()
    );
    assert_eq!(
        c.org_tokens(o1.id.as_str(), "invitation", now).await.unwrap(),
        vec![b.clone()]
    );
    assert_eq!(
        c.consume_one_time_token(&a.digest, "invitation", now).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_new_reset_link_revokes_the_accounts_earlier_ones() {
    let (_db, store) = fresh().await;
    let acc = with_account(&store, "ada@example.com").await;
    let other = with_account(&store, "bob@example.com").await;
    let mut c = conn(&store).await;
    let mk = |n: i64, account: &str| OneTimeToken {
        digest: format!("{n:064}"),
        purpose: "password_reset".into(),
        account_id: Some(account.into()),
        org_id: None,
        payload: json!(null),
        created_at: T0,
        expires_at: T0 + 3600,
        used_at: None,
    };
    let (t1, t2, theirs) = (mk(1, &acc), mk(2, &acc), mk(3, &other));
    for t in [&t1, &t2, &theirs] {
        c.insert_one_time_token(t).await.unwrap();
    }
    assert_eq!(
        c.revoke_account_tokens(&acc, "password_reset", T0 + 1).await.unwrap(),
        2
    );
    assert_eq!(
        c.consume_one_time_token(&t1.digest, "password_reset", T0 + 2)
            .await
            .unwrap(),
        None
    );
    assert!(
        c.consume_one_time_token(&theirs.digest, "password_reset", T0 + 2)
            .await
            .unwrap()
            .is_some()
    );
}
