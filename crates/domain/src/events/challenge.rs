//! The webhook challenge: before anything is delivered to a new or changed webhook URL, Gatehouse
//! sends `GET <url>?challenge=<random>` and requires a `200` whose body echoes the value — as
//! plain text, as a JSON string (`"value"`), or as JSON `{"challenge": "value"}` — proving the
//! endpoint's owner wants the deliveries.

use rand::RngCore;
use serde_json::Value;

/// How long the endpoint has to answer, in seconds.
pub const CHALLENGE_TIMEOUT_SECS: u64 = 10;

/// A fresh challenge value (128 random bits as a UUID).
pub fn new_challenge(rng: &mut impl RngCore) -> String {
    crate::ids::new_row_id(rng)
}

/// Does `body` answer `challenge`? (The status must be 200; the caller checks that.)
pub fn echoes(body: &str, challenge: &str) -> bool {
    let body = body.trim();
    if body == challenge {
        return true;
    }
    match serde_json::from_str::<Value>(body) {
        Ok(Value::String(s)) => s == challenge,
        Ok(Value::Object(m)) => m.get("challenge").and_then(Value::as_str) == Some(challenge),
        _ => false,
    }
}

/// Why a challenge failed, in words for the registration's owner.
pub fn describe_failure(status: Option<u16>, error: Option<&str>) -> String {
    match (status, error) {
        (_, Some(e)) => format!("the challenge request failed: {e}"),
        (Some(200), None) => "the endpoint answered 200 but did not echo the challenge".to_owned(),
        (Some(s), None) => format!("the endpoint answered {s} to the challenge instead of 200"),
        (None, None) => "the endpoint did not answer the challenge".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn plain_quoted_and_json_answers_are_accepted() {
        let c = new_challenge(&mut StdRng::seed_from_u64(1));
        assert!(echoes(&c, &c));
        assert!(echoes(&format!("  {c}\n"), &c));
        assert!(echoes(&format!("\"{c}\""), &c));
        assert!(echoes(&format!("{{\"challenge\": \"{c}\"}}"), &c));
        assert!(echoes(&format!("{{\"challenge\":\"{c}\",\"other\":1}}"), &c));
    }

    #[test]
    fn anything_else_is_refused() {
        let c = "3f0c1a9e-1111-4222-8333-944455556666";
        for body in [
            "",
            "OK",
            "3f0c1a9e",
            "\"3f0c1a9e-1111-4222-8333-944455556667\"",
            "{\"challenge\": \"wrong\"}",
            "{\"value\": \"3f0c1a9e-1111-4222-8333-944455556666\"}",
            "{\"challenge\": 3}",
            "[\"3f0c1a9e-1111-4222-8333-944455556666\"]",
            "3f0c1a9e-1111-4222-8333-944455556666 extra",
        ] {
            assert!(!echoes(body, c), "{body:?}");
        }
    }

    #[test]
    fn failures_are_described() {
        assert!(describe_failure(Some(404), None).contains("404"));
        assert!(describe_failure(Some(200), None).contains("echo"));
        assert!(describe_failure(None, Some("timed out")).contains("timed out"));
    }
}
