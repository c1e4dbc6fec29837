//! Encryption of secrets at rest with the master key (AES-256-GCM).
//!
//! A sealed value is `nonce (12 bytes) || ciphertext || tag (16 bytes)`. Every seal draws a fresh
//! random nonce from the caller's source. The associated data (`aad`) binds a ciphertext to where
//! it belongs (for example `signing_key:<kid>`), so a value copied to another row fails to open.
//! Loading the key from configuration or the key file is the application's job, not this module's.

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use rand::{CryptoRng, RngCore};

use crate::DomainError;

/// Length of a master key in bytes (256 bits).
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The master key. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)),
        }
    }

    /// A new random key, returned with its text form (what the key file holds).
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> (Self, String) {
        let mut bytes = [0u8; KEY_LEN];
        rng.fill_bytes(&mut bytes);
        (Self::from_bytes(&bytes), STANDARD.encode(bytes))
    }

    /// Parses the text form of a key: 32 bytes as standard base64 (44 characters) or as 64 hex
    /// digits. Surrounding whitespace is ignored, so key files may end with a newline.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_LEN {
            hex::decode(text).ok()
        } else {
            STANDARD.decode(text).ok()
        };
        match bytes.as_deref().map(<[u8; KEY_LEN]>::try_from) {
            Some(Ok(b)) => Ok(Self::from_bytes(&b)),
            _ => Err(DomainError::new(
                "invalid_master_key",
                "a master key must be 32 bytes written as base64 (44 characters) or as 64 hex digits",
            )),
        }
    }

    /// Encrypts `plaintext`, binding it to `aad`. Returns `nonce || ciphertext || tag`.
    pub fn encrypt(&self, rng: &mut (impl RngCore + CryptoRng), plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        // Encryption fails only when the plaintext exceeds AES-GCM's limit of about 64 GiB, far
        // beyond any secret Gatehouse stores; an empty ciphertext then fails to decrypt.
        if let Ok(sealed) = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        {
            out.extend_from_slice(&sealed);
        }
        out
    }

    /// Decrypts a value sealed by [`MasterKey::encrypt`] with the same key and `aad`. A wrong key,
    /// other associated data or any changed byte is refused.
    pub fn decrypt(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, DomainError> {
        let refused = || {
            DomainError::new(
                "decryption_failed",
                "the encrypted value could not be opened: wrong master key, or the value was altered",
            )
        };
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(refused());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad })
            .map_err(|_| refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn key(seed: u64) -> MasterKey {
        MasterKey::generate(&mut StdRng::seed_from_u64(seed)).0
    }

    #[test]
    fn sealed_values_open_with_the_same_key_and_aad() {
        let k = key(1);
        let mut rng = StdRng::seed_from_u64(2);
        let sealed = k.encrypt(&mut rng, b"private key bytes", b"signing_key:k1");
        assert_eq!(sealed.len(), NONCE_LEN + 17 + TAG_LEN);
        assert_eq!(k.decrypt(&sealed, b"signing_key:k1").unwrap(), b"private key bytes");
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let k = key(1);
        let mut rng = StdRng::seed_from_u64(2);
        let a = k.encrypt(&mut rng, b"same", b"");
        let b = k.encrypt(&mut rng, b"same", b"");
        assert_ne!(a, b);
    }

    #[test]
    fn tampering_is_detected() {
        let k = key(1);
        let sealed = k.encrypt(&mut StdRng::seed_from_u64(2), b"secret", b"aad");
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            assert_eq!(k.decrypt(&t, b"aad").unwrap_err().code, "decryption_failed", "byte {i}");
        }
        assert!(k.decrypt(&sealed[..sealed.len() - 1], b"aad").is_err());
        assert!(k.decrypt(&[], b"aad").is_err());
    }

    #[test]
    fn wrong_key_or_aad_is_refused() {
        let sealed = key(1).encrypt(&mut StdRng::seed_from_u64(2), b"secret", b"row:1");
        assert!(key(3).decrypt(&sealed, b"row:1").is_err());
        assert!(key(1).decrypt(&sealed, b"row:2").is_err());
    }

    #[test]
    fn text_forms_parse_back_to_the_same_key() {
        let (k, text) = MasterKey::generate(&mut StdRng::seed_from_u64(4));
        assert_eq!(text.len(), 44);
        let sealed = k.encrypt(&mut StdRng::seed_from_u64(5), b"x", b"");
        let from_b64 = MasterKey::parse(&format!("{text}\n")).unwrap();
        assert_eq!(from_b64.decrypt(&sealed, b"").unwrap(), b"x");
        let hex_text = hex::encode(STANDARD.decode(&text).unwrap());
        assert_eq!(
            MasterKey::parse(&hex_text).unwrap().decrypt(&sealed, b"").unwrap(),
            b"x"
        );
    }

    #[test]
    fn malformed_keys_are_refused_and_debug_hides_the_key() {
        for bad in ["", "short", &"a".repeat(63), &STANDARD.encode([0u8; 16])] {
            assert_eq!(MasterKey::parse(bad).unwrap_err().code, "invalid_master_key", "{bad}");
        }
        assert_eq!(format!("{:?}", key(1)), "MasterKey(***)");
    }
}
