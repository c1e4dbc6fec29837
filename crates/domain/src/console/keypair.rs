//! Key pairs for service accounts: a private key and a self-signed SHA-256 certificate — the one
//! code path behind both the console's "generate a key pair" ([`generate`]: RSA 2048, one year,
//! the shape of Adobe's documented `openssl req -x509 -sha256 -nodes -days 365 -newkey rsa:2048`)
//! and `gatehouse keys generate` ([`generate_with`]: the key type, subject and validity chosen on
//! the command line). The private key goes to whoever asked, once, and is never stored; only the
//! certificate is kept.

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

/// Validity of a certificate generated in the console, in days (Adobe's console also issues
/// one-year pairs).
pub const VALIDITY_DAYS: u32 = 365;
/// The longest validity [`generate_with`] accepts (ten years).
pub const MAX_VALIDITY_DAYS: u32 = 3650;
/// The longest subject common name, in characters.
pub const MAX_COMMON_NAME: usize = 64;

/// The kinds of key Gatehouse generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    /// ECDSA on P-256 (the key comes from the system's secure random source, through `rcgen`).
    EcP256,
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct KeyPairSpec<'a> {
    pub algorithm: KeyAlgorithm,
    /// The certificate's subject CN: 1 to [`MAX_COMMON_NAME`] printable characters.
    pub common_name: &'a str,
    /// Validity from `now`, 1 to [`MAX_VALIDITY_DAYS`] days.
    pub days: u32,
}

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

/// The console's key pair for an integration called `name`: RSA 2048 from `rng`, valid from
/// `now` for [`VALIDITY_DAYS`] days, its CN the name (control characters dropped, cut to
/// [`MAX_COMMON_NAME`] characters; a generic name when nothing is left). Slow-ish (RSA key
/// generation): run it off the async executor.
pub fn generate(
    name: &str,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<GeneratedKeyPair, DomainError> {
    let cn: String = name.chars().filter(|c| !c.is_control()).take(MAX_COMMON_NAME).collect();
    let cn = match cn.trim() {
        "" => "Gatehouse service account",
        cn => cn,
    };
    generate_with(
        KeyPairSpec {
            algorithm: KeyAlgorithm::Rsa2048,
            common_name: cn,
            days: VALIDITY_DAYS,
        },
        now,
        rng,
    )
}

/// Generates a key of `spec.algorithm` and a self-signed SHA-256 certificate for
/// `spec.common_name`, valid from `now` (whole seconds) for `spec.days` days. RSA keys and the
/// serial number come from `rng`. Refuses a validity or common name out of bounds
/// (`invalid_validity`, `invalid_common_name`).
pub fn generate_with(
    spec: KeyPairSpec<'_>,
    now: Timestamp,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<GeneratedKeyPair, DomainError> {
    if spec.days == 0 || spec.days > MAX_VALIDITY_DAYS {
        return Err(DomainError::new(
            "invalid_validity",
            format!("the validity must be between 1 and {MAX_VALIDITY_DAYS} days"),
        ));
    }
    let common_name = spec.common_name.trim();
    if common_name.is_empty()
        || common_name.chars().count() > MAX_COMMON_NAME
        || common_name.chars().any(char::is_control)
    {
        return Err(DomainError::new(
            "invalid_common_name",
            format!("the common name must be 1–{MAX_COMMON_NAME} printable characters"),
        ));
    }
    let (key_pair, private_key_pem) = match spec.algorithm {
        KeyAlgorithm::Rsa2048 => rsa_key(2048, rng)?,
        KeyAlgorithm::Rsa3072 => rsa_key(3072, rng)?,
        KeyAlgorithm::Rsa4096 => rsa_key(4096, rng)?,
        KeyAlgorithm::EcP256 => {
            let kp = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| failed("generating the P-256 key", e))?;
            let pem = kp.serialize_pem();
            (kp, pem)
        }
    };
    let start = time::OffsetDateTime::from_unix_timestamp(now).map_err(|e| failed("the current time", e))?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.not_before = start;
    params.not_after = start + time::Duration::days(i64::from(spec.days));
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

fn rsa_key(bits: usize, rng: &mut (impl RngCore + CryptoRng)) -> Result<(KeyPair, String), DomainError> {
    let key = RsaPrivateKey::new(rng, bits).map_err(|e| failed("generating the RSA key", e))?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| failed("encoding the RSA key", e))?
        .to_string();
    let kp = KeyPair::from_pkcs8_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| failed("loading the RSA key", e))?;
    Ok((kp, pem))
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
        assert_eq!(c.not_after, now + i64::from(VALIDITY_DAYS) * 86_400);
        assert!(c.subject.contains("My service"), "{}", c.subject);
        assert!(!format!("{pair:?}").contains("PRIVATE KEY-----"));
    }

    #[test]
    fn a_name_with_nothing_printable_gets_a_generic_subject() {
        let pair = generate("\u{7}\n", 1_750_000_000, &mut StdRng::seed_from_u64(2)).unwrap();
        assert!(pair.certificate.subject.contains("Gatehouse service account"));
    }

    #[test]
    fn out_of_bounds_specs_are_refused() {
        let mut rng = StdRng::seed_from_u64(3);
        let spec = |common_name, days| KeyPairSpec {
            algorithm: KeyAlgorithm::EcP256,
            common_name,
            days,
        };
        let code = |r: Result<GeneratedKeyPair, DomainError>| r.err().map(|e| e.code);
        assert_eq!(code(generate_with(spec("x", 0), 0, &mut rng)), Some("invalid_validity"));
        assert_eq!(
            code(generate_with(spec("x", MAX_VALIDITY_DAYS + 1), 0, &mut rng)),
            Some("invalid_validity")
        );
        assert_eq!(
            code(generate_with(spec(" ", 1), 0, &mut rng)),
            Some("invalid_common_name")
        );
        let long = "x".repeat(MAX_COMMON_NAME + 1);
        assert_eq!(
            code(generate_with(spec(&long, 1), 0, &mut rng)),
            Some("invalid_common_name")
        );
        let ec = generate_with(spec("ec", 30), 1_750_000_000, &mut rng).unwrap();
        assert_eq!(ec.certificate.key, certificate::KeyKind::EcP256);
    }
}
