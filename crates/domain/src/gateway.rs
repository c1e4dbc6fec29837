//! The API gateway's rules: how a service hands the caller's identity to its upstream, the limits
//! on an integration's calls (per second and per day, a service default that a subscription may
//! override), the daily quota's arithmetic, the `RateLimit` header fields, which callers need a
//! token, and how a request path maps to the upstream's.

use crate::{DomainError, Timestamp, integration::IntegrationType};

/// What the upstream learns of the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityForwarding {
    /// The caller's `Authorization` is removed and `x-gatehouse-identity` carries a short-lived JWT
    /// Gatehouse signs (verifiable with its JWKS).
    #[default]
    Signed,
    /// The caller's access token is forwarded as it came, for upstreams that verify Gatehouse's
    /// tokens themselves.
    Token,
}

impl IdentityForwarding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signed => "signed",
            Self::Token => "token",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "signed" => Ok(Self::Signed),
            "token" => Ok(Self::Token),
            _ => Err(DomainError::new(
                "invalid_identity_forwarding",
                format!("identity {s:?} must be \"signed\" or \"token\""),
            )),
        }
    }
}

/// A service's gateway settings: what the upstream learns of the caller, and the default limits
/// of every subscribed integration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GatewaySettings {
    pub identity: IdentityForwarding,
    pub limits: Limits,
}

/// The header that carries the signed identity to the upstream.
pub const IDENTITY_HEADER: &str = "x-gatehouse-identity";
/// The JWT `typ` of the identity the gateway signs.
pub const IDENTITY_TYP: &str = "gatehouse-identity+jwt";
/// How long a signed identity is valid: long enough for one upstream call, too short to replay.
pub const IDENTITY_LIFETIME: i64 = 60;

/// Most requests per second, burst and requests per day a limit may name.
pub const MAX_PER_SECOND: u32 = 1_000_000;
pub const MAX_PER_DAY: u64 = 1_000_000_000_000;

/// Limits on one integration's calls to one service. `None`: no limit of that kind (on a
/// subscription: the service's default applies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Sustained requests per second (GCRA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_second: Option<u32>,
    /// Requests allowed at once above the sustained rate; the rate itself when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    /// Requests per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_day: Option<u64>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The limits that apply: each kind from `over` (a subscription's) when set, else from `self`
    /// (the service's default).
    pub fn overridden_by(self, over: Limits) -> Limits {
        Limits {
            per_second: over.per_second.or(self.per_second),
            burst: over.burst.or(self.burst),
            per_day: over.per_day.or(self.per_day),
        }
    }

    /// The burst in requests: at least one, the rate when unset.
    pub fn burst_size(&self) -> Option<u32> {
        self.per_second.map(|r| self.burst.unwrap_or(r).max(1))
    }

    /// Checks the bounds.
    pub fn validate(&self) -> Result<(), DomainError> {
        let bad = |what: &str| DomainError::new("invalid_limits", what.to_owned());
        if self.per_second.is_some_and(|r| r == 0 || r > MAX_PER_SECOND) {
            return Err(bad(&format!("requests per second must be 1–{MAX_PER_SECOND}")));
        }
        if self.burst.is_some_and(|b| b == 0 || b > MAX_PER_SECOND) {
            return Err(bad(&format!("a burst must be 1–{MAX_PER_SECOND} requests")));
        }
        if self.burst.is_some() && self.per_second.is_none() {
            return Err(bad("a burst needs a rate per second"));
        }
        if self.per_day.is_some_and(|d| d == 0 || d > MAX_PER_DAY) {
            return Err(bad(&format!("a daily quota must be 1–{MAX_PER_DAY} requests")));
        }
        Ok(())
    }
}

/// The UTC day of an instant (days since the Unix epoch): the daily quota's window.
pub fn day_of(now: Timestamp) -> i64 {
    now.div_euclid(86_400)
}

/// Seconds until the daily quota starts over (the next UTC midnight); at least one.
pub fn seconds_to_next_day(now: Timestamp) -> i64 {
    (86_400 - now.rem_euclid(86_400)).max(1)
}

/// Requests counted against a daily quota, for one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCount {
    pub day: i64,
    pub used: u64,
}

/// A request the daily quota refused, or what remains after one it allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaDecision {
    Allowed { remaining: u64, reset: i64 },
    Exhausted { retry_after: i64 },
}

impl DayCount {
    /// Counts one request against `limit` at `now`; a new day starts from zero. A refused
    /// request is not counted.
    pub fn take(&mut self, now: Timestamp, limit: u64) -> QuotaDecision {
        let day = day_of(now);
        if day != self.day {
            *self = DayCount { day, used: 0 };
        }
        let reset = seconds_to_next_day(now);
        if self.used >= limit {
            return QuotaDecision::Exhausted { retry_after: reset };
        }
        self.used += 1;
        QuotaDecision::Allowed {
            remaining: limit - self.used,
            reset,
        }
    }
}

/// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): the quota policies of these limits.
pub fn ratelimit_policy(limits: &Limits) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(d) = limits.per_day {
        parts.push(format!("\"day\";q={d};w=86400"));
    }
    if let (Some(_), Some(b)) = (limits.per_second, limits.burst_size()) {
        parts.push(format!("\"second\";q={b};w=1"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `RateLimit`: what remains of the policy closest to running out, and seconds until it resets.
pub fn ratelimit(policy: &str, remaining: u64, reset: i64) -> String {
    format!("\"{policy}\";r={remaining};t={}", reset.max(0))
}

/// Does an integration of this type call with an access token? API Key integrations hold no
/// tokens: their calls are anonymous, the API key alone (and the subscription) lets them through.
pub fn needs_token(t: IntegrationType) -> bool {
    !matches!(t, IntegrationType::ApiKey)
}

/// The upstream URL of a request: the service's upstream URL with the request's path below the
/// service prefix appended, and its query. Dot segments (plain or percent-encoded) are refused, so
/// no request reaches a path outside the upstream's base path.
pub fn upstream_target(base: &str, rest: &str, query: Option<&str>) -> Result<String, DomainError> {
    for segment in rest.split('/') {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        if decoded == "." || decoded == ".." || segment.to_ascii_lowercase().contains("%2f") {
            return Err(DomainError::new(
                "invalid_path",
                "the path must not contain '.' or '..' segments or encoded slashes",
            ));
        }
    }
    let (base, base_query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let mut out = String::with_capacity(base.len() + rest.len() + 1);
    out.push_str(base.trim_end_matches('/'));
    let rest = rest.trim_start_matches('/');
    if !rest.is_empty() || base.ends_with('/') {
        out.push('/');
    }
    out.push_str(rest);
    match (base_query, query.filter(|q| !q.is_empty())) {
        (Some(b), Some(q)) => {
            out.push('?');
            out.push_str(b);
            out.push('&');
            out.push_str(q);
        }
        (Some(q), None) | (None, Some(q)) => {
            out.push('?');
            out.push_str(q);
        }
        (None, None) => {}
    }
    Ok(out)
}

/// The claims of the identity the gateway hands the upstream: who calls (the integration, its
/// organization, and the person or technical account it acts as), with which scopes, for which
/// service. `aud` is the service code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdentityClaims {
    pub iss: String,
    pub aud: String,
    /// The person's account ID, the technical account of a service account, or the client ID.
    pub sub: String,
    pub iat: Timestamp,
    pub exp: Timestamp,
    pub jti: String,
    pub client_id: String,
    pub integration_id: String,
    /// `person`, `technical_account` or `integration` (an API Key integration, or an OAuth
    /// integration acting for itself).
    pub sub_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Space-separated, as in access tokens; empty for anonymous calls.
    pub scope: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_limits_override_the_services_kind_by_kind() {
        let service = Limits {
            per_second: Some(10),
            burst: None,
            per_day: Some(1000),
        };
        let over = Limits {
            per_second: Some(50),
            burst: Some(100),
            per_day: None,
        };
        assert_eq!(
            service.overridden_by(over),
            Limits {
                per_second: Some(50),
                burst: Some(100),
                per_day: Some(1000)
            }
        );
        assert_eq!(service.overridden_by(Limits::default()), service);
        assert_eq!(service.burst_size(), Some(10));
        assert_eq!(Limits::default().burst_size(), None);
    }

    #[test]
    fn limits_are_bounded() {
        assert!(Limits::default().validate().is_ok());
        for bad in [
            Limits {
                per_second: Some(0),
                ..Limits::default()
            },
            Limits {
                burst: Some(5),
                ..Limits::default()
            },
            Limits {
                per_day: Some(0),
                ..Limits::default()
            },
            Limits {
                per_second: Some(MAX_PER_SECOND + 1),
                ..Limits::default()
            },
        ] {
            assert_eq!(bad.validate().unwrap_err().code, "invalid_limits", "{bad:?}");
        }
    }

    #[test]
    fn the_daily_quota_counts_allowed_requests_and_starts_over_at_utc_midnight() {
        let midnight = 20_000 * 86_400;
        let mut c = DayCount::default();
        assert_eq!(
            c.take(midnight + 10, 2),
            QuotaDecision::Allowed {
                remaining: 1,
                reset: 86_390
            }
        );
        assert_eq!(
            c.take(midnight + 20, 2),
            QuotaDecision::Allowed {
                remaining: 0,
                reset: 86_380
            }
        );
        assert_eq!(
            c.take(midnight + 86_399, 2),
            QuotaDecision::Exhausted { retry_after: 1 }
        );
        assert_eq!(c.used, 2, "refusals are not counted");
        assert_eq!(
            c.take(midnight + 86_400, 2),
            QuotaDecision::Allowed {
                remaining: 1,
                reset: 86_400
            }
        );
    }

    #[test]
    fn ratelimit_fields_follow_the_draft() {
        let l = Limits {
            per_second: Some(5),
            burst: Some(10),
            per_day: Some(1000),
        };
        assert_eq!(
            ratelimit_policy(&l).unwrap(),
            "\"day\";q=1000;w=86400, \"second\";q=10;w=1"
        );
        assert_eq!(ratelimit_policy(&Limits::default()), None);
        assert_eq!(ratelimit("day", 998, 3600), "\"day\";r=998;t=3600");
    }

    #[test]
    fn only_api_key_integrations_call_without_a_token() {
        assert!(!needs_token(IntegrationType::ApiKey));
        assert!(needs_token(IntegrationType::Oauth));
        assert!(needs_token(IntegrationType::ServiceAccount));
    }

    #[test]
    fn requests_map_below_the_upstream_base_path() {
        let t = |b, r, q| upstream_target(b, r, q).unwrap();
        assert_eq!(t("http://u:8080", "/v1/x", None), "http://u:8080/v1/x");
        assert_eq!(t("http://u/api/", "/v1/x", Some("a=1")), "http://u/api/v1/x?a=1");
        assert_eq!(t("http://u/api", "", None), "http://u/api");
        assert_eq!(t("http://u/api/", "", None), "http://u/api/");
        assert_eq!(t("http://u/api?k=v", "/x", Some("a=1")), "http://u/api/x?k=v&a=1");
    }

    #[test]
    fn dot_segments_and_encoded_slashes_cannot_climb_out_of_the_base_path() {
        for rest in ["/../admin", "/a/./b", "/%2e%2e/admin", "/.%2E/x", "/a%2fb", "/%2F..%2F"] {
            assert_eq!(
                upstream_target("http://u/api", rest, None).unwrap_err().code,
                "invalid_path",
                "{rest}"
            );
        }
        assert!(upstream_target("http://u/api", "/a..b/.well-known", None).is_ok());
    }

    #[test]
    fn identity_forwarding_round_trips() {
        for f in [IdentityForwarding::Signed, IdentityForwarding::Token] {
            assert_eq!(IdentityForwarding::parse(f.as_str()).unwrap(), f);
        }
        assert!(IdentityForwarding::parse("none").is_err());
    }
}
