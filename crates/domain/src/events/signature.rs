//! Standard Webhooks signatures (standard-webhooks spec v1.0.0): every delivery carries
//! `webhook-id` (stable across retries of one delivery), `webhook-timestamp` (Unix seconds of the
//! attempt) and `webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per live
//! secret, space-separated. Secrets are 32 random bytes shown as `whsec_<base64>`.
//!
//! Rotation keeps the previous secret signing for [`ROTATION_OVERLAP`] seconds, so receivers can
//! switch at their own pace: during the overlap every delivery carries two signatures.

use base64::{Engine, engine::general_purpose::STANDARD};
use rand::{CryptoRng, RngCore};
use ring::hmac;

use crate::{DomainError, Timestamp};

/// Prefix of symmetric Standard Webhooks secrets.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a generated secret.
pub const SECRET_BYTES: usize = 32;
/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP: i64 = 86_400;

/// A webhook signing secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

impl WebhookSecret {
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut b = vec![0u8; SECRET_BYTES];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// The raw key bytes (what is sealed at rest).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, DomainError> {
        if !(24..=64).contains(&bytes.len()) {
            return Err(DomainError::new(
                "invalid_webhook_secret",
                "a webhook secret must be 24–64 bytes",
            ));
        }
        Ok(Self(bytes))
    }

    /// Parses `whsec_<base64>`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::new("invalid_webhook_secret", "a webhook secret looks like whsec_<base64>");
        let b64 = s.strip_prefix(SECRET_PREFIX).ok_or_else(bad)?;
        let bytes = STANDARD.decode(b64).map_err(|_| bad())?;
        Self::from_bytes(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The form shown to the owner: `whsec_<base64>`.
    pub fn render(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, msg_id: &str, timestamp: Timestamp, body: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(msg_id.as_bytes());
        ctx.update(b".");
        ctx.update(timestamp.to_string().as_bytes());
        ctx.update(b".");
        ctx.update(body);
        format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
    }

    /// Does one of the `v1` signatures in a `webhook-signature` header match? (For receivers
    /// written in Rust and for tests; constant-time.)
    pub fn verify(&self, msg_id: &str, timestamp: Timestamp, body: &[u8], header: &str) -> bool {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        let signed = format!("{msg_id}.{timestamp}.");
        let mut content = signed.into_bytes();
        content.extend_from_slice(body);
        header.split(' ').any(|part| {
            let Some(("v1", sig)) = part.split_once(',') else {
                return false;
            };
            STANDARD
                .decode(sig)
                .is_ok_and(|sig| hmac::verify(&key, &content, &sig).is_ok())
        })
    }
}

/// A registration's secrets at one instant: the current one and, during rotation, the previous.
#[derive(Debug, Clone)]
pub struct SecretRing {
    pub current: WebhookSecret,
    pub previous: Option<(WebhookSecret, Timestamp)>,
}

impl SecretRing {
    /// The secrets that sign at `now`: the current one, then the previous one while its overlap lasts.
    pub fn signing(&self, now: Timestamp) -> Vec<&WebhookSecret> {
        let mut v = vec![&self.current];
        if let Some((prev, until)) = &self.previous
            && now < *until
        {
            v.push(prev);
        }
        v
    }

    /// The `webhook-signature` header value at `now`.
    pub fn header(&self, msg_id: &str, timestamp: Timestamp, body: &[u8]) -> String {
        self.signing(timestamp)
            .iter()
            .map(|s| s.sign(msg_id, timestamp, body))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// After rotation to `new` at `now`: the old current secret signs until `now + overlap`.
    pub fn rotated(self, new: WebhookSecret, now: Timestamp) -> Self {
        Self {
            current: new,
            previous: Some((self.current, now + ROTATION_OVERLAP)),
        }
    }
}

/// The `webhook-id` of a delivery: stable across its retries, never containing `.`.
pub fn message_id(delivery_id: i64) -> String {
    format!("msg_{delivery_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn secret() -> WebhookSecret {
        // The example secret of the Standard Webhooks reference libraries.
        WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
    }

    #[test]
    fn signatures_match_the_reference_vector() {
        // From the standard-webhooks reference implementations' test suite.
        let sig = secret().sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn verification_accepts_only_the_exact_message() {
        let s = secret();
        let h = s.sign("msg_1", 100, b"{}");
        assert!(s.verify("msg_1", 100, b"{}", &h));
        assert!(!s.verify("msg_1", 101, b"{}", &h), "other timestamp");
        assert!(!s.verify("msg_2", 100, b"{}", &h), "other id");
        assert!(!s.verify("msg_1", 100, b"{ }", &h), "other body");
        assert!(!s.verify("msg_1", 100, b"{}", "v1a,abc"));
        assert!(!s.verify("msg_1", 100, b"{}", "garbage"));
        let other = WebhookSecret::generate(&mut StdRng::seed_from_u64(1));
        assert!(!other.verify("msg_1", 100, b"{}", &h));
    }

    #[test]
    fn secrets_render_and_parse() {
        let s = WebhookSecret::generate(&mut StdRng::seed_from_u64(9));
        let text = s.render();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).unwrap(), s);
        assert!(WebhookSecret::parse("whsec_!!!").is_err());
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookSecret::parse("whsec_AAAA").is_err(), "too short");
        assert_eq!(format!("{s:?}"), "WebhookSecret(***)");
    }

    #[test]
    fn rotation_signs_with_both_secrets_for_a_day() {
        let mut rng = StdRng::seed_from_u64(2);
        let old = WebhookSecret::generate(&mut rng);
        let new = WebhookSecret::generate(&mut rng);
        let ring = SecretRing {
            current: old.clone(),
            previous: None,
        };
        assert_eq!(ring.header("msg_1", 10, b"x").split(' ').count(), 1);
        let ring = ring.rotated(new.clone(), 1000);
        let during = ring.header("msg_1", 1000 + ROTATION_OVERLAP - 1, b"x");
        assert_eq!(during.split(' ').count(), 2);
        assert!(old.verify("msg_1", 1000 + ROTATION_OVERLAP - 1, b"x", &during));
        assert!(new.verify("msg_1", 1000 + ROTATION_OVERLAP - 1, b"x", &during));
        let after = ring.header("msg_1", 1000 + ROTATION_OVERLAP, b"x");
        assert_eq!(after.split(' ').count(), 1);
        assert!(!old.verify("msg_1", 1000 + ROTATION_OVERLAP, b"x", &after));
        assert!(new.verify("msg_1", 1000 + ROTATION_OVERLAP, b"x", &after));
    }

    #[test]
    fn message_ids_have_no_dots() {
        assert_eq!(message_id(42), "msg_42");
        assert!(!message_id(i64::MAX).contains('.'));
    }
}
