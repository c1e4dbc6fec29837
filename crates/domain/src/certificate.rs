//! Public key certificates for service accounts: parsing and checking an uploaded PEM X.509
//! certificate (key type and size, validity period, fingerprint).
//!
//! This module only judges one certificate on its own. It does not check trust chains or
//! revocation (service account certificates are self-signed, and the token service trusts exactly
//! the certificates stored on the integration), and it does not store anything.

use sha2::{Digest, Sha256};
use x509_parser::{
    oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION},
    pem::Pem,
    prelude::FromDer,
    public_key::PublicKey,
};

use crate::{DomainError, Timestamp};

/// Uploads larger than this are refused before any parsing (a certificate is a few KB).
pub const MAX_PEM_BYTES: usize = 64 * 1024;
/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// The kind of public key a certificate carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA with the modulus size in bits.
    Rsa(usize),
    /// ECDSA on NIST P-256.
    EcP256,
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rsa(bits) => write!(f, "RSA {bits}"),
            Self::EcP256 => f.write_str("EC P-256"),
        }
    }
}

/// A certificate that passed every check, with the facts Gatehouse stores about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The PEM text of this one certificate, normalised (`-----BEGIN CERTIFICATE-----` … with LF line ends).
    pub pem: String,
    /// SHA-256 of the DER encoding, lowercase hex.
    pub fingerprint: String,
    pub key: KeyKind,
    pub subject: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

/// Why a certificate was refused. Each has a stable code and a message for the person who uploaded it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the certificate is larger than {max} KB; upload a single PEM certificate", max = MAX_PEM_BYTES / 1024)]
    TooLarge,
    #[error("this is not a PEM certificate: expected text starting with -----BEGIN CERTIFICATE-----")]
    NotPem,
    #[error("this is a private key; upload the certificate (BEGIN CERTIFICATE), never the private key")]
    PrivateKey,
    #[error(
        "this is a certificate signing request (CSR), not a certificate; upload the certificate (BEGIN CERTIFICATE), \
         e.g. one made with `gatehouse keys generate`"
    )]
    SigningRequest,
    #[error("this is a bare public key; upload the certificate (BEGIN CERTIFICATE) that contains it")]
    PublicKeyOnly,
    #[error("expected a PEM block labelled CERTIFICATE, found {0:?}")]
    WrongLabel(String),
    #[error("the text holds {0} certificates; give one certificate per entry")]
    Several(usize),
    #[error("the certificate could not be decoded: {0}")]
    Malformed(String),
    #[error("the certificate's RSA key has {0} bits; at least {MIN_RSA_BITS} are required")]
    WeakRsa(usize),
    #[error("the certificate's key type is not supported ({0}); use RSA (2048 bits or more) or EC P-256")]
    UnsupportedKey(String),
    #[error("the certificate expired at {0} (Unix time); generate a new key pair")]
    Expired(Timestamp),
    #[error("the certificate is not valid until {0} (Unix time)")]
    NotYetValid(Timestamp),
}

impl CertificateError {
    /// Stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "certificate_too_large",
            Self::NotPem => "certificate_not_pem",
            Self::PrivateKey => "certificate_is_private_key",
            Self::SigningRequest => "certificate_is_csr",
            Self::PublicKeyOnly => "certificate_is_public_key",
            Self::WrongLabel(_) => "certificate_wrong_label",
            Self::Several(_) => "certificate_several",
            Self::Malformed(_) => "certificate_malformed",
            Self::WeakRsa(_) => "certificate_weak_key",
            Self::UnsupportedKey(_) => "certificate_unsupported_key",
            Self::Expired(_) => "certificate_expired",
            Self::NotYetValid(_) => "certificate_not_yet_valid",
        }
    }
}

impl From<CertificateError> for DomainError {
    fn from(e: CertificateError) -> Self {
        DomainError::new(e.code(), e.to_string())
    }
}

/// Parses and checks a PEM certificate for use at `now`: exactly one `CERTIFICATE` block, no
/// private key anywhere in the text, RSA ≥ 2048 bits or EC P-256, and `not_before ≤ now ≤ not_after`.
pub fn parse(pem: &str, now: Timestamp) -> Result<Certificate, CertificateError> {
    let cert = inspect(pem)?;
    if now < cert.not_before {
        return Err(CertificateError::NotYetValid(cert.not_before));
    }
    if now > cert.not_after {
        return Err(CertificateError::Expired(cert.not_after));
    }
    Ok(cert)
}

/// Everything [`parse`] checks except the validity period: for certificates already stored, whose
/// fingerprint must be computed even after they expire.
pub fn inspect(pem: &str) -> Result<Certificate, CertificateError> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(CertificateError::TooLarge);
    }
    // Tolerate indentation and CRLF line ends (PEMs pasted into TOML strings or web forms).
    let normalised: String = pem.lines().map(|l| format!("{}\n", l.trim())).collect();
    // Never accept text that carries a private key, even next to a certificate: judged on the
    // text, because a key whose BEGIN line is damaged (`---x-BEGIN PRIVATE KEY-----`) is no PEM
    // block, and the PEM reader would skip it and accept the certificate beside it.
    if normalised.contains("PRIVATE KEY-----") {
        return Err(CertificateError::PrivateKey);
    }
    let mut blocks = Vec::new();
    for block in Pem::iter_from_buffer(normalised.as_bytes()) {
        match block {
            Ok(b) => blocks.push(b),
            Err(e) => return Err(CertificateError::Malformed(e.to_string())),
        }
    }
    if blocks.iter().any(|b| b.label.contains("PRIVATE KEY")) {
        return Err(CertificateError::PrivateKey);
    }
    let block = match blocks.as_slice() {
        [] => return Err(CertificateError::NotPem),
        [one] => one,
        many => {
            if many.iter().all(|b| b.label == "CERTIFICATE") {
                return Err(CertificateError::Several(many.len()));
            }
            return Err(CertificateError::WrongLabel(
                many.iter().map(|b| b.label.as_str()).collect::<Vec<_>>().join(", "),
            ));
        }
    };
    match block.label.as_str() {
        "CERTIFICATE" => {}
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => return Err(CertificateError::SigningRequest),
        "PUBLIC KEY" | "RSA PUBLIC KEY" => return Err(CertificateError::PublicKeyOnly),
        other => return Err(CertificateError::WrongLabel(other.to_owned())),
    }
    from_der(&block.contents)
}

fn from_der(der: &[u8]) -> Result<Certificate, CertificateError> {
    let (rest, x509) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|e| CertificateError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CertificateError::Malformed(
            "trailing bytes after the certificate".into(),
        ));
    }
    let spki = x509.public_key();
    let key = if spki.algorithm.algorithm == OID_PKCS1_RSAENCRYPTION {
        match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => {
                let bits = modulus_bits(rsa.modulus);
                if bits < MIN_RSA_BITS {
                    return Err(CertificateError::WeakRsa(bits));
                }
                KeyKind::Rsa(bits)
            }
            _ => {
                return Err(CertificateError::Malformed(
                    "the RSA public key cannot be decoded".into(),
                ));
            }
        }
    } else if spki.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
        match curve {
            Some(oid) if oid == OID_EC_P256 => KeyKind::EcP256,
            Some(oid) => {
                return Err(CertificateError::UnsupportedKey(format!(
                    "EC curve {}",
                    curve_name(&oid)
                )));
            }
            None => return Err(CertificateError::UnsupportedKey("EC key without a named curve".into())),
        }
    } else {
        return Err(CertificateError::UnsupportedKey(format!(
            "algorithm {}",
            spki.algorithm.algorithm
        )));
    };
    let validity = x509.validity();
    Ok(Certificate {
        pem: to_pem(der),
        fingerprint: fingerprint(der),
        key,
        subject: x509.subject().to_string(),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
    })
}

fn curve_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    match oid.to_id_string().as_str() {
        "1.3.132.0.34" => "P-384".to_owned(),
        "1.3.132.0.35" => "P-521".to_owned(),
        "1.3.132.0.10" => "secp256k1".to_owned(),
        other => other.to_owned(),
    }
}

/// Size of a big-endian modulus in bits, ignoring leading zero bytes and bits.
fn modulus_bits(modulus: &[u8]) -> usize {
    let start = modulus.iter().position(|b| *b != 0).unwrap_or(modulus.len());
    match modulus.get(start) {
        Some(first) => (modulus.len() - start) * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// SHA-256 of the DER encoding, lowercase hex (what `openssl x509 -fingerprint -sha256` shows, without colons).
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// Re-encodes DER as a PEM certificate with 64-character lines.
fn to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../../tests/fixtures/provision/certs/", $name))
        };
    }

    const RSA2048: &str = fixture!("rsa2048.crt");
    const P256: &str = fixture!("p256.crt");

    #[test]
    fn rsa_2048_is_accepted_with_fingerprint_and_dates() {
        let c = inspect(RSA2048).unwrap();
        assert_eq!(c.key, KeyKind::Rsa(2048));
        assert_eq!(c.fingerprint.len(), 64);
        assert!(
            c.fingerprint
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(c.not_before < c.not_after);
        assert!(c.subject.contains("fixture-rsa2048"));
        assert_eq!(parse(RSA2048, c.not_before + 1).unwrap(), c);
        // The stored PEM is normalised and parses back to the same certificate.
        assert_eq!(inspect(&c.pem).unwrap().fingerprint, c.fingerprint);
    }

    #[test]
    fn fingerprint_is_the_sha256_of_the_der() {
        let c = inspect(RSA2048).unwrap();
        let der = Pem::iter_from_buffer(RSA2048.as_bytes())
            .next()
            .unwrap()
            .unwrap()
            .contents;
        assert_eq!(c.fingerprint, hex::encode(Sha256::digest(&der)));
    }

    #[test]
    fn ec_p256_is_accepted() {
        assert_eq!(inspect(P256).unwrap().key, KeyKind::EcP256);
    }

    #[test]
    fn indented_and_crlf_pem_is_accepted() {
        let messy: String = RSA2048.lines().map(|l| format!("    {l}\r\n")).collect();
        assert_eq!(
            inspect(&messy).unwrap().fingerprint,
            inspect(RSA2048).unwrap().fingerprint
        );
    }

    #[test]
    fn expired_and_not_yet_valid_are_refused() {
        let c = inspect(RSA2048).unwrap();
        assert_eq!(
            parse(RSA2048, c.not_after + 1).unwrap_err(),
            CertificateError::Expired(c.not_after)
        );
        let err = parse(RSA2048, c.not_before - 1).unwrap_err();
        assert_eq!(err.code(), "certificate_not_yet_valid");
    }

    #[test]
    fn private_keys_are_refused_with_a_warning() {
        for key in [fixture!("private-pkcs8.key"), fixture!("private-rsa.key")] {
            let err = inspect(key).unwrap_err();
            assert_eq!(err, CertificateError::PrivateKey);
            assert!(err.to_string().contains("never the private key"));
        }
        // Even when a certificate comes with it.
        let both = format!("{RSA2048}{}", fixture!("private-pkcs8.key"));
        assert_eq!(inspect(&both).unwrap_err().code(), "certificate_is_private_key");
    }

    #[test]
    fn a_private_key_with_a_damaged_begin_line_is_refused_too() {
        // Found by the certificate fuzz target: the damaged line makes the key no PEM block, so
        // the reader skipped it and the certificate beside it was accepted, key and all.
        let key = fixture!("private-pkcs8.key").replacen("-----BEGIN", "---6-BEGIN", 1);
        assert_eq!(inspect(&format!("{P256}{key}")), Err(CertificateError::PrivateKey));
        assert_eq!(inspect(&format!("{key}{P256}")), Err(CertificateError::PrivateKey));
    }

    #[test]
    fn signing_requests_are_refused() {
        assert_eq!(
            inspect(fixture!("request.csr")).unwrap_err(),
            CertificateError::SigningRequest
        );
    }

    #[test]
    fn garbage_and_non_pem_are_refused() {
        assert_eq!(inspect("").unwrap_err(), CertificateError::NotPem);
        assert_eq!(inspect("hello world").unwrap_err(), CertificateError::NotPem);
        let bad_b64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert_eq!(inspect(bad_b64).unwrap_err().code(), "certificate_malformed");
        let not_der = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        assert_eq!(inspect(not_der).unwrap_err().code(), "certificate_malformed");
        let other = "-----BEGIN X509 CRL-----\naGVsbG8=\n-----END X509 CRL-----\n";
        assert_eq!(inspect(other).unwrap_err().code(), "certificate_wrong_label");
    }

    #[test]
    fn weak_rsa_is_refused() {
        assert_eq!(
            inspect(fixture!("rsa1024.crt")).unwrap_err(),
            CertificateError::WeakRsa(1024)
        );
    }

    #[test]
    fn other_curves_and_algorithms_are_refused() {
        let err = inspect(fixture!("p384.crt")).unwrap_err();
        assert_eq!(err.code(), "certificate_unsupported_key");
        assert!(err.to_string().contains("P-384"), "{err}");
        assert_eq!(
            inspect(fixture!("ed25519.crt")).unwrap_err().code(),
            "certificate_unsupported_key"
        );
    }

    #[test]
    fn oversized_input_is_refused_before_parsing() {
        let big = format!("{RSA2048}{}", " ".repeat(MAX_PEM_BYTES));
        assert_eq!(inspect(&big).unwrap_err(), CertificateError::TooLarge);
    }

    #[test]
    fn several_certificates_are_refused() {
        let two = format!("{RSA2048}{P256}");
        assert_eq!(inspect(&two).unwrap_err(), CertificateError::Several(2));
    }

    #[test]
    fn modulus_bits_ignores_leading_zeros() {
        assert_eq!(modulus_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(modulus_bits(&[0x01, 0x00]), 9);
        assert_eq!(modulus_bits(&[]), 0);
        assert_eq!(modulus_bits(&[0, 0]), 0);
    }
}
