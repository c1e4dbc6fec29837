//! Conformance tests of the token service's storage (`SigningKeyStore`, `TokenStore`), run on
//! whichever backend `GATEHOUSE_TEST_BACKEND` selects. The atomic operations are also raced.

use gatehouse_domain::{
    Timestamp,
    account::{Account, AccountType, Email},
    token::{
        grant::Consent,
        keys::{Jwk, SigningAlg},
        records::{
            AuthorizationCodeRecord, CodeConsumption, KeySchedule, RefreshRotation, RefreshTokenRecord,
            StoredSigningKey,
        },
    },
};
use gatehouse_store::{AccountStore, ConsentStore, SigningKeyStore, Store, TokenStore};

use super::fixtures::{T0, fresh};

fn signing_key(kid: &str, activates_at: Timestamp) -> StoredSigningKey {
    StoredSigningKey {
        kid: kid.into(),
        alg: SigningAlg::ES256,
        private_key_enc: vec![0, 1, 2, 255, kid.len() as u8],
        public_jwk: Jwk {
            kty: "EC".into(),
            use_: "sig".into(),
            alg: "ES256".into(),
            kid: kid.into(),
            crv: Some("P-256".into()),
            x: Some("eA".into()),
            y: Some("eQ".into()),
            n: None,
            e: None,
        },
        schedule: KeySchedule {
            created_at: T0,
            activates_at,
            retires_at: activates_at + 100,
            expires_at: activates_at + 200,
        },
    }
}

#[tokio::test]
async fn signing_keys_of_each_algorithm_have_their_own_slots() {
    let (_db, store) = fresh().await;
    let mut c = store.conn().await.unwrap();
    assert!(c.insert_signing_key(&signing_key("ec", T0)).await.unwrap());
    let mut rsa = signing_key("rsa", T0);
    rsa.alg = SigningAlg::RS256;
    assert!(
        c.insert_signing_key(&rsa).await.unwrap(),
        "an RS256 key may activate with the ES256 one"
    );
    let mut rsa_again = signing_key("rsa-other", T0);
    rsa_again.alg = SigningAlg::RS256;
    assert!(
        !c.insert_signing_key(&rsa_again).await.unwrap(),
        "but one per algorithm and slot"
    );
    let algs: Vec<SigningAlg> = c.list_signing_keys().await.unwrap().iter().map(|k| k.alg).collect();
    assert_eq!(algs.len(), 2);
    assert!(algs.contains(&SigningAlg::ES256) && algs.contains(&SigningAlg::RS256));
}

#[tokio::test]
async fn signing_keys_round_trip_and_one_key_per_slot() {
    let (_db, store) = fresh().await;
    let mut c = store.conn().await.unwrap();
    assert!(c.insert_signing_key(&signing_key("k1", T0)).await.unwrap());
    assert!(c.insert_signing_key(&signing_key("k2", T0 + 100)).await.unwrap());
    // A second node creating the successor for the same slot loses.
    assert!(!c.insert_signing_key(&signing_key("k2-other", T0 + 100)).await.unwrap());
    let keys = c.list_signing_keys().await.unwrap();
    assert_eq!(keys, vec![signing_key("k1", T0), signing_key("k2", T0 + 100)]);

    // Withdraw k1, then purge what has expired.
    let withdrawn = KeySchedule {
        created_at: T0,
        activates_at: T0,
        retires_at: T0 + 10,
        expires_at: T0 + 10,
    };
    assert!(c.mark_signing_key("k1", &withdrawn).await.unwrap());
    assert!(!c.mark_signing_key("missing", &withdrawn).await.unwrap());
    assert_eq!(c.list_signing_keys().await.unwrap()[0].schedule, withdrawn);
    assert_eq!(c.purge_signing_keys(T0 + 10).await.unwrap(), 1);
    assert_eq!(c.list_signing_keys().await.unwrap().len(), 1);
    // Once the slot's key has expired, the slot may be taken again.
    let mut again = signing_key("k1-again", T0);
    again.schedule.created_at = T0 + 300;
    assert!(c.insert_signing_key(&again).await.unwrap());
}

#[tokio::test]
async fn the_access_token_deny_list() {
    let (_db, store) = fresh().await;
    let mut c = store.conn().await.unwrap();
    assert!(!c.is_access_token_revoked("jti-1").await.unwrap());
    c.revoke_access_token("jti-1", "client", T0, T0 + 60).await.unwrap();
    // Revoking twice is harmless.
    c.revoke_access_token("jti-1", "client", T0 + 1, T0 + 60).await.unwrap();
    assert!(c.is_access_token_revoked("jti-1").await.unwrap());
    c.revoke_access_token("jti-2", "client", T0 + 10, T0 + 30)
        .await
        .unwrap();
    assert_eq!(
        c.revoked_access_tokens_since(T0, T0).await.unwrap().len(),
        2,
        "both revoked at or after T0"
    );
    assert_eq!(
        c.revoked_access_tokens_since(T0 + 5, T0).await.unwrap(),
        vec![("jti-2".to_owned(), T0 + 30)]
    );
    assert_eq!(
        c.revoked_access_tokens_since(T0, T0 + 30).await.unwrap(),
        vec![("jti-1".to_owned(), T0 + 60)],
        "expired entries are left out"
    );
    assert_eq!(c.purge_revoked_access_tokens(T0 + 59).await.unwrap(), 1);
    assert_eq!(c.purge_revoked_access_tokens(T0 + 60).await.unwrap(), 1);
    assert!(!c.is_access_token_revoked("jti-1").await.unwrap());
}

#[tokio::test]
async fn an_assertion_jti_is_accepted_once_until_it_expires() {
    let (_db, store) = fresh().await;
    let mut c = store.conn().await.unwrap();
    assert!(c.record_assertion_jti("key-1", "client", T0 + 300, T0).await.unwrap());
    assert!(
        !c.record_assertion_jti("key-1", "client", T0 + 300, T0 + 1)
            .await
            .unwrap()
    );
    assert!(
        !c.record_assertion_jti("key-1", "client", T0 + 900, T0 + 299)
            .await
            .unwrap()
    );
    assert!(c.record_assertion_jti("key-2", "client", T0 + 300, T0).await.unwrap());
    // After expiry the key may be used again (an old assertion would fail its exp check anyway).
    assert!(
        c.record_assertion_jti("key-1", "client", T0 + 900, T0 + 300)
            .await
            .unwrap()
    );
    assert!(
        !c.record_assertion_jti("key-1", "client", T0 + 900, T0 + 301)
            .await
            .unwrap()
    );
    assert_eq!(c.purge_used_assertions(T0 + 300).await.unwrap(), 1);
    assert_eq!(c.purge_used_assertions(T0 + 900).await.unwrap(), 1);
}

#[tokio::test]
async fn concurrent_uses_of_one_jti_have_one_winner() {
    let (_db, store) = fresh().await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut c = store.conn().await.unwrap();
                c.record_assertion_jti("raced", "client", T0 + 300, T0).await.unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
}

fn refresh(digest: &str, family: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        digest: digest.into(),
        family_id: family.into(),
        client_id: "client-a".into(),
        account_id: None,
        scope: "openid offline_access".into(),
        auth_time: Some(T0 - 5),
        amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
        created_at: T0,
        expires_at: T0 + 1_000,
        rotated_at: None,
        revoked_at: None,
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let (_db, store) = fresh().await;
    let mut c = store.conn().await.unwrap();
    c.insert_refresh_token(&refresh("rt-1", "fam")).await.unwrap();
    c.insert_refresh_token(&refresh("other", "fam-2")).await.unwrap();

    let RefreshRotation::Rotated(old) = c
        .rotate_refresh_token("rt-1", "client-a", "rt-2", T0 + 2_000, T0 + 10)
        .await
        .unwrap()
    else {
        panic!("the current token rotates")
    };
    assert_eq!(old.digest, "rt-1");
    let new = c.refresh_token_by_digest("rt-2").await.unwrap().unwrap();
    assert_eq!(
        (new.family_id.as_str(), new.scope.as_str()),
        ("fam", "openid offline_access")
    );
    assert_eq!(
        (new.created_at, new.expires_at, new.auth_time),
        (T0 + 10, T0 + 2_000, Some(T0 - 5))
    );
    assert_eq!(new.amr, vec!["pwd", "otp", "mfa"], "the methods travel with the family");
    assert_eq!(
        c.refresh_token_by_digest("rt-1").await.unwrap().unwrap().rotated_at,
        Some(T0 + 10)
    );

    // Presenting rt-1 again is reuse: the whole family, rt-2 included, is revoked.
    assert_eq!(
        c.rotate_refresh_token("rt-1", "client-a", "rt-3", T0 + 2_000, T0 + 20)
            .await
            .unwrap(),
        RefreshRotation::Reused {
            family_id: "fam".into(),
            client_id: "client-a".into()
        }
    );
    assert_eq!(
        c.refresh_token_by_digest("rt-2").await.unwrap().unwrap().revoked_at,
        Some(T0 + 20)
    );
    assert_eq!(c.refresh_token_by_digest("rt-3").await.unwrap(), None);
    assert_eq!(
        c.rotate_refresh_token("rt-2", "client-a", "rt-4", T0 + 2_000, T0 + 30)
            .await
            .unwrap(),
        RefreshRotation::Invalid
    );
    // Another family is untouched.
    assert_eq!(
        c.refresh_token_by_digest("other").await.unwrap().unwrap().revoked_at,
        None
    );
}

#[tokio::test]
async fn refresh_tokens_of_other_clients_expired_or_unknown_do_not_rotate() {
    let (_db, store) = fresh().await;
    let mut c = store.conn().await.unwrap();
    c.insert_refresh_token(&refresh("rt", "fam")).await.unwrap();
    for (digest, client, now) in [
        ("rt", "client-b", T0),
        ("rt", "client-a", T0 + 1_000),
        ("nope", "client-a", T0),
    ] {
        assert_eq!(
            c.rotate_refresh_token(digest, client, "new", T0 + 2_000, now)
                .await
                .unwrap(),
            RefreshRotation::Invalid,
            "{digest} {client} {now}"
        );
    }
    // Another client presenting a rotated token cannot revoke the owner's family.
    assert!(matches!(
        c.rotate_refresh_token("rt", "client-a", "rt-2", T0 + 2_000, T0)
            .await
            .unwrap(),
        RefreshRotation::Rotated(_)
    ));
    assert_eq!(
        c.rotate_refresh_token("rt", "client-b", "x", T0 + 2_000, T0)
            .await
            .unwrap(),
        RefreshRotation::Invalid
    );
    assert_eq!(
        c.refresh_token_by_digest("rt-2").await.unwrap().unwrap().revoked_at,
        None
    );
    assert_eq!(c.revoke_refresh_family("fam", T0 + 5).await.unwrap(), 2);
    assert_eq!(c.purge_refresh_tokens(T0 + 1_000).await.unwrap(), 1);
    assert_eq!(c.purge_refresh_tokens(T0 + 2_000).await.unwrap(), 1);
}

#[tokio::test]
async fn concurrent_rotations_have_one_winner() {
    let (_db, store) = fresh().await;
    store
        .conn()
        .await
        .unwrap()
        .insert_refresh_token(&refresh("rt", "fam"))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let r = tx
                    .rotate_refresh_token("rt", "client-a", &format!("new-{i}"), T0 + 2_000, T0 + 1)
                    .await
                    .unwrap();
                tx.commit_unaudited().await.unwrap();
                r
            })
        })
        .collect();
    let mut rotated = 0;
    for t in tasks {
        match t.await.unwrap() {
            RefreshRotation::Rotated(_) => rotated += 1,
            RefreshRotation::Reused { .. } => {}
            RefreshRotation::Invalid => panic!("the token exists and is current or rotated"),
        }
    }
    assert_eq!(rotated, 1);
}

async fn with_account(store: &Store) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let account = Account {
        id: id.clone(),
        email: Email::parse(&format!("{id}@example.test")).unwrap(),
        account_type: AccountType::Personal,
        display_name: "Ada".into(),
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        country: "GB".into(),
        email_verified: true,
        password_hash: None,
        operator: false,
        disabled: false,
        owner_org_id: None,
        created_at: T0,
        updated_at: T0,
    };
    store.conn().await.unwrap().insert_account(&account).await.unwrap();
    id
}

fn code(digest: &str, account_id: &str) -> AuthorizationCodeRecord {
    AuthorizationCodeRecord {
        code_digest: digest.into(),
        client_id: "client-a".into(),
        account_id: account_id.into(),
        redirect_uri: "https://app.example.test/cb".into(),
        redirect_uri_sent: true,
        scope: "openid".into(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
        nonce: Some("n-1".into()),
        auth_time: T0 - 3,
        amr: vec!["pwd".into()],
        created_at: T0,
        expires_at: T0 + 60,
        consumed_at: None,
        issued_family_id: None,
        issued_jti: None,
    }
}

#[tokio::test]
async fn an_authorization_code_is_consumed_once_and_remembers_what_it_issued() {
    let (_db, store) = fresh().await;
    let account = with_account(&store).await;
    let mut c = store.conn().await.unwrap();
    c.insert_authorization_code(&code("code-1", &account)).await.unwrap();

    let CodeConsumption::Consumed(first) = c
        .consume_authorization_code("code-1", T0 + 5, "jti-1", Some("fam-1"))
        .await
        .unwrap()
    else {
        panic!("first use consumes")
    };
    assert_eq!(first.nonce.as_deref(), Some("n-1"));
    assert!(first.redirect_uri_sent, "whether the request sent redirect_uri is kept");
    assert_eq!(first.consumed_at, Some(T0 + 5));

    let CodeConsumption::AlreadyConsumed(again) = c
        .consume_authorization_code("code-1", T0 + 6, "jti-2", None)
        .await
        .unwrap()
    else {
        panic!("second use is reuse")
    };
    assert_eq!(again.issued_jti.as_deref(), Some("jti-1"));
    assert_eq!(again.issued_family_id.as_deref(), Some("fam-1"));
    assert_eq!(again.consumed_at, Some(T0 + 5));

    assert_eq!(
        c.consume_authorization_code("unknown", T0, "j", None).await.unwrap(),
        CodeConsumption::NotFound
    );
    assert_eq!(c.purge_authorization_codes(T0 + 59).await.unwrap(), 0);
    assert_eq!(c.purge_authorization_codes(T0 + 60).await.unwrap(), 1);
}

#[tokio::test]
async fn concurrent_code_redemptions_have_one_winner() {
    let (_db, store) = fresh().await;
    let account = with_account(&store).await;
    store
        .conn()
        .await
        .unwrap()
        .insert_authorization_code(&code("raced", &account))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut c = store.conn().await.unwrap();
                c.consume_authorization_code("raced", T0 + 1, &format!("jti-{i}"), None)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut consumed = Vec::new();
    for t in tasks {
        if let CodeConsumption::Consumed(c) = t.await.unwrap() {
            consumed.push(c);
        }
    }
    assert_eq!(consumed.len(), 1);
}

#[tokio::test]
async fn withdrawing_consent_finds_the_accounts_refresh_tokens_for_the_client() {
    let (_db, store) = fresh().await;
    let account = with_account(&store).await;
    let other = with_account(&store).await;
    let mut c = store.conn().await.unwrap();
    let mine = |digest: &str, family: &str| RefreshTokenRecord {
        account_id: Some(account.clone()),
        ..refresh(digest, family)
    };
    c.insert_refresh_token(&mine("a-1", "fam-a")).await.unwrap();
    c.insert_refresh_token(&mine("a-2", "fam-a")).await.unwrap();
    c.insert_refresh_token(&mine("b-1", "fam-b")).await.unwrap();
    c.insert_refresh_token(&RefreshTokenRecord {
        client_id: "client-b".into(),
        ..mine("c-1", "fam-c")
    })
    .await
    .unwrap();
    c.insert_refresh_token(&RefreshTokenRecord {
        account_id: Some(other.clone()),
        ..refresh("d-1", "fam-d")
    })
    .await
    .unwrap();
    let mut families = c.revoke_refresh_tokens_of(&account, "client-a", T0 + 1).await.unwrap();
    families.sort();
    assert_eq!(families, vec!["fam-a", "fam-b"]);
    for (digest, revoked) in [
        ("a-1", true),
        ("a-2", true),
        ("b-1", true),
        ("c-1", false),
        ("d-1", false),
    ] {
        let t = c.refresh_token_by_digest(digest).await.unwrap().unwrap();
        assert_eq!(t.revoked_at.is_some(), revoked, "{digest}");
    }
    assert!(
        c.revoke_refresh_tokens_of(&account, "client-a", T0 + 2)
            .await
            .unwrap()
            .is_empty()
    );
    // The code's methods round-trip too.
    c.insert_authorization_code(&code("code-amr", &account)).await.unwrap();
    let CodeConsumption::Consumed(r) = c.consume_authorization_code("code-amr", T0, "j", None).await.unwrap() else {
        panic!("first use")
    };
    assert_eq!(r.amr, vec!["pwd"]);
}

#[tokio::test]
async fn consents_are_stored_per_account_and_integration() {
    use gatehouse_domain::{
        audit::{Actor, AuditEntry},
        ids::{ClientId, OrgId},
        integration::{Integration, IntegrationStatus, IntegrationType, Owner, Platform},
        org::Organization,
    };
    use gatehouse_store::{AuditStore, OrgStore};
    let (_db, store) = fresh().await;
    let account = with_account(&store).await;
    let org = Organization {
        id: OrgId::parse("0123456789abcdef01234567@GatehouseOrg").unwrap(),
        name: "Org".into(),
        require_mfa: false,
        created_at: T0,
        updated_at: T0,
    };
    let app = |n: u8| Integration {
        id: format!("int-{n}"),
        client_id: ClientId::parse(&format!("{n:032x}")).unwrap(),
        name: format!("App {n}"),
        description: String::new(),
        integration_type: IntegrationType::Oauth,
        platform: Some(Platform::Web),
        owner: Owner::Organization(org.id.to_string()),
        created_by: None,
        redirect_uri: Some("https://app.example.test/cb".into()),
        redirect_patterns: vec![],
        technical_account_id: None,
        technical_account_email: None,
        id_token_signed_response_alg: None,
        may_introspect: false,
        allowed_domains: Vec::new(),
        workspace_id: format!("ws-{n}"),
        status: IntegrationStatus::Active,
        created_at: T0,
        updated_at: T0,
    };
    let mut tx = store.begin().await.unwrap();
    tx.insert_org(&org).await.unwrap();
    crate::store::fixtures::insert_integration(&mut tx, &app(1))
        .await
        .unwrap();
    crate::store::fixtures::insert_integration(&mut tx, &app(2))
        .await
        .unwrap();
    tx.append_audit(&AuditEntry::new(T0, &Actor::System, "test", "t"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut c = store.conn().await.unwrap();
    assert!(c.consent(&account, "int-1").await.unwrap().is_none());
    let first = Consent {
        account_id: account.clone(),
        integration_id: "int-1".into(),
        scopes: vec!["openid".into()],
        created_at: T0,
        updated_at: T0,
    };
    c.upsert_consent(&first).await.unwrap();
    let wider = first.widened(&["email".into()], T0 + 5);
    c.upsert_consent(&wider).await.unwrap();
    assert_eq!(c.consent(&account, "int-1").await.unwrap().unwrap(), wider);
    c.upsert_consent(&Consent {
        integration_id: "int-2".into(),
        updated_at: T0 + 9,
        ..first.clone()
    })
    .await
    .unwrap();
    let all = c.consents_of_account(&account).await.unwrap();
    assert_eq!(
        all.iter().map(|c| c.integration_id.as_str()).collect::<Vec<_>>(),
        vec!["int-2", "int-1"],
        "most recently updated first"
    );
    assert!(c.delete_consent(&account, "int-1").await.unwrap());
    assert!(!c.delete_consent(&account, "int-1").await.unwrap());
    assert_eq!(c.consents_of_account(&account).await.unwrap().len(), 1);
}

#[tokio::test]
async fn ending_a_clients_grants_touches_that_client_only() {
    let (_db, store) = fresh().await;
    let account = with_account(&store).await;
    let mut c = store.conn().await.unwrap();
    // client-a: a current token, a rotated one, an expired one, an unused and a consumed code.
    c.insert_refresh_token(&refresh("a-current", "fa")).await.unwrap();
    c.insert_refresh_token(&RefreshTokenRecord {
        rotated_at: Some(T0 + 1),
        ..refresh("a-rotated", "fa")
    })
    .await
    .unwrap();
    c.insert_refresh_token(&RefreshTokenRecord {
        expires_at: T0 + 5,
        ..refresh("a-expired", "fe")
    })
    .await
    .unwrap();
    c.insert_authorization_code(&code("a-unused", &account)).await.unwrap();
    c.insert_authorization_code(&code("a-used", &account)).await.unwrap();
    c.consume_authorization_code("a-used", T0 + 1, "jti-1", None)
        .await
        .unwrap();
    // client-b: the same kinds, which must survive.
    c.insert_refresh_token(&RefreshTokenRecord {
        client_id: "client-b".into(),
        ..refresh("b-current", "fb")
    })
    .await
    .unwrap();
    c.insert_authorization_code(&AuthorizationCodeRecord {
        client_id: "client-b".into(),
        ..code("b-unused", &account)
    })
    .await
    .unwrap();

    let ended = c.revoke_client_grants("client-a", T0 + 10).await.unwrap();
    assert_eq!((ended.refresh_tokens, ended.authorization_codes), (1, 1));
    let current = c.refresh_token_by_digest("a-current").await.unwrap().unwrap();
    assert_eq!(current.revoked_at, Some(T0 + 10));
    assert_eq!(
        c.rotate_refresh_token("a-current", "client-a", "a-next", T0 + 500, T0 + 11)
            .await
            .unwrap(),
        RefreshRotation::Invalid
    );
    assert_eq!(
        c.consume_authorization_code("a-unused", T0 + 11, "jti-2", None)
            .await
            .unwrap(),
        CodeConsumption::NotFound
    );
    // A consumed code stays, so its reuse is still detected.
    assert!(matches!(
        c.consume_authorization_code("a-used", T0 + 11, "jti-3", None)
            .await
            .unwrap(),
        CodeConsumption::AlreadyConsumed(_)
    ));
    // The other client keeps everything.
    assert!(
        c.refresh_token_by_digest("b-current")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert!(matches!(
        c.consume_authorization_code("b-unused", T0 + 11, "jti-4", None)
            .await
            .unwrap(),
        CodeConsumption::Consumed(_)
    ));
    // Nothing left to end the second time.
    let again = c.revoke_client_grants("client-a", T0 + 20).await.unwrap();
    assert_eq!((again.refresh_tokens, again.authorization_codes), (0, 0));
}
