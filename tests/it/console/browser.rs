//! Browser tests of the developer console: the real server in-process, driven by headless
//! Chromium through `interop/browser/console.mjs` (playwright-core), the same runner as the
//! identity pages'. Screenshots of the dashboard and the create flow land in `artifacts/`.
//! Fails, saying what is missing, when node, Chromium or playwright-core is absent (scripts/test
//! installs them; `GATEHOUSE_TEST_ALLOW_SKIP=1` skips instead).

use crate::harness::{
    browser::{chromium, playwright, repo},
    require_tool,
};
use std::time::Duration;

use super::helpers::world;

#[tokio::test]
async fn console_integrations_keys_secrets_and_subscriptions_in_a_real_browser() {
    let Some(()) = require_tool(playwright()) else { return };
    let w = world().await;
    let artifacts = repo().join("artifacts");
    let run = tokio::process::Command::new("node")
        .arg(repo().join("interop/browser/console.mjs"))
        .arg(w.server.base_url())
        .env("ADMIN_EMAIL", w.admin.account.email.as_str())
        .env("ORG_NAME", "Acme")
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
    assert!(stdout.contains("4 passed, 0 failed"), "{stdout}\n{stderr}");
    for shot in [
        "console-dashboard.png",
        "console-dashboard-empty.png",
        "console-create-type.png",
        "console-create-form.png",
    ] {
        assert!(artifacts.join(shot).is_file(), "screenshot {shot} missing");
    }
}
