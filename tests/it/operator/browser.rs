//! The first administrator's walk in headless Chromium (`interop/browser/operator.mjs`): setup →
//! signed-in dashboard → operator area → audit log filter and exports → status and outbox → the
//! audit log at 390 px. Fails on any console error or failed request in the browser.
//! Fails, saying what is missing, when node, Chromium or playwright-core is absent.

use std::time::Duration;

use crate::{
    harness::{
        browser::{chromium, playwright, repo},
        require_tool,
        server::TestServer,
    },
    identity::helpers::account,
};

#[tokio::test]
async fn setup_dashboard_operator_area_and_audit_log_in_a_real_browser() {
    let Some(()) = require_tool(playwright()) else { return };
    let server = TestServer::start().await;
    account(&server, "member@acme.test").await;
    let link = server.bootstrap_link().await;
    let artifacts = repo().join("artifacts");
    let run = tokio::process::Command::new("node")
        .arg(repo().join("interop/browser/operator.mjs"))
        .arg(server.base_url())
        .env("SETUP_LINK", &link)
        .env("MEMBER_EMAIL", "member@acme.test")
        .env("ARTIFACTS_DIR", &artifacts)
        .env("CHROMIUM", chromium())
        .current_dir(repo())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the browser test finished within 4 minutes")
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser test failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("7 passed, 0 failed"), "{stdout}\n{stderr}");
    for shot in [
        "home-dashboard.png",
        "operator-audit.png",
        "operator-status.png",
        "operator-audit-390.png",
    ] {
        assert!(artifacts.join(shot).is_file(), "screenshot {shot} missing");
    }
}
