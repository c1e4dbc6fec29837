//! The API gateway's decisions, without HTTP: which service a call is for, whether it may go
//! through (the API key's integration, its token, the policy's [`policy::call_service`]), its
//! limits (GCRA per second with `governor`, a daily quota), the identity the upstream is given,
//! and the usage counters (metrics, and the stored daily counts every node adds to). The web crate
//! parses the request, asks [`admit`], and proxies.

use std::{
    collections::{HashMap, HashSet},
    num::NonZeroU32,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use gatehouse_domain::{
    Timestamp,
    gateway::{
        self, DayCount, IDENTITY_LIFETIME, IDENTITY_TYP, IdentityClaims, IdentityForwarding, Limits, QuotaDecision,
    },
    service::{Service, ServiceCode},
    token::claims::new_jti,
};
use gatehouse_store::{GatewayStore, ServiceStore, StoreError, UsageCount};
use governor::{
    Quota, RateLimiter,
    clock::{Clock as _, DefaultClock},
    middleware::StateInformationMiddleware,
    state::{InMemoryState, NotKeyed},
};

use gatehouse_store::{AuditStore, IntegrationStore};

use crate::{
    Core, console,
    error::{Error, Kind},
    policy::{self, CallService, PresentedToken, Principal},
};

/// Gateway calls answered, by service, integration (client ID) and outcome (`allowed` or the code
/// of the refusal). Labels name only services of the catalog and known integrations (`unknown`
/// otherwise), so the label sets stay bounded by the catalog.
pub const GATEWAY_REQUESTS_TOTAL: &str = "gatehouse_gateway_requests_total";
/// How often a node adds its usage counts to the stored ones (and reads back the other nodes').
pub const USAGE_FLUSH_EVERY: Duration = Duration::from_secs(2);
/// Days of stored usage kept.
pub const USAGE_DAYS_KEPT: i64 = 400;
/// The label of calls whose service or integration is not known.
const UNKNOWN: &str = "unknown";
/// Most limiters and daily counters a node keeps; past this they start over (a bound on memory
/// that only subscriptions in use reach).
const MAX_TRACKED: usize = 100_000;

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;
/// (integration ID, service code).
type CallKey = (String, String);
/// (integration ID, service code, UTC day, outcome).
type UsageKey = (String, String, i64, &'static str);

/// The gateway's in-memory state on one node.
#[derive(Default)]
pub struct GatewayRuntime {
    services: RwLock<ServiceCache>,
    limiters: Mutex<HashMap<CallKey, (Limits, Arc<Limiter>)>>,
    days: Mutex<HashMap<CallKey, DayCount>>,
    /// Counts not yet added to the store.
    pending: Mutex<HashMap<UsageKey, i64>>,
}

#[derive(Default)]
struct ServiceCache {
    generation: Option<i64>,
    services: HashMap<String, Arc<Service>>,
}

/// A call the gateway lets through: what the policy granted, the service and its upstream, and
/// the rate-limit fields to send back.
#[derive(Debug, Clone)]
pub struct Admission {
    pub call: CallService,
    pub service: Arc<Service>,
    pub upstream_url: String,
    pub ratelimit: RateLimitState,
    /// Whether the call brought a token the verifier accepted (only such a token is ever
    /// forwarded; an API Key integration's calls bring none).
    pub token_verified: bool,
}

/// `RateLimit-Policy` and `RateLimit` field values (empty when no limit applies).
#[derive(Debug, Clone, Default)]
pub struct RateLimitState {
    pub policy: Option<String>,
    pub remaining: Vec<String>,
}

/// A refused call: the error (its kind and code say what is missing), and for limits the seconds
/// until a retry may pass and the rate-limit fields.
#[derive(Debug, Clone)]
pub struct Refused {
    pub error: Error,
    pub retry_after: Option<i64>,
    pub ratelimit: RateLimitState,
}

impl From<Error> for Refused {
    fn from(error: Error) -> Self {
        Self {
            error,
            retry_after: None,
            ratelimit: RateLimitState::default(),
        }
    }
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Error::from(e).into()
    }
}

fn unauthorized(code: &'static str, message: impl Into<String>) -> Refused {
    Error::new(Kind::Unauthorized, code, message).into()
}

/// What the gateway knows of a call's credentials, as the web crate read them from the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// `x-api-key`: the integration's client ID.
    pub api_key: Option<&'a str>,
    /// The `Authorization: Bearer` token.
    pub bearer: Option<&'a str>,
}

/// The service with this code, from the node's copy of the catalog (re-read when the catalog
/// generation moves).
pub async fn service(core: &Core, code: &str) -> Result<Option<Arc<Service>>, StoreError> {
    let generation = *core.catalog.borrow();
    if let Ok(cache) = core.gateway.services.read()
        && cache.generation == Some(generation)
    {
        return Ok(cache.services.get(code).cloned());
    }
    let all = core.store.conn().await?.list_services().await?;
    let services: HashMap<String, Arc<Service>> = all
        .into_iter()
        .map(|s| (s.code.as_str().to_owned(), Arc::new(s)))
        .collect();
    let found = services.get(code).cloned();
    if let Ok(mut cache) = core.gateway.services.write() {
        *cache = ServiceCache {
            generation: Some(generation),
            services,
        };
    }
    Ok(found)
}

/// Decides a call to the service `code`: the service has an upstream, the API key names a known
/// integration, its token (when it needs one) is valid — checked by the node's one token verifier,
/// so a revoked token or a disabled integration is refused at once — the policy lets it call the
/// service, and its limits have room. Every outcome is counted.
pub async fn admit(core: &Core, code: &str, creds: Credentials<'_>) -> Result<Admission, Refused> {
    let service = match service(core, code).await? {
        Some(s) if s.upstream_url.is_some() => s,
        _ => {
            count(core, None, None, "service_not_found");
            return Err(Error::new(
                Kind::NotFound,
                "service_not_found",
                "No service of the gateway has this path.",
            )
            .into());
        }
    };
    let result = decide(core, &service, creds).await;
    match &result {
        Ok(a) => count(core, Some(&a.call), Some(&service.code), "allowed"),
        Err((call, refused)) => {
            let outcome = outcome_code(refused.error.code);
            count_refusal(core, call.as_ref(), &service.code, outcome);
        }
    }
    result.map_err(|(_, r)| r)
}

/// The known integration a refusal concerns, when the API key named one.
type KnownCaller = Option<(String, String)>;

async fn decide(
    core: &Core,
    service: &Arc<Service>,
    creds: Credentials<'_>,
) -> Result<Admission, (KnownCaller, Refused)> {
    let Some(api_key) = creds.api_key else {
        return Err((
            None,
            unauthorized(
                "api_key_required",
                format!(
                    "{} needs the integration's client ID in the x-api-key header.",
                    service.name
                ),
            ),
        ));
    };
    let client = match core.tokens.client(api_key).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Err((
                None,
                unauthorized("invalid_api_key", "The x-api-key names no integration."),
            ));
        }
        Err(e) => return Err((None, Error::internal(e).into())),
    };
    let known = Some((client.integration.id.clone(), client.client_id().to_owned()));
    let fail = |r: Refused| (known.clone(), r);
    let mut presented = None;
    if gateway::needs_token(client.integration.integration_type)
        && let Some(token) = creds.bearer
    {
        let claims = match core.tokens.inspect_access_token(token).await {
            Ok(Ok(c)) => c,
            Ok(Err(why)) => {
                return Err(fail(unauthorized(
                    "invalid_token",
                    format!("The access token is not valid ({}).", why.reason()),
                )));
            }
            Err(e) => return Err(fail(Error::internal(e).into())),
        };
        let principal = if claims.client_id == client.client_id() && claims.sub == client.own_subject() {
            Principal::integration(client.integration.clone())
        } else if claims.sub != claims.client_id {
            Principal::person_token(&claims.sub, &claims.client_id)
        } else {
            // Another integration acting for itself: the policy refuses it by its client alone.
            match core.tokens.client(&claims.client_id).await {
                Ok(Some(other)) => Principal::integration(other.integration.clone()),
                _ => Principal::person_token(&claims.sub, &claims.client_id),
            }
        };
        presented = Some((principal, claims.scopes()));
    }
    let call = policy::call_service(
        &client.integration,
        &client.subscriptions,
        service,
        presented.as_ref().map(|(p, s)| PresentedToken {
            principal: p,
            scopes: s,
        }),
    )
    .map_err(|r| fail(Error::from(r).into()))?;
    let ratelimit = take(core, &call, &service.code).await.map_err(fail)?;
    Ok(Admission {
        upstream_url: service.upstream_url.clone().unwrap_or_default(),
        service: service.clone(),
        call,
        ratelimit,
        token_verified: presented.is_some(),
    })
}

/// Takes one request from the call's limits: the per-second rate first (GCRA), then the daily
/// quota. A refused request takes nothing from the daily quota.
async fn take(core: &Core, call: &CallService, service: &ServiceCode) -> Result<RateLimitState, Refused> {
    let limits = call.limits();
    let mut state = RateLimitState {
        policy: gateway::ratelimit_policy(&limits),
        remaining: Vec::new(),
    };
    let key = (call.integration_id().to_owned(), service.as_str().to_owned());
    if let (Some(rate), Some(burst)) = (limits.per_second, limits.burst_size()) {
        let limiter = limiter(core, &key, limits, rate, burst);
        match limiter.check() {
            Ok(snapshot) => state.remaining.push(gateway::ratelimit(
                "second",
                u64::from(snapshot.remaining_burst_capacity()),
                1,
            )),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let retry_after = i64::try_from(wait.as_secs()).unwrap_or(i64::MAX).saturating_add(1);
                state.remaining.push(gateway::ratelimit("second", 0, retry_after));
                return Err(Refused {
                    error: Error::new(
                        Kind::TooManyRequests,
                        "rate_limited",
                        format!("This integration may call this service at most {rate} times a second."),
                    ),
                    retry_after: Some(retry_after),
                    ratelimit: state,
                });
            }
        }
    }
    if let Some(per_day) = limits.per_day {
        let now = core.now();
        let day = gateway::day_of(now);
        let known = core
            .gateway
            .days
            .lock()
            .ok()
            .is_some_and(|d| d.get(&key).is_some_and(|c| c.day == day));
        if !known {
            // First call of the day on this node: start from what every node has stored.
            let stored = core.store.conn().await?.allowed_on(&key.0, &key.1, day).await?;
            if let Ok(mut days) = core.gateway.days.lock() {
                if days.len() >= MAX_TRACKED {
                    days.clear();
                }
                let entry = days.entry(key.clone()).or_default();
                if entry.day != day {
                    *entry = DayCount {
                        day,
                        used: u64::try_from(stored).unwrap_or(0),
                    };
                }
            }
        }
        let decision = match core.gateway.days.lock() {
            Ok(mut days) => days.entry(key).or_default().take(now, per_day),
            Err(_) => return Err(Error::internal("the daily quota counters are poisoned").into()),
        };
        match decision {
            QuotaDecision::Allowed { remaining, reset } => {
                state.remaining.insert(0, gateway::ratelimit("day", remaining, reset));
            }
            QuotaDecision::Exhausted { retry_after } => {
                state.remaining.insert(0, gateway::ratelimit("day", 0, retry_after));
                return Err(Refused {
                    error: Error::new(
                        Kind::TooManyRequests,
                        "quota_exceeded",
                        format!("This integration has used its {per_day} calls to this service for today (UTC)."),
                    ),
                    retry_after: Some(retry_after),
                    ratelimit: state,
                });
            }
        }
    }
    Ok(state)
}

fn limiter(core: &Core, key: &(String, String), limits: Limits, rate: u32, burst: u32) -> Arc<Limiter> {
    let Ok(mut all) = core.gateway.limiters.lock() else {
        return Arc::new(new_limiter(rate, burst));
    };
    if let Some((l, limiter)) = all.get(key)
        && *l == limits
    {
        return limiter.clone();
    }
    if all.len() >= MAX_TRACKED {
        all.clear();
    }
    let limiter = Arc::new(new_limiter(rate, burst));
    all.insert(key.clone(), (limits, limiter.clone()));
    limiter
}

fn new_limiter(rate: u32, burst: u32) -> Limiter {
    let one = NonZeroU32::MIN;
    let quota =
        Quota::per_second(NonZeroU32::new(rate).unwrap_or(one)).allow_burst(NonZeroU32::new(burst).unwrap_or(one));
    RateLimiter::direct(quota).with_middleware::<StateInformationMiddleware>()
}

/// The stored and exported outcome of a refusal: its code when it is one the gateway names, else
/// `error` (internal failures), so the set stays bounded.
fn outcome_code(code: &'static str) -> &'static str {
    match code {
        "api_key_required"
        | "invalid_api_key"
        | "invalid_token"
        | "token_required"
        | "integration_disabled"
        | "not_subscribed"
        | "integration_token_required"
        | "token_of_another_integration"
        | "insufficient_scope"
        | "rate_limited"
        | "quota_exceeded"
        | "service_not_found" => code,
        _ => "error",
    }
}

fn count(core: &Core, call: Option<&CallService>, service: Option<&ServiceCode>, outcome: &'static str) {
    let caller = call.map(|c| (c.integration_id().to_owned(), c.client_id().to_owned()));
    record(core, caller.as_ref(), service, outcome);
}

fn count_refusal(core: &Core, caller: Option<&(String, String)>, service: &ServiceCode, outcome: &'static str) {
    record(core, caller, Some(service), outcome);
}

fn record(core: &Core, caller: Option<&(String, String)>, service: Option<&ServiceCode>, outcome: &'static str) {
    metrics::counter!(
        GATEWAY_REQUESTS_TOTAL,
        "service" => service.map_or(UNKNOWN, ServiceCode::as_str).to_owned(),
        "integration" => caller.map_or(UNKNOWN, |(_, client)| client.as_str()).to_owned(),
        "outcome" => outcome,
    )
    .increment(1);
    if let (Some((integration, _)), Some(service)) = (caller, service)
        && let Ok(mut pending) = core.gateway.pending.lock()
    {
        let day = gateway::day_of(core.now());
        *pending
            .entry((integration.clone(), service.as_str().to_owned(), day, outcome))
            .or_default() += 1;
    }
}

/// Calls the upstream has failed (no answer, a timeout): counted like refusals, under `outcome`
/// `upstream_error` or `upstream_timeout`.
pub fn count_upstream_failure(core: &Core, admission: &Admission, timeout: bool) {
    let outcome = if timeout { "upstream_timeout" } else { "upstream_error" };
    count(core, Some(&admission.call), Some(&admission.service.code), outcome);
}

/// The identity header's value for an admitted call: a JWT Gatehouse signs with its current key
/// (verifiable with its JWKS), valid for [`IDENTITY_LIFETIME`] seconds. `None` when the service
/// takes the caller's token instead.
pub async fn identity(core: &Core, a: &Admission) -> Result<Option<String>, Error> {
    if a.service.gateway.identity != IdentityForwarding::Signed {
        return Ok(None);
    }
    let now = core.now();
    let claims = identity_claims(core, a, now);
    core.tokens
        .sign_jwt(IDENTITY_TYP, &claims)
        .await
        .map(Some)
        .map_err(Error::internal)
}

fn identity_claims(core: &Core, a: &Admission, now: Timestamp) -> IdentityClaims {
    IdentityClaims {
        iss: core.tokens.settings.issuer.issuer.clone(),
        aud: a.service.code.as_str().to_owned(),
        sub: a.call.subject().to_owned(),
        iat: now,
        exp: now + IDENTITY_LIFETIME,
        jti: new_jti(&mut rand::thread_rng()),
        client_id: a.call.client_id().to_owned(),
        integration_id: a.call.integration_id().to_owned(),
        sub_type: a.call.subject_type().as_str().to_owned(),
        org_id: a.call.org_id().map(str::to_owned),
        scope: a.call.scopes().join(" "),
    }
}

/// Adds this node's pending usage counts to the stored ones, then reads back today's totals of the
/// daily quotas it tracks, so calls counted by other nodes count here too (within one flush).
pub async fn flush_usage(core: &Core) -> Result<(), StoreError> {
    let pending = match core.gateway.pending.lock() {
        Ok(mut p) => std::mem::take(&mut *p),
        Err(_) => return Ok(()),
    };
    if !pending.is_empty() {
        let counts: Vec<UsageCount> = pending
            .iter()
            .map(|((integration, service, day, outcome), n)| UsageCount {
                integration_id: integration.clone(),
                service_code: service.clone(),
                day: *day,
                outcome: (*outcome).to_owned(),
                requests: *n,
            })
            .collect();
        let mut tx = core.store.begin().await?;
        if let Err(e) = tx.add_usage(&counts).await {
            // Keep the counts for the next flush rather than lose them.
            if let Ok(mut p) = core.gateway.pending.lock() {
                for (k, n) in pending {
                    *p.entry(k).or_default() += n;
                }
            }
            return Err(e);
        }
        tx.commit_unaudited().await?;
    }
    let today = gateway::day_of(core.now());
    // The counts of calls made since the last flush are raised to the stored totals; the others
    // are forgotten, so that their next call starts from the store (one query then, not one per
    // flush for every pair ever called).
    let called: HashSet<CallKey> = pending
        .keys()
        .filter(|(_, _, day, _)| *day == today)
        .map(|(i, s, _, _)| (i.clone(), s.clone()))
        .collect();
    let tracked: Vec<CallKey> = match (core.gateway.days.lock(), core.gateway.pending.lock()) {
        (Ok(mut days), Ok(now_pending)) => {
            let since: HashSet<CallKey> = now_pending.keys().map(|(i, s, _, _)| (i.clone(), s.clone())).collect();
            days.retain(|k, c| c.day == today && (called.contains(k) || since.contains(k)));
            days.keys().filter(|k| called.contains(*k)).cloned().collect()
        }
        _ => return Ok(()),
    };
    if tracked.is_empty() {
        return Ok(());
    }
    let mut conn = core.store.conn().await?;
    for key in tracked {
        let stored = u64::try_from(conn.allowed_on(&key.0, &key.1, today).await?).unwrap_or(0);
        let unflushed = core.gateway.pending.lock().ok().map_or(0, |p| {
            p.get(&(key.0.clone(), key.1.clone(), today, "allowed"))
                .copied()
                .unwrap_or(0)
        });
        if let Ok(mut days) = core.gateway.days.lock()
            && let Some(c) = days.get_mut(&key)
            && c.day == today
        {
            c.used = c.used.max(stored + u64::try_from(unflushed).unwrap_or(0));
        }
    }
    Ok(())
}

/// The usage flush, every [`USAGE_FLUSH_EVERY`], with old days purged hourly; started by the
/// `app` crate.
pub fn spawn_usage_flush(core: Core) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(USAGE_FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut purged_at = 0;
        loop {
            tick.tick().await;
            if let Err(e) = flush_usage(&core).await {
                tracing::warn!(error = %e, "the gateway's usage counts were not stored; they are kept for the next try");
            }
            let now = core.now();
            if now - purged_at >= 3600 {
                purged_at = now;
                let before = gateway::day_of(now) - USAGE_DAYS_KEPT;
                if let Ok(mut conn) = core.store.conn().await
                    && let Err(e) = conn.purge_usage(before).await
                {
                    tracing::warn!(error = %e, "old gateway usage was not purged");
                }
            }
        }
    })
}

/// The stored usage of the integration `id` over the last `days` UTC days (today included; this
/// node's last [`USAGE_FLUSH_EVERY`] may not be in it yet), for those who may manage it.
pub async fn usage(core: &Core, caller: &console::Caller, id: &str, days: i64) -> Result<Vec<UsageCount>, Error> {
    let mut conn = core.store.conn().await?;
    let integration = console::managed_integration(&mut conn, caller, id).await?;
    let since = gateway::day_of(core.now()) - days.clamp(1, USAGE_DAYS_KEPT) + 1;
    Ok(conn.usage_of(&integration.integration().id, since).await?)
}

/// Sets the integration's own limits on a subscribed service (operators only: limits are the
/// operator's to grant). Kinds left out follow the service's defaults.
pub async fn set_limits(
    core: &Core,
    caller: &console::Caller,
    id: &str,
    code: &str,
    limits: Limits,
) -> Result<gatehouse_domain::service::Subscription, Error> {
    policy::catalog_admin(&caller.principal)?;
    limits.validate().map_err(|e| Error::rule(e).on("limits"))?;
    let code = ServiceCode::parse(code).map_err(|_| Error::not_found("subscription"))?;
    let mut tx = core.store.begin().await?;
    let integration = console::managed_integration(&mut tx, caller, id)
        .await?
        .into_integration();
    let mut sub = tx
        .subscriptions_of(&integration.id)
        .await?
        .into_iter()
        .find(|s| s.service_code == code)
        .ok_or_else(|| Error::not_found("subscription"))?;
    sub.limits = limits;
    sub.updated_at = core.now();
    tx.upsert_subscription(&sub).await?;
    let entry = console::audit(core, caller, "subscription.limits_changed", &integration)
        .details(serde_json::json!({ "service": code.as_str(), "limits": limits }));
    tx.append_audit(&entry).await?;
    tx.commit().await?;
    Ok(sub)
}
