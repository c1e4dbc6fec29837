//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3,
//! RFC 7523 §2.2 / OIDC Core §9) and which grant types each kind of integration may use.
//!
//! Methods: `client_secret_basic` and `client_secret_post` (secrets are compared as SHA-256
//! digests in constant time, against every active secret — neither revoked nor expired — without
//! early exit), `none` for public clients, `private_key_jwt` for service accounts (the assertion
//! itself is checked by [`super::assertion`]). Finding the integration and its secrets is the
//! caller's job.

use base64::{Engine, engine::general_purpose::STANDARD};
use subtle::ConstantTimeEq;

use crate::{
    Timestamp,
    integration::{Integration, IntegrationStatus, IntegrationType, StoredSecret},
};

use super::error::TokenError;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE_JWT: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How a client authenticated, by the names discovery uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

impl ClientAuthMethod {
    pub const SUPPORTED: [&'static str; 4] = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }
}

/// The client credentials found in a request, before anything is checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct PresentedClient<'a> {
    /// From `Authorization: Basic`, already decoded with [`parse_basic`].
    pub basic: Option<(&'a str, &'a str)>,
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    pub client_assertion_type: Option<&'a str>,
    pub client_assertion: Option<&'a str>,
}

/// The credential a client presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    Secret(&'a str),
    Assertion(&'a str),
    None,
}

/// Who the client says it is and how it proves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientClaim<'a> {
    pub client_id: String,
    pub method: ClientAuthMethod,
    pub credential: Credential<'a>,
}

/// Decodes an `Authorization: Basic` value (without the scheme) into client ID and secret, each
/// form-urlencoded as RFC 6749 §2.3.1 requires.
pub fn parse_basic(b64: &str) -> Result<(String, String), TokenError> {
    let bad = || TokenError::InvalidParameter {
        name: "Authorization",
        detail: "Basic credentials must be base64(client_id:client_secret)".into(),
    };
    let raw = STANDARD.decode(b64.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    Ok((form_decode(id).ok_or_else(bad)?, form_decode(secret).ok_or_else(bad)?))
}

fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Works out which client is authenticating and with what (RFC 6749 §2.3: exactly one method).
/// For `private_key_jwt` without a `client_id` parameter, `unverified_assertion_subject` supplies
/// the assertion's `sub` (RFC 7523 §3), which the assertion check later verifies.
pub fn identify<'a>(
    p: &PresentedClient<'a>,
    unverified_assertion_subject: impl FnOnce(&str) -> Option<String>,
) -> Result<ClientClaim<'a>, TokenError> {
    let methods = usize::from(p.basic.is_some())
        + usize::from(p.client_secret.is_some())
        + usize::from(p.client_assertion.is_some() || p.client_assertion_type.is_some());
    if methods > 1 {
        return Err(TokenError::MultipleClientAuthentication);
    }
    if let Some((id, secret)) = p.basic {
        if p.client_id.is_some_and(|c| c != id) {
            return Err(TokenError::InvalidParameter {
                name: "client_id",
                detail: "differs from the client in the Authorization header".into(),
            });
        }
        return Ok(ClientClaim {
            client_id: id.to_owned(),
            method: ClientAuthMethod::ClientSecretBasic,
            credential: Credential::Secret(secret),
        });
    }
    if let Some(secret) = p.client_secret {
        let id = p.client_id.ok_or(TokenError::MissingParameter("client_id"))?;
        return Ok(ClientClaim {
            client_id: id.to_owned(),
            method: ClientAuthMethod::ClientSecretPost,
            credential: Credential::Secret(secret),
        });
    }
    if p.client_assertion.is_some() || p.client_assertion_type.is_some() {
        match p.client_assertion_type {
            Some(CLIENT_ASSERTION_TYPE_JWT) => {}
            Some(other) => {
                return Err(TokenError::InvalidParameter {
                    name: "client_assertion_type",
                    detail: format!("{other:?} is not supported; use {CLIENT_ASSERTION_TYPE_JWT}"),
                });
            }
            None => return Err(TokenError::MissingParameter("client_assertion_type")),
        }
        let assertion = p
            .client_assertion
            .ok_or(TokenError::MissingParameter("client_assertion"))?;
        let id = match p.client_id {
            Some(id) => id.to_owned(),
            None => unverified_assertion_subject(assertion).ok_or(TokenError::MissingParameter("client_id"))?,
        };
        return Ok(ClientClaim {
            client_id: id,
            method: ClientAuthMethod::PrivateKeyJwt,
            credential: Credential::Assertion(assertion),
        });
    }
    // RFC 6749 §5.2: a request that names no client at all failed client authentication.
    let id = p.client_id.ok_or(TokenError::NoClientAuthentication)?;
    Ok(ClientClaim {
        client_id: id.to_owned(),
        method: ClientAuthMethod::None,
        credential: Credential::None,
    })
}

/// Checks a claimed client against its integration and stored secrets; on success, the ID of the
/// secret that authenticated it (`None` for the other methods). For [`Credential::Assertion`]
/// this only checks that the integration may use `private_key_jwt`; the caller then validates the
/// assertion with [`super::assertion::validate`].
pub fn authenticate(
    integration: &Integration,
    secrets: &[StoredSecret],
    credential: Credential<'_>,
    now: Timestamp,
) -> Result<Option<String>, TokenError> {
    if integration.status != IntegrationStatus::Active {
        return Err(TokenError::ClientDisabled);
    }
    match credential {
        Credential::Secret(presented) => {
            if !integration.has_secret() {
                return Err(TokenError::AuthMethodNotAllowed(
                    "this client has no secret; public clients use PKCE without a secret",
                ));
            }
            // A revoked or expired secret is refused like a wrong one: the answer does not say
            // which secrets exist.
            match matching_secret(presented, secrets, now) {
                Some(s) => Ok(Some(s.id.clone())),
                None => Err(TokenError::InvalidClientSecret),
            }
        }
        Credential::Assertion(_) => {
            if integration.integration_type == IntegrationType::ServiceAccount {
                Ok(None)
            } else {
                Err(TokenError::AuthMethodNotAllowed(
                    "private_key_jwt is only for service account (JWT) integrations",
                ))
            }
        }
        Credential::None => {
            if integration.has_secret() {
                Err(TokenError::ClientAuthenticationRequired)
            } else {
                Ok(None)
            }
        }
    }
}

/// Does `presented` match one of the secrets active at `now` (neither revoked nor expired)? The
/// presented value is hashed once and compared with every digest in constant time, and the loop
/// never exits early, so the time taken does not depend on which digest (or how much of it)
/// matched.
pub fn secret_matches(presented: &str, secrets: &[StoredSecret], now: Timestamp) -> bool {
    matching_secret(presented, secrets, now).is_some()
}

/// The secret active at `now` that `presented` matches, compared as [`secret_matches`] does (every
/// digest, in constant time); for recording which secret authenticated.
pub fn matching_secret<'s>(presented: &str, secrets: &'s [StoredSecret], now: Timestamp) -> Option<&'s StoredSecret> {
    let presented = crate::secret::digest(presented);
    let mut found = None;
    for s in secrets {
        let equal = presented.as_bytes().ct_eq(s.digest.as_bytes());
        let hit: bool = (equal & subtle::Choice::from(u8::from(s.is_active_at(now)))).into();
        if hit {
            found = Some(s);
        }
    }
    found
}

/// The grant types of the token endpoint (RFC 6749 §4, RFC 7523 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    JwtBearer,
}

impl GrantType {
    pub const JWT_BEARER: &'static str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    pub fn parse(s: &str) -> Result<Self, TokenError> {
        match s {
            "authorization_code" => Ok(Self::AuthorizationCode),
            "refresh_token" => Ok(Self::RefreshToken),
            "client_credentials" => Ok(Self::ClientCredentials),
            Self::JWT_BEARER => Ok(Self::JwtBearer),
            other => Err(TokenError::UnsupportedGrantType(other.chars().take(100).collect())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::JwtBearer => Self::JWT_BEARER,
        }
    }
}

/// The grants an integration type may use; the grant follows the kind of credential:
///
/// | type | grants |
/// |---|---|
/// | `oauth` (web, spa, native) | `authorization_code`, `refresh_token` (it acts for people) |
/// | `server_to_server` | `client_credentials` (client ID and secret) |
/// | `service_account` (JWT) | the JWT bearer grant (its signed assertion) |
/// | `api_key` | none: it gets no token at all |
pub fn grants_of(t: IntegrationType) -> &'static [GrantType] {
    match t {
        IntegrationType::Oauth => &[GrantType::AuthorizationCode, GrantType::RefreshToken],
        IntegrationType::ServerToServer => &[GrantType::ClientCredentials],
        IntegrationType::ServiceAccount => &[GrantType::JwtBearer],
        IntegrationType::ApiKey => &[],
    }
}

/// May the integration use `grant` ([`grants_of`] its type)? `unauthorized_client` otherwise.
pub fn check_grant_allowed(integration: &Integration, grant: GrantType) -> Result<(), TokenError> {
    let t = integration.integration_type;
    if grants_of(t).contains(&grant) {
        Ok(())
    } else {
        Err(TokenError::GrantNotAllowed {
            grant: grant.as_str(),
            integration_type: t.as_str(),
        })
    }
}

/// May the integration use the JWT-bearer grant, holding `active_certificates`? A Service Account;
/// and a Server-to-Server credential migrated from one while it still holds that Service Account's
/// certificates (`crate::console::migration`): the JWT keeps working until the migration ends.
pub fn check_jwt_bearer_allowed(integration: &Integration, active_certificates: usize) -> Result<(), TokenError> {
    if integration.integration_type == IntegrationType::ServerToServer && active_certificates > 0 {
        return Ok(());
    }
    check_grant_allowed(integration, GrantType::JwtBearer)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{
        ids::ClientId,
        integration::{Owner, Platform},
        secret,
    };

    pub(crate) fn integration(t: IntegrationType, platform: Option<Platform>) -> Integration {
        Integration {
            id: "int-1".into(),
            client_id: ClientId::parse("0123456789abcdef0123456789abcdef").unwrap(),
            name: "App".into(),
            description: String::new(),
            integration_type: t,
            platform,
            owner: Owner::Organization("0123456789abcdef01234567@GatehouseOrg".into()),
            created_by: None,
            redirect_uri: None,
            redirect_patterns: vec![],
            technical_account_id: Some("0123456789abcdef01234567@techacct.gatehouse".into()),
            technical_account_email: None,
            id_token_signed_response_alg: None,
            may_introspect: false,
            allowed_domains: Vec::new(),
            workspace_id: "w".into(),
            status: IntegrationStatus::Active,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn stored(secret_value: &str, revoked_at: Option<Timestamp>) -> StoredSecret {
        StoredSecret {
            id: format!("s-{secret_value}"),
            integration_id: "int-1".into(),
            digest: secret::digest(secret_value),
            hint: secret::hint(secret_value),
            created_at: 0,
            revoked_at,
            expires_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn exactly_one_method_may_be_used() {
        let p = PresentedClient {
            basic: Some(("abc", "s1")),
            client_secret: Some("s1"),
            ..Default::default()
        };
        assert_eq!(identify(&p, |_| None), Err(TokenError::MultipleClientAuthentication));
        let p = PresentedClient {
            client_secret: Some("s"),
            client_assertion: Some("a.b.c"),
            client_assertion_type: Some(CLIENT_ASSERTION_TYPE_JWT),
            client_id: Some("abc"),
            ..Default::default()
        };
        assert_eq!(identify(&p, |_| None), Err(TokenError::MultipleClientAuthentication));
    }

    #[test]
    fn methods_are_recognised() {
        let basic = PresentedClient {
            basic: Some(("abc", "s1")),
            client_id: Some("abc"),
            ..Default::default()
        };
        assert_eq!(
            identify(&basic, |_| None).unwrap().method,
            ClientAuthMethod::ClientSecretBasic
        );
        let mismatch = PresentedClient {
            basic: Some(("abc", "s1")),
            client_id: Some("xyz"),
            ..Default::default()
        };
        assert_eq!(identify(&mismatch, |_| None).unwrap_err().reason(), "invalid_parameter");
        let post = PresentedClient {
            client_id: Some("abc"),
            client_secret: Some("s"),
            ..Default::default()
        };
        assert_eq!(
            identify(&post, |_| None).unwrap().method,
            ClientAuthMethod::ClientSecretPost
        );
        let none = PresentedClient {
            client_id: Some("abc"),
            ..Default::default()
        };
        assert_eq!(identify(&none, |_| None).unwrap().credential, Credential::None);
        assert_eq!(
            identify(&PresentedClient::default(), |_| None),
            Err(TokenError::NoClientAuthentication)
        );
    }

    #[test]
    fn private_key_jwt_takes_the_client_from_the_assertion_subject() {
        let p = PresentedClient {
            client_assertion: Some("x.y.z"),
            client_assertion_type: Some(CLIENT_ASSERTION_TYPE_JWT),
            ..Default::default()
        };
        let c = identify(&p, |_| Some("from-sub".into())).unwrap();
        assert_eq!(
            (c.client_id.as_str(), c.method),
            ("from-sub", ClientAuthMethod::PrivateKeyJwt)
        );
        let wrong_type = PresentedClient {
            client_assertion_type: Some("urn:other"),
            ..p
        };
        assert_eq!(
            identify(&wrong_type, |_| None).unwrap_err().reason(),
            "invalid_parameter"
        );
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = STANDARD.encode("my%20client:p%2Bss+word");
        assert_eq!(parse_basic(&header).unwrap(), ("my client".into(), "p+ss word".into()));
        assert!(parse_basic("!!!").is_err());
        assert!(parse_basic(&STANDARD.encode("no-colon")).is_err());
        assert!(parse_basic(&STANDARD.encode("a:%zz")).is_err());
    }

    #[test]
    fn secrets_must_match_an_active_secret() {
        let web = integration(IntegrationType::Oauth, Some(Platform::Web));
        let secrets = [stored("old", Some(50)), stored("current", None)];
        assert_eq!(
            authenticate(&web, &secrets, Credential::Secret("current"), 100),
            Ok(Some("s-current".into()))
        );
        // A revoked secret no longer works; one whose revocation is scheduled still does.
        assert_eq!(
            authenticate(&web, &secrets, Credential::Secret("old"), 100),
            Err(TokenError::InvalidClientSecret)
        );
        assert!(authenticate(&web, &secrets, Credential::Secret("old"), 10).is_ok());
        assert_eq!(
            authenticate(&web, &secrets, Credential::Secret("curren"), 100),
            Err(TokenError::InvalidClientSecret)
        );
        assert_eq!(
            authenticate(&web, &[], Credential::Secret(""), 100),
            Err(TokenError::InvalidClientSecret)
        );
    }

    #[test]
    fn an_expired_secret_is_refused_like_a_wrong_one() {
        let s2s = integration(IntegrationType::ServerToServer, None);
        let secrets = [
            StoredSecret {
                expires_at: Some(100),
                ..stored("short-lived", None)
            },
            stored("lasting", None),
        ];
        assert_eq!(
            authenticate(&s2s, &secrets, Credential::Secret("short-lived"), 99),
            Ok(Some("s-short-lived".into()))
        );
        for at in [100, 1_000] {
            assert_eq!(
                authenticate(&s2s, &secrets, Credential::Secret("short-lived"), at),
                Err(TokenError::InvalidClientSecret)
            );
        }
        assert_eq!(
            authenticate(&s2s, &secrets, Credential::Secret("lasting"), 1_000),
            Ok(Some("s-lasting".into()))
        );
        assert!(!secret_matches("short-lived", &secrets, 100));
    }

    #[test]
    fn secret_comparison_visits_every_secret() {
        // Not a timing measurement: a match in the first slot must not stop the loop, and a
        // digest that shares a long prefix must not match.
        let d = secret::digest("a");
        let mut near = d.clone();
        near.replace_range(63.., if d.ends_with('0') { "1" } else { "0" });
        let secrets = [
            stored("a", None),
            StoredSecret {
                digest: near,
                ..stored("b", None)
            },
        ];
        assert!(secret_matches("a", &secrets, 0));
        assert!(!secret_matches("b", &secrets[1..], 0));
    }

    #[test]
    fn public_clients_use_none_and_confidential_ones_must_authenticate() {
        let spa = integration(IntegrationType::Oauth, Some(Platform::Spa));
        assert!(authenticate(&spa, &[], Credential::None, 0).is_ok());
        assert_eq!(
            authenticate(&spa, &[], Credential::Secret("x"), 0)
                .unwrap_err()
                .reason(),
            "auth_method_not_allowed"
        );
        let web = integration(IntegrationType::Oauth, Some(Platform::Web));
        assert_eq!(
            authenticate(&web, &[], Credential::None, 0),
            Err(TokenError::ClientAuthenticationRequired)
        );
        let sa = integration(IntegrationType::ServiceAccount, None);
        assert_eq!(
            authenticate(&sa, &[], Credential::None, 0),
            Err(TokenError::ClientAuthenticationRequired)
        );
    }

    #[test]
    fn only_service_accounts_use_private_key_jwt() {
        let sa = integration(IntegrationType::ServiceAccount, None);
        assert!(authenticate(&sa, &[], Credential::Assertion("a"), 0).is_ok());
        // An OAuth Server-to-Server credential has secrets and no certificate.
        for other in [
            integration(IntegrationType::Oauth, Some(Platform::Web)),
            integration(IntegrationType::ServerToServer, None),
        ] {
            assert_eq!(
                authenticate(&other, &[], Credential::Assertion("a"), 0)
                    .unwrap_err()
                    .reason(),
                "auth_method_not_allowed"
            );
        }
    }

    #[test]
    fn a_disabled_integration_cannot_authenticate() {
        let mut sa = integration(IntegrationType::ServiceAccount, None);
        sa.status = IntegrationStatus::Disabled;
        let secrets = [stored("s", None)];
        assert_eq!(
            authenticate(&sa, &secrets, Credential::Secret("s"), 0),
            Err(TokenError::ClientDisabled)
        );
    }

    #[test]
    fn grants_follow_the_kind_of_credential() {
        use GrantType::*;
        let web = integration(IntegrationType::Oauth, Some(Platform::Web));
        let spa = integration(IntegrationType::Oauth, Some(Platform::Spa));
        let native = integration(IntegrationType::Oauth, Some(Platform::Native));
        let s2s = integration(IntegrationType::ServerToServer, None);
        let jwt = integration(IntegrationType::ServiceAccount, None);
        let key = integration(IntegrationType::ApiKey, None);
        let allowed = |i: &Integration| -> Vec<GrantType> {
            [AuthorizationCode, RefreshToken, ClientCredentials, JwtBearer]
                .into_iter()
                .filter(|g| check_grant_allowed(i, *g).is_ok())
                .collect()
        };
        // A web app acts for people: it no longer gets tokens of its own with its secret.
        for oauth in [&web, &spa, &native] {
            assert_eq!(allowed(oauth), [AuthorizationCode, RefreshToken]);
        }
        assert_eq!(allowed(&s2s), [ClientCredentials]);
        // A JWT credential authenticates with its signed assertion, not its secret.
        assert_eq!(allowed(&jwt), [JwtBearer]);
        assert!(allowed(&key).is_empty());
        for (i, g) in [
            (&web, ClientCredentials),
            (&jwt, ClientCredentials),
            (&s2s, AuthorizationCode),
        ] {
            assert_eq!(
                check_grant_allowed(i, g).unwrap_err().error().as_str(),
                "unauthorized_client"
            );
        }
        for g in [AuthorizationCode, RefreshToken, ClientCredentials, JwtBearer] {
            assert_eq!(
                check_grant_allowed(&key, g).unwrap_err().error().as_str(),
                "unauthorized_client"
            );
        }
        // A Server-to-Server credential keeps the JWT grant only while it holds migrated certificates.
        assert!(check_jwt_bearer_allowed(&s2s, 1).is_ok());
        assert!(check_jwt_bearer_allowed(&s2s, 0).is_err());
        assert!(check_jwt_bearer_allowed(&web, 1).is_err());
        assert!(check_jwt_bearer_allowed(&jwt, 0).is_ok());
        for t in IntegrationType::ALL {
            assert!(
                grants_of(t)
                    .iter()
                    .all(|g| check_grant_allowed(&integration(t, None), *g).is_ok())
            );
        }
    }

    #[test]
    fn grant_types_parse() {
        assert_eq!(GrantType::parse(GrantType::JWT_BEARER), Ok(GrantType::JwtBearer));
        assert_eq!(
            GrantType::parse("password").unwrap_err().error().as_str(),
            "unsupported_grant_type"
        );
    }
}
