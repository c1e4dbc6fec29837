//! Form parsing: the token service's parameter extractor (`gatehouse_web::oauth::params::Params`,
//! which reads the query string, an `application/x-www-form-urlencoded` body and the
//! `Authorization` header with `serde_urlencoded` and `client_auth::parse_basic`), then the rules
//! that read the parameters: `client_auth::identify`, `GrantType::parse`, `authorize::parse_request`
//! and `authorize::check_client`.
//!
//! Input: the first byte picks the content type and whether an `Authorization` header is sent;
//! the rest is `query\nauthorization\nbody`.
#![no_main]

mod common;

use axum::{body::Body, http::Request};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [Option<&str>; 4] = [
    Some("application/x-www-form-urlencoded"),
    None,
    Some("application/x-www-form-urlencoded; charset=UTF-8"),
    Some("text/plain"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |b| *b == b'\n');
    let query = parts.next().unwrap_or_default();
    let authorization = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();

    // Straight into the parser the extractor uses, as the authorization endpoint's form does.
    if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        let params = gatehouse_web::oauth::params::Params::from_pairs(pairs);
        if params.pairs().len() <= 64 && params.pairs().iter().all(|(_, v)| v.len() <= 64 * 1024) {
            common::exercise(&params);
        }
    }

    let Ok(query) = std::str::from_utf8(query) else { return };
    let uri = if query.is_empty() {
        "/oauth/token".to_owned()
    } else {
        format!("/oauth/token?{query}")
    };
    let mut req = Request::post(uri);
    if let Some(ct) = CONTENT_TYPES[usize::from(flags & 3)] {
        req = req.header("content-type", ct);
    }
    if flags & 4 != 0 {
        req = req.header("authorization", authorization);
    }
    let Ok(request) = req.body(Body::from(body.to_vec())) else {
        return;
    };
    if let Some(params) = common::read_params(request) {
        common::exercise(&params);
    }
});
