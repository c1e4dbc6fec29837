//! Sending one unit of work — a single delivery, or up to 20 deliveries of a `webhook_batch`
//! registration in one JSON array — and judging the response into attempt outcomes.
//!
//! Every request carries the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`) and Adobe's (`x-adobe-event-id`, `x-adobe-event-code`,
//! `x-adobe-provider`, `x-adobe-delivery-id`, `x-adobe-retry-count` on retries, the two digital
//! signatures with their key paths). Success is a 2xx and nothing else; `410 Gone` gives up and
//! disables the registration; other failures follow the retry schedule (a resend or a recovery
//! is one attempt).

use gatehouse_domain::{
    Timestamp,
    events::{
        WebhookUrl,
        adobe::delivery_body,
        debug,
        model::{DeliveryMethod, DeliveryState, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, webhook_secret_aad},
        retry::{RetrySchedule, parse_retry_after},
        signature::{SecretRing, WebhookSecret, message_id},
    },
};
use gatehouse_store::{AttemptOutcome, ClaimedDelivery};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::Inner;
use crate::{events::outbound::Response, pools::signing};

/// Deliveries sent in one request.
#[derive(Debug, Clone)]
pub struct Unit {
    pub deliveries: Vec<ClaimedDelivery>,
}

impl Unit {
    fn first(&self) -> Option<&ClaimedDelivery> {
        self.deliveries.first()
    }
}

/// Groups a registration's claimed deliveries into units: one per delivery, or batches of at
/// most [`MAX_BATCH_EVENTS`] events and [`MAX_BATCH_BYTES`] for `webhook_batch`.
pub fn units(deliveries: Vec<ClaimedDelivery>) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut batch: Vec<ClaimedDelivery> = Vec::new();
    let mut batch_bytes = 0usize;
    for d in deliveries {
        if d.delivery_method != DeliveryMethod::WebhookBatch {
            out.push(Unit { deliveries: vec![d] });
            continue;
        }
        let size = d.payload.len() + 200;
        if !batch.is_empty() && (batch.len() >= MAX_BATCH_EVENTS || batch_bytes + size > MAX_BATCH_BYTES) {
            out.push(Unit {
                deliveries: std::mem::take(&mut batch),
            });
            batch_bytes = 0;
        }
        batch_bytes += size;
        batch.push(d);
    }
    if !batch.is_empty() {
        out.push(Unit { deliveries: batch });
    }
    out
}

/// Sends a unit at `now` and returns one outcome per delivery in it.
pub async fn send(inner: &Inner, unit: Unit, now: Timestamp) -> Vec<AttemptOutcome> {
    let Some(first) = unit.first().cloned() else {
        return Vec::new();
    };
    let (response, sent) = match prepare(inner, &unit, &first, now).await {
        Ok((url, headers, body)) => {
            let sent = Sent::of(&headers, &body);
            let response = inner
                .outbound
                .send(reqwest::Method::POST, url.url(), &url, headers, body)
                .await;
            (response, sent)
        }
        Err(error) => (
            Response {
                status: None,
                headers: HeaderMap::new(),
                body: String::new(),
                latency_ms: 0,
                error: Some(error),
            },
            Sent::default(),
        ),
    };
    unit.deliveries
        .iter()
        .map(|d| judge(&inner.settings.retry, d, &response, &sent, now))
        .collect()
}

/// What a request carried, as its attempts keep it for debugging (bounded, credentials masked).
#[derive(Debug, Clone, Default)]
pub struct Sent {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Sent {
    fn of(headers: &HeaderMap, body: &[u8]) -> Self {
        Self {
            headers: debug::kept_headers(
                headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or("(not text)"))),
            ),
            body: debug::excerpt(&String::from_utf8_lossy(body), debug::MAX_REQUEST_BODY),
        }
    }
}

async fn prepare(
    inner: &Inner,
    unit: &Unit,
    first: &ClaimedDelivery,
    now: Timestamp,
) -> Result<(WebhookUrl, HeaderMap, Vec<u8>), String> {
    let url = first
        .webhook_url
        .as_deref()
        .ok_or_else(|| "the registration has no webhook URL".to_owned())
        .and_then(|u| WebhookUrl::parse(u).map_err(|e| e.message))?;
    let ring = secrets(inner, first)?;
    let mut bodies = Vec::with_capacity(unit.deliveries.len());
    for d in &unit.deliveries {
        let event: Value = serde_json::from_str(&d.payload).map_err(|e| format!("stored event is unreadable: {e}"))?;
        bodies.push(delivery_body(&event, &d.client_id));
    }
    let batch = first.delivery_method == DeliveryMethod::WebhookBatch;
    let body = if batch {
        serde_json::to_vec(&bodies)
    } else {
        serde_json::to_vec(&bodies[0])
    }
    .map_err(|e| e.to_string())?;

    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    put("content-type", "application/json; charset=utf-8".to_owned());
    let msg_id = if batch {
        let last = unit.deliveries.last().map_or(first.id, |d| d.id);
        format!("{}_{last}", message_id(first.id))
    } else {
        message_id(first.id)
    };
    put("webhook-id", msg_id.clone());
    put("webhook-timestamp", now.to_string());
    put("webhook-signature", ring.header(&msg_id, now, &body));
    let attempt_id = uuid::Uuid::new_v4().to_string();
    put("x-request-id", attempt_id.clone());
    put("x-adobe-delivery-id", attempt_id);
    put("x-adobe-provider", first.provider_id.clone());
    if !batch {
        let event_id = bodies[0]
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        put("x-adobe-event-id", event_id);
        put("x-adobe-event-code", first.event_code.clone());
    }
    if first.attempts > 0 {
        put("x-adobe-retry-count", first.attempts.to_string());
    }
    let body = if inner.settings.adobe_signatures {
        let signers = inner.keys.current(now).await.map_err(|e| e.to_string())?;
        let (body, signatures) = signing::headers(signers, body).await.map_err(|e| e.to_string())?;
        for (name, value) in signatures {
            put(name, value);
        }
        body
    } else {
        body
    };
    Ok((url, h, body))
}

fn secrets(inner: &Inner, d: &ClaimedDelivery) -> Result<SecretRing, String> {
    let sealed = d
        .secrets
        .as_ref()
        .ok_or_else(|| "the registration has no webhook secret".to_owned())?;
    let aad = webhook_secret_aad(&d.registration_id);
    let open = |bytes: &[u8]| -> Result<WebhookSecret, String> {
        let raw = inner
            .master_key
            .decrypt(bytes, &aad)
            .map_err(|_| "the webhook secret cannot be opened with this master key".to_owned())?;
        WebhookSecret::from_bytes(raw).map_err(|e| e.message)
    };
    let current = open(&sealed.current)?;
    let previous = match (&sealed.previous, sealed.previous_expires_at) {
        (Some(p), Some(until)) => Some((open(p)?, until)),
        _ => None,
    };
    Ok(SecretRing { current, previous })
}

/// Judges the response for one delivery at `now`.
pub fn judge(
    schedule: &RetrySchedule,
    d: &ClaimedDelivery,
    r: &Response,
    sent: &Sent,
    now: Timestamp,
) -> AttemptOutcome {
    let success = r.status.is_some_and(|s| (200..300).contains(&s));
    let (state_after, next_attempt_at) = if success {
        (DeliveryState::Delivered, None)
    } else if r.status == Some(410) || d.cause != "scheduled" {
        (DeliveryState::Failed, None)
    } else {
        let retry_after = r
            .headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now));
        let made = u32::try_from(d.attempts + 1).unwrap_or(u32::MAX);
        match schedule.next_delay(made, retry_after, &mut rand::thread_rng()) {
            Some(delay) => (DeliveryState::Pending, Some(now + delay)),
            None => (DeliveryState::Failed, None),
        }
    };
    AttemptOutcome {
        delivery_id: d.id,
        registration_id: d.registration_id.clone(),
        event_position: d.event_position,
        attempted_at: now,
        status_code: r.status,
        success,
        latency_ms: r.latency_ms,
        response_body: r.body.clone(),
        error: r.error.clone(),
        cause: d.cause.clone(),
        request_headers: sent.headers.clone(),
        request_body: sent.body.clone(),
        response_headers: debug::kept_headers(
            r.headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or("(not text)"))),
        ),
        next_attempt_at,
        state_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_domain::events::model::RegistrationStatus;

    fn delivery(id: i64, method: DeliveryMethod, attempts: i64, cause: &str) -> ClaimedDelivery {
        ClaimedDelivery {
            id,
            event_position: id,
            attempts,
            cause: cause.into(),
            event_code: "a.b".into(),
            provider_id: "p".into(),
            payload: "{}".into(),
            registration_id: "r".into(),
            registration_status: RegistrationStatus::Active,
            delivery_method: method,
            webhook_url: Some("https://x.example/".into()),
            client_id: "c".into(),
            secrets: None,
        }
    }

    fn response(status: Option<u16>) -> Response {
        Response {
            status,
            headers: HeaderMap::new(),
            body: String::new(),
            latency_ms: 3,
            error: status.is_none().then(|| "could not connect".to_owned()),
        }
    }

    #[test]
    fn only_2xx_succeeds_and_3xx_is_retried() {
        let s = RetrySchedule::default();
        let d = delivery(1, DeliveryMethod::Webhook, 0, "scheduled");
        for ok in [200, 201, 204, 299] {
            let o = judge(&s, &d, &response(Some(ok)), &Sent::default(), 100);
            assert!(o.success);
            assert_eq!(o.state_after, DeliveryState::Delivered);
        }
        for bad in [Some(301), Some(302), Some(400), Some(429), Some(500), Some(503), None] {
            let o = judge(&s, &d, &response(bad), &Sent::default(), 100);
            assert!(!o.success, "{bad:?}");
            assert_eq!(o.state_after, DeliveryState::Pending, "{bad:?}");
            let next = o.next_attempt_at.unwrap();
            assert!((104..=106).contains(&next), "{bad:?}: {next}");
        }
    }

    #[test]
    fn gone_gives_up_and_the_schedule_ends() {
        let s = RetrySchedule::default();
        let o = judge(
            &s,
            &delivery(1, DeliveryMethod::Webhook, 0, "scheduled"),
            &response(Some(410)),
            &Sent::default(),
            0,
        );
        assert_eq!(o.state_after, DeliveryState::Failed);
        let last = delivery(1, DeliveryMethod::Webhook, 8, "scheduled");
        assert_eq!(
            judge(&s, &last, &response(Some(500)), &Sent::default(), 0).state_after,
            DeliveryState::Failed
        );
        let resend = delivery(1, DeliveryMethod::Webhook, 0, "resend");
        assert_eq!(
            judge(&s, &resend, &response(Some(500)), &Sent::default(), 0).state_after,
            DeliveryState::Failed
        );
    }

    #[test]
    fn retry_after_is_read_from_the_response() {
        let s = RetrySchedule::default();
        let mut r = response(Some(429));
        r.headers
            .insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("40"));
        let o = judge(
            &s,
            &delivery(1, DeliveryMethod::Webhook, 0, "scheduled"),
            &r,
            &Sent::default(),
            1000,
        );
        assert_eq!(o.next_attempt_at, Some(1040));
    }

    #[test]
    fn batches_hold_at_most_twenty_events() {
        let many: Vec<ClaimedDelivery> = (0..45)
            .map(|i| delivery(i, DeliveryMethod::WebhookBatch, 0, "scheduled"))
            .collect();
        let sizes: Vec<usize> = units(many).iter().map(|u| u.deliveries.len()).collect();
        assert_eq!(sizes, [20, 20, 5]);
        let singles: Vec<ClaimedDelivery> = (0..3)
            .map(|i| delivery(i, DeliveryMethod::Webhook, 0, "scheduled"))
            .collect();
        assert_eq!(units(singles).len(), 3);
    }
}
