//! User grants: authorization codes (RFC 6749 §4.1), refresh tokens (§6, rotated on every use as
//! RFC 9700 §4.14.2 advises) and the consent a person gave an integration.
//!
//! Codes and refresh tokens are 256-bit random values; only their SHA-256 digest is stored. On
//! the standard surface they are opaque (`ghc_…`, `ghr_…`, so secret scanners recognise them). On
//! the Adobe-compatible surface they are JWT-shaped, because Adobe's clients decode them and pick
//! the grant from the `type` claim (compat §1): the random value is the `id` claim, and the whole
//! string is what is digested, so the signature adds nothing to security — it only makes the
//! value look like what the clients expect.
//!
//! Every token descending from one authorization code shares a *grant ID* (the refresh-token
//! family). Access tokens carry it, so revoking the grant — code reuse, refresh-token reuse,
//! revocation of a refresh token, withdrawn consent — revokes them too.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::Timestamp;

use super::{
    authorize::pkce_matches, claims::IssuerInfo, error::TokenError, records::AuthorizationCodeRecord, scope::join_comma,
};

/// Prefix of opaque authorization codes.
pub const CODE_PREFIX: &str = "ghc_";
/// Prefix of opaque refresh tokens.
pub const REFRESH_PREFIX: &str = "ghr_";
/// The deny-list key that revokes every access token of a grant.
pub fn grant_deny_key(grant_id: &str) -> String {
    format!("grant:{grant_id}")
}

/// The deny-list key that ends every access token issued to `account_id` at or before `at`
/// (the account was disabled then): `account:<id>:<at>`.
pub fn account_deny_key(account_id: &str, at: Timestamp) -> String {
    format!("account:{account_id}:{at}")
}

/// The account and instant of an [`account_deny_key`], or `None` for any other key.
pub fn parse_account_deny_key(key: &str) -> Option<(&str, Timestamp)> {
    let rest = key.strip_prefix("account:")?;
    let (id, at) = rest.rsplit_once(':')?;
    Some((id, at.parse().ok()?))
}

/// 256 random bits, base64url.
pub fn random_value(rng: &mut impl RngCore) -> String {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// An opaque code or refresh token: `prefix` + 256 random bits.
pub fn opaque(prefix: &str, rng: &mut impl RngCore) -> String {
    format!("{prefix}{}", random_value(rng))
}

/// Which kind of grant token an Adobe-shaped value is (its `type` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantTokenKind {
    AuthorizationCode,
    RefreshToken,
}

impl GrantTokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
        }
    }
}

/// The payload of a JWT-shaped code or refresh token on the Adobe-compatible surface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdobeGrantClaims {
    /// The random value that makes the token unguessable.
    pub id: String,
    #[serde(rename = "type")]
    pub token_type: String,
    pub client_id: String,
    pub user_id: String,
    #[serde(rename = "as")]
    pub as_: String,
    /// Epoch milliseconds, as a decimal string.
    pub created_at: String,
    /// Lifetime in milliseconds, as a decimal string.
    pub expires_in: String,
    /// Comma-separated.
    pub scope: String,
}

/// Claims for a JWT-shaped code or refresh token (to be signed by the caller).
#[allow(clippy::too_many_arguments)]
pub fn adobe_grant_claims(
    kind: GrantTokenKind,
    issuer: &IssuerInfo,
    client_id: &str,
    account_id: &str,
    scopes: &[String],
    now: Timestamp,
    lifetime: i64,
    rng: &mut impl RngCore,
) -> AdobeGrantClaims {
    AdobeGrantClaims {
        id: random_value(rng),
        token_type: kind.as_str().to_owned(),
        client_id: client_id.to_owned(),
        user_id: account_id.to_owned(),
        as_: issuer.adobe_as.clone(),
        created_at: now.saturating_mul(1000).to_string(),
        expires_in: lifetime.saturating_mul(1000).to_string(),
        scope: join_comma(scopes),
    }
}

/// What the token request presented with an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5).
#[derive(Debug, Clone, Copy)]
pub struct CodeRedemption<'a> {
    pub client_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
    pub now: Timestamp,
}

/// Checks a freshly consumed code against the token request: same client, not expired, the same
/// redirect URI when one is sent, and the PKCE verifier when a challenge was sent — and no
/// verifier when none was (RFC 9700 §2.1.1: that would hide a PKCE downgrade).
///
/// The redirect URI must be repeated when the authorization request sent one (RFC 6749 §4.1.3).
/// Codes of the Adobe-compatible surface never require it (Adobe's clients never send it there).
pub fn check_code(code: &AuthorizationCodeRecord, r: &CodeRedemption<'_>) -> Result<(), TokenError> {
    if code.client_id != r.client_id || code.expires_at <= r.now {
        return Err(TokenError::InvalidAuthorizationCode);
    }
    match r.redirect_uri {
        Some(u) if u != code.redirect_uri => return Err(TokenError::RedirectUriMismatch),
        None if code.redirect_uri_sent => return Err(TokenError::RedirectUriMissing),
        _ => {}
    }
    match (&code.code_challenge, r.code_verifier) {
        (Some(challenge), Some(verifier)) => {
            if pkce_matches(verifier, challenge) {
                Ok(())
            } else {
                Err(TokenError::PkceMismatch)
            }
        }
        (Some(_), None) => Err(TokenError::PkceVerifierMissing),
        (None, Some(_)) => Err(TokenError::PkceNotRequested),
        (None, None) => Ok(()),
    }
}

/// The scopes of a refreshed token: the original ones, narrowed to those requested when a
/// `scope` parameter is sent (RFC 6749 §6). A requested scope the grant does not include is
/// `invalid_scope`: a refresh never widens, nor silently narrows what was asked for.
pub fn refreshed_scopes(original: &[String], requested: &[String]) -> Result<Vec<String>, TokenError> {
    if requested.is_empty() {
        return Ok(original.to_vec());
    }
    let beyond: Vec<String> = requested.iter().filter(|s| !original.contains(s)).cloned().collect();
    if !beyond.is_empty() {
        return Err(TokenError::ScopeBeyondGrant(beyond));
    }
    Ok(original.iter().filter(|s| requested.contains(s)).cloned().collect())
}

/// A person's consent to an integration's scopes, remembered so the consent screen is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub account_id: String,
    pub integration_id: String,
    pub scopes: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Consent {
    /// Does this consent cover every one of `scopes`?
    pub fn covers(&self, scopes: &[String]) -> bool {
        scopes.iter().all(|s| self.scopes.contains(s))
    }

    /// This consent widened by `scopes` (a new approval adds to what was approved before).
    pub fn widened(&self, scopes: &[String], now: Timestamp) -> Self {
        let mut all = self.scopes.clone();
        for s in scopes {
            if !all.contains(s) {
                all.push(s.clone());
            }
        }
        Self {
            scopes: all,
            updated_at: now,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn code(challenge: Option<&str>) -> AuthorizationCodeRecord {
        AuthorizationCodeRecord {
            code_digest: "d".into(),
            client_id: "client".into(),
            account_id: "acct".into(),
            redirect_uri: "https://app.example.com/cb".into(),
            redirect_uri_sent: true,
            scope: "openid".into(),
            code_challenge: challenge.map(str::to_owned),
            code_challenge_method: challenge.map(|_| "S256".to_owned()),
            nonce: None,
            auth_time: 0,
            amr: vec![],
            created_at: 0,
            expires_at: 60,
            consumed_at: Some(1),
            issued_family_id: None,
            issued_jti: None,
        }
    }

    fn redemption<'a>(verifier: Option<&'a str>) -> CodeRedemption<'a> {
        CodeRedemption {
            client_id: "client",
            redirect_uri: Some("https://app.example.com/cb"),
            code_verifier: verifier,
            now: 10,
        }
    }

    #[test]
    fn opaque_values_are_prefixed_and_random() {
        let mut rng = StdRng::seed_from_u64(1);
        let a = opaque(CODE_PREFIX, &mut rng);
        let b = opaque(CODE_PREFIX, &mut rng);
        assert!(a.starts_with("ghc_") && a.len() == 4 + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn a_code_is_bound_to_client_expiry_redirect_and_verifier() {
        let c = code(Some(CHALLENGE));
        assert_eq!(check_code(&c, &redemption(Some(VERIFIER))), Ok(()));
        let other_client = CodeRedemption {
            client_id: "other",
            ..redemption(Some(VERIFIER))
        };
        assert_eq!(check_code(&c, &other_client), Err(TokenError::InvalidAuthorizationCode));
        let late = CodeRedemption {
            now: 60,
            ..redemption(Some(VERIFIER))
        };
        assert_eq!(check_code(&c, &late), Err(TokenError::InvalidAuthorizationCode));
        let other_uri = CodeRedemption {
            redirect_uri: Some("https://app.example.com/cb/"),
            ..redemption(Some(VERIFIER))
        };
        assert_eq!(check_code(&c, &other_uri), Err(TokenError::RedirectUriMismatch));
        let no_uri = CodeRedemption {
            redirect_uri: None,
            ..redemption(Some(VERIFIER))
        };
        assert_eq!(check_code(&c, &no_uri), Err(TokenError::RedirectUriMissing));
        let not_sent = AuthorizationCodeRecord {
            redirect_uri_sent: false,
            ..code(Some(CHALLENGE))
        };
        assert_eq!(check_code(&not_sent, &no_uri), Ok(()));
        assert_eq!(check_code(&c, &redemption(None)), Err(TokenError::PkceVerifierMissing));
        assert_eq!(
            check_code(&c, &redemption(Some(&VERIFIER.replace('d', "e")))),
            Err(TokenError::PkceMismatch)
        );
        let plain = code(None);
        assert_eq!(check_code(&plain, &redemption(None)), Ok(()));
        assert_eq!(
            check_code(&plain, &redemption(Some(VERIFIER))),
            Err(TokenError::PkceNotRequested)
        );
    }

    #[test]
    fn refresh_scopes_narrow_but_never_widen() {
        let orig = vec!["openid".to_owned(), "offline_access".to_owned(), "pdf_read".to_owned()];
        assert_eq!(refreshed_scopes(&orig, &[]).unwrap(), orig);
        assert_eq!(
            refreshed_scopes(&orig, &["pdf_read".into(), "openid".into()]).unwrap(),
            vec!["openid".to_owned(), "pdf_read".to_owned()]
        );
        assert_eq!(
            refreshed_scopes(&orig, &["pdf_read".into(), "admin".into()]),
            Err(TokenError::ScopeBeyondGrant(vec!["admin".into()]))
        );
        assert!(refreshed_scopes(&orig, &["admin".into()]).is_err());
    }

    #[test]
    fn adobe_grant_claims_carry_the_type_and_millisecond_strings() {
        let issuer = IssuerInfo {
            issuer: "https://id.example.test".into(),
            adobe_as: "ims-na1".into(),
        };
        let c = adobe_grant_claims(
            GrantTokenKind::RefreshToken,
            &issuer,
            "client",
            "acct",
            &["openid".into(), "offline_access".into()],
            5,
            60,
            &mut StdRng::seed_from_u64(2),
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["type"], "refresh_token");
        assert_eq!(v["created_at"], "5000");
        assert_eq!(v["expires_in"], "60000");
        assert_eq!(v["as"], "ims-na1");
        assert_eq!(v["scope"], "openid,offline_access");
        assert_eq!(c.id.len(), 43);
    }

    #[test]
    fn consent_covers_and_widens() {
        let c = Consent {
            account_id: "a".into(),
            integration_id: "i".into(),
            scopes: vec!["openid".into()],
            created_at: 1,
            updated_at: 1,
        };
        assert!(c.covers(&["openid".into()]));
        assert!(!c.covers(&["openid".into(), "email".into()]));
        let w = c.widened(&["email".into(), "openid".into()], 9);
        assert_eq!(w.scopes, vec!["openid", "email"]);
        assert_eq!((w.created_at, w.updated_at), (1, 9));
    }
}
