//! The grants both surfaces share: client authentication of a token request, the
//! `client_credentials` grant (RFC 6749 §4.4) and the JWT-bearer grant (RFC 7523 §2.1, which is
//! also Adobe's `/ims/exchange/jwt`). Each surface maps their failures to its own errors.

use super::service::{Client, Failure, TokenService};
use std::sync::Arc;

use gatehouse_domain::{
    integration::IntegrationType,
    token::{
        TokenError,
        assertion::{self, AssertionCheck, AssertionUse, Expected},
        claims::{AccessTokenClaims, AccessTokenRequest, Flavour},
        client_auth::{self, ClientAuthMethod, Credential, GrantType},
        scope,
    },
};

use super::params::Params;

/// A signed access token, ready to be rendered by the surface that asked for it.
#[derive(Debug)]
pub struct Issued {
    pub access_token: String,
    pub claims: AccessTokenClaims,
    pub lifetime: i64,
    pub scopes: Vec<String>,
}

/// Authenticates the client of a request (RFC 6749 §2.3, RFC 7523 §2.2). For the JWT-bearer
/// grant a client that presents no credential at all is found from the assertion instead (RFC
/// 7523 §3: client authentication is optional there; the assertion's signature authenticates).
/// A client that proved itself with a secret or a signed assertion is marked used
/// ([`super::last_used`]), with the secret that authenticated it.
pub async fn authenticate_client(
    svc: &TokenService,
    params: &Params,
    grant: Option<GrantType>,
) -> Result<(Arc<Client>, ClientAuthMethod), Failure> {
    let presented = params.presented_client()?;
    let claim = match client_auth::identify(&presented, |a| assertion::peek(a).and_then(|u| u.sub)) {
        Err(TokenError::NoClientAuthentication) if grant == Some(GrantType::JwtBearer) => {
            let a = params.require("assertion")?;
            let u = assertion::peek(a).ok_or(TokenError::Assertion(
                gatehouse_domain::token::AssertionError::Malformed("not a JWT".into()),
            ))?;
            let id = u
                .audience_client()
                .map(str::to_owned)
                .or(u.iss)
                .ok_or(TokenError::MissingParameter("client_id"))?;
            let client = svc.known_client(&id).await?;
            if client.integration.status != gatehouse_domain::integration::IntegrationStatus::Active {
                return Err(TokenError::ClientDisabled.into());
            }
            return Ok((client, ClientAuthMethod::None));
        }
        other => other?,
    };
    let client = svc.known_client(&claim.client_id).await?;
    let now = svc.now();
    let secret = client_auth::authenticate(&client.integration, &client.secrets, claim.credential, now)?;
    if let Some(secret) = &secret {
        svc.last_used.mark(&client.integration.id, Some(secret), now);
    }
    if let Credential::Assertion(a) = claim.credential {
        let check = AssertionCheck {
            now,
            usage: AssertionUse::ClientAuthentication,
            audiences: &svc.settings.audiences,
            expected: expected(&client),
            require_jti: true,
        };
        let valid = assertion::validate(a, &client.certificates, &check).map_err(|e| check.usage.error(e))?;
        if let Some(guard) = valid.replay_guard(client.client_id()) {
            assertion::check_replay(svc.first_use(&guard).await?, check.usage)?;
        }
        svc.last_used.mark(&client.integration.id, None, now);
    }
    Ok((client, claim.method))
}

fn expected(client: &Client) -> Expected<'_> {
    Expected {
        client_id: client.client_id(),
        org_id: client.integration.org_id(),
        technical_account_id: client.integration.technical_account_id.as_deref(),
    }
}

/// Issues a token for the scopes granted to `client`, acting as itself.
async fn issue_and_mark(
    svc: &TokenService,
    client: &Client,
    granted: scope::GrantedScopes,
    flavour: Flavour,
) -> Result<Issued, Failure> {
    let issued = issue(svc, client, granted, flavour, svc.access_lifetime(flavour)).await?;
    svc.last_used.mark(&client.integration.id, None, svc.now());
    Ok(issued)
}

/// Issues a token for the scopes granted to `client`, acting as itself.
async fn issue(
    svc: &TokenService,
    client: &Client,
    granted: scope::GrantedScopes,
    flavour: Flavour,
    lifetime: i64,
) -> Result<Issued, Failure> {
    let req = AccessTokenRequest {
        subject: client.own_subject(),
        client_id: client.client_id().to_owned(),
        org_id: client
            .integration
            .integration_type
            .is_technical_account()
            .then(|| client.integration.org_id().map(str::to_owned))
            .flatten(),
        audience: granted.services.iter().map(|s| s.as_str().to_owned()).collect(),
        scopes: granted.scopes.clone(),
        lifetime,
        auth_time: None,
        grant_id: None,
        flavour,
    };
    let (access_token, claims) = svc.issue_access_token(&req, None).await?;
    Ok(Issued {
        access_token,
        claims,
        lifetime,
        scopes: granted.scopes,
    })
}

/// RFC 6749 §4.4: the client (an OAuth Server-to-Server integration) acts for itself with the
/// scopes of its subscriptions.
pub async fn client_credentials(
    svc: &TokenService,
    client: &Client,
    params: &Params,
    flavour: Flavour,
) -> Result<Issued, Failure> {
    client_auth::check_grant_allowed(&client.integration, GrantType::ClientCredentials)?;
    let requested = scope::parse_scope_list(params.get("scope")?.unwrap_or(""))?;
    let granted = scope::grant(client.integration.integration_type, &requested, &client.subscriptions)?;
    issue_and_mark(svc, client, granted, flavour).await
}

/// A token for testing from the console: what the client's own grant (`client_credentials` or
/// the JWT bearer grant) would issue to `client` with every scope of its subscriptions, but
/// living at most `lifetime` seconds. The caller has the policy's leave
/// ([`crate::policy::generate_test_token`]), which replaces the client's own authentication;
/// every other rule of the grant applies. It does not count as a use of the credential.
pub async fn for_testing(svc: &TokenService, client: &Client, lifetime: i64) -> Result<Issued, Failure> {
    let own_grant = if client.integration.integration_type == IntegrationType::ServiceAccount {
        GrantType::JwtBearer
    } else {
        GrantType::ClientCredentials
    };
    client_auth::check_grant_allowed(&client.integration, own_grant)?;
    let granted = scope::grant(client.integration.integration_type, &[], &client.subscriptions)?;
    let lifetime = lifetime.min(svc.access_lifetime(Flavour::Standard));
    issue(svc, client, granted, Flavour::Standard, lifetime).await
}

/// RFC 7523 §2.1 (and Adobe's exchange): a service account's signed assertion for a token.
/// On the Adobe surface the assertion must carry metascopes that the subscriptions cover; on the
/// standard surface metascopes and the `scope` parameter together are the request.
pub async fn jwt_bearer(
    svc: &TokenService,
    client: &Client,
    jwt: &str,
    requested_scope: Option<&str>,
    flavour: Flavour,
) -> Result<Issued, Failure> {
    let active = client.certificates.iter().filter(|c| c.revoked_at.is_none()).count();
    client_auth::check_jwt_bearer_allowed(&client.integration, active)?;
    let check = AssertionCheck {
        now: svc.now(),
        usage: AssertionUse::Grant,
        audiences: &svc.settings.audiences,
        expected: expected(client),
        require_jti: false,
    };
    let valid = assertion::validate(jwt, &client.certificates, &check).map_err(|e| check.usage.error(e))?;
    if flavour == Flavour::Adobe {
        scope::check_metascopes(&valid.metascopes, &client.subscriptions)?;
    }
    if let Some(guard) = valid.replay_guard(client.client_id()) {
        assertion::check_replay(svc.first_use(&guard).await?, check.usage)?;
    }
    let mut requested = valid.metascopes.clone();
    for s in scope::parse_scope_list(requested_scope.unwrap_or(""))? {
        if !requested.contains(&s) {
            requested.push(s);
        }
    }
    let granted = scope::grant(client.integration.integration_type, &requested, &client.subscriptions)?;
    issue_and_mark(svc, client, granted, flavour).await
}
