//! Access-token claims: the RFC 9068 profile (`iss, sub, aud, exp, iat, jti, client_id, scope`,
//! plus `org_id` for service accounts) and, for tokens issued through the Adobe-compatible
//! surface, the claims Adobe's clients decode (compat §1: `type`, `user_id`, `as`, and
//! `created_at`/`expires_in` as millisecond strings, comma-separated `scope`).
//!
//! Also the reverse: reading a verified token's claims for introspection (RFC 7662 §2.2).

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Timestamp;

use super::scope::{join_comma, join_space};

/// Which surface issued the token; decides the claim flavour and the scope separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// RFC 9068 only; `scope` space-separated.
    Standard,
    /// RFC 9068 plus Adobe's claims; `scope` comma-separated.
    Adobe,
}

/// Issuer facts that are the same for every token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerInfo {
    /// The issuer identifier: Gatehouse's public base URL.
    pub issuer: String,
    /// The `as` claim of Adobe-flavoured tokens (the authorization-server cluster name).
    pub adobe_as: String,
}

/// What a token is being issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenRequest {
    /// The resource owner: the account ID, or for service accounts the technical account ID, or
    /// the client ID when the client acts for itself (RFC 9068 §2.2).
    pub subject: String,
    pub client_id: String,
    /// The owning organization, for service accounts.
    pub org_id: Option<String>,
    /// The token's audiences (RFC 9068 §3); never empty (the issuer is used when nothing else fits).
    pub audience: Vec<String>,
    pub scopes: Vec<String>,
    /// Lifetime in seconds.
    pub lifetime: i64,
    /// When the user authenticated, for user grants.
    pub auth_time: Option<Timestamp>,
    /// The user grant (refresh-token family) the token descends from; revoking it revokes the token.
    pub grant_id: Option<String>,
    pub flavour: Flavour,
}

/// A JWT `aud`: one string or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn from_list(mut list: Vec<String>) -> Self {
        if list.len() == 1 {
            Self::One(list.remove(0))
        } else {
            Self::Many(list)
        }
    }

    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Self::One(a) => a == aud,
            Self::Many(list) => list.iter().any(|a| a == aud),
        }
    }
}

/// The claims of an access token. Adobe-only fields are absent from standard tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: Timestamp,
    pub iat: Timestamp,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<Timestamp>,
    /// The user grant the token descends from (see [`super::grant`]); absent for client grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// Adobe: `"access_token"`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Adobe: the subject again, under the name consumers read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Adobe: the cluster name clients use to build the host.
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub as_: Option<String>,
    /// Adobe: issue time in epoch milliseconds, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Adobe: lifetime in milliseconds, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<String>,
}

/// A fresh `jti`: 128 random bits as a UUID.
pub fn new_jti(rng: &mut impl RngCore) -> String {
    crate::ids::new_row_id(rng)
}

/// Builds the claims of a new access token at `now`.
pub fn access_token_claims(
    issuer: &IssuerInfo,
    req: &AccessTokenRequest,
    now: Timestamp,
    rng: &mut impl RngCore,
) -> AccessTokenClaims {
    let audience = if req.audience.is_empty() {
        vec![issuer.issuer.clone()]
    } else {
        req.audience.clone()
    };
    let adobe = req.flavour == Flavour::Adobe;
    AccessTokenClaims {
        iss: issuer.issuer.clone(),
        sub: req.subject.clone(),
        aud: Audience::from_list(audience),
        exp: now.saturating_add(req.lifetime),
        iat: now,
        jti: new_jti(rng),
        client_id: req.client_id.clone(),
        scope: if adobe {
            join_comma(&req.scopes)
        } else {
            join_space(&req.scopes)
        },
        org_id: req.org_id.clone(),
        auth_time: req.auth_time,
        grant_id: req.grant_id.clone(),
        token_type: adobe.then(|| "access_token".to_owned()),
        user_id: adobe.then(|| req.subject.clone()),
        as_: adobe.then(|| issuer.adobe_as.clone()),
        created_at: adobe.then(|| now.saturating_mul(1000).to_string()),
        expires_in: adobe.then(|| req.lifetime.saturating_mul(1000).to_string()),
    }
}

impl AccessTokenClaims {
    /// Reads the claims of a verified token. `None` when a required claim is missing or malformed.
    pub fn from_verified(claims: Map<String, Value>) -> Option<Self> {
        serde_json::from_value(Value::Object(claims)).ok()
    }

    /// Granted scopes, whichever separator the token uses.
    pub fn scopes(&self) -> Vec<String> {
        self.scope
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Is the token within its lifetime at `now`? (No skew: Gatehouse's own clock issued it.)
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.iat <= now + 5 && now < self.exp
    }
}

/// How the Adobe-compatible surface reports `expires_in` in responses (compat §0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiresInUnit {
    Seconds,
    Milliseconds,
}

impl ExpiresInUnit {
    /// `/ims/exchange/jwt`, `/ims/token` and `/ims/token/v1` answer in milliseconds; `/v2` and
    /// later in seconds. `version` is the path's `vN`, or `None` for the unversioned path.
    pub fn for_ims_token(version: Option<u8>) -> Self {
        match version {
            None | Some(1) => Self::Milliseconds,
            Some(_) => Self::Seconds,
        }
    }

    pub fn render(self, lifetime_seconds: i64) -> i64 {
        match self {
            Self::Seconds => lifetime_seconds,
            Self::Milliseconds => lifetime_seconds.saturating_mul(1000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn issuer() -> IssuerInfo {
        IssuerInfo {
            issuer: "https://id.example.test".into(),
            adobe_as: "ims-na1".into(),
        }
    }

    fn request(flavour: Flavour) -> AccessTokenRequest {
        AccessTokenRequest {
            subject: "fedcba9876543210fedcba98@techacct.gatehouse".into(),
            client_id: "0123456789abcdef0123456789abcdef".into(),
            org_id: Some("0123456789abcdef01234567@GatehouseOrg".into()),
            audience: vec!["pdf_services".into()],
            scopes: vec!["openid".into(), "pdf_read".into()],
            lifetime: 86_400,
            auth_time: None,
            grant_id: None,
            flavour,
        }
    }

    #[test]
    fn standard_tokens_carry_the_rfc_9068_claims_only() {
        let c = access_token_claims(
            &issuer(),
            &request(Flavour::Standard),
            1_000,
            &mut StdRng::seed_from_u64(1),
        );
        let v = serde_json::to_value(&c).unwrap();
        for claim in ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "org_id"] {
            assert!(v.get(claim).is_some(), "{claim}");
        }
        for adobe in ["type", "user_id", "as", "created_at", "expires_in"] {
            assert!(v.get(adobe).is_none(), "{adobe}");
        }
        assert_eq!(v["scope"], "openid pdf_read");
        assert_eq!(v["aud"], "pdf_services");
        assert_eq!(c.exp, 1_000 + 86_400);
    }

    #[test]
    fn adobe_tokens_carry_millisecond_strings_and_comma_scopes() {
        let c = access_token_claims(
            &issuer(),
            &request(Flavour::Adobe),
            1_000,
            &mut StdRng::seed_from_u64(1),
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["type"], "access_token");
        assert_eq!(v["created_at"], "1000000");
        assert_eq!(v["expires_in"], "86400000");
        assert_eq!(v["as"], "ims-na1");
        assert_eq!(v["user_id"], v["sub"]);
        assert_eq!(v["scope"], "openid,pdf_read");
        assert_eq!(c.scopes(), vec!["openid", "pdf_read"]);
    }

    #[test]
    fn the_issuer_is_the_audience_when_none_is_given() {
        let mut r = request(Flavour::Standard);
        r.audience.clear();
        let c = access_token_claims(&issuer(), &r, 0, &mut StdRng::seed_from_u64(1));
        assert!(c.aud.contains("https://id.example.test"));
        r.audience = vec!["a".into(), "b".into()];
        let c = access_token_claims(&issuer(), &r, 0, &mut StdRng::seed_from_u64(1));
        assert_eq!(c.aud, Audience::Many(vec!["a".into(), "b".into()]));
    }

    #[test]
    fn jtis_are_unique_and_claims_round_trip() {
        let mut rng = StdRng::seed_from_u64(9);
        let a = access_token_claims(&issuer(), &request(Flavour::Adobe), 5, &mut rng);
        let b = access_token_claims(&issuer(), &request(Flavour::Adobe), 5, &mut rng);
        assert_ne!(a.jti, b.jti);
        let Value::Object(map) = serde_json::to_value(&a).unwrap() else {
            unreachable!()
        };
        assert_eq!(AccessTokenClaims::from_verified(map).unwrap(), a);
        assert!(AccessTokenClaims::from_verified(Map::new()).is_none());
    }

    #[test]
    fn liveness() {
        let c = access_token_claims(
            &issuer(),
            &request(Flavour::Standard),
            100,
            &mut StdRng::seed_from_u64(1),
        );
        assert!(c.is_live(100));
        assert!(c.is_live(100 + 86_399));
        assert!(!c.is_live(100 + 86_400));
        assert!(!c.is_live(0));
    }

    #[test]
    fn expires_in_units_per_ims_path() {
        assert_eq!(ExpiresInUnit::for_ims_token(None).render(86_400), 86_400_000);
        assert_eq!(ExpiresInUnit::for_ims_token(Some(1)), ExpiresInUnit::Milliseconds);
        assert_eq!(ExpiresInUnit::for_ims_token(Some(2)).render(86_400), 86_400);
        assert_eq!(ExpiresInUnit::for_ims_token(Some(3)), ExpiresInUnit::Seconds);
    }
}
