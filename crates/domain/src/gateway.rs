//! The API gateway's rules: how a service hands the caller's identity to its upstream, the limits
//! on an integration's calls (per second, per day and per month, a service default that a
//! subscription may override), the quotas' arithmetic, the share of a per-second rate a node takes
//! from the cluster's budget at once, the `RateLimit` header fields, which callers need a token,
//! where a service is reached, and how a request path maps to the upstream's.

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

/// A service's gateway settings: where callers reach it, what the upstream learns of the caller,
/// and the default limits of every subscribed integration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewaySettings {
    /// A path prefix of the service's own (`/stock/v2`), besides `/services/{code}`.
    pub path: Option<String>,
    pub identity: IdentityForwarding,
    pub limits: Limits,
}

/// The first path segments Gatehouse answers itself: no service's own path may start with one.
pub const RESERVED_PATH_ROOTS: &[&str] = &[
    ".well-known",
    "a",
    "account",
    "api",
    "console",
    "events",
    "healthz",
    "ims",
    "invitations",
    "metrics",
    "oauth",
    "ok",
    "password-reset",
    "readyz",
    "services",
    "setup",
    "signin",
    "signout",
    "signup",
    "static",
    "token",
    "verify-email",
];

/// Checks a service's own gateway path: absolute, no trailing slash, one to eight segments of
/// unreserved URL characters (no dot segments), not under a path Gatehouse answers itself.
pub fn validate_gateway_path(path: &str) -> Result<(), DomainError> {
    let bad = |why: &str| DomainError::new("invalid_gateway_path", format!("gateway path {path:?} {why}"));
    let Some(rest) = path.strip_prefix('/') else {
        return Err(bad("must start with '/'"));
    };
    if path.len() > 200 {
        return Err(bad("is longer than 200 characters"));
    }
    let segments: Vec<&str> = rest.split('/').collect();
    if rest.is_empty() || segments.len() > 8 {
        return Err(bad("must have one to eight segments"));
    }
    for s in &segments {
        if s.is_empty() || *s == "." || *s == ".." {
            return Err(bad("must not have empty, '.' or '..' segments (nor end with '/')"));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
            return Err(bad("may use letters, digits, '-', '.', '_' and '~' only"));
        }
    }
    if RESERVED_PATH_ROOTS.contains(&segments[0].to_ascii_lowercase().as_str()) {
        return Err(bad(&format!(
            "must not start with /{}, which Gatehouse answers itself",
            segments[0]
        )));
    }
    Ok(())
}

/// The part of a request path below a service's own gateway path, when the path is at or below
/// it (segment-wise: `/stock` matches `/stock` and `/stock/x`, not `/stockholm`).
pub fn below_gateway_path<'a>(prefix: &str, path: &'a str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// The header that carries the signed identity to the upstream.
pub const IDENTITY_HEADER: &str = "x-gatehouse-identity";
/// The JWT `typ` of the identity the gateway signs.
pub const IDENTITY_TYP: &str = "gatehouse-identity+jwt";
/// How long a signed identity is valid: long enough for one upstream call, too short to replay.
pub const IDENTITY_LIFETIME: i64 = 60;

/// Most requests per second, burst and requests per day or month a limit may name.
pub const MAX_PER_SECOND: u32 = 1_000_000;
pub const MAX_PER_DAY: u64 = 1_000_000_000_000;
pub const MAX_PER_MONTH: u64 = 30_000_000_000_000;

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
    /// Requests per UTC calendar month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_month: Option<u64>,
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
            per_month: over.per_month.or(self.per_month),
        }
    }

    /// The most calls the whole cluster admits in one second: the rate, or the burst when it is
    /// larger (a burst lets a quiet integration catch up within the second).
    pub fn per_second_cap(&self) -> Option<u32> {
        self.per_second.map(|r| r.max(self.burst_size().unwrap_or(r)))
    }

    /// The quota of a period, when set.
    pub fn quota(&self, period: QuotaPeriod) -> Option<u64> {
        match period {
            QuotaPeriod::Day => self.per_day,
            QuotaPeriod::Month => self.per_month,
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
        if self.per_month.is_some_and(|m| m == 0 || m > MAX_PER_MONTH) {
            return Err(bad(&format!("a monthly quota must be 1–{MAX_PER_MONTH} requests")));
        }
        Ok(())
    }
}

/// The UTC day of an instant (days since the Unix epoch): the daily quota's window, and the unit
/// in which usage is stored.
pub fn day_of(now: Timestamp) -> i64 {
    now.div_euclid(86_400)
}

/// Seconds until the daily quota starts over (the next UTC midnight); at least one.
pub fn seconds_to_next_day(now: Timestamp) -> i64 {
    (86_400 - now.rem_euclid(86_400)).max(1)
}

/// The windows of quotas: the UTC day and the UTC calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaPeriod {
    Day,
    Month,
}

impl QuotaPeriod {
    pub const ALL: [QuotaPeriod; 2] = [QuotaPeriod::Month, QuotaPeriod::Day];

    /// The name in `RateLimit` fields and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
        }
    }

    /// The period an instant falls in: its day, or its month counted from January 1970.
    pub fn index(self, now: Timestamp) -> i64 {
        match self {
            Self::Day => day_of(now),
            Self::Month => {
                let (y, m, _) = civil_from_days(day_of(now));
                y * 12 + i64::from(m) - 1 - 1970 * 12
            }
        }
    }

    /// The days (since the epoch) the period `index` covers: first and last, inclusive.
    pub fn days(self, index: i64) -> (i64, i64) {
        match self {
            Self::Day => (index, index),
            Self::Month => {
                let first = month_first_day(index);
                (first, month_first_day(index + 1) - 1)
            }
        }
    }

    /// Seconds until the period containing `now` ends; at least one.
    pub fn seconds_left(self, now: Timestamp) -> i64 {
        let (_, last) = self.days(self.index(now));
        ((last + 1) * 86_400 - now).max(1)
    }

    /// The period's length in seconds (the `w` of its `RateLimit-Policy` item).
    pub fn window(self, now: Timestamp) -> i64 {
        let (first, last) = self.days(self.index(now));
        (last - first + 1) * 86_400
    }
}

/// The day (since the epoch) on which month `index` (months since January 1970) starts.
fn month_first_day(index: i64) -> i64 {
    let y = 1970 + index.div_euclid(12);
    let m = index.rem_euclid(12) + 1;
    days_from_civil(y, m, 1)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01 (Howard Hinnant's `civil_from_days`): year, month, day.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Requests counted against a quota, for one period (a day or a month by its index).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeriodCount {
    pub period: i64,
    pub used: u64,
}

/// A request a quota refused, or what remains after one it allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaDecision {
    Allowed { remaining: u64, reset: i64 },
    Exhausted { retry_after: i64 },
}

impl PeriodCount {
    /// Whether one more request fits `limit` in `kind`'s period at `now` (a new period starts
    /// from zero). Nothing is counted: quotas of several periods are all checked before any is
    /// taken, so that a refusal by one takes nothing from the others.
    pub fn check(&mut self, kind: QuotaPeriod, now: Timestamp, limit: u64) -> QuotaDecision {
        let period = kind.index(now);
        if period != self.period {
            *self = PeriodCount { period, used: 0 };
        }
        let reset = kind.seconds_left(now);
        if self.used >= limit {
            return QuotaDecision::Exhausted { retry_after: reset };
        }
        QuotaDecision::Allowed {
            remaining: limit - self.used - 1,
            reset,
        }
    }

    /// Counts one request against `limit`; a refused request is not counted.
    pub fn take(&mut self, kind: QuotaPeriod, now: Timestamp, limit: u64) -> QuotaDecision {
        let decision = self.check(kind, now, limit);
        if matches!(decision, QuotaDecision::Allowed { .. }) {
            self.used += 1;
        }
        decision
    }
}

/// How many calls a node takes from the cluster's per-second budget at once (a lease it then
/// spends locally): a tenth of the budget, so that at most ten shared-counter updates per node
/// and second serve any rate, while a node's unspent lease — lost when the second ends — is small.
pub fn lease_size(cap: u32) -> u32 {
    (cap / 10).max(1)
}

/// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): the quota policies of these limits
/// at `now` (a month's window is the length of the current month).
pub fn ratelimit_policy(limits: &Limits, now: Timestamp) -> Option<String> {
    let mut parts = Vec::new();
    for period in QuotaPeriod::ALL {
        if let Some(q) = limits.quota(period) {
            parts.push(format!("\"{}\";q={q};w={}", period.as_str(), period.window(now)));
        }
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
            per_month: Some(20_000),
        };
        let over = Limits {
            per_second: Some(50),
            burst: Some(100),
            per_day: None,
            per_month: None,
        };
        assert_eq!(
            service.overridden_by(over),
            Limits {
                per_second: Some(50),
                burst: Some(100),
                per_day: Some(1000),
                per_month: Some(20_000),
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
            Limits {
                per_month: Some(0),
                ..Limits::default()
            },
        ] {
            assert_eq!(bad.validate().unwrap_err().code, "invalid_limits", "{bad:?}");
        }
    }

    #[test]
    fn the_daily_quota_counts_allowed_requests_and_starts_over_at_utc_midnight() {
        let midnight = 20_000 * 86_400;
        let day = QuotaPeriod::Day;
        let mut c = PeriodCount::default();
        assert_eq!(
            c.take(day, midnight + 10, 2),
            QuotaDecision::Allowed {
                remaining: 1,
                reset: 86_390
            }
        );
        assert_eq!(
            c.take(day, midnight + 20, 2),
            QuotaDecision::Allowed {
                remaining: 0,
                reset: 86_380
            }
        );
        assert_eq!(
            c.take(day, midnight + 86_399, 2),
            QuotaDecision::Exhausted { retry_after: 1 }
        );
        assert_eq!(c.used, 2, "refusals are not counted");
        assert_eq!(
            c.take(day, midnight + 86_400, 2),
            QuotaDecision::Allowed {
                remaining: 1,
                reset: 86_400
            }
        );
        assert_eq!(
            c.check(day, midnight + 86_400, 2),
            QuotaDecision::Allowed {
                remaining: 0,
                reset: 86_400
            }
        );
        assert_eq!(c.used, 1, "a check counts nothing");
    }

    #[test]
    fn months_are_utc_calendar_months() {
        let month = QuotaPeriod::Month;
        // 2026-12-07T21:56:00Z, 2027-01-01T00:00:00Z, 2024-02-29T12:00:00Z, 1970-01-01.
        let dec = 1_796_680_560;
        let jan = 1_798_761_600;
        let leap = 1_709_208_000;
        assert_eq!(month.index(0), 0);
        assert_eq!(month.index(dec), 56 * 12 + 11);
        assert_eq!(month.index(jan - 1), month.index(dec));
        assert_eq!(month.index(jan), month.index(dec) + 1);
        assert_eq!(month.seconds_left(dec), jan - dec);
        assert_eq!(month.seconds_left(jan), 31 * 86_400);
        assert_eq!(month.window(dec), 31 * 86_400);
        assert_eq!(month.window(leap), 29 * 86_400);
        assert_eq!(month.days(month.index(leap)), (19_754, 19_782));
        assert_eq!(QuotaPeriod::Day.days(20_000), (20_000, 20_000));
        // Every day of 400 years falls in the month whose days contain it.
        for day in (-1_000..146_097).step_by(7) {
            let (first, last) = month.days(month.index(day * 86_400));
            assert!(first <= day && day <= last, "{day}");
            assert!((28..=31).contains(&(last - first + 1)), "{day}");
        }
    }

    #[test]
    fn a_node_leases_a_tenth_of_the_cluster_budget() {
        assert_eq!(lease_size(1), 1);
        assert_eq!(lease_size(19), 1);
        assert_eq!(lease_size(1000), 100);
        let l = Limits {
            per_second: Some(10),
            burst: Some(25),
            ..Limits::default()
        };
        assert_eq!(l.per_second_cap(), Some(25));
        let l = Limits {
            per_second: Some(10),
            burst: Some(2),
            ..Limits::default()
        };
        assert_eq!(l.per_second_cap(), Some(10));
        assert_eq!(Limits::default().per_second_cap(), None);
    }

    #[test]
    fn a_services_own_path_stays_out_of_gatehouses_paths() {
        for ok in ["/stock", "/stock/v2", "/a-b/c.d/e_f~g"] {
            assert!(validate_gateway_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "stock",
            "/",
            "/stock/",
            "//x",
            "/x/../y",
            "/x/./y",
            "/oauth/x",
            "/API",
            "/services/x",
            "/x y",
            "/x%2fy",
            "/.well-known/x",
        ] {
            assert_eq!(
                validate_gateway_path(bad).unwrap_err().code,
                "invalid_gateway_path",
                "{bad}"
            );
        }
        assert_eq!(below_gateway_path("/stock", "/stock"), Some(""));
        assert_eq!(below_gateway_path("/stock", "/stock/v1/x"), Some("/v1/x"));
        assert_eq!(below_gateway_path("/stock", "/stockholm"), None);
        assert_eq!(below_gateway_path("/stock", "/sto"), None);
    }

    #[test]
    fn ratelimit_fields_follow_the_draft() {
        let l = Limits {
            per_second: Some(5),
            burst: Some(10),
            per_day: Some(1000),
            per_month: Some(20_000),
        };
        // 2026-12-07: December has 31 days.
        assert_eq!(
            ratelimit_policy(&l, 1_796_680_560).unwrap(),
            "\"month\";q=20000;w=2678400, \"day\";q=1000;w=86400, \"second\";q=10;w=1"
        );
        assert_eq!(ratelimit_policy(&Limits::default(), 0), None);
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
