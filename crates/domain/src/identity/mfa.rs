//! Second factors. TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock skew
//! either way) with a replay rule — a code's time step must be later than the last accepted one,
//! so each code works once — and ten single-use recovery codes of 80 random bits each, stored as
//! SHA-256 digests.

use rand::RngCore;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::{DomainError, Timestamp, secret};

/// Seconds per TOTP step.
pub const TOTP_STEP: u64 = 30;
/// Bytes of a TOTP secret (160 bits, RFC 4226's recommendation).
pub const TOTP_SECRET_LEN: usize = 20;
/// How many recovery codes an enrolment issues.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// A fresh TOTP secret.
pub fn new_totp_secret(rng: &mut impl RngCore) -> Vec<u8> {
    let mut b = vec![0u8; TOTP_SECRET_LEN];
    rng.fill_bytes(&mut b);
    b
}

/// The secret as base32 without padding, for people who type it into their app.
pub fn totp_secret_base32(secret_bytes: &[u8]) -> String {
    Secret::from(secret_bytes.to_vec())
        .to_base32()
        .trim_end_matches('=')
        .to_owned()
}

fn totp(secret_bytes: &[u8]) -> Result<Totp, DomainError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(TOTP_STEP)
        .with_secret(secret_bytes.to_vec())
        .build()
        .map_err(|e| DomainError::new("invalid_totp_secret", e.to_string()))
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Reads a base32 secret (as shown to people for typing into an app) back into bytes.
pub fn totp_secret_from_base32(text: &str) -> Option<Vec<u8>> {
    let padded = {
        let t = text.trim().to_ascii_uppercase();
        let pad = (8 - t.len() % 8) % 8;
        format!("{t}{}", "=".repeat(pad))
    };
    Secret::try_from_base32(&padded)
        .or_else(|_| Secret::try_from_base32(text.trim()))
        .ok()
        .map(|s| s.as_bytes().to_vec())
}

/// The `otpauth://totp/...` URI an authenticator app reads from the QR code.
pub fn otpauth_uri(secret_bytes: &[u8], issuer: &str, account: &str) -> String {
    let label = format!("{}:{}", percent(issuer), percent(account));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={TOTP_STEP}",
        totp_secret_base32(secret_bytes),
        percent(issuer)
    )
}

/// The code for `now` (tests and the enrolment page's self-check use it).
pub fn totp_code(secret_bytes: &[u8], now: Timestamp) -> Result<String, DomainError> {
    Ok(totp(secret_bytes)?.generate(now.max(0) as u64).to_string())
}

/// Normalises what a person typed: digits only (spaces and dashes are ignored).
fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect()
}

/// Checks a TOTP code at `now`. Returns the start instant of the matching time step, which must
/// be later than `last_used` (the start of the last step accepted for this factor), so a code
/// is accepted once. The caller stores the returned instant atomically with that condition.
pub fn verify_totp(
    secret_bytes: &[u8],
    code: &str,
    now: Timestamp,
    last_used: Option<Timestamp>,
) -> Result<Timestamp, DomainError> {
    let code = normalise_code(code);
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::new(
            "invalid_code_format",
            "Enter the 6-digit code from your authenticator app.",
        ));
    }
    let step = totp(secret_bytes)?.check(&code, now.max(0) as u64).ok_or_else(|| {
        DomainError::new(
            "wrong_code",
            "That code is not correct. Check your authenticator app and try again.",
        )
    })?;
    let step_start = (step * TOTP_STEP) as Timestamp;
    if last_used.is_some_and(|last| step_start <= last) {
        return Err(DomainError::new(
            "code_already_used",
            "That code has already been used. Wait for the next code in your authenticator app.",
        ));
    }
    Ok(step_start)
}

const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Ten new recovery codes as shown to the person (`xxxx-xxxx-xxxx-xxxx`).
pub fn new_recovery_codes(rng: &mut impl RngCore) -> Vec<String> {
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let mut b = [0u8; 16];
            rng.fill_bytes(&mut b);
            let chars: String = b.iter().map(|x| RECOVERY_ALPHABET[(x & 31) as usize] as char).collect();
            format!("{}-{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12], &chars[12..16])
        })
        .collect()
}

/// The canonical form of a typed recovery code (lower case, no separators; `i`/`l` read as `1`
/// and `o` as `0`), or `None` when it cannot be one.
pub fn normalise_recovery_code(code: &str) -> Option<String> {
    let mut out = String::with_capacity(16);
    for c in code.chars() {
        let c = match c.to_ascii_lowercase() {
            ' ' | '-' => continue,
            'i' | 'l' => '1',
            'o' => '0',
            c => c,
        };
        if !RECOVERY_ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
            return None;
        }
        out.push(c);
    }
    (out.len() == 16).then_some(out)
}

/// What is stored for a recovery code: the digest of its canonical form.
pub fn recovery_code_digest(code: &str) -> Option<String> {
    normalise_recovery_code(code).map(|c| secret::digest(&c))
}

/// Does this input look like a recovery code rather than a TOTP code?
pub fn looks_like_recovery_code(code: &str) -> bool {
    normalise_recovery_code(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    // RFC 6238 Appendix B test secret (SHA-1).
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_rfc_6238() {
        // T = 59 → 94287082 (8 digits); the 6-digit code is the last six.
        assert_eq!(totp_code(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(totp_code(RFC_SECRET, 1_111_111_109).unwrap(), "081804");
    }

    #[test]
    fn a_code_is_accepted_once_and_within_one_step_of_skew() {
        let now = 1_700_000_000;
        let code = totp_code(RFC_SECRET, now).unwrap();
        let step = verify_totp(RFC_SECRET, &code, now, None).unwrap();
        assert_eq!(step, now - now % 30);
        assert_eq!(
            verify_totp(RFC_SECRET, &code, now, Some(step)).unwrap_err().code,
            "code_already_used"
        );
        // The previous step's code is accepted (skew), the one before is not.
        let prev = totp_code(RFC_SECRET, now - 30).unwrap();
        assert!(verify_totp(RFC_SECRET, &prev, now, None).is_ok());
        let old = totp_code(RFC_SECRET, now - 90).unwrap();
        assert_eq!(verify_totp(RFC_SECRET, &old, now, None).unwrap_err().code, "wrong_code");
        // An older step than the last accepted one is a replay even if within skew.
        assert_eq!(
            verify_totp(RFC_SECRET, &prev, now, Some(step)).unwrap_err().code,
            "code_already_used"
        );
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(verify_totp(RFC_SECRET, &spaced, now, None).is_ok());
        assert_eq!(
            verify_totp(RFC_SECRET, "12345", now, None).unwrap_err().code,
            "invalid_code_format"
        );
    }

    #[test]
    fn the_otpauth_uri_carries_secret_and_issuer() {
        let secret = new_totp_secret(&mut StdRng::seed_from_u64(1));
        assert_eq!(secret.len(), 20);
        let uri = otpauth_uri(&secret, "Gatehouse", "ada@example.com");
        assert!(
            uri.starts_with("otpauth://totp/Gatehouse:ada@example.com?secret="),
            "{uri}"
        );
        assert!(uri.contains(&totp_secret_base32(&secret)));
        assert_eq!(totp_secret_base32(&secret).len(), 32);
        assert_eq!(totp_secret_from_base32(&totp_secret_base32(&secret)).unwrap(), secret);
        assert!(otpauth_uri(&secret, "My Gate", "a@b.c").contains("My%20Gate"));
    }

    #[test]
    fn recovery_codes_are_ten_distinct_80_bit_codes() {
        let codes = new_recovery_codes(&mut StdRng::seed_from_u64(9));
        assert_eq!(codes.len(), 10);
        let mut uniq = codes.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), 10);
        for c in &codes {
            assert_eq!(c.len(), 19);
            assert!(looks_like_recovery_code(c));
            assert_eq!(
                recovery_code_digest(c),
                recovery_code_digest(&c.to_uppercase().replace('-', " "))
            );
        }
        assert_eq!(
            normalise_recovery_code("0123-4567-89ab-cdef").unwrap(),
            "0123456789abcdef"
        );
        assert_eq!(
            normalise_recovery_code("o123-4567-89ab-cdef").unwrap(),
            "0123456789abcdef"
        );
        assert!(normalise_recovery_code("123456").is_none());
        assert!(normalise_recovery_code("uuuu-uuuu-uuuu-uuuu").is_none());
        assert!(!looks_like_recovery_code("123456"));
    }
}
