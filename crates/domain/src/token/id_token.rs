//! ID tokens (OpenID Connect Core §2, §3.1.3.6) and the claims about a person that userinfo and
//! ID tokens release, projected by the granted scopes (OIDC Core §5.4): `openid` → `sub`;
//! `email` → `email`, `email_verified`; `profile` → names (and, on the Adobe surface,
//! `account_type`: `ind` or `ent`, compat §5.1).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::{
    Timestamp,
    account::{Account, AccountType},
};

use super::claims::Flavour;

/// `typ` of ID tokens.
pub const ID_TOKEN_TYP: &str = "JWT";

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the SHA-256 of the access token, base64url.
/// Both signing algorithms Gatehouse uses (ES256, RS256) hash with SHA-256.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The claims of an ID token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: Timestamp,
    pub iat: Timestamp,
    pub auth_time: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The person's claims released by the scopes (email, names…).
    #[serde(flatten)]
    pub person: Map<String, Value>,
}

/// What an ID token is issued for.
#[derive(Debug, Clone)]
pub struct IdTokenRequest<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The account ID (`sub`).
    pub subject: &'a str,
    /// The account, when the scopes release claims about the person (see [`releases_person_claims`]).
    pub account: Option<&'a Account>,
    pub scopes: &'a [String],
    pub auth_time: Timestamp,
    pub nonce: Option<&'a str>,
    pub amr: &'a [String],
    pub access_token: Option<&'a str>,
    pub lifetime: i64,
}

pub fn id_token_claims(r: &IdTokenRequest<'_>, now: Timestamp) -> IdTokenClaims {
    let mut person = r
        .account
        .map(|a| person_claims(a, r.scopes, Flavour::Standard))
        .unwrap_or_default();
    person.remove("sub");
    IdTokenClaims {
        iss: r.issuer.to_owned(),
        sub: r.subject.to_owned(),
        aud: r.client_id.to_owned(),
        exp: now.saturating_add(r.lifetime),
        iat: now,
        auth_time: r.auth_time,
        nonce: r.nonce.map(str::to_owned),
        at_hash: r.access_token.map(at_hash),
        amr: r.amr.to_vec(),
        person,
    }
}

fn has(scopes: &[String], s: &str) -> bool {
    scopes.iter().any(|x| x == s)
}

/// Do these scopes release claims about the person beyond `sub` (so the account must be read)?
pub fn releases_person_claims(scopes: &[String]) -> bool {
    has(scopes, "email") || has(scopes, "profile")
}

/// Adobe's `account_type`: `ind` for personal accounts, `ent` for enterprise ones.
pub fn adobe_account_type(t: AccountType) -> &'static str {
    match t {
        AccountType::Personal => "ind",
        AccountType::Enterprise => "ent",
    }
}

/// The person's claims released by `scopes`, for userinfo (OIDC Core §5.3.2) and ID tokens.
/// Empty strings are left out rather than sent as blanks.
pub fn person_claims(account: &Account, scopes: &[String], flavour: Flavour) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), json!(account.id));
    if has(scopes, "email") {
        m.insert("email".into(), json!(account.email.as_str()));
        m.insert("email_verified".into(), json!(account.email_verified));
    }
    if has(scopes, "profile") {
        let name = if account.display_name.is_empty() {
            format!("{} {}", account.given_name, account.family_name)
                .trim()
                .to_owned()
        } else {
            account.display_name.clone()
        };
        for (k, v) in [
            ("name", name.as_str()),
            ("given_name", account.given_name.as_str()),
            ("family_name", account.family_name.as_str()),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), json!(v));
            }
        }
        if flavour == Flavour::Adobe {
            m.insert("account_type".into(), json!(adobe_account_type(account.account_type)));
        }
        if !account.country.is_empty() {
            m.insert("address".into(), json!({ "country": account.country }));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Email;

    fn account() -> Account {
        Account {
            id: "acct-1".into(),
            email: Email::parse("ada@example.com").unwrap(),
            account_type: AccountType::Personal,
            display_name: "Ada L.".into(),
            given_name: "Ada".into(),
            family_name: "Lovelace".into(),
            country: "GB".into(),
            email_verified: true,
            password_hash: None,
            operator: false,
            disabled: false,
            owner_org_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OIDC Core A.3: the access token of the example and its at_hash (computed with SHA-256).
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn claims_follow_the_scopes() {
        let a = account();
        let only = person_claims(&a, &v(&["openid"]), Flavour::Standard);
        assert_eq!(only.len(), 1);
        let all = person_claims(&a, &v(&["openid", "email", "profile"]), Flavour::Adobe);
        assert_eq!(all["email"], "ada@example.com");
        assert_eq!(all["email_verified"], true);
        assert_eq!(all["name"], "Ada L.");
        assert_eq!(all["account_type"], "ind");
        assert_eq!(all["address"]["country"], "GB");
        let std = person_claims(&a, &v(&["profile"]), Flavour::Standard);
        assert!(std.get("account_type").is_none());
    }

    #[test]
    fn id_tokens_carry_nonce_auth_time_at_hash_and_amr() {
        let a = account();
        let scopes = v(&["openid", "email"]);
        let amr = v(&["pwd"]);
        let c = id_token_claims(
            &IdTokenRequest {
                issuer: "https://id.example.test",
                client_id: "client",
                subject: &a.id,
                account: Some(&a),
                scopes: &scopes,
                auth_time: 90,
                nonce: Some("n-0S6_WzA2Mj"),
                amr: &amr,
                access_token: Some("at"),
                lifetime: 3600,
            },
            100,
        );
        let j = serde_json::to_value(&c).unwrap();
        assert_eq!(j["aud"], "client");
        assert_eq!(j["sub"], "acct-1");
        assert_eq!(j["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(j["auth_time"], 90);
        assert_eq!(j["exp"], 3700);
        assert_eq!(j["amr"], json!(["pwd"]));
        assert_eq!(j["email"], "ada@example.com");
        assert_eq!(j["at_hash"], at_hash("at"));
    }
}
