//! What a new password must satisfy: at least [`password::MIN_LENGTH`] characters, at most
//! [`password::MAX_LENGTH`] bytes, not one of the most common breached passwords (the bundled list
//! in `data/common-passwords.txt`, see `data/README.md`), and not the account's own email address.

use std::{collections::HashSet, sync::LazyLock};

use crate::{DomainError, password};

const COMMON: &str = include_str!("../../data/common-passwords.txt");

static COMMON_SET: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| COMMON.lines().map(str::trim).filter(|l| !l.is_empty()).collect());

/// How many passwords the bundled list holds.
pub fn common_password_count() -> usize {
    COMMON_SET.len()
}

/// Is this password on the bundled list (compared case-insensitively)?
pub fn is_common(candidate: &str) -> bool {
    COMMON_SET.contains(candidate.to_lowercase().as_str())
}

/// Checks a new password. `email` is the account's address, which must not be the password.
pub fn check_new_password(candidate: &str, email: &str) -> Result<(), DomainError> {
    password::check_length(candidate).map_err(|e| DomainError::new(e.code, sentence(&e.message)))?;
    if is_common(candidate) {
        return Err(DomainError::new(
            "password_too_common",
            "This password is one of the most commonly used passwords, so attackers try it first. Choose another.",
        ));
    }
    let lower = candidate.to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if lower == email.to_lowercase() || (local.len() >= password::MIN_LENGTH && lower == local.to_lowercase()) {
        return Err(DomainError::new(
            "password_is_email",
            "The password must not be your email address.",
        ));
    }
    Ok(())
}

fn sentence(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = c
        .next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_list_is_large() {
        assert!(common_password_count() >= 19_000, "{}", common_password_count());
        assert!(is_common("password"));
        assert!(is_common("1QAZ2WSX3EDC"));
    }

    #[test]
    fn common_long_passwords_are_refused() {
        for pw in ["1qaz2wsx3edc", "qwerty123456", "Q1w2E3r4T5y6"] {
            assert_eq!(
                check_new_password(pw, "a@example.com").unwrap_err().code,
                "password_too_common",
                "{pw}"
            );
        }
    }

    #[test]
    fn short_long_and_email_passwords_are_refused() {
        assert_eq!(
            check_new_password("short", "a@example.com").unwrap_err().code,
            "password_too_short"
        );
        let err = check_new_password(&"x".repeat(2000), "a@example.com").unwrap_err();
        assert_eq!(err.code, "password_too_long");
        assert!(err.message.starts_with("Password must"), "{}", err.message);
        assert_eq!(
            check_new_password("Grace@Example.com", "grace@example.com")
                .unwrap_err()
                .code,
            "password_is_email"
        );
        assert_eq!(
            check_new_password("marguerite.hopper", "marguerite.hopper@example.com")
                .unwrap_err()
                .code,
            "password_is_email"
        );
    }

    #[test]
    fn a_good_password_passes() {
        assert!(check_new_password("violet tractor harbour 42", "a@example.com").is_ok());
    }
}
