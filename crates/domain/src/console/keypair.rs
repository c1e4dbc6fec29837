//! Key pairs generated in the console for a service account: an RSA 2048 private key and a
//! self-signed SHA-256 certificate, the same shape as Adobe's documented
//! `openssl req -x509 -sha256 -nodes -days 365 -newkey rsa:2048`. The private key is handed to the
//! developer once and never stored; only the certificate is kept.

use rand::{CryptoRng, RngCore};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SerialNumber};
use rsa::{
    RsaPrivateKey,
    pkcs8::{EncodePrivateKey, LineEnding},
};

use crate::{
    DomainError, Timestamp,
    certificate::{self, Certificate},
};

/// Validity of a generated certificate, in days (Adobe's console also issues one-year pairs).
pub const VALIDITY_DAYS: i64 = 365;
/// RSA modulus size of generated keys.
pub const RSA_BITS: usize = 2048;

/// A generated key pair. `Debug` leaves the private key out.
pub struct GeneratedKeyPair {
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub private_key_pem: String,
    /// The self-signed certificate, already checked by [`certificate::parse`].
    pub certificate: Certificate,
}

impl std::fmt::Debug for GeneratedKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKeyPair")
            .field("private_key_pem", &"<redacted>")
            .field("certificate", &self.certificate)
            .finish()
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> DomainError {
    DomainError::new("key_generation_failed", format!("{what}: {e}"))
}

/// Generates an RSA key from `rng` and a certificate for `common_name` valid from `now` for
/// [`VALIDITY_DAYS`] days. Slow-ish (RSA key generation): run it off the async executor.
pub fn generate(
    common_name: &str,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<GeneratedKeyPair, DomainError> {
    let key = RsaPrivateKey::new(rng, RSA_BITS).map_err(|e| failed("generating the RSA key", e))?;
    let private_key_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| failed("encoding the RSA key", e))?
        .to_string();
    let key_pair = KeyPair::from_pkcs8_pem_and_sign_algo(&private_key_pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| failed("loading the RSA key", e))?;
    let start = time::OffsetDateTime::from_unix_timestamp(now).map_err(|e| failed("the current time", e))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    let cn: String = common_name.chars().filter(|c| !c.is_control()).take(64).collect();
    dn.push(
        DnType::CommonName,
        if cn.trim().is_empty() {
            "Gatehouse service account"
        } else {
            cn.trim()
        },
    );
    params.distinguished_name = dn;
    params.not_before = start;
    params.not_after = start + time::Duration::days(VALIDITY_DAYS);
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    serial[0] = (serial[0] & 0x7f) | 0x01; // positive and exactly 16 bytes long
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let cert = params
        .self_signed(&key_pair)
        .map_err(|e| failed("signing the certificate", e))?;
    let certificate = certificate::parse(&cert.pem(), now).map_err(DomainError::from)?;
    Ok(GeneratedKeyPair {
        private_key_pem,
        certificate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn a_generated_pair_is_a_valid_one_year_rsa_certificate() {
        let now = 1_750_000_000;
        let pair = generate("My service", now, &mut StdRng::seed_from_u64(1)).unwrap();
        assert!(pair.private_key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let c = &pair.certificate;
        assert_eq!(c.key, certificate::KeyKind::Rsa(2048));
        assert_eq!(c.not_before, now);
        assert_eq!(c.not_after, now + VALIDITY_DAYS * 86_400);
        assert!(c.subject.contains("My service"), "{}", c.subject);
        assert!(!format!("{pair:?}").contains("PRIVATE KEY-----"));
    }
}
