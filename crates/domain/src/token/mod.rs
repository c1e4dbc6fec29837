//! The token service's rules: signing keys and their rotation, access-token claims (RFC 9068 and
//! the Adobe flavour), scope selection, client authentication, and service-account JWT assertions
//! (RFC 7523). Nothing here performs I/O: the clock and randomness are parameters, stored rows
//! come in as values, and atomic checks (replayed `jti`, code reuse, refresh rotation) are store
//! calls whose answers the rules here interpret.
//!
//! How a token request flows (the web layer drives it, the store answers lookups):
//!
//! ```text
//!  request ─▶ client_auth::identify ─▶ (integration, secrets, certificates from the cache)
//!          ─▶ client_auth::authenticate  /  assertion::validate + store jti ─▶ assertion::check_replay
//!          ─▶ client_auth::check_grant_allowed ─▶ scope::grant (+ scope::check_metascopes)
//!          ─▶ claims::access_token_claims ─▶ keys::SigningKey::sign_access_token ─▶ response
//! ```
//!
//! User grants ([`authorize`], [`grant`], [`id_token`]) add the browser's part: the authorization
//! endpoint decides between sign-in, consent and a code; the token endpoint redeems the code once
//! and rotates refresh tokens.

pub mod assertion;
pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod error;
pub mod grant;
pub mod id_token;
pub mod keys;
pub mod records;
pub mod rotation;
pub mod scope;

pub use error::{AssertionError, OAuthErrorCode, TokenError};

/// Token lifetimes, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Access tokens from the standard surface (default 1 h).
    pub access_token: i64,
    /// Access tokens from the Adobe-compatible surface (default 24 h, as Adobe's clients expect).
    pub ims_access_token: i64,
    /// Refresh tokens (default 14 days).
    pub refresh_token: i64,
    /// Authorization codes (default 60 s).
    pub authorization_code: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access_token: 3_600,
            ims_access_token: 86_400,
            refresh_token: 14 * 86_400,
            authorization_code: 60,
        }
    }
}

impl Lifetimes {
    /// The longest access-token lifetime: retired signing keys must stay published longer.
    pub fn longest_access_token(&self) -> i64 {
        self.access_token.max(self.ims_access_token)
    }
}
