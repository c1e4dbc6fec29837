//! The API gateway's HTTP side: `/services/{code}/…` — and a service's own gateway path, when it
//! has one — is proxied to the service's upstream URL once the core has admitted the call (`gatehouse_core::gateway::admit`: API key, token, subscription,
//! scopes, limits). Refused calls are answered here with problem+JSON, `WWW-Authenticate` and, for
//! limits, `Retry-After` — the upstream never sees them. Admitted calls are streamed both ways
//! through a pooled hyper client (HTTP/1.1, and HTTP/2 where TLS negotiates it); the caller's
//! `Authorization` is replaced by a signed identity unless the service takes the token itself.
//! This is the web crate's only outbound traffic.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Extension, Router,
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::any,
};
use gatehouse_core::{
    Kind,
    gateway::{self, Admission, Credentials, RateLimitState, Refused},
};
use gatehouse_domain::gateway::{IDENTITY_HEADER, IdentityForwarding, upstream_target};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};

use crate::{AppState, error::ApiError, error::status_of};

/// The API key header: the integration's client ID.
pub const API_KEY_HEADER: &str = "x-api-key";
/// Time to connect to an upstream.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for an upstream to start answering (its status and headers); bodies then stream at their
/// own pace.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an idle pooled connection to an upstream is kept.
const POOL_IDLE: Duration = Duration::from_secs(60);

/// Headers that describe one hop of a connection, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The pooled client to every upstream, shared by the node's gateway routes.
#[derive(Clone)]
pub struct Upstreams {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>,
}

impl Upstreams {
    /// A client with nothing connected yet (connections open on the first call).
    pub fn new() -> Self {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);
        Self { client }
    }
}

impl Default for Upstreams {
    fn default() -> Self {
        Self::new()
    }
}

/// The gateway's routes: every method, on `/services/{code}` and below. Services' own paths are
/// not routes: [`own_path_or_not_found`], the application's fallback, finds them.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services/{code}", any(proxy))
        .route("/services/{code}/", any(proxy))
        .route("/services/{code}/{*rest}", any(proxy))
}

/// The pooled upstream client as an extension of the whole application (the fallback proxies too).
pub fn upstreams() -> Extension<Arc<Upstreams>> {
    Extension(Arc::new(Upstreams::new()))
}

/// The application's fallback: a path at or below a service's own gateway path is proxied to that
/// service; anything else is a 404 in the shape of its surface. Gatehouse's own routes are matched
/// first, and no service's path may start with one of their roots
/// (`gatehouse_domain::gateway::validate_gateway_path`).
pub async fn own_path_or_not_found(
    State(state): State<AppState>,
    Extension(upstreams): Extension<Arc<Upstreams>>,
    req: Request,
) -> Response {
    let found = match gateway::service_at_path(&state, req.uri().path()).await {
        Ok(found) => found,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    match found {
        Some((service, rest)) => forward(&state, &upstreams, Some(service), rest, req).await,
        None => crate::not_found(req).await,
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = header_str(headers, header::AUTHORIZATION.as_str())?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn proxy(
    State(state): State<AppState>,
    Extension(upstreams): Extension<Arc<Upstreams>>,
    req: Request,
) -> Response {
    // The code and the rest of the path as sent (not percent-decoded): the rest goes upstream as is.
    let below = req.uri().path().strip_prefix("/services/").unwrap_or("");
    let (code, rest) = match below.find('/') {
        Some(i) => below.split_at(i),
        None => (below, ""),
    };
    let (code, rest) = (code.to_owned(), rest.to_owned());
    let service = match gateway::service(&state, &code).await {
        Ok(s) => s,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    forward(&state, &upstreams, service, rest, req).await
}

/// Admits and proxies a call to `service` (`None`: no such service), `rest` being the request path
/// below the service's prefix, as sent.
async fn forward(
    state: &AppState,
    upstreams: &Upstreams,
    service: Option<Arc<gatehouse_domain::service::Service>>,
    rest: String,
    req: Request,
) -> Response {
    // A path that would climb out of the upstream's base is refused before it counts as a call.
    if let Err(e) = upstream_target("http://upstream", &rest, None) {
        return ApiError::bad_request(e.code, e.message).into_response();
    }
    let creds = Credentials {
        api_key: header_str(req.headers(), API_KEY_HEADER).filter(|k| !k.is_empty()),
        bearer: bearer(req.headers()),
        origin: header_str(req.headers(), header::ORIGIN.as_str()),
        referer: header_str(req.headers(), header::REFERER.as_str()),
    };
    let admission = match gateway::admit_to(state, service, creds).await {
        Ok(a) => a,
        Err(refused) => return refusal(&refused),
    };
    let target = match upstream_target(&admission.upstream_url, &rest, req.uri().query()) {
        Ok(t) => t,
        Err(e) => {
            return with_ratelimit(
                ApiError::bad_request(e.code, e.message).into_response(),
                &admission.ratelimit,
            );
        }
    };
    let Ok(uri) = target.parse::<Uri>() else {
        return with_ratelimit(
            ApiError::bad_request("invalid_path", "This path cannot be sent to the service.").into_response(),
            &admission.ratelimit,
        );
    };
    let identity = match gateway::identity(state, &admission).await {
        Ok(i) => i,
        Err(e) => return ApiError::new(status_of(e.kind), e.code, e.message).into_response(),
    };
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let (parts, body) = req.into_parts();
    let mut out = hyper::Request::builder()
        .method(parts.method)
        .uri(uri)
        .body(body)
        .unwrap_or_default();
    *out.headers_mut() = forwarded_headers(parts.headers, &admission, identity, peer);
    let started = std::time::Instant::now();
    let sent = tokio::time::timeout(RESPONSE_TIMEOUT, upstreams.client.request(out)).await;
    if matches!(sent, Ok(Ok(_))) {
        gateway::record_upstream_latency(&admission, started.elapsed());
    }
    let res = match sent {
        Ok(Ok(res)) => res,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, service = %admission.service.code, "the upstream did not answer");
            gateway::count_upstream_failure(state, &admission, false);
            return with_ratelimit(
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "upstream_unavailable",
                    "The service did not answer.",
                )
                .into_response(),
                &admission.ratelimit,
            );
        }
        Err(_) => {
            gateway::count_upstream_failure(state, &admission, true);
            return with_ratelimit(
                ApiError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    "upstream_timeout",
                    "The service did not answer in time.",
                )
                .into_response(),
                &admission.ratelimit,
            );
        }
    };
    let (mut parts, body) = res.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let res = Response::from_parts(parts, Body::new(body));
    with_ratelimit(res, &admission.ratelimit)
}

/// The caller's headers as the upstream gets them: hop-by-hop headers and any identity header the
/// caller made up removed, `Authorization` replaced by the signed identity (unless the service
/// takes the token), and the caller's address in `x-forwarded-for`.
fn forwarded_headers(
    mut headers: HeaderMap,
    admission: &Admission,
    identity: Option<String>,
    peer: Option<std::net::IpAddr>,
) -> HeaderMap {
    strip_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    headers.remove(IDENTITY_HEADER);
    // Only a token the verifier accepted is forwarded, and only to a service that takes it.
    if admission.service.gateway.identity == IdentityForwarding::Signed || !admission.token_verified {
        headers.remove(header::AUTHORIZATION);
    }
    if let Some(jwt) = identity.and_then(|j| HeaderValue::from_str(&j).ok()) {
        headers.insert(HeaderName::from_static(IDENTITY_HEADER), jwt);
    }
    if let Some(ip) = peer {
        let value = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(before) => format!("{before}, {ip}"),
            None => ip.to_string(),
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static("x-forwarded-for"), v);
        }
    }
    headers
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Headers the Connection header names are hop-by-hop too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
}

fn with_ratelimit(mut res: Response, rl: &RateLimitState) -> Response {
    if let Some(p) = rl.policy.as_deref().and_then(|p| HeaderValue::from_str(p).ok()) {
        res.headers_mut().insert(HeaderName::from_static("ratelimit-policy"), p);
    }
    if !rl.remaining.is_empty()
        && let Ok(v) = HeaderValue::from_str(&rl.remaining.join(", "))
    {
        res.headers_mut().insert(HeaderName::from_static("ratelimit"), v);
    }
    res
}

/// The challenge of a refusal: `Bearer` (RFC 6750) for what concerns the token, `APIKey` for what
/// concerns the API key and its integration.
fn challenge(code: &str, message: &str) -> Option<String> {
    let description = message.replace(['"', '\\'], "'");
    match code {
        "token_required" => Some("Bearer realm=\"gatehouse\"".to_owned()),
        "invalid_token" | "insufficient_scope" | "token_of_another_integration" | "integration_token_required" => {
            let error = if code == "invalid_token" {
                "invalid_token"
            } else {
                "insufficient_scope"
            };
            Some(format!(
                "Bearer realm=\"gatehouse\", error=\"{error}\", error_description=\"{description}\""
            ))
        }
        "api_key_required" => Some("APIKey realm=\"gatehouse\", header=\"x-api-key\"".to_owned()),
        "invalid_api_key" | "integration_disabled" | "not_subscribed" | "domain_not_allowed" => Some(format!(
            "APIKey realm=\"gatehouse\", header=\"x-api-key\", error=\"{code}\", error_description=\"{description}\""
        )),
        _ => None,
    }
}

fn refusal(r: &Refused) -> Response {
    let e = &r.error;
    let status = status_of(e.kind);
    let mut res = ApiError::new(status, e.code, e.message.clone()).into_response();
    if matches!(e.kind, Kind::Unauthorized | Kind::Forbidden)
        && let Some(v) = challenge(e.code, &e.message).and_then(|c| HeaderValue::from_str(&c).ok())
    {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    if let Some(secs) = r.retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    with_ratelimit(res, &r.ratelimit)
}
