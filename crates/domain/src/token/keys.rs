//! Token-signing keys: generation (the random source is a parameter), loading a stored key for
//! signing, JWK/JWKS rendering (RFC 7517, key IDs are RFC 7638 thumbprints) and JWS compact
//! signing and verification of the tokens Gatehouse itself issues (RFC 7515).
//!
//! Not here: encrypting the private half at rest (the caller seals the PKCS#8 bytes with the
//! master key, [`crate::crypto::MasterKey`]) and choosing which key signs ([`super::rotation`]).
//!
//! Library choice. Gatehouse signs with `ring` directly and verifies untrusted client assertions
//! with `jsonwebtoken` 9.3, whose backend is also `ring`:
//! - `ring` is already in the build (certificate generation uses it), so no second crypto stack
//!   is compiled; `jsonwebtoken` 10/11 offer only aws-lc (a long C build on 2 cores) or the
//!   RustCrypto backend, whose RSA signing is several times slower than `ring`'s.
//! - The token endpoint's throughput is bounded by signing. `jsonwebtoken::encode` re-parses the
//!   private key on every call (for ECDSA that costs about as much as the signature itself);
//!   holding parsed `ring` key pairs does not.
//! - Key *generation* uses `p256` and `rsa`, because `ring` cannot take the caller's random
//!   source (its RNG trait is sealed) and cannot generate RSA keys at all.
//! - RS256 *signing* uses the system's OpenSSL through [`crate::rsa_signer`]: RS256 throughput is
//!   nothing but the RSA private-key operation, which OpenSSL does several times faster than
//!   `ring`. ES256 stays with `ring`, which is as fast as OpenSSL there.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::{CryptoRng, RngCore};
use ring::{
    rand::SystemRandom,
    signature::{self as sig, EcdsaKeyPair, KeyPair, RsaKeyPair},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The algorithms Gatehouse signs its own tokens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    /// ECDSA P-256 with SHA-256: the default (small keys, fast signing).
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a 2048-bit key, for relying parties that only do RSA.
    RS256,
}

impl SigningAlg {
    /// Every algorithm Gatehouse signs with; ID tokens may use either (RS256 is the one OpenID
    /// Connect requires every provider to offer).
    pub const ALL: [Self; 2] = [Self::RS256, Self::ES256];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
        }
    }

    pub fn parse(s: &str) -> Result<Self, crate::DomainError> {
        match s {
            "ES256" => Ok(Self::ES256),
            "RS256" => Ok(Self::RS256),
            _ => Err(crate::DomainError::new(
                "invalid_signing_alg",
                format!("signing algorithm {s:?} must be \"ES256\" or \"RS256\""),
            )),
        }
    }

    fn jwt_alg(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
        }
    }
}

/// Size of generated RSA keys.
pub const RSA_BITS: usize = 2048;

/// Something went wrong with key material (never with a client's input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed: {0}")]
    Generation(String),
    #[error("the stored private key cannot be loaded: {0}")]
    Load(String),
    #[error("signing failed")]
    Sign,
    #[error("the public key is not a valid JWK: {0}")]
    Jwk(String),
}

/// A public key as a JWK (RFC 7517 §4), with `use: sig`, the algorithm and the key ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    pub kid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

impl Jwk {
    fn ec(x: &[u8], y: &[u8]) -> Self {
        let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
        // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
        let kid = thumbprint(&format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#));
        Self {
            kty: "EC".into(),
            use_: "sig".into(),
            alg: SigningAlg::ES256.as_str().into(),
            kid,
            crv: Some("P-256".into()),
            x: Some(x),
            y: Some(y),
            n: None,
            e: None,
        }
    }

    fn rsa(n: &[u8], e: &[u8]) -> Self {
        let (n, e) = (URL_SAFE_NO_PAD.encode(n), URL_SAFE_NO_PAD.encode(e));
        let kid = thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
        Self {
            kty: "RSA".into(),
            use_: "sig".into(),
            alg: SigningAlg::RS256.as_str().into(),
            kid,
            crv: None,
            x: None,
            y: None,
            n: Some(n),
            e: Some(e),
        }
    }

    /// The key for verifying signatures made with it.
    pub fn decoding_key(&self) -> Result<jsonwebtoken::DecodingKey, KeyError> {
        let missing = |m: &str| KeyError::Jwk(format!("missing {m}"));
        match self.kty.as_str() {
            "EC" => jsonwebtoken::DecodingKey::from_ec_components(
                self.x.as_deref().ok_or_else(|| missing("x"))?,
                self.y.as_deref().ok_or_else(|| missing("y"))?,
            ),
            "RSA" => jsonwebtoken::DecodingKey::from_rsa_components(
                self.n.as_deref().ok_or_else(|| missing("n"))?,
                self.e.as_deref().ok_or_else(|| missing("e"))?,
            ),
            other => return Err(KeyError::Jwk(format!("unsupported kty {other:?}"))),
        }
        .map_err(|e| KeyError::Jwk(e.to_string()))
    }
}

/// A JWK Set (RFC 7517 §5), as served at `/oauth/jwks` and `/ims/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

fn thumbprint(canonical: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A freshly generated key: the private half as PKCS#8 DER (to be sealed before storing) and the
/// public half as a JWK whose `kid` is its thumbprint.
pub struct GeneratedKey {
    pub alg: SigningAlg,
    pub private_pkcs8: Vec<u8>,
    pub public_jwk: Jwk,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("alg", &self.alg)
            .field("kid", &self.public_jwk.kid)
            .finish_non_exhaustive()
    }
}

impl GeneratedKey {
    pub fn kid(&self) -> &str {
        &self.public_jwk.kid
    }
}

/// Generates a signing key with the caller's random source.
pub fn generate(alg: SigningAlg, rng: &mut (impl RngCore + CryptoRng)) -> Result<GeneratedKey, KeyError> {
    let private_pkcs8 = match alg {
        SigningAlg::ES256 => {
            use p256::pkcs8::EncodePrivateKey;
            let secret = p256::SecretKey::random(rng);
            secret
                .to_pkcs8_der()
                .map_err(|e| KeyError::Generation(e.to_string()))?
                .as_bytes()
                .to_vec()
        }
        SigningAlg::RS256 => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(rng, RSA_BITS).map_err(|e| KeyError::Generation(e.to_string()))?;
            key.to_pkcs8_der()
                .map_err(|e| KeyError::Generation(e.to_string()))?
                .as_bytes()
                .to_vec()
        }
    };
    // Load it back: proves the bytes are usable and yields the public half in one place.
    let loaded = SigningKey::load(alg, &private_pkcs8, "")?;
    Ok(GeneratedKey {
        alg,
        private_pkcs8,
        public_jwk: loaded.public_jwk()?,
    })
}

// One per key, behind an `Arc`: the size difference costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
enum Pair {
    Ec(EcdsaKeyPair),
    Rsa(crate::rsa_signer::RsaSigner),
}

/// A private key loaded for signing: a parsed key pair (`ring` for ECDSA, OpenSSL for RSA) plus its key ID. Cheap to share
/// behind an `Arc`; signing takes `&self`.
pub struct SigningKey {
    alg: SigningAlg,
    kid: String,
    pair: Pair,
    rng: SystemRandom,
    /// `base64url({"alg":…,"typ":"at+jwt","kid":…})`, computed once.
    access_header: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// `typ` of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

impl SigningKey {
    /// Loads a PKCS#8 private key (as produced by [`generate`], after unsealing) under `kid`.
    /// ECDSA signatures draw their per-signature nonce from the operating system inside `ring`.
    pub fn load(alg: SigningAlg, pkcs8: &[u8], kid: &str) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let pair = match alg {
            SigningAlg::ES256 => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
                    .map_err(|e| KeyError::Load(e.to_string()))?,
            ),
            SigningAlg::RS256 => {
                // ring's parser checks the key as strictly as before (it must be usable anywhere).
                RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| KeyError::Load(e.to_string()))?;
                let key = crate::rsa_signer::RsaSigner::from_pkcs8(pkcs8).map_err(KeyError::Load)?;
                if key.bits() != RSA_BITS {
                    return Err(KeyError::Load(format!("an RSA signing key must have {RSA_BITS} bits")));
                }
                Pair::Rsa(key)
            }
        };
        let access_header = encode_header(alg, ACCESS_TOKEN_TYP, kid);
        Ok(Self {
            alg,
            kid: kid.to_owned(),
            pair,
            rng,
            access_header,
        })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JWK; its `kid` is the RFC 7638 thumbprint.
    pub fn public_jwk(&self) -> Result<Jwk, KeyError> {
        match &self.pair {
            Pair::Ec(p) => {
                let point = p.public_key().as_ref();
                match point {
                    [0x04, rest @ ..] if rest.len() == 64 => Ok(Jwk::ec(&rest[..32], &rest[32..])),
                    _ => Err(KeyError::Load("unexpected EC public key encoding".into())),
                }
            }
            Pair::Rsa(p) => {
                let (n, e) = p.public_components().map_err(KeyError::Load)?;
                Ok(Jwk::rsa(&n, &e))
            }
        }
    }

    /// Signs `claims` as a compact JWS with header `{alg, typ: "at+jwt", kid}` (RFC 9068 §2.1).
    pub fn sign_access_token(&self, claims: &impl Serialize) -> Result<String, KeyError> {
        self.sign_with_header(&self.access_header, claims)
    }

    /// Signs `claims` as a compact JWS with header `{alg, typ, kid}`.
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String, KeyError> {
        let header = encode_header(self.alg, typ, &self.kid);
        self.sign_with_header(&header, claims)
    }

    fn sign_with_header(&self, header_b64: &str, claims: &impl Serialize) -> Result<String, KeyError> {
        let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Sign)?;
        let mut out = String::with_capacity(header_b64.len() + payload.len() * 4 / 3 + 400);
        out.push_str(header_b64);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut out);
        let signature = match &self.pair {
            Pair::Ec(p) => p
                .sign(&self.rng, out.as_bytes())
                .map_err(|_| KeyError::Sign)?
                .as_ref()
                .to_vec(),
            Pair::Rsa(p) => p.sign_sha256(out.as_bytes()).map_err(|_| KeyError::Sign)?,
        };
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut out);
        Ok(out)
    }
}

fn encode_header(alg: SigningAlg, typ: &str, kid: &str) -> String {
    let header = serde_json::json!({ "alg": alg.as_str(), "typ": typ, "kid": kid });
    URL_SAFE_NO_PAD.encode(header.to_string())
}

/// A published public key, ready to verify tokens Gatehouse signed with it.
#[derive(Clone)]
pub struct VerifyingKey {
    pub alg: SigningAlg,
    pub jwk: Jwk,
    key: jsonwebtoken::DecodingKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    pub fn from_jwk(alg: SigningAlg, jwk: Jwk) -> Result<Self, KeyError> {
        if jwk.alg != alg.as_str() {
            return Err(KeyError::Jwk(format!(
                "JWK alg {:?} differs from {}",
                jwk.alg,
                alg.as_str()
            )));
        }
        let key = jwk.decoding_key()?;
        Ok(Self { alg, jwk, key })
    }

    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }
}

/// Why one of Gatehouse's own tokens did not verify. Callers answer "inactive" without detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("the token's type is not {0}")]
    WrongType(&'static str),
    #[error("signed by an unknown or retired key")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
}

/// Verifies the signature of a token Gatehouse issued: the header's `typ` must be `typ`, its `kid`
/// one of `keys`, its `alg` that key's algorithm (so no algorithm substitution is possible), and
/// the signature valid. Returns the payload as JSON; claim checks are the caller's.
pub fn verify_own(
    token: &str,
    typ: &'static str,
    keys: &[VerifyingKey],
) -> Result<serde_json::Map<String, serde_json::Value>, VerifyError> {
    #[derive(Deserialize)]
    struct Header {
        alg: String,
        #[serde(default)]
        typ: Option<String>,
        #[serde(default)]
        kid: Option<String>,
    }
    if token.len() > 16 * 1024 || token.split('.').count() != 3 {
        return Err(VerifyError::Malformed);
    }
    let header_b64 = token.split('.').next().ok_or(VerifyError::Malformed)?;
    let header_json = URL_SAFE_NO_PAD.decode(header_b64).map_err(|_| VerifyError::Malformed)?;
    let header: Header = serde_json::from_slice(&header_json).map_err(|_| VerifyError::Malformed)?;
    if !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(typ)) {
        return Err(VerifyError::WrongType(typ));
    }
    let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
    let key = keys.iter().find(|k| k.jwk.kid == kid).ok_or(VerifyError::UnknownKey)?;
    if header.alg != key.alg.as_str() {
        return Err(VerifyError::BadSignature);
    }
    let mut validation = jsonwebtoken::Validation::new(key.alg.jwt_alg());
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key.key, &validation)
        .map(|data| data.claims)
        .map_err(|_| VerifyError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn loaded(alg: SigningAlg, seed: u64) -> (GeneratedKey, SigningKey, VerifyingKey) {
        let g = generate(alg, &mut StdRng::seed_from_u64(seed)).unwrap();
        let k = SigningKey::load(alg, &g.private_pkcs8, g.kid()).unwrap();
        let v = VerifyingKey::from_jwk(alg, g.public_jwk.clone()).unwrap();
        (g, k, v)
    }

    #[test]
    fn es256_keys_are_deterministic_under_a_seeded_rng_and_round_trip() {
        let a = generate(SigningAlg::ES256, &mut StdRng::seed_from_u64(1)).unwrap();
        let b = generate(SigningAlg::ES256, &mut StdRng::seed_from_u64(1)).unwrap();
        assert_eq!(a.public_jwk, b.public_jwk);
        assert_eq!(a.public_jwk.kty, "EC");
        assert_eq!(a.public_jwk.crv.as_deref(), Some("P-256"));
        assert_eq!(a.kid().len(), 43, "a SHA-256 thumbprint in base64url");
        let (_, k, v) = loaded(SigningAlg::ES256, 1);
        let token = k.sign_access_token(&serde_json::json!({"sub": "x"})).unwrap();
        let claims = verify_own(&token, ACCESS_TOKEN_TYP, &[v]).unwrap();
        assert_eq!(claims["sub"], "x");
    }

    #[test]
    fn rs256_keys_sign_and_verify() {
        let (g, k, v) = loaded(SigningAlg::RS256, 2);
        assert_eq!(g.public_jwk.kty, "RSA");
        assert_eq!(g.public_jwk.e.as_deref(), Some("AQAB"));
        let token = k.sign_access_token(&serde_json::json!({"sub": "y"})).unwrap();
        assert_eq!(verify_own(&token, ACCESS_TOKEN_TYP, &[v]).unwrap()["sub"], "y");
    }

    #[test]
    fn the_header_says_at_jwt_with_the_kid() {
        let (g, k, _) = loaded(SigningAlg::ES256, 3);
        let token = k.sign_access_token(&serde_json::json!({})).unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], g.kid());
    }

    #[test]
    fn verification_refuses_tampering_unknown_keys_and_wrong_types() {
        let (_, k, v) = loaded(SigningAlg::ES256, 4);
        let (_, _, other) = loaded(SigningAlg::ES256, 5);
        let token = k.sign_access_token(&serde_json::json!({"sub": "a"})).unwrap();
        // Another key set.
        assert_eq!(
            verify_own(&token, ACCESS_TOKEN_TYP, std::slice::from_ref(&other)),
            Err(VerifyError::UnknownKey)
        );
        // A changed payload.
        let parts: Vec<&str> = token.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin"}"#);
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(
            verify_own(&forged, ACCESS_TOKEN_TYP, std::slice::from_ref(&v)),
            Err(VerifyError::BadSignature)
        );
        // A token of another type signed by the same key.
        let refresh = k.sign("rt+jwt", &serde_json::json!({})).unwrap();
        assert!(matches!(
            verify_own(&refresh, ACCESS_TOKEN_TYP, std::slice::from_ref(&v)),
            Err(VerifyError::WrongType(_))
        ));
        assert_eq!(verify_own("a.b", ACCESS_TOKEN_TYP, &[v]), Err(VerifyError::Malformed));
    }

    #[test]
    fn algorithm_substitution_is_refused() {
        // An HS256 token "signed" with the public JWK text as the secret, naming a real kid.
        let (g, _, v) = loaded(SigningAlg::ES256, 6);
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{}"}}"#, g.kid()));
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin"}"#);
        let secret = serde_json::to_vec(&g.public_jwk).unwrap();
        let mac = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret),
            format!("{header}.{payload}").as_bytes(),
        );
        let forged = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
        assert_eq!(
            verify_own(&forged, ACCESS_TOKEN_TYP, std::slice::from_ref(&v)),
            Err(VerifyError::BadSignature)
        );
        // alg "none" with an empty signature.
        let none = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{}"}}"#, g.kid()));
        assert_eq!(
            verify_own(&format!("{none}.{payload}."), ACCESS_TOKEN_TYP, &[v]),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn jku_x5u_an_embedded_jwk_and_kid_traversal_name_no_key() {
        // The forger signs with their own key and points at it every way a JWS header can.
        let (_, k, v) = loaded(SigningAlg::ES256, 9);
        let (forger_key, forger, _) = loaded(SigningAlg::ES256, 10);
        let forge = |header: serde_json::Value| {
            forger
                .sign_with_header(
                    &URL_SAFE_NO_PAD.encode(header.to_string()),
                    &serde_json::json!({"sub": "admin"}),
                )
                .unwrap()
        };
        let base = serde_json::json!({"alg": "ES256", "typ": "at+jwt"});
        let with = |extra: serde_json::Value| {
            let mut h = base.clone();
            h.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            h
        };
        let forger_kid = forger_key.kid().to_owned();
        let real_kid = v.kid().to_owned();
        for (header, expected) in [
            // The forger's key by URL or embedded: never fetched, never used.
            (
                with(serde_json::json!({"kid": forger_kid, "jku": "https://evil.example/jwks.json"})),
                VerifyError::UnknownKey,
            ),
            (
                with(serde_json::json!({"kid": forger_kid, "x5u": "https://evil.example/cert.pem"})),
                VerifyError::UnknownKey,
            ),
            (
                with(serde_json::json!({"kid": forger_kid, "jwk": forger_key.public_jwk})),
                VerifyError::UnknownKey,
            ),
            (
                with(serde_json::json!({"jwk": forger_key.public_jwk})),
                VerifyError::UnknownKey,
            ),
            // The real kid with the forger's key alongside: the real key checks the signature.
            (
                with(
                    serde_json::json!({"kid": real_kid, "jwk": forger_key.public_jwk, "jku": "https://evil.example/"}),
                ),
                VerifyError::BadSignature,
            ),
            // A kid naming a path, a URL or an injection is matched exactly, so it names nothing.
            (
                with(serde_json::json!({"kid": "../../../../dev/null"})),
                VerifyError::UnknownKey,
            ),
            (
                with(serde_json::json!({"kid": format!("{real_kid}/../{forger_kid}")})),
                VerifyError::UnknownKey,
            ),
            (
                with(serde_json::json!({"kid": format!("../{real_kid}")})),
                VerifyError::UnknownKey,
            ),
            (with(serde_json::json!({"kid": "' OR '1'='1"})), VerifyError::UnknownKey),
            (with(serde_json::json!({"kid": ""})), VerifyError::UnknownKey),
        ] {
            assert_eq!(
                verify_own(&forge(header.clone()), ACCESS_TOKEN_TYP, std::slice::from_ref(&v)),
                Err(expected),
                "{header}"
            );
        }
        // A kid that is not a string is malformed; the genuine token still verifies.
        assert_eq!(
            verify_own(
                &forge(with(serde_json::json!({"kid": 1}))),
                ACCESS_TOKEN_TYP,
                std::slice::from_ref(&v)
            ),
            Err(VerifyError::Malformed)
        );
        let genuine = k.sign_access_token(&serde_json::json!({"sub": "admin"})).unwrap();
        assert_eq!(verify_own(&genuine, ACCESS_TOKEN_TYP, &[v]).unwrap()["sub"], "admin");
    }

    #[test]
    fn a_jwk_must_match_the_algorithm() {
        let (g, _, _) = loaded(SigningAlg::ES256, 7);
        assert!(VerifyingKey::from_jwk(SigningAlg::RS256, g.public_jwk).is_err());
        assert!(SigningAlg::parse("HS256").is_err());
    }

    #[test]
    fn a_key_loaded_with_the_wrong_algorithm_is_refused() {
        let g = generate(SigningAlg::ES256, &mut StdRng::seed_from_u64(8)).unwrap();
        assert!(SigningKey::load(SigningAlg::RS256, &g.private_pkcs8, "k").is_err());
        assert!(SigningKey::load(SigningAlg::ES256, b"garbage", "k").is_err());
    }
}
