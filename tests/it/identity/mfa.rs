//! Two-step verification: TOTP set-up, sign-in with a code (each code once), recovery codes,
//! turning it off, and organizations that require it.

use axum::http::StatusCode;
use gatehouse_domain::identity::mfa::{totp_code, totp_secret_from_base32};
use gatehouse_store::AuditStore;
use gatehouse_web::Clock;

use super::helpers::*;
use crate::harness::server::{TestClient, TestServer};

const T: i64 = 1_800_000_010;

/// Sets up TOTP for the signed-in client; returns the seed and the recovery codes.
pub async fn enrol(c: &TestClient, now: i64) -> (Vec<u8>, Vec<String>) {
    let page = c.get("/console/account/mfa/totp", StatusCode::OK).await.text();
    assert!(page.contains("<svg"), "an inline QR code:\n{page}");
    let start = page.find("id=\"totp-secret\">").unwrap() + "id=\"totp-secret\">".len();
    let b32 = &page[start..start + page[start..].find('<').unwrap()];
    let seed = totp_secret_from_base32(b32).unwrap();
    // For typing it in, the key is also shown in groups of four.
    let grouped: String = b32
        .as_bytes()
        .chunks(4)
        .map(|g| format!("<code>{}</code> ", String::from_utf8_lossy(g)))
        .collect();
    assert!(page.contains(&grouped), "{page}");
    let sealed = hidden(&page, "sealed");
    let res = post(
        c,
        "/console/account/mfa/totp",
        &[("sealed", &sealed), ("code", "000000")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("That code is not correct"), "{}", res.text());
    let code = totp_code(&seed, now).unwrap();
    let res = post(
        c,
        "/console/account/mfa/totp",
        &[("sealed", &sealed), ("code", &code)],
        StatusCode::OK,
    )
    .await;
    let text = res.text();
    let codes: Vec<String> = text
        .split("<li>")
        .skip(1)
        .map(|s| s[..s.find("</li>").unwrap()].to_owned())
        .filter(|s| s.len() == 19)
        .collect();
    assert_eq!(codes.len(), 10, "{text}");
    // They can be downloaded as a text file, one a line, and copied at once.
    let download: String = codes.iter().map(|c| format!("{c}%0A")).collect();
    assert!(
        text.contains(&format!("href=\"data:text/plain;charset=utf-8,{download}\"")),
        "{text}"
    );
    assert!(text.contains("data-copy=\"recovery-codes-text\""));
    (seed, codes)
}

async fn password_step(c: &TestClient, email: &str) {
    let res = post(
        c,
        "/signin",
        &[("email", email), ("password", PASSWORD)],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert_eq!(res.header("location"), Some("/signin/mfa"));
}

#[tokio::test]
async fn totp_sign_in_accepts_each_code_once() {
    let clock = Clock::manual(T);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let (seed, codes) = enrol(&c, T).await;
    let status = c.get("/console/account/mfa", StatusCode::OK).await.text();
    assert!(status.contains("10 unused recovery codes"), "{status}");
    post(&c, "/signout", &[], StatusCode::SEE_OTHER).await;

    // The code used to set up is spent.
    password_step(&c, "ada@example.com").await;
    let code = totp_code(&seed, T).unwrap();
    let res = post(&c, "/signin/mfa", &[("code", &code)], StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(res.text().contains("already been used"), "{}", res.text());
    assert!(c.cookie("gatehouse_session").is_none());

    clock.advance(30);
    let code = totp_code(&seed, T + 30).unwrap();
    let res = post(&c, "/signin/mfa", &[("code", &code)], StatusCode::SEE_OTHER).await;
    assert_eq!(res.header("location"), Some("/console"));
    assert!(c.cookie("gatehouse_session").is_some());

    // A second browser replaying the same code is refused.
    let other = server.new_client();
    password_step(&other, "ada@example.com").await;
    let res = post(
        &other,
        "/signin/mfa",
        &[("code", &code)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("already been used"));
    let res = post(
        &other,
        "/signin/mfa",
        &[("code", "12345")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("Enter the 6-digit code"));

    // A recovery code works once.
    post(&other, "/signin/mfa", &[("code", &codes[0])], StatusCode::SEE_OTHER).await;
    let third = server.new_client();
    password_step(&third, "ada@example.com").await;
    let res = post(
        &third,
        "/signin/mfa",
        &[("code", &codes[0])],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("not correct or has been used already"));

    // Without the password step there is nothing to verify.
    let stranger = server.new_client();
    post(&stranger, "/signin/mfa", &[("code", &code)], StatusCode::SEE_OTHER).await;
    assert!(stranger.cookie("gatehouse_session").is_none());

    let log = server
        .store()
        .conn()
        .await
        .unwrap()
        .recent_audit(None, 50)
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.entry.action.as_str()).collect();
    assert!(actions.contains(&"mfa.totp_enabled"));
    assert!(actions.contains(&"mfa.recovery_code_used"));
    let failed = log
        .iter()
        .find(|r| r.entry.action == "signin.failed" && r.entry.details["reason"] == "code_already_used")
        .expect("a failed second factor is audited with its reason");
    assert_eq!(failed.entry.details["step"], "second_factor");
}

#[tokio::test]
async fn turning_totp_off_needs_a_code() {
    let clock = Clock::manual(T);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let (c, _) = signed_in(&server, "ada@example.com").await;
    let (seed, _) = enrol(&c, T).await;
    let res = post(
        &c,
        "/console/account/mfa/recovery-codes",
        &[("action", "remove"), ("code", "")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(res.text().contains("Enter the current code"));
    clock.advance(30);
    let code = totp_code(&seed, T + 30).unwrap();
    let res = post(
        &c,
        "/console/account/mfa/recovery-codes",
        &[("action", "remove"), ("code", &code)],
        StatusCode::SEE_OTHER,
    )
    .await;
    assert_eq!(res.header("location"), Some("/console/account/mfa?done=off"));
    post(&c, "/signout", &[], StatusCode::SEE_OTHER).await;
    assert_eq!(sign_in(&c, "ada@example.com", PASSWORD).await, "/console");
}

#[tokio::test]
async fn an_org_can_require_two_step_verification() {
    let clock = Clock::manual(T);
    let server = TestServer::start_with_clock(clock.clone(), |_| {}).await;
    let (admin, _) = signed_in(&server, "admin@example.com").await;
    let res = post(&admin, "/console/orgs", &[("name", "Acme")], StatusCode::SEE_OTHER).await;
    let org_path = res.header("location").unwrap().split('?').next().unwrap().to_owned();

    // The admin must use two-step verification before requiring it.
    let res = post(
        &admin,
        &format!("{org_path}/settings"),
        &[("name", "Acme"), ("require_mfa", "on")],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        res.text().contains("Set up two-step verification for yourself"),
        "{}",
        res.text()
    );
    let (seed, _) = enrol(&admin, T).await;
    post(&admin, "/signout", &[], StatusCode::SEE_OTHER).await;
    password_step(&admin, "admin@example.com").await;
    clock.advance(30);
    post(
        &admin,
        "/signin/mfa",
        &[("code", &totp_code(&seed, T + 30).unwrap())],
        StatusCode::SEE_OTHER,
    )
    .await;
    post(
        &admin,
        &format!("{org_path}/settings"),
        &[("name", "Acme"), ("require_mfa", "on")],
        StatusCode::SEE_OTHER,
    )
    .await;

    // A member without a second factor is sent to set one up and kept out of the org.
    let (member, m) = signed_in(&server, "member@example.com").await;
    let org_id = org_path.trim_start_matches("/console/orgs/").to_owned();
    let mut conn = server.store().conn().await.unwrap();
    gatehouse_store::OrgStore::upsert_membership(
        &mut conn,
        &gatehouse_domain::org::Membership {
            org_id: gatehouse_domain::ids::OrgId::parse(&org_id).unwrap(),
            account_id: m.id.clone(),
            role: gatehouse_domain::org::Role::Member,
            created_at: T,
        },
    )
    .await
    .unwrap();
    post(&member, "/signout", &[], StatusCode::SEE_OTHER).await;
    assert_eq!(
        sign_in(&member, "member@example.com", PASSWORD).await,
        "/console/account/mfa?required=1"
    );
    let page = member.get("/console/account/mfa?required=1", StatusCode::OK).await;
    assert!(
        page.text().contains("Acme requires two-step verification"),
        "{}",
        page.text()
    );
    let res = member.get(&org_path, StatusCode::FORBIDDEN).await;
    assert!(res.text().contains("requires two-step verification"));
}
