//! Sign-up, email verification, sign-in, sign-out, password reset and their refusals.

use axum::http::StatusCode;
use gatehouse_domain::account::Email;
use gatehouse_store::{AccountStore, AuditStore, SessionStore};
use gatehouse_web::Clock;

use super::helpers::*;
use crate::harness::server::TestServer;

#[tokio::test]
async fn sign_up_verify_sign_in_and_sign_out() {
    let server = TestServer::start().await;
    let c = server.new_client();
    c.get("/signup", StatusCode::OK).await;
    let res = post(
        &c,
        "/signup",
        &[
            ("email", "Ada@Example.com"),
            ("display_name", "Ada Lovelace"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
        StatusCode::OK,
    )
    .await;
    assert!(res.text().contains("Check the outbox"), "{}", res.text());

    // Not verified yet: sign-in is refused with a reason, and a new link is sent.
    let res = post(
        &c,
        "/signin",
        &[("email", "ada@example.com"), ("password", PASSWORD)],
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        res.text().contains("Confirm your email address first"),
        "{}",
        res.text()
    );

    let link = latest_link(&server, "ada@example.com", "/verify-email/").await;
    let page = c.get(&link, StatusCode::OK).await;
    assert!(page.text().contains("Confirm my email address"));
    let done = post(&c, &link, &[], StatusCode::OK).await;
    assert!(done.text().contains("Email address confirmed"));
    // The link works once.
    post(&c, &link, &[], StatusCode::GONE).await;
    c.get(&link, StatusCode::GONE).await;

    // Email step, then password step.
    let step = post(&c, "/signin", &[("email", "ada@example.com")], StatusCode::OK).await;
    assert!(step.text().contains("Enter your password"));
    assert_eq!(hidden(&step.text(), "email"), "ada@example.com");
    assert_eq!(sign_in(&c, "ada@example.com", PASSWORD).await, "/console");
    let cookie = c.cookie("gatehouse_session").expect("session cookie");
    assert_eq!(cookie.len(), 64);

    // The session row is keyed by the digest, never the value.
    let digest = gatehouse_domain::secret::digest(&cookie);
    let mut conn = server.store().conn().await.unwrap();
    let s = conn.session_by_digest(&digest).await.unwrap().expect("a session row");
    assert!(conn.session_by_digest(&cookie).await.unwrap().is_none());
    assert_eq!(s.auth_methods.len(), 1);

    // A signed-in visitor to /signin is offered to continue or switch.
    let page = c.get("/signin", StatusCode::OK).await;
    assert!(page.text().contains("Sign in as a different user"), "{}", page.text());

    post(&c, "/signout", &[], StatusCode::SEE_OTHER).await;
    assert!(c.cookie("gatehouse_session").is_none());
    assert!(conn.session_by_digest(&digest).await.unwrap().is_none());

    let log = conn.recent_audit(None, 20).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.entry.action.as_str()).collect();
    for a in [
        "account.created",
        "account.email_verified",
        "signin.succeeded",
        "signout",
        "signin.failed",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let ok = log.iter().find(|r| r.entry.action == "signin.succeeded").unwrap();
    assert!(ok.entry.ip.is_some() && ok.entry.user_agent.is_some() || ok.entry.ip.is_some());
}

#[tokio::test]
async fn a_new_sign_in_gets_a_new_session_id() {
    let server = TestServer::start().await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let first = c.cookie("gatehouse_session").unwrap();
    // Signing in again (prompt=login) replaces the session rather than reusing it.
    sign_in(&c, "ada@example.com", PASSWORD).await;
    let second = c.cookie("gatehouse_session").unwrap();
    assert_ne!(first, second);
    let mut conn = server.store().conn().await.unwrap();
    assert!(
        conn.session_by_digest(&gatehouse_domain::secret::digest(&first))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let server = TestServer::start().await;
    account(&server, "ada@example.com").await;
    let c = server.new_client();
    let wrong = post(
        &c,
        "/signin",
        &[("email", "ada@example.com"), ("password", "not the password")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let unknown = post(
        &c,
        "/signin",
        &[("email", "nobody@example.com"), ("password", "not the password")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let msg = "The email address or password is incorrect.";
    assert!(wrong.text().contains(msg));
    assert!(unknown.text().contains(msg));
    assert_eq!(
        wrong.text().replace("ada@example.com", "X"),
        unknown.text().replace("nobody@example.com", "X"),
        "the two pages differ only in the address"
    );
    assert!(c.cookie("gatehouse_session").is_none());
    let log = server
        .store()
        .conn()
        .await
        .unwrap()
        .recent_audit(None, 10)
        .await
        .unwrap();
    let reasons: Vec<String> = log
        .iter()
        .filter(|r| r.entry.action == "signin.failed")
        .map(|r| r.entry.details["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons, ["unknown_email", "wrong_password"]);
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_growing_delays() {
    let clock = Clock::manual(1_800_000_000);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    account(&server, "ada@example.com").await;
    let c = server.new_client();
    for _ in 0..5 {
        post(
            &c,
            "/signin",
            &[("email", "ada@example.com"), ("password", "wrong password!")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // The sixth failure earns a delay; even the right password must wait.
    post(
        &c,
        "/signin",
        &[("email", "ada@example.com"), ("password", "wrong password!")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let res = post(
        &c,
        "/signin",
        &[("email", "ada@example.com"), ("password", PASSWORD)],
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert!(
        res.text().contains("Too many failed attempts. Wait 1 second"),
        "{}",
        res.text()
    );
    clock.advance(1);
    post(
        &c,
        "/signin",
        &[("email", "ada@example.com"), ("password", "wrong password!")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let res = post(
        &c,
        "/signin",
        &[("email", "ada@example.com"), ("password", PASSWORD)],
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    assert!(res.text().contains("Wait 2 seconds"), "{}", res.text());
    // No permanent lockout: after the delay the right password works.
    clock.advance(2);
    assert_eq!(sign_in(&c, "ada@example.com", PASSWORD).await, "/console");
}

#[tokio::test]
async fn return_to_only_accepts_own_paths() {
    let server = TestServer::start().await;
    account(&server, "ada@example.com").await;
    for (given, expected) in [
        ("/console/account", "/console/account"),
        ("//evil.example/x", "/console"),
        ("https://evil.example/", "/console"),
        ("/\\evil.example", "/console"),
    ] {
        let c = server.new_client();
        let res = post(
            &c,
            "/signin",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("return_to", given),
            ],
            StatusCode::SEE_OTHER,
        )
        .await;
        assert_eq!(res.header("location"), Some(expected), "{given}");
    }
    // A page that needs a session sends the browser to sign in and back.
    let res = server
        .new_client()
        .get("/console/account?tab=1", StatusCode::SEE_OTHER)
        .await;
    assert_eq!(
        res.header("location"),
        Some("/signin?return_to=%2Fconsole%2Faccount%3Ftab%3D1")
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let c = server.new_client();
    c.get("/signup", StatusCode::OK).await;
    let res = c
        .post_form(
            "/signup",
            &[
                ("email", "x@example.com"),
                ("display_name", "X"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
            StatusCode::FORBIDDEN,
        )
        .await;
    assert!(
        res.text()
            .contains("This form has expired or was not sent from this site"),
        "{}",
        res.text()
    );
    let email = Email::parse("x@example.com").unwrap();
    assert!(
        server
            .store()
            .conn()
            .await
            .unwrap()
            .account_by_email(&email)
            .await
            .unwrap()
            .is_none()
    );
    let res = c
        .post_form(
            "/signin",
            &[
                ("email", "x@example.com"),
                ("password", PASSWORD),
                ("csrf_token", "0".repeat(64).as_str()),
            ],
            StatusCode::FORBIDDEN,
        )
        .await;
    assert!(res.text().contains("Not allowed"));
}

#[tokio::test]
async fn bad_sign_up_input_gets_specific_errors_and_creates_nothing() {
    let server = TestServer::start().await;
    let c = server.new_client();
    let long = "x".repeat(101);
    let res = post(
        &c,
        "/signup",
        &[
            ("email", "not-an-email"),
            ("display_name", &long),
            ("password", "1qaz2wsx3edc"),
            ("password_confirm", "1qaz2wsx3edc"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let t = res.text();
    assert!(t.contains("Enter a valid email address"), "{t}");
    assert!(t.contains("The display name must be at most 100 characters."), "{t}");
    assert!(t.contains("one of the most commonly used passwords"), "{t}");
    assert!(t.contains("aria-invalid=\"true\""), "{t}");
    let res = post(
        &c,
        "/signup",
        &[
            ("email", "a@example.com"),
            ("display_name", "A"),
            ("password", "short"),
            ("password_confirm", "short"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        res.text().contains("Password must be at least 12 characters."),
        "{}",
        res.text()
    );
    let res = post(
        &c,
        "/signup",
        &[
            ("email", "a@example.com"),
            ("display_name", "A"),
            ("password", PASSWORD),
            ("password_confirm", "something else"),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("The two passwords do not match."));
    assert!(
        server
            .store()
            .conn()
            .await
            .unwrap()
            .list_accounts()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(outbox(&server).await.is_empty());
}

#[tokio::test]
async fn signing_up_with_a_known_address_reveals_nothing() {
    let server = TestServer::start().await;
    account(&server, "ada@example.com").await;
    let c = server.new_client();
    let res = post(
        &c,
        "/signup",
        &[
            ("email", "ada@example.com"),
            ("display_name", "Someone"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
        StatusCode::OK,
    )
    .await;
    assert!(res.text().contains("Check the outbox"));
    let mail = outbox(&server).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("You already have a Gatehouse account"), "{}", mail[0]);
}

#[tokio::test]
async fn sign_up_can_be_turned_off() {
    let server = TestServer::start_with(|c| c.signup.enabled = false).await;
    let res = server.new_client().get("/signup", StatusCode::NOT_FOUND).await;
    assert!(res.text().contains("Sign-up is closed"));
    let page = server.new_client().get("/signin", StatusCode::OK).await;
    assert!(!page.text().contains("Create an account"));
}

#[tokio::test]
async fn password_reset_by_one_time_link() {
    let clock = Clock::manual(1_800_000_000);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let (old_browser, _) = signed_in(&server, "ada@example.com").await;
    let c = server.new_client();
    // Unknown addresses get the same answer and no mail.
    let res = post(
        &c,
        "/password-reset",
        &[("email", "nobody@example.com")],
        StatusCode::OK,
    )
    .await;
    assert!(res.text().contains("If an account exists for nobody@example.com"));
    assert!(outbox(&server).await.is_empty());
    let res = post(
        &c,
        "/password-reset",
        &[("email", "not an email")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("Enter a valid email address"));

    post(&c, "/password-reset", &[("email", "ada@example.com")], StatusCode::OK).await;
    let first = latest_link(&server, "ada@example.com", "/password-reset/").await;
    post(&c, "/password-reset", &[("email", "ada@example.com")], StatusCode::OK).await;
    let link = latest_link(&server, "ada@example.com", "/password-reset/").await;
    assert_ne!(first, link);
    c.get(&first, StatusCode::GONE).await; // the newer link replaced it

    c.get(&link, StatusCode::OK).await;
    let res = post(
        &c,
        &link,
        &[("password", "password1234"), ("password_confirm", "password1234")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("commonly used"), "{}", res.text());
    let new_pw = "granite orchard lantern 7";
    post(
        &c,
        &link,
        &[("password", new_pw), ("password_confirm", new_pw)],
        StatusCode::OK,
    )
    .await;
    post(
        &c,
        &link,
        &[("password", new_pw), ("password_confirm", new_pw)],
        StatusCode::GONE,
    )
    .await;

    // Signed out everywhere; the old password no longer works, the new one does.
    old_browser.get("/console/account", StatusCode::SEE_OTHER).await;
    post(
        &c,
        "/signin",
        &[("email", "ada@example.com"), ("password", PASSWORD)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(sign_in(&c, "ada@example.com", new_pw).await, "/console");

    // An expired link is refused.
    post(&c, "/password-reset", &[("email", "ada@example.com")], StatusCode::OK).await;
    let link = latest_link(&server, "ada@example.com", "/password-reset/").await;
    clock.advance(3601);
    c.get(&link, StatusCode::GONE).await;
    post(
        &c,
        &link,
        &[("password", new_pw), ("password_confirm", new_pw)],
        StatusCode::GONE,
    )
    .await;
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    let clock = Clock::manual(1_800_000_000);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let page = c.get("/signin", StatusCode::OK).await;
    assert!(page.text().contains("You are signed in"));
    clock.advance(12 * 3600);
    let page = c.get("/signin", StatusCode::OK).await;
    assert!(!page.text().contains("You are signed in"), "idle timeout");

    let (c, _) = signed_in(&server, "bob@example.com").await;
    for _ in 0..15 {
        clock.advance(11 * 3600);
        c.get("/signin", StatusCode::OK).await;
    }
    clock.advance(11 * 3600);
    let page = c.get("/signin", StatusCode::OK).await;
    assert!(
        !page.text().contains("You are signed in"),
        "absolute timeout after 7 days"
    );
}
