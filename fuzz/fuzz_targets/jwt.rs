//! JWS/JWT parsing and verification: the service-account assertions of RFC 7523 (the JWT grant,
//! Adobe's `/ims/exchange/jwt`, `private_key_jwt` client authentication) through
//! `assertion::peek` and `assertion::validate`, and Gatehouse's own tokens (access tokens,
//! `id_token_hint`) through `keys::verify_own`, all with fixed test keys (fuzz/keys).
//!
//! The first byte picks what the rest is:
//! - 0: a compact JWS as received (garbage, or a seed token signed with the test keys);
//! - 1 / 2: a JSON claims set, signed here with the EC / RSA test key, so the claim rules
//!   behind the signature check are reached too;
//! - 3: a JOSE header spliced onto a token the EC key signed, which must then never verify.
#![no_main]

use std::sync::LazyLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use gatehouse_domain::{
    integration::StoredCertificate,
    token::{
        assertion::{self, AcceptedAudiences, AssertionCheck, AssertionUse, Expected, TrustedCertificate},
        claims::AccessTokenClaims,
        id_token::ID_TOKEN_TYP,
        keys::{self, ACCESS_TOKEN_TYP, SigningAlg, SigningKey, VerifyingKey},
    },
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

/// The clock of every check: inside the test certificates' validity (2026–2036).
const NOW: i64 = 1_900_000_000;
const CLIENT_ID: &str = "0123456789abcdef0123456789abcdef";
const ORG_ID: &str = "0123456789abcdef01234567@GatehouseOrg";
const TECH_ACCOUNT: &str = "0123456789abcdef01234567@techacct.gatehouse";

struct Fixture {
    certificates: Vec<TrustedCertificate>,
    audiences: AcceptedAudiences,
    ec: SigningKey,
    rsa: SigningKey,
    verifying: Vec<VerifyingKey>,
    /// A token the EC key signed, for mode 3.
    signed: String,
}

fn stored(id: &str, pem: &str) -> StoredCertificate {
    let cert = gatehouse_domain::certificate::inspect(pem).expect("test certificate");
    StoredCertificate {
        id: id.into(),
        integration_id: "int-1".into(),
        fingerprint: cert.fingerprint,
        pem: cert.pem,
        not_before: cert.not_before,
        not_after: cert.not_after,
        created_at: cert.not_before,
        revoked_at: None,
    }
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let certificates = vec![
        TrustedCertificate::from_stored(&stored("cert-ec", include_str!("../keys/ec.crt"))).expect("EC certificate"),
        TrustedCertificate::from_stored(&stored("cert-rsa", include_str!("../keys/rsa.crt"))).expect("RSA certificate"),
    ];
    let ec = SigningKey::load(SigningAlg::ES256, include_bytes!("../keys/ec.pk8.der"), "ec").expect("EC key");
    let rsa = SigningKey::load(SigningAlg::RS256, include_bytes!("../keys/rsa.pk8.der"), "rsa").expect("RSA key");
    let mut verifying = Vec::new();
    for (alg, k) in [(SigningAlg::ES256, &ec), (SigningAlg::RS256, &rsa)] {
        let mut jwk = k.public_jwk().expect("JWK");
        jwk.kid = k.kid().to_owned();
        verifying.push(VerifyingKey::from_jwk(alg, jwk).expect("verifying key"));
    }
    let signed = ec
        .sign(
            "JWT",
            &serde_json::json!({"iss": CLIENT_ID, "sub": CLIENT_ID, "exp": NOW + 60,
            "aud": "https://gatehouse.test/oauth/token", "jti": "j1"}),
        )
        .expect("sign");
    Fixture {
        certificates,
        audiences: AcceptedAudiences {
            endpoints: vec![
                "https://gatehouse.test/oauth/token".into(),
                "https://gatehouse.test".into(),
            ],
            client_bases: vec!["https://gatehouse.test".into(), "https://ims-na1.adobelogin.com".into()],
        },
        ec,
        rsa,
        verifying,
        signed,
    }
});

fn header_of(token: &str) -> Option<Map<String, Value>> {
    let h = URL_SAFE_NO_PAD.decode(token.split('.').next()?).ok()?;
    serde_json::from_slice(&h).ok()
}

/// Runs every verification path on `token`; returns whether the assertion rules accepted it.
fn check(token: &str, f: &Fixture) -> bool {
    let _ = assertion::peek(token).map(|u| u.audience_client().map(str::len));
    let mut accepted = false;
    for (usage, require_jti) in [(AssertionUse::Grant, false), (AssertionUse::ClientAuthentication, true)] {
        let check = AssertionCheck {
            now: NOW,
            usage,
            audiences: &f.audiences,
            expected: Expected {
                client_id: CLIENT_ID,
                org_id: Some(ORG_ID),
                technical_account_id: Some(TECH_ACCOUNT),
            },
            require_jti,
        };
        let Ok(v) = assertion::validate(token, &f.certificates, &check) else {
            continue;
        };
        accepted = true;
        // What an accepted assertion must be, whatever it looked like.
        assert!(token.len() <= assertion::MAX_ASSERTION_BYTES);
        let header = header_of(token).expect("an accepted assertion has a JSON header");
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or_default();
        assert!(
            ["RS256", "RS384", "RS512", "ES256"].contains(&alg),
            "accepted alg {alg:?}"
        );
        assert!(!header.contains_key("crit"));
        assert!(v.expires_at + assertion::CLOCK_SKEW > NOW, "expired assertion accepted");
        assert!(
            v.expires_at <= NOW + assertion::MAX_ASSERTION_LIFETIME + assertion::CLOCK_SKEW,
            "overlong assertion accepted"
        );
        match usage {
            AssertionUse::ClientAuthentication => {
                assert_eq!(v.issuer, CLIENT_ID);
                assert_eq!(v.subject, CLIENT_ID);
                assert!(v.jti.is_some());
            }
            AssertionUse::Grant => {
                assert!(v.issuer == CLIENT_ID || v.issuer == ORG_ID);
                assert!(v.subject == CLIENT_ID || v.subject == TECH_ACCOUNT);
            }
        }
        if let Some(j) = &v.jti {
            assert!(!j.is_empty() && j.len() <= assertion::MAX_JTI_LEN);
        }
        if let Some(g) = v.replay_guard(CLIENT_ID) {
            assert_eq!(g.key.len(), 64);
        }
        let p = assertion::peek(token).expect("an accepted assertion can be peeked at");
        // The unverified look that picks the client agrees with the verified claims.
        assert_eq!(p.iss.as_deref(), Some(v.issuer.as_str()));
        assert_eq!(p.sub.as_deref(), Some(v.subject.as_str()));
    }
    for typ in [ACCESS_TOKEN_TYP, ID_TOKEN_TYP] {
        if let Ok(claims) = keys::verify_own(token, typ, &f.verifying) {
            let header = header_of(token).expect("a verified token has a JSON header");
            let t = header.get("typ").and_then(Value::as_str).unwrap_or_default();
            assert!(t.eq_ignore_ascii_case(typ), "typ {t:?} verified as {typ:?}");
            if let Some(c) = AccessTokenClaims::from_verified(claims) {
                let _ = (c.scopes(), c.is_live(NOW));
            }
        }
    }
    accepted
}

/// `iss`, `sub` and `jti` are strings, `aud` a string or an array of strings, `exp`, `nbf` and
/// `iat` numbers — the types RFC 7519 §4.1 gives the registered claims.
fn registered_claims_well_typed(claims: &Map<String, Value>) -> bool {
    let string = |k: &str| claims.get(k).is_none_or(Value::is_string);
    let number = |k: &str| claims.get(k).is_none_or(Value::is_number);
    let aud = claims.get("aud").is_none_or(|a| {
        a.is_string() || a.as_array().is_some_and(|list| list.iter().all(Value::is_string))
    });
    string("iss") && string("sub") && string("jti") && aud && number("exp") && number("nbf") && number("iat")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = &*FIXTURE;
    match mode % 4 {
        0 => {
            if let Ok(token) = std::str::from_utf8(rest) {
                check(token, f);
            }
        }
        m @ (1 | 2) => {
            let Ok(claims) = serde_json::from_slice::<Map<String, Value>>(rest) else {
                return;
            };
            let key = if m == 1 { &f.ec } else { &f.rsa };
            for typ in [ID_TOKEN_TYP, ACCESS_TOKEN_TYP] {
                let token = key.sign(typ, &claims).expect("signing a JSON object");
                check(&token, f);
                // A token signed by a published key with the expected type always verifies, when
                // its registered claims have RFC 7519's types (as every token Gatehouse issues has;
                // a `sub` that is an array is refused by the JWT library before any signature).
                if token.len() <= 16 * 1024 && registered_claims_well_typed(&claims) {
                    let back = keys::verify_own(&token, typ, &f.verifying).expect("own token verifies");
                    assert_eq!(back.len(), claims.len());
                }
            }
        }
        _ => {
            let mut parts = f.signed.splitn(2, '.');
            let (Some(original), Some(rest_of_token)) = (parts.next(), parts.next()) else {
                return;
            };
            let header = URL_SAFE_NO_PAD.encode(rest);
            let token = format!("{header}.{rest_of_token}");
            let accepted = check(&token, f);
            if header != original {
                assert!(!accepted, "a token whose header was changed after signing was accepted");
                assert!(keys::verify_own(&token, ID_TOKEN_TYP, &f.verifying).is_err());
            }
        }
    }
});
