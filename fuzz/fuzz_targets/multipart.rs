//! Multipart parsing (`multipart/form-data`, through axum's `Multipart`): the token service's
//! parameter extractor (`gatehouse_web::oauth::params::Params`, which Adobe's Node clients reach
//! with multipart bodies) and the Console API's certificate upload
//! (`gatehouse_web::adobe_console::read_form`, whose `certificate` part goes to
//! `certificate::parse`).
//!
//! Input: the first byte picks the `Content-Type` spelling (boundary `X-BOUNDARY`, with and
//! without a space, quoted, or another boundary); the rest is the body.
#![no_main]

mod common;

use axum::{
    body::Body,
    extract::{FromRequest, Multipart},
    http::Request,
};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [&str; 4] = [
    "multipart/form-data; boundary=X-BOUNDARY",
    "multipart/form-data;boundary=X-BOUNDARY",
    "multipart/form-data; boundary=\"X-BOUNDARY\"",
    "Multipart/Form-Data; boundary=----gatehouse",
];

fn request(content_type: &str, body: &[u8]) -> Option<Request<Body>> {
    Request::post("/oauth/token")
        .header("content-type", content_type)
        .body(Body::from(body.to_vec()))
        .ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let ct = CONTENT_TYPES[usize::from(flags & 3)];

    if let Some(req) = request(ct, body)
        && let Some(params) = common::read_params(req)
    {
        common::exercise(&params);
    }

    let Some(req) = request(ct, body) else { return };
    let form = common::block_on(async {
        let multipart = Multipart::from_request(req, &()).await;
        gatehouse_web::adobe_console::read_form(multipart).await
    });
    if let Ok(form) = form
        && let Some(pem) = form.certificate
        && let Ok(cert) = gatehouse_domain::certificate::parse(&pem, 1_900_000_000)
    {
        assert_eq!(cert.fingerprint.len(), 64);
    }
});
