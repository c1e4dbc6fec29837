//! One-time links sent by email: what each is for and how long it lives. A link carries 256
//! random bits; only their SHA-256 digest is stored (see [`crate::secret`]), and the store
//! consumes a link atomically, so each works once.

use rand::RngCore;

use crate::{Timestamp, secret};

/// What a one-time link is for (the `purpose` column of stored link tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Confirms that the account holder receives mail at the account's address.
    VerifyEmail,
    /// Lets the account holder choose a new password.
    PasswordReset,
    /// Invites an email address into an organization with a role.
    Invitation,
    /// Lets the holder of an enterprise account an organization's admin created choose its first
    /// password (opened on the password-reset page).
    AccountSetup,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
            Self::Invitation => "invitation",
            Self::AccountSetup => "account_setup",
        }
    }

    /// Seconds a link stays usable: two days to verify, one hour to reset a password (it is a
    /// credential), a week to accept an invitation or set up an account.
    pub fn lifetime(self) -> i64 {
        match self {
            Self::VerifyEmail => 48 * 3600,
            Self::PasswordReset => 3600,
            Self::Invitation | Self::AccountSetup => 7 * 24 * 3600,
        }
    }
}

/// A freshly issued link: the token for the URL (never stored) and what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedLink {
    pub token: String,
    pub digest: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

pub fn issue(rng: &mut impl RngCore, purpose: LinkPurpose, now: Timestamp) -> IssuedLink {
    let token = secret::random_token_hex(rng);
    IssuedLink {
        digest: secret::digest(&token),
        token,
        created_at: now,
        expires_at: now + purpose.lifetime(),
    }
}

/// Link tokens are 64 hex digits; anything else cannot be one and is not looked up.
pub fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn links_expire_by_purpose() {
        let l = issue(&mut StdRng::seed_from_u64(1), LinkPurpose::PasswordReset, 100);
        assert_eq!(l.expires_at, 3700);
        assert!(well_formed(&l.token));
        assert_eq!(l.digest, secret::digest(&l.token));
        assert!(!well_formed("../../etc/passwd"));
        assert_eq!(LinkPurpose::Invitation.lifetime(), 604_800);
    }
}
