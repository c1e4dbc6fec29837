//! What Adobe I/O Events receivers expect on each delivery, so they work with Gatehouse unchanged:
//! - the body: the CloudEvent plus `eventid` and `recipientclientid`, and the deprecated
//!   duplicates `event_id` and `recipient_client_id` (Adobe's own verifier still reads the latter);
//! - the headers: `x-adobe-event-id` (stable per event), `x-adobe-event-code`,
//!   `x-adobe-provider`, `x-adobe-delivery-id` (per attempt), `x-adobe-retry-count` (absent on
//!   the first attempt), and two RSA-SHA256 (PKCS#1 v1.5) signatures of the raw body,
//!   `x-adobe-digital-signature-1/-2`, with the paths of the public keys that verify them,
//!   `x-adobe-public-key1-path/-2-path`, which Gatehouse serves.
//!
//! Two signing keys overlap: a new key is made when the newest is half its lifetime old, and the
//! two newest live keys sign, so a receiver that cached one key keeps verifying through rotation.
//! Receivers should pin the key path's shape (`^/events/keys/pub-key-[0-9a-f-]+\.pem$`) and fetch
//! keys only from Gatehouse, never from a host named in a request.

use base64::{Engine, engine::general_purpose::STANDARD};
use rand::{CryptoRng, RngCore};
use ring::signature::RsaKeyPair;
use serde_json::Value;

use crate::{DomainError, Timestamp, rsa_signer::RsaSigner};

/// RSA modulus size of the delivery-signing keys.
pub const RSA_BITS: usize = 2048;
/// How long a delivery-signing key signs (30 days); a successor appears at half of it.
pub const KEY_LIFETIME: i64 = 30 * 86_400;
/// How long a retired key's public half stays downloadable, for receivers verifying late.
pub const KEY_RETENTION: i64 = 7 * 86_400;

/// The delivered body of one event: the CloudEvent with the recipient extensions, both spellings.
pub fn delivery_body(event: &Value, recipient_client_id: &str) -> Value {
    let mut body = event.clone();
    if let Value::Object(m) = &mut body {
        let id = m.get("id").cloned().unwrap_or(Value::Null);
        m.insert("eventid".to_owned(), id.clone());
        m.insert("event_id".to_owned(), id);
        m.insert("recipientclientid".to_owned(), Value::from(recipient_client_id));
        m.insert("recipient_client_id".to_owned(), Value::from(recipient_client_id));
    }
    body
}

/// The URL path at which Gatehouse serves a delivery-signing public key.
pub fn public_key_path(key_id: &str) -> String {
    format!("/events/keys/pub-key-{key_id}.pem")
}

/// Reads the key ID back from a file name `pub-key-<id>.pem`.
pub fn key_id_from_file_name(name: &str) -> Option<&str> {
    let id = name.strip_prefix("pub-key-")?.strip_suffix(".pem")?;
    let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    ok.then_some(id)
}

/// A newly generated delivery-signing key.
pub struct GeneratedKey {
    pub private_pkcs8: Vec<u8>,
    /// The public key as PEM (SubjectPublicKeyInfo), as served to receivers.
    pub public_pem: String,
}

/// Generates an RSA-2048 key with the caller's random source.
pub fn generate_key(rng: &mut (impl RngCore + CryptoRng)) -> Result<GeneratedKey, DomainError> {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let failed = |e: &dyn std::fmt::Display| DomainError::new("key_generation_failed", e.to_string());
    let key = rsa::RsaPrivateKey::new(rng, RSA_BITS).map_err(|e| failed(&e))?;
    let private_pkcs8 = key.to_pkcs8_der().map_err(|e| failed(&e))?.as_bytes().to_vec();
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| failed(&e))?;
    Ok(GeneratedKey {
        private_pkcs8,
        public_pem,
    })
}

/// A delivery-signing key loaded for signing.
pub struct DeliveryKey {
    pub id: String,
    signer: RsaSigner,
}

impl std::fmt::Debug for DeliveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl DeliveryKey {
    pub fn load(id: &str, private_pkcs8: &[u8]) -> Result<Self, DomainError> {
        let invalid = |e: &dyn std::fmt::Display| DomainError::new("invalid_key", format!("delivery key {id}: {e}"));
        // ring's parser checks the key strictly; OpenSSL signs (see crate::rsa_signer).
        RsaKeyPair::from_pkcs8(private_pkcs8).map_err(|e| invalid(&e))?;
        let signer = RsaSigner::from_pkcs8(private_pkcs8).map_err(|e| invalid(&e))?;
        Ok(Self {
            id: id.to_owned(),
            signer,
        })
    }

    /// Base64 RSA-SHA256 (PKCS#1 v1.5) signature of `body`.
    pub fn sign(&self, body: &[u8]) -> Result<String, DomainError> {
        let sig = self
            .signer
            .sign_sha256(body)
            .map_err(|_| DomainError::new("signing_failed", "the delivery could not be signed"))?;
        Ok(STANDARD.encode(sig))
    }
}

/// A stored key's schedule facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAge {
    pub id: String,
    pub created_at: Timestamp,
}

/// What the key ring needs at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPlan {
    /// How many new keys to create before signing.
    pub create: usize,
    /// The signing pair (key 1, key 2): the older and the newer live key. The same key twice
    /// when only one is live.
    pub signing: Option<(String, String)>,
}

/// Plans the delivery-signing keys at `now` from the stored ones.
pub fn plan_keys(now: Timestamp, keys: &[KeyAge]) -> KeyPlan {
    let mut live: Vec<&KeyAge> = keys.iter().filter(|k| now - k.created_at < KEY_LIFETIME).collect();
    live.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    let create = match live.first() {
        None => 2,
        Some(newest) if now - newest.created_at >= KEY_LIFETIME / 2 || live.len() < 2 => 1,
        Some(_) => 0,
    };
    let signing = match live.as_slice() {
        [] => None,
        [only] => Some((only.id.clone(), only.id.clone())),
        [newer, older, ..] => Some((older.id.clone(), newer.id.clone())),
    };
    KeyPlan { create, signing }
}

/// Is a key's public half still served at `now`?
pub fn key_is_served(created_at: Timestamp, now: Timestamp) -> bool {
    now - created_at < KEY_LIFETIME + KEY_RETENTION
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};
    use serde_json::json;

    #[test]
    fn the_body_carries_both_spellings_of_the_recipient_fields() {
        let event = json!({"specversion": "1.0", "id": "e1", "type": "a.b", "source": "urn:x", "data": {}});
        let body = delivery_body(&event, "client123");
        assert_eq!(body["eventid"], "e1");
        assert_eq!(body["event_id"], "e1");
        assert_eq!(body["recipientclientid"], "client123");
        assert_eq!(body["recipient_client_id"], "client123");
        assert_eq!(body["type"], "a.b");
    }

    #[test]
    fn key_paths_round_trip_and_refuse_traversal() {
        let p = public_key_path("6f1c2f0e-8a8e-4b4b-9d0e-2c8f7b0a1d11");
        assert_eq!(p, "/events/keys/pub-key-6f1c2f0e-8a8e-4b4b-9d0e-2c8f7b0a1d11.pem");
        let name = p.rsplit('/').next().unwrap();
        assert_eq!(
            key_id_from_file_name(name),
            Some("6f1c2f0e-8a8e-4b4b-9d0e-2c8f7b0a1d11")
        );
        for bad in [
            "pub-key-.pem",
            "pub-key-../../x.pem",
            "key-abc.pem",
            "pub-key-abc.txt",
            "pub-key-zz.pem",
        ] {
            assert_eq!(key_id_from_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn generated_keys_sign_verifiably() {
        let g = generate_key(&mut StdRng::seed_from_u64(1)).unwrap();
        assert!(g.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let k = DeliveryKey::load("k1", &g.private_pkcs8).unwrap();
        let sig = STANDARD.decode(k.sign(b"{\"a\":1}").unwrap()).unwrap();
        use rsa::{pkcs1::EncodeRsaPublicKey, pkcs8::DecodePublicKey};
        let public = rsa::RsaPublicKey::from_public_key_pem(&g.public_pem).unwrap();
        let der = public.to_pkcs1_der().unwrap();
        let verifier =
            ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, der.as_bytes());
        verifier.verify(b"{\"a\":1}", &sig).unwrap();
        assert!(verifier.verify(b"other", &sig).is_err());
        assert!(DeliveryKey::load("bad", b"not a key").is_err());
    }

    fn key(id: &str, created_at: Timestamp) -> KeyAge {
        KeyAge {
            id: id.into(),
            created_at,
        }
    }

    #[test]
    fn the_first_plan_creates_two_keys() {
        assert_eq!(
            plan_keys(1000, &[]),
            KeyPlan {
                create: 2,
                signing: None
            }
        );
    }

    #[test]
    fn a_successor_appears_at_half_life_and_two_keys_sign() {
        let now = 10 * KEY_LIFETIME;
        let fresh = [key("a", now - 10), key("b", now - KEY_LIFETIME / 2 + 10)];
        let p = plan_keys(now, &fresh);
        assert_eq!(p.create, 0);
        assert_eq!(p.signing, Some(("b".into(), "a".into())), "key 1 is the older one");

        let aging = [key("a", now - KEY_LIFETIME / 2), key("b", now - KEY_LIFETIME + 10)];
        assert_eq!(plan_keys(now, &aging).create, 1);

        let one = [key("a", now - 10)];
        let p = plan_keys(now, &one);
        assert_eq!(p.create, 1);
        assert_eq!(p.signing, Some(("a".into(), "a".into())));

        let expired = [key("a", now - KEY_LIFETIME), key("b", now - KEY_LIFETIME - 5)];
        assert_eq!(plan_keys(now, &expired).create, 2);
    }

    #[test]
    fn retired_keys_are_served_a_while_longer() {
        assert!(key_is_served(0, KEY_LIFETIME));
        assert!(key_is_served(0, KEY_LIFETIME + KEY_RETENTION - 1));
        assert!(!key_is_served(0, KEY_LIFETIME + KEY_RETENTION));
    }
}
