//! The gateway's side of an integration under `/api/v1`: its usage per day and service (calls let
//! through and refusals by reason), for those who manage it, and its own limits on a subscribed
//! service, which only operators set.

use std::collections::BTreeMap;

use axum::{
    Router,
    extract::{Path, State},
    routing::{get, put},
};
use gatehouse_core::gateway;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    ApiError, AppState,
    api::{services::LimitsJson, subscriptions::SubscriptionOut},
    auth::Caller,
    error::{ConsoleProblem as Problem, OpResult},
    extract::{ApiJson, ApiQuery},
};

/// Calls of one integration to one service on one UTC day.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageDay {
    /// The UTC day, `YYYY-MM-DD`.
    #[schema(example = "2026-12-07")]
    pub date: String,
    pub service: String,
    /// Calls the gateway let through to the upstream.
    pub allowed: i64,
    /// Calls refused, by reason (`rate_limited`, `quota_exceeded`, `invalid_token`, …), and calls the
    /// upstream failed (`upstream_error`, `upstream_timeout`).
    pub refused: BTreeMap<String, i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// How many UTC days back, today included (1–400; 30 when left out).
    #[param(minimum = 1, maximum = 400)]
    pub days: Option<i64>,
}

fn date_of(day: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(day * 86_400)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// The integration's gateway usage per UTC day and service, oldest first.
#[utoipa::path(get, path = "/api/v1/integrations/{id}/usage", tag = "gateway",
    params(("id" = String, Path, description = "Integration ID"), UsageQuery),
    responses((status = 200, body = [UsageDay]), (status = 404, body = Problem)))]
pub async fn usage(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<UsageQuery>,
) -> OpResult<ApiJson<Vec<UsageDay>>> {
    let days = q.days.unwrap_or(30);
    if !(1..=400).contains(&days) {
        return Err(ApiError::bad_request("invalid_query", "days must be 1–400.").into());
    }
    let counts = gateway::usage(&state, &caller, &id, days).await?;
    let mut days: BTreeMap<(i64, String), UsageDay> = BTreeMap::new();
    for c in counts {
        let d = days.entry((c.day, c.service_code.clone())).or_insert_with(|| UsageDay {
            date: date_of(c.day),
            service: c.service_code.clone(),
            allowed: 0,
            refused: BTreeMap::new(),
        });
        if c.outcome == "allowed" {
            d.allowed += c.requests;
        } else {
            *d.refused.entry(c.outcome).or_default() += c.requests;
        }
    }
    Ok(ApiJson(days.into_values().collect()))
}

/// Sets the integration's own gateway limits on a subscribed service (operators only); kinds left
/// out follow the service's defaults.
#[utoipa::path(put, path = "/api/v1/integrations/{id}/subscriptions/{service}/limits", tag = "gateway",
    request_body = LimitsJson,
    params(("id" = String, Path, description = "Integration ID"), ("service" = String, Path, description = "Service code")),
    responses((status = 200, body = SubscriptionOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn set_limits(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, service)): Path<(String, String)>,
    body: Result<ApiJson<LimitsJson>, crate::ApiError>,
) -> OpResult<ApiJson<SubscriptionOut>> {
    let ApiJson(limits) = body?;
    let sub = gateway::set_limits(&state, &caller, &id, &service, limits.into()).await?;
    Ok(ApiJson(SubscriptionOut::from(&sub)))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/integrations/{id}/usage", get(usage))
        .route(
            "/api/v1/integrations/{id}/subscriptions/{service}/limits",
            put(set_limits),
        )
}
