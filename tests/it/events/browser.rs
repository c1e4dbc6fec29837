//! A browser test of the console's Events tab: the real server in-process, driven by headless
//! Chromium through `interop/browser/events.mjs` (playwright-core), while this test runs the
//! dispatcher. Screenshots of the registrations page and the attempt log land in `artifacts/`.
//! Fails, saying what is missing, when node, Chromium or playwright-core is absent (scripts/test
//! installs them; `GATEHOUSE_TEST_ALLOW_SKIP=1` skips instead).

use crate::harness::{
    browser::{chromium, playwright, repo},
    require_tool,
};
use std::time::Duration;

use super::{client::dispatch_in_background, console::setup};

#[tokio::test]
async fn events_console_registers_a_webhook_sees_the_attempt_and_resends_in_a_real_browser() {
    let Some(()) = require_tool(playwright()) else { return };
    let s = setup().await;
    let worker = dispatch_in_background(&s.w.server);
    let artifacts = repo().join("artifacts");
    let run = tokio::process::Command::new("node")
        .arg(repo().join("interop/browser/events.mjs"))
        .arg(s.w.server.base_url())
        .env("ADMIN_EMAIL", s.w.admin.account.email.as_str())
        .env("INTEGRATION_ID", &s.integration)
        .env("TOKEN", &s.publisher.token)
        .env("RECEIVER_URL", s.receiver.url("/hook"))
        .env("ARTIFACTS_DIR", &artifacts)
        .env("CHROMIUM", chromium())
        .current_dir(repo())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the browser test finished within 4 minutes")
        .expect("node ran");
    worker.abort();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser test failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("4 passed, 0 failed"), "{stdout}\n{stderr}");
    for shot in [
        "events-registrations.png",
        "events-attempts.png",
        "events-attempts-resent.png",
    ] {
        assert!(artifacts.join(shot).is_file(), "screenshot {shot} missing");
    }
    let delivered: Vec<_> = super::client::posts(&s.receiver);
    assert_eq!(delivered.len(), 2, "the event and its resend reached the receiver");
}
