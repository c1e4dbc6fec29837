//! A newcomer's whole journey in one headless Chromium session (`interop/browser/journey.mjs`):
//! setup → signed-in dashboard → an organization → one integration of each type → a subscription →
//! a token from the curl command the credentials page shows (run by the script with bash) → a
//! webhook registration → a test event and its attempt → the operator area → the audit entry of
//! every step → the collapsed navigation at 390 px. axe-core checks every page; any console error
//! or failed request fails it. This test delivers the events while the browser runs.
//! Fails, saying what is missing, when node, Chromium or playwright-core is absent.

use std::time::Duration;

use gatehouse_domain::audit::{Actor, AuditEntry};
use gatehouse_store::{AuditStore, ServiceStore};

use super::helpers::seed_services;
use crate::{
    events::client::{dispatch_in_background, posts, server},
    harness::{
        browser::{chromium, playwright, repo},
        receiver::TestReceiver,
        require_tool,
    },
};

#[tokio::test]
async fn a_newcomer_goes_from_setup_to_a_token_a_delivered_event_and_its_audit_trail_in_a_real_browser() {
    let Some(()) = require_tool(playwright()) else { return };
    let server = server().await;
    // The operator's catalog, as `apply` would have made it.
    let now = server.state().now();
    let mut tx = server.store().begin().await.unwrap();
    for s in seed_services(now) {
        tx.upsert_service(&s).await.unwrap();
    }
    tx.append_audit(&AuditEntry::new(now, &Actor::System, "test.catalog", "test"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let link = server.bootstrap_link().await;
    let receiver = TestReceiver::start().await;
    let worker = dispatch_in_background(&server);
    let artifacts = repo().join("artifacts");
    let run = tokio::process::Command::new("node")
        .arg(repo().join("interop/browser/journey.mjs"))
        .arg(server.base_url())
        .env("SETUP_LINK", &link)
        .env("RECEIVER_URL", receiver.url("/hook"))
        .env("SERVICE", "PDF Services")
        .env("ARTIFACTS_DIR", &artifacts)
        .env("CHROMIUM", chromium())
        .current_dir(repo())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the journey finished within 5 minutes")
        .expect("node ran");
    worker.abort();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the journey failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("11 passed, 0 failed"), "{stdout}\n{stderr}");
    for shot in [
        "journey-03-dashboard.png",
        "journey-10-credentials.png",
        "journey-14-attempt.png",
        "journey-18-menu-open-390.png",
    ] {
        assert!(artifacts.join(shot).is_file(), "screenshot {shot} missing");
    }
    // `scripts/screenshots` keeps some of the journey in docs/screenshots/ (shown in docs/console.md).
    if std::env::var("GATEHOUSE_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        for (shot, name) in [
            ("journey-03-dashboard.png", "journey-dashboard-1280.png"),
            ("journey-14-attempt.png", "journey-attempt-1280.png"),
            ("journey-16-audit.png", "journey-audit-1280.png"),
            ("journey-17-menu-closed-390.png", "journey-menu-closed-390.png"),
            ("journey-18-menu-open-390.png", "journey-menu-open-390.png"),
        ] {
            std::fs::copy(artifacts.join(shot), repo().join("docs/screenshots").join(name)).unwrap();
        }
    }
    // The receiver got the test event, signed.
    let got = posts(&receiver);
    let test_event = got
        .iter()
        .find(|r| r.json()["type"] == "com.acme.invoice.paid")
        .unwrap_or_else(|| panic!("no test event reached the receiver: {} requests", got.len()));
    assert!(test_event.header("webhook-signature").is_some());
}
