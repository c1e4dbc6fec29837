//! Password hashing with argon2id at OWASP's recommended parameters (19 MiB, t=2, p=1).
//! Hashes record their parameters, so sign-in can tell when one needs re-hashing.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version, password_hash::SaltString,
};
use rand::{CryptoRng, RngCore};

use crate::DomainError;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 1024;

fn params() -> Params {
    // OWASP Password Storage Cheat Sheet: argon2id, m=19456 KiB, t=2, p=1.
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Checks the length rules only; the breached-password list is applied by the identity layer.
pub fn check_length(password: &str) -> Result<(), DomainError> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(DomainError::new(
            "password_too_short",
            format!("password must be at least {MIN_LENGTH} characters"),
        ));
    }
    if password.len() > MAX_LENGTH {
        return Err(DomainError::new(
            "password_too_long",
            format!("password must be at most {MAX_LENGTH} bytes"),
        ));
    }
    Ok(())
}

pub fn hash(password: &str, rng: &mut (impl RngCore + CryptoRng)) -> Result<String, DomainError> {
    let salt = SaltString::generate(rng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::new("password_hash_failed", e.to_string()))
}

/// Verifies in constant time with respect to the password (argon2's own comparison).
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// True when a stored hash uses other parameters than today's, so it should be re-hashed at sign-in.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(h) = PasswordHash::new(stored) else { return true };
    let current = params();
    let Ok(p) = Params::try_from(&h) else { return true };
    h.algorithm.as_str() != "argon2id"
        || p.m_cost() != current.m_cost()
        || p.t_cost() != current.t_cost()
        || p.p_cost() != current.p_cost()
}

/// Accepts only argon2 PHC strings for `password_hash` in provisioning files.
pub fn parse_hash(stored: &str) -> Result<String, DomainError> {
    match PasswordHash::new(stored) {
        Ok(h) if h.algorithm.as_str().starts_with("argon2") => Ok(stored.to_owned()),
        _ => Err(DomainError::new(
            "invalid_password_hash",
            "password_hash must be an argon2 PHC string ($argon2id$...)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn hashes_verify_and_wrong_passwords_do_not() {
        let h = hash("correct horse battery staple", &mut StdRng::seed_from_u64(3)).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapl", &h));
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn weaker_parameters_are_flagged_for_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut StdRng::seed_from_u64(4));
        let h = weak
            .hash_password(b"correct horse battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery staple", &h));
        assert!(needs_rehash(&h));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(check_length("elevenchars").unwrap_err().code, "password_too_short");
        assert!(check_length("twelve chars").is_ok());
    }
}
