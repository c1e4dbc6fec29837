//! RSA-SHA256 (PKCS#1 v1.5) signing through the system's OpenSSL (libcrypto, linked dynamically).
//!
//! RS256 tokens and Adobe's delivery signatures are nothing but this private-key operation, and
//! OpenSSL's RSA-2048 is two to four times faster than `ring`'s on processors with AVX-512 IFMA
//! (measured on the project's machine: about 3,700 against 840 signatures per second and core).
//! Keys are still generated with the `rsa` crate (which takes the caller's random source) and
//! checked with `ring`'s strict parser before they are used here.

use openssl::{
    hash::MessageDigest,
    pkey::{PKey, Private},
    sign::Signer,
};

/// A parsed RSA private key ready to sign.
pub struct RsaSigner {
    key: PKey<Private>,
}

impl RsaSigner {
    /// Parses a PKCS#8 DER private key; the error says what OpenSSL disliked.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, String> {
        let key = PKey::private_key_from_pkcs8(der).map_err(|e| e.to_string())?;
        if key.rsa().is_err() {
            return Err("not an RSA key".to_owned());
        }
        Ok(Self { key })
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.key.bits() as usize
    }

    /// The public modulus and exponent, big-endian.
    pub fn public_components(&self) -> Result<(Vec<u8>, Vec<u8>), String> {
        let rsa = self.key.rsa().map_err(|e| e.to_string())?;
        Ok((rsa.n().to_vec(), rsa.e().to_vec()))
    }

    /// RSASSA-PKCS1-v1_5 over SHA-256 (OpenSSL's default padding for RSA keys).
    pub fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key)?;
        signer.sign_oneshot_to_vec(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};
    use ring::signature::RSA_PKCS1_2048_8192_SHA256;
    use rsa::pkcs8::EncodePrivateKey;

    #[test]
    fn signatures_verify_with_an_independent_implementation() {
        let key = rsa::RsaPrivateKey::new(&mut StdRng::seed_from_u64(7), 2048).unwrap();
        let der = key.to_pkcs8_der().unwrap();
        let signer = RsaSigner::from_pkcs8(der.as_bytes()).unwrap();
        assert_eq!(signer.bits(), 2048);
        let sig = signer.sign_sha256(b"payload").unwrap();
        let (n, e) = signer.public_components().unwrap();
        let public = ring::rsa::PublicKeyComponents { n: &n, e: &e };
        public.verify(&RSA_PKCS1_2048_8192_SHA256, b"payload", &sig).unwrap();
        assert!(public.verify(&RSA_PKCS1_2048_8192_SHA256, b"payloaD", &sig).is_err());
    }

    #[test]
    fn a_non_rsa_key_is_refused() {
        let ec = p256::SecretKey::random(&mut StdRng::seed_from_u64(1));
        let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&ec).unwrap();
        assert!(RsaSigner::from_pkcs8(der.as_bytes()).is_err());
        assert!(RsaSigner::from_pkcs8(b"not a key").is_err());
    }
}
