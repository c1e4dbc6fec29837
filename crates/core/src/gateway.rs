//! The API gateway's decisions, without HTTP: which service a call is for, whether it may go
//! through (the API key's integration and its allowed domains, its token, the policy's
//! [`policy::call_service`]), its limits (GCRA per second with `governor`, on PostgreSQL also a
//! per-second budget the nodes share; daily and monthly quotas), the identity the upstream is
//! given, and the usage counters (metrics, and the stored daily counts every node adds to). The
//! web crate parses the request, asks [`admit`], and proxies.

use std::{
    collections::{HashMap, HashSet},
    num::NonZeroU32,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use gatehouse_domain::{
    Timestamp,
    gateway::{
        self, IDENTITY_LIFETIME, IDENTITY_TYP, IdentityClaims, IdentityForwarding, Limits, PeriodCount, QuotaDecision,
        QuotaPeriod,
    },
    service::{Service, ServiceCode},
    token::claims::new_jti,
};
use gatehouse_store::{Backend, GatewayStore, ServiceStore, StoreError, UsageCount};
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
/// Time from admitting a call to the upstream's status and headers, by service (a catalog code):
/// the upstream's latency as the gateway sees it, apart from Gatehouse's own.
pub const GATEWAY_UPSTREAM_DURATION: &str = "gatehouse_gateway_upstream_duration_seconds";
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
/// Per-second budgets older than this many seconds are purged.
const RATE_WINDOWS_KEPT: i64 = 60;

/// The gateway's in-memory state on one node.
#[derive(Default)]
pub struct GatewayRuntime {
    services: RwLock<ServiceCache>,
    limiters: Mutex<HashMap<CallKey, (Limits, Arc<Limiter>)>>,
    /// Calls counted against each quota in its current period (a day or a month).
    quotas: Mutex<HashMap<(CallKey, QuotaPeriod), PeriodCount>>,
    /// Calls this node leased from the cluster's per-second budgets and has not spent yet.
    leases: Mutex<HashMap<CallKey, Lease>>,
    /// Counts not yet added to the store.
    pending: Mutex<HashMap<UsageKey, i64>>,
    /// Signed identities by what they say (caller, subject, scopes, service), reused while they
    /// have at least [`IDENTITY_REUSE_LEFT`] seconds to live.
    identities: Mutex<HashMap<String, (String, Timestamp)>>,
}

/// A signed identity is reused for calls that would get the same claims until it has this many
/// seconds left of its [`IDENTITY_LIFETIME`]: signing one per call would cost more than the rest
/// of the gateway's work, and an upstream learns nothing more from a fresh `jti`.
const IDENTITY_REUSE_LEFT: i64 = 30;

/// What is left of this node's lease on one second's shared budget.
#[derive(Debug, Clone, Copy)]
struct Lease {
    second: Timestamp,
    left: u32,
}

#[derive(Default)]
struct ServiceCache {
    generation: Option<i64>,
    services: HashMap<String, Arc<Service>>,
    /// Services with a gateway path of their own, longest path first.
    paths: Vec<(String, Arc<Service>)>,
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
    /// `Origin` and `Referer`, checked against the API key's allowed domains.
    pub origin: Option<&'a str>,
    pub referer: Option<&'a str>,
}

/// The service with this code, from the node's copy of the catalog (re-read when the catalog
/// generation moves).
pub async fn service(core: &Core, code: &str) -> Result<Option<Arc<Service>>, StoreError> {
    with_services(core, |cache| cache.services.get(code).cloned()).await
}

/// The service whose own gateway path a request path is at or below, with the part of the path
/// below it (as sent). The longest matching path wins.
pub async fn service_at_path(core: &Core, path: &str) -> Result<Option<(Arc<Service>, String)>, StoreError> {
    with_services(core, |cache| {
        cache.paths.iter().find_map(|(prefix, service)| {
            gateway::below_gateway_path(prefix, path).map(|rest| (service.clone(), rest.to_owned()))
        })
    })
    .await
}

async fn with_services<T>(core: &Core, read: impl Fn(&ServiceCache) -> T) -> Result<T, StoreError> {
    let generation = *core.catalog.borrow();
    if let Ok(cache) = core.gateway.services.read()
        && cache.generation == Some(generation)
    {
        return Ok(read(&cache));
    }
    let all = core.store.conn().await?.list_services().await?;
    let services: HashMap<String, Arc<Service>> = all
        .into_iter()
        .map(|s| (s.code.as_str().to_owned(), Arc::new(s)))
        .collect();
    let mut paths: Vec<(String, Arc<Service>)> = services
        .values()
        .filter(|s| s.upstream_url.is_some())
        .filter_map(|s| s.gateway.path.clone().map(|p| (p, s.clone())))
        .collect();
    paths.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    let cache = ServiceCache {
        generation: Some(generation),
        services,
        paths,
    };
    let found = read(&cache);
    if let Ok(mut c) = core.gateway.services.write() {
        *c = cache;
    }
    Ok(found)
}

/// Decides a call to the service `code`: the service has an upstream, the API key names a known
/// integration, its token (when it needs one) is valid — checked by the node's one token verifier,
/// so a revoked token or a disabled integration is refused at once — the policy lets it call the
/// service, and its limits have room. Every outcome is counted.
pub async fn admit(core: &Core, code: &str, creds: Credentials<'_>) -> Result<Admission, Refused> {
    let service = service(core, code).await?;
    admit_to(core, service, creds).await
}

/// Decides a call to `service` (found by its code or its own path); see [`admit`].
pub async fn admit_to(
    core: &Core,
    service: Option<Arc<Service>>,
    creds: Credentials<'_>,
) -> Result<Admission, Refused> {
    let service = match service {
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
        Ok(a) => {
            count(core, Some(&a.call), Some(&service.code), "allowed");
            // The API key's integration was used (in memory; written by `tokens::last_used`).
            core.tokens.last_used.mark(a.call.integration_id(), None, core.now());
        }
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
    policy::api_key_origin(&client.integration, creds.origin, creds.referer)
        .map_err(|r| fail(Error::from(r).into()))?;
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

/// Takes one request from the call's limits: this node's per-second rate (GCRA), then on
/// PostgreSQL the cluster's per-second budget, then the quotas (month and day). A request one
/// quota refuses takes nothing from the others.
async fn take(core: &Core, call: &CallService, service: &ServiceCode) -> Result<RateLimitState, Refused> {
    let limits = call.limits();
    let now = core.now();
    let mut state = RateLimitState {
        policy: gateway::ratelimit_policy(&limits, now),
        remaining: Vec::new(),
    };
    let key = (call.integration_id().to_owned(), service.as_str().to_owned());
    if let (Some(rate), Some(burst), Some(cap)) = (limits.per_second, limits.burst_size(), limits.per_second_cap()) {
        let limiter = limiter(core, &key, limits, rate, burst);
        let rate_limited = |retry_after: i64, mut state: RateLimitState| {
            state.remaining.push(gateway::ratelimit("second", 0, retry_after));
            Refused {
                error: Error::new(
                    Kind::TooManyRequests,
                    "rate_limited",
                    format!("This integration may call this service at most {rate} times a second."),
                ),
                retry_after: Some(retry_after),
                ratelimit: state,
            }
        };
        let remaining = match limiter.check() {
            Ok(snapshot) => u64::from(snapshot.remaining_burst_capacity()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let retry_after = i64::try_from(wait.as_secs()).unwrap_or(i64::MAX).saturating_add(1);
                return Err(rate_limited(retry_after, state));
            }
        };
        if core.store.backend() == Backend::Postgres && !take_shared_second(core, &key, now, cap).await? {
            return Err(rate_limited(1, state));
        }
        state.remaining.push(gateway::ratelimit("second", remaining, 1));
    }
    let quotas: Vec<(QuotaPeriod, u64)> = QuotaPeriod::ALL
        .into_iter()
        .filter_map(|p| limits.quota(p).map(|q| (p, q)))
        .collect();
    if quotas.is_empty() {
        return Ok(state);
    }
    for (period, _) in &quotas {
        load_quota_count(core, &key, *period, now).await?;
    }
    let Ok(mut counts) = core.gateway.quotas.lock() else {
        return Err(Error::internal("the quota counters are poisoned").into());
    };
    let mut fields = Vec::new();
    for (period, limit) in &quotas {
        let count = counts.entry((key.clone(), *period)).or_default();
        match count.check(*period, now, *limit) {
            QuotaDecision::Allowed { remaining, reset } => {
                fields.push(gateway::ratelimit(period.as_str(), remaining, reset));
            }
            QuotaDecision::Exhausted { retry_after } => {
                state
                    .remaining
                    .insert(0, gateway::ratelimit(period.as_str(), 0, retry_after));
                let when = match period {
                    QuotaPeriod::Day => "today (UTC)",
                    QuotaPeriod::Month => "this month (UTC)",
                };
                return Err(Refused {
                    error: Error::new(
                        Kind::TooManyRequests,
                        "quota_exceeded",
                        format!("This integration has used its {limit} calls to this service for {when}."),
                    ),
                    retry_after: Some(retry_after),
                    ratelimit: state,
                });
            }
        }
    }
    for (period, limit) in &quotas {
        counts
            .entry((key.clone(), *period))
            .or_default()
            .take(*period, now, *limit);
    }
    for (n, field) in fields.into_iter().enumerate() {
        state.remaining.insert(n, field);
    }
    Ok(state)
}

/// Takes one call from the cluster's budget for this second (PostgreSQL): from this node's lease
/// when some is left, else by leasing [`gateway::lease_size`] more from the shared counter. `false`
/// when the whole cluster has spent the second's budget. A lease left unspent when the second ends
/// is lost, so the cluster may admit fewer than `cap` calls in a second (at most `lease − 1` fewer
/// per node), never more.
async fn take_shared_second(core: &Core, key: &CallKey, second: Timestamp, cap: u32) -> Result<bool, Refused> {
    if let Ok(mut leases) = core.gateway.leases.lock()
        && let Some(l) = leases.get_mut(key)
        && l.second == second
        && l.left > 0
    {
        l.left -= 1;
        return Ok(true);
    }
    let mut tx = core.store.begin().await?;
    let granted = tx
        .take_rate_lease(&key.0, &key.1, second, cap, gateway::lease_size(cap))
        .await?;
    tx.commit_unaudited().await?;
    if granted == 0 {
        return Ok(false);
    }
    if let Ok(mut leases) = core.gateway.leases.lock() {
        if leases.len() >= MAX_TRACKED {
            leases.clear();
        }
        let l = leases.entry(key.clone()).or_insert(Lease { second, left: 0 });
        if l.second != second {
            *l = Lease { second, left: 0 };
        }
        l.left += granted - 1;
    }
    Ok(true)
}

/// On the first call of a period on this node, starts the quota's count from what every node has
/// stored for the period so far.
async fn load_quota_count(core: &Core, key: &CallKey, period: QuotaPeriod, now: Timestamp) -> Result<(), Refused> {
    let index = period.index(now);
    let known = core
        .gateway
        .quotas
        .lock()
        .ok()
        .is_some_and(|q| q.get(&(key.clone(), period)).is_some_and(|c| c.period == index));
    if known {
        return Ok(());
    }
    let (first, last) = period.days(index);
    let stored = core
        .store
        .conn()
        .await?
        .allowed_between(&key.0, &key.1, first, last)
        .await?;
    if let Ok(mut quotas) = core.gateway.quotas.lock() {
        if quotas.len() >= MAX_TRACKED {
            quotas.clear();
        }
        let entry = quotas.entry((key.clone(), period)).or_default();
        if entry.period != index {
            *entry = PeriodCount {
                period: index,
                used: u64::try_from(stored).unwrap_or(0),
            };
        }
    }
    Ok(())
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
        | "domain_not_allowed"
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

/// Records how long the upstream took to start answering an admitted call.
pub fn record_upstream_latency(admission: &Admission, elapsed: Duration) {
    metrics::histogram!(GATEWAY_UPSTREAM_DURATION, "service" => admission.service.code.as_str().to_owned())
        .record(elapsed.as_secs_f64());
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
    let key = format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        a.call.integration_id(),
        a.call.subject(),
        a.call.scopes().join(" "),
        a.service.code.as_str()
    );
    if let Ok(cache) = core.gateway.identities.lock()
        && let Some((jwt, exp)) = cache.get(&key)
        && exp - now >= IDENTITY_REUSE_LEFT
    {
        return Ok(Some(jwt.clone()));
    }
    let claims = identity_claims(core, a, now);
    let jwt = core
        .tokens
        .sign_jwt(IDENTITY_TYP, &claims)
        .await
        .map_err(Error::internal)?;
    if let Ok(mut cache) = core.gateway.identities.lock() {
        if cache.len() >= MAX_TRACKED {
            cache.clear();
        }
        cache.insert(key, (jwt.clone(), claims.exp));
    }
    Ok(Some(jwt))
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
    let now = core.now();
    // The quota counts of calls made since the last flush are raised to the stored totals; the
    // others are forgotten, so that their next call starts from the store (one query then, not one
    // per flush for every pair ever called).
    let called: HashSet<CallKey> = pending.keys().map(|(i, s, _, _)| (i.clone(), s.clone())).collect();
    let tracked: Vec<(CallKey, QuotaPeriod, i64)> = match (core.gateway.quotas.lock(), core.gateway.pending.lock()) {
        (Ok(mut quotas), Ok(now_pending)) => {
            let since: HashSet<CallKey> = now_pending.keys().map(|(i, s, _, _)| (i.clone(), s.clone())).collect();
            quotas.retain(|(k, p), c| c.period == p.index(now) && (called.contains(k) || since.contains(k)));
            quotas
                .iter()
                .filter(|((k, _), _)| called.contains(k))
                .map(|((k, p), c)| (k.clone(), *p, c.period))
                .collect()
        }
        _ => return Ok(()),
    };
    if tracked.is_empty() {
        return Ok(());
    }
    let mut conn = core.store.conn().await?;
    for (key, period, index) in tracked {
        let (first, last) = period.days(index);
        let stored = u64::try_from(conn.allowed_between(&key.0, &key.1, first, last).await?).unwrap_or(0);
        let unflushed: i64 = core.gateway.pending.lock().ok().map_or(0, |p| {
            p.iter()
                .filter(|((i, s, day, outcome), _)| {
                    *outcome == "allowed" && *i == key.0 && *s == key.1 && (first..=last).contains(day)
                })
                .map(|(_, n)| *n)
                .sum()
        });
        if let Ok(mut quotas) = core.gateway.quotas.lock()
            && let Some(c) = quotas.get_mut(&(key, period))
            && c.period == index
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
            if core.store.backend() == Backend::Postgres
                && let Ok(mut tx) = core.store.begin().await
                && tx.purge_rate_windows(now - RATE_WINDOWS_KEPT).await.is_ok()
            {
                let _ = tx.commit_unaudited().await;
            }
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
