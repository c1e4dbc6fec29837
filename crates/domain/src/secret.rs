//! High-entropy secrets: client secrets and one-time tokens. They are 256-bit random values, so a
//! SHA-256 digest is enough at rest (no slow hash), and comparisons are constant-time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix of client secrets, so secret scanners can recognise a leaked one.
pub const CLIENT_SECRET_PREFIX: &str = "ghs_";

/// A new client secret: `ghs_` + 64 hex digits (256 bits).
pub fn new_client_secret(rng: &mut impl RngCore) -> String {
    format!("{CLIENT_SECRET_PREFIX}{}", random_token_hex(rng))
}

/// 256 random bits as 64 hex digits, for one-time links and opaque tokens.
pub fn random_token_hex(rng: &mut impl RngCore) -> String {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b);
    hex::encode(b)
}

/// SHA-256 of the secret, lowercase hex: what is stored.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Does `presented` match the stored digest? Compares digests in constant time.
pub fn matches_digest(presented: &str, stored_digest: &str) -> bool {
    let d = digest(presented);
    d.as_bytes().ct_eq(stored_digest.as_bytes()).into()
}

/// The last four characters, shown in the console to tell secrets apart.
pub fn hint(secret: &str) -> String {
    let n = secret.len();
    secret.get(n.saturating_sub(4)..).unwrap_or_default().to_owned()
}

/// Validates a stored digest given in a provisioning file (`client_secret_sha256`).
pub fn parse_digest(s: &str) -> Result<String, crate::DomainError> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(crate::DomainError::new(
            "invalid_secret_digest",
            "a secret digest must be 64 hex digits (SHA-256)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn client_secrets_are_prefixed_and_256_bit() {
        let s = new_client_secret(&mut StdRng::seed_from_u64(5));
        assert!(s.starts_with("ghs_"));
        assert_eq!(s.len(), 4 + 64);
    }

    #[test]
    fn digests_match_only_the_same_secret() {
        let d = digest("ghs_abc");
        assert!(matches_digest("ghs_abc", &d));
        assert!(!matches_digest("ghs_abd", &d));
        assert!(!matches_digest("", &d));
    }
}
