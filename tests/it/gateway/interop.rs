//! The identity header verified by a JOSE library nobody on the project wrote: `joserfc` (PyPI),
//! as an upstream in Python would, against `/oauth/jwks`. The script is
//! `interop/gateway/verify_identity.py`. The test fails, saying what is missing, when Python or
//! joserfc is absent, unless `GATEHOUSE_TEST_ALLOW_SKIP=1`.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{SCOPE, World};
use crate::harness::{
    browser::{python, repo},
    require_tool,
};

#[tokio::test]
async fn joserfc_verifies_the_identity_header_with_gatehouses_jwks() {
    let Some(python) = require_tool(python(&["joserfc"])) else {
        return;
    };
    let w = World::new().await;
    let token = w.token(&w.sa, SCOPE).await;
    w.call(
        Method::GET,
        "/v1/x",
        Some(&w.sa.client_id),
        Some(&token),
        StatusCode::OK,
    )
    .await;
    let identity = w.upstream.requests()[0]
        .header("x-gatehouse-identity")
        .unwrap()
        .to_owned();
    let config = json!({
        "jwks_url": w.server.url("/oauth/jwks"),
        "issuer": w.server.base_url(),
        "audience": "docs",
        "identity": identity,
        "expect": {
            "client_id": w.sa.client_id,
            "sub_type": "technical_account",
            "org_id": w.org_id,
            "scope": SCOPE,
        },
    });
    let run = tokio::process::Command::new(&python)
        .arg(repo().join("interop/gateway/verify_identity.py"))
        .env("GH_INTEROP", config.to_string())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("verify_identity.py finishes within 60 s")
        .expect("python starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("3 passed, 0 failed"),
        "verify_identity.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
