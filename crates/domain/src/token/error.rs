//! Why a token request failed: one variant per rule, each with a stable machine-readable `reason`,
//! the RFC 6749 §5.2 error code it is reported as, and the code Adobe-compatible clients expect.
//!
//! Descriptions are written for the developer calling the endpoint; they never carry internal causes.

/// The error codes of RFC 6749 §5.2 (token endpoint) that the token service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
        }
    }
}

impl std::fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a JWT assertion (RFC 7523) was refused for. Used both for the JWT-bearer grant and for
/// `private_key_jwt` client authentication; [`TokenError`] decides which RFC 6749 code it becomes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("the assertion is not a well-formed signed JWT: {0}")]
    Malformed(String),
    #[error("the assertion's algorithm {0:?} is not accepted; use RS256, RS384, RS512 or ES256")]
    AlgorithmNotAllowed(String),
    #[error("the assertion carries critical header parameters, which are not supported")]
    CriticalHeader,
    #[error("the integration has no active, unexpired certificate to verify the assertion with")]
    NoActiveCertificate,
    #[error("Could not match JWT signature to any of the bindings")]
    SignatureInvalid,
    #[error("the assertion has no {0:?} claim")]
    MissingClaim(&'static str),
    #[error("the assertion's {0:?} claim has the wrong type or form")]
    InvalidClaim(&'static str),
    #[error("the assertion has expired")]
    Expired,
    #[error("the assertion's exp is more than 24 hours away")]
    LifetimeTooLong,
    #[error("the assertion is not valid yet (nbf is in the future)")]
    NotYetValid,
    #[error("the assertion was issued in the future (iat)")]
    IssuedInFuture,
    #[error("the assertion's audience is not this token service")]
    WrongAudience,
    #[error("the assertion's audience names a different client than the one authenticating")]
    AudienceOtherClient,
    #[error("the assertion's issuer is not the client or its organization")]
    WrongIssuer,
    #[error("the assertion's subject is not the client's technical account")]
    WrongSubject,
    #[error("the assertion must carry a jti claim")]
    JtiRequired,
    #[error("the assertion's jti has been used before")]
    Replayed,
}

impl AssertionError {
    /// Stable, machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "assertion_malformed",
            Self::AlgorithmNotAllowed(_) => "assertion_alg_not_allowed",
            Self::CriticalHeader => "assertion_crit_unsupported",
            Self::NoActiveCertificate => "assertion_no_active_certificate",
            Self::SignatureInvalid => "assertion_signature_invalid",
            Self::MissingClaim(_) => "assertion_missing_claim",
            Self::InvalidClaim(_) => "assertion_invalid_claim",
            Self::Expired => "assertion_expired",
            Self::LifetimeTooLong => "assertion_lifetime_too_long",
            Self::NotYetValid => "assertion_not_yet_valid",
            Self::IssuedInFuture => "assertion_issued_in_future",
            Self::WrongAudience => "assertion_wrong_audience",
            Self::AudienceOtherClient => "assertion_audience_other_client",
            Self::WrongIssuer => "assertion_wrong_issuer",
            Self::WrongSubject => "assertion_wrong_subject",
            Self::JtiRequired => "assertion_jti_required",
            Self::Replayed => "assertion_replayed",
        }
    }

    /// The `error` code of Adobe's `/ims/exchange/jwt` for this failure (compat §2).
    pub fn adobe_code(&self) -> &'static str {
        match self {
            Self::Malformed(_)
            | Self::AlgorithmNotAllowed(_)
            | Self::CriticalHeader
            | Self::NoActiveCertificate
            | Self::SignatureInvalid
            | Self::Expired
            | Self::LifetimeTooLong
            | Self::NotYetValid
            | Self::IssuedInFuture
            | Self::MissingClaim("exp")
            | Self::InvalidClaim("exp" | "jti" | "iat" | "nbf") => "invalid_token",
            Self::WrongAudience | Self::AudienceOtherClient => "invalid_client",
            Self::JtiRequired | Self::Replayed => "invalid_jti",
            Self::MissingClaim(_) | Self::InvalidClaim(_) | Self::WrongIssuer | Self::WrongSubject => "bad_request",
        }
    }
}

/// A refused token request. `error()` is the RFC 6749 code; `reason()` is finer and stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    // invalid_request
    #[error("the request is missing the {0} parameter")]
    MissingParameter(&'static str),
    #[error("the {0} parameter was given more than once")]
    RepeatedParameter(&'static str),
    #[error("the {name} parameter is invalid: {detail}")]
    InvalidParameter { name: &'static str, detail: String },
    #[error("the client authenticated in more than one way; use exactly one")]
    MultipleClientAuthentication,

    // unsupported_grant_type
    #[error("grant type {0:?} is not supported")]
    UnsupportedGrantType(String),

    // invalid_client
    #[error("client authentication failed: the request names no client and carries no client credentials")]
    NoClientAuthentication,
    #[error("client authentication failed: unknown client")]
    UnknownClient,
    #[error("client authentication failed: the integration is disabled")]
    ClientDisabled,
    #[error("client authentication failed: this client must authenticate")]
    ClientAuthenticationRequired,
    #[error("client authentication failed: invalid client credentials")]
    InvalidClientSecret,
    #[error("client authentication failed: {0}")]
    AuthMethodNotAllowed(&'static str),
    #[error("client authentication failed: {0}")]
    ClientAssertion(AssertionError),

    // unauthorized_client
    #[error("the token was issued to another client; a client revokes only its own tokens")]
    TokenOfAnotherClient,
    #[error("{integration_type} integrations may not use the {grant} grant")]
    GrantNotAllowed {
        grant: &'static str,
        integration_type: &'static str,
    },

    // invalid_grant
    #[error("{0}")]
    Assertion(AssertionError),
    #[error("the authorization code is invalid, expired or was issued to another client")]
    InvalidAuthorizationCode,
    #[error("the authorization code has already been used; the tokens issued from it are revoked")]
    AuthorizationCodeReused,
    #[error("the redirect_uri does not match the one the authorization code was issued for")]
    RedirectUriMismatch,
    #[error("the authorization request sent a redirect_uri, so the token request must repeat it")]
    RedirectUriMissing,
    #[error("the PKCE code_verifier does not match the code_challenge")]
    PkceMismatch,
    #[error("the authorization request sent a PKCE code_challenge, so the code_verifier is required")]
    PkceVerifierMissing,
    #[error("a code_verifier was sent, but the authorization request sent no code_challenge")]
    PkceNotRequested,
    #[error("the account the grant was issued for is disabled or no longer exists")]
    AccountUnavailable,
    #[error("the refresh token is invalid, expired, revoked or was issued to another client")]
    InvalidRefreshToken,
    #[error("the refresh token has already been used; its whole family is revoked")]
    RefreshTokenReused,

    // invalid_scope
    #[error("none of the requested scopes are granted to this integration: {}", .0.join(" "))]
    ScopeNotGranted(Vec<String>),
    #[error("the refresh token's grant does not include the requested scopes: {}", .0.join(" "))]
    ScopeBeyondGrant(Vec<String>),
    #[error("The metascopes in the JWT are not a subset of the metascopes in the binding: {}", .0.join(", "))]
    MetascopeNotSubscribed(Vec<String>),
    #[error("the JWT carries no metascope claim")]
    NoMetascope,
}

impl TokenError {
    /// The RFC 6749 §5.2 code this is reported as.
    pub fn error(&self) -> OAuthErrorCode {
        use OAuthErrorCode as C;
        match self {
            Self::MissingParameter(_)
            | Self::RepeatedParameter(_)
            | Self::InvalidParameter { .. }
            | Self::MultipleClientAuthentication => C::InvalidRequest,
            Self::UnsupportedGrantType(_) => C::UnsupportedGrantType,
            Self::NoClientAuthentication
            | Self::UnknownClient
            | Self::ClientDisabled
            | Self::ClientAuthenticationRequired
            | Self::InvalidClientSecret
            | Self::AuthMethodNotAllowed(_)
            | Self::ClientAssertion(_) => C::InvalidClient,
            Self::GrantNotAllowed { .. } | Self::TokenOfAnotherClient => C::UnauthorizedClient,
            Self::Assertion(_)
            | Self::InvalidAuthorizationCode
            | Self::AuthorizationCodeReused
            | Self::RedirectUriMismatch
            | Self::RedirectUriMissing
            | Self::PkceMismatch
            | Self::PkceVerifierMissing
            | Self::PkceNotRequested
            | Self::AccountUnavailable
            | Self::InvalidRefreshToken
            | Self::RefreshTokenReused => C::InvalidGrant,
            Self::ScopeNotGranted(_)
            | Self::ScopeBeyondGrant(_)
            | Self::MetascopeNotSubscribed(_)
            | Self::NoMetascope => C::InvalidScope,
        }
    }

    /// Stable, machine-readable reason (finer than [`TokenError::error`]); for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MissingParameter(_) => "missing_parameter",
            Self::RepeatedParameter(_) => "repeated_parameter",
            Self::InvalidParameter { .. } => "invalid_parameter",
            Self::MultipleClientAuthentication => "multiple_client_authentication",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::NoClientAuthentication => "no_client_authentication",
            Self::UnknownClient => "unknown_client",
            Self::ClientDisabled => "client_disabled",
            Self::ClientAuthenticationRequired => "client_authentication_required",
            Self::InvalidClientSecret => "invalid_client_secret",
            Self::AuthMethodNotAllowed(_) => "auth_method_not_allowed",
            Self::ClientAssertion(a) | Self::Assertion(a) => a.reason(),
            Self::GrantNotAllowed { .. } => "grant_not_allowed",
            Self::TokenOfAnotherClient => "token_of_another_client",
            Self::InvalidAuthorizationCode => "invalid_authorization_code",
            Self::AuthorizationCodeReused => "authorization_code_reused",
            Self::RedirectUriMismatch => "redirect_uri_mismatch",
            Self::RedirectUriMissing => "redirect_uri_missing",
            Self::PkceMismatch => "pkce_mismatch",
            Self::PkceVerifierMissing => "pkce_verifier_missing",
            Self::PkceNotRequested => "pkce_not_requested",
            Self::AccountUnavailable => "account_unavailable",
            Self::InvalidRefreshToken => "invalid_refresh_token",
            Self::RefreshTokenReused => "refresh_token_reused",
            Self::ScopeNotGranted(_) => "scope_not_granted",
            Self::ScopeBeyondGrant(_) => "scope_beyond_grant",
            Self::MetascopeNotSubscribed(_) => "metascope_not_subscribed",
            Self::NoMetascope => "no_metascope",
        }
    }

    /// The `error` code Adobe-compatible clients expect on the `/ims/...` surface (compat §2, §3).
    pub fn adobe_code(&self) -> &'static str {
        match self {
            Self::Assertion(a) | Self::ClientAssertion(a) => a.adobe_code(),
            Self::MissingParameter(_) | Self::RepeatedParameter(_) | Self::InvalidParameter { .. } => "invalid_request",
            other => other.error().as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_maps_to_its_rfc_6749_code() {
        let cases: Vec<(TokenError, &str)> = vec![
            (TokenError::MissingParameter("grant_type"), "invalid_request"),
            (TokenError::MultipleClientAuthentication, "invalid_request"),
            (
                TokenError::UnsupportedGrantType("password".into()),
                "unsupported_grant_type",
            ),
            (TokenError::InvalidClientSecret, "invalid_client"),
            (TokenError::NoClientAuthentication, "invalid_client"),
            (TokenError::ClientAssertion(AssertionError::Expired), "invalid_client"),
            (TokenError::Assertion(AssertionError::Expired), "invalid_grant"),
            (
                TokenError::GrantNotAllowed {
                    grant: "client_credentials",
                    integration_type: "api_key",
                },
                "unauthorized_client",
            ),
            (TokenError::ScopeNotGranted(vec!["x".into()]), "invalid_scope"),
            (TokenError::RefreshTokenReused, "invalid_grant"),
        ];
        for (e, code) in cases {
            assert_eq!(e.error().as_str(), code, "{e:?}");
        }
    }

    #[test]
    fn adobe_codes_follow_the_compat_notes() {
        assert_eq!(
            TokenError::Assertion(AssertionError::Expired).adobe_code(),
            "invalid_token"
        );
        assert_eq!(
            TokenError::Assertion(AssertionError::Replayed).adobe_code(),
            "invalid_jti"
        );
        assert_eq!(
            TokenError::Assertion(AssertionError::InvalidClaim("exp")).adobe_code(),
            "invalid_token"
        );
        assert_eq!(
            TokenError::Assertion(AssertionError::InvalidClaim("sub")).adobe_code(),
            "bad_request"
        );
        assert_eq!(
            TokenError::Assertion(AssertionError::WrongAudience).adobe_code(),
            "invalid_client"
        );
        assert_eq!(TokenError::NoMetascope.adobe_code(), "invalid_scope");
        assert_eq!(TokenError::UnknownClient.adobe_code(), "invalid_client");
    }
}
