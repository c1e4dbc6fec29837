//! Browser tests: the real server in-process, driven by headless Chromium through
//! `interop/browser/identity.mjs` (playwright-core). Screenshots of the sign-in page and the
//! console's organization page land in `artifacts/`; `interop/browser/passkeys.mjs` enrols and
//! uses a passkey through Chromium's virtual authenticator (the sign-in page with the passkey
//! option lands in `artifacts/signin-passkey.png`). Fails, saying what is missing, when node,
//! Chromium or playwright-core is absent (scripts/test installs them; `GATEHOUSE_TEST_ALLOW_SKIP=1`
//! skips instead).

use crate::harness::{
    browser::{chromium, playwright, repo},
    require_tool,
};
use std::time::Duration;

use crate::harness::server::TestServer;

#[tokio::test]
async fn sign_up_totp_invitations_and_csrf_in_a_real_browser() {
    let Some(()) = require_tool(playwright()) else { return };
    let server = TestServer::start().await;
    let artifacts = repo().join("artifacts");
    let run = tokio::process::Command::new("node")
        .arg(repo().join("interop/browser/identity.mjs"))
        .arg(server.base_url())
        .env("OUTBOX_DIR", server.data_dir().join("outbox"))
        .env("ARTIFACTS_DIR", &artifacts)
        .env("CHROMIUM", chromium())
        .current_dir(repo())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("the browser test finished within 3 minutes")
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser test failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("3 passed, 0 failed"), "{stdout}\n{stderr}");
    for shot in ["signin.png", "org.png"] {
        assert!(artifacts.join(shot).is_file(), "screenshot {shot} missing");
    }
}

#[tokio::test]
async fn passkeys_enrol_and_sign_in_in_a_real_browser() {
    let Some(()) = require_tool(playwright()) else { return };
    // WebAuthn refuses IP addresses as relying party IDs: the browser uses localhost.
    let server = TestServer::start_with(|c| c.public_url = format!("http://localhost:{}", c.listen.port())).await;
    super::helpers::account(&server, "pat@example.com").await;
    let artifacts = repo().join("artifacts");
    let run = tokio::process::Command::new("node")
        .arg(repo().join("interop/browser/passkeys.mjs"))
        .arg(&server.state().settings.public_url)
        .arg("pat@example.com")
        .arg(super::helpers::PASSWORD)
        .env("ARTIFACTS_DIR", &artifacts)
        .env("CHROMIUM", chromium())
        .current_dir(repo())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("the browser test finished within 3 minutes")
        .expect("node ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser test failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("4 passed, 0 failed"), "{stdout}\n{stderr}");
    for shot in ["signin-passkey.png", "passkeys-mfa.png", "signin-mfa-passkey.png"] {
        assert!(artifacts.join(shot).is_file(), "screenshot {shot} missing");
    }
}
