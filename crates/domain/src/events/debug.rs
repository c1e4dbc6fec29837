//! What the console shows of a delivery attempt, to debug a webhook: the request's headers and
//! body as sent, the response's headers, each bounded and with credentials masked. Signatures
//! stay visible (they are not secrets: checking one needs the webhook secret or the public key),
//! and so does everything else a receiver saw.

/// Most bytes of a request body kept with an attempt (the rest is cut at a character boundary).
pub const MAX_REQUEST_BODY: usize = 16 * 1024;
/// Most headers kept per request or response, and most bytes of each value.
pub const MAX_HEADERS: usize = 64;
pub const MAX_HEADER_VALUE: usize = 1024;
/// What a masked value is replaced with.
pub const MASKED: &str = "••••••";

/// Headers that carry credentials, whichever way they travel.
const CREDENTIAL_HEADERS: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-gatehouse-secret",
];

/// Is `name` (any case) one of Gatehouse's or Adobe's delivery signatures?
pub fn is_signature(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "webhook-signature" || n.starts_with("x-adobe-digital-signature")
}

/// The first `max` bytes of `s`, cut at a character boundary.
pub fn excerpt(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// The headers to keep: at most [`MAX_HEADERS`], names in lower case, values bounded, and the
/// values of credential headers masked.
pub fn kept_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    headers
        .into_iter()
        .take(MAX_HEADERS)
        .map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            let value = if CREDENTIAL_HEADERS.contains(&name.as_str()) {
                MASKED.to_owned()
            } else {
                excerpt(value, MAX_HEADER_VALUE)
            };
            (name, value)
        })
        .collect()
}

/// Headers as stored: a JSON array of `[name, value]`.
pub fn headers_to_json(headers: &[(String, String)]) -> String {
    serde_json::to_string(headers).unwrap_or_else(|_| "[]".to_owned())
}

/// Headers as stored, read back; anything unreadable reads as none.
pub fn headers_from_json(s: &str) -> Vec<(String, String)> {
    serde_json::from_str(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked_and_signatures_kept() {
        let kept = kept_headers([
            ("Authorization", "Bearer abc"),
            ("Set-Cookie", "session=xyz"),
            ("webhook-signature", "v1,abc="),
            ("Content-Type", "application/json"),
        ]);
        assert_eq!(kept[0], ("authorization".to_owned(), MASKED.to_owned()));
        assert_eq!(kept[1].1, MASKED);
        assert_eq!(kept[2], ("webhook-signature".to_owned(), "v1,abc=".to_owned()));
        assert!(is_signature("x-adobe-digital-signature-1") && is_signature("Webhook-Signature"));
        assert!(!is_signature("content-type"));
        assert_eq!(headers_from_json(&headers_to_json(&kept)), kept);
        assert!(headers_from_json("not json").is_empty());
    }

    #[test]
    fn bodies_and_values_are_bounded_at_a_character_boundary() {
        let s = "é".repeat(10);
        assert_eq!(excerpt(&s, 5), "éé");
        assert_eq!(excerpt("short", 100), "short");
        let long = "x".repeat(MAX_HEADER_VALUE + 10);
        assert_eq!(kept_headers([("a", long.as_str())])[0].1.len(), MAX_HEADER_VALUE);
        let many: Vec<(String, String)> = (0..100).map(|i| (format!("h{i}"), String::new())).collect();
        assert_eq!(
            kept_headers(many.iter().map(|(a, b)| (a.as_str(), b.as_str()))).len(),
            MAX_HEADERS
        );
    }
}
