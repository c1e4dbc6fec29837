//! Reading a registration's journal, for both surfaces (the Adobe-compatible journal API's wire
//! format, which Gatehouse's own API shares):
//! - 200 `{"events":[{"position", "event"}], "_page":{"last", "count"}}`, oldest first;
//! - 204 with `retry-after` at the end of the journal;
//! - `Link` headers on both, one line per relation, root-relative: `next` (always; on 204 it
//!   repeats the read from the same position), `events`, `latest`, `page` and `seek` templates;
//! - 410 when the position is older than the journal keeps; 400 for cursors it never issued.

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use gatehouse_domain::events::{
    adobe::delivery_body,
    journal::{self, MAX_PAGE_BYTES, RETRY_AFTER_AT_END, Start},
    model::Registration,
};
use gatehouse_store::EventStore;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// The journal's query parameters, as sent.
#[derive(Debug, Default, Deserialize)]
pub struct JournalParams {
    pub since: Option<String>,
    pub latest: Option<String>,
    pub seek: Option<String>,
    pub limit: Option<String>,
}

fn link(path: &str, query: &str, rel: &str) -> HeaderValue {
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    HeaderValue::from_str(&format!("<{target}>; rel=\"{rel}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("</>; rel=\"next\""))
}

fn encode(v: &str) -> String {
    serde_urlencoded::to_string([("v", v)])
        .map(|s| s.trim_start_matches("v=").to_owned())
        .unwrap_or_default()
}

/// Answers a journal read of `registration` at `path` (root-relative) for the recipient `client_id`.
pub async fn read(
    state: &AppState,
    registration: &Registration,
    client_id: &str,
    path: &str,
    params: &JournalParams,
) -> Result<Response, ApiError> {
    let now = state.now();
    let q = journal::parse_query(
        &registration.id,
        params.since.as_deref(),
        params.latest.as_deref(),
        params.seek.as_deref(),
        params.limit.as_deref(),
        now,
    )
    .map_err(|e| ApiError::bad_request(e.code, e.message))?;
    let mut conn = state.store.conn().await?;
    // Nothing past the horizon is read or issued: an event still in flight below a readable one
    // would otherwise be skipped for good.
    let last = conn.journal_horizon().await?;
    let after = match q.start {
        Start::Oldest => 0,
        Start::Latest => last,
        Start::Since(t) => conn.journal_position_before(&registration.id, t).await?.min(last),
        Start::After(p) => {
            if p > last {
                return Err(ApiError::bad_request(
                    "invalid_cursor",
                    "This position was never issued by this journal.",
                ));
            }
            if p > 0 && p < conn.first_event_position().await? {
                return Err(ApiError::new(
                    StatusCode::GONE,
                    "position_expired",
                    "This position is older than the journal keeps; read from the oldest (no since) or the latest.",
                ));
            }
            p
        }
    };
    let entries = if q.start == Start::Latest {
        Vec::new()
    } else {
        conn.journal_after(&registration.id, after, last, i64::from(q.limit))
            .await?
    };
    let limit_part = params
        .limit
        .as_deref()
        .filter(|l| !l.is_empty())
        .map(|l| format!("&limit={}", encode(l)))
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut events = Vec::with_capacity(entries.len());
    let mut bytes = 0usize;
    let mut last_position = after;
    for e in &entries {
        let payload: Value = serde_json::from_str(&e.payload).map_err(ApiError::internal)?;
        let event = delivery_body(&payload, client_id);
        let size = e.payload.len() + 100;
        if !events.is_empty() && bytes + size > MAX_PAGE_BYTES {
            break;
        }
        bytes += size;
        last_position = e.position;
        events.push(json!({ "position": journal::cursor(&registration.id, e.position), "event": event }));
    }
    let next_cursor = journal::cursor(&registration.id, last_position);
    headers.append(
        header::LINK,
        link(path, &format!("since={}{limit_part}", encode(&next_cursor)), "next"),
    );
    headers.append(header::LINK, link(path, "", "events"));
    headers.append(header::LINK, link(path, "latest=true", "latest"));
    headers.append(header::LINK, link(path, "since={position}&limit={count}", "page"));
    headers.append(header::LINK, link(path, "seek={duration}", "seek"));
    if events.is_empty() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_AT_END));
        return Ok((StatusCode::NO_CONTENT, headers).into_response());
    }
    let count = events.len();
    let body = json!({ "events": events, "_page": { "last": next_cursor, "count": count } });
    Ok((StatusCode::OK, headers, axum::Json(body)).into_response())
}
