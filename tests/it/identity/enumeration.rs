//! Neither sign-up nor a password-reset request tells by its time whether an address has an
//! account. Each test interleaves requests for a known and an unknown address (alternating which
//! goes first) and compares the medians: robust to a loaded machine, where single requests vary
//! by more than the difference that used to give accounts away (a hashed password for new
//! addresses only: about ten times longer; a reset link issued and mailed: about twice).

use std::time::{Duration, Instant};

use axum::http::StatusCode;

use super::helpers::{PASSWORD, account, csrf};
use crate::harness::server::{TestClient, TestServer};

/// The larger median over the smaller one may be at most this: the old behaviour was far beyond it.
const RATIO: f64 = 1.4;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn assert_same_time(what: &str, known: Vec<Duration>, unknown: Vec<Duration>) {
    let (k, u) = (median(known), median(unknown));
    let ratio = k.max(u).as_secs_f64() / k.min(u).as_secs_f64().max(1e-6);
    assert!(
        ratio < RATIO,
        "{what}: the median answer takes {k:?} for a known address and {u:?} for an unknown one (ratio {ratio:.2})"
    );
}

async fn timed(client: &TestClient, path: &str, form: &[(&str, &str)]) -> Duration {
    let token = csrf(client).await;
    let mut fields = form.to_vec();
    fields.push(("csrf_token", &token));
    let start = Instant::now();
    client.post_form(path, &fields, StatusCode::OK).await;
    start.elapsed()
}

#[tokio::test]
async fn sign_up_takes_as_long_for_a_known_address_as_for_a_new_one() {
    let server = TestServer::start().await;
    account(&server, "known@example.com").await;
    let c = server.new_client();
    let (mut known, mut new) = (Vec::new(), Vec::new());
    let signup = |email: String| {
        let c = &c;
        async move {
            timed(
                c,
                "/signup",
                &[
                    ("email", &email),
                    ("display_name", "Someone"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await
        }
    };
    for i in 0..25 {
        let fresh = format!("new{i}@example.com");
        if i % 2 == 0 {
            known.push(signup("known@example.com".into()).await);
            new.push(signup(fresh).await);
        } else {
            new.push(signup(fresh).await);
            known.push(signup("known@example.com".into()).await);
        }
    }
    assert_same_time("sign-up", known, new);
}

#[tokio::test]
async fn a_password_reset_request_takes_as_long_for_a_known_address_as_for_an_unknown_one() {
    let server = TestServer::start().await;
    account(&server, "known@example.com").await;
    let c = server.new_client();
    let reset = |email: &'static str| {
        let c = &c;
        async move { timed(c, "/password-reset", &[("email", email)]).await }
    };
    // Warm up the connection pool and the page's code paths.
    for _ in 0..5 {
        reset("known@example.com").await;
        reset("unknown@example.com").await;
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..60 {
        if i % 2 == 0 {
            known.push(reset("known@example.com").await);
            unknown.push(reset("unknown@example.com").await);
        } else {
            unknown.push(reset("unknown@example.com").await);
            known.push(reset("known@example.com").await);
        }
    }
    assert_same_time("password reset", known, unknown);
}
