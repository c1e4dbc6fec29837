//! JWT assertions from service accounts (RFC 7523): as an authorization grant (§2.1, and Adobe's
//! `/ims/exchange/jwt`) and for `private_key_jwt` client authentication (§2.2, OIDC Core §9).
//!
//! The rules, in the order they are checked (RFC 7523 §3):
//! 1. a compact JWS of at most 16 KB whose `alg` is RS256, RS384, RS512 or ES256 — never `none`
//!    or HS* (an HMAC keyed with a public certificate is forgeable) — and no `crit` header;
//! 2. the signature verifies with one of the integration's certificates that is not revoked and
//!    is within its validity period (the key type must fit the algorithm);
//! 3. `exp` present, not passed, and at most 24 h ahead; `nbf` and `iat`, if present, not in the
//!    future (30 s of clock skew allowed throughout);
//! 4. `aud` names this token service: one of its token endpoint URLs, its issuer, or
//!    `<base>/c/<client_id>` for one of the configured bases — and no other client;
//! 5. `iss` is the client ID or the owning organization's ID; `sub` the technical account ID or
//!    the client ID (for client authentication both must be the client ID);
//! 6. `jti` (required where the caller says so) has not been seen before: the caller records
//!    [`ValidAssertion::replay_guard`] in the store and passes the answer to [`check_replay`];
//! 7. Adobe metascope claims `<base>/s/<code>: true` are collected by their `/s/<code>` suffix;
//!    [`super::scope::check_metascopes`] matches them against the subscriptions.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use x509_parser::{
    oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION},
    prelude::FromDer,
};

use crate::{DomainError, Timestamp, integration::StoredCertificate};

use super::error::{AssertionError, TokenError};

/// Assertions longer than this are refused before any parsing.
pub const MAX_ASSERTION_BYTES: usize = 16 * 1024;
/// Clock skew tolerated on `exp`, `nbf`, `iat` and certificate validity, in seconds.
pub const CLOCK_SKEW: i64 = 30;
/// The furthest `exp` may be in the future, in seconds.
pub const MAX_ASSERTION_LIFETIME: i64 = 86_400;
/// Longest accepted `jti`.
pub const MAX_JTI_LEN: usize = 256;

/// What the assertion is used for; decides the RFC 6749 error code of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionUse {
    /// RFC 7523 §2.1 grant (and the Adobe exchange): failures are `invalid_grant`.
    Grant,
    /// RFC 7523 §2.2 client authentication: failures are `invalid_client`.
    ClientAuthentication,
}

impl AssertionUse {
    pub fn error(self, e: AssertionError) -> TokenError {
        match self {
            Self::Grant => TokenError::Assertion(e),
            Self::ClientAuthentication => TokenError::ClientAssertion(e),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyFamily {
    Rsa,
    EcP256,
}

/// A stored certificate with its public key parsed, ready to verify assertions. Build these once
/// per integration and cache them; parsing X.509 on every request is wasted work.
#[derive(Clone)]
pub struct TrustedCertificate {
    pub id: String,
    pub fingerprint: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub revoked_at: Option<Timestamp>,
    family: KeyFamily,
    key: DecodingKey,
}

impl std::fmt::Debug for TrustedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedCertificate")
            .field("id", &self.id)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl TrustedCertificate {
    /// Parses the public key out of a stored certificate (RSA or EC P-256).
    pub fn from_stored(c: &StoredCertificate) -> Result<Self, DomainError> {
        let bad = |m: String| DomainError::new("certificate_malformed", m);
        let (_, pem) = x509_parser::pem::parse_x509_pem(c.pem.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let (_, x509) =
            x509_parser::certificate::X509Certificate::from_der(&pem.contents).map_err(|e| bad(e.to_string()))?;
        let spki = x509.public_key();
        let data: &[u8] = &spki.subject_public_key.data;
        let (family, key) = if spki.algorithm.algorithm == OID_PKCS1_RSAENCRYPTION {
            (KeyFamily::Rsa, DecodingKey::from_rsa_der(data))
        } else if spki.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY
            && spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .is_some_and(|o| o == OID_EC_P256)
        {
            (KeyFamily::EcP256, DecodingKey::from_ec_der(data))
        } else {
            return Err(DomainError::new(
                "certificate_unsupported_key",
                "only RSA and EC P-256 certificates can verify assertions",
            ));
        };
        Ok(Self {
            id: c.id.clone(),
            fingerprint: c.fingerprint.clone(),
            not_before: c.not_before,
            not_after: c.not_after,
            revoked_at: c.revoked_at,
            family,
            key,
        })
    }

    fn usable_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none_or(|r| r > now) && self.not_before <= now + CLOCK_SKEW && now < self.not_after
    }
}

/// The audiences that name this token service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptedAudiences {
    /// Exact URLs: the token endpoints and the issuer.
    pub endpoints: Vec<String>,
    /// Bases `B` for which `B/c/<client_id>` is accepted (Gatehouse's public URL, optionally Adobe's).
    pub client_bases: Vec<String>,
}

enum AudienceMatch {
    Ours,
    OtherClient,
    NotOurs,
}

impl AcceptedAudiences {
    fn classify(&self, aud: &str, client_id: &str) -> AudienceMatch {
        let aud_t = aud.trim_end_matches('/');
        if self.endpoints.iter().any(|e| e.trim_end_matches('/') == aud_t) {
            return AudienceMatch::Ours;
        }
        if let Some((base, client)) = aud_t.rsplit_once("/c/")
            && self.client_bases.iter().any(|b| b.trim_end_matches('/') == base)
        {
            return if client == client_id {
                AudienceMatch::Ours
            } else {
                AudienceMatch::OtherClient
            };
        }
        AudienceMatch::NotOurs
    }
}

/// Who the assertion must be from.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub client_id: &'a str,
    pub org_id: Option<&'a str>,
    pub technical_account_id: Option<&'a str>,
}

/// Everything the checks need besides the assertion and the certificates.
#[derive(Debug, Clone, Copy)]
pub struct AssertionCheck<'a> {
    pub now: Timestamp,
    pub usage: AssertionUse,
    pub audiences: &'a AcceptedAudiences,
    pub expected: Expected<'a>,
    /// Refuse assertions without `jti` (client authentication; optional for the grant, as
    /// Adobe's clients do not send one).
    pub require_jti: bool,
}

/// An assertion that passed every rule but the replay check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidAssertion {
    pub issuer: String,
    pub subject: String,
    pub expires_at: Timestamp,
    pub jti: Option<String>,
    /// Metascope codes (`…/s/<code>: true`), sorted.
    pub metascopes: Vec<String>,
    /// The certificate that verified it.
    pub certificate_id: String,
}

/// What the caller must record in the store (atomically, insert-if-absent) to detect replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayGuard {
    /// SHA-256 of client ID and `jti`, hex: `jti`s are unique per client, and the key has a bounded size.
    pub key: String,
    pub client_id: String,
    /// Until when the `jti` must be remembered: as long as the assertion could still be accepted.
    pub expires_at: Timestamp,
}

impl ValidAssertion {
    pub fn replay_guard(&self, client_id: &str) -> Option<ReplayGuard> {
        self.jti.as_ref().map(|jti| ReplayGuard {
            key: replay_key(client_id, jti),
            client_id: client_id.to_owned(),
            expires_at: self.expires_at + CLOCK_SKEW,
        })
    }
}

/// The stored key for a client's `jti`.
pub fn replay_key(client_id: &str, jti: &str) -> String {
    let mut h = Sha256::new();
    h.update(client_id.as_bytes());
    h.update([0u8]);
    h.update(jti.as_bytes());
    hex::encode(h.finalize())
}

/// The replay rule: a `jti` may be used once. `first_use` is the store's answer to recording it.
pub fn check_replay(first_use: bool, usage: AssertionUse) -> Result<(), TokenError> {
    if first_use {
        Ok(())
    } else {
        Err(usage.error(AssertionError::Replayed))
    }
}

/// The unverified `iss`, `sub` and `aud` of an assertion, to find which client it claims to be
/// from before its certificates are loaded. Nothing here may be trusted until [`validate`] passes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unverified {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Vec<String>,
}

impl Unverified {
    /// The client named by an `aud` of the form `<base>/c/<client_id>` (Adobe's exchange).
    pub fn audience_client(&self) -> Option<&str> {
        self.aud
            .iter()
            .find_map(|a| a.trim_end_matches('/').rsplit_once("/c/").map(|(_, c)| c))
    }
}

pub fn peek(assertion: &str) -> Option<Unverified> {
    if assertion.len() > MAX_ASSERTION_BYTES {
        return None;
    }
    let payload = assertion.split('.').nth(1)?;
    let claims: Map<String, Value> = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let s = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(Unverified {
        iss: s("iss"),
        sub: s("sub"),
        aud: audiences(claims.get("aud")).unwrap_or_default(),
    })
}

fn audiences(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items.iter().map(|i| i.as_str().map(str::to_owned)).collect(),
        _ => None,
    }
}

const ALLOWED: [(&str, Algorithm, KeyFamily); 4] = [
    ("RS256", Algorithm::RS256, KeyFamily::Rsa),
    ("RS384", Algorithm::RS384, KeyFamily::Rsa),
    ("RS512", Algorithm::RS512, KeyFamily::Rsa),
    ("ES256", Algorithm::ES256, KeyFamily::EcP256),
];

/// Checks an assertion against the integration's certificates and the rules above (except replay).
pub fn validate(
    assertion: &str,
    certificates: &[TrustedCertificate],
    check: &AssertionCheck<'_>,
) -> Result<ValidAssertion, AssertionError> {
    let malformed = |m: &str| AssertionError::Malformed(m.to_owned());
    if assertion.len() > MAX_ASSERTION_BYTES {
        return Err(malformed("too long"));
    }
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header_b64, _, _] = parts.as_slice() else {
        return Err(malformed("expected three dot-separated parts"));
    };
    let header: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or_else(|| malformed("the header is not base64url JSON"))?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("no alg"))?;
    let &(_, algorithm, family) = ALLOWED
        .iter()
        .find(|(name, _, _)| *name == alg)
        .ok_or_else(|| AssertionError::AlgorithmNotAllowed(alg.chars().take(20).collect()))?;
    if header.contains_key("crit") {
        return Err(AssertionError::CriticalHeader);
    }

    let usable: Vec<&TrustedCertificate> = certificates.iter().filter(|c| c.usable_at(check.now)).collect();
    if usable.is_empty() {
        return Err(AssertionError::NoActiveCertificate);
    }
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let mut verified = None;
    for cert in usable.iter().filter(|c| c.family == family) {
        match jsonwebtoken::decode::<Map<String, Value>>(assertion, &cert.key, &validation) {
            Ok(data) => {
                verified = Some((data.claims, cert.id.clone()));
                break;
            }
            Err(e) => match e.kind() {
                ErrorKind::InvalidSignature
                | ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidEcdsaKey
                | ErrorKind::InvalidRsaKey(_)
                | ErrorKind::InvalidKeyFormat => {}
                _ => return Err(malformed("the payload is not base64url JSON")),
            },
        }
    }
    let (claims, certificate_id) = verified.ok_or(AssertionError::SignatureInvalid)?;
    check_claims(&claims, check, certificate_id)
}

fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<Timestamp>, AssertionError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            // RFC 7519 §2 allows fractional seconds.
            (None, Some(f)) if f.is_finite() && f.abs() < 1e15 => Ok(Some(f.floor() as i64)),
            _ => Err(AssertionError::InvalidClaim(name)),
        },
        Some(_) => Err(AssertionError::InvalidClaim(name)),
    }
}

fn string_claim(claims: &Map<String, Value>, name: &'static str) -> Result<String, AssertionError> {
    match claims.get(name) {
        None => Err(AssertionError::MissingClaim(name)),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(AssertionError::InvalidClaim(name)),
    }
}

fn check_claims(
    claims: &Map<String, Value>,
    check: &AssertionCheck<'_>,
    certificate_id: String,
) -> Result<ValidAssertion, AssertionError> {
    let now = check.now;
    let exp = numeric_date(claims, "exp")?.ok_or(AssertionError::MissingClaim("exp"))?;
    if now >= exp.saturating_add(CLOCK_SKEW) {
        return Err(AssertionError::Expired);
    }
    if exp > now.saturating_add(MAX_ASSERTION_LIFETIME + CLOCK_SKEW) {
        return Err(AssertionError::LifetimeTooLong);
    }
    if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now + CLOCK_SKEW) {
        return Err(AssertionError::NotYetValid);
    }
    if numeric_date(claims, "iat")?.is_some_and(|iat| iat > now + CLOCK_SKEW) {
        return Err(AssertionError::IssuedInFuture);
    }

    let aud = audiences(claims.get("aud")).ok_or(if claims.contains_key("aud") {
        AssertionError::InvalidClaim("aud")
    } else {
        AssertionError::MissingClaim("aud")
    })?;
    let classes: Vec<AudienceMatch> = aud
        .iter()
        .map(|a| check.audiences.classify(a, check.expected.client_id))
        .collect();
    if classes.iter().any(|c| matches!(c, AudienceMatch::OtherClient)) {
        return Err(AssertionError::AudienceOtherClient);
    }
    if !classes.iter().any(|c| matches!(c, AudienceMatch::Ours)) {
        return Err(AssertionError::WrongAudience);
    }

    let e = check.expected;
    let issuer = string_claim(claims, "iss")?;
    let subject = string_claim(claims, "sub")?;
    match check.usage {
        AssertionUse::ClientAuthentication => {
            if issuer != e.client_id {
                return Err(AssertionError::WrongIssuer);
            }
            if subject != e.client_id {
                return Err(AssertionError::WrongSubject);
            }
        }
        AssertionUse::Grant => {
            if issuer != e.client_id && Some(issuer.as_str()) != e.org_id {
                return Err(AssertionError::WrongIssuer);
            }
            if subject != e.client_id && Some(subject.as_str()) != e.technical_account_id {
                return Err(AssertionError::WrongSubject);
            }
        }
    }

    let jti = match claims.get("jti") {
        None => None,
        Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_JTI_LEN => Some(s.clone()),
        Some(_) => return Err(AssertionError::InvalidClaim("jti")),
    };
    if check.require_jti && jti.is_none() {
        return Err(AssertionError::JtiRequired);
    }

    Ok(ValidAssertion {
        issuer,
        subject,
        expires_at: exp,
        jti,
        metascopes: metascopes(claims),
        certificate_id,
    })
}

/// Adobe metascope claims: `<base>/s/<code>: true`, whatever the base (clients send their own
/// configured base, or Adobe's when given full URLs). Claims set to anything but `true` are ignored.
fn metascopes(claims: &Map<String, Value>) -> Vec<String> {
    claims
        .iter()
        .filter(|(_, v)| **v == Value::Bool(true))
        .filter(|(k, _)| k.starts_with("https://") || k.starts_with("http://"))
        .filter_map(|(k, _)| k.rsplit_once("/s/").map(|(_, code)| code))
        .filter(|code| crate::service::parse_scope(code).is_ok() && !code.contains('/'))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
#[path = "assertion_tests.rs"]
mod tests;
