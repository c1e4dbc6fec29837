//! What the token service stores: signing keys, refresh tokens, authorization codes, and the
//! outcomes of the atomic operations on them. The storage traits take and return these.
//!
//! Refresh tokens and authorization codes are opaque random values; only their SHA-256 digests
//! ([`crate::secret::digest`]) are stored, like client secrets.

use crate::Timestamp;

use super::keys::{Jwk, SigningAlg};

/// When a signing key is published, signs, retires and disappears (see [`super::rotation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySchedule {
    pub created_at: Timestamp,
    pub activates_at: Timestamp,
    pub retires_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A signing key as stored. The private half is PKCS#8 DER sealed with the master key
/// (associated data [`signing_key_aad`]); this type never holds it in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub private_key_enc: Vec<u8>,
    pub public_jwk: Jwk,
    pub schedule: KeySchedule,
}

/// The associated data that binds a sealed private key to its row.
pub fn signing_key_aad(kid: &str) -> Vec<u8> {
    format!("signing_key:{kid}").into_bytes()
}

/// A refresh token as stored. Every rotation inserts a new row in the same `family_id`; the old
/// row gets `rotated_at`. Presenting a rotated token again is reuse: the family is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub digest: String,
    pub family_id: String,
    pub client_id: String,
    pub account_id: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: String,
    pub auth_time: Option<Timestamp>,
    /// How the person authenticated (RFC 8176 values), for the ID tokens of refreshes.
    pub amr: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub rotated_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// The result of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRotation {
    /// The token was current; it is now rotated and the new one stored. Holds the old row.
    Rotated(RefreshTokenRecord),
    /// The token had already been rotated: reuse. Every token of the family is now revoked.
    Reused { family_id: String, client_id: String },
    /// Unknown, issued to another client, expired or revoked. Nothing changed.
    Invalid,
}

/// An authorization code as stored (RFC 6749 §4.1.2), bound to the client, redirect URI, PKCE
/// challenge and nonce. `issued_*` remember what was issued from it, so reuse can revoke them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCodeRecord {
    pub code_digest: String,
    pub client_id: String,
    pub account_id: String,
    pub redirect_uri: String,
    /// The authorization request sent `redirect_uri`, so the token request must repeat it.
    pub redirect_uri_sent: bool,
    /// Granted scopes, space-separated.
    pub scope: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: Timestamp,
    /// How the person authenticated (RFC 8176 values), for the ID token.
    pub amr: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub consumed_at: Option<Timestamp>,
    pub issued_family_id: Option<String>,
    pub issued_jti: Option<String>,
}

/// The result of consuming an authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeConsumption {
    /// First use: the code is now consumed. The caller still checks expiry, client and PKCE.
    Consumed(AuthorizationCodeRecord),
    /// The code had been consumed before: the caller revokes the tokens it names
    /// (`issued_jti`, `issued_family_id`) and refuses the request.
    AlreadyConsumed(AuthorizationCodeRecord),
    NotFound,
}

/// What ending every grant of a client revoked: refresh tokens (counted per token) and unused
/// authorization codes (deleted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientGrantsRevoked {
    pub refresh_tokens: u64,
    pub authorization_codes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aad_names_the_key() {
        assert_eq!(signing_key_aad("abc"), b"signing_key:abc".to_vec());
    }
}
