//! Tests of the assertion rules: each one tries to get a bad assertion accepted.

use std::sync::LazyLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use rand::{SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use super::*;

const NOW: Timestamp = 1_800_000_000;
const CLIENT: &str = "0123456789abcdef0123456789abcdef";
const ORG: &str = "0123456789abcdef01234567@GatehouseOrg";
const TECH: &str = "fedcba9876543210fedcba98@techacct.gatehouse";
const BASE: &str = "https://id.example.test";
// 2020-01-01 and 2040-01-01.
const NOT_BEFORE: Timestamp = 1_577_836_800;
const NOT_AFTER: Timestamp = 2_208_988_800;

struct Signer {
    cert: StoredCertificate,
    key: EncodingKey,
}

fn certificate(id: &str, kp: &rcgen::KeyPair) -> StoredCertificate {
    let mut params = rcgen::CertificateParams::new(vec!["service-account".into()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    let cert = params.self_signed(kp).unwrap();
    StoredCertificate {
        id: id.into(),
        integration_id: "int-1".into(),
        fingerprint: format!("fp-{id}"),
        pem: cert.pem(),
        not_before: NOT_BEFORE,
        not_after: NOT_AFTER,
        created_at: 0,
        revoked_at: None,
    }
}

fn rsa_signer(id: &str, seed: u64) -> Signer {
    use rsa::{pkcs1::EncodeRsaPrivateKey, pkcs8::EncodePrivateKey};
    let key = rsa::RsaPrivateKey::new(&mut StdRng::seed_from_u64(seed), 2048).unwrap();
    let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let kp = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap();
    Signer {
        cert: certificate(id, &kp),
        key: EncodingKey::from_rsa_der(key.to_pkcs1_der().unwrap().as_bytes()),
    }
}

fn ec_signer(id: &str) -> Signer {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    Signer {
        cert: certificate(id, &kp),
        key: EncodingKey::from_ec_der(&kp.serialize_der()),
    }
}

static RSA_A: LazyLock<Signer> = LazyLock::new(|| rsa_signer("rsa-a", 1));
static RSA_B: LazyLock<Signer> = LazyLock::new(|| rsa_signer("rsa-b", 2));
static EC_A: LazyLock<Signer> = LazyLock::new(|| ec_signer("ec-a"));

fn trusted(signers: &[&Signer]) -> Vec<TrustedCertificate> {
    signers
        .iter()
        .map(|s| TrustedCertificate::from_stored(&s.cert).unwrap())
        .collect()
}

fn jws(header: Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

fn rs256(signer: &Signer, claims: &Value) -> String {
    jws(
        json!({"alg": "RS256", "typ": "JWT"}),
        claims,
        &signer.key,
        Algorithm::RS256,
    )
}

/// What Adobe's clients send: iss = org, sub = technical account, aud = <base>/c/<client>.
fn adobe_claims() -> Value {
    json!({
        "iss": ORG,
        "sub": TECH,
        "aud": format!("{BASE}/c/{CLIENT}"),
        "exp": NOW + 300,
        "iat": NOW,
        format!("{BASE}/s/ent_documentcloud_sdk"): true,
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

static AUDIENCES: LazyLock<AcceptedAudiences> = LazyLock::new(|| AcceptedAudiences {
    endpoints: vec![format!("{BASE}/oauth/token"), BASE.to_owned()],
    client_bases: vec![BASE.to_owned(), "https://ims-na1.adobelogin.com".to_owned()],
});

fn check(usage: AssertionUse) -> AssertionCheck<'static> {
    AssertionCheck {
        now: NOW,
        usage,
        audiences: &AUDIENCES,
        expected: Expected {
            client_id: CLIENT,
            org_id: Some(ORG),
            technical_account_id: Some(TECH),
        },
        require_jti: false,
    }
}

fn grant(assertion: &str, certs: &[TrustedCertificate]) -> Result<ValidAssertion, AssertionError> {
    validate(assertion, certs, &check(AssertionUse::Grant))
}

#[test]
fn an_adobe_shaped_assertion_is_accepted_with_its_metascopes() {
    let v = grant(&rs256(&RSA_A, &adobe_claims()), &trusted(&[&RSA_A])).unwrap();
    assert_eq!(v.issuer, ORG);
    assert_eq!(v.subject, TECH);
    assert_eq!(v.metascopes, vec!["ent_documentcloud_sdk"]);
    assert_eq!(v.certificate_id, "rsa-a");
    assert_eq!(v.jti, None);
    assert_eq!(v.replay_guard(CLIENT), None);
}

#[test]
fn rs384_rs512_and_es256_are_accepted() {
    for alg in [Algorithm::RS384, Algorithm::RS512] {
        let name = format!("{alg:?}");
        let a = jws(json!({"alg": name}), &adobe_claims(), &RSA_A.key, alg);
        assert!(grant(&a, &trusted(&[&RSA_A])).is_ok(), "{name}");
    }
    let a = jws(json!({"alg": "ES256"}), &adobe_claims(), &EC_A.key, Algorithm::ES256);
    assert_eq!(grant(&a, &trusted(&[&RSA_A, &EC_A])).unwrap().certificate_id, "ec-a");
}

#[test]
fn alg_none_is_refused() {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(adobe_claims().to_string());
    for a in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
        let e = grant(&a, &trusted(&[&RSA_A])).unwrap_err();
        assert!(
            matches!(e, AssertionError::AlgorithmNotAllowed(_) | AssertionError::Malformed(_)),
            "{e:?}"
        );
    }
    let e = grant(&format!("{header}.{payload}."), &trusted(&[&RSA_A])).unwrap_err();
    assert_eq!(e, AssertionError::AlgorithmNotAllowed("none".into()));
}

#[test]
fn hs256_signed_with_the_public_certificate_is_refused() {
    // The classic key-confusion forgery: HMAC keyed with the (public) certificate or its key.
    let cert_pem = RSA_A.cert.pem.as_bytes();
    for secret in [cert_pem.to_vec(), cert_pem[27..].to_vec()] {
        let a = jws(
            json!({"alg": "HS256", "typ": "JWT"}),
            &adobe_claims(),
            &EncodingKey::from_secret(&secret),
            Algorithm::HS256,
        );
        assert_eq!(
            grant(&a, &trusted(&[&RSA_A])).unwrap_err(),
            AssertionError::AlgorithmNotAllowed("HS256".into())
        );
    }
    for alg in ["HS384", "HS512", "PS256", "EdDSA", "ES384"] {
        let a = jws(json!({"alg": alg}), &adobe_claims(), &RSA_A.key, Algorithm::RS256);
        assert!(
            matches!(
                grant(&a, &trusted(&[&RSA_A])),
                Err(AssertionError::AlgorithmNotAllowed(_))
            ),
            "{alg}"
        );
    }
}

#[test]
fn an_algorithm_that_does_not_fit_the_key_is_refused() {
    // Header says ES256 but only an RSA certificate exists, and vice versa.
    let a = jws(json!({"alg": "ES256"}), &adobe_claims(), &EC_A.key, Algorithm::ES256);
    assert_eq!(grant(&a, &trusted(&[&RSA_A])), Err(AssertionError::SignatureInvalid));
    let a = rs256(&RSA_A, &adobe_claims());
    assert_eq!(grant(&a, &trusted(&[&EC_A])), Err(AssertionError::SignatureInvalid));
}

#[test]
fn critical_headers_are_refused() {
    let a = jws(
        json!({"alg": "RS256", "crit": ["exp"]}),
        &adobe_claims(),
        &RSA_A.key,
        Algorithm::RS256,
    );
    assert_eq!(grant(&a, &trusted(&[&RSA_A])), Err(AssertionError::CriticalHeader));
}

#[test]
fn jku_x5u_an_embedded_jwk_and_a_kid_point_at_no_key_but_the_integrations_certificates() {
    // RSA_B is the forger's key; only RSA_A's certificate is the integration's.
    let forger_pem = RSA_B.cert.pem.replace('\n', "");
    let headers = [
        json!({"alg": "RS256", "jku": "https://evil.example/jwks.json"}),
        json!({"alg": "RS256", "x5u": "https://evil.example/cert.pem"}),
        json!({"alg": "RS256", "x5c": [forger_pem]}),
        json!({"alg": "RS256", "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}),
        json!({"alg": "RS256", "kid": "rsa-a"}),
        json!({"alg": "RS256", "kid": "rsa-b"}),
        json!({"alg": "RS256", "kid": "../../../../dev/null"}),
        json!({"alg": "RS256", "kid": "../rsa-a"}),
        json!({"alg": "RS256", "kid": "rsa-a' OR '1'='1"}),
    ];
    for header in &headers {
        let forged = jws(header.clone(), &adobe_claims(), &RSA_B.key, Algorithm::RS256);
        assert_eq!(
            grant(&forged, &trusted(&[&RSA_A])),
            Err(AssertionError::SignatureInvalid),
            "{header}"
        );
    }
    // The same headers on an assertion the integration's own key signed change nothing.
    for header in headers {
        let genuine = jws(header.clone(), &adobe_claims(), &RSA_A.key, Algorithm::RS256);
        assert_eq!(
            grant(&genuine, &trusted(&[&RSA_A])).unwrap().certificate_id,
            "rsa-a",
            "{header}"
        );
    }
}

#[test]
fn a_signature_by_another_key_or_a_changed_payload_is_refused() {
    assert_eq!(
        grant(&rs256(&RSA_B, &adobe_claims()), &trusted(&[&RSA_A])),
        Err(AssertionError::SignatureInvalid)
    );
    let good = rs256(&RSA_A, &adobe_claims());
    let parts: Vec<&str> = good.split('.').collect();
    let other = URL_SAFE_NO_PAD.encode(with(adobe_claims(), "sub", json!("someone-else")).to_string());
    let forged = format!("{}.{}.{}", parts[0], other, parts[2]);
    assert_eq!(
        grant(&forged, &trusted(&[&RSA_A])),
        Err(AssertionError::SignatureInvalid)
    );
}

#[test]
fn any_active_certificate_may_sign() {
    let certs = trusted(&[&RSA_A, &RSA_B]);
    assert_eq!(
        grant(&rs256(&RSA_B, &adobe_claims()), &certs).unwrap().certificate_id,
        "rsa-b"
    );
}

#[test]
fn a_removed_or_expired_certificate_no_longer_verifies() {
    let mut removed = RSA_A.cert.clone();
    removed.revoked_at = Some(NOW - 1);
    let certs = vec![TrustedCertificate::from_stored(&removed).unwrap()];
    assert_eq!(
        grant(&rs256(&RSA_A, &adobe_claims()), &certs),
        Err(AssertionError::NoActiveCertificate)
    );
    // Next to an active certificate, the removed one's key is just a wrong key.
    let certs = vec![
        TrustedCertificate::from_stored(&removed).unwrap(),
        TrustedCertificate::from_stored(&RSA_B.cert).unwrap(),
    ];
    assert_eq!(
        grant(&rs256(&RSA_A, &adobe_claims()), &certs),
        Err(AssertionError::SignatureInvalid)
    );
    let mut expired = RSA_A.cert.clone();
    expired.not_after = NOW - 1;
    let certs = vec![TrustedCertificate::from_stored(&expired).unwrap()];
    assert_eq!(
        grant(&rs256(&RSA_A, &adobe_claims()), &certs),
        Err(AssertionError::NoActiveCertificate)
    );
    let mut future = RSA_A.cert.clone();
    future.not_before = NOW + 3_600;
    let certs = vec![TrustedCertificate::from_stored(&future).unwrap()];
    assert_eq!(
        grant(&rs256(&RSA_A, &adobe_claims()), &certs),
        Err(AssertionError::NoActiveCertificate)
    );
}

#[test]
fn exp_is_required_numeric_unexpired_and_at_most_a_day_away() {
    let certs = trusted(&[&RSA_A]);
    let try_claims = |c: Value| grant(&rs256(&RSA_A, &c), &certs);
    assert_eq!(
        try_claims(without(adobe_claims(), "exp")),
        Err(AssertionError::MissingClaim("exp"))
    );
    assert_eq!(
        try_claims(with(adobe_claims(), "exp", json!((NOW + 300).to_string()))),
        Err(AssertionError::InvalidClaim("exp"))
    );
    assert_eq!(
        try_claims(with(adobe_claims(), "exp", json!(NOW - CLOCK_SKEW))),
        Err(AssertionError::Expired)
    );
    assert!(try_claims(with(adobe_claims(), "exp", json!(NOW - CLOCK_SKEW + 1))).is_ok());
    assert!(try_claims(with(adobe_claims(), "exp", json!(NOW + 86_400))).is_ok());
    assert!(try_claims(with(adobe_claims(), "exp", json!((NOW + 300) as f64 + 0.5))).is_ok());
    assert_eq!(
        try_claims(with(adobe_claims(), "exp", json!(NOW + 86_400 + CLOCK_SKEW + 1))),
        Err(AssertionError::LifetimeTooLong)
    );
}

#[test]
fn not_yet_valid_and_future_issued_assertions_are_refused() {
    let certs = trusted(&[&RSA_A]);
    let try_claims = |c: Value| grant(&rs256(&RSA_A, &c), &certs);
    assert_eq!(
        try_claims(with(adobe_claims(), "nbf", json!(NOW + CLOCK_SKEW + 1))),
        Err(AssertionError::NotYetValid)
    );
    assert!(try_claims(with(adobe_claims(), "nbf", json!(NOW + CLOCK_SKEW))).is_ok());
    assert_eq!(
        try_claims(with(adobe_claims(), "iat", json!(NOW + 120))),
        Err(AssertionError::IssuedInFuture)
    );
    assert_eq!(
        try_claims(with(adobe_claims(), "iat", json!("now"))),
        Err(AssertionError::InvalidClaim("iat"))
    );
}

#[test]
fn the_audience_must_be_this_service_and_this_client() {
    let certs = trusted(&[&RSA_A]);
    let try_aud = |aud: Value| grant(&rs256(&RSA_A, &with(adobe_claims(), "aud", aud)), &certs);
    assert!(try_aud(json!(format!("{BASE}/oauth/token"))).is_ok());
    assert!(try_aud(json!(BASE)).is_ok());
    assert!(try_aud(json!(format!("https://ims-na1.adobelogin.com/c/{CLIENT}"))).is_ok());
    assert!(try_aud(json!(["https://elsewhere.test", format!("{BASE}/c/{CLIENT}")])).is_ok());
    assert_eq!(
        try_aud(json!("https://elsewhere.test/oauth/token")),
        Err(AssertionError::WrongAudience)
    );
    assert_eq!(
        try_aud(json!(format!("https://ims-na1-stg1.adobelogin.com/c/{CLIENT}"))),
        Err(AssertionError::WrongAudience)
    );
    assert_eq!(
        try_aud(json!(format!("{BASE}/c/ffffffffffffffffffffffffffffffff"))),
        Err(AssertionError::AudienceOtherClient)
    );
    assert_eq!(
        try_aud(json!([format!("{BASE}/oauth/token"), format!("{BASE}/c/someoneelse1")])),
        Err(AssertionError::AudienceOtherClient)
    );
    assert_eq!(try_aud(json!(42)), Err(AssertionError::InvalidClaim("aud")));
    assert_eq!(
        grant(&rs256(&RSA_A, &without(adobe_claims(), "aud")), &certs),
        Err(AssertionError::MissingClaim("aud"))
    );
}

#[test]
fn issuer_and_subject_must_be_the_client_or_its_org_and_account() {
    let certs = trusted(&[&RSA_A]);
    let try_claims = |c: Value| grant(&rs256(&RSA_A, &c), &certs);
    assert!(try_claims(with(adobe_claims(), "iss", json!(CLIENT))).is_ok());
    assert!(try_claims(with(adobe_claims(), "sub", json!(CLIENT))).is_ok());
    assert_eq!(
        try_claims(with(
            adobe_claims(),
            "iss",
            json!("ffffffffffffffffffffffff@GatehouseOrg")
        )),
        Err(AssertionError::WrongIssuer)
    );
    assert_eq!(
        try_claims(with(
            adobe_claims(),
            "sub",
            json!("ffffffffffffffffffffffff@techacct.gatehouse")
        )),
        Err(AssertionError::WrongSubject)
    );
    assert_eq!(
        try_claims(without(adobe_claims(), "sub")),
        Err(AssertionError::MissingClaim("sub"))
    );
    assert_eq!(
        try_claims(with(adobe_claims(), "iss", json!(["x"]))),
        Err(AssertionError::InvalidClaim("iss"))
    );
}

#[test]
fn client_authentication_needs_iss_and_sub_equal_to_the_client_and_a_jti() {
    let certs = trusted(&[&RSA_A]);
    let mut c = check(AssertionUse::ClientAuthentication);
    c.require_jti = true;
    let claims = json!({
        "iss": CLIENT, "sub": CLIENT, "aud": format!("{BASE}/oauth/token"),
        "exp": NOW + 60, "jti": "abc-1",
    });
    let v = validate(&rs256(&RSA_A, &claims), &certs, &c).unwrap();
    let guard = v.replay_guard(CLIENT).unwrap();
    assert_eq!(guard.expires_at, NOW + 60 + CLOCK_SKEW);
    assert_eq!(guard.key, replay_key(CLIENT, "abc-1"));
    assert_eq!(
        validate(&rs256(&RSA_A, &with(claims.clone(), "iss", json!(ORG))), &certs, &c),
        Err(AssertionError::WrongIssuer)
    );
    assert_eq!(
        validate(&rs256(&RSA_A, &with(claims.clone(), "sub", json!(TECH))), &certs, &c),
        Err(AssertionError::WrongSubject)
    );
    assert_eq!(
        validate(&rs256(&RSA_A, &without(claims.clone(), "jti")), &certs, &c),
        Err(AssertionError::JtiRequired)
    );
    assert_eq!(
        validate(&rs256(&RSA_A, &with(claims, "jti", json!(7))), &certs, &c),
        Err(AssertionError::InvalidClaim("jti"))
    );
}

#[test]
fn a_replayed_jti_is_refused_with_the_code_of_its_use() {
    assert!(check_replay(true, AssertionUse::Grant).is_ok());
    let e = check_replay(false, AssertionUse::Grant).unwrap_err();
    assert_eq!(
        (e.error().as_str(), e.reason()),
        ("invalid_grant", "assertion_replayed")
    );
    assert_eq!(e.adobe_code(), "invalid_jti");
    let e = check_replay(false, AssertionUse::ClientAuthentication).unwrap_err();
    assert_eq!(e.error().as_str(), "invalid_client");
    // The same jti from two clients are different keys.
    assert_ne!(replay_key("client-a", "1"), replay_key("client-b", "1"));
    assert_ne!(replay_key("ab", "c"), replay_key("a", "bc"));
}

#[test]
fn metascopes_match_by_suffix_whatever_the_base() {
    let claims = json!({
        "iss": ORG, "sub": TECH, "aud": format!("{BASE}/c/{CLIENT}"), "exp": NOW + 60,
        "https://ims-na1.adobelogin.com/s/ent_user_sdk": true,
        "http://127.0.0.1:8080/s/ent_analytics_bulk_ingest_sdk": true,
        "https://id.example.test/s/ent_disabled_sdk": false,
        "not-a-url/s/ent_x": true,
        "https://id.example.test/s/": true,
    });
    let v = grant(&rs256(&RSA_A, &claims), &trusted(&[&RSA_A])).unwrap();
    assert_eq!(v.metascopes, vec!["ent_analytics_bulk_ingest_sdk", "ent_user_sdk"]);
}

#[test]
fn malformed_input_is_refused_before_any_verification() {
    let certs = trusted(&[&RSA_A]);
    for bad in ["", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30.sig"] {
        assert!(matches!(grant(bad, &certs), Err(AssertionError::Malformed(_))), "{bad}");
    }
    let long = "a".repeat(MAX_ASSERTION_BYTES + 1);
    assert!(matches!(grant(&long, &certs), Err(AssertionError::Malformed(_))));
    // A signed payload that is not a JSON object.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#);
    let payload = URL_SAFE_NO_PAD.encode("[1,2]");
    let msg = format!("{header}.{payload}");
    let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &RSA_A.key, Algorithm::RS256).unwrap();
    assert!(matches!(
        grant(&format!("{msg}.{sig}"), &certs),
        Err(AssertionError::Malformed(_))
    ));
}

#[test]
fn errors_carry_the_code_of_their_use() {
    let e = AssertionUse::Grant.error(AssertionError::Expired);
    assert_eq!(e.error().as_str(), "invalid_grant");
    let e = AssertionUse::ClientAuthentication.error(AssertionError::Expired);
    assert_eq!(e.error().as_str(), "invalid_client");
}

#[test]
fn peek_finds_the_claimed_client_without_trusting_it() {
    let u = peek(&rs256(&RSA_A, &adobe_claims())).unwrap();
    assert_eq!(u.audience_client(), Some(CLIENT));
    assert_eq!(u.iss.as_deref(), Some(ORG));
    assert_eq!(peek("garbage"), None);
}

#[test]
fn unsupported_certificates_cannot_verify() {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let c = certificate("p384", &kp);
    assert_eq!(
        TrustedCertificate::from_stored(&c).unwrap_err().code,
        "certificate_unsupported_key"
    );
    let mut broken = RSA_A.cert.clone();
    broken.pem = "not a pem".into();
    assert!(TrustedCertificate::from_stored(&broken).is_err());
}
