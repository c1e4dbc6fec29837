//! The authorization endpoint's rules (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2, RFC 7636):
//! which client and redirect URI a request names, whether its parameters are acceptable, and what
//! happens next for the person in front of the browser (sign in, consent, or a code).
//!
//! Two kinds of refusal, because a redirect to an unverified URI would make Gatehouse an open
//! redirector (RFC 6749 §4.1.2.1):
//! - [`ClientRefusal`]: the client or the redirect URI itself is wrong. Shown on a page, never
//!   redirected.
//! - [`AuthorizeError`]: anything else, once the redirect URI is known to belong to the client.
//!   Sent back to it as `error`, `error_description` and `state`.
//!
//! Only `response_type=code` is supported (the implicit flow is off, as RFC 9700 §2.1.2 advises);
//! PKCE is `S256` only (`plain` is refused) and required of public clients (RFC 9700 §2.1.1).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    DomainError, Timestamp,
    integration::{Integration, IntegrationStatus, IntegrationType, Platform},
    redirect::RedirectRules,
};

use super::scope::parse_scope_list;

/// Longest `state` and `nonce` accepted (Adobe documents 4096 characters for `state`).
pub const MAX_STATE_LEN: usize = 4096;
/// Longest `max_age` honoured: a year. Larger values are treated as "no limit that matters".
const MAX_MAX_AGE: i64 = 366 * 86_400;

/// Why the request cannot be answered by a redirect: shown to the person on a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientRefusal {
    #[error("The request does not say which application is asking (client_id is missing).")]
    MissingClientId,
    #[error("The {0} parameter was given more than once.")]
    RepeatedParameter(&'static str),
    #[error("No application with this client ID is registered.")]
    UnknownClient,
    #[error("This application is disabled, so it cannot ask you to sign in.")]
    ClientDisabled,
    #[error("This kind of integration ({0}) cannot ask people to sign in; only OAuth integrations can.")]
    NotAnOAuthClient(&'static str),
    #[error("This application has no redirect URI registered, so there is nowhere to send you back to.")]
    NoRedirectUri,
    #[error("The redirect URI {0:?} is not registered for this application.")]
    RedirectUriNotAllowed(String),
}

impl ClientRefusal {
    /// Stable code, for logs and the page.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingClientId | Self::RepeatedParameter(_) => "invalid_request",
            Self::UnknownClient | Self::ClientDisabled => "invalid_client",
            Self::NotAnOAuthClient(_) => "unauthorized_client",
            Self::NoRedirectUri | Self::RedirectUriNotAllowed(_) => "invalid_redirect_uri",
        }
    }
}

/// An error sent back to the client's redirect URI (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("response_type {0:?} is not supported; use \"code\"")]
    UnsupportedResponseType(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error("the person is not signed in, or must sign in again, and prompt=none forbids asking")]
    LoginRequired,
    #[error("the person has not consented to these scopes, and prompt=none forbids asking")]
    ConsentRequired,
    #[error("the person declined the request")]
    AccessDenied,
    #[error("request objects are not supported")]
    RequestNotSupported,
    #[error("request_uri is not supported")]
    RequestUriNotSupported,
}

impl AuthorizeError {
    /// The `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::UnsupportedResponseType(_) => "unsupported_response_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::AccessDenied => "access_denied",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
        }
    }
}

fn invalid(detail: impl Into<String>) -> AuthorizeError {
    AuthorizeError::InvalidRequest(detail.into())
}

/// The `prompt` values (OIDC Core §3.1.2.1). `select_account` is accepted and shows nothing more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

impl Prompt {
    pub fn parse(s: Option<&str>) -> Result<Self, AuthorizeError> {
        let mut p = Self::default();
        for v in s.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
            match v {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                "select_account" => {}
                other => return Err(invalid(format!("prompt value {other:?} is not supported"))),
            }
        }
        if p.none && (p.login || p.consent) {
            return Err(invalid("prompt=none cannot be combined with other prompt values"));
        }
        Ok(p)
    }
}

/// Where the response parameters go (OAuth 2.0 Multiple Response Type Encoding Practices §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
}

/// A PKCE challenge (RFC 7636 §4.2); always `S256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkceChallenge(pub String);

impl PkceChallenge {
    pub const METHOD: &'static str = "S256";

    fn parse(challenge: Option<&str>, method: Option<&str>) -> Result<Option<Self>, AuthorizeError> {
        let Some(challenge) = challenge else {
            return match method {
                Some(_) => Err(invalid("code_challenge_method was sent without a code_challenge")),
                None => Ok(None),
            };
        };
        match method {
            Some("S256") => {}
            Some("plain") | None => {
                return Err(invalid(
                    "code_challenge_method must be S256; the plain method is not accepted (and is the default when the method is omitted)",
                ));
            }
            Some(other) => {
                return Err(invalid(format!(
                    "code_challenge_method {other:?} is not supported; use S256"
                )));
            }
        }
        // base64url(SHA-256(verifier)) without padding is always 43 characters.
        let well_formed = challenge.len() == 43
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(invalid(
                "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
            ));
        }
        Ok(Some(Self(challenge.to_owned())))
    }
}

/// Is `verifier` a syntactically valid PKCE code verifier (RFC 7636 §4.1)?
pub fn verifier_well_formed(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Does `verifier` hash to `challenge` (RFC 7636 §4.6, S256)? Compared in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    verifier_well_formed(verifier) && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// The raw parameters of an authorization request, each given at most once.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawRequest<'a> {
    pub response_type: Option<&'a str>,
    pub response_mode: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub state: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub prompt: Option<&'a str>,
    pub max_age: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
    pub request: Option<&'a str>,
    pub request_uri: Option<&'a str>,
}

/// A validated authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// Requested scopes, in order, without duplicates.
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub pkce: Option<PkceChallenge>,
    pub response_mode: ResponseMode,
}

/// The redirect rules an OAuth integration registered: `None` when it has no default redirect
/// URI (or is not an OAuth integration). Compile once and keep: patterns are regular expressions.
pub fn redirect_rules(integration: &Integration) -> Result<Option<RedirectRules>, DomainError> {
    if integration.integration_type != IntegrationType::Oauth {
        return Ok(None);
    }
    let Some(default) = integration.redirect_uri.as_deref() else {
        return Ok(None);
    };
    let platform = integration.platform.unwrap_or(Platform::Web);
    RedirectRules::parse(platform, default, &integration.redirect_patterns).map(Some)
}

/// Checks the client and works out the redirect URI (the one given, which must be the default
/// redirect URI or match a pattern; or the default when none is given). Nothing else is looked
/// at before this succeeds. `rules` are the integration's [`redirect_rules`].
pub fn check_client(
    integration: &Integration,
    rules: Option<&RedirectRules>,
    redirect_uri: Option<&str>,
) -> Result<String, ClientRefusal> {
    if integration.integration_type != IntegrationType::Oauth {
        return Err(ClientRefusal::NotAnOAuthClient(integration.integration_type.as_str()));
    }
    if integration.status != IntegrationStatus::Active {
        return Err(ClientRefusal::ClientDisabled);
    }
    let rules = rules.ok_or(ClientRefusal::NoRedirectUri)?;
    match redirect_uri {
        None => Ok(rules.default.as_str().to_owned()),
        Some(given) if rules.allows(given) => Ok(given.to_owned()),
        Some(given) => Err(ClientRefusal::RedirectUriNotAllowed(given.chars().take(200).collect())),
    }
}

/// Validates the rest of the request for `integration` (already accepted by [`check_client`]).
pub fn parse_request(integration: &Integration, raw: &RawRequest<'_>) -> Result<AuthorizationRequest, AuthorizeError> {
    if raw.request.is_some() {
        return Err(AuthorizeError::RequestNotSupported);
    }
    if raw.request_uri.is_some() {
        return Err(AuthorizeError::RequestUriNotSupported);
    }
    match raw.response_type {
        Some("code") => {}
        None => return Err(invalid("response_type is missing; use response_type=code")),
        Some(other) => {
            return Err(AuthorizeError::UnsupportedResponseType(
                other.chars().take(50).collect(),
            ));
        }
    }
    let response_mode = match raw.response_mode {
        None | Some("query") => ResponseMode::Query,
        Some("fragment") => ResponseMode::Fragment,
        Some(other) => {
            return Err(invalid(format!(
                "response_mode {other:?} is not supported; use query or fragment"
            )));
        }
    };
    for (name, v) in [("state", raw.state), ("nonce", raw.nonce)] {
        if v.is_some_and(|v| v.len() > MAX_STATE_LEN) {
            return Err(invalid(format!("{name} is longer than {MAX_STATE_LEN} characters")));
        }
    }
    let scopes = parse_scope_list(raw.scope.unwrap_or("")).map_err(|e| AuthorizeError::InvalidScope(e.to_string()))?;
    let prompt = Prompt::parse(raw.prompt)?;
    let max_age = match raw.max_age {
        None => None,
        Some(s) => Some(
            s.parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| invalid("max_age must be a non-negative number of seconds"))?
                .min(MAX_MAX_AGE),
        ),
    };
    let pkce = PkceChallenge::parse(raw.code_challenge, raw.code_challenge_method)?;
    if pkce.is_none() && !integration.has_secret() {
        return Err(invalid(
            "this application is a public client: it must send a PKCE code_challenge (S256)",
        ));
    }
    Ok(AuthorizationRequest {
        scopes,
        nonce: raw.nonce.map(str::to_owned),
        prompt,
        max_age,
        pkce,
        response_mode,
    })
}

/// What the browser's person must do before a code is issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Sign in; with `force`, even someone already signed in signs in again.
    SignIn { force: bool },
    /// Approve the scopes on the consent screen.
    Consent,
    /// Nothing: issue the code.
    Issue,
}

/// The facts about the browser the decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowserState {
    /// When the signed-in person last authenticated, if anyone is signed in.
    pub auth_time: Option<Timestamp>,
    /// For `prompt=login`: the instant the sign-in was demanded; a sign-in at or after it counts.
    pub login_demanded_at: Option<Timestamp>,
    /// Whether the stored consent covers every requested scope.
    pub consented: bool,
}

/// Decides what happens next (OIDC Core §3.1.2.3, §3.1.2.4).
pub fn decide(req: &AuthorizationRequest, browser: &BrowserState, now: Timestamp) -> Result<Next, AuthorizeError> {
    let Some(auth_time) = browser.auth_time else {
        return if req.prompt.none {
            Err(AuthorizeError::LoginRequired)
        } else {
            Ok(Next::SignIn { force: false })
        };
    };
    let relogin_done = browser.login_demanded_at.is_some_and(|t| auth_time >= t);
    let too_old = req.max_age.is_some_and(|max| now - auth_time > max);
    if (req.prompt.login && !relogin_done) || too_old {
        return if req.prompt.none {
            Err(AuthorizeError::LoginRequired)
        } else {
            Ok(Next::SignIn { force: true })
        };
    }
    if !browser.consented || req.prompt.consent {
        return if req.prompt.none {
            Err(AuthorizeError::ConsentRequired)
        } else {
            Ok(Next::Consent)
        };
    }
    Ok(Next::Issue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::client_auth::tests::integration;

    fn web() -> Integration {
        let mut i = integration(IntegrationType::Oauth, Some(Platform::Web));
        i.redirect_uri = Some("https://app.example.com/callback".into());
        i.redirect_patterns = vec![r"https://app\.example\.com/cb/[a-z]+".into()];
        i
    }

    fn spa() -> Integration {
        let mut i = web();
        i.platform = Some(Platform::Spa);
        i
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn raw() -> RawRequest<'static> {
        RawRequest {
            response_type: Some("code"),
            scope: Some("openid profile"),
            state: Some("s"),
            code_challenge: Some(CHALLENGE),
            code_challenge_method: Some("S256"),
            ..RawRequest::default()
        }
    }

    fn check(i: &Integration, uri: Option<&str>) -> Result<String, ClientRefusal> {
        check_client(i, redirect_rules(i).unwrap().as_ref(), uri)
    }

    #[test]
    fn the_redirect_uri_must_be_registered_exactly_or_match_a_pattern() {
        let i = web();
        assert_eq!(check(&i, None).unwrap(), "https://app.example.com/callback");
        assert!(check(&i, Some("https://app.example.com/callback")).is_ok());
        assert!(check(&i, Some("https://app.example.com/cb/abc")).is_ok());
        for bad in [
            "https://app.example.com/callback/",
            "https://app.example.com/callbacK",
            "https://app.example.com:8443/callback",
            "https://user@app.example.com/callback",
            "https://evil.example.com/callback",
            "http://app.example.com/callback",
            "https://app.example.com/cb/abc/../../evil",
            "https://app.example.com/callback#x",
        ] {
            assert!(
                matches!(check(&i, Some(bad)), Err(ClientRefusal::RedirectUriNotAllowed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_active_oauth_clients_with_a_redirect_uri_may_ask() {
        let mut i = web();
        i.status = IntegrationStatus::Disabled;
        assert_eq!(check(&i, None), Err(ClientRefusal::ClientDisabled));
        for t in [IntegrationType::ServiceAccount, IntegrationType::ServerToServer] {
            let technical = integration(t, None);
            assert_eq!(check(&technical, None).unwrap_err().code(), "unauthorized_client");
        }
        let mut none = web();
        none.redirect_uri = None;
        assert_eq!(check(&none, None), Err(ClientRefusal::NoRedirectUri));
    }

    #[test]
    fn only_the_code_flow_with_s256_is_accepted() {
        let i = web();
        let r = parse_request(&i, &raw()).unwrap();
        assert_eq!(r.scopes, vec!["openid", "profile"]);
        assert_eq!(r.pkce, Some(PkceChallenge(CHALLENGE.into())));
        let token = RawRequest {
            response_type: Some("token"),
            ..raw()
        };
        assert_eq!(
            parse_request(&i, &token).unwrap_err().code(),
            "unsupported_response_type"
        );
        for method in [Some("plain"), None, Some("S512")] {
            let r = RawRequest {
                code_challenge_method: method,
                ..raw()
            };
            assert_eq!(
                parse_request(&i, &r).unwrap_err().code(),
                "invalid_request",
                "{method:?}"
            );
        }
        let short = RawRequest {
            code_challenge: Some("abc"),
            ..raw()
        };
        assert!(parse_request(&i, &short).is_err());
        let req_obj = RawRequest {
            request: Some("eyJ..."),
            ..raw()
        };
        assert_eq!(parse_request(&i, &req_obj).unwrap_err().code(), "request_not_supported");
    }

    #[test]
    fn public_clients_must_use_pkce_and_confidential_ones_may() {
        let no_pkce = RawRequest {
            code_challenge: None,
            code_challenge_method: None,
            ..raw()
        };
        assert!(parse_request(&web(), &no_pkce).is_ok());
        assert_eq!(parse_request(&spa(), &no_pkce).unwrap_err().code(), "invalid_request");
        assert!(parse_request(&spa(), &raw()).is_ok());
    }

    #[test]
    fn prompt_and_max_age_parse() {
        assert_eq!(
            Prompt::parse(Some("login consent")).unwrap(),
            Prompt {
                none: false,
                login: true,
                consent: true
            }
        );
        assert!(Prompt::parse(Some("none login")).is_err());
        assert!(Prompt::parse(Some("bogus")).is_err());
        let r = RawRequest {
            max_age: Some("-1"),
            ..raw()
        };
        assert!(parse_request(&web(), &r).is_err());
        let r = RawRequest {
            max_age: Some("99999999999"),
            ..raw()
        };
        assert_eq!(parse_request(&web(), &r).unwrap().max_age, Some(MAX_MAX_AGE));
    }

    #[test]
    fn pkce_verification() {
        assert!(pkce_matches(VERIFIER, CHALLENGE));
        assert!(!pkce_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", CHALLENGE));
        assert!(!pkce_matches("short", CHALLENGE));
        assert!(!verifier_well_formed(&"a".repeat(129)));
        assert!(verifier_well_formed(&"a~.-_".repeat(9)));
    }

    fn req(prompt: &str, max_age: Option<i64>) -> AuthorizationRequest {
        AuthorizationRequest {
            scopes: vec!["openid".into()],
            nonce: None,
            prompt: Prompt::parse(Some(prompt)).unwrap(),
            max_age,
            pkce: None,
            response_mode: ResponseMode::Query,
        }
    }

    fn browser(auth_time: Option<i64>, consented: bool) -> BrowserState {
        BrowserState {
            auth_time,
            login_demanded_at: None,
            consented,
        }
    }

    #[test]
    fn decisions() {
        let now = 1_000;
        assert_eq!(
            decide(&req("", None), &browser(None, false), now),
            Ok(Next::SignIn { force: false })
        );
        assert_eq!(
            decide(&req("none", None), &browser(None, true), now),
            Err(AuthorizeError::LoginRequired)
        );
        assert_eq!(
            decide(&req("", None), &browser(Some(900), false), now),
            Ok(Next::Consent)
        );
        assert_eq!(
            decide(&req("none", None), &browser(Some(900), false), now),
            Err(AuthorizeError::ConsentRequired)
        );
        assert_eq!(decide(&req("", None), &browser(Some(900), true), now), Ok(Next::Issue));
        assert_eq!(
            decide(&req("consent", None), &browser(Some(900), true), now),
            Ok(Next::Consent)
        );
        // max_age: 100 s old is fine for 100, too old for 99.
        assert_eq!(
            decide(&req("", Some(100)), &browser(Some(900), true), now),
            Ok(Next::Issue)
        );
        assert_eq!(
            decide(&req("", Some(99)), &browser(Some(900), true), now),
            Ok(Next::SignIn { force: true })
        );
        assert_eq!(
            decide(&req("none", Some(99)), &browser(Some(900), true), now),
            Err(AuthorizeError::LoginRequired)
        );
        // prompt=login: forced until a sign-in at or after the demand.
        assert_eq!(
            decide(&req("login", None), &browser(Some(900), true), now),
            Ok(Next::SignIn { force: true })
        );
        let after = BrowserState {
            auth_time: Some(950),
            login_demanded_at: Some(950),
            consented: true,
        };
        assert_eq!(decide(&req("login", None), &after, now), Ok(Next::Issue));
        let before = BrowserState {
            login_demanded_at: Some(951),
            ..after
        };
        assert_eq!(
            decide(&req("login", None), &before, now),
            Ok(Next::SignIn { force: true })
        );
    }
}
