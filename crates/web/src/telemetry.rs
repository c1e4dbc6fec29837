//! Request telemetry: request IDs (`x-request-id`, generated when absent, echoed on the response,
//! recorded in the request's tracing span), one log line per response, and the HTTP metrics,
//! labelled by the matched route template (never the raw path, whose IDs and tokens would make
//! unbounded label sets and leak secrets).

use std::{sync::OnceLock, time::Instant};

use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::HeaderName,
    middleware::{self, Next},
    response::Response,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

pub const HTTP_REQUESTS_TOTAL: &str = "gatehouse_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "gatehouse_http_request_duration_seconds";
pub use gatehouse_core::catalog::{CATALOG_GENERATION, DB_POOL_CONNECTIONS};

/// The label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static METRICS: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide Prometheus recorder, installed on first use. (A metrics recorder is global to
/// the process; servers started in the same process, as in tests, share it.)
pub fn metrics_handle() -> PrometheusHandle {
    METRICS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder =
                match builder.set_buckets_for_metric(Matcher::Full(HTTP_REQUEST_DURATION.into()), LATENCY_BUCKETS) {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::warn!(error = %e, "latency buckets refused; durations are reported as a summary");
                        PrometheusBuilder::new()
                    }
                };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics will be incomplete");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS_TOTAL,
        "HTTP requests answered, by method, route and status"
    );
    metrics::describe_histogram!(
        HTTP_REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Time to answer HTTP requests, by method and route"
    );
    metrics::describe_histogram!(
        gatehouse_core::gateway::GATEWAY_UPSTREAM_DURATION,
        metrics::Unit::Seconds,
        "Time from admitting a gateway call to the upstream's status and headers, by service"
    );
    metrics::describe_counter!(
        gatehouse_core::gateway::GATEWAY_REQUESTS_TOTAL,
        "Gateway calls, by service, integration (client ID) and outcome (allowed or the refusal's code)"
    );
    metrics::describe_gauge!(DB_POOL_CONNECTIONS, "Database pool connections (state: open or idle)");
    metrics::describe_gauge!(
        CATALOG_GENERATION,
        "Catalog generation last seen (changes with every audited write)"
    );
}

async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!(HTTP_REQUESTS_TOTAL, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION, "method" => method, "route" => route).record(elapsed);
    res
}

fn span_for(req: &Request) -> tracing::Span {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str);
    tracing::info_span!("request", method = %req.method(), route, request_id)
}

/// Wraps the whole router: request IDs outermost, then the trace span, then the metrics.
pub fn layer(router: Router) -> Router {
    router
        .layer(middleware::from_fn(track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(span_for)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
}
