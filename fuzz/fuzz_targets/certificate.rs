//! PEM/X.509 certificate uploads: `certificate::parse` and `certificate::inspect` (one
//! `CERTIFICATE` block, no private key, RSA ≥ 2048 or EC P-256), and loading an accepted
//! certificate for assertion verification (`assertion::TrustedCertificate::from_stored`).
//!
//! The first byte picks what the rest is: 0, the uploaded text; 1, DER bytes, wrapped here in a
//! PEM block (so the mutations reach the X.509 parser); 2, DER bytes wrapped in a block with CRLF
//! line ends, indentation and text around it, as pasted into a form.
//!
//! Invariants: an accepted certificate's normalised PEM is accepted again as the same
//! certificate; its fingerprint is the SHA-256 of its DER; every accepted certificate can be
//! loaded to verify assertions; `parse` accepts only within the validity period.
#![no_main]

use base64::{Engine, engine::general_purpose::STANDARD};
use gatehouse_domain::{
    certificate::{self, CertificateError},
    integration::StoredCertificate,
    token::assertion::TrustedCertificate,
};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_900_000_000;

fn pem_of(der: &[u8], pasted: bool) -> String {
    let b64 = STANDARD.encode(der);
    let (nl, indent) = if pasted { ("\r\n", "    ") } else { ("\n", "") };
    let mut out = String::new();
    if pasted {
        out.push_str("Subject: pasted certificate\r\n\r\n");
    }
    out.push_str(indent);
    out.push_str("-----BEGIN CERTIFICATE-----");
    out.push_str(nl);
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(indent);
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str(nl);
    }
    out.push_str(indent);
    out.push_str("-----END CERTIFICATE-----");
    out.push_str(nl);
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = match mode % 3 {
        0 => match std::str::from_utf8(rest) {
            Ok(t) => t.to_owned(),
            Err(_) => return,
        },
        m => pem_of(rest, m == 2),
    };
    let inspected = certificate::inspect(&text);
    if text.contains("PRIVATE KEY-----") {
        assert!(inspected.is_err(), "text carrying a private key was accepted");
    }
    let parsed = certificate::parse(&text, NOW);
    match (&inspected, &parsed) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b);
            assert!(b.not_before <= NOW && NOW <= b.not_after);
        }
        (Ok(a), Err(CertificateError::Expired(_) | CertificateError::NotYetValid(_))) => {
            assert!(NOW < a.not_before || NOW > a.not_after);
        }
        (Ok(_), Err(e)) => panic!("inspect accepted what parse refused with {e}"),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (Err(e), Ok(_)) => panic!("parse accepted what inspect refused with {e}"),
    }
    let Ok(cert) = inspected else { return };
    let again = certificate::inspect(&cert.pem).expect("a normalised certificate is accepted again");
    assert_eq!(again, cert);
    let der_b64: String = cert.pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(der_b64).expect("normalised PEM is base64");
    assert_eq!(certificate::fingerprint(&der), cert.fingerprint);
    let stored = StoredCertificate {
        id: "cert-1".into(),
        integration_id: "int-1".into(),
        fingerprint: cert.fingerprint.clone(),
        pem: cert.pem.clone(),
        not_before: cert.not_before,
        not_after: cert.not_after,
        created_at: NOW,
        revoked_at: None,
    };
    if let Err(e) = TrustedCertificate::from_stored(&stored) {
        panic!("an accepted certificate cannot verify assertions: {e}");
    }
});
